//! EC2: the network and its security groups.

use super::errors::{aws_err, has_code, missing};
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

pub async fn create_vpc(
    cloud: &AwsCloud,
    ctx: &OpContext<'_>,
    r: &Vpc,
) -> Result<String, CloudError> {
    let create = || async {
        let out = call(|| {
            cloud
                .ec2
                .create_vpc()
                .cidr_block(&r.cidr)
                .tag_specifications(tag_spec(ctx, ResourceType::Vpc, &r.name, &[]))
                .customize()
                .config_override(without_retry())
                .send()
        })
        .await?;
        out.vpc()
            .and_then(|v| v.vpc_id())
            .map(String::from)
            .ok_or_else(|| missing("VpcId"))
    };
    let find = || async {
        let out = call(|| {
            cloud
                .ec2
                .describe_vpcs()
                .set_filters(Some(ours(ctx)))
                .send()
        })
        .await?;
        Ok(out
            .vpcs()
            .first()
            .and_then(|v| v.vpc_id())
            .map(String::from))
    };
    let vpc_id = create_or_find("CreateVpc", create, find).await?;
    // A new VPC has DNS support on and hostnames off.
    let fresh = Vpc {
        dns_support: true,
        dns_hostnames: false,
        ..r.clone()
    };
    update_vpc(cloud, ctx, &vpc_id, &fresh, r).await?;
    Ok(vpc_id)
}

pub async fn update_vpc(
    cloud: &AwsCloud,
    ctx: &OpContext<'_>,
    vpc_id: &str,
    have: &Vpc,
    want: &Vpc,
) -> Result<(), CloudError> {
    if have.name != want.name {
        retag(cloud, ctx, vpc_id, &want.name).await?;
    }
    // AWS takes one attribute per call.
    for (hostnames, had, wanted) in [
        (false, have.dns_support, want.dns_support),
        (true, have.dns_hostnames, want.dns_hostnames),
    ] {
        if had == wanted {
            continue;
        }
        let value = AttributeBooleanValue::builder().value(wanted).build();
        consistent(cloud, "set VPC DNS attribute", || async {
            let req = cloud.ec2.modify_vpc_attribute().vpc_id(vpc_id);
            let req = if hostnames {
                req.enable_dns_hostnames(value.clone())
            } else {
                req.enable_dns_support(value.clone())
            };
            call(|| req.clone().send()).await
        })
        .await?;
    }
    Ok(())
}

/// (DNS support, DNS hostnames) of a VPC.
async fn vpc_dns(cloud: &AwsCloud, vpc_id: &str) -> Result<(bool, bool), CloudError> {
    let read = |attr: VpcAttributeName| async move {
        call(|| {
            cloud
                .ec2
                .describe_vpc_attribute()
                .vpc_id(vpc_id)
                .attribute(attr.clone())
                .send()
        })
        .await
    };
    let (support, hostnames) = tokio::try_join!(
        read(VpcAttributeName::EnableDnsSupport),
        read(VpcAttributeName::EnableDnsHostnames)
    )?;
    Ok((
        support
            .enable_dns_support()
            .and_then(|v| v.value())
            .unwrap_or(false),
        hostnames
            .enable_dns_hostnames()
            .and_then(|v| v.value())
            .unwrap_or(false),
    ))
}

pub async fn create_subnet(
    cloud: &AwsCloud,
    ctx: &OpContext<'_>,
    r: &Subnet,
) -> Result<String, CloudError> {
    let vpc = ctx.resolve(&r.vpc)?;
    let tier = if r.public { "public" } else { "private" };
    let out = consistent(cloud, "create subnet", || async {
        call(|| {
            cloud
                .ec2
                .create_subnet()
                .vpc_id(&vpc)
                .cidr_block(&r.cidr)
                .availability_zone(&r.availability_zone)
                .tag_specifications(tag_spec(
                    ctx,
                    ResourceType::Subnet,
                    &r.name,
                    &[(TAG_TIER, tier)],
                ))
                .send()
        })
        .await
    })
    .await;
    let created = out.and_then(|out| {
        Ok(out
            .subnet()
            .and_then(|s| s.subnet_id())
            .ok_or_else(|| missing("SubnetId"))?
            .to_string())
    });
    // The CIDR is taken: by our own earlier create whose answer was lost, or by someone else.
    adopt_if_exists(created, "InvalidSubnet.Conflict", || async {
        let filters = our_earlier_create(ctx, &vpc, "cidr-block", &r.cidr);
        let found = call(|| {
            cloud
                .ec2
                .describe_subnets()
                .set_filters(Some(filters.clone()))
                .send()
        })
        .await?;
        found
            .subnets()
            .first()
            .and_then(|s| s.subnet_id())
            .map(String::from)
            .ok_or_else(nothing_of_ours)
    })
    .await
}

