//! Cloud Map: the private DNS namespace and one discovery service per service.

use super::errors::has_code;
use super::errors::{aws_err, build_err, missing};
use super::ops::delete_retrying;
use super::ownership::is_ours;
use super::ownership::{owned_by, scoped, tag_map, Found};
use super::retry::{is_dependency, is_not_found, retry_while, wait_until};
use super::settle::call;
use super::{client_token, ownership_tags, AwsCloud};
use crate::cloud::{CloudError, OpContext};
use crate::model::*;
use aws_sdk_servicediscovery::types::{
    DnsConfig, DnsConfigChange, DnsRecord, FilterCondition, HealthCheckCustomConfig,
    OperationStatus, RecordType, RoutingPolicy, ServiceChange, ServiceFilter, ServiceFilterName,
    Tag,
};

/// Tag on the namespace recording its VPC: AWS does not return it (it sits on the hosted zone).
const TAG_VPC: &str = "ecsform:vpc";

fn tags(ctx: &OpContext<'_>, name: &str, extra: &[(&str, &str)]) -> Result<Vec<Tag>, CloudError> {
    let mut pairs = ownership_tags(ctx, name);
    pairs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    pairs
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build().map_err(build_err))
        .collect()
}

/// The id of the private namespace named `name` that carries this operation's tags.
async fn our_namespace(
    cloud: &AwsCloud,
    ctx: &OpContext<'_>,
    name: &str,
) -> Result<Option<String>, CloudError> {
    let mut pages = cloud.cloudmap.list_namespaces().into_paginator().send();
    while let Some(page) = pages.next().await {
        for n in page.map_err(aws_err)?.namespaces() {
            let (Some(id), Some(arn)) = (n.id(), n.arn()) else {
                continue;
            };
            if n.name() != Some(name) {
                continue;
            }
            let tags = call(|| {
                cloud
                    .cloudmap
                    .list_tags_for_resource()
                    .resource_arn(arn)
                    .send()
            })
            .await?;
            let tags = tag_map(tags.tags().iter().map(|t| (Some(t.key()), Some(t.value()))));
            if is_ours(&tags, ctx) {
                return Ok(Some(id.to_string()));
            }
        }
    }
    Ok(None)
}

/// Namespace changes are asynchronous: poll the operation (about a minute on AWS).
async fn wait_operation(cloud: &AwsCloud, operation: &str, what: &str) -> Result<(), CloudError> {
    wait_until(what, cloud.timeouts.provisioning, || async {
        let out = call(|| {
            cloud
                .cloudmap
                .get_operation()
                .operation_id(operation)
                .send()
        })
        .await?;
        let op = out.operation().ok_or_else(|| missing("Operation"))?;
        match op.status() {
            Some(OperationStatus::Success) => Ok(None),
            Some(OperationStatus::Fail) => Err(CloudError::Other(format!(
                "{what}: {} {}",
                op.error_code().unwrap_or_default(),
                op.error_message().unwrap_or_default()
            ))),
            other => Ok(Some(
                other
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_else(|| "pending".into()),
            )),
        }
    })
    .await
}

#[allow(deprecated)] // See observe: AWS now fixes the threshold at 1, which is what we ask for.
fn custom_health_check(threshold: u32) -> HealthCheckCustomConfig {
    HealthCheckCustomConfig::builder()
        .failure_threshold(i32::try_from(threshold).unwrap_or(1))
        .build()
}

/// The description every discovery service of the stack carries (its summary has no tags).
fn service_marker(stack: &str) -> String {
    format!("ecsform stack {stack}")
}

