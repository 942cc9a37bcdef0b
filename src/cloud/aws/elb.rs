//! ELBv2: the internet-facing ALB, target groups, listeners and path/method rules.

use super::errors::{aws_err, has_code, missing};
use super::ops::{adopt_if_exists, delete_retrying, gone_is_done, nothing_of_ours};
use super::ownership::is_ours;
use super::ownership::{owned_by, scoped, tag_map, Found};
use super::retry::wait_until;
use super::settle::call;
use super::{ownership_tags, AwsCloud};
use crate::cloud::{CloudError, OpContext};
use crate::model::*;
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, Certificate, EnforceSecurityGroupInboundRulesOnPrivateLinkTrafficEnum,
    FixedResponseActionConfig, HttpRequestMethodConditionConfig, IpAddressType,
    LoadBalancerSchemeEnum, LoadBalancerStateEnum, LoadBalancerTypeEnum,
    PathPatternConditionConfig, ProtocolEnum, RedirectActionConfig, RedirectActionStatusCodeEnum,
    RuleCondition, RulePriorityPair, Tag, TargetTypeEnum,
};
use std::collections::BTreeMap;

fn tags(ctx: &OpContext<'_>, name: &str) -> Vec<Tag> {
    ownership_tags(ctx, name)
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

pub async fn create_load_balancer(
    cloud: &AwsCloud,
    ctx: &OpContext<'_>,
    r: &LoadBalancer,
) -> Result<String, CloudError> {
    let subnets = ctx.resolve_all(&r.subnets)?;
    let groups = ctx.resolve_all(&r.security_groups)?;
    let out = call(|| {
        cloud
            .elb
            .create_load_balancer()
            .name(&r.name)
            .set_subnets(Some(subnets.clone()))
            .set_security_groups(Some(groups.clone()))
            .scheme(if r.internal {
                LoadBalancerSchemeEnum::Internal
            } else {
                LoadBalancerSchemeEnum::InternetFacing
            })
            .r#type(match r.lb_type {
                LoadBalancerType::Application => LoadBalancerTypeEnum::Application,
                LoadBalancerType::Network => LoadBalancerTypeEnum::Network,
            })
            .ip_address_type(IpAddressType::Ipv4)
            .set_tags(Some(tags(ctx, &r.name)))
            .send()
    })
    .await?;
    let created = out.load_balancers().first();
    let arn = created
        .and_then(|l| l.load_balancer_arn())
        .ok_or_else(|| missing("LoadBalancerArn"))?
        .to_string();
    if let Some(dns) = created.and_then(|l| l.dns_name()) {
        cloud.remember(&dns_key(&arn), dns);
    }
    if r.private_link_inbound_rules.is_some() {
        set_security_groups(cloud, ctx, &arn, r).await?;
    }
    Ok(arn)
}

/// The groups, and for a network load balancer whether they filter PrivateLink traffic too: a
/// setting only `SetSecurityGroups` takes
/// (https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-security-groups.html).
async fn set_security_groups(
    cloud: &AwsCloud,
    ctx: &OpContext<'_>,
    arn: &str,
    r: &LoadBalancer,
) -> Result<(), CloudError> {
    let groups = ctx.resolve_all(&r.security_groups)?;
    call(|| {
        cloud
            .elb
            .set_security_groups()
            .load_balancer_arn(arn)
            .set_security_groups(Some(groups.clone()))
            .set_enforce_security_group_inbound_rules_on_private_link_traffic(
                r.private_link_inbound_rules.map(|on| {
                    if on {
                        EnforceSecurityGroupInboundRulesOnPrivateLinkTrafficEnum::On
                    } else {
                        EnforceSecurityGroupInboundRulesOnPrivateLinkTrafficEnum::Off
                    }
                }),
            )
            .send()
    })
    .await?;
    Ok(())
}

/// Waits until a load balancer is `active`. Only what AWS refuses on a `provisioning` one waits
/// here (a REST VPC link to an NLB); listeners, rules, target registration and ECS services
/// are accepted while it provisions
/// (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#load-balancer-state),
/// so its create does not wait: provisioning (minutes) overlaps everything after it.
pub async fn wait_active(cloud: &AwsCloud, arn: &str, name: &str) -> Result<(), CloudError> {
    wait_until(
        &format!("load balancer {name}"),
        cloud.timeouts.provisioning,
        || async {
            let out = describe_one(cloud, arn).await?;
            match out
                .load_balancers()
                .first()
                .and_then(|l| l.state())
                .and_then(|s| s.code())
            {
                Some(LoadBalancerStateEnum::Active) => Ok(None),
                Some(LoadBalancerStateEnum::Failed) => Err(CloudError::Other(format!(
                    "load balancer {name} failed to provision"
                ))),
                Some(other) => Ok(Some(other.as_str().to_string())),
                None => Ok(Some("not visible yet".into())),
            }
        },
    )
    .await
}

