//! `diff`: desired × observed → plan. Pure.

use super::{Action, FieldChange, Plan, Reason, ReasonCode, Step, PLAN_FORMAT_VERSION};
use crate::kinds::ReplaceOrder;
use crate::model::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

pub fn diff(stack: &str, region: &str, desired: &Desired, observed: &Observed) -> Plan {
    let removed = removed_services(desired, observed);
    let mut plan = plan(stack, region, desired, observed, |have| {
        removal_reason(&have.id, &removed, &desired.renamed)
    });
    if let Some(record) = &observed.last_applied {
        mark_drift(&mut plan, desired, record);
    }
    plan
}

/// Steps whose difference was made outside ecsform: the file asks for what the last apply
/// carried out, yet AWS differs (changed or deleted by hand), or AWS has what no apply made (a
/// rule added by hand). Everything else is a change of the file.
fn mark_drift(plan: &mut Plan, desired: &Desired, record: &crate::applied::AppliedRecord) {
    for step in &mut plan.steps {
        let applied = record.get(&step.id);
        let (drift, what) = match step.action {
            Action::Create => (
                applied.is_some(),
                "deleted outside ecsform since the last apply: apply creates it again",
            ),
            Action::Delete => (
                applied.is_none(),
                "made outside ecsform (no apply made it): apply removes it",
            ),
            Action::Update | Action::Replace => (
                !step.changes.is_empty()
                    && desired
                        .resources
                        .get(&step.id)
                        .is_some_and(|want| applied == Some(&crate::applied::fingerprint(want))),
                "changed outside ecsform since the last apply: apply puts the file's values back",
            ),
        };
        if drift {
            step.drift = true;
            step.reasons.insert(0, Reason::new(ReasonCode::Drift, what));
        }
    }
}

/// What `destroy` (and `plan --destroy`) will do: delete everything the stack owns.
pub fn diff_destroy(stack: &str, region: &str, observed: &Observed) -> Plan {
    plan(stack, region, &Desired::default(), observed, |_| {
        Reason::new(ReasonCode::Destroyed, "will be destroyed")
    })
}

/// Services the stack runs that the file no longer has.
fn removed_services(desired: &Desired, observed: &Observed) -> BTreeSet<String> {
    observed
        .resources
        .iter()
        .filter(|(id, o)| {
            o.resource.kind() == Kind::EcsService && !desired.resources.contains_key(*id)
        })
        .filter_map(|(id, _)| id.as_str().strip_prefix("service.").map(String::from))
        .collect()
}

/// Why a resource goes: its service left the file, or it is simply not in the topology.
fn removal_reason(
    id: &ResourceId,
    removed: &BTreeSet<String>,
    renamed: &BTreeMap<String, String>,
) -> Reason {
    match services_named(id.as_str())
        .into_iter()
        .find(|svc| removed.contains(*svc))
    {
        Some(svc) => match renamed.get(svc) {
            Some(new) => Reason::new(ReasonCode::ServiceRenamed, format!(
                "service `{svc}` renamed to `{new}` (`renamed_from`): made again under the new name, its logs kept"
            )),
            None => Reason::new(
                ReasonCode::ServiceRemoved,
                format!("service `{svc}` removed from the topology"),
            ),
        },
        None => Reason::new(ReasonCode::NotInTopology, "not in the topology"),
    }
}

/// The services a logical id belongs to, by where `desired::ids` puts a service's name: its
/// own resources (`taskdef.<svc>`, `tg.nlb.<svc>`, `role.task.<svc>`, ...) and either end of
/// a rule between service groups (`sg.svc.<a>.from.sg.svc.<b>`).
fn services_named(id: &str) -> Vec<&str> {
    let segments: Vec<&str> = id.split('.').collect();
    let mut named = match segments.as_slice() {
        ["service" | "taskdef" | "log" | "alarm", svc, ..] => vec![*svc],
        ["tg", "nlb" | "api", svc, ..] => vec![*svc],
        ["tg", svc, ..] => vec![*svc],
        ["role", "task", svc, ..] | ["namespace", "service", svc, ..] => vec![*svc],
        _ => vec![],
    };
    named.extend(
        segments
            .windows(3)
            .filter(|w| w[0] == "sg" && w[1] == "svc")
            .map(|w| w[2]),
    );
    named
}

