//! The `scalable_target` kind: an ECS service's desired count registered with Application Auto
//! Scaling between `min` and `max` tasks. AWS knows it by the service (`service/<cluster>/<name>`)
//! and cannot tag it everywhere, so it is owned through its service.

use super::{fields, KindSpec};
use crate::model::{Kind, Ref, ResourceId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScalableTarget {
    /// The ECS service whose desired count is scaled.
    pub service: Ref,
    pub min: u32,
    pub max: u32,
}

impl KindSpec for ScalableTarget {
    const KIND: Kind = Kind::ScalableTarget;
    /// Registering again changes min and max in place.
    const FORCES_REPLACEMENT: &'static [&'static str] = fields!(ScalableTarget; service);
    fn refs(&self) -> Vec<&Ref> {
        vec![&self.service]
    }
    fn refs_mut(&mut self) -> Vec<&mut Ref> {
        vec![&mut self.service]
    }
    fn scoped_id(&self) -> Option<ResourceId> {
        Some(ResourceId::new(format!(
            "{}.scaling",
            self.service.as_id()?
        )))
    }
}