/// Tag on subnets saying whether they are public (the model's `public`).
const TAG_TIER: &str = "ecsform:tier";

pub async fn create_internet_gateway(
    cloud: &AwsCloud,
    ctx: &OpContext<'_>,
    r: &InternetGateway,
) -> Result<String, CloudError> {
    let vpc = ctx.resolve(&r.vpc)?;
    let create = || async {
        let out = call(|| {
            cloud
                .ec2
                .create_internet_gateway()
                .tag_specifications(tag_spec(ctx, ResourceType::InternetGateway, &r.name, &[]))
                .customize()
                .config_override(without_retry())
                .send()
        })
        .await?;
        out.internet_gateway()
            .and_then(|g| g.internet_gateway_id())
            .map(String::from)
            .ok_or_else(|| missing("InternetGatewayId"))
    };
    let find = || async {
        let out = call(|| {
            cloud
                .ec2
                .describe_internet_gateways()
                .set_filters(Some(ours(ctx)))
                .send()
        })
        .await?;
        Ok(out
            .internet_gateways()
            .first()
            .and_then(|g| g.internet_gateway_id())
            .map(String::from))
    };
    let igw = create_or_find("CreateInternetGateway", create, find).await?;
    attach_internet_gateway(cloud, &igw, &vpc).await?;
    Ok(igw)
}

async fn attach_internet_gateway(cloud: &AwsCloud, igw: &str, vpc: &str) -> Result<(), CloudError> {
    let attached = consistent(cloud, "attach internet gateway", || async {
        call(|| {
            cloud
                .ec2
                .attach_internet_gateway()
                .internet_gateway_id(igw)
                .vpc_id(vpc)
                .send()
        })
        .await
    })
    .await
    .map(|_| ());
    match attached {
        // An attach whose answer was lost: done, if it is attached to this VPC.
        Err(e) if has_code(&e, "Resource.AlreadyAssociated") => {
            let out = call(|| {
                cloud
                    .ec2
                    .describe_internet_gateways()
                    .internet_gateway_ids(igw)
                    .send()
            })
            .await?;
            let to_this_vpc = out
                .internet_gateways()
                .iter()
                .flat_map(|g| g.attachments())
                .any(|a| a.vpc_id() == Some(vpc));
            if to_this_vpc {
                Ok(())
            } else {
                Err(e)
            }
        }
        other => other,
    }
}

/// Renames, and attaches a gateway a killed run created but never attached (diff plans an
/// update only then: moving a gateway between VPCs is a replacement).
pub async fn update_internet_gateway(
    cloud: &AwsCloud,
    ctx: &OpContext<'_>,
    igw: &str,
    have: &InternetGateway,
    want: &InternetGateway,
) -> Result<(), CloudError> {
    if ctx.resolve(&have.vpc)?.is_empty() {
        attach_internet_gateway(cloud, igw, &ctx.resolve(&want.vpc)?).await?;
    }
    if have.name != want.name {
        retag(cloud, ctx, igw, &want.name).await?;
    }
    Ok(())
}

pub async fn create_elastic_ip(
    cloud: &AwsCloud,
    ctx: &OpContext<'_>,
    r: &ElasticIp,
) -> Result<String, CloudError> {
    let create = || async {
        let out = call(|| {
            cloud
                .ec2
                .allocate_address()
                .domain(DomainType::Vpc)
                .tag_specifications(tag_spec(ctx, ResourceType::ElasticIp, &r.name, &[]))
                .customize()
                .config_override(without_retry())
                .send()
        })
        .await?;
        out.allocation_id()
            .map(String::from)
            .ok_or_else(|| missing("AllocationId"))
    };
    let find = || async {
        let out = call(|| {
            cloud
                .ec2
                .describe_addresses()
                .set_filters(Some(ours(ctx)))
                .send()
        })
        .await?;
        Ok(out
            .addresses()
            .first()
            .and_then(|a| a.allocation_id())
            .map(String::from))
    };
    create_or_find("AllocateAddress", create, find).await
}

