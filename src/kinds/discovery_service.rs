//! The `discovery_service` kind: its model and what the engine must know about it.

use super::{child_id, fields, KindSpec};
use crate::model::{Kind, Ref, ResourceId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscoveryService {
    pub name: String,
    pub namespace: Ref,
    pub ttl: u32,
    pub failure_threshold: u32,
}

impl KindSpec for DiscoveryService {
    const KIND: Kind = Kind::DiscoveryService;
    const FORCES_REPLACEMENT: &'static [&'static str] =
        fields!(DiscoveryService; name, namespace, failure_threshold);
    /// `<namespace>.service.<name>`: names are unique within a namespace.
    fn scoped_id(&self) -> Option<ResourceId> {
        child_id(&self.namespace, "service", &self.name)
    }
    /// Created beside the old one when its `namespace` is replaced: a service name is unique within its namespace only.
    fn unique_within(&self) -> Option<&Ref> {
        Some(&self.namespace)
    }
    fn refs(&self) -> Vec<&Ref> {
        vec![&self.namespace]
    }
    fn refs_mut(&mut self) -> Vec<&mut Ref> {
        vec![&mut self.namespace]
    }
}
