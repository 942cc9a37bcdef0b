//! EC2: the network and its security groups.

mod elastic_ip;
mod ingress_rule;
mod internet_gateway;
mod nat_gateway;
mod route_table;
mod security_group;
mod subnet;
mod vpc;

pub use nat_gateway::failed_nat_gateways;

use super::errors::{aws_err, has_code, missing};
use nat_gateway::nat_failure;
use vpc::vpc_dns;

use super::ops::{adopt_if_exists, create_or_find, delete_retrying, nothing_of_ours};

use super::ownership::{owned_by, scoped, tag_map, Found};

use super::retry::{found, is_not_found, retry_while, wait_until};

use super::settle::call;

use super::{client_token, ownership_tags, AwsCloud};

use crate::cloud::{CloudError, OpContext};

use crate::model::*;

use aws_sdk_ec2::types::{
    AttributeBooleanValue, DomainType, Filter, IpPermission, IpRange, Ipv6Range, NatGatewayState,
    ResourceType, SecurityGroupRuleDescription, Tag, TagSpecification, UserIdGroupPair,
    VpcAttributeName,
};

use std::collections::BTreeSet;

fn tag_spec(
    ctx: &OpContext<'_>,
    kind: ResourceType,
    name: &str,
    extra: &[(&str, &str)],
) -> TagSpecification {
    let mut tags: Vec<Tag> = ownership_tags(ctx, name)
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    tags.extend(
        extra
            .iter()
            .map(|(k, v)| Tag::builder().key(*k).value(*v).build()),
    );
    TagSpecification::builder()
        .resource_type(kind)
        .set_tags(Some(tags))
        .build()
}

fn stack_filter(stack: &str) -> Filter {
    Filter::builder()
        .name(format!("tag:{TAG_STACK}"))
        .values(stack)
        .build()
}

/// Finds the resource this op created in an earlier attempt whose answer was lost: in `vpc`, with
/// `field` = `value`, carrying this stack's tag and this op's logical id.
fn our_earlier_create(ctx: &OpContext<'_>, vpc: &str, field: &str, value: &str) -> Vec<Filter> {
    vec![
        Filter::builder().name("vpc-id").values(vpc).build(),
        Filter::builder().name(field).values(value).build(),
        Filter::builder()
            .name(format!("tag:{TAG_ID}"))
            .values(ctx.id.as_str())
            .build(),
        stack_filter(ctx.stack),
    ]
}

/// For a create that must not be sent twice by the SDK's retry (`ops::create_or_find`).
fn without_retry() -> aws_sdk_ec2::config::Builder {
    aws_sdk_ec2::config::Builder::default().retry_config(aws_config::retry::RetryConfig::disabled())
}

/// Filters for what this operation made: this stack's resource under this logical id.
fn ours(ctx: &OpContext<'_>) -> Vec<Filter> {
    [(TAG_STACK, ctx.stack), (TAG_ID, ctx.id.as_str())]
        .into_iter()
        .map(|(key, value)| {
            Filter::builder()
                .name(format!("tag:{key}"))
                .values(value)
                .build()
        })
        .collect()
}

/// Operations on something we just created may see NotFound for a while on AWS.
async fn consistent<T, F, Fut>(cloud: &AwsCloud, what: &str, f: F) -> Result<T, CloudError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, CloudError>>,
{
    retry_while(what, cloud.timeouts.consistency, is_not_found, f).await
}

/// Tag on subnets saying whether they are public (the model's `public`).
const TAG_TIER: &str = "ecsform:tier";

const DEFAULT_ROUTE: &str = "0.0.0.0/0";

pub async fn retag(
    cloud: &AwsCloud,
    ctx: &OpContext<'_>,
    resource: &str,
    name: &str,
) -> Result<(), CloudError> {
    let tags: Vec<Tag> = ownership_tags(ctx, name)
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    call(|| {
        cloud
            .ec2
            .create_tags()
            .resources(resource)
            .set_tags(Some(tags.clone()))
            .send()
    })
    .await?;
    Ok(())
}

