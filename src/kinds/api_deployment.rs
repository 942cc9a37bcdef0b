//! The `api_deployment` kind: an immutable snapshot of a REST API's resources and methods. Any
//! change to them plans a new deployment (see `plan::diff`), created after every such change
//! (see `plan::schedule`), and the stage moves to it.

use super::{child_id, KindSpec, ReplaceOrder};
use crate::model::{Kind, Ref, ResourceId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiDeployment {
    pub rest_api: Ref,
    pub description: String,
}

impl KindSpec for ApiDeployment {
    const KIND: Kind = Kind::ApiDeployment;
    const FORCES_REPLACEMENT: &'static [&'static str] = &[];
    /// The new snapshot exists before the stage moves to it and the old one is deleted: the
    /// stage always serves one.
    const REPLACE_ORDER: ReplaceOrder = ReplaceOrder::CreateFirst;
    const SNAPSHOTS_API: bool = true;
    /// `<api>.deployment`: one current snapshot per API; older ones are duplicates to delete.
    fn scoped_id(&self) -> Option<ResourceId> {
        child_id(&self.rest_api, "deployment", "current")
    }
    fn api(&self) -> Option<&Ref> {
        Some(&self.rest_api)
    }
    fn deleted_with(&self) -> Option<&Ref> {
        Some(&self.rest_api)
    }
    fn refs(&self) -> Vec<&Ref> {
        vec![&self.rest_api]
    }
    fn refs_mut(&mut self) -> Vec<&mut Ref> {
        vec![&mut self.rest_api]
    }
}