async fn describe_one(
    cloud: &AwsCloud,
    arn: &str,
) -> Result<
    aws_sdk_elasticloadbalancingv2::operation::describe_load_balancers::DescribeLoadBalancersOutput,
    CloudError,
> {
    call(|| {
        cloud
            .elb
            .describe_load_balancers()
            .load_balancer_arns(arn)
            .send()
    })
    .await
}

fn dns_key(arn: &str) -> String {
    format!("elb-dns:{arn}")
}

/// A load balancer's DNS name (fixed for its lifetime): remembered from its create or a read.
pub async fn dns_name(cloud: &AwsCloud, arn: &str) -> Result<String, CloudError> {
    if let Some(dns) = cloud.recall(&dns_key(arn)) {
        return Ok(dns);
    }
    let out = describe_one(cloud, arn).await?;
    let dns = out
        .load_balancers()
        .first()
        .and_then(|l| l.dns_name())
        .ok_or_else(|| missing("DNSName"))?
        .to_string();
    cloud.remember(&dns_key(arn), &dns);
    Ok(dns)
}

pub async fn update_load_balancer(
    cloud: &AwsCloud,
    ctx: &OpContext<'_>,
    arn: &str,
    r: &LoadBalancer,
) -> Result<(), CloudError> {
    let target = ctx.resolve_all(&r.subnets)?;
    let lists = match r.lb_type {
        LoadBalancerType::Application => vec![target],
        LoadBalancerType::Network => nlb_subnet_lists(cloud, arn, target).await?,
    };
    let last = lists.len().saturating_sub(1);
    for (i, subnets) in lists.into_iter().enumerate() {
        let set = call(|| {
            cloud
                .elb
                .set_subnets()
                .load_balancer_arn(arn)
                .set_subnets(Some(subnets.clone()))
                .send()
        })
        .await;
        match set {
            // An emulator holds network load balancers to the two zones of an application load
            // balancer and refuses the one-zone list in between: straight to the last list.
            Err(e) if i < last && has_code(&e, "InvalidConfigurationRequest") => continue,
            other => other?,
        };
    }
    set_security_groups(cloud, ctx, arn, r).await
}

/// A network load balancer cannot swap the subnet of a zone in one `SetSubnets` call: the old
/// subnet must be removed first, then the new one added, as two actions
/// (https://docs.aws.amazon.com/elasticloadbalancing/latest/network/availability-zones.html,
/// "Considerations"). The lists to set, in order, from its zones now and the new subnets' zones.
async fn nlb_subnet_lists(
    cloud: &AwsCloud,
    arn: &str,
    target: Vec<String>,
) -> Result<Vec<Vec<String>>, CloudError> {
    let described = call(|| {
        cloud
            .elb
            .describe_load_balancers()
            .load_balancer_arns(arn)
            .send()
    })
    .await?;
    let current: Vec<(String, String)> = described
        .load_balancers()
        .first()
        .map(|l| l.availability_zones())
        .unwrap_or_default()
        .iter()
        .filter_map(|z| Some((z.zone_name()?.to_string(), z.subnet_id()?.to_string())))
        .collect();
    let subnets = call(|| {
        cloud
            .ec2
            .describe_subnets()
            .set_subnet_ids(Some(target.clone()))
            .send()
    })
    .await?;
    let zone_of: BTreeMap<&str, &str> = subnets
        .subnets()
        .iter()
        .filter_map(|s| Some((s.subnet_id()?, s.availability_zone()?)))
        .collect();
    let mut wanted = Vec::with_capacity(target.len());
    for subnet in &target {
        let zone = zone_of
            .get(subnet.as_str())
            .ok_or_else(|| missing("Subnets[].AvailabilityZone"))?;
        wanted.push((zone.to_string(), subnet.clone()));
    }
    Ok(zone_swaps(&current, &wanted))
}