/// Reads every EC2 resource of the stack: one describe per type, filtered by the stack tag, all
/// in parallel; then the rules of the owned groups.
pub async fn observe(cloud: &AwsCloud, stack: &str) -> Result<Found, CloudError> {
    let f = || stack_filter(stack);
    let ec2 = &cloud.ec2;
    // Filtered describes page with MaxResults and follow every token, as AWS advises: a page
    // may hold fewer items than asked, or none, and still have a next one
    // (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-pagination.html). Route
    // tables take at most 100 per page; DescribeAddresses is not paged.
    let (vpcs, subnets, igws, eips, nats, rtbs, groups) = tokio::try_join!(
        async {
            ec2.describe_vpcs()
                .filters(f())
                .max_results(1000)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(aws_err)
        },
        async {
            ec2.describe_subnets()
                .filters(f())
                .max_results(1000)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(aws_err)
        },
        async {
            ec2.describe_internet_gateways()
                .filters(f())
                .max_results(1000)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(aws_err)
        },
        async { call(|| ec2.describe_addresses().filters(f()).send()).await },
        async {
            ec2.describe_nat_gateways()
                .filter(f())
                .max_results(1000)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(aws_err)
        },
        async {
            ec2.describe_route_tables()
                .filters(f())
                .max_results(100)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(aws_err)
        },
        async {
            ec2.describe_security_groups()
                .filters(f())
                .max_results(1000)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(aws_err)
        },
    )?;
    let mut found = Found::new(stack);
    let tags = |t: &[Tag]| tag_map(t.iter().map(|t| (t.key(), t.value())));
    // Round two, in parallel: the VPC's DNS attributes and the rules of the owned groups.
    let mut group_ids = BTreeSet::new();
    for g in &groups {
        let t = tags(g.tags());
        if let (Some(gid), true) = (g.group_id(), t.contains_key(TAG_ID) && owned_by(&t, stack)) {
            group_ids.insert(gid.to_string());
        }
    }
    let (dns, rules) = tokio::try_join!(
        futures::future::try_join_all(
            vpcs.iter()
                .map(|v| vpc_dns(cloud, v.vpc_id().unwrap_or_default()))
        ),
        observe_rules(cloud, &group_ids),
    )?;
    found.items.extend(rules);
    for (v, (dns_support, dns_hostnames)) in vpcs.iter().zip(dns) {
        let t = tags(v.tags());
        found.add(&t, v.vpc_id(), |name| {
            Resource::Vpc(Vpc {
                name,
                cidr: v.cidr_block().unwrap_or_default().into(),
                dns_support,
                dns_hostnames,
            })
        });
    }
    for s in &subnets {
        let t = tags(s.tags());
        let public = t.get(TAG_TIER).is_some_and(|v| v == "public");
        found.add(&t, s.subnet_id(), |name| {
            Resource::Subnet(Subnet {
                name,
                vpc: unowned(s.vpc_id()),
                cidr: s.cidr_block().unwrap_or_default().into(),
                availability_zone: s.availability_zone().unwrap_or_default().into(),
                public,
            })
        });
    }
    for g in &igws {
        let t = tags(g.tags());
        let vpc = g.attachments().first().and_then(|a| a.vpc_id());
        found.add(&t, g.internet_gateway_id(), |name| {
            Resource::InternetGateway(InternetGateway {
                name,
                vpc: unowned(vpc),
            })
        });
    }
    for a in eips.addresses() {
        let t = tags(a.tags());
        found.add(&t, a.allocation_id(), |name| {
            Resource::ElasticIp(ElasticIp { name })
        });
    }
    for n in &nats {
        if matches!(
            n.state(),
            Some(NatGatewayState::Deleted | NatGatewayState::Deleting)
        ) {
            continue;
        }
        let t = tags(n.tags());
        let allocation = n
            .nat_gateway_addresses()
            .first()
            .and_then(|a| a.allocation_id());
        found.add(&t, n.nat_gateway_id(), |name| {
            Resource::NatGateway(NatGateway {
                name,
                subnet: unowned(n.subnet_id()),
                elastic_ip: unowned(allocation),
                // Kept, not hidden: the plan replaces it and says what AWS said.
                failure: (n.state() == Some(&NatGatewayState::Failed)).then(|| nat_failure(n)),
            })
        });
    }
    for rt in &rtbs {
        let t = tags(rt.tags());
        let default_route = rt
            .routes()
            .iter()
            .find(|r| r.destination_cidr_block() == Some(DEFAULT_ROUTE))
            .and_then(|r| r.nat_gateway_id().or(r.gateway_id()))
            .map(|p| Ref::Unowned(p.to_string()));
        let mut subnets: Vec<Ref> = rt
            .associations()
            .iter()
            .filter_map(|a| a.subnet_id())
            .map(|s| Ref::Unowned(s.into()))
            .collect();
        subnets.sort();
        found.add(&t, rt.route_table_id(), |name| {
            Resource::RouteTable(RouteTable {
                name,
                vpc: unowned(rt.vpc_id()),
                default_route,
                subnets,
            })
        });
    }
    for g in &groups {
        let t = tags(g.tags());
        found.add(&t, g.group_id(), |_| {
            Resource::SecurityGroup(SecurityGroup {
                name: g.group_name().unwrap_or_default().into(),
                vpc: unowned(g.vpc_id()),
                description: g.description().unwrap_or_default().into(),
            })
        });
    }
    Ok(found)
}

