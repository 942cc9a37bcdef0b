//! The `route_table` kind: its model and what the engine must know about it.

use super::{fields, KindSpec};
use crate::model::{Kind, Ref};
use serde::{Deserialize, Serialize};

/// A route table with its default route and its subnet associations (both changed in place).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteTable {
    pub name: String,
    pub vpc: Ref,
    /// Target of 0.0.0.0/0: an internet gateway or a NAT gateway; none = no egress.
    pub default_route: Option<Ref>,
    pub subnets: Vec<Ref>,
}

impl KindSpec for RouteTable {
    const KIND: Kind = Kind::RouteTable;
    const FORCES_REPLACEMENT: &'static [&'static str] = fields!(RouteTable; vpc);
    /// Created beside the old one when its `vpc` is replaced: routes and associations belong to one VPC; a new VPC gets its own tables.
    fn unique_within(&self) -> Option<&Ref> {
        Some(&self.vpc)
    }
    fn refs(&self) -> Vec<&Ref> {
        let mut out = vec![&self.vpc];
        out.extend(self.default_route.iter());
        out.extend(self.subnets.iter());
        out
    }
    fn refs_mut(&mut self) -> Vec<&mut Ref> {
        let mut out = vec![&mut self.vpc];
        out.extend(self.default_route.iter_mut());
        out.extend(self.subnets.iter_mut());
        out
    }
}
