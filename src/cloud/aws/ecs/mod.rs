//! ECS: the Fargate cluster, task definitions and services.

mod cluster;
mod ecs_service;
mod task_definition;

use super::errors::{aws_err, build_err, missing};

use super::ops::gone_is_done;

use super::ownership::{owned_by, tag_map, Found};

use super::retry::{is_dependency, is_not_found, retry_while, wait_until};

use super::settle::call;

use super::{client_token, ownership_tags, AwsCloud};

use crate::cloud::{CloudError, OpContext};

use crate::model::*;

use crate::names;

use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, CapacityProviderStrategyItem, ClusterField,
    ClusterSetting, ClusterSettingName, Compatibility, ContainerDefinition,
    DeploymentCircuitBreaker, DeploymentConfiguration, DeploymentRolloutState, KeyValuePair,
    LaunchType, LoadBalancer as EcsLoadBalancer, LogConfiguration, LogDriver, NetworkConfiguration,
    NetworkMode, PortMapping, PropagateTags, Secret, ServiceField, ServiceRegistry, Tag,
    TaskDefinitionFamilyStatus, TaskDefinitionField, TaskDefinitionStatus, TransportProtocol,
};

fn tags(ctx: &OpContext<'_>, name: &str) -> Vec<Tag> {
    ownership_tags(ctx, name)
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// Reads the stack's cluster, its services (ten per call) and the newest revision of each of the
/// stack's task definition families, in parallel.
pub async fn observe(cloud: &AwsCloud, stack: &str) -> Result<Found, CloudError> {
    let cluster_name = names::cluster(stack);
    let (clusters, services, families) = tokio::try_join!(
        async {
            call(|| {
                cloud
                    .ecs
                    .describe_clusters()
                    .clusters(&cluster_name)
                    .include(ClusterField::Tags)
                    .include(ClusterField::Settings)
                    .send()
            })
            .await
        },
        list_services(cloud, &cluster_name),
        list_families(cloud, stack),
    )?;
    let mut found = Found::new(stack);
    for c in clusters
        .clusters()
        .iter()
        .filter(|c| c.status() == Some("ACTIVE"))
    {
        let tags = tag_map(c.tags().iter().map(|t| (t.key(), t.value())));
        let insights = c.settings().iter().any(|s| {
            s.name() == Some(&ClusterSettingName::ContainerInsights) && s.value() == Some("enabled")
        });
        found.add(&tags, c.cluster_arn(), |_| {
            Resource::Cluster(Cluster {
                name: c.cluster_name().unwrap_or_default().into(),
                container_insights: insights,
            })
        });
        if let (Some(id), Some(name)) = (tags.get(TAG_ID), c.cluster_name()) {
            found.alias(name, &ResourceId::new(id));
        }
    }
    // Round two, in parallel: every family's newest revision and the services, ten per call.
    let (task_defs, described) = tokio::try_join!(
        futures::future::try_join_all(families.iter().map(|f| async move {
            call(|| {
                cloud
                    .ecs
                    .describe_task_definition()
                    .task_definition(f)
                    .include(TaskDefinitionField::Tags)
                    .send()
            })
            .await
        })),
        futures::future::try_join_all(services.chunks(10).map(|chunk| async {
            call(|| {
                cloud
                    .ecs
                    .describe_services()
                    .cluster(&cluster_name)
                    .set_services(Some(chunk.to_vec()))
                    .include(ServiceField::Tags)
                    .send()
            })
            .await
        })),
    )?;
    for out in task_defs {
        let tags = tag_map(out.tags().iter().map(|t| (t.key(), t.value())));
        if !owned_by(&tags, stack) {
            continue;
        }
        let Some(td) = out.task_definition() else {
            continue;
        };
        // Describing a family can return a deregistered revision (emulators, and AWS briefly).
        if td.status() != Some(&TaskDefinitionStatus::Active) {
            continue;
        }
        let Some(c) = td.container_definitions().first() else {
            continue;
        };
        let log = c.log_configuration().and_then(|l| l.options());
        let option = |k: &str| log.and_then(|o| o.get(k)).cloned().unwrap_or_default();
        found.add(&tags, td.task_definition_arn(), |_| {
            Resource::TaskDefinition(TaskDefinition {
                family: td.family().unwrap_or_default().into(),
                cpu: td.cpu().and_then(|v| v.parse().ok()).unwrap_or(0),
                memory: td.memory().and_then(|v| v.parse().ok()).unwrap_or(0),
                execution_role: Ref::Unowned(td.execution_role_arn().unwrap_or_default().into()),
                task_role: td.task_role_arn().map(|a| Ref::Unowned(a.into())),
                container_name: c.name().unwrap_or_default().into(),
                image: image_source(c.image().unwrap_or_default()),
                port: c
                    .port_mappings()
                    .first()
                    .and_then(|p| p.container_port())
                    .and_then(|p| u16::try_from(p).ok())
                    .unwrap_or(0),
                environment: c
                    .environment()
                    .iter()
                    .filter_map(|kv| Some((kv.name()?.into(), kv.value()?.into())))
                    .collect(),
                secrets: c
                    .secrets()
                    .iter()
                    .map(|s| (s.name().to_string(), s.value_from().to_string()))
                    .collect(),
                databases: Vec::new(),
                log_group: option("awslogs-group"),
                log_region: option("awslogs-region"),
            })
        });
    }
    for s in described
        .iter()
        .flat_map(|o| o.services())
        .filter(|s| s.status() == Some("ACTIVE"))
    {
        let tags = tag_map(s.tags().iter().map(|t| (t.key(), t.value())));
        if !owned_by(&tags, stack) {
            continue;
        }
        let vpc = s
            .network_configuration()
            .and_then(|n| n.awsvpc_configuration());
        let refs = |v: &[String]| {
            v.iter()
                .map(|x| Ref::Unowned(x.clone()))
                .collect::<Vec<_>>()
        };
        let lb = s.load_balancers().first();
        let deployment = s.deployment_configuration().and_then(|d| {
            Some(Deployment {
                minimum_healthy_percent: d.minimum_healthy_percent()?,
                maximum_percent: d.maximum_percent()?,
                circuit_breaker_rollback: d
                    .deployment_circuit_breaker()
                    .is_some_and(|b| b.rollback()),
            })
        });
        found.add(&tags, s.service_arn(), |_| {
            Resource::EcsService(EcsService {
                name: s.service_name().unwrap_or_default().into(),
                cluster: Ref::Unowned(s.cluster_arn().unwrap_or_default().into()),
                task_definition: Ref::Unowned(s.task_definition().unwrap_or_default().into()),
                desired_count: u32::try_from(s.desired_count()).unwrap_or(0),
                count_scaled: false,
                subnets: vpc.map(|v| refs(v.subnets())).unwrap_or_default(),
                security_groups: vpc.map(|v| refs(v.security_groups())).unwrap_or_default(),
                assign_public_ip: vpc.and_then(|v| v.assign_public_ip())
                    == Some(&AssignPublicIp::Enabled),
                registry: s
                    .service_registries()
                    .first()
                    .and_then(|r| r.registry_arn())
                    .map(|a| Ref::Unowned(a.into())),
                target_groups: s
                    .load_balancers()
                    .iter()
                    .filter_map(|l| l.target_group_arn())
                    .map(|a| Ref::Unowned(a.into()))
                    .collect(),
                container_name: lb
                    .and_then(|l| l.container_name())
                    .unwrap_or_default()
                    .to_string(),
                container_port: lb
                    .and_then(|l| l.container_port())
                    .and_then(|p| u16::try_from(p).ok())
                    .unwrap_or(0),
                deployment,
            })
        });
        // Application Auto Scaling names a service `service/<cluster>/<service>`.
        if let (Some(id), Some(name)) = (tags.get(TAG_ID), s.service_name()) {
            let cluster = s
                .cluster_arn()
                .and_then(|a| a.rsplit('/').next())
                .unwrap_or_default();
            found.alias(
                super::autoscaling::resource_id(cluster, name),
                &ResourceId::new(id),
            );
        }
    }
    Ok(found)
}

async fn list_services(cloud: &AwsCloud, cluster: &str) -> Result<Vec<String>, CloudError> {
    let mut arns = Vec::new();
    let mut pages = cloud
        .ecs
        .list_services()
        .cluster(cluster)
        .max_results(100)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        match page.map_err(aws_err) {
            Ok(p) => arns.extend(p.service_arns().iter().cloned()),
            Err(e) if is_not_found(&e) => break,
            Err(e) => return Err(e),
        }
    }
    Ok(arns)
}

