//! ELBv2: the internet-facing ALB, target groups, listeners and path/method rules.

mod listener;
mod listener_rule;
mod load_balancer;
mod target_group;

pub use load_balancer::{dns_name, wait_active};

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

fn dns_key(arn: &str) -> String {
    format!("elb-dns:{arn}")
}

const TRAFFIC_PORT: &str = "traffic-port";

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

use super::kinds::AwsKind;

use super::pacing::Family;

use crate::plan::schedule::OpKind;
