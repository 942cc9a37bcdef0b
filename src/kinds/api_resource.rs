//! The `api_resource` kind: one path segment of a REST API (`students`, `{student_id}`,
//! `{proxy+}`) under its parent resource, or under the API itself for the root's children.

use super::{fields, KindSpec};
use crate::model::{Kind, Ref, ResourceId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiResource {
    pub rest_api: Ref,
    /// The parent resource, or the REST API itself for a child of the root `/`.
    pub parent: Ref,
    pub path_part: String,
}

impl KindSpec for ApiResource {
    const KIND: Kind = Kind::ApiResource;
    const FORCES_REPLACEMENT: &'static [&'static str] =
        fields!(ApiResource; rest_api, parent, path_part);
    const IN_API_SNAPSHOT: bool = true;
    /// `<parent>/<path part>`: `api/students/{student_id}`.
    fn scoped_id(&self) -> Option<ResourceId> {
        Some(ResourceId::new(format!(
            "{}/{}",
            self.parent.as_id()?,
            self.path_part
        )))
    }
    fn api(&self) -> Option<&Ref> {
        Some(&self.rest_api)
    }
    fn deleted_with(&self) -> Option<&Ref> {
        Some(&self.rest_api)
    }
    fn refs(&self) -> Vec<&Ref> {
        vec![&self.rest_api, &self.parent]
    }
    fn refs_mut(&mut self) -> Vec<&mut Ref> {
        vec![&mut self.rest_api, &mut self.parent]
    }
}
