//! Carries out a scheduled plan: every op whose prerequisites are done runs, at most
//! `parallelism` at once. A failed op never stops independent work; what waits for it is skipped.

use crate::cloud::{Cloud, CloudError, OpContext};
use crate::model::{Observed, ObservedResource, ResourceId};
use crate::plan::schedule::{OpKind, Schedule};
use crate::plan::Plan;
use futures::stream::{FuturesUnordered, StreamExt};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long in-flight operations may go on after a halt before they are abandoned. An abandoned
/// call may still complete in AWS; everything ecsform creates is tagged at creation and adopted
/// by the next run, so nothing is lost, and this keeps a cancelled CI job inside the few seconds
/// runners allow between SIGTERM and SIGKILL.
pub const HALT_GRACE: Duration = Duration::from_secs(10);

/// Why a run stops starting operations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HaltReason {
    /// SIGINT, SIGTERM or SIGHUP (the signal's number).
    Signal(i32),
    /// The stack lock's lease could not be renewed, or another run holds it now.
    LockLost(String),
}

impl std::fmt::Display for HaltReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HaltReason::Signal(2) => f.write_str("interrupted (SIGINT)"),
            HaltReason::Signal(15) => f.write_str("terminated (SIGTERM)"),
            HaltReason::Signal(1) => f.write_str("hung up (SIGHUP)"),
            HaltReason::Signal(n) => write!(f, "stopped by signal {n}"),
            HaltReason::LockLost(why) => write!(f, "lost the stack lock: {why}"),
        }
    }
}

/// Shared "stop starting work" switch: set once by a signal handler or the lock's heartbeat,
/// read by the executor (and by commands between their phases).
#[derive(Clone, Default)]
pub struct Halt {
    inner: Arc<HaltInner>,
}

#[derive(Default)]
struct HaltInner {
    reason: Mutex<Option<HaltReason>>,
    notify: tokio::sync::Notify,
}

