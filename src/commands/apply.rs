//! `apply`: observe, diff, confirm, carry out the plan; `--wait` for steady services.

use super::*;
use crate::cli::FileArg;
use crate::plan::document::{differences, sha256_hex, PlanDocument};
use crate::plan::schedule::OpKind;
use crate::plan::{Action, Step};
use std::path::PathBuf;

/// How `apply` goes about it (its flags).
#[derive(Debug, Clone, Default)]
pub struct ApplyOptions {
    pub auto_approve: bool,
    pub parallelism: usize,
    pub wait: bool,
    /// How long `wait` waits (`--wait-timeout`); zero means the default, 15 minutes.
    pub wait_timeout: std::time::Duration,
    /// Logical ids whose replacement may lose data (`--allow-replace`).
    pub allow_replace: Vec<String>,
    /// A repository this run deletes takes its images with it (`--delete-images`).
    pub delete_images: bool,
}

/// Everything of `apply` after the lock is taken; any cloud (AWS, or the in-memory one in tests).
pub async fn apply_cmd<C: StackOps>(
    cloud: &C,
    t: &Topology,
    saved: Option<&SavedPlan>,
    options: &ApplyOptions,
    halt: &Halt,
) -> Result<ExitCode> {
    let desired = expand(t, cloud.region());
    let delete_images = options.delete_images || saved.is_some_and(|s| s.document.delete_images);
    let (plan, observed) = until_halted(halt, make_plan(cloud, t, &desired, delete_images)).await?;
    if let Some(saved) = saved {
        check_saved_plan(saved, &plan)?;
    }
    crate::ui::print_plan(&render_text(&plan));
    refuse_forbidden(&plan, &options.allow_replace)?;
    if !plan.is_empty() {
        // A saved plan was reviewed when it was made, and it is still exactly this plan.
        let approved = options.auto_approve || saved.is_some();
        until_halted(halt, confirm(approved, "apply")).await?;
        if options.wait {
            // Each service's wait starts when its own create or update is done, beside the
            // rest of the apply (its tasks take minutes to start), not after everything.
            let (done, finished) = tokio::sync::mpsc::unbounded_channel();
            // Dropped when the apply ends: the waits then know no more services are coming.
            let sender = std::sync::Mutex::new(Some(done));
            let on_done = |r: &OpReport| {
                let service = r.id.as_str().strip_prefix("service.");
                if r.outcome != Outcome::Done || r.kind == OpKind::Delete {
                    return;
                }
                if let (Some(svc), Ok(tx)) = (service.filter(|s| !s.contains('.')), sender.lock()) {
                    if let Some(tx) = tx.as_ref() {
                        let _ = tx.send(crate::names::ecs_service(&t.name, svc));
                    }
                }
            };
            let applied = async {
                let result = carry_out_telling(
                    cloud,
                    &plan,
                    &desired,
                    &observed,
                    options.parallelism,
                    halt,
                    Some(&on_done),
                )
                .await;
                if let Ok(mut tx) = sender.lock() {
                    tx.take();
                }
                result
            };
            let waited = until_halted(halt, wait_as_done(cloud, t, finished, options.wait_timeout));
            tokio::pin!(applied, waited);
            // A rollback seen while the apply goes on is reported once the apply is over.
            let mut waited_early = None;
            let applied = loop {
                tokio::select! {
                    result = &mut applied => break result,
                    result = &mut waited, if waited_early.is_none() => waited_early = Some(result),
                }
            };
            applied?;
            match waited_early {
                Some(result) => result?,
                None => waited.await?,
            }
            return Ok(ExitCode::SUCCESS);
        }
        carry_out(cloud, &plan, &desired, &observed, options.parallelism, halt).await?;
    } else {
        // Nothing to change, and AWS equals the file: the record says so (a stack applied by an
        // older ecsform gets its first one).
        let record = crate::applied::after_run(
            &desired,
            &observed,
            &plan,
            &crate::execute::Report::default(),
        );
        if observed.last_applied.as_ref() != Some(&record) {
            keep_record(cloud, &plan.stack, &record, false).await;
        }
    }
    if options.wait {
        until_halted(halt, wait_for_services(cloud, t, options.wait_timeout)).await?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Nothing is changed when any step is one AWS would refuse or the flags do not permit (the
/// plan marks them REFUSED), or a replacement that loses data (a database) or rebuilds
/// everything in it (a VPC) is not named by `--allow-replace`: CI gets one clear refusal
/// listing all of it, instead of a half-done run, an empty database or an outage.
pub(super) fn refuse_forbidden(plan: &Plan, allowed: &[String]) -> Result<()> {
    let mut problems: Vec<String> = plan.steps.iter().filter_map(Step::refusal).collect();
    let unallowed: Vec<(&str, String)> = plan
        .steps
        .iter()
        .filter(|s| s.action == Action::Replace)
        .filter_map(|s| {
            let cost = s.before.as_ref()?.replacement_cost()?;
            Some((s.id.as_str(), cost))
        })
        .filter(|(id, _)| !allowed.iter().any(|a| a == id))
        .collect();
    if !unallowed.is_empty() {
        problems.push(format!(
            "the plan replaces {}; if that is what you want, run again with {}",
            unallowed
                .iter()
                .map(|(id, cost)| format!("{id} ({cost})"))
                .collect::<Vec<_>>()
                .join(", "),
            unallowed
                .iter()
                .map(|(id, _)| format!("--allow-replace {id}"))
                .collect::<Vec<_>>()
                .join(" ")
        ));
    }
    if problems.is_empty() {
        return Ok(());
    }
    bail!(
        "refusing to start, nothing was changed: {}",
        problems.join("; ")
    )
}

/// A plan saved by `plan --out`, and where it was read from.
#[derive(Debug, Clone)]
pub struct SavedPlan {
    pub path: PathBuf,
    pub document: PlanDocument,
}

pub fn read_saved_plan(path: &Path) -> Result<SavedPlan> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let document =
        PlanDocument::from_json(&text).map_err(|why| anyhow!("{} {why}", path.display()))?;
    Ok(SavedPlan {
        path: path.to_path_buf(),
        document,
    })
}

/// The topology of `apply`: `-f`, else the file the saved plan was made from, else the default.
pub fn topology_file(f: &FileArg, saved: Option<&SavedPlan>) -> PathBuf {
    match (&f.file, saved.and_then(|s| s.document.topology.as_ref())) {
        (Some(file), _) => file.clone(),
        (None, Some(source)) => PathBuf::from(&source.absolute),
        (None, None) => PathBuf::from(FileArg::DEFAULT),
    }
}

/// The file must be byte for byte the one the plan was made from: an edit since is named
/// before anything is read from AWS.
pub fn check_file_unchanged(saved: &PlanDocument, path: &Path) -> Result<()> {
    let Some(source) = &saved.topology else {
        return Ok(());
    };
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let now = sha256_hex(&bytes);
    if now != source.sha256 {
        bail!(
            "the saved plan is stale: {} changed since the plan was saved from {} (SHA-256 {} then, {} now); nothing was changed: run `ecsform plan --out` again",
            path.display(),
            source.path,
            source.sha256.get(..12).unwrap_or(&source.sha256),
            now.get(..12).unwrap_or(&now)
        );
    }
    Ok(())
}

/// A saved plan is applied only if it is still exactly what AWS needs: for the same stack, and
/// step for step what a fresh plan says; otherwise the resources that differ are named.
pub(super) fn check_saved_plan(saved: &SavedPlan, fresh: &Plan) -> Result<()> {
    let plan = &saved.document.plan;
    if (plan.stack.as_str(), plan.region.as_str()) != (fresh.stack.as_str(), fresh.region.as_str())
    {
        bail!(
            "the saved plan {} is for stack `{}` in {}, and the topology is stack `{}` in {}; nothing was changed",
            saved.path.display(),
            plan.stack,
            plan.region,
            fresh.stack,
            fresh.region
        );
    }
    let differences = differences(plan, fresh);
    if !differences.is_empty() {
        bail!(
            "the saved plan {} is stale: AWS changed since it was made, nothing was changed; run `ecsform plan --out` again. What differs now:\n  {}",
            saved.path.display(),
            differences.join("\n  ")
        );
    }
    Ok(())
}

/// Writes the last-applied record (or deletes it, after a destroy that left nothing). Failing
/// to keep it loses nothing of the stack: the next plan cannot tell drift apart, and says so.
async fn keep_record<C: StackOps>(
    cloud: &C,
    stack: &str,
    record: &crate::applied::AppliedRecord,
    forget: bool,
) {
    let kept = if forget {
        cloud.forget_applied(stack).await
    } else {
        cloud.record_applied(stack, record).await
    };
    if let Err(e) = kept {
        eprintln!("warning: the last-applied record was not kept ({e}): the next plan cannot tell changes made outside ecsform from the file's");
    }
}

pub(super) async fn carry_out<C: StackOps>(
    cloud: &C,
    plan: &Plan,
    desired: &Desired,
    observed: &Observed,
    parallelism: usize,
    halt: &Halt,
) -> Result<()> {
    carry_out_telling(cloud, plan, desired, observed, parallelism, halt, None).await
}

/// The progress display, and `on_done` told of every op as it ends.
struct Telling<'a> {
    display: &'a Reporter,
    on_done: Option<&'a (dyn Fn(&OpReport) + Sync)>,
}

impl crate::execute::Progress for Telling<'_> {
    fn started(&self, id: &crate::model::ResourceId, kind: OpKind) {
        self.display.started(id, kind);
    }
    fn finished(&self, report: &OpReport) {
        self.display.finished(report);
        if let Some(on_done) = self.on_done {
            on_done(report);
        }
    }
}

