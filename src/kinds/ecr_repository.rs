//! The `ecr_repository` kind: an ECR repository with scan-on-push, tag mutability and a
//! lifecycle policy keeping the last N images.

use super::{fields, KindSpec};
use crate::model::{Kind, Ref};
use crate::plan::diff::DATA_LOSS;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EcrRepository {
    pub name: String,
    pub scan_on_push: bool,
    /// `MUTABLE` or `IMMUTABLE`.
    pub tag_mutability: String,
    pub keep_images: u32,
    /// As observed: images are in it, so deleting it deletes them (only with `--delete-images`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub holds_images: bool,
    /// Set by `--delete-images` on a repository about to be deleted: its images go with it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub delete_images: bool,
}

impl KindSpec for EcrRepository {
    const KIND: Kind = Kind::EcrRepository;
    /// Scanning, mutability and the lifecycle policy are set in place.
    const FORCES_REPLACEMENT: &'static [&'static str] = fields!(EcrRepository; name);
    /// What it holds is not configuration: never drift, never set by an update.
    fn kept_elsewhere(_want: &Self) -> &'static [&'static str] {
        fields!(EcrRepository; holds_images, delete_images)
    }
    /// ECR itself refuses to delete a repository holding images unless forced.
    fn refuses_delete(have: &Self) -> Option<String> {
        (have.holds_images && !have.delete_images).then(|| {
            format!(
                "ECR repository {} still holds images, and ecsform never deletes images silently: run again with `--delete-images` to delete them with it, or keep the repository in the file",
                have.name
            )
        })
    }
    fn delete_note(have: &Self) -> Option<String> {
        (have.holds_images && have.delete_images)
            .then(|| format!("{DATA_LOSS}: its images are deleted with it (`--delete-images`)"))
    }
    fn refs(&self) -> Vec<&Ref> {
        vec![]
    }
    fn refs_mut(&mut self) -> Vec<&mut Ref> {
        vec![]
    }
}
