//! Load balancers: the public ALB, and the internal NLB or ALB behind API Gateway; not waited for before their listeners, rules and services (AWS accepts them while it provisions).

use super::*;

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
        let r = self;
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
    async fn update(
        &self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        id: &str,
        have: &Self,
    ) -> Result<String, CloudError> {
        let _ = have;
        let arn: &str = id;
        let r = self;
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
        set_security_groups(cloud, ctx, arn, r).await?;
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
