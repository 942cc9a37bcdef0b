//! The `vpc` kind: its model and what the engine must know about it.

use super::{fields, KindSpec};
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
    /// Nothing moves between VPCs: every subnet, group, load balancer, target group, namespace
    /// and task in it is rebuilt, and traffic stops meanwhile.
    fn replacement_cost(_have: &Self) -> Option<String> {
        Some(
            "OUTAGE: everything in the VPC is rebuilt in the new one, and traffic stops meanwhile"
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
