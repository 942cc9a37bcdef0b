//! The `listener_rule` kind: its model and what the engine must know about it.

use super::{child_id, fields, KindSpec};
use crate::model::{Kind, Ref, ResourceId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListenerRule {
    pub listener: Ref,
    pub priority: u32,
    pub path_patterns: Vec<String>,
    pub methods: Vec<String>,
    pub target_group: Ref,
}

impl KindSpec for ListenerRule {
    const KIND: Kind = Kind::ListenerRule;
    const FORCES_REPLACEMENT: &'static [&'static str] = fields!(ListenerRule; listener);
    /// `<listener>.rule.<priority>`: priorities are unique within a listener.
    fn scoped_id(&self) -> Option<ResourceId> {
        child_id(&self.listener, "rule", self.priority)
    }
    /// Created beside the old one when its `listener` is replaced: a priority is unique within its listener only.
    fn unique_within(&self) -> Option<&Ref> {
        Some(&self.listener)
    }
    fn refs(&self) -> Vec<&Ref> {
        vec![&self.listener, &self.target_group]
    }
    fn refs_mut(&mut self) -> Vec<&mut Ref> {
        vec![&mut self.listener, &mut self.target_group]
    }
}
