//! A plan is data: what must change, and why. `diff` builds it, `schedule` orders it, `render`
//! prints it.

pub mod diff;
pub mod document;
pub mod render;
pub mod schedule;

use crate::kinds::ReplaceOrder;
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

impl Action {
    /// What happens to the resource, as a past participle: "api/students.GET created".
    pub fn verb(self) -> &'static str {
        match self {
            Action::Create => "created",
            Action::Update => "changed",
            Action::Replace => "replaced",
            Action::Delete => "removed",
        }
    }
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
    /// Why, typed and in words: "cidr forces replacement", "sg.svc.api gets a new identity".
    pub reasons: Vec<Reason>,
    /// For a replacement: whether the new one comes first (no gap) or the old one goes first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replacement: Option<Replacement>,
    /// Why the steps cannot be carried out in any order AWS accepts (set by `diff`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked: Option<String>,
    /// The difference was made outside ecsform: the file asks for what the last apply did.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub drift: bool,
}

impl Step {
    /// The reasons' words, in order.
    pub fn reason_texts(&self) -> Vec<&str> {
        self.reasons.iter().map(|r| r.text.as_str()).collect()
    }

    /// Why AWS would refuse this step or the flags do not permit it (`apply` and `destroy` then
    /// change nothing): a change AWS cannot make, or a delete — also the old half of a
    /// replacement — that is refused (deletion protection, images without `--delete-images`).
    /// A replacement makes a new one, so what AWS refuses to change in place does not apply.
    pub fn refusal(&self) -> Option<String> {
        if let Some(why) = &self.blocked {
            return Some(why.clone());
        }
        let have = self.before.as_ref()?;
        match (&self.after, self.action) {
            (None, _) => have.refuses_delete(),
            (Some(_), Action::Replace) => have.refuses_delete().map(|why| {
                format!(
                    "{} is replaced, which deletes the old one first, and {why}; apply what permits the delete on its own (without the change that replaces it), then that change",
                    self.id
                )
            }),
            (Some(want), _) => want.refuses_change(have),
        }
    }
}

/// Why a step is in the plan, or what it costs: a `code` for machines, `text` for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub code: ReasonCode,
    pub text: String,
}

impl Reason {
    pub fn new(code: ReasonCode, text: impl Into<String>) -> Self {
        Reason {
            code,
            text: text.into(),
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// The kinds of reason, stable in the JSON plan (docs/plan-json.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    /// A changed field AWS cannot change in place.
    ForcesReplacement,
    /// Something it refers to gets a new AWS identity (replaced, or moved to a new VPC).
    DependencyReplaced,
    /// AWS differs from the last apply while the file does not: changed outside ecsform.
    Drift,
    /// Its service left the file.
    ServiceRemoved,
    /// Its service was renamed (`renamed_from`).
    ServiceRenamed,
    /// It is not in the topology (any more).
    NotInTopology,
    /// `destroy` deletes it.
    Destroyed,
    /// AWS or the flags forbid the step: `apply` refuses the whole plan.
    Refused,
    /// A replacement that loses data or rebuilds the network: `apply` needs `--allow-replace`.
    NeedsAllowReplace,
    /// A create-first replacement takes its second name (names unique in the region).
    SecondName,
    /// An API deployment is renewed because what it snapshots changed.
    ApiChanged,
    /// The delete loses data (logs, images): the text starts with `DATA LOSS`.
    DataLoss,
    /// What carrying the step out costs or does (a restart, a final snapshot).
    Cost,
}

/// How a replacement is carried out, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replacement {
    pub order: ReplaceOrder,
    pub cause: ReplaceCause,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Copy)]
#[serde(rename_all = "snake_case")]
pub enum ReplaceCause {
    /// The new one can exist beside the old one (create first: no gap).
    CoexistsWithOld,
    /// This kind cannot have the old and the new one at once (a unique name, an attachment).
    KindRule,
    /// Something it depends on is itself replaced delete-first, so it goes with it.
    FollowsDeleteFirst,
    /// What keeps it delete-first is unique only within a parent that is replaced create-first
    /// (a subnet's CIDR in a new VPC): the new one is built in the new parent, beside the old.
    NewParent,
}

impl Replacement {
    /// Whether what uses the resource is briefly without it.
    pub fn has_gap(&self) -> bool {
        self.order == ReplaceOrder::DeleteFirst
    }
    pub fn describe(&self) -> &'static str {
        match self.cause {
            ReplaceCause::CoexistsWithOld => {
                "create first: the new one exists before the old one goes, no gap"
            }
            ReplaceCause::KindRule => {
                "delete first: the old one must go before the new one can exist; what uses it has a gap"
            }
            ReplaceCause::NewParent => {
                "create first, in its new parent: the new one exists before the old one goes, no gap"
            }
            ReplaceCause::FollowsDeleteFirst => {
                "delete first, with what it depends on; what uses it has a gap"
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Format version of the saved plan.
    pub version: u32,
    pub stack: String,
    pub region: String,
    pub steps: Vec<Step>,
}

/// 2: typed reasons, the topology's path and hash, summary and reachability.
pub const PLAN_FORMAT_VERSION: u32 = 2;

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