pub async fn create_nat_gateway(
    cloud: &AwsCloud,
    ctx: &OpContext<'_>,
    r: &NatGateway,
) -> Result<String, CloudError> {
    let subnet = ctx.resolve(&r.subnet)?;
    let allocation = ctx.resolve(&r.elastic_ip)?;
    let token = client_token(ctx, &format!("{subnet}/{allocation}"));
    let out = consistent(cloud, "create NAT gateway", || async {
        call(|| {
            cloud
                .ec2
                .create_nat_gateway()
                .subnet_id(&subnet)
                .allocation_id(&allocation)
                .client_token(&token)
                .tag_specifications(tag_spec(ctx, ResourceType::Natgateway, &r.name, &[]))
                .send()
        })
        .await
    })
    .await?;
    let nat = out
        .nat_gateway()
        .and_then(|n| n.nat_gateway_id())
        .ok_or_else(|| missing("NatGatewayId"))?
        .to_string();
    // Not waited for: a NAT gateway is `pending` for minutes, and AWS accepts a route to a
    // pending one (it carries traffic once the gateway is `available`); only the route's
    // create retries the short InvalidNatGatewayID.NotFound of eventual consistency
    // (https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-working-with.html,
    // https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html).
    cloud.created_nat_gateway(&nat);
    Ok(nat)
}

/// What AWS says of a failed NAT gateway: `failureCode: failureMessage`.
fn nat_failure(n: &aws_sdk_ec2::types::NatGateway) -> String {
    format!(
        "{}: {}",
        n.failure_code().unwrap_or("failed"),
        n.failure_message().unwrap_or("AWS gave no reason")
    )
}

/// The NAT gateways created by this run that AWS now reports `failed`, each with AWS's
/// reason: one describe at the end of an apply, so a failure seen by then is reported
/// without ever waiting for the gateways' minutes of `pending`.
pub async fn failed_nat_gateways(
    cloud: &AwsCloud,
    nats: &[String],
) -> Result<Vec<String>, CloudError> {
    if nats.is_empty() {
        return Ok(Vec::new());
    }
    let out = call(|| {
        cloud
            .ec2
            .describe_nat_gateways()
            .set_nat_gateway_ids(Some(nats.to_vec()))
            .send()
    })
    .await?;
    Ok(out
        .nat_gateways()
        .iter()
        .filter(|n| n.state() == Some(&NatGatewayState::Failed))
        .map(|n| {
            format!(
                "NAT gateway {} failed: {} (the private subnets' route to the internet points at it: no task can pull an image). `ecsform plan` shows its replacement; run `ecsform apply` again to replace it",
                n.nat_gateway_id().unwrap_or_default(),
                nat_failure(n)
            )
        })
        .collect())
}

/// Waits for a NAT gateway to reach `target` (on destroy: `deleted`, before its address is
/// released).
async fn wait_nat(cloud: &AwsCloud, nat: &str, target: NatGatewayState) -> Result<(), CloudError> {
    wait_until(
        &format!("NAT gateway {nat}"),
        cloud.timeouts.provisioning,
        || async {
            let out = call(|| {
                cloud
                    .ec2
                    .describe_nat_gateways()
                    .nat_gateway_ids(nat)
                    .send()
            })
            .await;
            let out = match out {
                Ok(o) => o,
                Err(e) if is_not_found(&e) && target == NatGatewayState::Deleted => {
                    return Ok(None)
                }
                Err(e) if is_not_found(&e) => return Ok(Some("not visible yet".into())),
                Err(e) => return Err(e),
            };
            let state = out.nat_gateways().first().and_then(|n| n.state().cloned());
            match state {
                Some(s) if s == target => Ok(None),
                // A failed gateway being deleted may still read `failed` for a moment.
                Some(NatGatewayState::Failed) if target == NatGatewayState::Deleted => {
                    Ok(Some("failed".into()))
                }
                Some(NatGatewayState::Failed) => Err(CloudError::Other(format!(
                    "NAT gateway {nat} failed: {}",
                    out.nat_gateways()
                        .first()
                        .map(nat_failure)
                        .unwrap_or_default()
                ))),
                Some(s) => Ok(Some(s.as_str().to_string())),
                None if target == NatGatewayState::Deleted => Ok(None),
                None => Ok(Some("not visible yet".into())),
            }
        },
    )
    .await
}

pub async fn create_route_table(
    cloud: &AwsCloud,
    ctx: &OpContext<'_>,
    r: &RouteTable,
) -> Result<String, CloudError> {
    let vpc = ctx.resolve(&r.vpc)?;
    let token = client_token(ctx, &vpc);
    let out = consistent(cloud, "create route table", || async {
        call(|| {
            cloud
                .ec2
                .create_route_table()
                .vpc_id(&vpc)
                .client_token(&token)
                .tag_specifications(tag_spec(ctx, ResourceType::RouteTable, &r.name, &[]))
                .send()
        })
        .await
    })
    .await?;
    let rtb = out
        .route_table()
        .and_then(|t| t.route_table_id())
        .ok_or_else(|| missing("RouteTableId"))?
        .to_string();
    let empty = RouteTable {
        default_route: None,
        subnets: vec![],
        ..r.clone()
    };
    update_route_table(cloud, ctx, &rtb, &empty, r).await?;
    Ok(rtb)
}

