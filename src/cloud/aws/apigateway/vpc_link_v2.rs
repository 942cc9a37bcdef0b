//! The VPC link V2 (API Gateway V2) to the internal application load balancer's subnets and groups.

use super::*;

impl AwsKind for VpcLinkV2 {
    fn cost(op: OpKind) -> Vec<(Family, f64)> {
        let own = (
            Some(Family::ApiGatewayVpcLink),
            Some(Family::ApiGatewayDeleteVpcLinkV2),
        );
        api_cost(op, own)
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        let r = self;
        let subnets = ctx.resolve_all(&r.subnets)?;
        let groups = ctx.resolve_all(&r.security_groups)?;
        let create = || async {
            let out = call(|| {
                cloud
                    .apigw2
                    .create_vpc_link()
                    .name(&r.name)
                    .set_subnet_ids(Some(subnets.clone()))
                    .set_security_group_ids(Some(groups.clone()))
                    .set_tags(Some(tag_hash(ctx, &r.name)))
                    .customize()
                    .config_override(
                        aws_sdk_apigatewayv2::config::Builder::default()
                            .retry_config(aws_config::retry::RetryConfig::disabled()),
                    )
                    .send()
            })
            .await?;
            out.vpc_link_id()
                .map(String::from)
                .ok_or_else(|| missing("VpcLinkId"))
        };
        // GetVpcLinks (V2) has no paginator in the SDK: NextToken by hand.
        let find = || async {
            let mut token: Option<String> = None;
            loop {
                let page = call(|| {
                    cloud
                        .apigw2
                        .get_vpc_links()
                        .max_results("100")
                        .set_next_token(token.clone())
                        .send()
                })
                .await?;
                for link in page.items() {
                    if is_ours(&tags_of(link.tags()), ctx) {
                        return Ok(link.vpc_link_id().map(String::from));
                    }
                }
                match page.next_token() {
                    Some(next) if !next.is_empty() => token = Some(next.to_string()),
                    _ => return Ok(None),
                }
            }
        };
        let id = create_or_find("CreateVpcLink (V2)", create, find).await?;
        // PENDING while AWS makes its network interfaces in the subnets (minutes), or FAILED
        // (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-vpc-links.html).
        wait_until(
            &format!("VPC link {}", r.name),
            cloud.timeouts.provisioning,
            || async {
                let link = call(|| cloud.apigw2.get_vpc_link().vpc_link_id(&id).send()).await?;
                use aws_sdk_apigatewayv2::types::VpcLinkStatus as V2;
                match link.vpc_link_status() {
                    Some(V2::Available) => Ok(None),
                    Some(V2::Failed) => Err(CloudError::Other(format!(
                        "VPC link {} failed: {}",
                        r.name,
                        link.vpc_link_status_message().unwrap_or("no reason given")
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
                .apigw2
                .update_vpc_link()
                .vpc_link_id(id)
                .name(&r.name)
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
        gone_is_done(call(|| cloud.apigw2.delete_vpc_link().vpc_link_id(id).send()).await)?;
        wait_until_gone(cloud, &format!("VPC link {id}"), || async {
            let link = call(|| cloud.apigw2.get_vpc_link().vpc_link_id(id).send()).await?;
            Ok(link
                .vpc_link_status()
                .map_or_else(|| "still listed".into(), |s| s.as_str().to_string()))
        })
        .await
    }
}
