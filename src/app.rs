//! One function per subcommand. Bad input is reported before any AWS call is made.

use crate::cli::{Cli, Command, EmulatorAction, FileArg, GraphFormat};
use crate::cloud::aws::AwsCloud;
use crate::cloud::Cloud;
use crate::desired::expand;
use crate::execute::{execute, Halt, HaltReason, OpReport, Outcome, Progress};
use crate::model::{Desired, Observed, ResourceId};
use crate::plan::diff::diff;
use crate::plan::render::{render_json, render_text, summary_line};
use crate::plan::schedule::{schedule, OpKind};
use crate::plan::Plan;
use crate::stack_lock::{self, StackLock};
use crate::topology::{self, Topology};
use crate::{graph, local};
use anyhow::{anyhow, bail, Context, Result};
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

pub fn run(cli: Cli) -> Result<ExitCode> {
    let local = cli.local;
    crate::cloud::aws::set_verbose(cli.verbose);
    match cli.command {
        Command::Validate(f) => validate(&f),
        Command::Graph {
            file,
            format,
            resources,
        } => graph_cmd(&file, format, resources),
        Command::Emulator { action } => emulator(action),
        Command::Plan {
            file,
            out,
            json,
            detailed_exitcode,
        } => with_runtime(|halt| async move {
            until_halted(
                &halt,
                plan_cmd(&file, local, out.as_deref(), json, detailed_exitcode),
            )
            .await
        }),
        Command::Apply {
            file,
            plan,
            auto_approve,
            parallelism,
            wait,
            lock,
        } => with_runtime(|halt| async move {
            let t = load(&file)?;
            let cloud = until_halted(&halt, connect(&t, local)).await?;
            let guard = StackLock::take(&cloud, &t.name, "apply", lock.timeout(), &halt).await?;
            let result = apply_cmd(
                &cloud,
                &t,
                plan.as_deref(),
                auto_approve,
                parallelism,
                wait,
                &halt,
            )
            .await;
            guard.release(&cloud).await;
            result
        }),
        Command::Destroy {
            file,
            auto_approve,
            parallelism,
            lock,
        } => with_runtime(|halt| async move {
            let t = load(&file)?;
            let cloud = until_halted(&halt, connect(&t, local)).await?;
            let guard = StackLock::take(&cloud, &t.name, "destroy", lock.timeout(), &halt).await?;
            let result = destroy_cmd(&cloud, &t, auto_approve, parallelism, &halt).await;
            guard.release(&cloud).await;
            result
        }),
        Command::ForceUnlock { file, id, force } => with_runtime(|halt| async move {
            until_halted(&halt, force_unlock_cmd(&file, local, &id, force)).await
        }),
        Command::Outputs { file, json } => with_runtime(|halt| async move {
            until_halted(&halt, outputs_cmd(&file, local, json)).await
        }),
    }
}

/// Runs an AWS command on a fresh runtime with signal handling: the first SIGINT, SIGTERM or
/// SIGHUP sets `halt` (the command stops starting work, releases its lock and exits 128 + the
/// signal); a second one exits at once.
fn with_runtime<F, Fut>(command: F) -> Result<ExitCode>
where
    F: FnOnce(Halt) -> Fut,
    Fut: std::future::Future<Output = Result<ExitCode>>,
{
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let halt = Halt::default();
    rt.spawn(crate::interrupt::watch(halt.clone()));
    let result = rt.block_on(command(halt));
    // A prompt abandoned by a signal still blocks a thread on stdin: do not wait for it.
    rt.shutdown_background();
    result
}

/// The run stopped because of a signal or a lost lock (see `exit_code`).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Interrupted(pub HaltReason);

impl From<&Halt> for Interrupted {
    fn from(h: &Halt) -> Self {
        Interrupted(h.reason().unwrap_or(HaltReason::Signal(2)))
    }
}

/// The process exit code for a failed command: 128 + the signal after an interrupt (130 for
/// SIGINT, 143 for SIGTERM, 129 for SIGHUP), 1 for every other error.
pub fn exit_code(err: &anyhow::Error) -> ExitCode {
    match err.downcast_ref::<Interrupted>() {
        Some(Interrupted(HaltReason::Signal(n))) => {
            ExitCode::from(u8::try_from(128 + n).unwrap_or(1))
        }
        _ => ExitCode::from(1),
    }
}

/// Runs a phase that changes nothing in AWS (reading, waiting): a halt drops it at once.
async fn until_halted<T>(
    halt: &Halt,
    phase: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    tokio::select! {
        r = phase => r,
        () = halt.wait() => Err(Interrupted::from(halt).into()),
    }
}

