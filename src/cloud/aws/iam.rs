//! IAM: the task execution role. Roles of a stack live under their own path, so one
//! `ListRoles` call finds them.

use super::errors::{build_err, missing};
use super::ops::{adopt_if_exists, gone_is_done, nothing_of_ours};
use super::ownership::{owned_by, tag_map, Found};
use super::retry::is_not_found;
use super::settle::call;
use super::{ownership_tags, AwsCloud};
use crate::cloud::{CloudError, OpContext};
use crate::model::*;
use crate::names;
use aws_sdk_iam::types::Tag;

const INLINE_POLICY: &str = "ecsform-secrets";

/// Only the service, and only on behalf of this account: the `aws:SourceAccount` condition
/// keeps another account's tasks from using our roles (the confused deputy;
/// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html).
fn trust_policy(service: &str, account: Option<&str>) -> String {
    let mut statement = serde_json::json!({
        "Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"
    });
    if let Some(account) = account {
        statement["Condition"] =
            serde_json::json!({"StringEquals": {"aws:SourceAccount": account}});
    }
    serde_json::json!({"Version": "2012-10-17", "Statement": [statement]}).to_string()
}

pub async fn observe(cloud: &AwsCloud, stack: &str) -> Result<Found, CloudError> {
    let out = call(|| {
        cloud
            .iam
            .list_roles()
            .path_prefix(names::role_path(stack))
            .send()
    })
    .await?;
    let mut found = Found::new(stack);
    for role in out.roles() {
        let name = role.role_name();
        let (tags, attached, inline) = tokio::try_join!(
            async { call(|| cloud.iam.list_role_tags().role_name(name).send()).await },
            async {
                call(|| {
                    cloud
                        .iam
                        .list_attached_role_policies()
                        .role_name(name)
                        .send()
                })
                .await
            },
            async {
                match call(|| {
                    cloud
                        .iam
                        .get_role_policy()
                        .role_name(name)
                        .policy_name(INLINE_POLICY)
                        .send()
                })
                .await
                {
                    Ok(p) => Ok(Some(canonical_json(&percent_decode(p.policy_document())))),
                    Err(e) if is_not_found(&e) => Ok(None),
                    Err(e) => Err(e),
                }
            },
        )?;
        let tags = tag_map(tags.tags().iter().map(|t| (Some(t.key()), Some(t.value()))));
        if !owned_by(&tags, stack) {
            continue;
        }
        let trust = percent_decode(role.assume_role_policy_document().unwrap_or_default());
        let mut managed: Vec<String> = attached
            .attached_policies()
            .iter()
            .filter_map(|p| p.policy_arn())
            .map(String::from)
            .collect();
        managed.sort();
        found.add(&tags, Some(role.arn()), |_| {
            Resource::Role(Role {
                name: name.to_string(),
                assumed_by: trusted_service(&trust).unwrap_or_default(),
                managed_policies: managed,
                inline_policy: inline,
            })
        });
        if let Some(id) = tags.get(TAG_ID) {
            found.alias(name, &ResourceId::new(id));
        }
    }
    Ok(found)
}

/// The service principal of a trust policy (`ecs-tasks.amazonaws.com`).
fn trusted_service(doc: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(doc).ok()?;
    let statement = v.get("Statement")?;
    let first = statement
        .as_array()
        .and_then(|a| a.first())
        .unwrap_or(statement);
    let service = first.get("Principal")?.get("Service")?;
    service
        .as_str()
        .map(String::from)
        .or_else(|| service.as_array()?.first()?.as_str().map(String::from))
}

/// The same JSON document, keys sorted and spaces removed, so equal policies compare equal.
fn canonical_json(doc: &str) -> String {
    serde_json::from_str::<serde_json::Value>(doc)
        .map(|v| v.to_string())
        .unwrap_or_else(|_| doc.to_string())
}

/// IAM returns policy documents URL-encoded (RFC 3986).
fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ---------------------------------------------------------------- kinds (see `super::kinds`)

use super::kinds::AwsKind;
use super::pacing::Family;
use crate::plan::schedule::OpKind;