impl Halt {
    /// Sets the reason unless one is set already; true if this call set it.
    pub fn set(&self, reason: HaltReason) -> bool {
        let mut r = self.inner.reason.lock().unwrap_or_else(|p| p.into_inner());
        if r.is_some() {
            return false;
        }
        *r = Some(reason);
        drop(r);
        self.inner.notify.notify_waiters();
        true
    }
    pub fn reason(&self) -> Option<HaltReason> {
        self.inner
            .reason
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
    pub fn is_set(&self) -> bool {
        self.reason().is_some()
    }
    /// Resolves once the halt is set (at once if it already is).
    pub async fn wait(&self) {
        loop {
            let notified = self.inner.notify.notified();
            if self.is_set() {
                return;
            }
            notified.await;
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    Failed(String),
    /// Not attempted because an op it waits for failed.
    Skipped(ResourceId),
    /// Not started because the run was halted.
    NotStarted,
    /// In flight when the run was halted, still unanswered after the grace period.
    Abandoned,
}

#[derive(Debug, Clone)]
pub struct OpReport {
    pub op: usize,
    pub id: ResourceId,
    pub kind: OpKind,
    pub outcome: Outcome,
    pub elapsed: Duration,
}

#[derive(Debug, Default)]
pub struct Report {
    pub ops: Vec<OpReport>,
}

impl Report {
    pub fn failed(&self) -> impl Iterator<Item = &OpReport> {
        self.ops
            .iter()
            .filter(|o| matches!(o.outcome, Outcome::Failed(_)))
    }
    pub fn skipped(&self) -> impl Iterator<Item = &OpReport> {
        self.ops
            .iter()
            .filter(|o| matches!(o.outcome, Outcome::Skipped(_)))
    }
    pub fn succeeded(&self) -> bool {
        self.ops.iter().all(|o| o.outcome == Outcome::Done)
    }
    pub fn done(&self) -> usize {
        self.count(|o| *o == Outcome::Done)
    }
    /// Ops a halted run left for the next run: not started or abandoned in flight.
    pub fn left(&self) -> usize {
        self.count(|o| matches!(o, Outcome::NotStarted | Outcome::Abandoned))
    }
    fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.ops.iter().filter(|o| f(&o.outcome)).count()
    }
}

/// Told about every op as it starts and ends (progress bars, log lines, tests).
pub trait Progress: Sync {
    fn started(&self, _id: &ResourceId, _kind: OpKind) {}
    fn finished(&self, _report: &OpReport) {}
}

pub struct Silent;
impl Progress for Silent {}

pub async fn execute<C: Cloud>(
    cloud: &C,
    plan: &Plan,
    schedule: &Schedule,
    observed: &Observed,
    parallelism: usize,
    progress: &dyn Progress,
    halt: &Halt,
) -> Report {
    let parallelism = parallelism.max(1);
    let mut physical: BTreeMap<ResourceId, String> = observed
        .resources
        .values()
        .map(|o| (o.id.clone(), o.physical_id.clone()))
        .collect();
    let observed_ids = physical.clone();
    let n = schedule.ops.len();
    let mut waiting: Vec<usize> = schedule.after.iter().map(Vec::len).collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, before) in schedule.after.iter().enumerate() {
        for &b in before {
            dependents[b].push(i);
        }
    }
    // Popped from the end: the longest chain of AWS time first, then the lowest op index
    // (deterministic for a given parallelism).
    let rank = schedule.critical_path(plan);
    let by_priority = |a: &usize, b: &usize| rank[*a].total_cmp(&rank[*b]).then(b.cmp(a));
    let mut ready: Vec<usize> = (0..n).filter(|&i| waiting[i] == 0).collect();
    ready.sort_unstable_by(by_priority);
    let mut report = Report::default();
    let mut resolved = vec![false; n];
    let slots = std::sync::Arc::new(crate::slots::Slots::new(parallelism));
    let mut running = FuturesUnordered::new();

    let mut grace_ends: Option<tokio::time::Instant> = None;
    let mut pushed = vec![false; n];
    loop {
        if halt.is_set() {
            grace_ends.get_or_insert_with(|| tokio::time::Instant::now() + HALT_GRACE);
            // Nothing new starts: what is ready is left for the next run.
            for i in std::mem::take(&mut ready) {
                resolved[i] = true;
                let op = &schedule.ops[i];
                report.ops.push(OpReport {
                    op: i,
                    id: op.id.clone(),
                    kind: op.kind,
                    outcome: Outcome::NotStarted,
                    elapsed: Duration::ZERO,
                });
            }
        }
        while let Some(i) = ready.pop() {
            pushed[i] = true;
            let op = &schedule.ops[i];
            let kind = plan.steps[op.step].kind;
            // Each op sees the ids of what it points at, known by the time it is ready. A delete
            // sees what the old resource points at: after a create-first replacement the same
            // logical id names the new one (an old gateway detaches from the old VPC).
            let before = ids_for(&plan.steps[op.step], &observed_ids);
            let known = match op.kind {
                OpKind::Delete => before.clone(),
                OpKind::Create | OpKind::Update => ids_for(&plan.steps[op.step], &physical),
            };
            let (slots, priority) = (&slots, rank[i]);
            running.push(async move {
                if op.deleted_with.is_some() {
                    // Gone with its parent, whose delete is done: no call, no slot, no pacing.
                    return (i, Ok(None), Duration::ZERO);
                }
                // Waiting for AWS's rate limits does not hold a slot: other work goes on.
                let admitted = async {
                    cloud.pace(kind, op.kind).await;
                    Some(slots.acquire(priority, i).await)
                };
                let slot = tokio::select! {
                    slot = admitted => slot,
                    () = halt.wait() => None,
                };
                let Some(slot) = slot.filter(|_| !halt.is_set()) else {
                    return (i, Err(None), Duration::ZERO);
                };
                progress.started(&op.id, op.kind);
                let started = Instant::now();
                let result = crate::slots::holding(
                    slot,
                    priority,
                    i,
                    run_op(cloud, plan, schedule, observed, i, &known, &before),
                )
                .await;
                (i, result.map_err(Some), started.elapsed())
            });
        }
        let next = match grace_ends {
            None => tokio::select! {
                next = running.next() => next,
                () = halt.wait() => continue,
            },
            Some(deadline) => tokio::select! {
                next = running.next() => next,
                () = tokio::time::sleep_until(deadline) => None,
            },
        };
        let Some((i, result, elapsed)) = next else {
            break;
        };
        let op = &schedule.ops[i];
        resolved[i] = true;
        let outcome = match result {
            Ok(Some(new_id)) => {
                physical.insert(op.id.clone(), new_id);
                Outcome::Done
            }
            Ok(None) => {
                // After a create-before-destroy the map already holds the new resource's id.
                let deleted = observed
                    .resources
                    .get(&op.id)
                    .map(|o| o.physical_id.as_str());
                if op.kind == OpKind::Delete && physical.get(&op.id).map(String::as_str) == deleted
                {
                    physical.remove(&op.id);
                }
                Outcome::Done
            }
            Err(Some(e)) => Outcome::Failed(e.to_string()),
            Err(None) => Outcome::NotStarted,
        };
        let r = OpReport {
            op: i,
            id: op.id.clone(),
            kind: op.kind,
            outcome: outcome.clone(),
            elapsed,
        };
        if outcome != Outcome::NotStarted {
            progress.finished(&r);
        }
        report.ops.push(r);
        if outcome == Outcome::NotStarted {
            // Its dependents were never ready: they are counted below as not started.
        } else if outcome == Outcome::Done {
            for &d in &dependents[i] {
                waiting[d] -= 1;
                if waiting[d] == 0 && !resolved[d] {
                    ready.push(d);
                }
            }
            ready.sort_unstable_by(by_priority);
        } else {
            for d in schedule.dependents_of(i) {
                if !resolved[d] {
                    resolved[d] = true;
                    let sk = schedule.ops[d].clone();
                    let r = OpReport {
                        op: d,
                        id: sk.id,
                        kind: sk.kind,
                        outcome: Outcome::Skipped(op.id.clone()),
                        elapsed: Duration::ZERO,
                    };
                    progress.finished(&r);
                    report.ops.push(r);
                }
            }
            ready.retain(|r| !resolved[*r]);
        }
    }
    if halt.is_set() {
        // In flight past the grace period, or never reached because what they wait for did not run.
        for (i, op) in schedule.ops.iter().enumerate() {
            if !resolved[i] {
                report.ops.push(OpReport {
                    op: i,
                    id: op.id.clone(),
                    kind: op.kind,
                    outcome: if pushed[i] {
                        Outcome::Abandoned
                    } else {
                        Outcome::NotStarted
                    },
                    elapsed: Duration::ZERO,
                });
            }
        }
    }
    report
}

/// The AWS ids an op may need: its own and those of everything it points at, before and after.
fn ids_for(
    step: &crate::plan::Step,
    physical: &BTreeMap<ResourceId, String>,
) -> BTreeMap<ResourceId, String> {
    let mut wanted = vec![step.id.clone()];
    for r in step.before.iter().chain(step.after.iter()) {
        wanted.extend(r.dependencies());
    }
    wanted
        .into_iter()
        .filter_map(|id| physical.get(&id).map(|p| (id, p.clone())))
        .collect()
}

/// Runs one op; `Some(id)` is the resource's AWS id after a create or update.
async fn run_op<C: Cloud>(
    cloud: &C,
    plan: &Plan,
    schedule: &Schedule,
    observed: &Observed,
    i: usize,
    physical: &BTreeMap<ResourceId, String>,
    observed_ids: &BTreeMap<ResourceId, String>,
) -> Result<Option<String>, CloudError> {
    let op = &schedule.ops[i];
    let step = &plan.steps[op.step];
    let ctx = OpContext {
        stack: &plan.stack,
        id: &op.id,
        physical,
        observed: observed_ids,
    };
    let have = || -> Result<ObservedResource, CloudError> {
        if let Some(o) = observed.resources.get(&op.id) {
            return Ok(o.clone());
        }
        // A saved plan carries what it saw, so it can be applied without observing again.
        match (&step.before, &step.physical_id) {
            (Some(before), Some(p)) => Ok(ObservedResource {
                id: op.id.clone(),
                resource: before.clone(),
                physical_id: p.clone(),
            }),
            _ => Err(CloudError::Other(format!(
                "{}: nothing observed to change",
                op.id
            ))),
        }
    };
    let want = || {
        step.after
            .clone()
            .ok_or_else(|| CloudError::Other(format!("{}: no desired state", op.id)))
    };
    let label = format!("{} {}", format!("{:?}", op.kind).to_lowercase(), op.id);
    crate::waits::within(label, async {
        match op.kind {
            OpKind::Create => cloud.create(&ctx, &want()?).await.map(Some),
            OpKind::Update => cloud.update(&ctx, &have()?, &want()?).await.map(Some),
            OpKind::Delete => cloud.delete(&ctx, &have()?).await.map(|()| None),
        }
    })
    .await
}
