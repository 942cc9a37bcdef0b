//! DB subnet groups: the private subnets a database may live in.

use super::*;

impl AwsKind for DbSubnetGroup {
    fn cost(_op: OpKind) -> Vec<(Family, f64)> {
        vec![(Family::Rds, 1.0)]
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        let r = self;
        let subnets = ctx.resolve_all(&r.subnets)?;
        call(|| {
            cloud
                .rds
                .create_db_subnet_group()
                .db_subnet_group_name(&r.name)
                .db_subnet_group_description(&r.description)
                .set_subnet_ids(Some(subnets.clone()))
                .set_tags(Some(tags(ctx, &r.name)))
                .send()
        })
        .await?;
        Ok(r.name.clone())
    }
    async fn update(
        &self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        _id: &str,
        _have: &Self,
    ) -> Result<String, CloudError> {
        let r = self;
        let subnets = ctx.resolve_all(&r.subnets)?;
        call(|| {
            cloud
                .rds
                .modify_db_subnet_group()
                .db_subnet_group_name(&r.name)
                .db_subnet_group_description(&r.description)
                .set_subnet_ids(Some(subnets.clone()))
                .send()
        })
        .await?;
        Ok(r.name.clone())
    }
    async fn delete(
        _have: &Self,
        cloud: &AwsCloud,
        _ctx: &OpContext<'_>,
        observed: &ObservedResource,
    ) -> Result<(), CloudError> {
        let name: &str = &observed.physical_id;
        crate::cloud::aws::ops::delete_retrying(
            cloud,
            &format!("delete DB subnet group {name}"),
            || async {
                call(|| {
                    cloud
                        .rds
                        .delete_db_subnet_group()
                        .db_subnet_group_name(name)
                        .send()
                })
                .await
                .map(|_| ())
            },
        )
        .await
    }
}
