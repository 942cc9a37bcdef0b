//! The seam between the engine and a cloud: observe a stack; carry out one operation.
//! `aws` talks to AWS (or an emulator); `fake` is an in-memory cloud for engine tests.

#[cfg(feature = "aws")]
pub mod aws;
pub mod failing;
pub mod fake;
#[cfg(feature = "aws")]
pub mod registry;

use crate::model::{Desired, Kind, Observed, ObservedResource, Ref, Resource, ResourceId};
use crate::plan::schedule::OpKind;
use std::collections::BTreeMap;
use std::future::Future;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CloudError {
    #[error("not found: {0}")]
    NotFound(String),
    #[error("throttled: {0}")]
    Throttled(String),
    #[error("dependency violation: {0}")]
    DependencyViolation(String),
    #[error("timed out: {0}")]
    Timeout(String),
    #[error("{0} is not created yet (it must be created first)")]
    Unresolved(String),
    #[error("access denied: {0}")]
    AccessDenied(String),
    /// No usable credentials, or AWS refused them (invalid, expired).
    #[error("{0}")]
    Credentials(String),
    /// No connection to AWS (or the endpoint) at all.
    #[error("{0}")]
    Unreachable(String),
    /// Any other error answer from AWS, with its code (matched by code, never by message).
    #[error("{code}: {message}")]
    Aws { code: String, message: String },
    #[error("{0}")]
    Other(String),
}

impl CloudError {
    /// The AWS error code of an answer that is not one of the classified kinds above.
    pub fn aws_code(&self) -> Option<&str> {
        match self {
            CloudError::Aws { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// What an operation can see: the stack, and the AWS ids of everything created or observed so far.
pub struct OpContext<'a> {
    pub stack: &'a str,
    pub id: &'a ResourceId,
    pub physical: &'a BTreeMap<ResourceId, String>,
    /// The AWS ids as observed when the run began: what an update's `have` points at, which a
    /// create-first replacement may since have given a new id under the same logical id.
    pub observed: &'a BTreeMap<ResourceId, String>,
}

impl OpContext<'_> {
    pub fn resolve(&self, r: &Ref) -> Result<String, CloudError> {
        match r {
            Ref::Id(id) => self
                .physical
                .get(id)
                .cloned()
                .ok_or_else(|| CloudError::Unresolved(id.to_string())),
            Ref::Unowned(p) => Ok(p.clone()),
        }
    }
    /// The AWS id `r` had when the run began (for what an update moves away from).
    pub fn resolve_observed(&self, r: &Ref) -> Option<String> {
        match r {
            Ref::Id(id) => self.observed.get(id).cloned(),
            Ref::Unowned(p) => Some(p.clone()),
        }
    }
    pub fn resolve_all(&self, refs: &[Ref]) -> Result<Vec<String>, CloudError> {
        refs.iter().map(|r| self.resolve(r)).collect()
    }
}

/// Implemented by `aws::AwsCloud` and `fake::FakeCloud`.
pub trait Cloud: Send + Sync {
    /// Everything owned by `stack`. `hint` is what the file asks for (lets reads go straight to
    /// known names); ownership is still decided by tags.
    fn observe(
        &self,
        stack: &str,
        hint: &Desired,
    ) -> impl Future<Output = Result<Observed, CloudError>> + Send;
    /// Creates the resource, tagged at creation; returns its AWS id.
    fn create(
        &self,
        ctx: &OpContext<'_>,
        want: &Resource,
    ) -> impl Future<Output = Result<String, CloudError>> + Send;
    /// Changes it in place; returns its AWS id (new for a task definition revision).
    fn update(
        &self,
        ctx: &OpContext<'_>,
        have: &ObservedResource,
        want: &Resource,
    ) -> impl Future<Output = Result<String, CloudError>> + Send;
    /// Waits until AWS's rate limits allow this operation (client-side pacing). Called before
    /// the operation takes one of the executor's parallel slots.
    fn pace(&self, _kind: Kind, _op: OpKind) -> impl Future<Output = ()> + Send {
        std::future::ready(())
    }
    fn delete(
        &self,
        ctx: &OpContext<'_>,
        have: &ObservedResource,
    ) -> impl Future<Output = Result<(), CloudError>> + Send;
}

/// What commands need of a cloud beyond carrying out operations: its region and the waits and
/// reads after an apply. With `Cloud`, enough for `apply`, `destroy` and `plan` to run against
/// the in-memory cloud as well as AWS (the stack lock stays AWS's: see `stack_lock`).
pub trait StackOps: Cloud {
    fn region(&self) -> &str;
    /// Keeps the last-applied record of `stack` (`crate::applied`); `observe` reads it back.
    fn record_applied(
        &self,
        stack: &str,
        record: &crate::applied::AppliedRecord,
    ) -> impl Future<Output = Result<(), CloudError>> + Send;
    /// Deletes the record, after a destroy left nothing.
    fn forget_applied(&self, stack: &str) -> impl Future<Output = Result<(), CloudError>> + Send;
    /// What AWS reports failed, after an apply, among what the apply created and did not wait
    /// for (a NAT gateway that ended `failed`): one line per failure, naming it and AWS's reason.
    fn failures_after_apply(&self) -> impl Future<Output = Result<Vec<String>, CloudError>> + Send {
        std::future::ready(Ok(Vec::new()))
    }
    /// Waits until the named ECS services run their desired count on one deployment.
    fn wait_for_steady_services(
        &self,
        stack: &str,
        services: &[String],
        limit: std::time::Duration,
    ) -> impl Future<Output = Result<(), CloudError>> + Send;
}
