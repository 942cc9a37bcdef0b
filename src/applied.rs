//! The last-applied record: a fingerprint of every resource as the file asked for it when an
//! apply last carried it out. There is no state file, and live AWS stays the truth; the record
//! only tells *who* changed a resource that differs from the file. If the file still asks for
//! what was applied, the difference was made outside ecsform (drift); otherwise the file
//! changed. AWS keeps the record (the cloud layer says where); `diff` reads it from `Observed`.

use crate::execute::{Outcome, Report};
use crate::model::{Desired, Observed, Resource, ResourceId};
use crate::plan::Plan;
use std::collections::BTreeMap;

/// Logical id → fingerprint of the resource as applied.
pub type AppliedRecord = BTreeMap<ResourceId, String>;

/// A short, stable fingerprint of a desired resource (its canonical JSON).
pub fn fingerprint(r: &Resource) -> String {
    let json = serde_json::to_string(r).unwrap_or_default();
    format!("{:08x}", crate::topology::naming::fnv1a_32(json.as_bytes()))
}

/// The record after a run: what now equals the file (untouched, or every operation on it done)
/// is recorded as the file has it; what failed or was not reached keeps its old entry; what was
/// deleted leaves the record.
pub fn after_run(
    desired: &Desired,
    observed: &Observed,
    plan: &Plan,
    report: &Report,
) -> AppliedRecord {
    let mut record = observed.last_applied.clone().unwrap_or_default();
    let done = |id: &ResourceId| {
        let mut ops = report.ops.iter().filter(|o| &o.id == id).peekable();
        ops.peek().is_some() && ops.all(|o| o.outcome == Outcome::Done)
    };
    for (id, want) in &desired.resources {
        if plan.step(id.as_str()).is_none() || done(id) {
            record.insert(id.clone(), fingerprint(want));
        }
    }
    record.retain(|id, _| {
        desired.resources.contains_key(id) || (observed.resources.contains_key(id) && !done(id))
    });
    record
}
