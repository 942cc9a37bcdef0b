//! Security groups: one per service, the load balancers and the databases.

use super::*;

impl AwsKind for SecurityGroup {
    fn cost(op: OpKind) -> Vec<(Family, f64)> {
        let _ = op;
        vec![(Family::Ec2Mutate, 1.0)]
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        let r = self;
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
        let group: &str = &observed.physical_id;
        delete_retrying(cloud, &format!("delete security group {group}"), || async {
            call(|| cloud.ec2.delete_security_group().group_id(group).send())
                .await
                .map(|_| ())
        })
        .await
    }
}