fn unowned(p: Option<&str>) -> Ref {
    Ref::Unowned(p.unwrap_or_default().to_string())
}

/// Rules are owned through their group and identified by their content within it
/// (`IngressRule::scoped_id`, assigned by observe's linking), so a rule the file asks for is
/// matched whoever made it; anything else is drift, to be removed.
pub(crate) async fn observe_rules(
    cloud: &AwsCloud,
    groups: &BTreeSet<String>,
) -> Result<Vec<ObservedResource>, CloudError> {
    let mut found = Vec::new();
    if groups.is_empty() {
        return Ok(found);
    }
    let mut rules = Vec::new();
    // The group-id filter takes up to 200 values per request.
    let ids: Vec<&String> = groups.iter().collect();
    for chunk in ids.chunks(200) {
        let filter = Filter::builder()
            .name("group-id")
            .set_values(Some(chunk.iter().map(|s| s.to_string()).collect()))
            .build();
        let mut pages = cloud
            .ec2
            .describe_security_group_rules()
            .filters(filter)
            .max_results(1000)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            rules.extend(page.map_err(aws_err)?.security_group_rules().to_vec());
        }
    }
    for rule in rules.iter().filter(|r| r.is_egress() == Some(false)) {
        let (Some(gid), Some(rule_id)) = (rule.group_id(), rule.security_group_rule_id()) else {
            continue;
        };
        if !groups.contains(gid) {
            continue;
        }
        let source = if let Some(g) = rule.referenced_group_info().and_then(|g| g.group_id()) {
            RuleSource::Group(Ref::Unowned(g.to_string()))
        } else if let Some(c) = rule.cidr_ipv4().or(rule.cidr_ipv6()) {
            RuleSource::Cidr(c.to_string())
        } else {
            // Prefix lists and other sources: drift with an explicit marker.
            RuleSource::Cidr(
                rule.prefix_list_id()
                    .unwrap_or("unknown source")
                    .to_string(),
            )
        };
        // The model holds one TCP port: a range, another protocol or "all traffic" reads as
        // port 0, which no file asks for, so the plan replaces it with the exact rule.
        let single_tcp_port =
            rule.ip_protocol() == Some("tcp") && rule.from_port() == rule.to_port();
        let port = rule
            .from_port()
            .filter(|_| single_tcp_port)
            .and_then(|p| u16::try_from(p).ok())
            .unwrap_or(0);
        found.push(scoped(
            Resource::IngressRule(IngressRule {
                group: Ref::Unowned(gid.to_string()),
                port,
                source,
                description: rule.description().unwrap_or_default().to_string(),
            }),
            rule_id,
        ));
    }
    Ok(found)
}

use super::kinds::{no_update_in_place, AwsKind};

use super::pacing::Family;

use crate::plan::schedule::OpKind;