fn plan(
    stack: &str,
    region: &str,
    desired: &Desired,
    observed: &Observed,
    removal: impl Fn(&ObservedResource) -> Reason,
) -> Plan {
    let mut steps: BTreeMap<ResourceId, Step> = BTreeMap::new();
    for (id, want) in &desired.resources {
        match observed.resources.get(id) {
            None => {
                steps.insert(id.clone(), create_step(id, want));
            }
            Some(have) => {
                if let Some(step) = change_step(id, want, have) {
                    steps.insert(id.clone(), step);
                }
            }
        }
    }
    for (id, have) in &observed.resources {
        if !desired.resources.contains_key(id) {
            steps.insert(id.clone(), delete_step(have, removal(have)));
        }
    }
    propagate_new_identities(desired, observed, &mut steps);
    // A method moved to a new VPC link above needs a new snapshot, whose stage then moves.
    renew_api_snapshots(desired, observed, &mut steps);
    propagate_new_identities(desired, observed, &mut steps);
    say_what_it_costs(&mut steps);
    let mut steps = order_for_reading(steps.into_values().collect());
    let how = super::schedule::replacements(&steps, desired, observed);
    for (step, replacement) in steps.iter_mut().zip(how) {
        step.replacement = replacement;
        if replacement.is_some_and(|r| r.order == ReplaceOrder::CreateFirst) {
            take_second_names(step);
        }
    }
    refuse_deadlocks(&mut steps, desired, observed);
    Plan {
        version: PLAN_FORMAT_VERSION,
        stack: stack.to_string(),
        region: region.to_string(),
        steps,
    }
}

/// A resource whose network interfaces are in something replaced delete-first cannot move to
/// the replacement: AWS keeps the old one while the interfaces are in it (`DependencyViolation`
/// for a subnet or group in use), and the new one cannot exist until the old one is gone. That
/// apply would retry until its timeout; the plan refuses it instead, saying how to get out.
fn refuse_deadlocks(steps: &mut [Step], desired: &Desired, observed: &Observed) {
    let delete_first: BTreeSet<ResourceId> = steps
        .iter()
        .filter(|s| {
            s.replacement
                .is_some_and(|r| r.order == ReplaceOrder::DeleteFirst)
        })
        .map(|s| s.id.clone())
        .collect();
    for step in steps.iter_mut() {
        if step.action != Action::Update || !step.kind.holds_interfaces() {
            continue;
        }
        let Some(have) = observed.resources.get(&step.id) else {
            continue;
        };
        let wanted = desired.prerequisites(&step.id);
        let stuck: Vec<String> = have
            .resource
            .dependencies()
            .into_iter()
            .filter(|d| delete_first.contains(d) && wanted.contains(d))
            .filter(|d| {
                observed.resources.get(d).is_some_and(|o| {
                    matches!(o.resource.kind(), Kind::Subnet | Kind::SecurityGroup)
                })
            })
            .map(|d| d.to_string())
            .collect();
        if stuck.is_empty() {
            continue;
        }
        let why = format!(
            "{} has network interfaces in {}, which must be deleted before its replacement can exist, and AWS does not delete it while they are in it: change it so the new one can exist beside the old one (a subnet: a CIDR clear of every subnet now in the VPC), or take it out of the file and apply (everything leaves it), then put the new one in and apply",
            step.id,
            stuck.join(", ")
        );
        step.reasons.push(Reason::new(
            ReasonCode::Refused,
            format!("{REFUSED}: {why}"),
        ));
        step.blocked = Some(why);
    }
}

/// A replacement created while the old resource still exists cannot share its name when the
/// name is unique in the region: it takes the other of its two names, and the plan says so.
fn take_second_names(step: &mut Step) {
    let (Some(after), Some(before)) = (step.after.as_mut(), step.before.as_ref()) else {
        return;
    };
    if let Some(name) = after.take_name_beside(before) {
        step.reasons.push(Reason::new(
            ReasonCode::SecondName,
            format!("created as `{name}` beside the old one, whose name is unique in the region"),
        ));
    }
}

/// Words on what a step costs beyond its fields: data lost with a replaced database (which
/// `apply` refuses unless allowed), and when AWS carries out an update.
fn say_what_it_costs(steps: &mut BTreeMap<ResourceId, Step>) {
    for step in steps.values_mut() {
        let note = match step.action {
            Action::Replace => step
                .before
                .as_ref()
                .and_then(Resource::replacement_cost)
                .map(|cost| {
                    Reason::new(
                        ReasonCode::NeedsAllowReplace,
                        format!(
                            "{cost}; apply refuses this without `--allow-replace {}`",
                            step.id
                        ),
                    )
                }),
            Action::Update => step
                .kind
                .update_note()
                .map(|note| Reason::new(ReasonCode::Cost, note)),
            Action::Delete => step.before.as_ref().and_then(|have| {
                have.refuses_delete()
                    .map(|why| Reason::new(ReasonCode::Refused, format!("{REFUSED}: {why}")))
                    .or_else(|| {
                        have.delete_note().map(|note| {
                            let code = if note.starts_with(DATA_LOSS) {
                                ReasonCode::DataLoss
                            } else {
                                ReasonCode::Cost
                            };
                            Reason::new(code, note)
                        })
                    })
            }),
            _ => None,
        };
        let refusal = match step.action {
            Action::Delete => None, // said above, with what a delete costs
            _ => step
                .refusal()
                .map(|why| Reason::new(ReasonCode::Refused, format!("{REFUSED}: {why}"))),
        };
        for note in [note, refusal].into_iter().flatten() {
            if !step.reasons.contains(&note) {
                step.reasons.push(note);
            }
        }
    }
}