/// The `SetSubnets` lists that take a network load balancer from `current` to `wanted` (both
/// `(zone, subnet)`): for each zone whose subnet changes, one list without the old subnet, then
/// one with the new; the last list is always `wanted`. A load balancer whose only zone swaps
/// cannot go through an empty list: it gets `wanted` at once and AWS has the last word.
pub(crate) fn zone_swaps(
    current: &[(String, String)],
    wanted: &[(String, String)],
) -> Vec<Vec<String>> {
    let mut now: Vec<(String, String)> = current.to_vec();
    let mut lists = Vec::new();
    for (zone, subnet) in wanted {
        let Some(pos) = now.iter().position(|(z, s)| z == zone && s != subnet) else {
            continue;
        };
        let without: Vec<(String, String)> = now
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != pos)
            .map(|(_, p)| p.clone())
            .collect();
        if without.is_empty() {
            break;
        }
        lists.push(without.iter().map(|(_, s)| s.clone()).collect());
        now = without;
        now.push((zone.clone(), subnet.clone()));
        lists.push(now.iter().map(|(_, s)| s.clone()).collect());
    }
    let last: Vec<String> = wanted.iter().map(|(_, s)| s.clone()).collect();
    let same_set = |a: &Vec<String>| {
        let mut a = a.clone();
        let mut b = last.clone();
        a.sort();
        b.sort();
        a == b
    };
    if !lists.last().is_some_and(same_set) {
        lists.push(last);
    }
    lists
}

pub async fn delete_load_balancer(cloud: &AwsCloud, arn: &str) -> Result<(), CloudError> {
    gone_is_done(
        call(|| {
            cloud
                .elb
                .delete_load_balancer()
                .load_balancer_arn(arn)
                .send()
        })
        .await,
    )
}

pub async fn create_target_group(
    cloud: &AwsCloud,
    ctx: &OpContext<'_>,
    r: &TargetGroup,
) -> Result<String, CloudError> {
    let vpc = ctx.resolve(&r.vpc)?;
    let out = call(|| {
        cloud
            .elb
            .create_target_group()
            .name(&r.name)
            .protocol(protocol(&r.protocol))
            .port(i32::from(r.port))
            .vpc_id(vpc.clone())
            .target_type(TargetTypeEnum::Ip)
            .health_check_protocol(ProtocolEnum::Http)
            .health_check_path(&r.health_check_path)
            .health_check_port(health_check_port(r))
            .set_tags(Some(tags(ctx, &r.name)))
            .send()
    })
    .await;
    let created = out.and_then(|out| {
        out.target_groups()
            .first()
            .and_then(|t| t.target_group_arn())
            .map(String::from)
            .ok_or_else(|| missing("TargetGroupArn"))
    });
    // AWS answers an identical repeat with the existing group; an emulator may refuse it.
    adopt_if_exists(created, "DuplicateTargetGroupName", || async {
        let found = call(|| cloud.elb.describe_target_groups().names(&r.name).send()).await?;
        let arn = found
            .target_groups()
            .first()
            .and_then(|t| t.target_group_arn())
            .map(String::from)
            .ok_or_else(nothing_of_ours)?;
        let tags = read_tags(cloud, std::slice::from_ref(&arn)).await?;
        match tags.get(&arn) {
            Some(t) if owned_by(t, ctx.stack) => Ok(arn),
            _ => Err(nothing_of_ours()),
        }
    })
    .await
}

pub async fn update_target_group(
    cloud: &AwsCloud,
    arn: &str,
    r: &TargetGroup,
) -> Result<(), CloudError> {
    call(|| {
        cloud
            .elb
            .modify_target_group()
            .target_group_arn(arn)
            .health_check_path(&r.health_check_path)
            .health_check_port(health_check_port(r))
            .send()
    })
    .await?;
    Ok(())
}

/// AWS names the traffic port `traffic-port`, any other port by its number.
/// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html
fn health_check_port(r: &TargetGroup) -> String {
    r.health_check_port
        .map_or_else(|| TRAFFIC_PORT.to_string(), |p| p.to_string())
}
const TRAFFIC_PORT: &str = "traffic-port";

pub async fn delete_target_group(cloud: &AwsCloud, arn: &str) -> Result<(), CloudError> {
    // ResourceInUse until the listeners and rules forwarding to it are gone.
    delete_retrying(cloud, &format!("delete target group {arn}"), || async {
        call(|| cloud.elb.delete_target_group().target_group_arn(arn).send())
            .await
            .map(|_| ())
    })
    .await
}