pub(super) async fn carry_out_telling<C: StackOps>(
    cloud: &C,
    plan: &Plan,
    desired: &Desired,
    observed: &Observed,
    parallelism: usize,
    halt: &Halt,
    on_done: Option<&(dyn Fn(&OpReport) + Sync)>,
) -> Result<()> {
    let sched = schedule(plan, desired, observed)?;
    let started = Instant::now();
    let display = Reporter::new(sched.ops.len());
    let progress = Telling {
        display: &display,
        on_done,
    };
    let report = execute(cloud, plan, &sched, observed, parallelism, &progress, halt).await;
    let progress = display;
    progress.finish();
    // What now equals the file is recorded, also after a failure (a rerun resumes from it).
    let record = crate::applied::after_run(desired, observed, plan, &report);
    keep_record(
        cloud,
        &plan.stack,
        &record,
        record.is_empty() && desired.resources.is_empty(),
    )
    .await;
    let failed: Vec<&OpReport> = report.failed().collect();
    let skipped = report.skipped().count();
    if let Some(reason) = halt.reason() {
        for f in &failed {
            if let Outcome::Failed(e) = &f.outcome {
                eprintln!("failed: {:?} {}: {e}", f.kind, f.id);
            }
        }
        eprintln!(
            "Stopped, {reason}: {} of {} operations done, {} left{}. Run the command again: it resumes where this stopped.",
            report.done(),
            sched.ops.len(),
            report.left() + skipped,
            if failed.is_empty() {
                String::new()
            } else {
                format!(", {} failed", failed.len())
            }
        );
        return Err(Interrupted(reason).into());
    }
    // A NAT gateway is not waited for (AWS accepts routes to a pending one); one that AWS
    // already reports failed makes the apply fail, naming it, instead of ending green with
    // the private subnets' route to the internet pointing at a dead gateway.
    let failures = match cloud.failures_after_apply().await {
        Ok(failures) => failures,
        Err(e) => vec![format!("could not check the NAT gateways created: {e}")],
    };
    if failed.is_empty() && !failures.is_empty() {
        for failure in &failures {
            eprintln!("failed: {failure}");
        }
        bail!(
            "{} resource(s) created by this apply failed in AWS; everything else was applied. Run the command again: it replaces them.",
            failures.len()
        );
    }
    if failed.is_empty() {
        eprintln!(
            "Done in {:.1}s: {}",
            started.elapsed().as_secs_f64(),
            summary_line(plan).trim_start_matches("Plan: ")
        );
        return Ok(());
    }
    for f in &failed {
        if let Outcome::Failed(e) = &f.outcome {
            eprintln!("failed: {:?} {}: {e}", f.kind, f.id);
        }
    }
    bail!(
        "{} operation(s) failed and {} were skipped because they depend on them; everything else was applied. Fix the cause and run the command again: it resumes where this stopped.",
        failed.len(),
        skipped
    )
}