/// Parses, validates and lints; prints warnings; errors end the command before any AWS call.
fn load(f: &FileArg) -> Result<Topology> {
    match topology::load(&f.file) {
        Ok(loaded) => {
            for w in &loaded.warnings {
                eprintln!("{w}");
            }
            Ok(loaded.topology)
        }
        Err(diags) => {
            eprintln!("{diags}");
            Err(anyhow!(
                "{} has {} error(s); nothing was sent to AWS",
                f.file.display(),
                diags.0.len()
            ))
        }
    }
}

fn validate(f: &FileArg) -> Result<ExitCode> {
    let t = load(f)?;
    let d = expand(&t, t.region.as_deref().unwrap_or("us-east-1"));
    println!(
        "{} is valid: stack `{}`, {} services, {} resources.",
        f.file.display(),
        t.name,
        t.services.len(),
        d.resources.len()
    );
    Ok(ExitCode::SUCCESS)
}

fn graph_cmd(f: &FileArg, format: GraphFormat, resources: bool) -> Result<ExitCode> {
    let t = load(f)?;
    let text = match (resources, format) {
        (false, GraphFormat::Mermaid) => graph::call_graph_mermaid(&t),
        (false, GraphFormat::Dot) => graph::call_graph_dot(&t),
        (true, fmt) => {
            let d = expand(&t, t.region.as_deref().unwrap_or("us-east-1"));
            if fmt == GraphFormat::Mermaid {
                graph::resources_mermaid(&d)
            } else {
                graph::resources_dot(&d)
            }
        }
    };
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

fn emulator(action: EmulatorAction) -> Result<ExitCode> {
    match action {
        EmulatorAction::Status => match local::running_endpoint() {
            Some(e) => println!("running at {e}"),
            None => {
                println!("not running");
                return Ok(ExitCode::from(1));
            }
        },
        EmulatorAction::Stop => {
            if local::stop()? {
                println!("stopped");
            } else {
                println!("not running");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn connect(t: &Topology, local: bool) -> Result<AwsCloud> {
    let endpoint = if local {
        Some(local::ensure_running()?)
    } else {
        None
    };
    let cloud = AwsCloud::connect_to(t.region.as_deref(), endpoint.as_deref()).await?;
    Ok(cloud)
}

/// Observe + diff: what it takes to make AWS equal `desired`.
async fn make_plan(cloud: &AwsCloud, t: &Topology, desired: &Desired) -> Result<(Plan, Observed)> {
    let observed = cloud
        .observe(&t.name, desired)
        .await
        .context("reading the stack from AWS")?;
    let plan = diff(&t.name, cloud.region(), desired, &observed);
    Ok((plan, observed))
}

async fn plan_cmd(
    f: &FileArg,
    local: bool,
    out: Option<&Path>,
    json: bool,
    detailed: bool,
) -> Result<ExitCode> {
    let t = load(f)?;
    let cloud = connect(&t, local).await?;
    let desired = expand(&t, cloud.region());
    let (plan, _) = make_plan(&cloud, &t, &desired).await?;
    if json {
        println!("{}", render_json(&plan));
    } else {
        print!("{}", render_text(&plan));
    }
    if let Some(path) = out {
        std::fs::write(path, render_json(&plan))
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!(
            "Saved the plan to {}; apply it with `ecsform apply {}`.",
            path.display(),
            path.display()
        );
    }
    Ok(if detailed && !plan.is_empty() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

async fn apply_cmd(
    cloud: &AwsCloud,
    t: &Topology,
    saved: Option<&Path>,
    auto_approve: bool,
    parallelism: usize,
    wait: bool,
    halt: &Halt,
) -> Result<ExitCode> {
    let desired = expand(t, cloud.region());
    let (plan, observed) = until_halted(halt, make_plan(cloud, t, &desired)).await?;
    if let Some(path) = saved {
        check_saved_plan(path, &plan)?;
    }
    print!("{}", render_text(&plan));
    if !plan.is_empty() {
        until_halted(halt, confirm(auto_approve, "apply")).await?;
        carry_out(cloud, &plan, &desired, &observed, parallelism, halt).await?;
    }
    if wait {
        until_halted(halt, wait_for_services(cloud, t)).await?;
    }
    Ok(ExitCode::SUCCESS)
}

/// A saved plan is applied only if it is still exactly what AWS needs.
fn check_saved_plan(path: &Path, fresh: &Plan) -> Result<()> {
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

async fn destroy_cmd(
    cloud: &AwsCloud,
    t: &Topology,
    auto_approve: bool,
    parallelism: usize,
    halt: &Halt,
) -> Result<ExitCode> {
    // Reads are guided by what the file names; what is deleted is decided by tags alone.
    let hint = expand(t, cloud.region());
    let observed = until_halted(halt, async {
        cloud
            .observe(&t.name, &hint)
            .await
            .context("reading the stack from AWS")
    })
    .await?;
    let nothing = Desired::default();
    let plan = diff(&t.name, cloud.region(), &nothing, &observed);
    print!("{}", render_text(&plan));
    if !plan.is_empty() {
        until_halted(halt, confirm(auto_approve, "destroy")).await?;
        carry_out(cloud, &plan, &nothing, &observed, parallelism, halt).await?;
    }
    Ok(ExitCode::SUCCESS)
}

async fn confirm(auto_approve: bool, verb: &str) -> Result<()> {
    if auto_approve {
        return Ok(());
    }
    if !ask_yes(&format!(
        "\nDo you want to {verb} these changes? Only 'yes' will be accepted: "
    ))
    .await?
    {
        bail!("{verb} cancelled");
    }
    Ok(())
}

/// Asks on the terminal; refuses (error) without one, so CI never hangs on a prompt. The read
/// runs off the runtime so a signal can end the command while it waits.
async fn ask_yes(question: &str) -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!("refusing without confirmation: no terminal to ask on; pass --auto-approve (force-unlock: --force)");
    }
    eprint!("{question}");
    std::io::stderr().flush().ok();
    let answer = tokio::task::spawn_blocking(|| {
        let mut answer = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut answer)
            .map(|_| answer)
    })
    .await
    .context("reading the answer")??;
    Ok(answer.trim() == "yes")
}

async fn carry_out(
    cloud: &AwsCloud,
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

/// A progress bar on a terminal; one plain line per finished operation otherwise (CI logs).
struct Reporter {
    bar: Option<indicatif::ProgressBar>,
}

impl Reporter {
    fn new(total: usize) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}",
            ) {
                bar.set_style(style);
            }
            bar
        });
        Reporter { bar }
    }
    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

fn verb(kind: OpKind) -> &'static str {
    match kind {
        OpKind::Create => "created",
        OpKind::Update => "updated",
        OpKind::Delete => "deleted",
    }
}

impl Progress for Reporter {
    fn started(&self, id: &ResourceId, kind: OpKind) {
        if let Some(b) = &self.bar {
            b.set_message(format!("{kind:?} {id}").to_lowercase());
        }
    }
    fn finished(&self, r: &OpReport) {
        let line = match &r.outcome {
            Outcome::Done => format!(
                "{} {} ({:.1}s)",
                verb(r.kind),
                r.id,
                r.elapsed.as_secs_f64()
            ),
            Outcome::Failed(e) => format!("FAILED {:?} {}: {e}", r.kind, r.id),
            Outcome::Skipped(cause) => format!("skipped {} (waits for {cause})", r.id),
            Outcome::NotStarted | Outcome::Abandoned => return,
        };
        match &self.bar {
            Some(b) => {
                b.inc(1);
                if !matches!(r.outcome, Outcome::Done) {
                    b.println(line);
                }
            }
            None => eprintln!("{line}"),
        }
    }
}

async fn outputs_cmd(f: &FileArg, local: bool, json: bool) -> Result<ExitCode> {
    let t = load(f)?;
    let cloud = connect(&t, local).await?;
    let mut outputs = cloud.outputs(&t.name).await?;
    for svc in t.services.keys() {
        outputs.insert(
            format!("discovery.{svc}"),
            format!("{svc}.{}", t.discovery.namespace),
        );
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&outputs)?);
    } else {
        for (k, v) in &outputs {
            println!("{k} = {v}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn force_unlock_cmd(f: &FileArg, local: bool, id: &str, force: bool) -> Result<ExitCode> {
    let t = load(f)?;
    let cloud = connect(&t, local).await?;
    let confirmed = force
        || {
            let question = format!(
            "Remove lock {id} of stack `{}`? Any run still holding it would go on unprotected. Only 'yes' will be accepted: ",
            t.name
        );
            ask_yes(&question).await?
        };
    stack_lock::force_unlock(&cloud, &t.name, id, confirmed).await?;
    Ok(ExitCode::SUCCESS)
}

async fn wait_for_services(cloud: &AwsCloud, t: &Topology) -> Result<()> {
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
