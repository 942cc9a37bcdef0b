//! The `load_balancer` kind: its model and what the engine must know about it.

use super::{fields, KindSpec};
use crate::model::{Kind, Ref};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadBalancer {
    pub name: String,
    pub internal: bool,
    pub subnets: Vec<Ref>,
    pub security_groups: Vec<Ref>,
}

impl KindSpec for LoadBalancer {
    const KIND: Kind = Kind::LoadBalancer;
    const FORCES_REPLACEMENT: &'static [&'static str] = fields!(LoadBalancer; name, internal);
    fn refs(&self) -> Vec<&Ref> {
        let mut out: Vec<&Ref> = self.subnets.iter().collect();
        out.extend(self.security_groups.iter());
        out
    }
    fn refs_mut(&mut self) -> Vec<&mut Ref> {
        let mut out: Vec<&mut Ref> = self.subnets.iter_mut().collect();
        out.extend(self.security_groups.iter_mut());
        out
    }
}
