//! Ingress rules: one per edge of the call graph, from the caller's security group.

use super::*;

impl AwsKind for IngressRule {
    fn cost(op: OpKind) -> Vec<(Family, f64)> {
        let _ = op;
        vec![(Family::Ec2Ingress, 1.0)]
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        let r = self;
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
                .filter(|x| {
                    x.is_egress() == Some(false) && x.from_port() == Some(i32::from(r.port))
                })
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
    async fn update(
        &self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        id: &str,
        have: &Self,
    ) -> Result<String, CloudError> {
        let _ = have;
        let rule: &str = id;
        let r = self;
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
        Ok(id.to_string())
    }
    async fn delete(
        have: &Self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        observed: &ObservedResource,
    ) -> Result<(), CloudError> {
        let rule: &str = &observed.physical_id;
        let r: &IngressRule = have;
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
}
