//! A plan is data: what must change, and why. `diff` builds it, `schedule` orders it, `render`
//! prints it.

pub mod diff;
pub mod render;
pub mod schedule;

use crate::model::{Kind, Resource, ResourceId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    Replace,
    Delete,
}

/// One changed top-level field of a resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub before: serde_json::Value,
    pub after: serde_json::Value,
    pub forces_replacement: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub id: ResourceId,
    pub kind: Kind,
    pub action: Action,
    /// What AWS has now (update, replace, delete).
    pub before: Option<Resource>,
    /// What the file asks for (create, update, replace).
    pub after: Option<Resource>,
    /// The AWS id of the existing resource, if any.
    pub physical_id: Option<String>,
    pub changes: Vec<FieldChange>,
    /// Why, in words: "cidr forces replacement", "sg.svc.api replaced".
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Format version of the saved plan.
    pub version: u32,
    pub stack: String,
    pub region: String,
    pub steps: Vec<Step>,
}

pub const PLAN_FORMAT_VERSION: u32 = 1;

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
    pub fn count(&self, action: Action) -> usize {
        self.steps.iter().filter(|s| s.action == action).count()
    }
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id.as_str() == id)
    }
}
