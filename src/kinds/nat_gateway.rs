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
    const FORCES_REPLACEMENT: &'static [&'static str] = fields!(NatGateway; subnet, elastic_ip);
    fn refs(&self) -> Vec<&Ref> {
        vec![&self.subnet, &self.elastic_ip]
    }
    fn refs_mut(&mut self) -> Vec<&mut Ref> {
        vec![&mut self.subnet, &mut self.elastic_ip]
    }
}
