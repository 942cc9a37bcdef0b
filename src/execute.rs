//! Carries out a scheduled plan: every op whose prerequisites are done runs, at most
//! `parallelism` at once. A failed op never stops independent work; what waits for it is skipped.

use crate::cloud::{Cloud, CloudError, OpContext};
use crate::model::{Observed, ObservedResource, ResourceId};
use crate::plan::schedule::{OpKind, Schedule};
use crate::plan::Plan;
use futures::stream::{FuturesUnordered, StreamExt};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    Failed(String),
    /// Not attempted because an op it waits for failed.
    Skipped(ResourceId),
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
) -> Report {
    let parallelism = parallelism.max(1);
    let mut physical: BTreeMap<ResourceId, String> = observed
        .resources
        .values()
        .map(|o| (o.id.clone(), o.physical_id.clone()))
        .collect();
    let n = schedule.ops.len();
    let mut waiting: Vec<usize> = schedule.after.iter().map(Vec::len).collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, before) in schedule.after.iter().enumerate() {
        for &b in before {
            dependents[b].push(i);
        }
    }
    let mut ready: Vec<usize> = (0..n).filter(|&i| waiting[i] == 0).rev().collect();
    let mut report = Report::default();
    let mut resolved = vec![false; n];
    let slots = tokio::sync::Semaphore::new(parallelism);
    let mut running = FuturesUnordered::new();

    loop {
        while let Some(i) = ready.pop() {
            let op = &schedule.ops[i];
            let kind = plan.steps[op.step].kind;
            // Each op sees the ids of what it points at, known by the time it is ready.
            let known = ids_for(&plan.steps[op.step], &physical);
            let slots = &slots;
            running.push(async move {
                // Waiting for AWS's rate limits does not hold a slot: other work goes on.
                cloud.pace(kind, op.kind).await;
                let _slot = slots.acquire().await.ok();
                progress.started(&op.id, op.kind);
                let started = Instant::now();
                let result = run_op(cloud, plan, schedule, observed, i, &known).await;
                (i, result, started.elapsed())
            });
        }
        let Some((i, result, elapsed)) = running.next().await else {
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
            Err(e) => Outcome::Failed(e.to_string()),
        };
        let r = OpReport {
            op: i,
            id: op.id.clone(),
            kind: op.kind,
            outcome: outcome.clone(),
            elapsed,
        };
        progress.finished(&r);
        report.ops.push(r);
        if outcome == Outcome::Done {
            for &d in &dependents[i] {
                waiting[d] -= 1;
                if waiting[d] == 0 && !resolved[d] {
                    ready.push(d);
                }
            }
            // Lowest op index first: keeps runs deterministic for a given parallelism.
            ready.sort_unstable_by(|a, b| b.cmp(a));
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
) -> Result<Option<String>, CloudError> {
    let op = &schedule.ops[i];
    let step = &plan.steps[op.step];
    let ctx = OpContext {
        stack: &plan.stack,
        id: &op.id,
        physical,
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
    match op.kind {
        OpKind::Create => cloud.create(&ctx, &want()?).await.map(Some),
        OpKind::Update => cloud.update(&ctx, &have()?, &want()?).await.map(Some),
        OpKind::Delete => cloud.delete(&ctx, &have()?).await.map(|()| None),
    }
}
