//! The `api_stage` kind: the named stage serving a deployment, with optional stage-wide method
//! throttling.

use super::{child_id, fields, KindSpec};
use crate::model::{Kind, Ref, ResourceId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Throttle {
    /// Steady requests per second.
    pub rate: u32,
    pub burst: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiStage {
    pub rest_api: Ref,
    pub name: String,
    pub deployment: Ref,
    pub throttle: Option<Throttle>,
}

impl KindSpec for ApiStage {
    const KIND: Kind = Kind::ApiStage;
    const FORCES_REPLACEMENT: &'static [&'static str] = fields!(ApiStage; rest_api, name);
    /// `<api>.stage.<name>`.
    fn scoped_id(&self) -> Option<ResourceId> {
        child_id(&self.rest_api, "stage", &self.name)
    }
    fn deleted_with(&self) -> Option<&Ref> {
        Some(&self.rest_api)
    }
    fn refs(&self) -> Vec<&Ref> {
        vec![&self.rest_api, &self.deployment]
    }
    fn refs_mut(&mut self) -> Vec<&mut Ref> {
        vec![&mut self.rest_api, &mut self.deployment]
    }
}