const DEFAULT_ROUTE: &str = "0.0.0.0/0";

pub async fn update_route_table(
    cloud: &AwsCloud,
    ctx: &OpContext<'_>,
    rtb: &str,
    have: &RouteTable,
    want: &RouteTable,
) -> Result<(), CloudError> {
    if have.name != want.name {
        retag(cloud, ctx, rtb, &want.name).await?;
    }
    // Compared by AWS id: a NAT gateway replaced under the same logical id is a new target.
    let old_target = have
        .default_route
        .as_ref()
        .and_then(|r| ctx.resolve_observed(r));
    let new_target = want
        .default_route
        .as_ref()
        .map(|r| ctx.resolve(r))
        .transpose()?;
    if old_target != new_target {
        if have.default_route.is_some() {
            let res = call(|| {
                cloud
                    .ec2
                    .delete_route()
                    .route_table_id(rtb)
                    .destination_cidr_block(DEFAULT_ROUTE)
                    .send()
            })
            .await;
            match res {
                Ok(_) => {}
                Err(e) if is_not_found(&e) => {}
                Err(e) => return Err(e),
            }
        }
        if let Some(target) = &want.default_route {
            let target = ctx.resolve(target)?;
            consistent(cloud, "create default route", || async {
                let req = cloud
                    .ec2
                    .create_route()
                    .route_table_id(rtb)
                    .destination_cidr_block(DEFAULT_ROUTE);
                let req = if target.starts_with("nat-") {
                    req.nat_gateway_id(&target)
                } else {
                    req.gateway_id(&target)
                };
                match call(|| req.clone().send()).await {
                    // A create whose answer was lost: done, if the route goes where we asked.
                    Err(e) if has_code(&e, "RouteAlreadyExists") => {
                        match default_route_target(cloud, rtb).await? {
                            Some(now) if now == target => Ok(()),
                            _ => Err(e),
                        }
                    }
                    other => other.map(|_| ()),
                }
            })
            .await?;
        }
    }
    // The subnets as they were: a subnet replaced create-first is a new one to associate, and
    // the old one's association is dropped.
    let have_subnets: Vec<String> = have
        .subnets
        .iter()
        .filter_map(|s| ctx.resolve_observed(s))
        .collect();
    let want_subnets = ctx.resolve_all(&want.subnets)?;
    for subnet in want_subnets.iter().filter(|s| !have_subnets.contains(s)) {
        // A subnet has one route table: one it moves from (fewer NAT gateways) is moved with
        // ReplaceRouteTableAssociation, at once and without a gap; AssociateRouteTable would
        // answer Resource.AlreadyAssociated.
        // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ReplaceRouteTableAssociation.html
        // Looked up and moved in one retried step: a table just created may not be known yet,
        // and the association may move (or go) meanwhile.
        consistent(cloud, "associate route table", || async {
            match association_of(cloud, subnet).await? {
                Some((_, table)) if table == rtb => Ok(()),
                Some((assoc, _)) => call(|| {
                    cloud
                        .ec2
                        .replace_route_table_association()
                        .association_id(assoc.clone())
                        .route_table_id(rtb)
                        .send()
                })
                .await
                .map(|_| ()),
                None => call(|| {
                    cloud
                        .ec2
                        .associate_route_table()
                        .route_table_id(rtb)
                        .subnet_id(subnet)
                        .send()
                })
                .await
                .map(|_| ()),
            }
        })
        .await?;
    }
    let stale: Vec<&String> = have_subnets
        .iter()
        .filter(|s| !want_subnets.contains(s))
        .collect();
    if !stale.is_empty() {
        for (assoc, subnet) in associations(cloud, rtb).await? {
            if stale.contains(&&subnet) {
                // Moved to another table meanwhile (ReplaceRouteTableAssociation): done.
                let out = call(|| {
                    cloud
                        .ec2
                        .disassociate_route_table()
                        .association_id(assoc.clone())
                        .send()
                })
                .await;
                match out {
                    Err(e) if is_not_found(&e) => {}
                    other => {
                        other?;
                    }
                }
            }
        }
    }
    Ok(())
}

/// (association id, route table id) of a subnet's explicit route table association, if any.
async fn association_of(
    cloud: &AwsCloud,
    subnet: &str,
) -> Result<Option<(String, String)>, CloudError> {
    let out = call(|| {
        cloud
            .ec2
            .describe_route_tables()
            .filters(
                Filter::builder()
                    .name("association.subnet-id")
                    .values(subnet)
                    .build(),
            )
            .send()
    })
    .await?;
    Ok(out
        .route_tables()
        .iter()
        .flat_map(|t| t.associations())
        .find(|a| a.subnet_id() == Some(subnet))
        .and_then(|a| {
            Some((
                a.route_table_association_id()?.to_string(),
                a.route_table_id()?.to_string(),
            ))
        }))
}

