//! The `vpc_link` kind: an API Gateway REST VPC link (V1) to a network load balancer.

use super::{fields, KindSpec};
use crate::model::{Kind, Ref};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VpcLink {
    pub name: String,
    pub description: String,
    /// The network load balancer it reaches (V1 links take exactly one).
    pub load_balancer: Ref,
}

impl KindSpec for VpcLink {
    const KIND: Kind = Kind::VpcLink;
    const HELD_BY_API_STAGES: bool = true;
    /// AWS cannot change a link's target; the name can be patched, but it is derived from the
    /// stack and never changes on its own.
    const FORCES_REPLACEMENT: &'static [&'static str] = fields!(VpcLink; load_balancer);
    /// Created beside the old one when its `load_balancer` is replaced: a network load balancer serves one VPC link; a new one gets its own.
    fn unique_within(&self) -> Option<&Ref> {
        Some(&self.load_balancer)
    }
    fn refs(&self) -> Vec<&Ref> {
        vec![&self.load_balancer]
    }
    fn refs_mut(&mut self) -> Vec<&mut Ref> {
        vec![&mut self.load_balancer]
    }
}