/// How the plan marks a replacement that loses data.
pub const DATA_LOSS: &str = "DATA LOSS";
/// How the plan marks a step that AWS or the user's flags forbid: `apply` refuses the plan.
pub const REFUSED: &str = "REFUSED";

/// A deployment is an immutable snapshot of its API: when anything it captures changes (a
/// resource or method added, removed, changed — by the file or by hand), a new one is needed,
/// or nothing changed is live. No such change, no new deployment.
fn renew_api_snapshots(
    desired: &Desired,
    observed: &Observed,
    steps: &mut BTreeMap<ResourceId, Step>,
) {
    for (id, want) in desired.resources.iter().filter(|(_, r)| r.snapshots_api()) {
        let Some(have) = observed.resources.get(id) else {
            continue;
        };
        if steps.contains_key(id) {
            continue;
        }
        let changed: Vec<String> = steps
            .values()
            .filter(|s| {
                [s.after.as_ref(), s.before.as_ref()]
                    .into_iter()
                    .flatten()
                    .any(|r| r.in_api_snapshot() && r.api() == want.api())
            })
            .map(|s| format!("{} {}", s.id, s.action.verb()))
            .collect();
        if changed.is_empty() {
            continue;
        }
        steps.insert(
            id.clone(),
            Step {
                id: id.clone(),
                kind: want.kind(),
                action: Action::Replace,
                before: Some(have.resource.clone()),
                after: Some(want.clone()),
                physical_id: Some(have.physical_id.clone()),
                changes: vec![],
                reasons: vec![Reason::new(
                    ReasonCode::ApiChanged,
                    format!("the API changed: {}", changed.join(", ")),
                )],
                replacement: None,
                blocked: None,
                drift: false,
            },
        );
    }
}

fn create_step(id: &ResourceId, want: &Resource) -> Step {
    Step {
        id: id.clone(),
        kind: want.kind(),
        action: Action::Create,
        before: None,
        after: Some(want.clone()),
        physical_id: None,
        changes: vec![],
        reasons: vec![],
        replacement: None,
        blocked: None,
        drift: false,
    }
}

fn delete_step(have: &ObservedResource, reason: Reason) -> Step {
    Step {
        id: have.id.clone(),
        kind: have.resource.kind(),
        action: Action::Delete,
        before: Some(have.resource.clone()),
        after: None,
        physical_id: Some(have.physical_id.clone()),
        changes: vec![],
        reasons: vec![reason],
        replacement: None,
        blocked: None,
        drift: false,
    }
}

fn change_step(id: &ResourceId, want: &Resource, have: &ObservedResource) -> Option<Step> {
    let kind = want.kind();
    let changes: Vec<FieldChange> = if kind != have.resource.kind() {
        vec![FieldChange {
            field: "kind".into(),
            before: Value::String(have.resource.kind().to_string()),
            after: Value::String(kind.to_string()),
            forces_replacement: true,
        }]
    } else {
        field_changes(want, &have.resource)
    };
    if changes.is_empty() {
        return None;
    }
    let forcing: Vec<&str> = changes
        .iter()
        .filter(|c| c.forces_replacement)
        .map(|c| c.field.as_str())
        .collect();
    let (action, reasons) = if forcing.is_empty() {
        (Action::Update, vec![])
    } else {
        (
            Action::Replace,
            vec![Reason::new(
                ReasonCode::ForcesReplacement,
                format!("{} forces replacement", forcing.join(", ")),
            )],
        )
    };
    Some(Step {
        id: id.clone(),
        kind,
        action,
        before: Some(have.resource.clone()),
        after: Some(want.clone()),
        physical_id: Some(have.physical_id.clone()),
        changes,
        reasons,
        replacement: None,
        blocked: None,
        drift: false,
    })
}

/// Top-level fields that differ, each marked with whether AWS can change it in place.
pub fn field_changes(want: &Resource, have: &Resource) -> Vec<FieldChange> {
    let have = &have.named_as(want);
    let kind = want.kind();
    let unknown = have.unknown_on_read();
    let kept_elsewhere = want.kept_elsewhere();
    let settable = have.completes_in_place();
    let (Value::Object(want), Value::Object(have)) = (to_json(want), to_json(have)) else {
        return vec![];
    };
    let mut changes = Vec::new();
    for (field, after) in &want {
        if field == "kind" {
            continue;
        }
        let before = have.get(field).cloned().unwrap_or(Value::Null);
        if unknown.contains(&field.as_str())
            || kept_elsewhere.contains(&field.as_str())
            || same(&before, after)
        {
            continue;
        }
        let forces = kind.forces_replacement(field) && !settable.contains(&field.as_str());
        changes.push(FieldChange {
            field: field.clone(),
            before,
            after: after.clone(),
            forces_replacement: forces,
        });
    }
    changes
}