async fn list_families(cloud: &AwsCloud, stack: &str) -> Result<Vec<String>, CloudError> {
    let mut families = Vec::new();
    let mut pages = cloud
        .ecs
        .list_task_definition_families()
        .family_prefix(format!("{stack}-"))
        .status(TaskDefinitionFamilyStatus::Active)
        .max_results(100)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        families.extend(page.map_err(aws_err)?.families().iter().cloned());
    }
    Ok(families)
}

/// Waits until every named service runs its desired count on a single deployment; fails as soon
/// as a deployment's circuit breaker gives up (ECS then rolls back to the previous revision).
pub async fn wait_steady(
    cloud: &AwsCloud,
    stack: &str,
    services: &[String],
    limit: std::time::Duration,
) -> Result<(), CloudError> {
    let cluster = names::cluster(stack);
    wait_until("the ECS services to be steady", limit, || async {
        let mut pending = Vec::new();
        for chunk in services.chunks(10) {
            let out = call(|| {
                cloud
                    .ecs
                    .describe_services()
                    .cluster(&cluster)
                    .set_services(Some(chunk.to_vec()))
                    .send()
            })
            .await?;
            for s in out.services() {
                let name = s.service_name().unwrap_or_default();
                if let Some(failed) = s
                    .deployments()
                    .iter()
                    .find(|d| d.rollout_state() == Some(&DeploymentRolloutState::Failed))
                {
                    let stopped = stopped_task_reasons(cloud, &cluster, name).await;
                    return Err(CloudError::Other(format!(
                        "deployment of {name} failed and was rolled back: {}{}",
                        failed.rollout_state_reason().unwrap_or("no reason given"),
                        if stopped.is_empty() {
                            String::new()
                        } else {
                            format!("; its stopped tasks say: {}", stopped.join("; "))
                        }
                    )));
                }
                if s.deployments().len() > 1 || s.running_count() != s.desired_count() {
                    pending.push(format!(
                        "{name} ({}/{} running)",
                        s.running_count(),
                        s.desired_count()
                    ));
                }
            }
        }
        Ok((!pending.is_empty()).then(|| format!("settling: {}", pending.join(", "))))
    })
    .await
}

