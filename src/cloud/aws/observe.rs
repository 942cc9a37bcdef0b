//! Observe a stack: every service is read in parallel, then AWS ids in references are
//! translated into logical ids.

use super::ownership::Found;
use super::{
    apigateway, autoscaling, cloudmap, cloudwatch, ec2, ecr, ecs, elb, iam, logs, rds, AwsCloud,
};
use crate::cloud::CloudError;
use crate::model::*;
use std::collections::BTreeMap;

pub async fn observe(
    cloud: &AwsCloud,
    stack: &str,
    hint: &Desired,
) -> Result<Observed, CloudError> {
    // Round 1: everything that can be found from the stack name alone.
    let (network, roles, log_groups, discovery, compute, edge, api, images, scaling, alarms, data) =
        tokio::try_join!(
            ec2::observe(cloud, stack),
            iam::observe(cloud, stack),
            logs::observe(cloud, stack, hint),
            cloudmap::observe(cloud, stack, hint),
            ecs::observe(cloud, stack),
            elb::observe(cloud, stack),
            apigateway::observe(cloud, stack),
            ecr::observe(cloud, stack),
            autoscaling::observe(cloud, stack),
            cloudwatch::observe(cloud, stack),
            rds::observe(cloud, stack, hint),
        )?;
    let mut all = Found::new(stack);
    for part in [
        network, roles, log_groups, discovery, compute, edge, api, images, scaling, alarms, data,
    ] {
        all.extend(part);
    }
    rds::fold_database_links(cloud, &mut all.items);
    Ok(link(all, hint))
}

/// Replaces AWS ids in references by the logical ids of the resources they name, and gives
/// parent-scoped kinds their ids (parents first: kinds are processed in creation order).
fn link(found: Found, hint: &Desired) -> Observed {
    let mut names: BTreeMap<String, ResourceId> = found
        .items
        .iter()
        .map(|item| (item.physical_id.clone(), item.id.clone()))
        .collect();
    // An alias wins: a scoped kind's provisional id is its AWS id, which can be another
    // resource's alias (a scalable target is named `service/<cluster>/<service>`, as AWS names
    // the service it scales).
    names.extend(found.aliases);
    let mut items = found.items;
    let uses = count_uses(&items);
    items.sort_by_key(|i| i.resource.kind());
    for item in &mut items {
        item.resource.for_each_ref_mut(|r| {
            if let Ref::Unowned(p) = r {
                if let Some(id) = names.get(p.as_str()) {
                    *r = Ref::Id(id.clone());
                }
            }
        });
        if let Some(id) = item.resource.scoped_id() {
            let id = item
                .resource
                .alternative_id()
                .filter(|alt| hint.resources.contains_key(alt))
                .unwrap_or(id);
            names.insert(item.physical_id.clone(), id.clone());
            item.id = id;
        }
        normalise(&mut item.resource);
    }
    let winners = pick_duplicates(&items, hint, &uses);
    let mut observed = Observed::default();
    for mut item in items {
        // Two resources with one logical id: a create whose answer was lost and was sent again
        // (AWS has no idempotency token for VPCs, gateways, addresses). The one in use stays;
        // the other gets its own id, which the desired state lacks, so the plan deletes it.
        // A kind with an alternative id (a second rule from one source, on another port) is
        // not a duplicate: it takes that id.
        if winners
            .get(&item.id)
            .is_some_and(|w| *w != item.physical_id)
        {
            item.id = item.resource.alternative_id().unwrap_or_else(|| {
                ResourceId::new(format!("{}.duplicate.{}", item.id, item.physical_id))
            });
        }
        observed.resources.insert(item.id.clone(), item);
    }
    observed
}

/// For each logical id claimed more than once: the one exactly as the file wants it, else the
/// one in use — most pointed at by other resources plus most configured itself (a route table
/// with its routes and associations, say); an orphan of a lost answer has neither. Ties: the
/// smallest id, so every run picks the same.
fn pick_duplicates(
    items: &[ObservedResource],
    hint: &Desired,
    uses: &BTreeMap<String, usize>,
) -> BTreeMap<ResourceId, String> {
    let mut claims: BTreeMap<&ResourceId, Vec<&str>> = BTreeMap::new();
    for item in items {
        claims.entry(&item.id).or_default().push(&item.physical_id);
    }
    claims
        .into_iter()
        .filter(|(_, physical)| physical.len() > 1)
        .filter_map(|(id, physical)| {
            let wanted = hint.resources.get(id);
            let exact: Vec<&str> = items
                .iter()
                // As the diff sees it, and only what would replace it: a description moto drops
                // (or AWS keeps from an older file) does not make a rule another rule.
                .filter(|i| {
                    &i.id == id
                        && wanted.is_some_and(|w| {
                            crate::plan::diff::field_changes(w, &i.resource)
                                .iter()
                                .all(|c| !c.forces_replacement)
                        })
                })
                .map(|i| i.physical_id.as_str())
                .collect();
            let physical = if exact.is_empty() { physical } else { exact };
            let best = physical.into_iter().max_by(|a, b| {
                let (ua, ub) = (
                    uses.get(*a).copied().unwrap_or(0),
                    uses.get(*b).copied().unwrap_or(0),
                );
                ua.cmp(&ub).then_with(|| b.cmp(a))
            })?;
            Some((id.clone(), best.to_string()))
        })
        .collect()
}

/// Per AWS id: how much it is used — the references it makes plus those made to it (counted on
/// the AWS ids, before linking).
fn count_uses(items: &[ObservedResource]) -> BTreeMap<String, usize> {
    let mut uses: BTreeMap<String, usize> = BTreeMap::new();
    for item in items {
        let outgoing = item.resource.refs();
        *uses.entry(item.physical_id.clone()).or_default() += outgoing.len();
        for r in outgoing {
            if let Ref::Unowned(p) = r {
                *uses.entry(p.clone()).or_default() += 1;
            }
        }
    }
    uses
}

/// Lists AWS keeps unordered are compared sorted.
fn normalise(r: &mut Resource) {
    match r {
        Resource::RouteTable(t) => t.subnets.sort(),
        Resource::EcsService(s) => {
            s.subnets.sort();
            s.security_groups.sort();
            s.target_groups.sort();
        }
        Resource::LoadBalancer(l) => {
            l.subnets.sort();
            l.security_groups.sort();
        }
        // An ECR image of a repository that is not ours is just the URI the file wrote.
        Resource::TaskDefinition(TaskDefinition {
            image: image @ ImageSource::Repository { .. },
            ..
        }) => {
            if let ImageSource::Repository {
                repository: Ref::Unowned(uri),
                tag,
            } = &*image
            {
                *image = ImageSource::Uri(format!("{uri}:{tag}"));
            }
        }
        Resource::MetricAlarm(a) => a.dimensions.sort(),
        Resource::VpcLinkV2(l) => {
            l.subnets.sort();
            l.security_groups.sort();
        }
        _ => {}
    }
}
