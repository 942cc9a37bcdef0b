//! One module per command. Bad input is reported before any AWS call is made; every AWS
//! command runs under signal handling (see `with_runtime`).

pub mod apply;
mod audit;
pub mod destroy;
mod emulator;
mod force_unlock;
mod graph;
mod outputs;
mod plan;
mod show;
mod validate;
mod verify;

use crate::cli::{Cli, Command, EmulatorAction, FileArg, GraphFormat, TargetArg};
use crate::cloud::aws::AwsCloud;
use crate::cloud::StackOps;
use crate::desired::expand;
use crate::execute::{execute, Halt, HaltReason, OpReport, Outcome};
use crate::local;
use crate::model::{Desired, Observed};
use crate::plan::diff::{diff, diff_destroy};
use crate::plan::render::{render_text, summary_line};
use crate::plan::schedule::schedule;
use crate::plan::Plan;
use crate::stack_lock::{self, StackLock};
use crate::topology::{self, Topology};
use crate::ui::{ask_yes, confirm, Reporter};
use anyhow::{anyhow, bail, Context, Result};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

pub fn run(cli: Cli) -> Result<ExitCode> {
    let local_everywhere = cli.local;
    let local = |target: TargetArg| local_everywhere || target.local;
    crate::cloud::aws::set_verbose(cli.verbose);
    if cli.no_color {
        crate::ui::disable_color();
    }
    match cli.command {
        Command::Validate(f) => validate::validate(&f),
        Command::Graph {
            file,
            format,
            resources,
        } => graph::graph_cmd(&file, format, resources),
        Command::Emulator { action } => emulator::emulator(action),
        Command::Show { plan, json } => show::show_cmd(&plan, json),
        Command::Verify { file, target, json } => with_runtime(|halt| async move {
            until_halted(&halt, verify::verify_cmd(&file, local(target), json)).await
        }),
        Command::Audit {
            file,
            target,
            format,
        } => with_runtime(|halt| async move {
            until_halted(&halt, audit::audit_cmd(&file, local(target), format)).await
        }),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut command = Cli::command();
            clap_complete::generate(shell, &mut command, "ecsform", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema => {
            println!("{}", topology::json_schema());
            Ok(ExitCode::SUCCESS)
        }
        Command::Plan {
            file,
            target,
            out,
            json,
            detailed_exitcode,
            delete_images,
            destroy,
            refresh_only,
        } => with_runtime(|halt| async move {
            let options = plan::PlanOptions {
                out,
                json,
                detailed_exitcode,
                delete_images,
                destroy,
                refresh_only,
            };
            until_halted(&halt, plan::plan_cmd(&file, local(target), &options)).await
        }),
        Command::Apply {
            file,
            target,
            plan,
            auto_approve,
            parallelism,
            wait,
            wait_timeout,
            allow_replace,
            delete_images,
            lock,
        } => with_runtime(|halt| async move {
            let options = apply::ApplyOptions {
                auto_approve,
                parallelism,
                wait,
                wait_timeout,
                allow_replace,
                delete_images,
            };
            let saved = plan.as_deref().map(apply::read_saved_plan).transpose()?;
            let path = apply::topology_file(&file, saved.as_ref());
            let t = load_path(&path)?;
            if let Some(saved) = &saved {
                apply::check_file_unchanged(&saved.document, &path)?;
            }
            let cloud = until_halted(&halt, connect(&t, local(target))).await?;
            let guard = StackLock::take(&cloud, &t.name, "apply", lock.timeout(), &halt).await?;
            let result = apply::apply_cmd(&cloud, &t, saved.as_ref(), &options, &halt).await;
            guard.release(&cloud).await;
            result
        }),
        Command::Destroy {
            file,
            target,
            auto_approve,
            parallelism,
            delete_images,
            lock,
        } => with_runtime(|halt| async move {
            let options = destroy::DestroyOptions {
                auto_approve,
                parallelism,
                delete_images,
            };
            let t = load(&file)?;
            let cloud = until_halted(&halt, connect(&t, local(target))).await?;
            let guard = StackLock::take(&cloud, &t.name, "destroy", lock.timeout(), &halt).await?;
            let result = destroy::destroy_cmd(&cloud, &t, &options, &halt).await;
            guard.release(&cloud).await;
            result
        }),
        Command::ForceUnlock {
            file,
            target,
            id,
            force,
        } => with_runtime(|halt| async move {
            until_halted(
                &halt,
                force_unlock::force_unlock_cmd(&file, local(target), &id, force),
            )
            .await
        }),
        Command::Outputs { file, target, json } => with_runtime(|halt| async move {
            until_halted(&halt, outputs::outputs_cmd(&file, local(target), json)).await
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
        () = halt.wait() => {
            let stopped = Interrupted::from(halt);
            eprintln!(
                "Stopped, {}, with no operation under way. Run the command again: it resumes where this stopped.",
                stopped.0
            );
            Err(stopped.into())
        }
    }
}

/// Parses, validates and lints; prints warnings; errors end the command before any AWS call.
fn load(f: &FileArg) -> Result<Topology> {
    load_path(f.path())
}

fn load_path(path: &Path) -> Result<Topology> {
    match topology::load(path) {
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
                path.display(),
                diags.0.len()
            ))
        }
    }
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
async fn make_plan<C: StackOps>(
    cloud: &C,
    t: &Topology,
    desired: &Desired,
    delete_images: bool,
) -> Result<(Plan, Observed)> {
    let mut observed = cloud
        .observe(&t.name, desired)
        .await
        .context("reading the stack from AWS")?;
    if delete_images {
        observed.delete_images_with_repositories();
    }
    let plan = diff(&t.name, cloud.region(), desired, &observed);
    Ok((plan, observed))
}