/// Where a route table's default route goes (a NAT gateway or internet gateway id), if it has one.
async fn default_route_target(cloud: &AwsCloud, rtb: &str) -> Result<Option<String>, CloudError> {
    let out = call(|| {
        cloud
            .ec2
            .describe_route_tables()
            .route_table_ids(rtb)
            .send()
    })
    .await?;
    Ok(out
        .route_tables()
        .iter()
        .flat_map(|t| t.routes())
        .find(|r| r.destination_cidr_block() == Some(DEFAULT_ROUTE))
        .and_then(|r| r.nat_gateway_id().or(r.gateway_id()))
        .map(String::from))
}

/// (association id, subnet id) of a route table's explicit subnet associations.
async fn associations(cloud: &AwsCloud, rtb: &str) -> Result<Vec<(String, String)>, CloudError> {
    let out = call(|| {
        cloud
            .ec2
            .describe_route_tables()
            .route_table_ids(rtb)
            .send()
    })
    .await?;
    Ok(out
        .route_tables()
        .iter()
        .flat_map(|t| t.associations())
        .filter_map(|a| {
            Some((
                a.route_table_association_id()?.to_string(),
                a.subnet_id()?.to_string(),
            ))
        })
        .collect())
}

pub async fn create_security_group(
    cloud: &AwsCloud,
    ctx: &OpContext<'_>,
    r: &SecurityGroup,
) -> Result<String, CloudError> {
    let vpc = ctx.resolve(&r.vpc)?;
    let out = consistent(cloud, "create security group", || async {
        call(|| {
            cloud
                .ec2
                .create_security_group()
                .group_name(&r.name)
                .description(&r.description)
                .vpc_id(&vpc)
                .tag_specifications(tag_spec(ctx, ResourceType::SecurityGroup, &r.name, &[]))
                .send()
        })
        .await
    })
    .await;
    let created = out.and_then(|out| {
        Ok(out
            .group_id()
            .ok_or_else(|| missing("GroupId"))?
            .to_string())
    });
    // Our earlier create went through but its answer was lost (or a killed run made it).
    adopt_if_exists(created, "InvalidGroup.Duplicate", || async {
        let filters = our_earlier_create(ctx, &vpc, "group-name", &r.name);
        let found = call(|| {
            cloud
                .ec2
                .describe_security_groups()
                .set_filters(Some(filters.clone()))
                .send()
        })
        .await?;
        found
            .security_groups()
            .first()
            .and_then(|g| g.group_id())
            .map(String::from)
            .ok_or_else(nothing_of_ours)
    })
    .await
}

pub async fn create_ingress_rule(
    cloud: &AwsCloud,
    ctx: &OpContext<'_>,
    r: &IngressRule,
) -> Result<String, CloudError> {
    let group = ctx.resolve(&r.group)?;
    let mut permission = IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(i32::from(r.port))
        .to_port(i32::from(r.port));
    permission = match &r.source {
        RuleSource::Group(source) => permission.user_id_group_pairs(
            UserIdGroupPair::builder()
                .group_id(ctx.resolve(source)?)
                .description(&r.description)
                .build(),
        ),
        RuleSource::Cidr(cidr) if cidr.contains(':') => permission.ipv6_ranges(
            Ipv6Range::builder()
                .cidr_ipv6(cidr)
                .description(&r.description)
                .build(),
        ),
        RuleSource::Cidr(cidr) => permission.ip_ranges(
            IpRange::builder()
                .cidr_ip(cidr)
                .description(&r.description)
                .build(),
        ),
    };
    let permission = permission.build();
    let name = ctx.id.to_string();
    let out = consistent(cloud, "authorize ingress", || async {
        call(|| {
            cloud
                .ec2
                .authorize_security_group_ingress()
                .group_id(&group)
                .ip_permissions(permission.clone())
                .tag_specifications(tag_spec(ctx, ResourceType::SecurityGroupRule, &name, &[]))
                .send()
        })
        .await
    })
    .await;
    let created = out.and_then(|out| {
        Ok(out
            .security_group_rules()
            .first()
            .and_then(|r| r.security_group_rule_id())
            .ok_or_else(|| missing("SecurityGroupRuleId"))?
            .to_string())
    });
    // The rule exists already (a lost answer): find its id by content.
    adopt_if_exists(created, "InvalidPermission.Duplicate", || async {
        let source = match &r.source {
            RuleSource::Group(g) => ctx.resolve(g)?,
            RuleSource::Cidr(c) => c.clone(),
        };
        let filter = Filter::builder().name("group-id").values(&group).build();
        let rules = call(|| {
            cloud
                .ec2
                .describe_security_group_rules()
                .filters(filter.clone())
                .send()
        })
        .await?;
        rules
            .security_group_rules()
            .iter()
            .filter(|x| x.is_egress() == Some(false) && x.from_port() == Some(i32::from(r.port)))
            .find(|x| {
                x.referenced_group_info().and_then(|g| g.group_id()) == Some(source.as_str())
                    || x.cidr_ipv4() == Some(source.as_str())
                    || x.cidr_ipv6() == Some(source.as_str())
            })
            .and_then(|x| x.security_group_rule_id())
            .map(String::from)
            .ok_or_else(nothing_of_ours)
    })
    .await
}

