//! `expand`: a checked topology → the typed resources it needs. Pure: no I/O, no AWS.
//!
//! A list of small named passes, one file each (like Terraform's graph transforms): each adds
//! the resources of one concern and returns what later passes point at.

mod alarms;
mod api_gateway;
mod compute;
mod data;
mod discovery;
mod edge;
mod identity;
mod network;
mod scaling;
mod security;

pub use compute::environment_for;
pub use identity::secrets_policy;

use crate::model::*;
use crate::topology::Topology;

/// The AWS-managed policy that lets ECS pull images and write logs for a task.
pub const EXECUTION_POLICY_ARN: &str =
    "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";
/// The internal ALB's listener port with `api_gateway.via: alb` (HTTP inside the VPC).
pub const API_ALB_PORT: u16 = 80;
/// Days kept in each service's log group.
pub const LOG_RETENTION_DAYS: i32 = 30;

pub fn expand(t: &Topology, region: &str) -> Desired {
    let mut d = Desired::default();
    let network = network::expand(&mut d, t, region);
    security::expand(&mut d, t, &network.vpc);
    data::expand(&mut d, t, &network);
    let identity = identity::expand(&mut d, t, region);
    let discovery = discovery::expand(&mut d, t, &network.vpc);
    edge::expand(&mut d, t, &network);
    api_gateway::expand(&mut d, t, &network);
    compute::expand(&mut d, t, region, &network, &identity, &discovery);
    scaling::expand(&mut d, t);
    alarms::expand(&mut d, t);
    d.renamed = t
        .services
        .iter()
        .filter_map(|(name, s)| Some((s.renamed_from.clone()?, name.clone())))
        .collect();
    d
}

/// What the network pass made that later passes point at.
pub(crate) struct Network {
    pub vpc: ResourceId,
    pub private_subnets: Vec<ResourceId>,
    pub public_subnets: Vec<ResourceId>,
}

/// Logical ids of the kinds not scoped by a parent: stable names inside the stack, stored in the `ecsform:id` tag.
pub mod ids {
    pub const VPC: &str = "vpc";
    pub const INTERNET_GATEWAY: &str = "igw";
    pub const PUBLIC_ROUTES: &str = "rtb.public";
    pub const ALB_GROUP: &str = "sg.alb";
    pub const EXECUTION_ROLE: &str = "role.task-execution";
    pub const NAMESPACE: &str = "namespace";
    pub const CLUSTER: &str = "cluster";
    pub const ALB: &str = "alb";
    pub const NLB_GROUP: &str = "sg.nlb";
    pub const NLB: &str = "nlb";
    pub const VPC_LINK: &str = "vpc-link";
    pub const REST_API: &str = "api";
    /// With `via: alb`: the internal ALB, its group, and the group of the VPC link V2's
    /// network interfaces.
    pub const API_ALB: &str = "api-alb";
    pub const API_ALB_GROUP: &str = "sg.api-alb";
    pub const API_LINK_GROUP: &str = "sg.api-link";

    pub fn subnet(public: bool, index: usize) -> String {
        format!(
            "subnet.{}.{}",
            if public { "public" } else { "private" },
            index + 1
        )
    }
    pub fn elastic_ip(index: usize) -> String {
        format!("eip.nat.{}", index + 1)
    }
    pub fn nat_gateway(index: usize) -> String {
        format!("nat.{}", index + 1)
    }
    pub fn private_routes(index: usize) -> String {
        format!("rtb.private.{}", index + 1)
    }
    pub fn service_group(svc: &str) -> String {
        format!("sg.svc.{svc}")
    }
    /// Who a security group of the stack stands for, as the file names callers: the inverse of
    /// [`service_group`] and [`ALB_GROUP`] (for the plan's reachability lines).
    pub fn group_party(group: &str) -> Option<&str> {
        if let Some(db) = group.strip_prefix("sg.db.") {
            return Some(db);
        }
        if group == ALB_GROUP {
            return Some(crate::topology::CALLER_LOAD_BALANCER);
        }
        if group == NLB_GROUP || group == API_ALB_GROUP {
            return Some(crate::topology::CALLER_API_GATEWAY);
        }
        if group == API_LINK_GROUP {
            return Some("api_gateway VPC link");
        }
        group.strip_prefix("sg.svc.")
    }
    pub fn repository(key: &str) -> String {
        format!("ecr.{key}")
    }
    /// A database: its instance, its security group, its DB subnet group.
    pub fn database(key: &str) -> String {
        format!("db.{key}")
    }
    pub fn db_group(key: &str) -> String {
        format!("sg.db.{key}")
    }
    pub fn db_subnet_group(key: &str) -> String {
        format!("db.{key}.subnets")
    }
    /// A CloudWatch alarm of a service (`cpu-high`, `scale-out`, ...).
    pub fn alarm(svc: &str, what: &str) -> String {
        format!("alarm.{svc}.{what}")
    }
    pub fn task_role(svc: &str) -> String {
        format!("role.task.{svc}")
    }
    pub fn log_group(svc: &str) -> String {
        format!("log.{svc}")
    }
    pub fn task_definition(svc: &str) -> String {
        format!("taskdef.{svc}")
    }
    pub fn ecs_service(svc: &str) -> String {
        format!("service.{svc}")
    }
    pub fn target_group(svc: &str) -> String {
        format!("tg.{svc}")
    }
    pub fn nlb_target_group(svc: &str) -> String {
        format!("tg.nlb.{svc}")
    }
    pub fn api_alb_target_group(svc: &str) -> String {
        format!("tg.api.{svc}")
    }
}
