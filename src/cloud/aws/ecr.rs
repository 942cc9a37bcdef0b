//! ECR: the stack's repositories (scan on push, tag mutability, a lifecycle policy keeping the
//! last N images). The physical id is the repository URI, which task definitions name.

use super::errors::{aws_err, has_code, missing};
use super::ops::{adopt_if_exists, gone_is_done, nothing_of_ours};
use super::ownership::is_ours;
use super::ownership::{owned_by, tag_map, Found};
use super::settle::call;
use super::{ownership_tags, AwsCloud};
use crate::cloud::{CloudError, OpContext};
use crate::model::*;
use aws_sdk_ecr::types::{ImageScanningConfiguration, ImageTagMutability, Tag};

/// The lifecycle policy: expire everything but the `keep` most recent images.
/// (https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_examples.html)
fn lifecycle_policy(keep: u32) -> String {
    serde_json::json!({"rules": [{
        "rulePriority": 1,
        "description": format!("ecsform: keep the last {keep} images"),
        "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": keep},
        "action": {"type": "expire"}
    }]})
    .to_string()
}

/// The `countNumber` of a policy we wrote; 0 (drift) for anything else.
fn kept(policy: &str) -> u32 {
    let v: serde_json::Value = serde_json::from_str(policy).unwrap_or_default();
    match v["rules"].as_array().map(Vec::as_slice) {
        Some([rule]) if rule["action"]["type"] == "expire" => rule["selection"]["countNumber"]
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0),
        _ => 0,
    }
}

async fn put_lifecycle(cloud: &AwsCloud, r: &EcrRepository) -> Result<(), CloudError> {
    call(|| {
        cloud
            .ecr
            .put_lifecycle_policy()
            .repository_name(&r.name)
            .lifecycle_policy_text(lifecycle_policy(r.keep_images))
            .send()
    })
    .await?;
    Ok(())
}

/// Whether a repository holds any image: one page of at most one.
async fn holds_images(cloud: &AwsCloud, name: &str) -> Result<bool, CloudError> {
    let out = call(|| {
        cloud
            .ecr
            .list_images()
            .repository_name(name)
            .max_results(1)
            .send()
    })
    .await?;
    Ok(!out.image_ids().is_empty())
}

/// Repositories named `<stack>-…` whose tags say they are ours (tags and lifecycle read per
/// candidate, in parallel).
pub async fn observe(cloud: &AwsCloud, stack: &str) -> Result<Found, CloudError> {
    let mut repos = Vec::new();
    let mut pages = cloud
        .ecr
        .describe_repositories()
        .max_results(1000)
        .into_paginator()
        .send();
    let prefix = format!("{stack}-");
    while let Some(page) = pages.next().await {
        repos.extend(
            page.map_err(aws_err)?
                .repositories()
                .iter()
                .filter(|r| r.repository_name().is_some_and(|n| n.starts_with(&prefix)))
                .cloned(),
        );
    }
    let reads = repos.iter().map(|repo| async move {
        let arn = repo.repository_arn().unwrap_or_default();
        let name = repo.repository_name().unwrap_or_default();
        let tags = call(|| cloud.ecr.list_tags_for_resource().resource_arn(arn).send()).await?;
        let tags = tag_map(tags.tags().iter().map(|t| (Some(t.key()), Some(t.value()))));
        // Only ours are read further: a repository of someone else is never listed.
        if !owned_by(&tags, stack) {
            return Ok::<_, CloudError>((tags, 0, false));
        }
        let (policy, images) = tokio::join!(
            cloud
                .ecr
                .get_lifecycle_policy()
                .repository_name(name)
                .send(),
            holds_images(cloud, name),
        );
        let policy = match policy.map_err(aws_err) {
            Ok(p) => p.lifecycle_policy_text().map(kept).unwrap_or(0),
            Err(CloudError::NotFound(_)) => 0,
            Err(e) => return Err(e),
        };
        Ok((tags, policy, images?))
    });
    let details = futures::future::try_join_all(reads).await?;
    let mut found = Found::new(stack);
    for (repo, (tags, keep_images, holds_images)) in repos.iter().zip(details) {
        if !owned_by(&tags, stack) {
            continue;
        }
        found.add(&tags, repo.repository_uri(), |_| {
            Resource::EcrRepository(EcrRepository {
                name: repo.repository_name().unwrap_or_default().to_string(),
                scan_on_push: repo
                    .image_scanning_configuration()
                    .is_some_and(|c| c.scan_on_push()),
                tag_mutability: repo
                    .image_tag_mutability()
                    .map(|m| m.as_str().to_string())
                    .unwrap_or_default(),
                keep_images,
                holds_images,
                delete_images: false,
            })
        });
    }
    Ok(found)
}