pub async fn update_rule_description(
    cloud: &AwsCloud,
    ctx: &OpContext<'_>,
    rule: &str,
    r: &IngressRule,
) -> Result<(), CloudError> {
    let group = ctx.resolve(&r.group)?;
    call(|| {
        cloud
            .ec2
            .update_security_group_rule_descriptions_ingress()
            .group_id(group.clone())
            .security_group_rule_descriptions(
                SecurityGroupRuleDescription::builder()
                    .security_group_rule_id(rule)
                    .description(&r.description)
                    .build(),
            )
            .send()
    })
    .await?;
    Ok(())
}

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

pub async fn delete_vpc(cloud: &AwsCloud, vpc: &str) -> Result<(), CloudError> {
    delete_retrying(cloud, &format!("delete VPC {vpc}"), || async {
        call(|| cloud.ec2.delete_vpc().vpc_id(vpc).send())
            .await
            .map(|_| ())
    })
    .await
}

pub async fn delete_subnet(cloud: &AwsCloud, subnet: &str) -> Result<(), CloudError> {
    delete_retrying(cloud, &format!("delete subnet {subnet}"), || async {
        call(|| cloud.ec2.delete_subnet().subnet_id(subnet).send())
            .await
            .map(|_| ())
    })
    .await
}

pub async fn delete_internet_gateway(
    cloud: &AwsCloud,
    ctx: &OpContext<'_>,
    igw: &str,
    have: &ObservedResource,
) -> Result<(), CloudError> {
    if let Resource::InternetGateway(g) = &have.resource {
        // Unattached: a run was killed between the create and the attach.
        if let Some(vpc) = ctx.resolve(&g.vpc).ok().filter(|v| !v.is_empty()) {
            // Detaching fails while public addresses (NAT, load balancer) are still mapped.
            delete_retrying(cloud, &format!("detach internet gateway {igw}"), || async {
                call(|| {
                    cloud
                        .ec2
                        .detach_internet_gateway()
                        .internet_gateway_id(igw)
                        .vpc_id(&vpc)
                        .send()
                })
                .await
                .map(|_| ())
                // Detached already: by an earlier attempt whose answer was lost, or a killed
                // run (terraform-provider-aws internal/service/ec2/vpc_internet_gateway.go,
                // detachInternetGateway, takes it as done too).
                .or_else(|e| match has_code(&e, "Gateway.NotAttached") {
                    true => Ok(()),
                    false => Err(e),
                })
            })
            .await?;
        }
    }
    delete_retrying(cloud, &format!("delete internet gateway {igw}"), || async {
        call(|| {
            cloud
                .ec2
                .delete_internet_gateway()
                .internet_gateway_id(igw)
                .send()
        })
        .await
        .map(|_| ())
    })
    .await
}

pub async fn release_elastic_ip(cloud: &AwsCloud, allocation: &str) -> Result<(), CloudError> {
    delete_retrying(
        cloud,
        &format!("release elastic IP {allocation}"),
        || async {
            call(|| cloud.ec2.release_address().allocation_id(allocation).send())
                .await
                .map(|_| ())
        },
    )
    .await
}

pub async fn delete_nat_gateway(cloud: &AwsCloud, nat: &str) -> Result<(), CloudError> {
    delete_retrying(cloud, &format!("delete NAT gateway {nat}"), || async {
        call(|| cloud.ec2.delete_nat_gateway().nat_gateway_id(nat).send())
            .await
            .map(|_| ())
    })
    .await?;
    // Its elastic IP can be released or reused only once the gateway is gone.
    wait_nat(cloud, nat, NatGatewayState::Deleted).await?;
    free_nat_addresses(cloud, nat).await
}