fn action(ctx: &OpContext<'_>, a: &ListenerAction) -> Result<Action, CloudError> {
    Ok(match a {
        ListenerAction::Forward { target_group } => Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .target_group_arn(ctx.resolve(target_group)?)
            .build(),
        ListenerAction::Redirect { port, protocol } => Action::builder()
            .r#type(ActionTypeEnum::Redirect)
            .redirect_config(
                RedirectActionConfig::builder()
                    .protocol(protocol)
                    .port(port.to_string())
                    .status_code(RedirectActionStatusCodeEnum::Http301)
                    .build(),
            )
            .build(),
        ListenerAction::FixedResponse { status } => Action::builder()
            .r#type(ActionTypeEnum::FixedResponse)
            .fixed_response_config(
                FixedResponseActionConfig::builder()
                    .status_code(status.to_string())
                    .content_type("text/plain")
                    .build(),
            )
            .build(),
    })
}

fn protocol(p: &str) -> ProtocolEnum {
    ProtocolEnum::from(p)
}

pub async fn create_listener(
    cloud: &AwsCloud,
    ctx: &OpContext<'_>,
    r: &Listener,
) -> Result<String, CloudError> {
    let certificates: Vec<Certificate> = r
        .certificate_arn
        .iter()
        .map(|c| Certificate::builder().certificate_arn(c).build())
        .collect();
    let load_balancer = ctx.resolve(&r.load_balancer)?;
    let default_action = action(ctx, &r.default_action)?;
    let out = call(|| {
        cloud
            .elb
            .create_listener()
            .load_balancer_arn(load_balancer.clone())
            .port(i32::from(r.port))
            .protocol(protocol(&r.protocol))
            .set_certificates(Some(certificates.clone()))
            .default_actions(default_action.clone())
            .set_tags(Some(tags(ctx, &ctx.id.to_string())))
            .send()
    })
    .await;
    let created = out.and_then(|out| {
        out.listeners()
            .first()
            .and_then(|l| l.listener_arn())
            .map(String::from)
            .ok_or_else(|| missing("ListenerArn"))
    });
    // A listener on this port of our load balancer exists already (a lost answer): adopt it,
    // the next plan corrects whatever differs.
    adopt_if_exists(created, "DuplicateListener", || async {
        let load_balancer = ctx.resolve(&r.load_balancer)?;
        let found = call(|| {
            cloud
                .elb
                .describe_listeners()
                .load_balancer_arn(load_balancer.clone())
                .send()
        })
        .await?;
        found
            .listeners()
            .iter()
            .find(|l| l.port() == Some(i32::from(r.port)))
            .and_then(|l| l.listener_arn())
            .map(String::from)
            .ok_or_else(nothing_of_ours)
    })
    .await
}

pub async fn update_listener(
    cloud: &AwsCloud,
    ctx: &OpContext<'_>,
    arn: &str,
    r: &Listener,
) -> Result<(), CloudError> {
    let certificates: Vec<Certificate> = r
        .certificate_arn
        .iter()
        .map(|c| Certificate::builder().certificate_arn(c).build())
        .collect();
    let default_action = action(ctx, &r.default_action)?;
    call(|| {
        cloud
            .elb
            .modify_listener()
            .listener_arn(arn)
            .port(i32::from(r.port))
            .protocol(protocol(&r.protocol))
            .set_certificates(Some(certificates.clone()))
            .default_actions(default_action.clone())
            .send()
    })
    .await?;
    Ok(())
}

pub async fn delete_listener(cloud: &AwsCloud, arn: &str) -> Result<(), CloudError> {
    gone_is_done(call(|| cloud.elb.delete_listener().listener_arn(arn).send()).await)
}

fn conditions(r: &ListenerRule) -> Vec<RuleCondition> {
    let mut out = vec![RuleCondition::builder()
        .field("path-pattern")
        .path_pattern_config(
            PathPatternConditionConfig::builder()
                .set_values(Some(r.path_patterns.clone()))
                .build(),
        )
        .build()];
    if !r.methods.is_empty() {
        out.push(
            RuleCondition::builder()
                .field("http-request-method")
                .http_request_method_config(
                    HttpRequestMethodConditionConfig::builder()
                        .set_values(Some(r.methods.clone()))
                        .build(),
                )
                .build(),
        );
    }
    out
}

