//! The `vpc` kind: its model and what the engine must know about it.

use super::{fields, KindSpec, ReplaceOrder};
use crate::model::{Kind, Ref};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vpc {
    pub name: String,
    pub cidr: String,
    /// Both on: Cloud Map private DNS resolves only in VPCs with DNS support and hostnames.
    pub dns_support: bool,
    pub dns_hostnames: bool,
}

impl KindSpec for Vpc {
    const KIND: Kind = Kind::Vpc;
    const FORCES_REPLACEMENT: &'static [&'static str] = fields!(Vpc; cidr);
    /// The new VPC is built beside the old one (two VPCs may share a CIDR, within the quota of
    /// 5 per region: https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html),
    /// the services move to it and the old one is torn down after them.
    const REPLACE_ORDER: ReplaceOrder = ReplaceOrder::CreateFirst;
    /// Nothing moves between VPCs: every subnet, group, load balancer, target group and
    /// namespace in it is rebuilt, the tasks are replaced, the NAT gateway's address moves.
    fn replacement_cost(_have: &Self) -> Option<String> {
        Some(
            "REBUILD: everything in the VPC is rebuilt in the new one and every service is redeployed into it; databases move with their data (unavailable while they move); each load balancer gets a new DNS name, and outbound traffic pauses while the NAT gateway's address moves"
                .into(),
        )
    }
    fn refs(&self) -> Vec<&Ref> {
        vec![]
    }
    fn refs_mut(&mut self) -> Vec<&mut Ref> {
        vec![]
    }
}
