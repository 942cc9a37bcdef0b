//! The internet gateway: created, then attached to the VPC; detached before it is deleted.

use super::*;

async fn attach_internet_gateway(cloud: &AwsCloud, igw: &str, vpc: &str) -> Result<(), CloudError> {
    let attached = consistent(cloud, "attach internet gateway", || async {
        call(|| {
            cloud
                .ec2
                .attach_internet_gateway()
                .internet_gateway_id(igw)
                .vpc_id(vpc)
                .send()
        })
        .await
    })
    .await
    .map(|_| ());
    match attached {
        // An attach whose answer was lost: done, if it is attached to this VPC.
        Err(e) if has_code(&e, "Resource.AlreadyAssociated") => {
            let out = call(|| {
                cloud
                    .ec2
                    .describe_internet_gateways()
                    .internet_gateway_ids(igw)
                    .send()
            })
            .await?;
            let to_this_vpc = out
                .internet_gateways()
                .iter()
                .flat_map(|g| g.attachments())
                .any(|a| a.vpc_id() == Some(vpc));
            if to_this_vpc {
                Ok(())
            } else {
                Err(e)
            }
        }
        other => other,
    }
}

impl AwsKind for InternetGateway {
    fn cost(op: OpKind) -> Vec<(Family, f64)> {
        let _ = op;
        vec![(Family::Ec2Mutate, 2.0)]
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        let r = self;
        let vpc = ctx.resolve(&r.vpc)?;
        let create = || async {
            let out = call(|| {
                cloud
                    .ec2
                    .create_internet_gateway()
                    .tag_specifications(tag_spec(ctx, ResourceType::InternetGateway, &r.name, &[]))
                    .customize()
                    .config_override(without_retry())
                    .send()
            })
            .await?;
            out.internet_gateway()
                .and_then(|g| g.internet_gateway_id())
                .map(String::from)
                .ok_or_else(|| missing("InternetGatewayId"))
        };
        let find = || async {
            let out = call(|| {
                cloud
                    .ec2
                    .describe_internet_gateways()
                    .set_filters(Some(ours(ctx)))
                    .send()
            })
            .await?;
            Ok(out
                .internet_gateways()
                .first()
                .and_then(|g| g.internet_gateway_id())
                .map(String::from))
        };
        let igw = create_or_find("CreateInternetGateway", create, find).await?;
        attach_internet_gateway(cloud, &igw, &vpc).await?;
        Ok(igw)
    }
    async fn update(
        &self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        id: &str,
        have: &Self,
    ) -> Result<String, CloudError> {
        let igw: &str = id;
        let want = self;
        if ctx.resolve(&have.vpc)?.is_empty() {
            attach_internet_gateway(cloud, igw, &ctx.resolve(&want.vpc)?).await?;
        }
        if have.name != want.name {
            retag(cloud, ctx, igw, &want.name).await?;
        }
        Ok(id.to_string())
    }
    async fn delete(
        have: &Self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        observed: &ObservedResource,
    ) -> Result<(), CloudError> {
        let igw: &str = &observed.physical_id;
        // Unattached: a run was killed between the create and the attach.
        if let Some(vpc) = ctx.resolve(&have.vpc).ok().filter(|v| !v.is_empty()) {
            // Detaching fails while public addresses (NAT, load balancer) are still mapped.
            delete_retrying(cloud, &format!("detach internet gateway {igw}"), || async {
                call(|| {
                    cloud
                        .ec2
                        .detach_internet_gateway()
                        .internet_gateway_id(igw)
                        .vpc_id(&vpc)
                        .send()
                })
                .await
                .map(|_| ())
                // Detached already: by an earlier attempt whose answer was lost, or a killed
                // run (terraform-provider-aws internal/service/ec2/vpc_internet_gateway.go,
                // detachInternetGateway, takes it as done too).
                .or_else(|e| match has_code(&e, "Gateway.NotAttached") {
                    true => Ok(()),
                    false => Err(e),
                })
            })
            .await?;
        }
        delete_retrying(cloud, &format!("delete internet gateway {igw}"), || async {
            call(|| {
                cloud
                    .ec2
                    .delete_internet_gateway()
                    .internet_gateway_id(igw)
                    .send()
            })
            .await
            .map(|_| ())
        })
        .await
    }
}