/// A deleted NAT gateway's Elastic IP is disassociated by AWS, not released
/// (https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-working-with.html); an address
/// still associated with the gone gateway's interface (moto keeps it so) is disassociated
/// here, so a replacement gateway can take it. On AWS this is one read that finds nothing.
async fn free_nat_addresses(cloud: &AwsCloud, nat: &str) -> Result<(), CloudError> {
    let Some(out) = found(
        call(|| {
            cloud
                .ec2
                .describe_nat_gateways()
                .nat_gateway_ids(nat)
                .send()
        })
        .await,
    )?
    else {
        return Ok(());
    };
    let held: Vec<(String, String)> = out
        .nat_gateways()
        .iter()
        .flat_map(|n| n.nat_gateway_addresses())
        .filter_map(|a| {
            Some((
                a.allocation_id()?.to_string(),
                a.network_interface_id()?.to_string(),
            ))
        })
        .collect();
    if held.is_empty() {
        return Ok(());
    }
    let Some(addresses) = found(
        call(|| {
            cloud
                .ec2
                .describe_addresses()
                .set_allocation_ids(Some(held.iter().map(|(a, _)| a.clone()).collect()))
                .send()
        })
        .await,
    )?
    else {
        return Ok(());
    };
    for address in addresses.addresses() {
        let still_held = held.iter().any(|(allocation, interface)| {
            address.allocation_id() == Some(allocation.as_str())
                && address.network_interface_id() == Some(interface.as_str())
        });
        let Some(association) = address.association_id().filter(|_| still_held) else {
            continue;
        };
        found(
            call(|| {
                cloud
                    .ec2
                    .disassociate_address()
                    .association_id(association)
                    .send()
            })
            .await,
        )?;
    }
    Ok(())
}

pub async fn delete_route_table(cloud: &AwsCloud, rtb: &str) -> Result<(), CloudError> {
    let assocs = match associations(cloud, rtb).await {
        Err(e) if is_not_found(&e) => return Ok(()),
        other => other?,
    };
    for (assoc, _) in assocs {
        match call(|| {
            cloud
                .ec2
                .disassociate_route_table()
                .association_id(assoc.clone())
                .send()
        })
        .await
        {
            Err(e) if !is_not_found(&e) => return Err(e),
            _ => {}
        }
    }
    delete_retrying(cloud, &format!("delete route table {rtb}"), || async {
        call(|| cloud.ec2.delete_route_table().route_table_id(rtb).send())
            .await
            .map(|_| ())
    })
    .await
}

pub async fn delete_security_group(cloud: &AwsCloud, group: &str) -> Result<(), CloudError> {
    delete_retrying(cloud, &format!("delete security group {group}"), || async {
        call(|| cloud.ec2.delete_security_group().group_id(group).send())
            .await
            .map(|_| ())
    })
    .await
}

