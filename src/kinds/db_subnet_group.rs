//! The `db_subnet_group` kind: the private subnets an RDS instance may live in.

use super::{fields, KindSpec};
use crate::model::{Kind, Ref};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbSubnetGroup {
    pub name: String,
    pub description: String,
    /// The VPC of its subnets: an instance cannot move to another VPC's group in place.
    pub vpc: Ref,
    pub subnets: Vec<Ref>,
}

impl KindSpec for DbSubnetGroup {
    const KIND: Kind = Kind::DbSubnetGroup;
    /// Subnets of the same VPC change in place (`ModifyDBSubnetGroup`).
    const FORCES_REPLACEMENT: &'static [&'static str] = fields!(DbSubnetGroup; name, vpc);
    fn refs(&self) -> Vec<&Ref> {
        let mut out = vec![&self.vpc];
        out.extend(self.subnets.iter());
        out
    }
    fn refs_mut(&mut self) -> Vec<&mut Ref> {
        let mut out = vec![&mut self.vpc];
        out.extend(self.subnets.iter_mut());
        out
    }
}
