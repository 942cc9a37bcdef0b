//! The `ecr_repository` kind: an ECR repository with scan-on-push, tag mutability and a
//! lifecycle policy keeping the last N images.

use super::{fields, KindSpec};
use crate::model::{Kind, Ref};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EcrRepository {
    pub name: String,
    pub scan_on_push: bool,
    /// `MUTABLE` or `IMMUTABLE`.
    pub tag_mutability: String,
    pub keep_images: u32,
}

impl KindSpec for EcrRepository {
    const KIND: Kind = Kind::EcrRepository;
    /// Scanning, mutability and the lifecycle policy are set in place.
    const FORCES_REPLACEMENT: &'static [&'static str] = fields!(EcrRepository; name);
    fn refs(&self) -> Vec<&Ref> {
        vec![]
    }
    fn refs_mut(&mut self) -> Vec<&mut Ref> {
        vec![]
    }
}
