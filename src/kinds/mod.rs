//! Resource kinds, one module each: the model struct and what the engine must know about it
//! (what it points at, which fields AWS cannot change in place, how a replacement is ordered,
//! fields an endpoint may not return). The registry below generates `Kind`, `Resource` and
//! every dispatch over them, so a kind missing any part does not compile; the AWS side of each
//! kind is registered the same way in `cloud::aws::kinds`.

mod api_deployment;
mod api_method;
mod api_resource;
mod api_stage;
mod cluster;
mod db_instance;
mod db_subnet_group;
mod discovery_service;
mod ecr_repository;
mod ecs_service;
mod elastic_ip;
mod ingress_rule;
mod internet_gateway;
mod listener;
mod listener_rule;
mod load_balancer;
mod log_group;
mod metric_alarm;
mod namespace;
mod nat_gateway;
mod rest_api;
mod role;
mod route_table;
mod scalable_target;
mod scaling_policy;
mod security_group;
mod subnet;
mod target_group;
mod task_definition;
mod vpc;
mod vpc_link;
mod vpc_link_v2;

pub use api_deployment::ApiDeployment;
pub use api_method::ApiMethod;
pub use api_resource::ApiResource;
pub use api_stage::{ApiStage, Throttle};
pub use cluster::Cluster;
pub use db_instance::DbInstance;
pub use db_subnet_group::DbSubnetGroup;
pub use discovery_service::DiscoveryService;
pub use ecr_repository::EcrRepository;
pub use ecs_service::{Deployment, EcsService};
pub use elastic_ip::ElasticIp;
pub use ingress_rule::{IngressRule, RuleSource};
pub use internet_gateway::InternetGateway;
pub use listener::{Listener, ListenerAction};
pub use listener_rule::ListenerRule;
pub use load_balancer::{LoadBalancer, LoadBalancerType};
pub use log_group::LogGroup;
pub use metric_alarm::{Dimension, DimensionValue, MetricAlarm};
pub use namespace::Namespace;
pub use nat_gateway::NatGateway;
pub use rest_api::RestApi;
pub use role::Role;
pub use route_table::RouteTable;
pub use scalable_target::ScalableTarget;
pub use scaling_policy::{PolicyRule, ScalingPolicy};
pub use security_group::SecurityGroup;
pub use subnet::Subnet;
pub use target_group::TargetGroup;
pub use task_definition::{DatabaseLink, ImageSource, TaskDefinition};
pub use vpc::Vpc;
pub use vpc_link::VpcLink;
pub use vpc_link_v2::VpcLinkV2;

use crate::model::{Ref, ResourceId};
use serde::{Deserialize, Serialize};

/// The registry: every kind, in creation order (plans list steps in this order), with the name
/// people read. Consumers pass a macro that receives the whole list and generates exhaustive
/// code from it.
macro_rules! with_kinds {
    ($consumer:ident) => {
        $consumer! {
            Vpc = "vpc",
            Subnet = "subnet",
            InternetGateway = "internet_gateway",
            ElasticIp = "elastic_ip",
            NatGateway = "nat_gateway",
            RouteTable = "route_table",
            SecurityGroup = "security_group",
            IngressRule = "ingress_rule",
            Role = "iam_role",
            LogGroup = "log_group",
            EcrRepository = "ecr_repository",
            DbSubnetGroup = "db_subnet_group",
            DbInstance = "db_instance",
            Namespace = "dns_namespace",
            DiscoveryService = "discovery_service",
            Cluster = "ecs_cluster",
            TaskDefinition = "task_definition",
            EcsService = "ecs_service",
            LoadBalancer = "load_balancer",
            TargetGroup = "target_group",
            Listener = "listener",
            ListenerRule = "listener_rule",
            VpcLink = "vpc_link",
            VpcLinkV2 = "vpc_link_v2",
            RestApi = "rest_api",
            ApiResource = "api_resource",
            ApiMethod = "api_method",
            ApiDeployment = "api_deployment",
            ApiStage = "api_stage",
            ScalableTarget = "scalable_target",
            ScalingPolicy = "scaling_policy",
            MetricAlarm = "cloudwatch_alarm",
        }
    };
}
pub(crate) use with_kinds;

/// Field names of a kind, checked by the compiler: a misspelt or removed field does not build.
macro_rules! fields {
    ($t:ty; $($f:ident),+ $(,)?) => {{
        #[allow(dead_code)]
        fn named_fields_exist(r: &$t) {
            $(let _ = &r.$f;)+
        }
        &[$(stringify!($f)),+]
    }};
}
pub(crate) use fields;

/// How a replacement is carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplaceOrder {
    /// The old one is deleted first (its name must stay unique): what uses it has a gap.
    DeleteFirst,
    /// The new one is created first and what points at the old one moves to it: no gap.
    CreateFirst,
}

