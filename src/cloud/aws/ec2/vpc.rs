//! The VPC: created with its DNS attributes, which are changed one call each.

use super::*;

/// (DNS support, DNS hostnames) of a VPC.
pub(super) async fn vpc_dns(cloud: &AwsCloud, vpc_id: &str) -> Result<(bool, bool), CloudError> {
    let read = |attr: VpcAttributeName| async move {
        call(|| {
            cloud
                .ec2
                .describe_vpc_attribute()
                .vpc_id(vpc_id)
                .attribute(attr.clone())
                .send()
        })
        .await
    };
    let (support, hostnames) = tokio::try_join!(
        read(VpcAttributeName::EnableDnsSupport),
        read(VpcAttributeName::EnableDnsHostnames)
    )?;
    Ok((
        support
            .enable_dns_support()
            .and_then(|v| v.value())
            .unwrap_or(false),
        hostnames
            .enable_dns_hostnames()
            .and_then(|v| v.value())
            .unwrap_or(false),
    ))
}

impl AwsKind for Vpc {
    fn cost(op: OpKind) -> Vec<(Family, f64)> {
        vec![(
            Family::Ec2Mutate,
            if op == OpKind::Create { 2.0 } else { 1.0 },
        )]
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        let r = self;
        let create = || async {
            let out = call(|| {
                cloud
                    .ec2
                    .create_vpc()
                    .cidr_block(&r.cidr)
                    .tag_specifications(tag_spec(ctx, ResourceType::Vpc, &r.name, &[]))
                    .customize()
                    .config_override(without_retry())
                    .send()
            })
            .await?;
            out.vpc()
                .and_then(|v| v.vpc_id())
                .map(String::from)
                .ok_or_else(|| missing("VpcId"))
        };
        let find = || async {
            let out = call(|| {
                cloud
                    .ec2
                    .describe_vpcs()
                    .set_filters(Some(ours(ctx)))
                    .send()
            })
            .await?;
            Ok(out
                .vpcs()
                .first()
                .and_then(|v| v.vpc_id())
                .map(String::from))
        };
        let vpc_id = create_or_find("CreateVpc", create, find).await?;
        // A new VPC has DNS support on and hostnames off.
        let fresh = Vpc {
            dns_support: true,
            dns_hostnames: false,
            ..r.clone()
        };
        r.update(cloud, ctx, &vpc_id, &fresh).await?;
        Ok(vpc_id)
    }
    async fn update(
        &self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        id: &str,
        have: &Self,
    ) -> Result<String, CloudError> {
        let vpc_id: &str = id;
        let want = self;
        if have.name != want.name {
            retag(cloud, ctx, vpc_id, &want.name).await?;
        }
        // AWS takes one attribute per call.
        for (hostnames, had, wanted) in [
            (false, have.dns_support, want.dns_support),
            (true, have.dns_hostnames, want.dns_hostnames),
        ] {
            if had == wanted {
                continue;
            }
            let value = AttributeBooleanValue::builder().value(wanted).build();
            consistent(cloud, "set VPC DNS attribute", || async {
                let req = cloud.ec2.modify_vpc_attribute().vpc_id(vpc_id);
                let req = if hostnames {
                    req.enable_dns_hostnames(value.clone())
                } else {
                    req.enable_dns_support(value.clone())
                };
                call(|| req.clone().send()).await
            })
            .await?;
        }
        Ok(id.to_string())
    }
    async fn delete(
        have: &Self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        observed: &ObservedResource,
    ) -> Result<(), CloudError> {
        let _ = (have, ctx);
        let vpc: &str = &observed.physical_id;
        delete_retrying(cloud, &format!("delete VPC {vpc}"), || async {
            call(|| cloud.ec2.delete_vpc().vpc_id(vpc).send())
                .await
                .map(|_| ())
        })
        .await
    }
}
