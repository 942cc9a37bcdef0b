//! Target groups: one per service and front door, health-checked on the traffic port or its own.

use super::*;

/// AWS names the traffic port `traffic-port`, any other port by its number.
/// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html
fn health_check_port(r: &TargetGroup) -> String {
    r.health_check_port
        .map_or_else(|| TRAFFIC_PORT.to_string(), |p| p.to_string())
}

impl AwsKind for TargetGroup {
    fn cost(op: OpKind) -> Vec<(Family, f64)> {
        let _ = op;
        vec![(Family::ElbMutate, 1.0), (Family::ElbAccount, 1.0)]
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        let r = self;
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
        // ResourceInUse until the listeners and rules forwarding to it are gone.
        delete_retrying(cloud, &format!("delete target group {arn}"), || async {
            call(|| cloud.elb.delete_target_group().target_group_arn(arn).send())
                .await
                .map(|_| ())
        })
        .await
    }
}
