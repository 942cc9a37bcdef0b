//! `schedule`: a plan → operations with their prerequisites. Pure.
//!
//! Creates and updates follow the desired references (what a resource points at exists first);
//! deletes follow observed references reversed (what points at a resource goes first). A replace
//! is a delete then a create, so both orders apply to it.

use super::{Action, Plan, ReplaceCause, Replacement, Step};
use crate::kinds::ReplaceOrder;
use crate::model::{Desired, Kind, Observed, ResourceId};
use petgraph::algo::toposort;
use petgraph::graph::{DiGraph, NodeIndex};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    Delete,
    Create,
    Update,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Op {
    /// Index of the plan step this carries out.
    pub step: usize,
    pub kind: OpKind,
    pub id: ResourceId,
    /// A delete AWS carries out with its parent's ([`crate::kinds::KindSpec::deleted_with`]):
    /// done once that parent's delete is, without a call of its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted_with: Option<ResourceId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Schedule {
    pub ops: Vec<Op>,
    /// `after[i]`: ops that must finish before op `i` starts.
    pub after: Vec<Vec<usize>>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the resources depend on each other in a cycle: {0}")]
pub struct CycleError(pub String);

pub fn schedule(
    plan: &Plan,
    desired: &Desired,
    observed: &Observed,
) -> Result<Schedule, CycleError> {
    let mut ops = Vec::new();
    for (i, step) in plan.steps.iter().enumerate() {
        let kinds: &[OpKind] = match step.action {
            Action::Create => &[OpKind::Create],
            Action::Update => &[OpKind::Update],
            Action::Delete => &[OpKind::Delete],
            Action::Replace => &[OpKind::Delete, OpKind::Create],
        };
        for &kind in kinds {
            ops.push(Op {
                step: i,
                kind,
                id: step.id.clone(),
                deleted_with: None,
            });
        }
    }
    let index: BTreeMap<(ResourceId, OpKind), usize> = ops
        .iter()
        .enumerate()
        .map(|(i, op)| ((op.id.clone(), op.kind), i))
        .collect();
    let find = |id: &ResourceId, kind: OpKind| index.get(&(id.clone(), kind)).copied();

    let cbd: Vec<bool> = replacements(&plan.steps, desired, observed)
        .iter()
        .map(|r| r.is_some_and(|r| r.order == ReplaceOrder::CreateFirst))
        .collect();
    let mut after: Vec<Vec<usize>> = vec![Vec::new(); ops.len()];
    for (i, op) in ops.iter().enumerate() {
        match op.kind {
            OpKind::Create | OpKind::Update => {
                if op.kind == OpKind::Create {
                    if let Some(old) = find(&op.id, OpKind::Delete) {
                        if cbd[op.step] {
                            after[old].push(i);
                        } else {
                            after[i].push(old);
                        }
                    }
                }
                for dep in desired.prerequisites(&op.id) {
                    after[i].extend(find(&dep, OpKind::Create));
                    after[i].extend(find(&dep, OpKind::Update));
                }
            }
            OpKind::Delete => {}
        }
    }
    // What an existing resource points at is deleted only after that resource is deleted or has
    // been updated to point elsewhere.
    let mut cascaded = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        if op.kind == OpKind::Create {
            continue;
        }
        let Some(have) = observed.resources.get(&op.id) else {
            continue;
        };
        let parent = have.resource.deleted_with().and_then(|r| r.as_id());
        for dep in have.resource.dependencies() {
            let Some(dep_delete) = find(&dep, OpKind::Delete) else {
                continue;
            };
            // Deleted with its parent: nothing to do before the parent goes, done after it.
            if op.kind == OpKind::Delete && parent == Some(&dep) {
                cascaded.push((i, dep.clone()));
                after[i].push(dep_delete);
                continue;
            }
            // An update that needs the replacement of `dep` cannot also precede its deletion
            // when the old one must go first (its name is taken): that case is left to the
            // cloud layer's dependency retries.
            let destroy_first = !cbd[ops[dep_delete].step];
            if destroy_first
                && op.kind == OpKind::Update
                && find(&dep, OpKind::Create).is_some_and(|c| after[i].contains(&c))
            {
                continue;
            }
            after[dep_delete].push(i);
        }
    }
    // A snapshot of an API (a deployment) is taken after every change to what it captures,
    // deletions included: the references alone do not order it after a removed method.
    for (i, op) in ops.iter().enumerate() {
        let Some(snapshot) = desired.resources.get(&op.id).filter(|r| r.snapshots_api()) else {
            continue;
        };
        if op.kind == OpKind::Delete {
            continue;
        }
        for (j, other) in ops.iter().enumerate() {
            let resource = desired
                .resources
                .get(&other.id)
                .or_else(|| observed.resources.get(&other.id).map(|o| &o.resource));
            if resource.is_some_and(|r| r.in_api_snapshot() && r.api() == snapshot.api()) {
                after[i].push(j);
            }
        }
    }
    for (i, parent) in cascaded {
        ops[i].deleted_with = Some(parent);
    }
    held_by_api_stages(plan, desired, observed, &ops, &cbd, &mut after);
    for list in &mut after {
        list.sort_unstable();
        list.dedup();
    }
    let s = Schedule { ops, after };
    check_acyclic(&s)?;
    Ok(s)
}

