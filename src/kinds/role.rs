//! The `iam_role` kind: its model and what the engine must know about it.

use super::{fields, KindSpec};
use crate::model::{Kind, Ref};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    pub name: String,
    /// The service principal allowed to assume it, e.g. `ecs-tasks.amazonaws.com`.
    pub assumed_by: String,
    pub managed_policies: Vec<String>,
    /// Inline policy document as canonical JSON; none = no inline policy.
    pub inline_policy: Option<String>,
}

impl KindSpec for Role {
    const KIND: Kind = Kind::Role;
    const FORCES_REPLACEMENT: &'static [&'static str] = fields!(Role; name, assumed_by);
    fn refs(&self) -> Vec<&Ref> {
        vec![]
    }
    fn refs_mut(&mut self) -> Vec<&mut Ref> {
        vec![]
    }
}
