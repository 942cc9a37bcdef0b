//! The `ecs_cluster` kind: its model and what the engine must know about it.

use super::{fields, KindSpec};
use crate::model::{Kind, Ref};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cluster {
    pub name: String,
    pub container_insights: bool,
}

impl KindSpec for Cluster {
    const KIND: Kind = Kind::Cluster;
    const FORCES_REPLACEMENT: &'static [&'static str] = fields!(Cluster; name);
    fn refs(&self) -> Vec<&Ref> {
        vec![]
    }
    fn refs_mut(&mut self) -> Vec<&mut Ref> {
        vec![]
    }
}