// ---------------------------------------------------------------- kinds (see `super::kinds`)

use super::kinds::AwsKind;
use super::pacing::Family;
use crate::plan::schedule::OpKind;

impl AwsKind for EcrRepository {
    fn cost(op: OpKind) -> Vec<(Family, f64)> {
        let _ = op;
        vec![(Family::Ecr, 1.0)]
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        let r = self;
        let tags = ownership_tags(ctx, &r.name)
            .into_iter()
            .map(|(k, v)| {
                Tag::builder()
                    .key(k)
                    .value(v)
                    .build()
                    .map_err(super::errors::build_err)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let created = call(|| {
            cloud
                .ecr
                .create_repository()
                .repository_name(&r.name)
                .image_tag_mutability(ImageTagMutability::from(r.tag_mutability.as_str()))
                .image_scanning_configuration(
                    ImageScanningConfiguration::builder()
                        .scan_on_push(r.scan_on_push)
                        .build(),
                )
                .set_tags(Some(tags.clone()))
                .send()
        })
        .await
        .and_then(|out| {
            out.repository()
                .and_then(|r| r.repository_uri())
                .map(String::from)
                .ok_or_else(|| missing("repositoryUri"))
        });
        // A create whose answer was lost: the repository the first attempt made, if it carries
        // this operation's tags.
        let uri = adopt_if_exists(created, "RepositoryAlreadyExistsException", || async {
            let found = call(|| {
                cloud
                    .ecr
                    .describe_repositories()
                    .repository_names(&r.name)
                    .send()
            })
            .await?;
            let repo = found.repositories().first().ok_or_else(nothing_of_ours)?;
            let arn = repo
                .repository_arn()
                .ok_or_else(|| missing("repositoryArn"))?;
            let tags = call(|| cloud.ecr.list_tags_for_resource().resource_arn(arn).send()).await?;
            let tags = tag_map(tags.tags().iter().map(|t| (Some(t.key()), Some(t.value()))));
            match repo.repository_uri() {
                Some(uri) if is_ours(&tags, ctx) => Ok(uri.to_string()),
                _ => Err(nothing_of_ours()),
            }
        })
        .await?;
        put_lifecycle(cloud, r).await?;
        Ok(uri)
    }
    async fn update(
        &self,
        cloud: &AwsCloud,
        _ctx: &OpContext<'_>,
        id: &str,
        have: &Self,
    ) -> Result<String, CloudError> {
        let r = self;
        if r.scan_on_push != have.scan_on_push {
            call(|| {
                cloud
                    .ecr
                    .put_image_scanning_configuration()
                    .repository_name(&r.name)
                    .image_scanning_configuration(
                        ImageScanningConfiguration::builder()
                            .scan_on_push(r.scan_on_push)
                            .build(),
                    )
                    .send()
            })
            .await?;
        }
        if r.tag_mutability != have.tag_mutability {
            call(|| {
                cloud
                    .ecr
                    .put_image_tag_mutability()
                    .repository_name(&r.name)
                    .image_tag_mutability(ImageTagMutability::from(r.tag_mutability.as_str()))
                    .send()
            })
            .await?;
        }
        if r.keep_images != have.keep_images {
            put_lifecycle(cloud, r).await?;
        }
        Ok(id.to_string())
    }
    async fn delete(
        have: &Self,
        cloud: &AwsCloud,
        _ctx: &OpContext<'_>,
        _observed: &ObservedResource,
    ) -> Result<(), CloudError> {
        let r: &EcrRepository = have;
        let out = call(|| {
            cloud
                .ecr
                .delete_repository()
                .repository_name(&r.name)
                .force(r.delete_images)
                .send()
        })
        .await;
        match out {
            Err(e) if has_code(&e, "RepositoryNotEmptyException") => {
                let holding = EcrRepository {
                    holds_images: true,
                    ..r.clone()
                };
                let why = <EcrRepository as crate::kinds::KindSpec>::refuses_delete(&holding);
                Err(CloudError::Other(why.unwrap_or_else(|| e.to_string())))
            }
            other => gone_is_done(other.map(|_| ())),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn lifecycle_round_trip() {
        assert_eq!(super::kept(&super::lifecycle_policy(30)), 30);
        assert_eq!(super::kept("{\"rules\": []}"), 0);
    }
}