/// What the engine knows about one kind.
pub trait KindSpec {
    const KIND: crate::model::Kind;
    /// Fields AWS cannot change in place: a change to one replaces the resource.
    const FORCES_REPLACEMENT: &'static [&'static str];
    const REPLACE_ORDER: ReplaceOrder = ReplaceOrder::DeleteFirst;
    /// An update gives the resource a new AWS identity (a new task definition revision).
    const UPDATE_RENEWS_IDENTITY: bool = false;
    /// Everything this resource points at: what must exist before it is created and what must
    /// outlive it on delete.
    fn refs(&self) -> Vec<&Ref>;
    fn refs_mut(&mut self) -> Vec<&mut Ref>;
    /// Fields the observed `have` lacks because an endpoint does not return them: not drift.
    fn unknown_on_read(_have: &Self) -> &'static [&'static str] {
        &[]
    }
    /// Fields of `want` that something else keeps in AWS (the service's desired count under an
    /// autoscaler): what AWS holds there is not drift, and an update never sets them.
    fn kept_elsewhere(_want: &Self) -> &'static [&'static str] {
        &[]
    }
    /// Why AWS refuses to change `have` into `want` at all (a database's storage shrunk): the
    /// plan says so and `apply` refuses it before changing anything.
    fn refuses_change(_want: &Self, _have: &Self) -> Option<String> {
        None
    }
    /// What replacing `have` costs beyond the resource itself: data it holds (a database) or
    /// everything inside it rebuilt (a VPC). The plan flags it and `apply` refuses it unless
    /// `--allow-replace <id>` names it.
    fn replacement_cost(_have: &Self) -> Option<String> {
        None
    }
    /// Why deleting `have` is refused until the user says otherwise (a database under deletion
    /// protection, a repository holding images without `--delete-images`).
    fn refuses_delete(_have: &Self) -> Option<String> {
        None
    }
    /// What deleting `have` costs, beyond its being gone (images deleted with a repository, a
    /// database's final snapshot).
    fn delete_note(_have: &Self) -> Option<String> {
        None
    }
    /// Replacement-forcing fields that can still be set in place while `have` lacks them.
    fn completes_in_place(_have: &Self) -> &'static [&'static str] {
        &[]
    }
    /// For a kind that AWS knows only through its parent (a listener of a load balancer, a rule
    /// of a security group): its logical id, made from the parent's logical id and the kind's
    /// own key. Expand and observe both use it, so the cloud layer never builds or parses ids;
    /// `None` while the parent is not one of ours (observe then keeps the AWS id).
    fn scoped_id(&self) -> Option<ResourceId> {
        None
    }
    /// Another id the file may give a parent-scoped resource, when two of them share the
    /// [`KindSpec::scoped_id`] (a second rule from one source group, on a health check port):
    /// observe uses it when the desired state has it.
    fn alternative_id(&self) -> Option<ResourceId> {
        None
    }
    /// It lives in one VPC for its whole life, also where no field of its own says so (a load
    /// balancer's subnets and groups can change in place, but only within its VPC): when its
    /// VPC is replaced, it is replaced with it.
    const BOUND_TO_VPC: bool = false;
    /// Its network interfaces are in the subnets and groups it points at (tasks, load balancer
    /// nodes, a database): AWS deletes neither while they are there.
    const HOLDS_INTERFACES: bool = false;
    /// The parent within which what makes this kind delete-first is unique (a subnet's CIDR in
    /// its VPC, a listener's port on its load balancer, a service name in its namespace): when
    /// that parent is itself replaced create-first, the new one is created beside the old one.
    fn unique_within(&self) -> Option<&Ref> {
        None
    }
    /// For a kind replaced delete-first because its new self may clash with one that exists (a
    /// subnet's CIDR): whether `want` clashes with `other`, an existing resource of the kind.
    /// `None`: no such test, the kind stays delete-first. A replacement that clashes with none
    /// of them is created first.
    fn clashes_with(_want: &Self, _other: &Self) -> Option<bool> {
        None
    }
    /// A name unique in the account and region (load balancers, target groups, DB subnet
    /// groups) and its longest allowed length: a replacement created beside the old resource
    /// takes the other of two names ([`crate::names::replacement_name`]).
    fn unique_name(&mut self) -> Option<(&mut String, usize)> {
        None
    }
    /// What people should know about an update in place (when AWS carries it out).
    const UPDATE_NOTE: Option<&'static str> = None;
    /// Part of what an API deployment snapshots: a change to it needs a new deployment.
    const IN_API_SNAPSHOT: bool = false;
    /// A snapshot of its API's resources and methods (replaced when they change, created after).
    const SNAPSHOTS_API: bool = false;
    /// The REST API it belongs to (kinds in or snapshotting an API).
    fn api(&self) -> Option<&Ref> {
        None
    }
    /// The parent whose delete takes this one with it: DeleteRestApi deletes the API's
    /// resources, methods, deployments and stages
    /// (https://docs.aws.amazon.com/apigateway/latest/api/API_DeleteRestApi.html), so when
    /// the parent goes too they are not deleted one by one.
    fn deleted_with(&self) -> Option<&Ref> {
        None
    }
    /// AWS refuses to delete it while a method of a REST API, or the deployment a stage
    /// serves, still uses it (a VPC link: "Cannot delete vpc link … is referenced in
    /// [RESTApiId:Method:Resource:Stage]"): its delete comes after the deletes and updates of
    /// every method and stage, and of every REST API deleted, in the same plan.
    const HELD_BY_API_STAGES: bool = false;
}

