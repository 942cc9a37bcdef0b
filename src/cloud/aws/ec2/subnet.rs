//! Subnets: public and private, one per zone; a lost create's conflict is our earlier create.

use super::*;

impl AwsKind for Subnet {
    fn cost(op: OpKind) -> Vec<(Family, f64)> {
        let _ = op;
        vec![(Family::Ec2Mutate, 1.0)]
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        let r = self;
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
        let subnet: &str = &observed.physical_id;
        delete_retrying(cloud, &format!("delete subnet {subnet}"), || async {
            call(|| cloud.ec2.delete_subnet().subnet_id(subnet).send())
                .await
                .map(|_| ())
        })
        .await
    }
}
