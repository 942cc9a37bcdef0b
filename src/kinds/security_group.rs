//! The `security_group` kind: its model and what the engine must know about it.

use super::{fields, KindSpec};
use crate::model::{Kind, Ref};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityGroup {
    pub name: String,
    pub vpc: Ref,
    pub description: String,
}

impl KindSpec for SecurityGroup {
    const KIND: Kind = Kind::SecurityGroup;
    const FORCES_REPLACEMENT: &'static [&'static str] =
        fields!(SecurityGroup; name, vpc, description);
    /// Created beside the old one when its `vpc` is replaced: a group name is unique within its VPC only.
    fn unique_within(&self) -> Option<&Ref> {
        Some(&self.vpc)
    }
    fn refs(&self) -> Vec<&Ref> {
        vec![&self.vpc]
    }
    fn refs_mut(&mut self) -> Vec<&mut Ref> {
        vec![&mut self.vpc]
    }
}