impl AwsKind for Role {
    fn cost(op: OpKind) -> Vec<(Family, f64)> {
        let _ = op;
        vec![(Family::Iam, 3.0)]
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        let r = self;
        let tags = ownership_tags(ctx, &r.name)
            .into_iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build().map_err(build_err))
            .collect::<Result<Vec<_>, _>>()?;
        let out = call(|| {
            cloud
                .iam
                .create_role()
                .role_name(&r.name)
                .path(names::role_path(ctx.stack))
                .assume_role_policy_document(trust_policy(&r.assumed_by, cloud.account.as_deref()))
                .set_tags(Some(tags.clone()))
                .send()
        })
        .await;
        let created = out.and_then(|out| {
            out.role()
                .map(|r| r.arn().to_string())
                .ok_or_else(|| missing("Role"))
        });
        // Made by our earlier create whose answer was lost — adopted only if its tags say so.
        let arn = adopt_if_exists(created, "EntityAlreadyExists", || async {
            let tags = call(|| cloud.iam.list_role_tags().role_name(&r.name).send()).await?;
            let tags = tag_map(tags.tags().iter().map(|t| (Some(t.key()), Some(t.value()))));
            if !owned_by(&tags, ctx.stack)
                || tags.get(TAG_ID).map(String::as_str) != Some(ctx.id.as_str())
            {
                return Err(nothing_of_ours());
            }
            let role = call(|| cloud.iam.get_role().role_name(&r.name).send()).await?;
            role.role()
                .map(|r| r.arn().to_string())
                .ok_or_else(|| missing("Role"))
        })
        .await?;
        let empty = Role {
            managed_policies: vec![],
            inline_policy: None,
            ..r.clone()
        };
        r.update(cloud, ctx, &arn, &empty).await?;
        Ok(arn)
    }
    async fn update(
        &self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        id: &str,
        have: &Self,
    ) -> Result<String, CloudError> {
        let _ = ctx;
        let want = self;
        for arn in want
            .managed_policies
            .iter()
            .filter(|p| !have.managed_policies.contains(p))
        {
            call(|| {
                cloud
                    .iam
                    .attach_role_policy()
                    .role_name(&want.name)
                    .policy_arn(arn)
                    .send()
            })
            .await?;
        }
        for arn in have
            .managed_policies
            .iter()
            .filter(|p| !want.managed_policies.contains(p))
        {
            call(|| {
                cloud
                    .iam
                    .detach_role_policy()
                    .role_name(&want.name)
                    .policy_arn(arn)
                    .send()
            })
            .await?;
        }
        if have.inline_policy != want.inline_policy {
            match &want.inline_policy {
                Some(doc) => {
                    call(|| {
                        cloud
                            .iam
                            .put_role_policy()
                            .role_name(&want.name)
                            .policy_name(INLINE_POLICY)
                            .policy_document(doc)
                            .send()
                    })
                    .await?;
                }
                None => {
                    let res = call(|| {
                        cloud
                            .iam
                            .delete_role_policy()
                            .role_name(&want.name)
                            .policy_name(INLINE_POLICY)
                            .send()
                    })
                    .await;
                    match res {
                        Err(e) if !is_not_found(&e) => return Err(e),
                        _ => {}
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
        let r: &Role = have;
        let none = Role {
            managed_policies: vec![],
            inline_policy: None,
            ..r.clone()
        };
        match none.update(cloud, ctx, &observed.physical_id, r).await {
            Err(e) if !is_not_found(&e) => return Err(e),
            _ => {}
        }
        gone_is_done(call(|| cloud.iam.delete_role().role_name(&r.name).send()).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_iam_policy_documents() {
        assert_eq!(percent_decode("%7B%22a%22%3A1%7D"), "{\"a\":1}");
        assert_eq!(percent_decode("plain"), "plain");
        assert_eq!(percent_decode("bad%zz%4"), "bad%zz%4");
    }

    #[test]
    fn reads_the_trusted_service() {
        assert_eq!(
            trusted_service(&trust_policy(
                "ecs-tasks.amazonaws.com",
                Some("123456789012")
            ))
            .as_deref(),
            Some("ecs-tasks.amazonaws.com")
        );
    }
}
