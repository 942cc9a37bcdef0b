//! Task definitions: a new revision per change, with the databases' addresses and secrets known once they exist; every revision deregistered on delete.

use super::*;

impl AwsKind for TaskDefinition {
    fn cost(op: OpKind) -> Vec<(Family, f64)> {
        if op == OpKind::Delete {
            vec![(Family::EcsOther, 1.0)]
        } else {
            vec![(Family::EcsRegisterTaskDefinition, 1.0)]
        }
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        let r = self;
        let role = ctx.resolve(&r.execution_role)?;
        // The databases' addresses and credentials' secret keys, known now that they exist.
        let mut env = r.environment.clone();
        let mut secret_refs = r.secrets.clone();
        for link in &r.databases {
            let endpoint =
                crate::cloud::aws::rds::endpoint(cloud, &ctx.resolve(&link.database)?).await?;
            env.extend(endpoint.environment(&link.prefix));
            secret_refs.extend(endpoint.secrets(&link.prefix));
        }
        let environment: Vec<KeyValuePair> = env
            .iter()
            .map(|(k, v)| KeyValuePair::builder().name(k).value(v).build())
            .collect();
        let secrets = secret_refs
            .iter()
            .map(|(k, v)| {
                Secret::builder()
                    .name(k)
                    .value_from(v)
                    .build()
                    .map_err(build_err)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let logging = LogConfiguration::builder()
            .log_driver(LogDriver::Awslogs)
            .options("awslogs-group", &r.log_group)
            .options("awslogs-region", &r.log_region)
            .options("awslogs-stream-prefix", "ecs")
            .build()
            .map_err(build_err)?;
        let container = ContainerDefinition::builder()
            .name(&r.container_name)
            .image(match &r.image {
                ImageSource::Uri(uri) => uri.clone(),
                ImageSource::Repository { repository, tag } => {
                    format!("{}:{tag}", ctx.resolve(repository)?)
                }
            })
            .essential(true)
            .port_mappings(
                PortMapping::builder()
                    .container_port(i32::from(r.port))
                    .protocol(TransportProtocol::Tcp)
                    .build(),
            )
            .set_environment(Some(environment))
            .set_secrets(if secrets.is_empty() {
                None
            } else {
                Some(secrets)
            })
            .log_configuration(logging)
            .build();
        let task_role = r.task_role.as_ref().map(|t| ctx.resolve(t)).transpose()?;
        let out = call(|| {
            cloud
                .ecs
                .register_task_definition()
                .family(&r.family)
                .network_mode(NetworkMode::Awsvpc)
                .requires_compatibilities(Compatibility::Fargate)
                .cpu(r.cpu.to_string())
                .memory(r.memory.to_string())
                .execution_role_arn(role.clone())
                .set_task_role_arn(task_role.clone())
                .container_definitions(container.clone())
                .set_tags(Some(tags(ctx, &r.family)))
                .send()
        })
        .await?;
        out.task_definition()
            .and_then(|t| t.task_definition_arn())
            .map(String::from)
            .ok_or_else(|| missing("TaskDefinition.TaskDefinitionArn"))
    }
    async fn update(
        &self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        id: &str,
        have: &Self,
    ) -> Result<String, CloudError> {
        // A new revision: its ARN is the new id.
        let _ = (id, have);
        self.create(cloud, ctx).await
    }
    async fn delete(
        have: &Self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        observed: &ObservedResource,
    ) -> Result<(), CloudError> {
        let _ = (ctx, observed);
        let family: &str = &have.family;
        let mut arns = Vec::new();
        let mut pages = cloud
            .ecs
            .list_task_definitions()
            .family_prefix(family)
            .status(TaskDefinitionStatus::Active)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            arns.extend(
                page.map_err(aws_err)?
                    .task_definition_arns()
                    .iter()
                    .cloned(),
            );
        }
        // The prefix also matches longer family names (`shop-api` and `shop-api-v2`).
        let exact = format!("task-definition/{family}:");
        for arn in arns.iter().filter(|a| a.contains(&exact)) {
            match call(|| {
                cloud
                    .ecs
                    .deregister_task_definition()
                    .task_definition(arn)
                    .send()
            })
            .await
            {
                Err(e) if !is_not_found(&e) => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }
}