pub async fn create_rule(
    cloud: &AwsCloud,
    ctx: &OpContext<'_>,
    r: &ListenerRule,
) -> Result<String, CloudError> {
    let forward = ListenerAction::Forward {
        target_group: r.target_group.clone(),
    };
    let listener = ctx.resolve(&r.listener)?;
    let forward_action = action(ctx, &forward)?;
    let created = call(|| {
        cloud
            .elb
            .create_rule()
            .listener_arn(listener.clone())
            .priority(r.priority as i32)
            .set_conditions(Some(conditions(r)))
            .actions(forward_action.clone())
            .set_tags(Some(tags(ctx, &ctx.id.to_string())))
            .send()
    })
    .await
    .and_then(|out| {
        out.rules()
            .first()
            .and_then(|r| r.rule_arn())
            .map(String::from)
            .ok_or_else(|| missing("RuleArn"))
    });
    // A create whose answer was lost: the rule at this priority is ours if it carries our tags.
    adopt_if_exists(created, "PriorityInUse", || async {
        let priority = r.priority.to_string();
        let mut marker = None;
        let arn = loop {
            let page = call(|| {
                cloud
                    .elb
                    .describe_rules()
                    .listener_arn(&listener)
                    .page_size(400)
                    .set_marker(marker.clone())
                    .send()
            })
            .await?;
            let at = page
                .rules()
                .iter()
                .find(|rule| rule.priority() == Some(&priority));
            if let Some(arn) = at.and_then(|rule| rule.rule_arn()) {
                break arn.to_string();
            }
            match page.next_marker() {
                Some(next) if !next.is_empty() => marker = Some(next.to_string()),
                _ => return Err(nothing_of_ours()),
            }
        };
        let tags = read_tags(cloud, std::slice::from_ref(&arn)).await?;
        match tags.get(&arn) {
            Some(tags) if is_ours(tags, ctx) => Ok(arn),
            _ => Err(nothing_of_ours()),
        }
    })
    .await
}

pub async fn update_rule(
    cloud: &AwsCloud,
    ctx: &OpContext<'_>,
    arn: &str,
    have: &ListenerRule,
    want: &ListenerRule,
) -> Result<(), CloudError> {
    if have.priority != want.priority {
        let pair = RulePriorityPair::builder()
            .rule_arn(arn)
            .priority(want.priority as i32)
            .build();
        call(|| {
            cloud
                .elb
                .set_rule_priorities()
                .rule_priorities(pair.clone())
                .send()
        })
        .await?;
    }
    let forward = ListenerAction::Forward {
        target_group: want.target_group.clone(),
    };
    let forward_action = action(ctx, &forward)?;
    call(|| {
        cloud
            .elb
            .modify_rule()
            .rule_arn(arn)
            .set_conditions(Some(conditions(want)))
            .actions(forward_action.clone())
            .send()
    })
    .await?;
    Ok(())
}

pub async fn delete_rule(cloud: &AwsCloud, arn: &str) -> Result<(), CloudError> {
    gone_is_done(call(|| cloud.elb.delete_rule().rule_arn(arn).send()).await)
}

