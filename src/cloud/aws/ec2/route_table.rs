//! Route tables: the default route (to the NAT or internet gateway) and the subnets' associations.

use super::*;

/// (association id, route table id) of a subnet's explicit route table association, if any.
async fn association_of(
    cloud: &AwsCloud,
    subnet: &str,
) -> Result<Option<(String, String)>, CloudError> {
    let out = call(|| {
        cloud
            .ec2
            .describe_route_tables()
            .filters(
                Filter::builder()
                    .name("association.subnet-id")
                    .values(subnet)
                    .build(),
            )
            .send()
    })
    .await?;
    Ok(out
        .route_tables()
        .iter()
        .flat_map(|t| t.associations())
        .find(|a| a.subnet_id() == Some(subnet))
        .and_then(|a| {
            Some((
                a.route_table_association_id()?.to_string(),
                a.route_table_id()?.to_string(),
            ))
        }))
}

/// Where a route table's default route goes (a NAT gateway or internet gateway id), if it has one.
async fn default_route_target(cloud: &AwsCloud, rtb: &str) -> Result<Option<String>, CloudError> {
    let out = call(|| {
        cloud
            .ec2
            .describe_route_tables()
            .route_table_ids(rtb)
            .send()
    })
    .await?;
    Ok(out
        .route_tables()
        .iter()
        .flat_map(|t| t.routes())
        .find(|r| r.destination_cidr_block() == Some(DEFAULT_ROUTE))
        .and_then(|r| r.nat_gateway_id().or(r.gateway_id()))
        .map(String::from))
}

/// (association id, subnet id) of a route table's explicit subnet associations.
async fn associations(cloud: &AwsCloud, rtb: &str) -> Result<Vec<(String, String)>, CloudError> {
    let out = call(|| {
        cloud
            .ec2
            .describe_route_tables()
            .route_table_ids(rtb)
            .send()
    })
    .await?;
    Ok(out
        .route_tables()
        .iter()
        .flat_map(|t| t.associations())
        .filter_map(|a| {
            Some((
                a.route_table_association_id()?.to_string(),
                a.subnet_id()?.to_string(),
            ))
        })
        .collect())
}

