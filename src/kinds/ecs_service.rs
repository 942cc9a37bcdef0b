//! The `ecs_service` kind: its model and what the engine must know about it.

use super::{fields, KindSpec};
use crate::model::{Kind, Ref};
use serde::{Deserialize, Serialize};

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
    /// The count a new service starts with; under an autoscaler AWS keeps it afterwards.
    pub desired_count: u32,
    /// An autoscaler owns the desired count (`autoscaling` in the file): never drift, never set
    /// by an update. Not an AWS property: observe reads it as `false`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub count_scaled: bool,
    pub subnets: Vec<Ref>,
    pub security_groups: Vec<Ref>,
    pub assign_public_ip: bool,
    pub registry: Option<Ref>,
    pub target_groups: Vec<Ref>,
    /// The container and port the target groups send to; empty and 0 (and not shown in a plan)
    /// for a service no load balancer routes to.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub container_name: String,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub container_port: u16,
    /// `None` when read back from an emulator that drops it (moto); diff then ignores it.
    pub deployment: Option<Deployment>,
}

fn is_zero(port: &u16) -> bool {
    *port == 0
}

impl KindSpec for EcsService {
    const KIND: Kind = Kind::EcsService;
    const HOLDS_INTERFACES: bool = true;
    const FORCES_REPLACEMENT: &'static [&'static str] = fields!(EcsService; name, cluster);
    /// moto drops the deployment configuration on read (AWS returns it).
    fn unknown_on_read(have: &Self) -> &'static [&'static str] {
        if have.deployment.is_none() {
            fields!(EcsService; deployment)
        } else {
            &[]
        }
    }
    fn kept_elsewhere(want: &Self) -> &'static [&'static str] {
        if want.count_scaled {
            fields!(EcsService; desired_count, count_scaled)
        } else {
            fields!(EcsService; count_scaled)
        }
    }
    fn refs(&self) -> Vec<&Ref> {
        let mut out = vec![&self.cluster, &self.task_definition];
        out.extend(self.subnets.iter());
        out.extend(self.security_groups.iter());
        out.extend(self.registry.iter());
        out.extend(self.target_groups.iter());
        out
    }
    fn refs_mut(&mut self) -> Vec<&mut Ref> {
        let mut out = vec![&mut self.cluster, &mut self.task_definition];
        out.extend(self.subnets.iter_mut());
        out.extend(self.security_groups.iter_mut());
        out.extend(self.registry.iter_mut());
        out.extend(self.target_groups.iter_mut());
        out
    }
}
