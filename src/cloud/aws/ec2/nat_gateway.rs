//! NAT gateways: not waited for on create (AWS routes to a pending one); one that ends `failed` is reported at the end of the apply; deleted before their address is released.

use super::*;

/// What AWS says of a failed NAT gateway: `failureCode: failureMessage`.
pub(super) fn nat_failure(n: &aws_sdk_ec2::types::NatGateway) -> String {
    format!(
        "{}: {}",
        n.failure_code().unwrap_or("failed"),
        n.failure_message().unwrap_or("AWS gave no reason")
    )
}

/// The NAT gateways created by this run that AWS now reports `failed`, each with AWS's
/// reason: one describe at the end of an apply, so a failure seen by then is reported
/// without ever waiting for the gateways' minutes of `pending`.
pub async fn failed_nat_gateways(
    cloud: &AwsCloud,
    nats: &[String],
) -> Result<Vec<String>, CloudError> {
    if nats.is_empty() {
        return Ok(Vec::new());
    }
    let out = call(|| {
        cloud
            .ec2
            .describe_nat_gateways()
            .set_nat_gateway_ids(Some(nats.to_vec()))
            .send()
    })
    .await?;
    Ok(out
        .nat_gateways()
        .iter()
        .filter(|n| n.state() == Some(&NatGatewayState::Failed))
        .map(|n| {
            format!(
                "NAT gateway {} failed: {} (the private subnets' route to the internet points at it: no task can pull an image). `ecsform plan` shows its replacement; run `ecsform apply` again to replace it",
                n.nat_gateway_id().unwrap_or_default(),
                nat_failure(n)
            )
        })
        .collect())
}

/// Waits for a NAT gateway to reach `target` (on destroy: `deleted`, before its address is
/// released).
async fn wait_nat(cloud: &AwsCloud, nat: &str, target: NatGatewayState) -> Result<(), CloudError> {
    wait_until(
        &format!("NAT gateway {nat}"),
        cloud.timeouts.provisioning,
        || async {
            let out = call(|| {
                cloud
                    .ec2
                    .describe_nat_gateways()
                    .nat_gateway_ids(nat)
                    .send()
            })
            .await;
            let out = match out {
                Ok(o) => o,
                Err(e) if is_not_found(&e) && target == NatGatewayState::Deleted => {
                    return Ok(None)
                }
                Err(e) if is_not_found(&e) => return Ok(Some("not visible yet".into())),
                Err(e) => return Err(e),
            };
            let state = out.nat_gateways().first().and_then(|n| n.state().cloned());
            match state {
                Some(s) if s == target => Ok(None),
                // A failed gateway being deleted may still read `failed` for a moment.
                Some(NatGatewayState::Failed) if target == NatGatewayState::Deleted => {
                    Ok(Some("failed".into()))
                }
                Some(NatGatewayState::Failed) => Err(CloudError::Other(format!(
                    "NAT gateway {nat} failed: {}",
                    out.nat_gateways()
                        .first()
                        .map(nat_failure)
                        .unwrap_or_default()
                ))),
                Some(s) => Ok(Some(s.as_str().to_string())),
                None if target == NatGatewayState::Deleted => Ok(None),
                None => Ok(Some("not visible yet".into())),
            }
        },
    )
    .await
}

/// A deleted NAT gateway's Elastic IP is disassociated by AWS, not released
/// (https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-working-with.html); an address
/// still associated with the gone gateway's interface (moto keeps it so) is disassociated
/// here, so a replacement gateway can take it. On AWS this is one read that finds nothing.
async fn free_nat_addresses(cloud: &AwsCloud, nat: &str) -> Result<(), CloudError> {
    let Some(out) = found(
        call(|| {
            cloud
                .ec2
                .describe_nat_gateways()
                .nat_gateway_ids(nat)
                .send()
        })
        .await,
    )?
    else {
        return Ok(());
    };
    let held: Vec<(String, String)> = out
        .nat_gateways()
        .iter()
        .flat_map(|n| n.nat_gateway_addresses())
        .filter_map(|a| {
            Some((
                a.allocation_id()?.to_string(),
                a.network_interface_id()?.to_string(),
            ))
        })
        .collect();
    if held.is_empty() {
        return Ok(());
    }
    let Some(addresses) = found(
        call(|| {
            cloud
                .ec2
                .describe_addresses()
                .set_allocation_ids(Some(held.iter().map(|(a, _)| a.clone()).collect()))
                .send()
        })
        .await,
    )?
    else {
        return Ok(());
    };
    for address in addresses.addresses() {
        let still_held = held.iter().any(|(allocation, interface)| {
            address.allocation_id() == Some(allocation.as_str())
                && address.network_interface_id() == Some(interface.as_str())
        });
        let Some(association) = address.association_id().filter(|_| still_held) else {
            continue;
        };
        found(
            call(|| {
                cloud
                    .ec2
                    .disassociate_address()
                    .association_id(association)
                    .send()
            })
            .await,
        )?;
    }
    Ok(())
}

impl AwsKind for NatGateway {
    fn cost(op: OpKind) -> Vec<(Family, f64)> {
        let _ = op;
        vec![(Family::Ec2NatGateway, 1.0)]
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        let r = self;
        let subnet = ctx.resolve(&r.subnet)?;
        let allocation = ctx.resolve(&r.elastic_ip)?;
        let token = client_token(ctx, &format!("{subnet}/{allocation}"));
        let out = consistent(cloud, "create NAT gateway", || async {
            call(|| {
                cloud
                    .ec2
                    .create_nat_gateway()
                    .subnet_id(&subnet)
                    .allocation_id(&allocation)
                    .client_token(&token)
                    .tag_specifications(tag_spec(ctx, ResourceType::Natgateway, &r.name, &[]))
                    .send()
            })
            .await
        })
        .await?;
        let nat = out
            .nat_gateway()
            .and_then(|n| n.nat_gateway_id())
            .ok_or_else(|| missing("NatGatewayId"))?
            .to_string();
        // Not waited for: a NAT gateway is `pending` for minutes, and AWS accepts a route to a
        // pending one (it carries traffic once the gateway is `available`); only the route's
        // create retries the short InvalidNatGatewayID.NotFound of eventual consistency
        // (https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-working-with.html,
        // https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html).
        cloud.created_nat_gateway(&nat);
        Ok(nat)
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
        let nat: &str = &observed.physical_id;
        delete_retrying(cloud, &format!("delete NAT gateway {nat}"), || async {
            call(|| cloud.ec2.delete_nat_gateway().nat_gateway_id(nat).send())
                .await
                .map(|_| ())
        })
        .await?;
        // Its elastic IP can be released or reused only once the gateway is gone.
        wait_nat(cloud, nat, NatGatewayState::Deleted).await?;
        free_nat_addresses(cloud, nat).await
    }
}