/// `arn:aws:servicediscovery:…:service/srv-…` → `srv-…`.
fn service_id(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// Namespaces are owned by tags; discovery services through their owned namespace.
pub async fn observe(cloud: &AwsCloud, stack: &str, hint: &Desired) -> Result<Found, CloudError> {
    let mut namespaces = Vec::new();
    let mut pages = cloud.cloudmap.list_namespaces().into_paginator().send();
    while let Some(page) = pages.next().await {
        namespaces.extend(page.map_err(aws_err)?.namespaces().to_vec());
    }
    // moto ignores the type filter; filtering here is right on AWS too.
    let private: Vec<_> = namespaces
        .into_iter()
        .filter(|n| n.r#type().map(|t| t.as_str()) == Some("DNS_PRIVATE"))
        .filter_map(|n| {
            Some((
                n.id()?.to_string(),
                n.arn()?.to_string(),
                n.name()?.to_string(),
            ))
        })
        .collect();
    let tag_reads = private.iter().map(|(_, arn, _)| async move {
        call(|| {
            cloud
                .cloudmap
                .list_tags_for_resource()
                .resource_arn(arn)
                .send()
        })
        .await
    });
    // Round two, in parallel: every private namespace's tags, and (speculatively) the services
    // of the namespaces named as in the file — almost always exactly ours.
    let expected = hint.resources.values().find_map(|r| match r {
        Resource::Namespace(n) => Some(n.name.clone()),
        _ => None,
    });
    let speculative: Vec<&String> = private
        .iter()
        .filter(|(_, _, name)| Some(name) == expected.as_ref())
        .map(|(id, _, _)| id)
        .collect();
    let (tag_sets, listed) = tokio::try_join!(
        futures::future::try_join_all(tag_reads),
        futures::future::try_join_all(
            speculative
                .iter()
                .map(|ns| list_discovery_services(cloud, stack, ns))
        ),
    )?;
    let mut listed: std::collections::BTreeMap<&String, Vec<ObservedResource>> =
        speculative.into_iter().zip(listed).collect();
    let mut found = Found::new(stack);
    for ((ns_id, arn, name), tags) in private.iter().zip(tag_sets) {
        let tags = tag_map(tags.tags().iter().map(|t| (Some(t.key()), Some(t.value()))));
        if !owned_by(&tags, stack) {
            continue;
        }
        let vpc = tags.get(TAG_VPC).cloned().unwrap_or_default();
        found.add(&tags, Some(ns_id), |_| {
            Resource::Namespace(Namespace {
                name: name.clone(),
                vpc: Ref::Unowned(vpc),
            })
        });
        found.alias(
            arn.clone(),
            &ResourceId::new(tags.get(TAG_ID).cloned().unwrap_or_default()),
        );
        let services = match listed.remove(ns_id) {
            Some(services) => services,
            // Renamed in the file since: one more round for this one.
            None => list_discovery_services(cloud, stack, ns_id).await?,
        };
        found.items.extend(services);
    }
    Ok(found)
}

/// The discovery services ecsform made in namespace `ns`.
async fn list_discovery_services(
    cloud: &AwsCloud,
    stack: &str,
    ns: &str,
) -> Result<Vec<ObservedResource>, CloudError> {
    let filter = ServiceFilter::builder()
        .name(ServiceFilterName::NamespaceId)
        .condition(FilterCondition::Eq)
        .values(ns)
        .build()
        .map_err(build_err)?;
    let mut found = Vec::new();
    let mut pages = cloud
        .cloudmap
        .list_services()
        .filters(filter)
        .max_results(100)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        for s in page.map_err(aws_err)?.services() {
            let dns = s.dns_config();
            // moto ignores the filter and still fills this deprecated field; AWS honours the
            // filter and may leave it empty.
            #[allow(deprecated)]
            let listed_in = dns.and_then(|d| d.namespace_id());
            if listed_in.is_some_and(|other| other != ns) {
                continue;
            }
            let (Some(name), Some(arn)) = (s.name(), s.arn()) else {
                continue;
            };
            // Only services we made: emulators ignore the namespace filter, and a service
            // someone added by hand to our namespace is theirs, not ours to delete.
            if s.description() != Some(service_marker(stack).as_str()) {
                continue;
            }
            let ttl = dns
                .and_then(|d| d.dns_records().first())
                .map(|r| r.ttl())
                .unwrap_or(0);
            #[allow(deprecated)]
            // Deprecated by AWS (always 1 now), still returned and still what the seed asks for.
            let threshold = s
                .health_check_custom_config()
                .and_then(|h| h.failure_threshold())
                .unwrap_or(0);
            found.push(scoped(
                Resource::DiscoveryService(DiscoveryService {
                    name: name.to_string(),
                    namespace: Ref::Unowned(ns.to_string()),
                    ttl: u32::try_from(ttl).unwrap_or(0),
                    failure_threshold: u32::try_from(threshold).unwrap_or(0),
                }),
                arn,
            ));
        }
    }
    Ok(found)
}

// ---------------------------------------------------------------- kinds (see `super::kinds`)

use super::kinds::{no_update_in_place, AwsKind};
use super::pacing::Family;
use crate::plan::schedule::OpKind;

impl AwsKind for Namespace {
    fn cost(op: OpKind) -> Vec<(Family, f64)> {
        let _ = op;
        vec![(Family::CloudMap, 1.0)]
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        let r = self;
        let vpc = ctx.resolve(&r.vpc)?;
        let tagged = tags(ctx, &r.name, &[(TAG_VPC, &vpc)])?;
        let created = call(|| {
            cloud
                .cloudmap
                .create_private_dns_namespace()
                .name(&r.name)
                .vpc(&vpc)
                .creator_request_id(client_token(ctx, &vpc))
                .description(format!("ecsform {}", ctx.stack))
                .set_tags(Some(tagged.clone()))
                .send()
        })
        .await;
        let out = match created {
            // AWS answers a repeated CreatorRequestId with the first create's operation; an
            // emulator (and AWS, for a namespace of the same name made otherwise) refuses it. A
            // create whose answer was lost made the namespace: ours if it carries our tags.
            Err(e)
                if ["NamespaceAlreadyExists", "ConflictingDomainExists"]
                    .iter()
                    .any(|code| has_code(&e, code)) =>
            {
                return match our_namespace(cloud, ctx, &r.name).await? {
                    Some(id) => Ok(id),
                    None => Err(e),
                };
            }
            other => other?,
        };
        let operation = out.operation_id().ok_or_else(|| missing("OperationId"))?;
        wait_operation(cloud, operation, &format!("namespace {}", r.name)).await?;
        let op = call(|| {
            cloud
                .cloudmap
                .get_operation()
                .operation_id(operation)
                .send()
        })
        .await?;
        op.operation()
            .and_then(|o| o.targets())
            .and_then(|t| {
                t.iter()
                    .find(|(k, _)| k.as_str() == "NAMESPACE")
                    .map(|(_, v)| v.clone())
            })
            .ok_or_else(|| missing("the new namespace id"))
    }
    async fn update(
        &self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        id: &str,
        have: &Self,
    ) -> Result<String, CloudError> {
        let _ = (cloud, id, have);
        Err(no_update_in_place(Kind::Namespace, ctx))
    }
    async fn delete(
        have: &Self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        observed: &ObservedResource,
    ) -> Result<(), CloudError> {
        let _ = (have, ctx);
        let namespace: &str = &observed.physical_id;
        let res = retry_while(
            &format!("delete namespace {namespace}"),
            cloud.timeouts.dependencies,
            is_dependency,
            || async { call(|| cloud.cloudmap.delete_namespace().id(namespace).send()).await },
        )
        .await;
        match res {
            Ok(out) => match out.operation_id() {
                Some(op) => {
                    wait_operation(cloud, op, &format!("deleting namespace {namespace}")).await
                }
                None => Ok(()),
            },
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

impl AwsKind for DiscoveryService {
    fn cost(op: OpKind) -> Vec<(Family, f64)> {
        let _ = op;
        vec![(Family::CloudMap, 1.0)]
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        let r = self;
        let namespace = ctx.resolve(&r.namespace)?;
        let record = DnsRecord::builder()
            .r#type(RecordType::A)
            .ttl(i64::from(r.ttl))
            .build()
            .map_err(build_err)?;
        let dns = DnsConfig::builder()
            .routing_policy(RoutingPolicy::Multivalue)
            .dns_records(record)
            .build()
            .map_err(build_err)?;
        let tagged = tags(ctx, &r.name, &[])?;
        let out = call(|| {
            cloud
                .cloudmap
                .create_service()
                .name(&r.name)
                .namespace_id(&namespace)
                .creator_request_id(client_token(ctx, &namespace))
                .description(service_marker(ctx.stack))
                .dns_config(dns.clone())
                .health_check_custom_config(custom_health_check(r.failure_threshold))
                .set_tags(Some(tagged.clone()))
                .send()
        })
        .await?;
        out.service()
            .and_then(|s| s.arn())
            .map(String::from)
            .ok_or_else(|| missing("Service.Arn"))
    }
    async fn update(
        &self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        id: &str,
        have: &Self,
    ) -> Result<String, CloudError> {
        let _ = (ctx, have);
        let arn: &str = id;
        let r = self;
        let record = DnsRecord::builder()
            .r#type(RecordType::A)
            .ttl(i64::from(r.ttl))
            .build()
            .map_err(build_err)?;
        let change = ServiceChange::builder()
            .dns_config(
                DnsConfigChange::builder()
                    .dns_records(record)
                    .build()
                    .map_err(build_err)?,
            )
            .build();
        let out = call(|| {
            cloud
                .cloudmap
                .update_service()
                .id(service_id(arn))
                .service(change.clone())
                .send()
        })
        .await?;
        if let Some(op) = out.operation_id() {
            wait_operation(cloud, op, &format!("discovery service {}", r.name)).await?;
        }
        Ok(id.to_string())
    }
    async fn delete(
        have: &Self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        observed: &ObservedResource,
    ) -> Result<(), CloudError> {
        let _ = (have, ctx);
        let arn: &str = &observed.physical_id;
        // ResourceInUse while instances are still registered: ECS deregisters them as tasks stop.
        delete_retrying(
            cloud,
            &format!("delete discovery service {arn}"),
            || async {
                call(|| cloud.cloudmap.delete_service().id(service_id(arn)).send())
                    .await
                    .map(|_| ())
            },
        )
        .await
    }
}
