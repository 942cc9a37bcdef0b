//! CloudWatch Logs: one log group per service.

use super::errors::aws_err;
use super::ops::{adopt_if_exists, gone_is_done, nothing_of_ours};
use super::ownership::is_ours;
use super::ownership::{owned_by, Found};
use super::settle::call;
use super::{ownership_tags, AwsCloud};
use crate::cloud::{CloudError, OpContext};
use crate::model::*;
use crate::names;
use std::collections::BTreeMap;

/// A log group's ARN as the tagging API wants it (DescribeLogGroups adds `:*`).
fn tagging_arn(g: &aws_sdk_cloudwatchlogs::types::LogGroup) -> Option<String> {
    g.arn().map(|a| a.trim_end_matches(":*").to_string())
}

async fn tags_of(cloud: &AwsCloud, arn: String) -> Result<BTreeMap<String, String>, CloudError> {
    let out = call(|| {
        cloud
            .logs
            .list_tags_for_resource()
            .resource_arn(arn.clone())
            .send()
    })
    .await?;
    Ok(out
        .tags()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .collect())
}

/// The tags of the group named exactly `name`; `None` when there is no such group.
pub async fn tags_of_group(
    cloud: &AwsCloud,
    name: &str,
) -> Result<Option<BTreeMap<String, String>>, CloudError> {
    Ok(tags_and_arn_of_group(cloud, name)
        .await?
        .map(|(tags, _)| tags))
}

/// The tagging ARN of the group named exactly `name`; `None` when there is no such group.
pub async fn arn_of_group(cloud: &AwsCloud, name: &str) -> Result<Option<String>, CloudError> {
    Ok(call(|| {
        cloud
            .logs
            .describe_log_groups()
            .log_group_name_prefix(name)
            .send()
    })
    .await?
    .log_groups()
    .iter()
    .find(|g| g.log_group_name() == Some(name))
    .and_then(tagging_arn))
}

/// The tags and tagging ARN of the group named exactly `name`.
pub async fn tags_and_arn_of_group(
    cloud: &AwsCloud,
    name: &str,
) -> Result<Option<(BTreeMap<String, String>, String)>, CloudError> {
    match arn_of_group(cloud, name).await? {
        Some(arn) => Ok(Some((tags_of(cloud, arn.clone()).await?, arn))),
        None => Ok(None),
    }
}

/// The tags of a log group by its tagging ARN (no listing: one request).
pub async fn tags_of_arn(
    cloud: &AwsCloud,
    arn: &str,
) -> Result<BTreeMap<String, String>, CloudError> {
    tags_of(cloud, arn.to_string()).await
}

/// Log groups per `DescribeLogGroups` page.
const PAGE: usize = 50;

/// DescribeLogGroups returns 50 per page, one page after the other. For a large stack, one
/// listing per first letter of the service name (names start with a-z) runs in parallel instead:
/// 26 requests, so only when the single listing would take four pages or more in a row (below
/// that the extra requests cost more than the round trips they save) and when the names are
/// spread enough over the alphabet to at least halve the longest listing.
fn split_by_first_letter<'a>(base: &str, names: impl Iterator<Item = &'a str>) -> bool {
    let mut per_letter: BTreeMap<char, usize> = BTreeMap::new();
    let mut total = 0;
    for name in names {
        total += 1;
        if let Some(c) = name.strip_prefix(base).and_then(|rest| rest.chars().next()) {
            *per_letter.entry(c).or_default() += 1;
        }
    }
    let busiest = per_letter.values().copied().max().unwrap_or(0);
    total > 3 * PAGE && busiest * 2 <= total
}