/// `--wait-timeout`, where zero means the default, 15 minutes.
fn wait_limit(limit: std::time::Duration) -> std::time::Duration {
    if limit.is_zero() {
        std::time::Duration::from_secs(15 * 60)
    } else {
        limit
    }
}

/// `--wait` beside the apply: a wait for the services named on `finished` as their ops are done,
/// then, once the apply is over, one for every service of the file (those it did not touch
/// are steady already, or are told as not).
async fn wait_as_done<C: StackOps>(
    cloud: &C,
    t: &Topology,
    mut finished: tokio::sync::mpsc::UnboundedReceiver<String>,
    limit: std::time::Duration,
) -> Result<()> {
    use futures::stream::{FuturesUnordered, StreamExt};
    let limit = wait_limit(limit);
    let mut waits = FuturesUnordered::new();
    let mut open = true;
    while open || !waits.is_empty() {
        tokio::select! {
            name = finished.recv(), if open => match name {
                // Services done together (a wave of creates) share one poller: one
                // DescribeServices per ten of them, not one per service.
                Some(name) => {
                    let mut names = vec![name];
                    while let Ok(more) = finished.try_recv() {
                        names.push(more);
                    }
                    waits.push(async move {
                        cloud.wait_for_steady_services(&t.name, &names, limit).await
                    });
                }
                None => open = false,
            },
            Some(result) = waits.next(), if !waits.is_empty() => result?,
        }
    }
    wait_for_services(cloud, t, limit).await
}

pub(super) async fn wait_for_services<C: StackOps>(
    cloud: &C,
    t: &Topology,
    limit: std::time::Duration,
) -> Result<()> {
    let limit = wait_limit(limit);
    eprintln!("Waiting for the ECS services to reach a steady state...");
    let names: Vec<String> = t
        .services
        .keys()
        .map(|s| crate::names::ecs_service(&t.name, s))
        .collect();
    cloud
        .wait_for_steady_services(&t.name, &names, limit)
        .await?;
    eprintln!("All {} services are steady.", names.len());
    Ok(())
}
