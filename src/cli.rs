//! The command line (DESIGN §5).

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "ecsform",
    version,
    about = "Least-privilege ECS Fargate topologies from one YAML file"
)]
pub struct Cli {
    /// Run the commands that talk to AWS against a local AWS emulator (moto) that ecsform
    /// starts on 127.0.0.1 and reuses across commands. For trying ecsform without an AWS
    /// account. Also accepted after those commands (`ecsform apply --local`).
    #[arg(long, env = "ECSFORM_LOCAL")]
    pub local: bool,
    /// No colour (also with NO_COLOR set; colour is only ever used on a terminal).
    #[arg(long, global = true)]
    pub no_color: bool,
    /// On errors, print the whole chain of causes the AWS SDK reports.
    #[arg(long, short = 'v', global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args, Clone)]
pub struct FileArg {
    /// The topology file [default: topology.yaml; for `apply PLAN`, the file the plan was made
    /// from].
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
}

impl FileArg {
    pub const DEFAULT: &'static str = "topology.yaml";

    /// The file named by `-f`, else `topology.yaml`.
    pub fn path(&self) -> &Path {
        self.file
            .as_deref()
            .unwrap_or_else(|| Path::new(Self::DEFAULT))
    }
}

/// Where a command that talks to AWS sends its requests. Flattened only into those commands,
/// so `--local` is not offered where it would mean nothing (validate, graph, show, schema).
#[derive(Debug, Args, Clone, Copy)]
pub struct TargetArg {
    /// Against a local AWS emulator (moto) that ecsform starts on 127.0.0.1 and reuses across
    /// commands, instead of AWS (also `ecsform --local COMMAND`, or ECSFORM_LOCAL=true).
    #[arg(long)]
    pub local: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Offline: parse, validate and lint the topology. Makes no AWS calls.
    Validate(FileArg),
    /// Show what apply would change.
    #[command(
        after_help = "Examples:\n  ecsform plan                          # topology.yaml, against AWS\n  ecsform plan -f prod.yaml --out plan.json   # save it; apply it with `ecsform apply plan.json`\n  ecsform plan --detailed-exitcode      # CI: exit 2 when there are changes\n  ecsform plan --refresh-only           # only what was changed outside ecsform\n  ecsform plan --destroy                # what `destroy` would delete"
    )]
    Plan {
        #[command(flatten)]
        file: FileArg,
        #[command(flatten)]
        target: TargetArg,
        /// Save the plan to apply it later with `apply PLAN`.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print the plan as JSON (stable, for machines).
        #[arg(long)]
        json: bool,
        /// Exit 2 when the plan has changes (0 none, 1 error).
        #[arg(long)]
        detailed_exitcode: bool,
        /// Plan as `apply --delete-images` would (a removed repository's images go with it).
        #[arg(long)]
        delete_images: bool,
        /// Show what `destroy` would delete (nothing is changed; not a plan to save).
        #[arg(long, conflicts_with = "out")]
        destroy: bool,
        /// Show only what was changed outside ecsform since the last apply (drift).
        #[arg(long, conflicts_with_all = ["out", "destroy"])]
        refresh_only: bool,
    },
    /// Make AWS match the topology.
    #[command(
        after_help = "Examples:\n  ecsform apply                         # plan, ask, apply topology.yaml\n  ecsform apply plan.json               # a saved plan, as reviewed, without asking\n  ecsform apply --auto-approve --wait --wait-timeout 10m   # CI: until the services are steady\n  ecsform apply --allow-replace vpc     # a new network.cidr rebuilds the network\n  ecsform --local apply -f topology.example.yaml --auto-approve   # no AWS account: a local emulator"
    )]
    Apply {
        #[command(flatten)]
        file: FileArg,
        #[command(flatten)]
        target: TargetArg,
        /// A plan saved by `plan --out`. It is applied without asking (it was reviewed), to
        /// the file it was made from unless `-f` names one, and refused, saying what differs,
        /// if that file or AWS changed since.
        #[arg(value_name = "PLAN")]
        plan: Option<PathBuf>,
        /// Do not ask for confirmation (required without a terminal).
        #[arg(long)]
        auto_approve: bool,
        /// How many AWS operations may run at once (one sleeping between polls or retries
        /// gives its place to the others meanwhile).
        #[arg(long, default_value_t = 16, value_parser = at_least_one())]
        parallelism: usize,
        /// Wait for ECS services to reach a steady state (running/desired shown per service);
        /// fail if a deployment rolls back.
        #[arg(long)]
        wait: bool,
        /// How long `--wait` waits for the services before failing: `30s`, `15m`, or seconds.
        #[arg(long, default_value = "15m", value_parser = duration, value_name = "DURATION", requires = "wait")]
        wait_timeout: Duration,
        /// Allow the replacement of this resource although it loses its data (a database:
        /// the plan marks it DATA LOSS). Repeat for several.
        #[arg(long, value_name = "ID")]
        allow_replace: Vec<String>,
        /// Delete a removed repository's images with it (refused otherwise while it holds any).
        #[arg(long)]
        delete_images: bool,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Delete everything the stack owns (and nothing else).
    #[command(
        after_help = "Examples:\n  ecsform plan --destroy                # preview\n  ecsform destroy --auto-approve --lock-timeout 5m"
    )]
    Destroy {
        #[command(flatten)]
        file: FileArg,
        #[command(flatten)]
        target: TargetArg,
        /// Do not ask for confirmation (required without a terminal).
        #[arg(long)]
        auto_approve: bool,
        /// How many AWS operations may run at once (one sleeping between polls or retries
        /// gives its place to the others meanwhile).
        #[arg(long, default_value_t = 16, value_parser = at_least_one())]
        parallelism: usize,
        /// Delete the stack's repositories with the images in them (refused otherwise while
        /// any holds images; the plan marks it DATA LOSS).
        #[arg(long)]
        delete_images: bool,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Remove the stack's lock, named by the id the run holding it printed. Refused while
    /// its holder still runs on this host. Rarely needed: a killed run's lock is taken over by
    /// the next apply or destroy once its lease runs out.
    ForceUnlock {
        #[command(flatten)]
        file: FileArg,
        #[command(flatten)]
        target: TargetArg,
        /// The lock id (printed as `lock id …` by the run that holds it, and in lock errors).
        id: String,
        /// Do not ask for confirmation (required without a terminal).
        #[arg(long)]
        force: bool,
    },
    /// The service call graph (or with --resources the resource DAG).
    Graph {
        #[command(flatten)]
        file: FileArg,
        /// Mermaid (renders in GitHub and GitLab markdown) or Graphviz dot.
        #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
        format: GraphFormat,
        /// The AWS resources and their dependencies instead of who calls whom.
        #[arg(long)]
        resources: bool,
    },
    /// Load balancer DNS name, discovery names.
    Outputs {
        #[command(flatten)]
        file: FileArg,
        #[command(flatten)]
        target: TargetArg,
        /// Print them as one JSON object (for scripts).
        #[arg(long)]
        json: bool,
    },
    /// Before an apply, check what AWS would only reveal minutes into it: the zones exist,
    /// images exist (in ECR, and on public registries where reachable), secrets and parameters
    /// exist and the execution role can read them, certificates are issued, valid and in the
    /// stack's region, the account's quotas (Service Quotas) fit. Reads only; exit 1 on a
    /// failure.
    Verify {
        #[command(flatten)]
        file: FileArg,
        #[command(flatten)]
        target: TargetArg,
        /// Print the results as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Who can reach whom as AWS enforces it (the groups attached to every service, load
    /// balancer, VPC link and database, and all their rules, hand-made ones included), against
    /// the call graph. Exit 1 on any extra or missing path. Reads only.
    #[command(
        after_help = "Examples:\n  ecsform audit                  # a table: EXTRA, MISSING, ok\n  ecsform audit --format json    # for CI\n  ecsform audit --format mermaid > reachability.md"
    )]
    Audit {
        #[command(flatten)]
        file: FileArg,
        #[command(flatten)]
        target: TargetArg,
        /// text (a table), json, or mermaid (extra and missing paths in red).
        #[arg(long, value_enum, default_value_t = AuditFormat::Text)]
        format: AuditFormat,
    },
    /// Print a plan saved by `plan --out`, as `plan` printed it (or as JSON). No AWS calls.
    Show {
        /// The saved plan.
        plan: PathBuf,
        /// Print it as JSON (the format of docs/plan-json.md).
        #[arg(long)]
        json: bool,
    },
    /// Print the JSON Schema of the topology file, for editors: save it as
    /// topology.schema.json and start the file with
    /// `# yaml-language-server: $schema=./topology.schema.json`. No AWS calls.
    Schema,
    /// Print a shell completion script: `ecsform completions bash > ~/.local/share/bash-completion/completions/ecsform`,
    /// `ecsform completions zsh > "${fpath[1]}/_ecsform"`, `ecsform completions fish > ~/.config/fish/completions/ecsform.fish`.
    Completions {
        /// The shell: bash, zsh, fish, elvish or powershell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Manage the local emulator started by --local.
    Emulator {
        #[command(subcommand)]
        action: EmulatorAction,
    },
}

#[derive(Debug, Args, Clone, Copy)]
pub struct LockArgs {
    /// How long to wait for another run's lock on the stack before giving up: `30s`, `5m`, or
    /// seconds (0: fail at once).
    #[arg(long, default_value = "0", value_parser = duration, value_name = "DURATION")]
    pub lock_timeout: Duration,
}

impl LockArgs {
    pub fn timeout(&self) -> Duration {
        self.lock_timeout
    }
}

/// `30s`, `5m`, `1h 30m` (humantime), or a bare number of seconds.
pub fn duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    humantime::parse_duration(text).map_err(|e| {
        format!("{e}: write a duration such as 30s, 5m or 1h 30m, or a number of seconds")
    })
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum GraphFormat {
    Mermaid,
    Dot,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum AuditFormat {
    Text,
    Json,
    Mermaid,
}

#[derive(Debug, Clone, Copy, Subcommand, PartialEq, Eq)]
pub enum EmulatorAction {
    /// Print its endpoint if it runs.
    Status,
    /// Stop it (its state is lost).
    Stop,
}

/// `--parallelism 0` would never start anything.
fn at_least_one() -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::<usize>::new().range(1..)
}
