//! The NAT gateway's Elastic IP address.

use super::*;

impl AwsKind for ElasticIp {
    fn cost(op: OpKind) -> Vec<(Family, f64)> {
        let _ = op;
        vec![(Family::Ec2Mutate, 1.0)]
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        let r = self;
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
        let allocation: &str = &observed.physical_id;
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
}