/// Lists the stack's groups by name prefix. Groups the file names are matched by name; any
/// other group under the prefix is ours only if its tags say so (another stack may share the
/// prefix), which costs one tag read each.
pub async fn observe(cloud: &AwsCloud, stack: &str, hint: &Desired) -> Result<Found, CloudError> {
    let expected: BTreeMap<&str, &ResourceId> = hint
        .resources
        .iter()
        .filter_map(|(id, r)| match r {
            Resource::LogGroup(g) => Some((g.name.as_str(), id)),
            _ => None,
        })
        .collect();
    let base = names::log_group_prefix(stack);
    let prefixes: Vec<String> = if split_by_first_letter(&base, expected.keys().copied()) {
        ('a'..='z').map(|c| format!("{base}{c}")).collect()
    } else {
        vec![base]
    };
    let listings = futures::future::try_join_all(prefixes.iter().map(|prefix| async move {
        let mut groups = Vec::new();
        let mut pages = cloud
            .logs
            .describe_log_groups()
            .log_group_name_prefix(prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            groups.extend(page.map_err(aws_err)?.log_groups().to_vec());
        }
        Ok::<_, CloudError>(groups)
    }))
    .await?;
    let groups: Vec<_> = listings.into_iter().flatten().collect();
    // Groups the file does not name are ours only if their tags say so: read those in parallel.
    let unexpected: Vec<_> = groups
        .iter()
        .filter(|g| {
            g.log_group_name()
                .is_some_and(|n| !expected.contains_key(n))
        })
        .filter_map(|g| Some((g.log_group_name()?, tagging_arn(g)?)))
        .collect();
    let tag_sets = futures::future::try_join_all(
        unexpected
            .iter()
            .map(|(_, arn)| tags_of(cloud, arn.clone())),
    )
    .await?;
    let claimed: BTreeMap<&str, ResourceId> = unexpected
        .iter()
        .zip(&tag_sets)
        .filter(|(_, tags)| owned_by(tags, stack))
        .filter_map(|((name, _), tags)| Some((*name, ResourceId::new(tags.get(TAG_ID)?))))
        .collect();
    let mut found = Found::new(stack);
    for g in &groups {
        let Some(name) = g.log_group_name() else {
            continue;
        };
        let Some(id) = expected
            .get(name)
            .map(|id| (*id).clone())
            .or_else(|| claimed.get(name).cloned())
        else {
            continue;
        };
        found.items.push(ObservedResource {
            id,
            resource: Resource::LogGroup(LogGroup {
                name: name.to_string(),
                retention_days: g.retention_in_days(),
            }),
            physical_id: name.to_string(),
        });
    }
    Ok(found)
}

// ---------------------------------------------------------------- kinds (see `super::kinds`)

use super::kinds::AwsKind;
use super::pacing::Family;
use crate::plan::schedule::OpKind;

impl AwsKind for LogGroup {
    fn cost(op: OpKind) -> Vec<(Family, f64)> {
        let _ = op;
        vec![(Family::Logs, 2.0)]
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        let r = self;
        let tags: std::collections::HashMap<String, String> =
            ownership_tags(ctx, &r.name).into_iter().collect();
        let res = call(|| {
            cloud
                .logs
                .create_log_group()
                .log_group_name(&r.name)
                .set_tags(Some(tags.clone()))
                .send()
        })
        .await;
        // A create whose answer was lost (the SDK's retry meets the group the first attempt
        // made) takes the group when it carries this operation's tags; anyone else's stands.
        adopt_if_exists(
            res.map(|_| r.name.clone()),
            "ResourceAlreadyExistsException",
            || async {
                match tags_of_group(cloud, &r.name).await? {
                    Some(tags) if is_ours(&tags, ctx) => Ok(r.name.clone()),
                    _ => Err(nothing_of_ours()),
                }
            },
        )
        .await?;
        r.update(cloud, ctx, &r.name, r).await
    }
    async fn update(
        &self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        id: &str,
        have: &Self,
    ) -> Result<String, CloudError> {
        let _ = (ctx, have);
        let r = self;
        match r.retention_days {
            Some(days) => {
                call(|| {
                    cloud
                        .logs
                        .put_retention_policy()
                        .log_group_name(&r.name)
                        .retention_in_days(days)
                        .send()
                })
                .await?;
            }
            None => {
                call(|| {
                    cloud
                        .logs
                        .delete_retention_policy()
                        .log_group_name(&r.name)
                        .send()
                })
                .await?;
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
        let _ = observed;
        let stack: &str = ctx.stack;
        let name: &str = &have.name;
        // Observe matched this group by name; never delete one the stack's tags do not claim.
        let Some(tags) = tags_of_group(cloud, name).await? else {
            return Ok(());
        };
        if !owned_by(&tags, stack) {
            return Err(CloudError::Other(format!(
                "log group {name} is not tagged {TAG_STACK}={stack}; left alone"
            )));
        }
        gone_is_done(call(|| cloud.logs.delete_log_group().log_group_name(name).send()).await)
    }
}

#[cfg(test)]
mod tests {
    use super::split_by_first_letter;

    fn names(base: &str, services: impl Iterator<Item = String>) -> Vec<String> {
        services.map(|s| format!("{base}{s}")).collect()
    }

    #[test]
    fn one_listing_until_it_would_take_four_pages_or_the_names_share_a_letter() {
        let base = "/ecsform/shop/";
        let spread = |n: usize| {
            names(
                base,
                (0..n).map(|i| format!("{}svc{i}", (b'a' + (i % 26) as u8) as char)),
            )
        };
        let numbered = |n: usize| names(base, (0..n).map(|i| format!("svc-{i:03}")));
        for (case, list, split) in [
            ("150 spread", spread(150), false),
            ("151 spread", spread(151), true),
            ("400 spread", spread(400), true),
            ("200 all under s", numbered(200), false),
        ] {
            assert_eq!(
                split_by_first_letter(base, list.iter().map(String::as_str)),
                split,
                "{case}"
            );
        }
    }
}
