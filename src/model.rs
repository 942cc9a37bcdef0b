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

pub use crate::kinds::*;

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Resource {
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
    /// The last-applied record (`crate::applied`), if the stack has one: tells a change made
    /// outside ecsform from a change of the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_applied: Option<BTreeMap<ResourceId, String>>,
}

impl Observed {
    /// `--delete-images`: a repository deleted by this run takes its images with it.
    pub fn delete_images_with_repositories(&mut self) {
        for o in self.resources.values_mut() {
            if let Resource::EcrRepository(r) = &mut o.resource {
                r.delete_images = true;
            }
        }
    }
}

/// Everything the topology asks for, keyed by logical id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Desired {
    pub resources: BTreeMap<ResourceId, Resource>,
    /// Services renamed in the file (`renamed_from`): old name → new name.
    #[serde(default)]
    pub renamed: BTreeMap<String, String>,
}

impl Desired {
    pub fn insert(&mut self, id: impl Into<String>, resource: Resource) -> ResourceId {
        let id = ResourceId::new(id);
        self.resources.insert(id.clone(), resource);
        id
    }

    /// Adds a resource of a parent-scoped kind under the id it derives from its parent
    /// ([`crate::kinds::KindSpec::scoped_id`]), the same id observe gives it.
    pub fn insert_scoped(&mut self, resource: Resource) -> ResourceId {
        let id = resource
            .scoped_id()
            .unwrap_or_else(|| ResourceId::new(format!("{}.unscoped", resource.kind())));
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
