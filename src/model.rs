//! The project's own resource model: what `expand` produces, what `observe` reads back, what
//! `diff` compares. Plain data; references between resources are logical ids, never AWS ids.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Logical id of a resource inside one stack, e.g. `sg.user-service`. Stable across runs: it is
/// stored in the `ecsform:id` tag and is how observed resources are matched to desired ones.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ResourceId(pub String);

impl ResourceId {
    pub fn new(s: impl Into<String>) -> Self {
        ResourceId(s.into())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A reference from one resource to another. `Unowned` is what observe reports when live AWS
/// points at something this stack does not own (e.g. a task definition revision we did not
/// register, a hand-made security group): it never equals a desired reference, so it shows as
/// drift.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ref {
    Id(ResourceId),
    Unowned(String),
}

impl Ref {
    pub fn id(s: impl Into<String>) -> Self {
        Ref::Id(ResourceId::new(s))
    }
    pub fn as_id(&self) -> Option<&ResourceId> {
        match self {
            Ref::Id(id) => Some(id),
            Ref::Unowned(_) => None,
        }
    }
}

impl fmt::Display for Ref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ref::Id(id) => write!(f, "{id}"),
            Ref::Unowned(p) => write!(f, "{p} (not owned by this stack)"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Vpc,
    Subnet,
    InternetGateway,
    ElasticIp,
    NatGateway,
    RouteTable,
    SecurityGroup,
    IngressRule,
    Role,
    LogGroup,
    Namespace,
    DiscoveryService,
    Cluster,
    TaskDefinition,
    EcsService,
    LoadBalancer,
    TargetGroup,
    Listener,
    ListenerRule,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Vpc => "vpc",
            Kind::Subnet => "subnet",
            Kind::InternetGateway => "internet_gateway",
            Kind::ElasticIp => "elastic_ip",
            Kind::NatGateway => "nat_gateway",
            Kind::RouteTable => "route_table",
            Kind::SecurityGroup => "security_group",
            Kind::IngressRule => "ingress_rule",
            Kind::Role => "iam_role",
            Kind::LogGroup => "log_group",
            Kind::Namespace => "dns_namespace",
            Kind::DiscoveryService => "discovery_service",
            Kind::Cluster => "ecs_cluster",
            Kind::TaskDefinition => "task_definition",
            Kind::EcsService => "ecs_service",
            Kind::LoadBalancer => "load_balancer",
            Kind::TargetGroup => "target_group",
            Kind::Listener => "listener",
            Kind::ListenerRule => "listener_rule",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vpc {
    pub name: String,
    pub cidr: String,
    /// Both on: Cloud Map private DNS resolves only in VPCs with DNS support and hostnames.
    pub dns_support: bool,
    pub dns_hostnames: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subnet {
    pub name: String,
    pub vpc: Ref,
    pub cidr: String,
    pub availability_zone: String,
    pub public: bool,
}

/// Created and attached to its VPC in one step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InternetGateway {
    pub name: String,
    pub vpc: Ref,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElasticIp {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NatGateway {
    pub name: String,
    pub subnet: Ref,
    pub elastic_ip: Ref,
}

/// A route table with its default route and its subnet associations (both changed in place).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteTable {
    pub name: String,
    pub vpc: Ref,
    /// Target of 0.0.0.0/0: an internet gateway or a NAT gateway; none = no egress.
    pub default_route: Option<Ref>,
    pub subnets: Vec<Ref>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityGroup {
    pub name: String,
    pub vpc: Ref,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleSource {
    Group(Ref),
    Cidr(String),
}

/// One inbound TCP rule; AWS rules are immutable, so any change replaces it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngressRule {
    pub group: Ref,
    pub port: u16,
    pub source: RuleSource,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    pub name: String,
    /// The service principal allowed to assume it, e.g. `ecs-tasks.amazonaws.com`.
    pub assumed_by: String,
    pub managed_policies: Vec<String>,
    /// Inline policy document as canonical JSON; none = no inline policy.
    pub inline_policy: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogGroup {
    pub name: String,
    pub retention_days: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Namespace {
    pub name: String,
    pub vpc: Ref,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscoveryService {
    pub name: String,
    pub namespace: Ref,
    pub ttl: u32,
    pub failure_threshold: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cluster {
    pub name: String,
    pub container_insights: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskDefinition {
    pub family: String,
    pub cpu: u32,
    pub memory: u32,
    pub execution_role: Ref,
    pub container_name: String,
    pub image: String,
    pub port: u16,
    pub environment: BTreeMap<String, String>,
    /// Environment name → SSM parameter name or ARN (as written in the file).
    pub secrets: BTreeMap<String, String>,
    pub log_group: String,
    pub log_region: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    pub minimum_healthy_percent: i32,
    pub maximum_percent: i32,
    pub circuit_breaker_rollback: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EcsService {
    pub name: String,
    pub cluster: Ref,
    pub task_definition: Ref,
    pub desired_count: u32,
    pub subnets: Vec<Ref>,
    pub security_groups: Vec<Ref>,
    pub assign_public_ip: bool,
    pub registry: Option<Ref>,
    pub target_groups: Vec<Ref>,
    pub container_name: String,
    pub container_port: u16,
    /// `None` when read back from an emulator that drops it (moto); diff then ignores it.
    pub deployment: Option<Deployment>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadBalancer {
    pub name: String,
    pub internal: bool,
    pub subnets: Vec<Ref>,
    pub security_groups: Vec<Ref>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetGroup {
    pub name: String,
    pub vpc: Ref,
    pub port: u16,
    pub health_check_path: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListenerAction {
    Forward { target_group: Ref },
    Redirect { port: u16, protocol: String },
    FixedResponse { status: u16 },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listener {
    pub load_balancer: Ref,
    pub port: u16,
    pub protocol: String,
    pub certificate_arn: Option<String>,
    pub default_action: ListenerAction,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListenerRule {
    pub listener: Ref,
    pub priority: u32,
    pub path_patterns: Vec<String>,
    pub methods: Vec<String>,
    pub target_group: Ref,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Resource {
    Vpc(Vpc),
    Subnet(Subnet),
    InternetGateway(InternetGateway),
    ElasticIp(ElasticIp),
    NatGateway(NatGateway),
    RouteTable(RouteTable),
    SecurityGroup(SecurityGroup),
    IngressRule(IngressRule),
    Role(Role),
    LogGroup(LogGroup),
    Namespace(Namespace),
    DiscoveryService(DiscoveryService),
    Cluster(Cluster),
    TaskDefinition(TaskDefinition),
    EcsService(EcsService),
    LoadBalancer(LoadBalancer),
    TargetGroup(TargetGroup),
    Listener(Listener),
    ListenerRule(ListenerRule),
}

impl Resource {
    pub fn kind(&self) -> Kind {
        match self {
            Resource::Vpc(_) => Kind::Vpc,
            Resource::Subnet(_) => Kind::Subnet,
            Resource::InternetGateway(_) => Kind::InternetGateway,
            Resource::ElasticIp(_) => Kind::ElasticIp,
            Resource::NatGateway(_) => Kind::NatGateway,
            Resource::RouteTable(_) => Kind::RouteTable,
            Resource::SecurityGroup(_) => Kind::SecurityGroup,
            Resource::IngressRule(_) => Kind::IngressRule,
            Resource::Role(_) => Kind::Role,
            Resource::LogGroup(_) => Kind::LogGroup,
            Resource::Namespace(_) => Kind::Namespace,
            Resource::DiscoveryService(_) => Kind::DiscoveryService,
            Resource::Cluster(_) => Kind::Cluster,
            Resource::TaskDefinition(_) => Kind::TaskDefinition,
            Resource::EcsService(_) => Kind::EcsService,
            Resource::LoadBalancer(_) => Kind::LoadBalancer,
            Resource::TargetGroup(_) => Kind::TargetGroup,
            Resource::Listener(_) => Kind::Listener,
            Resource::ListenerRule(_) => Kind::ListenerRule,
        }
    }

    /// Every resource this one points at, i.e. what must exist before it is created and what
    /// must outlive it on delete.
    pub fn refs(&self) -> Vec<&Ref> {
        let mut out: Vec<&Ref> = Vec::new();
        match self {
            Resource::Vpc(_) | Resource::ElasticIp(_) | Resource::Role(_) => {}
            Resource::LogGroup(_) | Resource::Cluster(_) => {}
            Resource::Subnet(r) => out.push(&r.vpc),
            Resource::InternetGateway(r) => out.push(&r.vpc),
            Resource::NatGateway(r) => out.extend([&r.subnet, &r.elastic_ip]),
            Resource::RouteTable(r) => {
                out.push(&r.vpc);
                out.extend(r.default_route.iter());
                out.extend(r.subnets.iter());
            }
            Resource::SecurityGroup(r) => out.push(&r.vpc),
            Resource::IngressRule(r) => {
                out.push(&r.group);
                if let RuleSource::Group(g) = &r.source {
                    out.push(g);
                }
            }
            Resource::Namespace(r) => out.push(&r.vpc),
            Resource::DiscoveryService(r) => out.push(&r.namespace),
            Resource::TaskDefinition(r) => out.push(&r.execution_role),
            Resource::EcsService(r) => {
                out.extend([&r.cluster, &r.task_definition]);
                out.extend(r.subnets.iter());
                out.extend(r.security_groups.iter());
                out.extend(r.registry.iter());
                out.extend(r.target_groups.iter());
            }
            Resource::LoadBalancer(r) => {
                out.extend(r.subnets.iter());
                out.extend(r.security_groups.iter());
            }
            Resource::TargetGroup(r) => out.push(&r.vpc),
            Resource::Listener(r) => {
                out.push(&r.load_balancer);
                if let ListenerAction::Forward { target_group } = &r.default_action {
                    out.push(target_group);
                }
            }
            Resource::ListenerRule(r) => out.extend([&r.listener, &r.target_group]),
        }
        out
    }

    /// Calls `f` on every reference, so observe can translate AWS ids into logical ids.
    pub fn for_each_ref_mut(&mut self, mut f: impl FnMut(&mut Ref)) {
        match self {
            Resource::Vpc(_) | Resource::ElasticIp(_) | Resource::Role(_) => {}
            Resource::LogGroup(_) | Resource::Cluster(_) => {}
            Resource::Subnet(r) => f(&mut r.vpc),
            Resource::InternetGateway(r) => f(&mut r.vpc),
            Resource::NatGateway(r) => {
                f(&mut r.subnet);
                f(&mut r.elastic_ip);
            }
            Resource::RouteTable(r) => {
                f(&mut r.vpc);
                r.default_route.iter_mut().for_each(&mut f);
                r.subnets.iter_mut().for_each(&mut f);
            }
            Resource::SecurityGroup(r) => f(&mut r.vpc),
            Resource::IngressRule(r) => {
                f(&mut r.group);
                if let RuleSource::Group(g) = &mut r.source {
                    f(g);
                }
            }
            Resource::Namespace(r) => f(&mut r.vpc),
            Resource::DiscoveryService(r) => f(&mut r.namespace),
            Resource::TaskDefinition(r) => f(&mut r.execution_role),
            Resource::EcsService(r) => {
                f(&mut r.cluster);
                f(&mut r.task_definition);
                r.subnets.iter_mut().for_each(&mut f);
                r.security_groups.iter_mut().for_each(&mut f);
                r.registry.iter_mut().for_each(&mut f);
                r.target_groups.iter_mut().for_each(&mut f);
            }
            Resource::LoadBalancer(r) => {
                r.subnets.iter_mut().for_each(&mut f);
                r.security_groups.iter_mut().for_each(&mut f);
            }
            Resource::TargetGroup(r) => f(&mut r.vpc),
            Resource::Listener(r) => {
                f(&mut r.load_balancer);
                if let ListenerAction::Forward { target_group } = &mut r.default_action {
                    f(target_group);
                }
            }
            Resource::ListenerRule(r) => {
                f(&mut r.listener);
                f(&mut r.target_group);
            }
        }
    }

    /// Logical ids of the owned resources this one points at.
    pub fn dependencies(&self) -> Vec<ResourceId> {
        let mut ids: Vec<ResourceId> = self
            .refs()
            .into_iter()
            .filter_map(|r| r.as_id().cloned())
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }
}

/// One resource read back from AWS: its model (references translated to logical ids) and the
/// AWS identifier the cloud layer needs to change or delete it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedResource {
    pub id: ResourceId,
    pub resource: Resource,
    /// AWS id or ARN (`vpc-…`, `sgr-…`, `arn:aws:…`).
    pub physical_id: String,
}

/// Everything the stack owns in AWS, keyed by logical id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observed {
    pub resources: BTreeMap<ResourceId, ObservedResource>,
}

/// Everything the topology asks for, keyed by logical id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Desired {
    pub resources: BTreeMap<ResourceId, Resource>,
}

impl Desired {
    pub fn insert(&mut self, id: impl Into<String>, resource: Resource) -> ResourceId {
        let id = ResourceId::new(id);
        self.resources.insert(id.clone(), resource);
        id
    }

    /// What must exist before `id` is created or updated: what it points at, plus the orders
    /// AWS enforces without a reference ([`Desired::order_after`]).
    pub fn prerequisites(&self, id: &ResourceId) -> Vec<ResourceId> {
        let Some(r) = self.resources.get(id) else {
            return Vec::new();
        };
        let mut ids = r.dependencies();
        ids.extend(self.order_after(r));
        ids.sort();
        ids.dedup();
        ids
    }

    /// Orders AWS enforces that no reference expresses (the emulator enforces neither; the
    /// fault proxy and the in-memory cloud refuse both):
    /// - an ECS service with a target group is created after the listener or rule that
    ///   forwards to that group: otherwise `CreateService` fails with "The target group ...
    ///   does not have an associated load balancer"
    ///   (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/troubleshoot-service-load-balancers.html);
    /// - a public NAT gateway is created after its VPC's internet gateway is attached:
    ///   otherwise it fails with `Gateway.NotAttached`
    ///   (https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-troubleshooting.html).
    pub fn order_after(&self, r: &Resource) -> Vec<ResourceId> {
        match r {
            Resource::EcsService(svc) => self
                .resources
                .iter()
                .filter(|(_, other)| {
                    forwards_to(other).is_some_and(|tg| svc.target_groups.contains(tg))
                })
                .map(|(id, _)| id.clone())
                .collect(),
            Resource::NatGateway(nat) => {
                let vpc = nat
                    .subnet
                    .as_id()
                    .and_then(|s| self.resources.get(s))
                    .and_then(|s| match s {
                        Resource::Subnet(s) => Some(&s.vpc),
                        _ => None,
                    });
                self.resources
                    .iter()
                    .filter(|(_, other)| {
                        matches!(other, Resource::InternetGateway(g) if Some(&g.vpc) == vpc)
                    })
                    .map(|(id, _)| id.clone())
                    .collect()
            }
            _ => Vec::new(),
        }
    }
}

/// The target group a listener or listener rule forwards to.
pub fn forwards_to(r: &Resource) -> Option<&Ref> {
    match r {
        Resource::ListenerRule(rule) => Some(&rule.target_group),
        Resource::Listener(Listener {
            default_action: ListenerAction::Forward { target_group },
            ..
        }) => Some(target_group),
        _ => None,
    }
}

/// Tag keys that carry ownership (DESIGN §3).
pub const TAG_STACK: &str = "ecsform:stack";
pub const TAG_ID: &str = "ecsform:id";