/// Load balancers and target groups are found by ownership: names start with `<stack>-` (so only
/// those need a tag read, twenty per call) and the tags say the stack. Listeners and rules are
/// owned through their load balancer.
pub async fn observe(cloud: &AwsCloud, stack: &str) -> Result<Found, CloudError> {
    let prefix = format!("{stack}-");
    let (lbs, groups) = tokio::try_join!(
        async {
            let mut all = Vec::new();
            let mut pages = cloud.elb.describe_load_balancers().into_paginator().send();
            while let Some(page) = pages.next().await {
                all.extend(
                    page.map_err(aws_err)?
                        .load_balancers()
                        .iter()
                        .filter(|l| {
                            l.load_balancer_name()
                                .is_some_and(|n| n.starts_with(&prefix))
                        })
                        .cloned(),
                );
            }
            Ok(all)
        },
        async {
            let mut all = Vec::new();
            let mut pages = cloud.elb.describe_target_groups().into_paginator().send();
            while let Some(page) = pages.next().await {
                all.extend(page.map_err(aws_err)?.target_groups().to_vec());
            }
            Ok(all)
        },
    )?;
    // Target group names start with `<stack>-` (shortened ones too): only those need a tag read.
    let mut candidates: BTreeMap<String, _> = BTreeMap::new();
    for g in groups {
        if let (Some(arn), Some(name)) = (g.target_group_arn(), g.target_group_name()) {
            if name.starts_with(&prefix) {
                candidates.insert(arn.to_string(), g.clone());
            }
        }
    }
    let mut arns: Vec<String> = candidates.keys().cloned().collect();
    arns.extend(
        lbs.iter()
            .filter_map(|l| l.load_balancer_arn())
            .map(String::from),
    );
    // Round two, in parallel: tags, and the listeners and rules of the load balancer (kept only
    // if its tags say it is ours).
    let listener_reads = lbs
        .iter()
        .filter_map(|l| l.load_balancer_arn())
        .map(|arn| async move {
            let mut part = Found::new(stack);
            observe_listeners(cloud, arn, &mut part).await?;
            Ok::<_, CloudError>((arn.to_string(), part))
        });
    let (tags, listeners) = tokio::try_join!(
        read_tags(cloud, &arns),
        futures::future::try_join_all(listener_reads)
    )?;
    let mut listeners: BTreeMap<String, Found> = listeners.into_iter().collect();
    let mut found = Found::new(stack);
    for (arn, g) in &candidates {
        let Some(t) = tags.get(arn).filter(|t| owned_by(t, stack)) else {
            continue;
        };
        found.add(t, Some(arn), |_| {
            Resource::TargetGroup(TargetGroup {
                name: g.target_group_name().unwrap_or_default().into(),
                vpc: Ref::Unowned(g.vpc_id().unwrap_or_default().into()),
                port: g.port().and_then(|p| u16::try_from(p).ok()).unwrap_or(0),
                protocol: g
                    .protocol()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_default(),
                health_check_path: g.health_check_path().unwrap_or_default().into(),
                health_check_port: g
                    .health_check_port()
                    .filter(|p| *p != TRAFFIC_PORT)
                    .and_then(|p| p.parse().ok()),
            })
        });
        // CloudWatch alarms name it by its metric dimension.
        if let (Some(dim), Some(id)) = (
            super::cloudwatch::target_group_dimension(arn),
            t.get(TAG_ID),
        ) {
            found.alias(dim, &ResourceId::new(id));
        }
    }
    for lb in &lbs {
        let Some(arn) = lb.load_balancer_arn() else {
            continue;
        };
        let Some(t) = tags.get(arn).filter(|t| owned_by(t, stack)) else {
            continue;
        };
        found.add(t, Some(arn), |_| {
            let mut subnets: Vec<Ref> = lb
                .availability_zones()
                .iter()
                .filter_map(|z| z.subnet_id())
                .map(|s| Ref::Unowned(s.into()))
                .collect();
            subnets.sort();
            Resource::LoadBalancer(LoadBalancer {
                name: lb.load_balancer_name().unwrap_or_default().into(),
                lb_type: if lb.r#type() == Some(&LoadBalancerTypeEnum::Network) {
                    LoadBalancerType::Network
                } else {
                    LoadBalancerType::Application
                },
                internal: lb.scheme() == Some(&LoadBalancerSchemeEnum::Internal),
                subnets,
                security_groups: lb
                    .security_groups()
                    .iter()
                    .map(|s| Ref::Unowned(s.clone()))
                    .collect(),
                // A setting of network load balancers only.
                private_link_inbound_rules: lb
                    .enforce_security_group_inbound_rules_on_private_link_traffic()
                    .filter(|_| lb.r#type() == Some(&LoadBalancerTypeEnum::Network))
                    .map(|on| on == "on"),
            })
        });
        if let (Some(dim), Some(id)) = (
            super::cloudwatch::load_balancer_dimension(arn),
            t.get(TAG_ID),
        ) {
            found.alias(dim, &ResourceId::new(id));
        }
        // API integrations name the load balancer by its DNS name.
        if let (Some(dns), Some(id)) = (lb.dns_name(), t.get(TAG_ID)) {
            found.alias(dns, &ResourceId::new(id));
            cloud.remember(&dns_key(arn), dns);
        }
        if let Some(part) = listeners.remove(arn) {
            found.items.extend(part.items);
        }
    }
    Ok(found)
}

