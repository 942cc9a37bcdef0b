//! The `subnet` kind: its model and what the engine must know about it.

use super::{fields, KindSpec};
use crate::model::{Kind, Ref};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subnet {
    pub name: String,
    pub vpc: Ref,
    pub cidr: String,
    pub availability_zone: String,
    pub public: bool,
}

impl KindSpec for Subnet {
    const KIND: Kind = Kind::Subnet;
    const FORCES_REPLACEMENT: &'static [&'static str] =
        fields!(Subnet; vpc, cidr, availability_zone);
    /// Created beside the old one when its `vpc` is replaced: a CIDR is unique within its VPC only.
    fn unique_within(&self) -> Option<&Ref> {
        Some(&self.vpc)
    }
    /// CIDRs may not overlap within a VPC
    /// (https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html): a new CIDR clear
    /// of every existing subnet is created before the old subnet goes, so the services move
    /// without a gap; one that overlaps (the same CIDR in another zone) goes delete-first.
    fn clashes_with(want: &Self, other: &Self) -> Option<bool> {
        if want.vpc != other.vpc {
            return Some(false);
        }
        match (
            want.cidr.parse::<ipnet::Ipv4Net>(),
            other.cidr.parse::<ipnet::Ipv4Net>(),
        ) {
            (Ok(a), Ok(b)) => Some(a.contains(&b.network()) || b.contains(&a.network())),
            _ => Some(true),
        }
    }
    fn refs(&self) -> Vec<&Ref> {
        vec![&self.vpc]
    }
    fn refs_mut(&mut self) -> Vec<&mut Ref> {
        vec![&mut self.vpc]
    }
}
