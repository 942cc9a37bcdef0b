//! Schema v1 of `topology.yaml` (DESIGN §2). Unknown keys are rejected everywhere.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Topology {
    pub name: String,
    #[serde(default)]
    pub region: Option<String>,
    pub network: Network,
    #[serde(default)]
    pub discovery: Discovery,
    #[serde(default)]
    pub load_balancer: Option<LoadBalancer>,
    #[serde(default)]
    pub api_gateway: Option<ApiGateway>,
    /// ECR repositories the stack owns (`<stack>-<key>`).
    #[serde(default)]
    pub repositories: BTreeMap<String, RepositorySpec>,
    /// RDS instances in the private subnets, reachable only by their callers.
    #[serde(default)]
    pub databases: BTreeMap<String, DatabaseSpec>,
    /// Per-service CloudWatch alarms.
    #[serde(default)]
    pub alarms: Option<Alarms>,
    /// Warnings this file does not want to see, by rule.
    #[serde(default)]
    pub lints: Lints,
    pub services: BTreeMap<String, Service>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Lints {
    /// Rules whose warnings are not shown: each warning names its rule.
    #[serde(default)]
    pub allow: Vec<LintRule>,
}

/// The warnings `validate` (and every command that reads the file) can show.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum LintRule {
    /// A service that receives outside traffic has no health_check.
    MissingHealthCheck,
    /// `nat_gateways: 0` with services in the private subnets.
    NoNat,
    /// The load balancer has only HTTP listeners.
    HttpOnly,
    /// A service runs a single task without autoscaling.
    SingleTask,
    /// A service has no allowed_callers.
    NoCallers,
    /// The REST API reaches the services through a legacy VPC link to an NLB.
    LegacyVpcLink,
}

impl LintRule {
    pub fn name(self) -> &'static str {
        match self {
            LintRule::MissingHealthCheck => "missing_health_check",
            LintRule::NoNat => "no_nat",
            LintRule::HttpOnly => "http_only",
            LintRule::SingleTask => "single_task",
            LintRule::NoCallers => "no_callers",
            LintRule::LegacyVpcLink => "legacy_vpc_link",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSpec {
    pub engine: DatabaseEngine,
    /// Engine version (`"8.0"`, `"16"`): AWS's default for the engine when absent; a prefix
    /// keeps minor upgrades AWS makes from counting as drift.
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default = "default_instance_class")]
    pub instance_class: String,
    #[serde(default = "default_storage_gb")]
    pub storage_gb: u32,
    #[serde(default)]
    pub multi_az: bool,
    /// While on, neither AWS nor `destroy` deletes the instance.
    #[serde(default = "default_true")]
    pub deletion_protection: bool,
    /// The only services that can open connections to it (and get its address and credentials).
    #[serde(default)]
    pub allowed_callers: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DatabaseEngine {
    Mysql,
    Postgres,
}

impl DatabaseEngine {
    /// RDS's engine name.
    pub fn as_str(self) -> &'static str {
        match self {
            DatabaseEngine::Mysql => "mysql",
            DatabaseEngine::Postgres => "postgres",
        }
    }
    /// The port the engine listens on.
    pub fn port(self) -> u16 {
        match self {
            DatabaseEngine::Mysql => 3306,
            DatabaseEngine::Postgres => 5432,
        }
    }
}

