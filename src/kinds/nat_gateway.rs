//! The `nat_gateway` kind: its model and what the engine must know about it.

use super::{fields, KindSpec};
use crate::model::{Kind, Ref};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NatGateway {
    pub name: String,
    pub subnet: Ref,
    pub elastic_ip: Ref,
}

impl KindSpec for NatGateway {
    const KIND: Kind = Kind::NatGateway;
    const HOLDS_INTERFACES: bool = true;
    /// Replaced delete-first (the default): its Elastic IP moves to the new one, and an address
    /// serves one NAT gateway at a time. A second address would keep outbound traffic flowing,
    /// but the quota is 5 per region (https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html).
    const FORCES_REPLACEMENT: &'static [&'static str] = fields!(NatGateway; subnet, elastic_ip);
    fn refs(&self) -> Vec<&Ref> {
        vec![&self.subnet, &self.elastic_ip]
    }
    fn refs_mut(&mut self) -> Vec<&mut Ref> {
        vec![&mut self.subnet, &mut self.elastic_ip]
    }
}