/// A VPC link is deleted only once no method or deployed stage uses it: after every update and
/// delete of a method or stage, and every delete of a REST API, in the plan (moto does not
/// return an integration's connectionId, and a stage's deployment keeps using the link after
/// its method changed, so the references alone cannot order it). A link replaced delete-first
/// is left out: its successor is what the methods and stages move to.
fn held_by_api_stages(
    plan: &Plan,
    desired: &Desired,
    observed: &Observed,
    ops: &[Op],
    create_first: &[bool],
    after: &mut [Vec<usize>],
) {
    let kind_of = |op: &Op| {
        observed
            .resources
            .get(&op.id)
            .map(|o| o.resource.kind())
            .or_else(|| desired.resources.get(&op.id).map(|r| r.kind()))
    };
    let users: Vec<usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, op)| {
            matches!(
                (kind_of(op), op.kind),
                (
                    Some(Kind::ApiMethod | Kind::ApiStage),
                    OpKind::Update | OpKind::Delete
                ) | (Some(Kind::RestApi), OpKind::Delete)
            )
        })
        .map(|(j, _)| j)
        .collect();
    for (i, op) in ops.iter().enumerate() {
        let delete_first = plan.steps[op.step].action == Action::Replace && !create_first[op.step];
        if op.kind != OpKind::Delete
            || delete_first
            || !kind_of(op).is_some_and(Kind::held_by_api_stages)
        {
            continue;
        }
        after[i].extend(users.iter().copied());
    }
}

/// How each replace step is carried out. Create-before-destroy only where the kind allows it
/// and nothing it depends on goes destroy-first (a rule on a group being replaced goes with its
/// group). `diff` records the result in the plan; `schedule` orders by it.
pub fn replacements(
    steps: &[Step],
    desired: &Desired,
    observed: &Observed,
) -> Vec<Option<Replacement>> {
    let index: BTreeMap<&ResourceId, usize> =
        steps.iter().enumerate().map(|(i, s)| (&s.id, i)).collect();
    let mut out: Vec<Option<Replacement>> = steps
        .iter()
        .map(|s| {
            (s.action == Action::Replace).then(|| {
                if create_before_destroy(s.kind)
                    || changes_kind(s)
                    || clear_of_everything(s, observed)
                {
                    Replacement {
                        order: ReplaceOrder::CreateFirst,
                        cause: ReplaceCause::CoexistsWithOld,
                    }
                } else {
                    Replacement {
                        order: ReplaceOrder::DeleteFirst,
                        cause: ReplaceCause::KindRule,
                    }
                }
            })
        })
        .collect();
    // A dependency whose deletion comes before its successor's creation: replaced delete-first.
    // (One deleted outright goes after the old resource whatever the order, and the new one
    // does not need it: it forces nothing.)
    let deleted_first = |out: &[Option<Replacement>], dep: &ResourceId| {
        index.get(dep).is_some_and(|&d| match steps[d].action {
            Action::Replace => out[d].is_some_and(|r| r.order == ReplaceOrder::DeleteFirst),
            Action::Delete | Action::Create | Action::Update => false,
        })
    };
    let created_first = |out: &[Option<Replacement>], parent: &ResourceId| {
        index
            .get(parent)
            .is_some_and(|&p| out[p].is_some_and(|r| r.order == ReplaceOrder::CreateFirst))
    };
    loop {
        let mut changed = false;
        // What is delete-first only because a key is unique within its parent can be created
        // first in a new parent that is itself created first.
        for (i, step) in steps.iter().enumerate() {
            if !out[i].is_some_and(|r| r.cause == ReplaceCause::KindRule) {
                continue;
            }
            let parent = step
                .after
                .as_ref()
                .and_then(|r| r.unique_within())
                .and_then(|p| p.as_id());
            if parent.is_some_and(|p| created_first(&out, p)) {
                out[i] = Some(Replacement {
                    order: ReplaceOrder::CreateFirst,
                    cause: ReplaceCause::NewParent,
                });
                changed = true;
            }
        }
        for (i, step) in steps.iter().enumerate() {
            if !out[i].is_some_and(|r| r.order == ReplaceOrder::CreateFirst) {
                continue;
            }
            let mut deps = desired.prerequisites(&step.id);
            deps.extend(
                observed
                    .resources
                    .get(&step.id)
                    .map(|o| o.resource.dependencies())
                    .unwrap_or_default(),
            );
            if deps.iter().any(|d| deleted_first(&out, d)) {
                out[i] = Some(Replacement {
                    order: ReplaceOrder::DeleteFirst,
                    cause: ReplaceCause::FollowsDeleteFirst,
                });
                changed = true;
            }
        }
        if !changed {
            return out;
        }
    }
}

