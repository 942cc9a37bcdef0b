//! ECS services: in the private subnets, registered in Cloud Map and the target groups, deployed with the circuit breaker.

use super::*;

fn network(ctx: &OpContext<'_>, r: &EcsService) -> Result<NetworkConfiguration, CloudError> {
    let vpc = AwsVpcConfiguration::builder()
        .set_subnets(Some(ctx.resolve_all(&r.subnets)?))
        .set_security_groups(Some(ctx.resolve_all(&r.security_groups)?))
        .assign_public_ip(if r.assign_public_ip {
            AssignPublicIp::Enabled
        } else {
            AssignPublicIp::Disabled
        })
        .build()
        .map_err(build_err)?;
    Ok(NetworkConfiguration::builder()
        .awsvpc_configuration(vpc)
        .build())
}

fn deployment(d: &Deployment) -> Result<DeploymentConfiguration, CloudError> {
    let breaker = DeploymentCircuitBreaker::builder()
        .enable(true)
        .rollback(d.circuit_breaker_rollback)
        .build();
    Ok(DeploymentConfiguration::builder()
        .minimum_healthy_percent(d.minimum_healthy_percent)
        .maximum_percent(d.maximum_percent)
        .deployment_circuit_breaker(breaker)
        .build())
}

fn load_balancers(ctx: &OpContext<'_>, r: &EcsService) -> Result<Vec<EcsLoadBalancer>, CloudError> {
    ctx.resolve_all(&r.target_groups).map(|tgs| {
        tgs.into_iter()
            .map(|tg| {
                EcsLoadBalancer::builder()
                    .target_group_arn(tg)
                    .container_name(&r.container_name)
                    .container_port(i32::from(r.container_port))
                    .build()
            })
            .collect()
    })
}

fn registries(ctx: &OpContext<'_>, r: &EcsService) -> Result<Vec<ServiceRegistry>, CloudError> {
    r.registry
        .iter()
        .map(|reg| {
            Ok(ServiceRegistry::builder()
                .registry_arn(ctx.resolve(reg)?)
                .build())
        })
        .collect()
}

impl AwsKind for EcsService {
    fn cost(op: OpKind) -> Vec<(Family, f64)> {
        let _ = op;
        vec![(Family::EcsService, 1.0)]
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        let r = self;
        let cluster = ctx.resolve(&r.cluster)?;
        let mut req = cloud
            .ecs
            .create_service()
            .cluster(&cluster)
            .service_name(&r.name)
            .task_definition(ctx.resolve(&r.task_definition)?)
            .desired_count(r.desired_count as i32)
            .launch_type(LaunchType::Fargate)
            .network_configuration(network(ctx, r)?)
            .set_service_registries(Some(registries(ctx, r)?))
            .set_load_balancers(Some(load_balancers(ctx, r)?))
            .client_token(client_token(ctx, &cluster))
            .propagate_tags(PropagateTags::Service)
            .enable_ecs_managed_tags(true)
            .set_tags(Some(tags(ctx, &r.name)));
        if let Some(d) = &r.deployment {
            req = req.deployment_configuration(deployment(d)?);
        }
        if !r.target_groups.is_empty() {
            // New tasks get time to pass the load balancer's health check before ECS judges them.
            req = req.health_check_grace_period_seconds(60);
        }
        let out = call(|| req.clone().send()).await?;
        out.service()
            .and_then(|s| s.service_arn())
            .map(String::from)
            .ok_or_else(|| missing("Service.ServiceArn"))
    }
    async fn update(
        &self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        id: &str,
        have: &Self,
    ) -> Result<String, CloudError> {
        let _ = have;
        let r = self;
        let mut req = cloud
            .ecs
            .update_service()
            .cluster(ctx.resolve(&r.cluster)?)
            .service(&r.name)
            .task_definition(ctx.resolve(&r.task_definition)?)
            // Under an autoscaler the count is the scaler's: an update must not reset it.
            .set_desired_count((!r.count_scaled).then_some(r.desired_count as i32))
            .network_configuration(network(ctx, r)?)
            .set_service_registries(Some(registries(ctx, r)?))
            .set_load_balancers(Some(load_balancers(ctx, r)?));
        if let Some(d) = &r.deployment {
            req = req.deployment_configuration(deployment(d)?);
        }
        call(|| req.clone().send()).await?;
        Ok(id.to_string())
    }
    async fn delete(
        have: &Self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        observed: &ObservedResource,
    ) -> Result<(), CloudError> {
        let arn: &str = &observed.physical_id;
        let s = have;
        let cluster = ctx
            .resolve(&s.cluster)
            .unwrap_or_else(|_| names::cluster(ctx.stack));
        match call(|| {
            cloud
                .ecs
                .delete_service()
                .cluster(&cluster)
                .service(arn)
                .force(true)
                .send()
        })
        .await
        {
            Err(e) if is_not_found(&e) => return Ok(()),
            Err(e) => return Err(e),
            Ok(_) => {}
        }
        wait_until(
            &format!("ECS service {}", s.name),
            cloud.timeouts.provisioning,
            || async {
                let out = call(|| {
                    cloud
                        .ecs
                        .describe_services()
                        .cluster(&cluster)
                        .services(arn)
                        .send()
                })
                .await;
                let out = match out {
                    Err(e) if is_not_found(&e) => return Ok(None),
                    other => other?,
                };
                match out.services().first().and_then(|s| s.status()) {
                    None | Some("INACTIVE") => Ok(None),
                    Some(status) => Ok(Some(status.to_lowercase())),
                }
            },
        )
        .await
    }
}