fn to_json(r: &Resource) -> Value {
    serde_json::to_value(r).unwrap_or(Value::Null)
}

/// Lists whose order AWS does not keep compare as sets.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Array(x), Value::Array(y)) => {
            let xs: BTreeSet<String> = x.iter().map(Value::to_string).collect();
            let ys: BTreeSet<String> = y.iter().map(Value::to_string).collect();
            x.len() == y.len() && xs == ys
        }
        _ => a == b,
    }
}

/// Which fields AWS cannot change in place (each kind says, in `crate::kinds`).
pub fn forces_replacement(kind: Kind, field: &str) -> bool {
    kind.forces_replacement(field)
}

/// Whether carrying out this step gives the resource a new AWS identity that whatever points at
/// it must be moved to.
fn changes_identity(step: &Step) -> bool {
    match step.action {
        Action::Replace => true,
        Action::Update => step.kind.update_renews_identity(),
        Action::Create | Action::Delete => false,
    }
}

/// A resource that points at one getting a new identity must be updated (or replaced, if that
/// reference cannot change in place), even when its own fields are unchanged.
fn propagate_new_identities(
    desired: &Desired,
    observed: &Observed,
    steps: &mut BTreeMap<ResourceId, Step>,
) {
    let moving = in_replaced_vpc(desired, steps);
    loop {
        let renewed: BTreeSet<ResourceId> = steps
            .values()
            .filter(|s| changes_identity(s))
            .map(|s| s.id.clone())
            .collect();
        let mut added = false;
        for (id, want) in &desired.resources {
            if steps
                .get(id)
                .is_some_and(|s| matches!(s.action, Action::Create | Action::Replace))
            {
                continue;
            }
            let Some(have) = observed.resources.get(id) else {
                continue;
            };
            let Value::Object(fields) = to_json(want) else {
                continue;
            };
            for dep in want
                .dependencies()
                .into_iter()
                .filter(|d| renewed.contains(d))
            {
                let field = fields
                    .iter()
                    .find(|(_, v)| mentions(v, dep.as_str()))
                    .map(|(k, _)| k.clone())
                    .unwrap_or_default();
                let moves = want.kind().bound_to_vpc() && moving.contains(id);
                let replace = forces_replacement(want.kind(), &field) || moves;
                let reason = Reason::new(
                    ReasonCode::DependencyReplaced,
                    if moves {
                        format!("{dep} gets a new identity ({field}) in the new VPC, which it cannot move to in place")
                    } else {
                        format!("{dep} gets a new identity ({field})")
                    },
                );
                let step = steps.entry(id.clone()).or_insert_with(|| Step {
                    id: id.clone(),
                    kind: want.kind(),
                    action: Action::Update,
                    before: Some(have.resource.clone()),
                    after: Some(want.clone()),
                    physical_id: Some(have.physical_id.clone()),
                    changes: vec![],
                    reasons: vec![],
                    replacement: None,
                    blocked: None,
                    drift: false,
                });
                if replace && step.action != Action::Replace {
                    step.action = Action::Replace;
                    added = true;
                }
                if !step.reasons.contains(&reason) {
                    step.reasons.push(reason);
                    added = true;
                }
            }
        }
        if !added {
            break;
        }
    }
}

/// Everything the file places, directly or through what it points at, in a VPC being replaced.
fn in_replaced_vpc(desired: &Desired, steps: &BTreeMap<ResourceId, Step>) -> BTreeSet<ResourceId> {
    let mut inside: BTreeSet<ResourceId> = steps
        .values()
        .filter(|s| s.kind == Kind::Vpc && s.action == Action::Replace)
        .map(|s| s.id.clone())
        .collect();
    loop {
        let before = inside.len();
        for (id, r) in &desired.resources {
            if !inside.contains(id) && r.dependencies().iter().any(|d| inside.contains(d)) {
                inside.insert(id.clone());
            }
        }
        if inside.len() == before {
            return inside;
        }
    }
}

fn mentions(v: &Value, id: &str) -> bool {
    match v {
        Value::String(s) => s == id,
        Value::Array(items) => items.iter().any(|i| mentions(i, id)),
        Value::Object(map) => map.values().any(|i| mentions(i, id)),
        _ => false,
    }
}

/// Stable order for people: by kind in creation order, then by id.
fn order_for_reading(mut steps: Vec<Step>) -> Vec<Step> {
    steps.sort_by(|a, b| (a.kind, &a.id).cmp(&(b.kind, &b.id)));
    steps
}
