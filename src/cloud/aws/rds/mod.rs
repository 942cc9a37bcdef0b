//! RDS: the stack's DB subnet groups and instances. An instance is created encrypted, private,
//! with its master password generated and kept by RDS in Secrets Manager; its create returns
//! once AWS gives it an endpoint (minutes on AWS: it is `creating` first), so only what needs
//! the endpoint — its callers' task definitions — waits, everything else goes on meanwhile.
//! Physical ids: the subnet group's name and the instance's identifier.

mod db_instance;
mod db_subnet_group;

use super::errors::{aws_err, has_code, missing};

use super::ops::{gone_is_done, wait_until_gone};

use super::ownership::{owned_by, tag_map, Found};

use super::settle::call;

use super::{ownership_tags, AwsCloud};

use crate::cloud::{CloudError, OpContext};

use crate::model::*;

use aws_sdk_rds::types::Tag;

/// What callers need of an instance, once it has an endpoint. Never the password: only the
/// ARN of the secret that holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub secret_arn: String,
}

impl Endpoint {
    /// The environment and secrets a caller's container gets (`valueFrom` names a JSON key of
    /// the secret: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html).
    pub fn environment(&self, prefix: &str) -> [(String, String); 2] {
        [
            (format!("{prefix}_HOST"), self.host.clone()),
            (format!("{prefix}_PORT"), self.port.to_string()),
        ]
    }
    pub fn secrets(&self, prefix: &str) -> [(String, String); 2] {
        [
            (
                format!("{prefix}_USERNAME"),
                format!("{}:username::", self.secret_arn),
            ),
            (
                format!("{prefix}_PASSWORD"),
                format!("{}:password::", self.secret_arn),
            ),
        ]
    }
}

