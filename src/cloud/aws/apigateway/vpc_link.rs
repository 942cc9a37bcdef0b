//! The REST VPC link (API Gateway V1) to the internal network load balancer: minutes `PENDING`, waited for; a deployment over it needs it `AVAILABLE`.

use super::*;

impl AwsKind for VpcLink {
    fn cost(op: OpKind) -> Vec<(Family, f64)> {
        api_cost(op, (Some(Family::ApiGatewayVpcLink), None))
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        let r = self;
        let nlb = ctx.resolve(&r.load_balancer)?;
        // CreateVpcLink refuses an NLB that is not `active` yet ("NLB ARN is not in active state"):
        // the one edge of the API Gateway entry that waits for the load balancer
        // (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-private-integration.html).
        let nlb_name = nlb.split('/').nth(2).unwrap_or(&nlb).to_string();
        crate::cloud::aws::elb::wait_active(cloud, &nlb, &nlb_name).await?;
        let create = || async {
            let out = call(|| {
                cloud
                    .apigw
                    .create_vpc_link()
                    .name(&r.name)
                    .description(&r.description)
                    .target_arns(nlb.clone())
                    .set_tags(Some(tag_hash(ctx, &r.name)))
                    .customize()
                    .config_override(without_retry())
                    .send()
            })
            .await?;
            out.id()
                .map(String::from)
                .ok_or_else(|| missing("VpcLink id"))
        };
        let find = || async {
            let mut pages = cloud
                .apigw
                .get_vpc_links()
                .limit(500)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                for link in page.map_err(aws_err)?.items() {
                    if is_ours(&tags_of(link.tags()), ctx) {
                        return Ok(link.id().map(String::from));
                    }
                }
            }
            Ok(None)
        };
        let id = create_or_find("CreateVpcLink", create, find).await?;
        // A REST VPC link is PENDING for minutes (8–12 against an NLB) and may end FAILED; a
        // deployment over it is refused until it is AVAILABLE
        // (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-private-integration.html).
        wait_until(
            &format!("VPC link {}", r.name),
            cloud.timeouts.provisioning,
            || async {
                let link = call(|| cloud.apigw.get_vpc_link().vpc_link_id(&id).send()).await?;
                match link.status() {
                    Some(VpcLinkStatus::Available) => Ok(None),
                    Some(VpcLinkStatus::Failed) => Err(CloudError::Other(format!(
                        "VPC link {} failed: {}",
                        r.name,
                        link.status_message().unwrap_or("no reason given")
                    ))),
                    Some(other) => Ok(Some(other.as_str().to_string())),
                    None => Ok(Some("no status yet".into())),
                }
            },
        )
        .await?;
        Ok(id)
    }
    async fn update(
        &self,
        cloud: &AwsCloud,
        _ctx: &OpContext<'_>,
        id: &str,
        _have: &Self,
    ) -> Result<String, CloudError> {
        let r = self;
        call(|| {
            cloud
                .apigw
                .update_vpc_link()
                .vpc_link_id(id)
                .patch_operations(replace("/name", &r.name))
                .patch_operations(replace("/description", &r.description))
                .send()
        })
        .await?;
        Ok(id.to_string())
    }
    async fn delete(
        _have: &Self,
        cloud: &AwsCloud,
        _ctx: &OpContext<'_>,
        observed: &ObservedResource,
    ) -> Result<(), CloudError> {
        let id: &str = &observed.physical_id;
        gone_is_done(call(|| cloud.apigw.delete_vpc_link().vpc_link_id(id).send()).await)?;
        wait_until_gone(cloud, &format!("VPC link {id}"), || async {
            let link = call(|| cloud.apigw.get_vpc_link().vpc_link_id(id).send()).await?;
            Ok(link
                .status()
                .map_or_else(|| "still listed".into(), |s| s.as_str().to_string()))
        })
        .await
    }
}
