//! Listener rules: path and method conditions forwarding to a service's target group, in the file's order.

use super::*;

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

impl AwsKind for ListenerRule {
    fn cost(op: OpKind) -> Vec<(Family, f64)> {
        let _ = op;
        vec![(Family::ElbMutate, 1.0), (Family::ElbAccount, 1.0)]
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        let r = self;
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
    async fn update(
        &self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        id: &str,
        have: &Self,
    ) -> Result<String, CloudError> {
        let arn: &str = id;
        let want = self;
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
        gone_is_done(call(|| cloud.elb.delete_rule().rule_arn(arn).send()).await)
    }
}
