//! Failure injection for engine tests: wraps any `Cloud` and fails the k-th create, update or
//! delete of a chosen kind with a chosen `CloudError` (Mountpoint-S3's `FailureClient` idea), so
//! retries and partial failure are tested without an emulator.

use super::{Cloud, CloudError, OpContext};
use crate::model::{Desired, Kind, Observed, ObservedResource, Resource};
use crate::plan::schedule::OpKind;
use std::sync::Mutex;

/// Fail the `nth` (1-based) call matching `kind` and `op` with `error`.
#[derive(Debug, Clone)]
pub struct FailNth {
    pub kind: Kind,
    pub op: OpKind,
    pub nth: usize,
    pub error: CloudError,
}

pub struct FailingCloud<C> {
    inner: C,
    rules: Vec<FailNth>,
    seen: Mutex<Vec<usize>>,
}

impl<C: Cloud> FailingCloud<C> {
    pub fn new(inner: C, rules: Vec<FailNth>) -> Self {
        let seen = Mutex::new(vec![0; rules.len()]);
        FailingCloud { inner, rules, seen }
    }

    pub fn inner(&self) -> &C {
        &self.inner
    }

    /// Counts this call against every matching rule; the error of the first rule it hits.
    fn injected(&self, kind: Kind, op: OpKind) -> Option<CloudError> {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let mut hit = None;
        for (i, rule) in self.rules.iter().enumerate() {
            if rule.kind == kind && rule.op == op {
                seen[i] += 1;
                if seen[i] == rule.nth && hit.is_none() {
                    hit = Some(rule.error.clone());
                }
            }
        }
        hit
    }
}

impl<C: Cloud> Cloud for FailingCloud<C> {
    async fn observe(&self, stack: &str, hint: &Desired) -> Result<Observed, CloudError> {
        self.inner.observe(stack, hint).await
    }
    async fn create(&self, ctx: &OpContext<'_>, want: &Resource) -> Result<String, CloudError> {
        match self.injected(want.kind(), OpKind::Create) {
            Some(e) => Err(e),
            None => self.inner.create(ctx, want).await,
        }
    }
    async fn update(
        &self,
        ctx: &OpContext<'_>,
        have: &ObservedResource,
        want: &Resource,
    ) -> Result<String, CloudError> {
        match self.injected(want.kind(), OpKind::Update) {
            Some(e) => Err(e),
            None => self.inner.update(ctx, have, want).await,
        }
    }
    async fn pace(&self, kind: Kind, op: OpKind) {
        self.inner.pace(kind, op).await
    }
    async fn delete(&self, ctx: &OpContext<'_>, have: &ObservedResource) -> Result<(), CloudError> {
        match self.injected(have.resource.kind(), OpKind::Delete) {
            Some(e) => Err(e),
            None => self.inner.delete(ctx, have).await,
        }
    }
}
