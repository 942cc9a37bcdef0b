//! The `nat_gateway` kind: its model and what the engine must know about it.

use super::{fields, KindSpec};
use crate::model::{Kind, Ref};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NatGateway {
    pub name: String,
    pub subnet: Ref,
    pub elastic_ip: Ref,
    /// What AWS reported when the gateway ended `failed` (its `failureCode: failureMessage`,
    /// e.g. `InsufficientFreeAddressesInSubnet`); never wanted, so a failed gateway is
    /// replaced, and the plan says why. AWS deletes a failed gateway by itself after a while
    /// (https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-troubleshooting.html).
    /// Written out as `null` when there is none: the diff compares the fields the file's
    /// resource has.
    #[serde(default)]
    pub failure: Option<String>,
}

impl KindSpec for NatGateway {
    const KIND: Kind = Kind::NatGateway;
    const HOLDS_INTERFACES: bool = true;
    /// Replaced delete-first (the default): its Elastic IP moves to the new one, and an address
    /// serves one NAT gateway at a time. A second address would keep outbound traffic flowing,
    /// but the quota is 5 per region (https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html).
    const FORCES_REPLACEMENT: &'static [&'static str] =
        fields!(NatGateway; subnet, elastic_ip, failure);
    fn refs(&self) -> Vec<&Ref> {
        vec![&self.subnet, &self.elastic_ip]
    }
    fn refs_mut(&mut self) -> Vec<&mut Ref> {
        vec![&mut self.subnet, &mut self.elastic_ip]
    }
}