/// Why the service's last stopped tasks stopped (`CannotPullContainerError: …`, an essential
/// container's exit code), distinct, at most three: what a rolled-back deployment needs said.
/// Best effort: a failed read says nothing.
async fn stopped_task_reasons(cloud: &AwsCloud, cluster: &str, service: &str) -> Vec<String> {
    let Ok(listed) = call(|| {
        cloud
            .ecs
            .list_tasks()
            .cluster(cluster)
            .service_name(service)
            .desired_status(aws_sdk_ecs::types::DesiredStatus::Stopped)
            .max_results(10)
            .send()
    })
    .await
    else {
        return Vec::new();
    };
    if listed.task_arns().is_empty() {
        return Vec::new();
    }
    let Ok(tasks) = call(|| {
        cloud
            .ecs
            .describe_tasks()
            .cluster(cluster)
            .set_tasks(Some(listed.task_arns().to_vec()))
            .send()
    })
    .await
    else {
        return Vec::new();
    };
    let mut reasons: Vec<String> = Vec::new();
    for task in tasks.tasks() {
        let mut why = task.stopped_reason().unwrap_or("stopped").to_string();
        for c in task.containers() {
            match (c.reason(), c.exit_code()) {
                (Some(r), _) => {
                    why.push_str(&format!(" ({}: {r})", c.name().unwrap_or("container")))
                }
                (None, Some(code)) if code != 0 => why.push_str(&format!(
                    " ({} exited {code})",
                    c.name().unwrap_or("container")
                )),
                _ => {}
            }
        }
        if !reasons.contains(&why) {
            reasons.push(why);
        }
    }
    reasons.truncate(3);
    reasons
}

use super::kinds::AwsKind;

use super::pacing::Family;

use crate::plan::schedule::OpKind;

/// An image in an ECR repository (`<account>.dkr.ecr.<region>.amazonaws.com/<name>:<tag>`)
/// points at the repository, so observe can link it to one of ours; anything else is its URI.
fn image_source(image: &str) -> ImageSource {
    let ecr = image
        .split_once('/')
        .filter(|(host, _)| host.contains(".dkr.ecr.") && host.ends_with(".amazonaws.com"))
        .and_then(|_| image.rsplit_once(':'))
        .filter(|(repo, tag)| !tag.contains('/') && !repo.ends_with(".amazonaws.com"));
    match ecr {
        Some((repo, tag)) => ImageSource::Repository {
            repository: Ref::Unowned(repo.to_string()),
            tag: tag.to_string(),
        },
        None => ImageSource::Uri(image.to_string()),
    }
}

#[cfg(test)]
mod image_tests {
    use super::*;

    #[test]
    fn ecr_images_point_at_their_repository() {
        assert_eq!(
            image_source("1.dkr.ecr.us-east-1.amazonaws.com/shop-api:1.2"),
            ImageSource::Repository {
                repository: Ref::Unowned("1.dkr.ecr.us-east-1.amazonaws.com/shop-api".into()),
                tag: "1.2".into()
            }
        );
        assert_eq!(
            image_source("nginx:1.27"),
            ImageSource::Uri("nginx:1.27".into())
        );
    }
}
