//! One function per subcommand. Bad input is reported before any AWS call is made.

use crate::cli::{Cli, Command, EmulatorAction, FileArg, GraphFormat};
use crate::cloud::aws::lock;
use crate::cloud::aws::AwsCloud;
use crate::cloud::{Cloud, LockInfo};
use crate::desired::expand;
use crate::execute::{execute, OpReport, Outcome, Progress};
use crate::model::{Desired, Observed, ResourceId};
use crate::plan::diff::diff;
use crate::plan::render::{render_json, render_text, summary_line};
use crate::plan::schedule::{schedule, OpKind};
use crate::plan::Plan;
use crate::topology::{self, Topology};
use crate::{graph, local};
use anyhow::{anyhow, bail, Context, Result};
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

pub fn run(cli: Cli) -> Result<ExitCode> {
    let local = cli.local;
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
        } => runtime()?.block_on(plan_cmd(
            &file,
            local,
            out.as_deref(),
            json,
            detailed_exitcode,
        )),
        Command::Apply {
            file,
            plan,
            auto_approve,
            parallelism,
            wait,
            lock,
        } => runtime()?.block_on(async {
            let t = load(&file)?;
            let cloud = connect(&t, local).await?;
            let guard = StackLock::take(&cloud, &t.name, "apply", lock.lock_timeout).await?;
            let result =
                apply_cmd(&cloud, &t, plan.as_deref(), auto_approve, parallelism, wait).await;
            guard.release(&cloud).await;
            result
        }),
        Command::Destroy {
            file,
            auto_approve,
            parallelism,
            lock,
        } => runtime()?.block_on(async {
            let t = load(&file)?;
            let cloud = connect(&t, local).await?;
            let guard = StackLock::take(&cloud, &t.name, "destroy", lock.lock_timeout).await?;
            let result = destroy_cmd(&cloud, &t, auto_approve, parallelism).await;
            guard.release(&cloud).await;
            result
        }),
        Command::ForceUnlock { file } => runtime()?.block_on(force_unlock_cmd(&file, local)),
        Command::Outputs { file, json } => runtime()?.block_on(outputs_cmd(&file, local, json)),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
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
            None => println!("not running"),
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
) -> Result<ExitCode> {
    let desired = expand(t, cloud.region());
    let (plan, observed) = make_plan(cloud, t, &desired).await?;
    if let Some(path) = saved {
        check_saved_plan(path, &plan)?;
    }
    print!("{}", render_text(&plan));
    if !plan.is_empty() {
        confirm(auto_approve, "apply")?;
        carry_out(cloud, &plan, &desired, &observed, parallelism).await?;
    }
    if wait {
        wait_for_services(cloud, t).await?;
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
) -> Result<ExitCode> {
    // Reads are guided by what the file names; what is deleted is decided by tags alone.
    let hint = expand(t, cloud.region());
    let observed = cloud
        .observe(&t.name, &hint)
        .await
        .context("reading the stack from AWS")?;
    let nothing = Desired::default();
    let plan = diff(&t.name, cloud.region(), &nothing, &observed);
    print!("{}", render_text(&plan));
    if !plan.is_empty() {
        confirm(auto_approve, "destroy")?;
        carry_out(cloud, &plan, &nothing, &observed, parallelism).await?;
    }
    Ok(ExitCode::SUCCESS)
}

fn confirm(auto_approve: bool, verb: &str) -> Result<()> {
    if auto_approve {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        bail!(
            "refusing to {verb} without confirmation: no terminal to ask on; pass --auto-approve"
        );
    }
    eprint!("\nDo you want to {verb} these changes? Only 'yes' will be accepted: ");
    std::io::stderr().flush().ok();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if answer.trim() != "yes" {
        bail!("{verb} cancelled");
    }
    Ok(())
}

async fn carry_out(
    cloud: &AwsCloud,
    plan: &Plan,
    desired: &Desired,
    observed: &Observed,
    parallelism: usize,
) -> Result<()> {
    let sched = schedule(plan, desired, observed)?;
    let started = Instant::now();
    let progress = Reporter::new(sched.ops.len());
    let report = execute(cloud, plan, &sched, observed, parallelism, &progress).await;
    progress.finish();
    let failed: Vec<&OpReport> = report.failed().collect();
    let skipped = report.skipped().count();
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

/// The stack's lock, held for the whole of an apply or destroy (plans do not take it).
struct StackLock {
    stack: String,
    token: String,
}

impl StackLock {
    async fn take(
        cloud: &AwsCloud,
        stack: &str,
        verb: &str,
        timeout_secs: u64,
    ) -> Result<StackLock> {
        let me = LockInfo {
            holder: holder(verb),
            since: crate::clock::now_rfc3339(),
            token: lock_token(),
        };
        let deadline = Instant::now() + std::time::Duration::from_secs(timeout_secs);
        let mut announced = false;
        loop {
            let Some(held) = lock::acquire(cloud, stack, &me).await? else {
                return Ok(StackLock {
                    stack: stack.to_string(),
                    token: me.token,
                });
            };
            if Instant::now() >= deadline {
                bail!(
                    "stack `{stack}` is locked by {} since {}: another apply or destroy is running. Wait for it (--lock-timeout SECONDS), or if that run was killed, clear the lock with `ecsform force-unlock -f <file>`.",
                    held.holder,
                    held.since
                );
            }
            if !announced {
                eprintln!(
                    "Waiting for the lock on `{stack}`, held by {} since {}...",
                    held.holder, held.since
                );
                announced = true;
            }
            tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        }
    }

    async fn release(self, cloud: &AwsCloud) {
        if let Err(e) = lock::release(cloud, &self.stack, &self.token).await {
            eprintln!("warning: could not release the lock on `{}`: {e}; clear it with `ecsform force-unlock`", self.stack);
        }
    }
}

fn holder(verb: &str) -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into());
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown-host".into());
    format!("{user}@{host} pid {} (ecsform {verb})", std::process::id())
}

fn lock_token() -> String {
    use sha2::{Digest, Sha256};
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let digest = Sha256::digest(format!("{}/{nanos}", std::process::id()).as_bytes());
    digest.iter().take(12).map(|b| format!("{b:02x}")).collect()
}

async fn force_unlock_cmd(f: &FileArg, local: bool) -> Result<ExitCode> {
    let t = load(f)?;
    let cloud = connect(&t, local).await?;
    match lock::current(&cloud, &t.name).await? {
        None => println!("Stack `{}` is not locked.", t.name),
        Some(held) => {
            lock::delete(&cloud, &t.name).await?;
            println!(
                "Removed the lock on `{}` held by {} since {}.",
                t.name, held.holder, held.since
            );
        }
    }
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
