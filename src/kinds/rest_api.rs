//! The `rest_api` kind: a regional API Gateway REST API. Its root resource `/` comes with it.

use super::KindSpec;
use crate::model::{Kind, Ref};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestApi {
    pub name: String,
    pub description: String,
}

impl KindSpec for RestApi {
    const KIND: Kind = Kind::RestApi;
    /// Name and description are patched in place: a route change never replaces the API.
    const FORCES_REPLACEMENT: &'static [&'static str] = &[];
    fn refs(&self) -> Vec<&Ref> {
        vec![]
    }
    fn refs_mut(&mut self) -> Vec<&mut Ref> {
        vec![]
    }
}
