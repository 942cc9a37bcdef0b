//! The `task_definition` kind: its model and what the engine must know about it.

use super::KindSpec;
use crate::model::{Kind, Ref};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The container image: as written, or a tag of one of the stack's repositories (its URI is
/// known only once it exists).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ImageSource {
    Uri(String),
    Repository { repository: Ref, tag: String },
}

/// A database the container may call: registered as `<PREFIX>_HOST` and `<PREFIX>_PORT` in
/// its environment and `<PREFIX>_USERNAME` / `<PREFIX>_PASSWORD` as secrets from the
/// instance's RDS-managed secret (known once the instance exists; never written here).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DatabaseLink {
    pub prefix: String,
    pub database: Ref,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskDefinition {
    pub family: String,
    pub cpu: u32,
    pub memory: u32,
    pub execution_role: Ref,
    /// What the application may call (`taskRoleArn`); none: no task role.
    pub task_role: Option<Ref>,
    pub container_name: String,
    pub image: ImageSource,
    pub port: u16,
    pub environment: BTreeMap<String, String>,
    /// Environment name → SSM parameter name or ARN (as written in the file).
    pub secrets: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub databases: Vec<DatabaseLink>,
    pub log_group: String,
    pub log_region: String,
}

impl KindSpec for TaskDefinition {
    const KIND: Kind = Kind::TaskDefinition;
    const FORCES_REPLACEMENT: &'static [&'static str] = &[];
    /// Every change registers a new revision in place of the old one: whatever points at it moves.
    const UPDATE_RENEWS_IDENTITY: bool = true;
    fn refs(&self) -> Vec<&Ref> {
        let mut out = vec![&self.execution_role];
        out.extend(self.task_role.as_ref());
        if let ImageSource::Repository { repository, .. } = &self.image {
            out.push(repository);
        }
        out.extend(self.databases.iter().map(|d| &d.database));
        out
    }
    fn refs_mut(&mut self) -> Vec<&mut Ref> {
        let mut out = vec![&mut self.execution_role];
        out.extend(self.task_role.as_mut());
        if let ImageSource::Repository { repository, .. } = &mut self.image {
            out.push(repository);
        }
        out.extend(self.databases.iter_mut().map(|d| &mut d.database));
        out
    }
}
