//! The `load_balancer` kind: its model and what the engine must know about it.

use super::{fields, KindSpec, ReplaceOrder};
use crate::model::{Kind, Ref};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadBalancerType {
    Application,
    Network,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadBalancer {
    pub name: String,
    pub lb_type: LoadBalancerType,
    pub internal: bool,
    pub subnets: Vec<Ref>,
    pub security_groups: Vec<Ref>,
    /// Network load balancers only: whether the group's inbound rules also apply to traffic that
    /// arrives through AWS PrivateLink (an API Gateway VPC link). `None`: not set or not read.
    pub private_link_inbound_rules: Option<bool>,
}

impl KindSpec for LoadBalancer {
    const KIND: Kind = Kind::LoadBalancer;
    const HOLDS_INTERFACES: bool = true;
    const FORCES_REPLACEMENT: &'static [&'static str] =
        fields!(LoadBalancer; name, lb_type, internal);
    /// Replaced create-first under its second name (names are unique in the region): the
    /// listeners move to the new one before the old one goes.
    const REPLACE_ORDER: ReplaceOrder = ReplaceOrder::CreateFirst;
    /// Its subnets and groups change in place only within its VPC
    /// (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_SetSubnets.html).
    const BOUND_TO_VPC: bool = true;
    /// At most 32 characters
    /// (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html).
    fn unique_name(&mut self) -> Option<(&mut String, usize)> {
        Some((&mut self.name, 32))
    }
    /// Emulators do not return the PrivateLink setting: absent is unknown, not drift.
    fn unknown_on_read(have: &Self) -> &'static [&'static str] {
        if have.private_link_inbound_rules.is_none() {
            fields!(LoadBalancer; private_link_inbound_rules)
        } else {
            &[]
        }
    }
    fn refs(&self) -> Vec<&Ref> {
        let mut out: Vec<&Ref> = self.subnets.iter().collect();
        out.extend(self.security_groups.iter());
        out
    }
    fn refs_mut(&mut self) -> Vec<&mut Ref> {
        let mut out: Vec<&mut Ref> = self.subnets.iter_mut().collect();
        out.extend(self.security_groups.iter_mut());
        out
    }
}
