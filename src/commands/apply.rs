//! `apply`: observe, diff, confirm, carry out the plan; `--wait` for steady services.

use super::*;
use crate::plan::{Action, Step};

/// How `apply` goes about it (its flags).
#[derive(Debug, Clone, Default)]
pub struct ApplyOptions {
    pub auto_approve: bool,
    pub parallelism: usize,
    pub wait: bool,
    /// Logical ids whose replacement may lose data (`--allow-replace`).
    pub allow_replace: Vec<String>,
    /// A repository this run deletes takes its images with it (`--delete-images`).
    pub delete_images: bool,
}

/// Everything of `apply` after the lock is taken; any cloud (AWS, or the in-memory one in tests).
pub async fn apply_cmd<C: StackOps>(
    cloud: &C,
    t: &Topology,
    saved: Option<&Path>,
    options: &ApplyOptions,
    halt: &Halt,
) -> Result<ExitCode> {
    let desired = expand(t, cloud.region());
    let (plan, observed) =
        until_halted(halt, make_plan(cloud, t, &desired, options.delete_images)).await?;
    if let Some(path) = saved {
        check_saved_plan(path, &plan)?;
    }
    print!("{}", render_text(&plan));
    refuse_forbidden(&plan, &options.allow_replace)?;
    if !plan.is_empty() {
        until_halted(halt, confirm(options.auto_approve, "apply")).await?;
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
        until_halted(halt, wait_for_services(cloud, t)).await?;
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

/// A saved plan is applied only if it is still exactly what AWS needs.
pub(super) fn check_saved_plan(path: &Path, fresh: &Plan) -> Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let saved: Plan = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a plan saved by `ecsform plan --out`",
            path.display()
        )
    })?;
    if &saved != fresh {
        bail!("the saved plan {} is stale: AWS or the topology changed since it was made; run `ecsform plan` again", path.display());
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
    let sched = schedule(plan, desired, observed)?;
    let started = Instant::now();
    let progress = Reporter::new(sched.ops.len());
    let report = execute(cloud, plan, &sched, observed, parallelism, &progress, halt).await;
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

pub(super) async fn wait_for_services<C: StackOps>(cloud: &C, t: &Topology) -> Result<()> {
    eprintln!("Waiting for the ECS services to reach a steady state...");
    let names: Vec<String> = t
        .services
        .keys()
        .map(|s| crate::names::ecs_service(&t.name, s))
        .collect();
    cloud.wait_for_steady_services(&t.name, &names).await?;
    eprintln!("All {} services are steady.", names.len());
    Ok(())
}