/// `parent.what.key`: the logical id of a child within its parent.
pub(crate) fn child_id(
    parent: &Ref,
    what: &str,
    key: impl std::fmt::Display,
) -> Option<ResourceId> {
    Some(ResourceId::new(format!("{}.{what}.{key}", parent.as_id()?)))
}

macro_rules! define_kinds {
    ($($variant:ident = $name:literal),+ $(,)?) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Kind {
            $($variant),+
        }

        impl Kind {
            /// Every kind, in creation order.
            pub const ALL: &'static [Kind] = &[$(Kind::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Kind::$variant => $name),+
                }
            }
            pub fn forces_replacement(self, field: &str) -> bool {
                match self {
                    $(Kind::$variant => <$variant as KindSpec>::FORCES_REPLACEMENT.contains(&field)),+
                }
            }
            pub fn replace_order(self) -> ReplaceOrder {
                match self {
                    $(Kind::$variant => <$variant as KindSpec>::REPLACE_ORDER),+
                }
            }
            pub fn update_note(self) -> Option<&'static str> {
                match self {
                    $(Kind::$variant => <$variant as KindSpec>::UPDATE_NOTE),+
                }
            }
            pub fn bound_to_vpc(self) -> bool {
                match self {
                    $(Kind::$variant => <$variant as KindSpec>::BOUND_TO_VPC),+
                }
            }
            pub fn holds_interfaces(self) -> bool {
                match self {
                    $(Kind::$variant => <$variant as KindSpec>::HOLDS_INTERFACES),+
                }
            }
            pub fn held_by_api_stages(self) -> bool {
                match self {
                    $(Kind::$variant => <$variant as KindSpec>::HELD_BY_API_STAGES),+
                }
            }
            pub fn update_renews_identity(self) -> bool {
                match self {
                    $(Kind::$variant => <$variant as KindSpec>::UPDATE_RENEWS_IDENTITY),+
                }
            }
        }

        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(tag = "kind", rename_all = "snake_case")]
        pub enum Resource {
            $($variant($variant)),+
        }

        impl Resource {
            pub fn kind(&self) -> Kind {
                match self {
                    $(Resource::$variant(_) => Kind::$variant),+
                }
            }
            /// Every resource this one points at, i.e. what must exist before it is created
            /// and what must outlive it on delete.
            pub fn refs(&self) -> Vec<&Ref> {
                match self {
                    $(Resource::$variant(r) => r.refs()),+
                }
            }
            /// Calls `f` on every reference, so observe can translate AWS ids into logical ids.
            pub fn for_each_ref_mut(&mut self, mut f: impl FnMut(&mut Ref)) {
                let refs = match self {
                    $(Resource::$variant(r) => r.refs_mut()),+
                };
                for r in refs {
                    f(r);
                }
            }
            /// Fields `self` (as observed) lacks because the endpoint does not return them.
            pub fn unknown_on_read(&self) -> &'static [&'static str] {
                match self {
                    $(Resource::$variant(r) => <$variant as KindSpec>::unknown_on_read(r)),+
                }
            }
            /// The id observe uses when the file has it ([`KindSpec::alternative_id`]).
            pub fn alternative_id(&self) -> Option<crate::model::ResourceId> {
                match self {
                    $(Resource::$variant(r) => r.alternative_id()),+
                }
            }
            /// Why AWS refuses to turn `have` into `self` ([`KindSpec::refuses_change`]).
            pub fn refuses_change(&self, have: &Resource) -> Option<String> {
                match (self, have) {
                    $((Resource::$variant(want), Resource::$variant(have)) => {
                        <$variant as KindSpec>::refuses_change(want, have)
                    })+
                    _ => None,
                }
            }
            /// What replacing `self` (as observed) costs ([`KindSpec::replacement_cost`]).
            pub fn replacement_cost(&self) -> Option<String> {
                match self {
                    $(Resource::$variant(r) => <$variant as KindSpec>::replacement_cost(r)),+
                }
            }
            /// Why deleting `self` (as observed) is refused ([`KindSpec::refuses_delete`]).
            pub fn refuses_delete(&self) -> Option<String> {
                match self {
                    $(Resource::$variant(r) => <$variant as KindSpec>::refuses_delete(r)),+
                }
            }
            /// What deleting `self` (as observed) costs ([`KindSpec::delete_note`]).
            pub fn delete_note(&self) -> Option<String> {
                match self {
                    $(Resource::$variant(r) => <$variant as KindSpec>::delete_note(r)),+
                }
            }
            /// The id a parent-scoped kind derives from its parent ([`KindSpec::scoped_id`]).
            pub fn scoped_id(&self) -> Option<crate::model::ResourceId> {
                match self {
                    $(Resource::$variant(r) => r.scoped_id()),+
                }
            }
            /// Part of what its API's deployment snapshots ([`KindSpec::IN_API_SNAPSHOT`]).
            pub fn in_api_snapshot(&self) -> bool {
                match self {
                    $(Resource::$variant(_) => <$variant as KindSpec>::IN_API_SNAPSHOT),+
                }
            }
            /// A snapshot of its API ([`KindSpec::SNAPSHOTS_API`]).
            pub fn snapshots_api(&self) -> bool {
                match self {
                    $(Resource::$variant(_) => <$variant as KindSpec>::SNAPSHOTS_API),+
                }
            }
            /// The REST API it belongs to.
            pub fn api(&self) -> Option<&Ref> {
                match self {
                    $(Resource::$variant(r) => r.api()),+
                }
            }
            /// The parent whose delete takes it along ([`KindSpec::deleted_with`]).
            pub fn deleted_with(&self) -> Option<&Ref> {
                match self {
                    $(Resource::$variant(r) => r.deleted_with()),+
                }
            }
            /// Fields of `self` (as desired) that something else keeps ([`KindSpec::kept_elsewhere`]).
            pub fn kept_elsewhere(&self) -> &'static [&'static str] {
                match self {
                    $(Resource::$variant(r) => <$variant as KindSpec>::kept_elsewhere(r)),+
                }
            }
            /// The parent a new one can be created beside the old one in ([`KindSpec::unique_within`]).
            pub fn unique_within(&self) -> Option<&Ref> {
                match self {
                    $(Resource::$variant(r) => r.unique_within()),+
                }
            }
            /// Whether `self` (as desired) clashes with `other` ([`KindSpec::clashes_with`]).
            pub fn clashes_with(&self, other: &Resource) -> Option<bool> {
                match (self, other) {
                    $((Resource::$variant(want), Resource::$variant(other)) => {
                        <$variant as KindSpec>::clashes_with(want, other)
                    })+
                    _ => Some(false),
                }
            }
            /// The account-unique name and its longest length ([`KindSpec::unique_name`]).
            pub fn unique_name(&mut self) -> Option<(&mut String, usize)> {
                match self {
                    $(Resource::$variant(r) => r.unique_name()),+
                }
            }
            /// Forcing fields `self` (as observed) lacks and that can be set in place.
            pub fn completes_in_place(&self) -> &'static [&'static str] {
                match self {
                    $(Resource::$variant(r) => <$variant as KindSpec>::completes_in_place(r)),+
                }
            }
        }

        #[cfg(test)]
        mod registry_tests {
            use super::*;
            #[test]
            fn every_kind_names_itself() {
                $(assert_eq!(<$variant as KindSpec>::KIND, Kind::$variant);)+
                assert_eq!(Kind::ALL.len(), [$($name),+].len());
            }
        }
    };
}
with_kinds!(define_kinds);

impl Resource {
    /// `self` (as observed) under `want`'s name when it holds the replacement name of that name:
    /// a resource created beside its predecessor is still the one the file asks for.
    pub fn named_as(&self, want: &Resource) -> Resource {
        let mut have = self.clone();
        let mut want = want.clone();
        if let (Some((held, _)), Some((wanted, max))) = (have.unique_name(), want.unique_name()) {
            if *held == crate::names::replacement_name(wanted, max) {
                held.clone_from(wanted);
            }
        }
        have
    }

    /// Gives `self`, a replacement created while `old` still exists, the other of its two
    /// names when `old` holds this one (AWS refuses a second resource of the same name).
    /// Returns the name it takes, if it changed.
    pub fn take_name_beside(&mut self, old: &Resource) -> Option<String> {
        let mut old = old.clone();
        let (held, _) = old.unique_name()?;
        let (name, max) = self.unique_name()?;
        // `old` holding the second name leaves the first one free.
        if held != name {
            return None;
        }
        *name = crate::names::replacement_name(name, max);
        Some(name.clone())
    }
}