async fn read_tags(
    cloud: &AwsCloud,
    arns: &[String],
) -> Result<BTreeMap<String, BTreeMap<String, String>>, CloudError> {
    let reads = arns.chunks(20).map(|chunk| async move {
        call(|| {
            cloud
                .elb
                .describe_tags()
                .set_resource_arns(Some(chunk.to_vec()))
                .send()
        })
        .await
    });
    let mut out = BTreeMap::new();
    for page in futures::future::try_join_all(reads).await? {
        for d in page.tag_descriptions() {
            if let Some(arn) = d.resource_arn() {
                out.insert(
                    arn.to_string(),
                    tag_map(d.tags().iter().map(|t| (t.key(), t.value()))),
                );
            }
        }
    }
    Ok(out)
}

fn read_action(a: Option<&Action>) -> ListenerAction {
    let Some(a) = a else {
        return ListenerAction::FixedResponse { status: 0 };
    };
    match a.r#type() {
        Some(ActionTypeEnum::Redirect) => {
            let c = a.redirect_config();
            ListenerAction::Redirect {
                port: c
                    .and_then(|c| c.port())
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(0),
                protocol: c.and_then(|c| c.protocol()).unwrap_or_default().into(),
            }
        }
        Some(ActionTypeEnum::FixedResponse) => ListenerAction::FixedResponse {
            status: a
                .fixed_response_config()
                .and_then(|c| c.status_code()?.parse().ok())
                .unwrap_or(0),
        },
        _ => ListenerAction::Forward {
            target_group: Ref::Unowned(
                a.target_group_arn()
                    .or_else(|| {
                        a.forward_config()
                            .and_then(|f| f.target_groups().first())
                            .and_then(|t| t.target_group_arn())
                    })
                    .unwrap_or_default()
                    .into(),
            ),
        },
    }
}