/// A replacement by another kind under the same id (a REST VPC link becoming a V2 link): two
/// different AWS resources, which never clash, so the new one can come first and what uses the
/// old one move to it (AWS refuses to delete a VPC link that methods or a stage still use).
fn changes_kind(step: &Step) -> bool {
    matches!((&step.before, &step.after), (Some(old), Some(new)) if old.kind() != new.kind())
}

/// A replacement whose kind tests for clashes ([`crate::kinds::KindSpec::clashes_with`]) and
/// that clashes with no existing resource of its kind, itself included.
fn clear_of_everything(step: &Step, observed: &Observed) -> bool {
    let Some(want) = &step.after else {
        return false;
    };
    let mut others = observed
        .resources
        .values()
        .filter(|o| o.resource.kind() == step.kind)
        .map(|o| want.clashes_with(&o.resource));
    others.all(|clash| clash == Some(false))
}

/// Kinds replaced by creating the new one first, then moving what points at the old one, then
/// deleting it: no gap in traffic or reachability (each kind says, in `crate::kinds`).
pub fn create_before_destroy(kind: Kind) -> bool {
    kind.replace_order() == crate::kinds::ReplaceOrder::CreateFirst
}

fn graph(s: &Schedule) -> DiGraph<usize, ()> {
    let mut g = DiGraph::new();
    let nodes: Vec<NodeIndex> = (0..s.ops.len()).map(|i| g.add_node(i)).collect();
    for (i, before) in s.after.iter().enumerate() {
        for &b in before {
            g.add_edge(nodes[b], nodes[i], ());
        }
    }
    g
}

fn check_acyclic(s: &Schedule) -> Result<(), CycleError> {
    toposort(&graph(s), None).map(|_| ()).map_err(|cycle| {
        let op = &s.ops[cycle.node_id().index()];
        CycleError(format!("{:?} {}", op.kind, op.id))
    })
}

/// Roughly how long AWS keeps an operation busy (seconds): the slow kinds' pending or
/// deleting times (NAT gateway 1.5 min, load balancer 2.5, namespace 1, RDS 5, REST VPC link
/// 10; a deleted ECS service's or load balancer's interfaces linger ~2), else 1 for a call.
/// Used only to start the long chains first when more is ready than there are slots.
pub fn typical_seconds(kind: Kind, op: OpKind) -> f64 {
    match (kind, op) {
        (Kind::NatGateway, OpKind::Create | OpKind::Delete) => 90.0,
        (Kind::LoadBalancer, OpKind::Create) => 150.0,
        (Kind::Namespace, OpKind::Create | OpKind::Delete) => 60.0,
        (Kind::DbInstance, OpKind::Create | OpKind::Delete) => 300.0,
        (Kind::VpcLink, OpKind::Create) => 600.0,
        (Kind::VpcLink, OpKind::Delete) => 120.0,
        (Kind::VpcLinkV2, OpKind::Create | OpKind::Delete) => 120.0,
        (Kind::EcsService | Kind::LoadBalancer, OpKind::Delete) => 120.0,
        _ => 1.0,
    }
}

impl Schedule {
    /// For each op, the longest chain of `typical_seconds` from its start to the end of the
    /// run, itself included. Ready ops start in this order, longest first: with more ready than
    /// slots, the NLB → VPC link → deployment chain must not queue behind quick leaves.
    pub fn critical_path(&self, plan: &Plan) -> Vec<f64> {
        let n = self.ops.len();
        let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, before) in self.after.iter().enumerate() {
            for &b in before {
                dependents[b].push(i);
            }
        }
        let mut rank = vec![0.0f64; n];
        let order = toposort(&graph(self), None).unwrap_or_default();
        for node in order.into_iter().rev() {
            let i = node.index();
            let op = &self.ops[i];
            let own = typical_seconds(plan.steps[op.step].kind, op.kind);
            let after = dependents[i].iter().map(|&d| rank[d]).fold(0.0, f64::max);
            rank[i] = own + after;
        }
        rank
    }

    /// Ops grouped by depth: every op of a wave can run once all earlier waves are done.
    pub fn waves(&self) -> Vec<Vec<usize>> {
        let mut depth = vec![0usize; self.ops.len()];
        let order = toposort(&graph(self), None).unwrap_or_default();
        for node in order {
            let i = node.index();
            depth[i] = self.after[i]
                .iter()
                .map(|&b| depth[b] + 1)
                .max()
                .unwrap_or(0);
        }
        let mut waves: Vec<Vec<usize>> = Vec::new();
        for (i, &d) in depth.iter().enumerate() {
            if waves.len() <= d {
                waves.resize(d + 1, Vec::new());
            }
            waves[d].push(i);
        }
        waves
    }

    /// Every op that (transitively) waits for `op`.
    pub fn dependents_of(&self, op: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut stack = vec![op];
        let mut seen = vec![false; self.ops.len()];
        while let Some(o) = stack.pop() {
            for (i, before) in self.after.iter().enumerate() {
                if !seen[i] && before.contains(&o) {
                    seen[i] = true;
                    out.push(i);
                    stack.push(i);
                }
            }
        }
        out.sort_unstable();
        out
    }
}