fn tags(ctx: &OpContext<'_>, name: &str) -> Vec<Tag> {
    ownership_tags(ctx, name)
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// The DB subnet group an instance is in, as observed (so an update knows whether it moves).
fn subnet_group_key(identifier: &str) -> String {
    format!("rds-subnet-group:{identifier}")
}

fn endpoint_key(identifier: &str) -> String {
    format!("rds-endpoint:{identifier}")
}

fn read_endpoint(db: &aws_sdk_rds::types::DbInstance) -> Option<Endpoint> {
    let e = db.endpoint()?;
    Some(Endpoint {
        host: e.address()?.to_string(),
        port: u16::try_from(e.port()?).ok()?,
        secret_arn: db.master_user_secret()?.secret_arn()?.to_string(),
    })
}

fn remember_endpoint(cloud: &AwsCloud, identifier: &str, e: &Endpoint) {
    cloud.remember(
        &endpoint_key(identifier),
        &serde_json::json!({"host": e.host, "port": e.port, "secret": e.secret_arn}).to_string(),
    );
}

/// A replaced instance keeps its identifier, never its endpoint or secret.
fn forget_endpoint(cloud: &AwsCloud, identifier: &str) {
    cloud.forget(&endpoint_key(identifier));
}

fn recalled_endpoint(cloud: &AwsCloud, identifier: &str) -> Option<Endpoint> {
    let v: serde_json::Value =
        serde_json::from_str(&cloud.recall(&endpoint_key(identifier))?).ok()?;
    Some(Endpoint {
        host: v["host"].as_str()?.to_string(),
        port: u16::try_from(v["port"].as_u64()?).ok()?,
        secret_arn: v["secret"].as_str()?.to_string(),
    })
}

async fn describe(
    cloud: &AwsCloud,
    identifier: &str,
) -> Result<aws_sdk_rds::types::DbInstance, CloudError> {
    let out = call(|| {
        cloud
            .rds
            .describe_db_instances()
            .db_instance_identifier(identifier)
            .send()
    })
    .await?;
    out.db_instances()
        .first()
        .cloned()
        .ok_or_else(|| CloudError::NotFound(format!("DB instance {identifier}")))
}

/// States an instance does not leave on its own: waiting longer will not help.
/// (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/accessing-monitoring.html)
const STUCK: &[&str] = &[
    "failed",
    "incompatible-network",
    "incompatible-parameters",
    "incompatible-restore",
    "inaccessible-encryption-credentials",
    "storage-full",
];

/// The instance's endpoint, waiting while AWS has not given it one yet (`creating`).
pub async fn endpoint(cloud: &AwsCloud, identifier: &str) -> Result<Endpoint, CloudError> {
    if let Some(e) = recalled_endpoint(cloud, identifier) {
        return Ok(e);
    }
    let found = std::sync::Mutex::new(None);
    super::retry::wait_until(
        &format!("DB instance {identifier} to get an endpoint"),
        cloud.timeouts.provisioning,
        || {
            let found = &found;
            async move {
                let db = describe(cloud, identifier).await?;
                let status = db.db_instance_status().unwrap_or("unknown").to_string();
                if STUCK.contains(&status.as_str()) {
                    return Err(CloudError::Other(format!(
                        "DB instance {identifier} is {status}: see its events (`aws rds describe-events --source-identifier {identifier} --source-type db-instance`)"
                    )));
                }
                match read_endpoint(&db) {
                    Some(e) => {
                        if let Ok(mut slot) = found.lock() {
                            *slot = Some(e);
                        }
                        Ok(None)
                    }
                    None => Ok(Some(status)),
                }
            }
        },
    )
    .await?;
    let e = found
        .into_inner()
        .ok()
        .flatten()
        .ok_or_else(|| missing("DBInstance.Endpoint"))?;
    remember_endpoint(cloud, identifier, &e);
    Ok(e)
}

/// The instance's address and port now, if it exists and has them (no waiting).
pub async fn endpoint_now(
    cloud: &AwsCloud,
    identifier: &str,
) -> Result<Option<(String, u16)>, CloudError> {
    match describe(cloud, identifier).await {
        Ok(db) => Ok(db
            .endpoint()
            .and_then(|e| Some((e.address()?.to_string(), u16::try_from(e.port()?).ok()?)))),
        Err(CloudError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The stack's subnet groups and instances (`<stack>-…`, by their tags), the engine version
/// reported as the file wrote it when AWS's is that version or a minor release of it.
pub async fn observe(cloud: &AwsCloud, stack: &str, hint: &Desired) -> Result<Found, CloudError> {
    let prefix = format!("{stack}-");
    let instances = async {
        let mut out = Vec::new();
        let mut pages = cloud
            .rds
            .describe_db_instances()
            .max_records(100)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            out.extend(page.map_err(aws_err)?.db_instances().iter().cloned());
        }
        Ok::<_, CloudError>(out)
    };
    let groups = async {
        let mut out = Vec::new();
        let mut pages = cloud
            .rds
            .describe_db_subnet_groups()
            .max_records(100)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            out.extend(
                page.map_err(aws_err)?
                    .db_subnet_groups()
                    .iter()
                    .filter(|g| {
                        g.db_subnet_group_name()
                            .is_some_and(|n| n.starts_with(&prefix))
                    })
                    .cloned(),
            );
        }
        let tags = futures::future::try_join_all(out.iter().map(|g| async move {
            call(|| {
                cloud
                    .rds
                    .list_tags_for_resource()
                    .resource_name(g.db_subnet_group_arn().unwrap_or_default())
                    .send()
            })
            .await
        }))
        .await?;
        Ok::<_, CloudError>(out.into_iter().zip(tags).collect::<Vec<_>>())
    };
    let (instances, groups) = tokio::try_join!(instances, groups)?;
    let mut found = Found::new(stack);
    for (g, tags) in &groups {
        let tags = tag_map(tags.tag_list().iter().map(|t| (t.key(), t.value())));
        found.add(&tags, g.db_subnet_group_name(), |_| {
            let mut subnets: Vec<Ref> = g
                .subnets()
                .iter()
                .filter_map(|s| s.subnet_identifier())
                .map(|s| Ref::Unowned(s.into()))
                .collect();
            subnets.sort();
            Resource::DbSubnetGroup(DbSubnetGroup {
                name: g.db_subnet_group_name().unwrap_or_default().into(),
                description: g.db_subnet_group_description().unwrap_or_default().into(),
                vpc: Ref::Unowned(g.vpc_id().unwrap_or_default().into()),
                subnets,
            })
        });
    }
    for db in instances
        .iter()
        .filter(|d| d.db_instance_status() != Some("deleting"))
    {
        let tags = tag_map(db.tag_list().iter().map(|t| (t.key(), t.value())));
        let identifier = db.db_instance_identifier().unwrap_or_default();
        if let Some(e) = read_endpoint(db) {
            remember_endpoint(cloud, identifier, &e);
        }
        let wanted_version = tags
            .get(TAG_ID)
            .and_then(|id| hint.resources.get(&ResourceId::new(id.as_str())))
            .and_then(|r| match r {
                Resource::DbInstance(d) => d.engine_version.clone(),
                _ => None,
            });
        found.add(&tags, Some(identifier), |_| {
            let mut groups: Vec<Ref> = db
                .vpc_security_groups()
                .iter()
                .filter_map(|g| g.vpc_security_group_id())
                .map(|g| Ref::Unowned(g.into()))
                .collect();
            groups.sort();
            let live = db.engine_version().map(String::from);
            let engine_version = match (&wanted_version, &live) {
                (Some(w), Some(l)) if l == w || l.starts_with(&format!("{w}.")) => Some(w.clone()),
                _ => live,
            };
            Resource::DbInstance(DbInstance {
                identifier: identifier.into(),
                engine: db.engine().unwrap_or_default().into(),
                engine_version,
                instance_class: db.db_instance_class().unwrap_or_default().into(),
                storage_gb: db
                    .allocated_storage()
                    .and_then(|s| u32::try_from(s).ok())
                    .unwrap_or(0),
                multi_az: db.multi_az().unwrap_or(false),
                encrypted: db.storage_encrypted().unwrap_or(false),
                publicly_accessible: db.publicly_accessible().unwrap_or(false),
                deletion_protection: db.deletion_protection().unwrap_or(false),
                master_username: db.master_username().unwrap_or_default().into(),
                subnet_group: Ref::Unowned({
                    let group = db
                        .db_subnet_group()
                        .and_then(|g| g.db_subnet_group_name())
                        .unwrap_or_default();
                    cloud.remember(&subnet_group_key(identifier), group);
                    group.into()
                }),
                security_groups: groups,
            })
        });
    }
    Ok(found)
}

/// Task definitions read back with a database's host, port and secret keys as their
/// environment and secrets: those four are the link the file asked for (`databases` of the
/// task definition), not four values someone typed.
pub fn fold_database_links(cloud: &AwsCloud, items: &mut [ObservedResource]) {
    let endpoints: Vec<(String, Endpoint)> = items
        .iter()
        .filter(|i| i.resource.kind() == Kind::DbInstance)
        .filter_map(|i| {
            Some((
                i.physical_id.clone(),
                recalled_endpoint(cloud, &i.physical_id)?,
            ))
        })
        .collect();
    for item in items.iter_mut() {
        let Resource::TaskDefinition(td) = &mut item.resource else {
            continue;
        };
        for (identifier, e) in &endpoints {
            let prefixes: Vec<String> = td
                .environment
                .iter()
                .filter(|(_, v)| **v == e.host)
                .filter_map(|(k, _)| k.strip_suffix("_HOST").map(String::from))
                .collect();
            for prefix in prefixes {
                let env = e.environment(&prefix);
                let secrets = e.secrets(&prefix);
                let linked = env.iter().all(|(k, v)| td.environment.get(k) == Some(v))
                    && secrets.iter().all(|(k, v)| td.secrets.get(k) == Some(v));
                if !linked {
                    continue;
                }
                for (k, _) in env {
                    td.environment.remove(&k);
                }
                for (k, _) in secrets {
                    td.secrets.remove(&k);
                }
                td.databases.push(DatabaseLink {
                    prefix,
                    database: Ref::Unowned(identifier.clone()),
                });
            }
        }
        td.databases.sort();
    }
}

use super::kinds::AwsKind;

use super::pacing::Family;

use crate::plan::schedule::OpKind;

#[cfg(test)]
mod tests {
    use super::Endpoint;

    #[test]
    fn callers_get_the_address_and_the_secret_keys_never_a_password() {
        let e = Endpoint {
            host: "campus-db.abc.us-east-1.rds.amazonaws.com".into(),
            port: 3306,
            secret_arn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-1-AbCdEf"
                .into(),
        };
        assert_eq!(
            e.environment("CAMPUS_DB")[1],
            ("CAMPUS_DB_PORT".to_string(), "3306".to_string())
        );
        assert_eq!(
            e.secrets("CAMPUS_DB")[1].1,
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-1-AbCdEf:password::"
        );
    }
}
