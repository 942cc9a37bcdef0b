//! The identity pass: the task execution role (pull images, write logs, read exactly the
//! declared secrets), a task role per service that declares one, and a log group per service.

use super::{ids, EXECUTION_POLICY_ARN, LOG_RETENTION_DAYS};
use crate::model::*;
use crate::names;
use crate::topology::Topology;

/// What the identity pass made that later passes point at.
pub(crate) struct Identity {
    pub execution_role: ResourceId,
    /// Each service's own task role, for those with `task_role`.
    pub task_roles: std::collections::BTreeMap<String, ResourceId>,
}

pub(super) fn expand(d: &mut Desired, t: &Topology, region: &str) -> Identity {
    for (svc, spec) in &t.services {
        let logs = spec.logs_name(svc);
        d.insert(
            ids::log_group(logs),
            Resource::LogGroup(LogGroup {
                name: names::log_group(&t.name, logs),
                retention_days: Some(LOG_RETENTION_DAYS),
            }),
        );
    }
    for (key, spec) in &t.repositories {
        d.insert(
            ids::repository(key),
            Resource::EcrRepository(EcrRepository {
                name: names::repository(&t.name, key),
                scan_on_push: spec.scan_on_push,
                tag_mutability: match spec.tag_mutability {
                    crate::topology::TagMutability::Mutable => "MUTABLE".into(),
                    crate::topology::TagMutability::Immutable => "IMMUTABLE".into(),
                },
                keep_images: spec.keep_images,
                holds_images: false,
                delete_images: false,
            }),
        );
    }
    let execution_role = d.insert(
        ids::EXECUTION_ROLE,
        Resource::Role(Role {
            name: names::execution_role(&t.name),
            assumed_by: "ecs-tasks.amazonaws.com".into(),
            managed_policies: vec![EXECUTION_POLICY_ARN.into()],
            inline_policy: secrets_policy(t, region),
        }),
    );
    let mut task_roles = std::collections::BTreeMap::new();
    for (svc, spec) in &t.services {
        let Some(role) = &spec.task_role else {
            continue;
        };
        let mut managed = role.managed_policies.clone();
        managed.sort();
        managed.dedup();
        let id = d.insert(
            ids::task_role(svc),
            Resource::Role(Role {
                name: names::task_role(&t.name, svc),
                assumed_by: "ecs-tasks.amazonaws.com".into(),
                managed_policies: managed,
                inline_policy: task_policy(&role.statements),
            }),
        );
        task_roles.insert(svc.clone(), id);
    }
    Identity {
        execution_role,
        task_roles,
    }
}

/// The task role's inline policy: exactly the declared Allow statements.
fn task_policy(statements: &[crate::topology::PolicyStatement]) -> Option<String> {
    if statements.is_empty() {
        return None;
    }
    let statements: Vec<_> = statements
        .iter()
        .map(|s| serde_json::json!({"Effect": "Allow", "Action": s.actions, "Resource": s.resources}))
        .collect();
    Some(serde_json::json!({"Version": "2012-10-17", "Statement": statements}).to_string())
}

/// Read access to exactly the declared secrets, nothing else; `None` when no service has any.
pub fn secrets_policy(t: &Topology, region: &str) -> Option<String> {
    let mut parameters = Vec::new();
    let mut secrets = Vec::new();
    for spec in t.services.values() {
        for source in spec.secrets.values() {
            if source.starts_with("arn:aws:secretsmanager:") {
                secrets.push(source.clone());
            } else if source.starts_with("arn:") {
                parameters.push(source.clone());
            } else {
                let name = source.trim_start_matches('/');
                // The account is the role's own: a policy variable keeps expand free of AWS calls.
                parameters.push(format!(
                    "arn:aws:ssm:{region}:${{aws:PrincipalAccount}}:parameter/{name}"
                ));
            }
        }
    }
    parameters.sort();
    parameters.dedup();
    secrets.sort();
    secrets.dedup();
    let mut statements = Vec::new();
    if !parameters.is_empty() {
        statements.push(serde_json::json!({"Effect": "Allow", "Action": ["ssm:GetParameters"], "Resource": parameters}));
    }
    if !secrets.is_empty() {
        statements.push(serde_json::json!({"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": secrets}));
    }
    // The master secrets of the databases that have callers. RDS names them `rds!db-<uuid>`
    // and tags each with its instance's ARN, which is ours to know: the condition admits
    // exactly those instances' secrets.
    // (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html)
    let databases: Vec<String> = t
        .databases
        .iter()
        .filter(|(_, db)| !db.allowed_callers.is_empty())
        .map(|(key, _)| {
            format!(
                "arn:aws:rds:{region}:${{aws:PrincipalAccount}}:db:{}",
                crate::names::database(&t.name, key)
            )
        })
        .collect();
    if !databases.is_empty() {
        statements.push(serde_json::json!({
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue"],
            "Resource": [format!("arn:aws:secretsmanager:{region}:${{aws:PrincipalAccount}}:secret:rds!db-*")],
            "Condition": {"StringEquals": {"aws:ResourceTag/aws:rds:primaryDBInstanceArn": databases}}
        }));
    }
    if statements.is_empty() {
        return None;
    }
    Some(serde_json::json!({"Version": "2012-10-17", "Statement": statements}).to_string())
}