pub async fn delete_ingress_rule(
    cloud: &AwsCloud,
    ctx: &OpContext<'_>,
    rule: &str,
    r: &IngressRule,
) -> Result<(), CloudError> {
    let Ok(group) = ctx.resolve(&r.group) else {
        return Ok(());
    };
    let res = call(|| {
        cloud
            .ec2
            .revoke_security_group_ingress()
            .group_id(group.clone())
            .security_group_rule_ids(rule)
            .send()
    })
    .await;
    match res {
        Ok(_) => Ok(()),
        Err(e) if is_not_found(&e) => Ok(()),
        Err(e) => Err(e),
    }
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

// ---------------------------------------------------------------- kinds (see `super::kinds`)

use super::kinds::{no_update_in_place, AwsKind};
use super::pacing::Family;
use crate::plan::schedule::OpKind;

impl AwsKind for Vpc {
    fn cost(op: OpKind) -> Vec<(Family, f64)> {
        vec![(
            Family::Ec2Mutate,
            if op == OpKind::Create { 2.0 } else { 1.0 },
        )]
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        create_vpc(cloud, ctx, self).await
    }
    async fn update(
        &self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        id: &str,
        have: &Self,
    ) -> Result<String, CloudError> {
        update_vpc(cloud, ctx, id, have, self)
            .await
            .map(|()| id.to_string())
    }
    async fn delete(
        have: &Self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        observed: &ObservedResource,
    ) -> Result<(), CloudError> {
        let _ = (have, ctx);
        delete_vpc(cloud, &observed.physical_id).await
    }
}

impl AwsKind for Subnet {
    fn cost(op: OpKind) -> Vec<(Family, f64)> {
        let _ = op;
        vec![(Family::Ec2Mutate, 1.0)]
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        create_subnet(cloud, ctx, self).await
    }
    async fn update(
        &self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        id: &str,
        have: &Self,
    ) -> Result<String, CloudError> {
        let _ = have;
        retag(cloud, ctx, id, &self.name)
            .await
            .map(|()| id.to_string())
    }
    async fn delete(
        have: &Self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        observed: &ObservedResource,
    ) -> Result<(), CloudError> {
        let _ = (have, ctx);
        delete_subnet(cloud, &observed.physical_id).await
    }
}

impl AwsKind for InternetGateway {
    fn cost(op: OpKind) -> Vec<(Family, f64)> {
        let _ = op;
        vec![(Family::Ec2Mutate, 2.0)]
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        create_internet_gateway(cloud, ctx, self).await
    }
    async fn update(
        &self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        id: &str,
        have: &Self,
    ) -> Result<String, CloudError> {
        update_internet_gateway(cloud, ctx, id, have, self)
            .await
            .map(|()| id.to_string())
    }
    async fn delete(
        have: &Self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        observed: &ObservedResource,
    ) -> Result<(), CloudError> {
        let _ = have;
        delete_internet_gateway(cloud, ctx, &observed.physical_id, observed).await
    }
}

impl AwsKind for ElasticIp {
    fn cost(op: OpKind) -> Vec<(Family, f64)> {
        let _ = op;
        vec![(Family::Ec2Mutate, 1.0)]
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        create_elastic_ip(cloud, ctx, self).await
    }
    async fn update(
        &self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        id: &str,
        have: &Self,
    ) -> Result<String, CloudError> {
        let _ = have;
        retag(cloud, ctx, id, &self.name)
            .await
            .map(|()| id.to_string())
    }
    async fn delete(
        have: &Self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        observed: &ObservedResource,
    ) -> Result<(), CloudError> {
        let _ = (have, ctx);
        release_elastic_ip(cloud, &observed.physical_id).await
    }
}

impl AwsKind for NatGateway {
    fn cost(op: OpKind) -> Vec<(Family, f64)> {
        let _ = op;
        vec![(Family::Ec2NatGateway, 1.0)]
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        create_nat_gateway(cloud, ctx, self).await
    }
    async fn update(
        &self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        id: &str,
        have: &Self,
    ) -> Result<String, CloudError> {
        let _ = have;
        retag(cloud, ctx, id, &self.name)
            .await
            .map(|()| id.to_string())
    }
    async fn delete(
        have: &Self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        observed: &ObservedResource,
    ) -> Result<(), CloudError> {
        let _ = (have, ctx);
        delete_nat_gateway(cloud, &observed.physical_id).await
    }
}

impl AwsKind for RouteTable {
    fn cost(op: OpKind) -> Vec<(Family, f64)> {
        vec![(
            Family::Ec2Mutate,
            if op == OpKind::Create { 4.0 } else { 2.0 },
        )]
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        create_route_table(cloud, ctx, self).await
    }
    async fn update(
        &self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        id: &str,
        have: &Self,
    ) -> Result<String, CloudError> {
        update_route_table(cloud, ctx, id, have, self)
            .await
            .map(|()| id.to_string())
    }
    async fn delete(
        have: &Self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        observed: &ObservedResource,
    ) -> Result<(), CloudError> {
        let _ = (have, ctx);
        delete_route_table(cloud, &observed.physical_id).await
    }
}

impl AwsKind for SecurityGroup {
    fn cost(op: OpKind) -> Vec<(Family, f64)> {
        let _ = op;
        vec![(Family::Ec2Mutate, 1.0)]
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        create_security_group(cloud, ctx, self).await
    }
    async fn update(
        &self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        id: &str,
        have: &Self,
    ) -> Result<String, CloudError> {
        let _ = (cloud, id, have);
        Err(no_update_in_place(Kind::SecurityGroup, ctx))
    }
    async fn delete(
        have: &Self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        observed: &ObservedResource,
    ) -> Result<(), CloudError> {
        let _ = (have, ctx);
        delete_security_group(cloud, &observed.physical_id).await
    }
}

impl AwsKind for IngressRule {
    fn cost(op: OpKind) -> Vec<(Family, f64)> {
        let _ = op;
        vec![(Family::Ec2Ingress, 1.0)]
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        create_ingress_rule(cloud, ctx, self).await
    }
    async fn update(
        &self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        id: &str,
        have: &Self,
    ) -> Result<String, CloudError> {
        let _ = have;
        update_rule_description(cloud, ctx, id, self)
            .await
            .map(|()| id.to_string())
    }
    async fn delete(
        have: &Self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        observed: &ObservedResource,
    ) -> Result<(), CloudError> {
        delete_ingress_rule(cloud, ctx, &observed.physical_id, have).await
    }
}
