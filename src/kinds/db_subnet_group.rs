//! The `db_subnet_group` kind: the private subnets an RDS instance may live in.

use super::{fields, KindSpec, ReplaceOrder};
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
    /// A group in a new VPC is created beside the old one, under its second name.
    const REPLACE_ORDER: ReplaceOrder = ReplaceOrder::CreateFirst;
    /// At most 255 characters, unique in the region
    /// (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBSubnetGroup.html).
    fn unique_name(&mut self) -> Option<(&mut String, usize)> {
        Some((&mut self.name, 255))
    }
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