async fn observe_listeners(
    cloud: &AwsCloud,
    lb_arn: &str,
    found: &mut Found,
) -> Result<(), CloudError> {
    // Both lists are paged (Marker / NextMarker, at most 400 a page): every page is followed
    // (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeRules.html).
    let listeners = cloud
        .elb
        .describe_listeners()
        .load_balancer_arn(lb_arn)
        .page_size(400)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(aws_err)?;
    let rule_reads = listeners
        .iter()
        .filter_map(|l| l.listener_arn())
        .map(|arn| async move {
            let mut rules = Vec::new();
            let mut marker = None;
            loop {
                let page = call(|| {
                    cloud
                        .elb
                        .describe_rules()
                        .listener_arn(arn)
                        .page_size(400)
                        .set_marker(marker.clone())
                        .send()
                })
                .await?;
                rules.extend(page.rules().iter().cloned());
                match page.next_marker() {
                    Some(next) if !next.is_empty() => marker = Some(next.to_string()),
                    _ => return Ok::<_, CloudError>(rules),
                }
            }
        });
    let rule_sets = futures::future::try_join_all(rule_reads).await?;
    for (l, rules) in listeners.iter().zip(rule_sets) {
        let (Some(arn), Some(port)) = (
            l.listener_arn(),
            l.port().and_then(|p| u16::try_from(p).ok()),
        ) else {
            continue;
        };
        found.items.push(scoped(
            Resource::Listener(Listener {
                load_balancer: Ref::Unowned(lb_arn.into()),
                port,
                protocol: l
                    .protocol()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_default(),
                certificate_arn: l
                    .certificates()
                    .first()
                    .and_then(|c| c.certificate_arn())
                    .map(String::from),
                default_action: read_action(l.default_actions().first()),
            }),
            arn,
        ));
        for rule in rules.iter().filter(|r| r.is_default() != Some(true)) {
            let Some(priority) = rule.priority().and_then(|p| p.parse::<u32>().ok()) else {
                continue;
            };
            let Some(rule_arn) = rule.rule_arn() else {
                continue;
            };
            let values = |field: &str| -> Vec<String> {
                rule.conditions()
                    .iter()
                    .filter(|c| c.field() == Some(field))
                    .flat_map(|c| {
                        let mut v: Vec<String> = c.values().to_vec();
                        if let Some(p) = c.path_pattern_config() {
                            v.extend(p.values().iter().cloned());
                        }
                        if let Some(m) = c.http_request_method_config() {
                            v.extend(m.values().iter().cloned());
                        }
                        v
                    })
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect()
            };
            let target = match read_action(rule.actions().first()) {
                ListenerAction::Forward { target_group } => target_group,
                other => Ref::Unowned(format!("{other:?}")),
            };
            found.items.push(scoped(
                Resource::ListenerRule(ListenerRule {
                    listener: Ref::Unowned(arn.into()),
                    priority,
                    path_patterns: values("path-pattern"),
                    methods: values("http-request-method"),
                    target_group: target,
                }),
                rule_arn,
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- kinds (see `super::kinds`)

use super::kinds::AwsKind;
use super::pacing::Family;
use crate::plan::schedule::OpKind;

impl AwsKind for LoadBalancer {
    fn cost(op: OpKind) -> Vec<(Family, f64)> {
        if op == OpKind::Create {
            vec![
                (Family::ElbCreateLoadBalancer, 1.0),
                (Family::ElbAccount, 1.0),
            ]
        } else {
            vec![(Family::ElbMutate, 1.0), (Family::ElbAccount, 1.0)]
        }
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        create_load_balancer(cloud, ctx, self).await
    }
    async fn update(
        &self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        id: &str,
        have: &Self,
    ) -> Result<String, CloudError> {
        let _ = have;
        update_load_balancer(cloud, ctx, id, self)
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
        delete_load_balancer(cloud, &observed.physical_id).await
    }
}

impl AwsKind for TargetGroup {
    fn cost(op: OpKind) -> Vec<(Family, f64)> {
        let _ = op;
        vec![(Family::ElbMutate, 1.0), (Family::ElbAccount, 1.0)]
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        create_target_group(cloud, ctx, self).await
    }
    async fn update(
        &self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        id: &str,
        have: &Self,
    ) -> Result<String, CloudError> {
        let _ = (ctx, have);
        update_target_group(cloud, id, self)
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
        delete_target_group(cloud, &observed.physical_id).await
    }
}

impl AwsKind for Listener {
    fn cost(op: OpKind) -> Vec<(Family, f64)> {
        let _ = op;
        vec![(Family::ElbMutate, 1.0), (Family::ElbAccount, 1.0)]
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        create_listener(cloud, ctx, self).await
    }
    async fn update(
        &self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        id: &str,
        have: &Self,
    ) -> Result<String, CloudError> {
        let _ = have;
        update_listener(cloud, ctx, id, self)
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
        delete_listener(cloud, &observed.physical_id).await
    }
}

impl AwsKind for ListenerRule {
    fn cost(op: OpKind) -> Vec<(Family, f64)> {
        let _ = op;
        vec![(Family::ElbMutate, 1.0), (Family::ElbAccount, 1.0)]
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        create_rule(cloud, ctx, self).await
    }
    async fn update(
        &self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        id: &str,
        have: &Self,
    ) -> Result<String, CloudError> {
        update_rule(cloud, ctx, id, have, self)
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
        delete_rule(cloud, &observed.physical_id).await
    }
}

#[cfg(test)]
mod tests {
    use super::zone_swaps;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(z, s)| (z.to_string(), s.to_string()))
            .collect()
    }

    #[test]
    fn a_zone_swap_removes_the_old_subnet_before_adding_the_new() {
        let current = pairs(&[("a", "s1"), ("b", "s2")]);
        let wanted = pairs(&[("a", "s3"), ("b", "s2")]);
        assert_eq!(
            zone_swaps(&current, &wanted),
            vec![vec!["s2".to_string()], vec!["s2".into(), "s3".into()]]
        );
    }

    #[test]
    fn both_zones_swap_one_at_a_time() {
        let current = pairs(&[("a", "s1"), ("b", "s2")]);
        let wanted = pairs(&[("a", "s3"), ("b", "s4")]);
        assert_eq!(
            zone_swaps(&current, &wanted),
            vec![
                vec!["s2".to_string()],
                vec!["s2".into(), "s3".into()],
                vec!["s3".into()],
                vec!["s3".into(), "s4".into()],
            ]
        );
    }

    #[test]
    fn adding_or_removing_a_zone_is_one_call() {
        let current = pairs(&[("a", "s1")]);
        let grown = pairs(&[("a", "s1"), ("b", "s2")]);
        assert_eq!(
            zone_swaps(&current, &grown),
            vec![vec!["s1".to_string(), "s2".into()]]
        );
        assert_eq!(zone_swaps(&grown, &current), vec![vec!["s1".to_string()]]);
    }

    #[test]
    fn a_single_zone_swap_is_left_to_aws() {
        let current = pairs(&[("a", "s1")]);
        let wanted = pairs(&[("a", "s2")]);
        assert_eq!(zone_swaps(&current, &wanted), vec![vec!["s2".to_string()]]);
    }
}