fn default_instance_class() -> String {
    "db.t3.micro".into()
}
fn default_storage_gb() -> u32 {
    20
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Alarms {
    /// An SNS topic ARN that receives every alarm (and its return to OK).
    #[serde(default)]
    pub notify: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RepositorySpec {
    /// Scan each pushed image for vulnerabilities.
    #[serde(default = "default_true")]
    pub scan_on_push: bool,
    /// The lifecycle policy keeps this many most recent images.
    #[serde(default = "default_keep_images")]
    pub keep_images: u32,
    /// Whether a pushed tag may later name another image.
    #[serde(default)]
    pub tag_mutability: TagMutability,
}

#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum TagMutability {
    #[default]
    Mutable,
    Immutable,
}

fn default_true() -> bool {
    true
}
fn default_keep_images() -> u32 {
    30
}

/// A container image: a full URI, or a tag of one of the stack's repositories.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum Image {
    Uri(String),
    Repository(RepositoryImage),
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RepositoryImage {
    /// A key of `repositories`.
    pub repository: String,
    #[serde(default = "default_tag")]
    pub tag: String,
}
fn default_tag() -> String {
    "latest".into()
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Network {
    pub cidr: String,
    #[serde(default = "default_azs")]
    pub availability_zones: AvailabilityZones,
    #[serde(default = "default_nat")]
    pub nat_gateways: NatGateways,
    #[serde(default)]
    pub public_subnets: Option<Vec<String>>,
    #[serde(default)]
    pub private_subnets: Option<Vec<String>>,
}

fn default_azs() -> AvailabilityZones {
    AvailabilityZones::Count(2)
}
fn default_nat() -> NatGateways {
    NatGateways::Count(1)
}

/// `2` (the first N zones of the region, `a`, `b`, ...) or `[us-east-1a, us-east-1b]`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum AvailabilityZones {
    Count(u8),
    Names(Vec<String>),
}

/// `0`, `1` or `per_az`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum NatGateways {
    Count(u8),
    Mode(NatMode),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NatMode {
    PerAz,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Discovery {
    #[serde(default = "default_namespace")]
    pub namespace: String,
    #[serde(default = "default_ttl")]
    pub ttl: u32,
}

impl Default for Discovery {
    fn default() -> Self {
        Discovery {
            namespace: default_namespace(),
            ttl: default_ttl(),
        }
    }
}
fn default_namespace() -> String {
    "internal".into()
}
fn default_ttl() -> u32 {
    10
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadBalancer {
    pub listeners: Vec<Listener>,
    #[serde(default)]
    pub routes: Vec<Route>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Listener {
    pub port: u16,
    pub protocol: ListenerProtocol,
    #[serde(default)]
    pub certificate_arn: Option<String>,
    #[serde(default)]
    pub redirect_to: Option<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
pub enum ListenerProtocol {
    #[serde(rename = "HTTP")]
    Http,
    #[serde(rename = "HTTPS")]
    Https,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Route {
    pub path: String,
    #[serde(default)]
    pub methods: Option<Vec<String>>,
    pub service: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiGateway {
    pub name: String,
    #[serde(default = "default_stage")]
    pub stage: String,
    /// How the REST API reaches the services.
    #[serde(default)]
    pub via: ApiVia,
    /// Stage-wide method throttling.
    #[serde(default)]
    pub throttle: Option<ApiThrottle>,
    #[serde(default)]
    pub routes: Vec<ApiRoute>,
}

#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ApiVia {
    /// A REST VPC link (V1) to an internal network load balancer, one listener per service port.
    #[default]
    Nlb,
    /// A VPC link V2 to an internal application load balancer with a path rule per route
    /// (AWS's current advice for private integrations).
    Alb,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiThrottle {
    /// Steady-state requests per second across the stage.
    pub rate: u32,
    /// Requests allowed in a burst.
    pub burst: u32,
}
fn default_stage() -> String {
    "prod".into()
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiRoute {
    pub path: String,
    pub methods: Vec<String>,
    pub service: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Service {
    pub image: Image,
    pub port: u16,
    #[serde(default = "default_cpu")]
    pub cpu: u32,
    #[serde(default = "default_memory")]
    pub memory: u32,
    #[serde(default = "default_desired")]
    pub desired_count: u32,
    #[serde(default)]
    pub health_check: Option<HealthCheck>,
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
    #[serde(default)]
    pub allowed_callers: Vec<String>,
    #[serde(default)]
    pub autoscaling: Option<Autoscaling>,
    /// What the application itself may call; without it the task has no task role.
    #[serde(default)]
    pub task_role: Option<TaskRole>,
    /// The service's name before a rename: its log group, and the logs in it, are kept under
    /// the old name (CloudWatch cannot rename one); everything else is made again under the new
    /// name. Keep it while the logs matter (removing it replaces the log group), and keep it
    /// as it is through later renames: it names the log group.
    #[serde(default)]
    pub renamed_from: Option<String>,
}

impl Service {
    /// The name its logs are kept under: the name before a rename, or `name`.
    pub fn logs_name<'a>(&'a self, name: &'a str) -> &'a str {
        self.renamed_from.as_deref().unwrap_or(name)
    }
}

/// What the load balancer asks a task: a path on the traffic port, or a path on its own port
/// (seed 002's actuator on 8081).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum HealthCheck {
    Path(String),
    Detailed(DetailedHealthCheck),
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DetailedHealthCheck {
    pub path: String,
    /// The traffic port when absent.
    #[serde(default)]
    pub port: Option<u16>,
}

impl HealthCheck {
    pub fn path(&self) -> &str {
        match self {
            HealthCheck::Path(path) => path,
            HealthCheck::Detailed(d) => &d.path,
        }
    }
    /// The port the check goes to when it is not the traffic port.
    pub fn port(&self) -> Option<u16> {
        match self {
            HealthCheck::Path(_) => None,
            HealthCheck::Detailed(d) => d.port,
        }
    }
}

impl Service {
    /// The target group's health check: path, and its own port when that differs from `port`.
    pub fn health_check_path(&self) -> String {
        self.health_check
            .as_ref()
            .map_or_else(|| "/".into(), |h| h.path().to_string())
    }
    pub fn health_check_port(&self) -> Option<u16> {
        self.health_check
            .as_ref()
            .and_then(HealthCheck::port)
            .filter(|p| *p != self.port)
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskRole {
    /// ARNs of managed policies, AWS's or the account's.
    #[serde(default)]
    pub managed_policies: Vec<String>,
    /// Allow statements of the role's inline policy.
    #[serde(default)]
    pub statements: Vec<PolicyStatement>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyStatement {
    pub actions: Vec<String>,
    pub resources: Vec<String>,
}
fn default_cpu() -> u32 {
    256
}
fn default_memory() -> u32 {
    512
}
fn default_desired() -> u32 {
    1
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Autoscaling {
    pub min: u32,
    pub max: u32,
    /// Target tracking on average CPU (70 when neither this nor `step` is given).
    #[serde(default)]
    pub cpu_target: Option<u32>,
    /// Seed 002's pair of step policies instead of target tracking.
    #[serde(default)]
    pub step: Option<StepScaling>,
}

/// One task more while average CPU stays at or above `scale_out_above` for `minutes`, one task
/// less while it stays below `scale_in_below` as long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepScaling {
    pub scale_out_above: u32,
    pub scale_in_below: u32,
    #[serde(default = "default_step_minutes")]
    pub minutes: u32,
}
fn default_step_minutes() -> u32 {
    5
}

/// How a service scales, once `autoscaling` is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalingRule {
    CpuTarget(u32),
    Step(StepScaling),
}

/// The CPU target when the file gives neither a target nor steps.
pub const DEFAULT_CPU_TARGET: u32 = 70;

impl Autoscaling {
    pub fn rule(&self) -> ScalingRule {
        match (self.step, self.cpu_target) {
            (Some(step), _) => ScalingRule::Step(step),
            (None, target) => ScalingRule::CpuTarget(target.unwrap_or(DEFAULT_CPU_TARGET)),
        }
    }
}

/// The special callers that are not services.
pub const CALLER_LOAD_BALANCER: &str = "load_balancer";
pub const CALLER_API_GATEWAY: &str = "api_gateway";
