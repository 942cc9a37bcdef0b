//! The `target_group` kind: its model and what the engine must know about it.

use super::{fields, KindSpec, ReplaceOrder};
use crate::model::{Kind, Ref};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetGroup {
    pub name: String,
    pub vpc: Ref,
    pub port: u16,
    /// `HTTP` behind an application load balancer, `TCP` behind a network load balancer.
    pub protocol: String,
    /// Checked over HTTP, whatever the protocol.
    pub health_check_path: String,
    /// The port checked when it is not the traffic port (seed 002's actuator on 8081).
    #[serde(default)]
    pub health_check_port: Option<u16>,
}

impl KindSpec for TargetGroup {
    const KIND: Kind = Kind::TargetGroup;
    const FORCES_REPLACEMENT: &'static [&'static str] =
        fields!(TargetGroup; name, vpc, port, protocol);
    /// Replaced create-first: the new one can coexist with the old, so traffic never has a gap.
    const REPLACE_ORDER: ReplaceOrder = ReplaceOrder::CreateFirst;
    /// At most 32 characters, unique in the region: a replacement of the same name (a new
    /// VPC) takes the second name
    /// (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html).
    fn unique_name(&mut self) -> Option<(&mut String, usize)> {
        Some((&mut self.name, 32))
    }
    fn refs(&self) -> Vec<&Ref> {
        vec![&self.vpc]
    }
    fn refs_mut(&mut self) -> Vec<&mut Ref> {
        vec![&mut self.vpc]
    }
}