impl AwsKind for RouteTable {
    fn cost(op: OpKind) -> Vec<(Family, f64)> {
        vec![(
            Family::Ec2Mutate,
            if op == OpKind::Create { 4.0 } else { 2.0 },
        )]
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        let r = self;
        let vpc = ctx.resolve(&r.vpc)?;
        let token = client_token(ctx, &vpc);
        let out = consistent(cloud, "create route table", || async {
            call(|| {
                cloud
                    .ec2
                    .create_route_table()
                    .vpc_id(&vpc)
                    .client_token(&token)
                    .tag_specifications(tag_spec(ctx, ResourceType::RouteTable, &r.name, &[]))
                    .send()
            })
            .await
        })
        .await?;
        let rtb = out
            .route_table()
            .and_then(|t| t.route_table_id())
            .ok_or_else(|| missing("RouteTableId"))?
            .to_string();
        let empty = RouteTable {
            default_route: None,
            subnets: vec![],
            ..r.clone()
        };
        r.update(cloud, ctx, &rtb, &empty).await?;
        Ok(rtb)
    }
    async fn update(
        &self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        id: &str,
        have: &Self,
    ) -> Result<String, CloudError> {
        let rtb: &str = id;
        let want = self;
        if have.name != want.name {
            retag(cloud, ctx, rtb, &want.name).await?;
        }
        // Compared by AWS id: a NAT gateway replaced under the same logical id is a new target.
        let old_target = have
            .default_route
            .as_ref()
            .and_then(|r| ctx.resolve_observed(r));
        let new_target = want
            .default_route
            .as_ref()
            .map(|r| ctx.resolve(r))
            .transpose()?;
        if old_target != new_target {
            if have.default_route.is_some() {
                let res = call(|| {
                    cloud
                        .ec2
                        .delete_route()
                        .route_table_id(rtb)
                        .destination_cidr_block(DEFAULT_ROUTE)
                        .send()
                })
                .await;
                match res {
                    Ok(_) => {}
                    Err(e) if is_not_found(&e) => {}
                    Err(e) => return Err(e),
                }
            }
            if let Some(target) = &want.default_route {
                let target = ctx.resolve(target)?;
                consistent(cloud, "create default route", || async {
                    let req = cloud
                        .ec2
                        .create_route()
                        .route_table_id(rtb)
                        .destination_cidr_block(DEFAULT_ROUTE);
                    let req = if target.starts_with("nat-") {
                        req.nat_gateway_id(&target)
                    } else {
                        req.gateway_id(&target)
                    };
                    match call(|| req.clone().send()).await {
                        // A create whose answer was lost: done, if the route goes where we asked.
                        Err(e) if has_code(&e, "RouteAlreadyExists") => {
                            match default_route_target(cloud, rtb).await? {
                                Some(now) if now == target => Ok(()),
                                _ => Err(e),
                            }
                        }
                        other => other.map(|_| ()),
                    }
                })
                .await?;
            }
        }
        // The subnets as they were: a subnet replaced create-first is a new one to associate, and
        // the old one's association is dropped.
        let have_subnets: Vec<String> = have
            .subnets
            .iter()
            .filter_map(|s| ctx.resolve_observed(s))
            .collect();
        let want_subnets = ctx.resolve_all(&want.subnets)?;
        for subnet in want_subnets.iter().filter(|s| !have_subnets.contains(s)) {
            // A subnet has one route table: one it moves from (fewer NAT gateways) is moved with
            // ReplaceRouteTableAssociation, at once and without a gap; AssociateRouteTable would
            // answer Resource.AlreadyAssociated.
            // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ReplaceRouteTableAssociation.html
            // Looked up and moved in one retried step: a table just created may not be known yet,
            // and the association may move (or go) meanwhile.
            consistent(cloud, "associate route table", || async {
                match association_of(cloud, subnet).await? {
                    Some((_, table)) if table == rtb => Ok(()),
                    Some((assoc, _)) => call(|| {
                        cloud
                            .ec2
                            .replace_route_table_association()
                            .association_id(assoc.clone())
                            .route_table_id(rtb)
                            .send()
                    })
                    .await
                    .map(|_| ()),
                    None => call(|| {
                        cloud
                            .ec2
                            .associate_route_table()
                            .route_table_id(rtb)
                            .subnet_id(subnet)
                            .send()
                    })
                    .await
                    .map(|_| ()),
                }
            })
            .await?;
        }
        let stale: Vec<&String> = have_subnets
            .iter()
            .filter(|s| !want_subnets.contains(s))
            .collect();
        if !stale.is_empty() {
            for (assoc, subnet) in associations(cloud, rtb).await? {
                if stale.contains(&&subnet) {
                    // Moved to another table meanwhile (ReplaceRouteTableAssociation): done.
                    let out = call(|| {
                        cloud
                            .ec2
                            .disassociate_route_table()
                            .association_id(assoc.clone())
                            .send()
                    })
                    .await;
                    match out {
                        Err(e) if is_not_found(&e) => {}
                        other => {
                            other?;
                        }
                    }
                }
            }
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
        let rtb: &str = &observed.physical_id;
        let assocs = match associations(cloud, rtb).await {
            Err(e) if is_not_found(&e) => return Ok(()),
            other => other?,
        };
        for (assoc, _) in assocs {
            match call(|| {
                cloud
                    .ec2
                    .disassociate_route_table()
                    .association_id(assoc.clone())
                    .send()
            })
            .await
            {
                Err(e) if !is_not_found(&e) => return Err(e),
                _ => {}
            }
        }
        delete_retrying(cloud, &format!("delete route table {rtb}"), || async {
            call(|| cloud.ec2.delete_route_table().route_table_id(rtb).send())
                .await
                .map(|_| ())
        })
        .await
    }
}
