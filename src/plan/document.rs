//! The plan as a document: what `plan --json` prints and `plan --out` saves. The steps of the
//! [`Plan`] with what a reviewer and `apply PLAN` need around them: the counts, the reachability
//! changes, and the topology file it was made from (path and hash, so a changed file is named).
//! The format is documented in `docs/plan-json.md`.

use super::render::{reachability, summary_counts};
use super::{Action, Plan, PLAN_FORMAT_VERSION};
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanDocument {
    #[serde(flatten)]
    pub plan: Plan,
    pub summary: Summary,
    /// Who can open connections to whom that could not before, and the reverse.
    pub reachability: Vec<ReachabilityChange>,
    /// The file the plan was made from; absent for plans made without one (tests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topology: Option<TopologySource>,
    /// Made as `--delete-images` plans: `apply PLAN` deletes repositories with their images.
    #[serde(default)]
    pub delete_images: bool,
    /// When it was made (RFC 3339, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub add: usize,
    pub change: usize,
    pub replace: usize,
    pub destroy: usize,
    /// Steps that put back what was changed outside ecsform (also counted above).
    pub drift: usize,
    /// Steps AWS or the flags refuse: `apply` changes nothing while there are any.
    pub refused: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EdgeChange {
    Added,
    Removed,
}

/// One path that opens or closes: `from` reaches `to` on `port`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReachabilityChange {
    pub change: EdgeChange,
    /// A service, `load_balancer`, a CIDR such as `0.0.0.0/0`, or `internet`.
    pub from: String,
    pub to: String,
    pub port: u16,
    /// The same in words, as the text plan prints it.
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopologySource {
    /// As given on the command line.
    pub path: String,
    /// Where it was, so `apply PLAN` finds it from another directory.
    pub absolute: String,
    /// SHA-256 of its bytes, hex.
    pub sha256: String,
}

impl TopologySource {
    pub fn of(path: &Path, bytes: &[u8]) -> TopologySource {
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        TopologySource {
            path: path.display().to_string(),
            absolute: absolute.display().to_string(),
            sha256: sha256_hex(bytes),
        }
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl PlanDocument {
    pub fn new(plan: Plan, topology: Option<TopologySource>, delete_images: bool) -> Self {
        PlanDocument {
            summary: summary_counts(&plan),
            reachability: reachability(&plan),
            plan,
            topology,
            delete_images,
            created_at: None,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// Reads a saved plan; an older or newer format, or not a plan at all, is a clear error.
    pub fn from_json(text: &str) -> Result<PlanDocument, String> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            format!("is not JSON ({e}), so not a plan saved by `ecsform plan --out`")
        })?;
        match value.get("version").and_then(serde_json::Value::as_u64) {
            None => return Err("has no `version`: it is not a plan saved by `ecsform plan --out`".into()),
            Some(v) if v != u64::from(PLAN_FORMAT_VERSION) => {
                return Err(format!(
                    "is a plan of format version {v}, and this ecsform reads version {PLAN_FORMAT_VERSION}: make it again with `ecsform plan --out`"
                ))
            }
            Some(_) => {}
        }
        serde_json::from_value(value)
            .map_err(|e| format!("is not a plan this ecsform can read ({e}): make it again with `ecsform plan --out`"))
    }
}

/// The action as a plan states it: "to create".
fn infinitive(action: Action) -> &'static str {
    match action {
        Action::Create => "create",
        Action::Update => "change",
        Action::Replace => "replace",
        Action::Delete => "destroy",
    }
}

/// How a fresh plan differs from a saved one, resource by resource, in words.
pub fn differences(saved: &Plan, fresh: &Plan) -> Vec<String> {
    let mut out = Vec::new();
    for s in &saved.steps {
        match fresh.step(s.id.as_str()) {
            None => out.push(format!(
                "{}: planned to {}, now nothing to do",
                s.id,
                infinitive(s.action)
            )),
            Some(f) if f.action != s.action => out.push(format!(
                "{}: planned to {}, now to {}",
                s.id,
                infinitive(s.action),
                infinitive(f.action)
            )),
            Some(f) if f != s => out.push(format!(
                "{}: still to {}, with other changes",
                s.id,
                infinitive(s.action)
            )),
            Some(_) => {}
        }
    }
    for f in &fresh.steps {
        if saved.step(f.id.as_str()).is_none() {
            out.push(format!(
                "{}: not in the saved plan, now to {}",
                f.id,
                infinitive(f.action)
            ));
        }
    }
    out
}
