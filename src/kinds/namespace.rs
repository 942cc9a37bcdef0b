//! The `dns_namespace` kind: its model and what the engine must know about it.

use super::{fields, KindSpec};
use crate::model::{Kind, Ref};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Namespace {
    pub name: String,
    pub vpc: Ref,
}

impl KindSpec for Namespace {
    const KIND: Kind = Kind::Namespace;
    const FORCES_REPLACEMENT: &'static [&'static str] = fields!(Namespace; name, vpc);
    /// Created beside the old one when its `vpc` is replaced: a private DNS namespace is a Route 53 private hosted zone, and zones of one name may exist for different VPCs (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/hosted-zone-private-considerations.html).
    fn unique_within(&self) -> Option<&Ref> {
        Some(&self.vpc)
    }
    fn refs(&self) -> Vec<&Ref> {
        vec![&self.vpc]
    }
    fn refs_mut(&mut self) -> Vec<&mut Ref> {
        vec![&mut self.vpc]
    }
}
