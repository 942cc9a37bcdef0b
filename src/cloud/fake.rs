//! An in-memory cloud for engine tests: it enforces what AWS enforces about order (references
//! must exist at creation; nothing referenced can be deleted), records every call, and fails on
//! demand. It proves ordering and failure handling, never AWS API usage.

use super::{Cloud, CloudError, OpContext};
use crate::model::{Desired, Kind, Observed, ObservedResource, Ref, Resource, ResourceId};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

#[derive(Default)]
pub struct FakeCloud {
    state: Mutex<FakeState>,
}

#[derive(Default)]
struct FakeState {
    /// physical id → (logical id, resource with references as physical ids)
    live: BTreeMap<String, (ResourceId, Resource)>,
    next: u64,
    fail_on: BTreeSet<ResourceId>,
    /// Kinds whose operations wait this long for (pretend) rate limits.
    paced: BTreeMap<Kind, std::time::Duration>,
    /// How long every create, update and delete takes (a real call is never instant).
    latency: Option<std::time::Duration>,
    pub calls: Vec<String>,
    /// The last-applied record, as AWS would keep it.
    applied: Option<crate::applied::AppliedRecord>,
}

impl FakeCloud {
    pub fn new() -> Self {
        Self::default()
    }
    /// Every later operation on `id` fails.
    pub fn fail_on(&self, id: &str) {
        self.lock().fail_on.insert(ResourceId::new(id));
    }
    /// Every operation on a resource of `kind` first waits `delay` in `pace`, as AWS's rate
    /// limits make the real cloud wait.
    pub fn pace_kind(&self, kind: Kind, delay: std::time::Duration) {
        self.lock().paced.insert(kind, delay);
    }
    /// Every later create, update and delete takes `delay`, holding its slot meanwhile.
    pub fn op_latency(&self, delay: std::time::Duration) {
        self.lock().latency = Some(delay);
    }
    async fn take_time(&self) {
        let latency = self.lock().latency;
        if let Some(delay) = latency {
            tokio::time::sleep(delay).await;
        }
    }
    pub fn heal(&self) {
        self.lock().fail_on.clear();
    }
    /// `"create vpc"`, `"delete sg.alb"`, ... in the order they happened.
    pub fn calls(&self) -> Vec<String> {
        self.lock().calls.clone()
    }
    pub fn len(&self) -> usize {
        self.lock().live.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    fn lock(&self) -> std::sync::MutexGuard<'_, FakeState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn with_physical_refs(ctx: &OpContext<'_>, want: &Resource) -> Result<Resource, CloudError> {
    let mut r = want.clone();
    let mut err = None;
    r.for_each_ref_mut(|reference| match ctx.resolve(reference) {
        Ok(p) => *reference = Ref::Unowned(p),
        Err(e) => err = Some(e),
    });
    err.map_or(Ok(r), Err)
}

impl FakeState {
    fn check(&mut self, verb: &str, id: &ResourceId) -> Result<(), CloudError> {
        self.calls.push(format!("{verb} {id}"));
        if self.fail_on.contains(id) {
            return Err(CloudError::Other(format!("injected failure on {id}")));
        }
        Ok(())
    }
    /// The orders AWS enforces without a reference (see `Desired::order_after`).
    fn ensure_aws_orders(&self, r: &Resource) -> Result<(), CloudError> {
        match r {
            Resource::EcsService(svc) => {
                for tg in &svc.target_groups {
                    let forwarded = self
                        .live
                        .values()
                        .any(|(_, other)| crate::model::forwards_to(other) == Some(tg));
                    if !forwarded {
                        return Err(CloudError::Other(format!(
                            "InvalidParameterException: The target group with targetGroupArn {tg} does not have an associated load balancer."
                        )));
                    }
                }
            }
            Resource::NatGateway(nat) => {
                let vpc = match &nat.subnet {
                    Ref::Unowned(p) => match self.live.get(p) {
                        Some((_, Resource::Subnet(s))) => Some(s.vpc.clone()),
                        _ => None,
                    },
                    Ref::Id(_) => None,
                };
                let attached = self.live.values().any(
                    |(_, other)| matches!(other, Resource::InternetGateway(g) if Some(&g.vpc) == vpc.as_ref()),
                );
                if !attached {
                    return Err(CloudError::Other(
                        "Gateway.NotAttached: the NAT gateway's VPC has no internet gateway attached".into(),
                    ));
                }
            }
            _ => {}
        }
        Ok(())
    }
    fn ensure_refs_live(&self, r: &Resource) -> Result<(), CloudError> {
        for reference in r.refs() {
            if let Ref::Unowned(p) = reference {
                if !self.live.contains_key(p) {
                    return Err(CloudError::NotFound(p.clone()));
                }
            }
        }
        Ok(())
    }
}

impl Cloud for FakeCloud {
    async fn pace(&self, kind: Kind, _op: crate::plan::schedule::OpKind) {
        let delay = self.lock().paced.get(&kind).copied();
        if let Some(delay) = delay {
            tokio::time::sleep(delay).await;
        }
    }

    async fn observe(&self, _stack: &str, _hint: &Desired) -> Result<Observed, CloudError> {
        let s = self.lock();
        let logical: BTreeMap<&String, &ResourceId> =
            s.live.iter().map(|(p, (id, _))| (p, id)).collect();
        let mut observed = Observed::default();
        for (physical, (id, r)) in &s.live {
            let mut r = r.clone();
            r.for_each_ref_mut(|reference| {
                if let Ref::Unowned(p) = reference {
                    if let Some(id) = logical.get(p) {
                        *reference = Ref::Id((*id).clone());
                    }
                }
            });
            observed.resources.insert(
                id.clone(),
                ObservedResource {
                    id: id.clone(),
                    resource: r,
                    physical_id: physical.clone(),
                },
            );
        }
        observed.last_applied = s.applied.clone();
        Ok(observed)
    }

    async fn create(&self, ctx: &OpContext<'_>, want: &Resource) -> Result<String, CloudError> {
        self.take_time().await;
        let r = with_physical_refs(ctx, want)?;
        let mut s = self.lock();
        s.check("create", ctx.id)?;
        s.ensure_refs_live(&r)?;
        s.ensure_aws_orders(&r)?;
        s.next += 1;
        let physical = format!("fake-{}", s.next);
        s.live.insert(physical.clone(), (ctx.id.clone(), r));
        Ok(physical)
    }

    async fn update(
        &self,
        ctx: &OpContext<'_>,
        have: &ObservedResource,
        want: &Resource,
    ) -> Result<String, CloudError> {
        self.take_time().await;
        let r = with_physical_refs(ctx, want)?;
        let mut s = self.lock();
        s.check("update", ctx.id)?;
        s.ensure_refs_live(&r)?;
        s.ensure_aws_orders(&r)?;
        let Some(entry) = s.live.get_mut(&have.physical_id) else {
            return Err(CloudError::NotFound(have.physical_id.clone()));
        };
        entry.1 = r;
        Ok(have.physical_id.clone())
    }

    async fn delete(&self, ctx: &OpContext<'_>, have: &ObservedResource) -> Result<(), CloudError> {
        self.take_time().await;
        let mut s = self.lock();
        s.check("delete", ctx.id)?;
        let points_here = |x: &Ref| matches!(x, Ref::Unowned(p) if *p == have.physical_id);
        // What AWS deletes with this resource goes with it (a REST API's resources, methods,
        // deployments and stages); anything else pointing at it holds it.
        let taken_along: Vec<String> = s
            .live
            .iter()
            .filter(|(_, (_, r))| r.deleted_with().is_some_and(points_here))
            .map(|(physical, _)| physical.clone())
            .collect();
        let holders: Vec<String> = s
            .live
            .iter()
            .filter(|(physical, (_, r))| {
                !taken_along.contains(physical) && r.refs().iter().any(|x| points_here(x))
            })
            .map(|(_, (id, _))| id.to_string())
            .collect();
        if !holders.is_empty() {
            return Err(CloudError::DependencyViolation(format!(
                "{} is used by {}",
                ctx.id,
                holders.join(", ")
            )));
        }
        for physical in taken_along {
            s.live.remove(&physical);
        }
        s.live
            .remove(&have.physical_id)
            .map(|_| ())
            .ok_or_else(|| CloudError::NotFound(have.physical_id.clone()))
    }
}

impl super::StackOps for FakeCloud {
    fn region(&self) -> &str {
        "us-east-1"
    }
    async fn record_applied(
        &self,
        _stack: &str,
        record: &crate::applied::AppliedRecord,
    ) -> Result<(), CloudError> {
        self.lock().applied = Some(record.clone());
        Ok(())
    }
    async fn forget_applied(&self, _stack: &str) -> Result<(), CloudError> {
        self.lock().applied = None;
        Ok(())
    }
    /// Nothing runs in memory: every service is steady at once.
    async fn wait_for_steady_services(
        &self,
        _stack: &str,
        _services: &[String],
        _limit: std::time::Duration,
    ) -> Result<(), CloudError> {
        Ok(())
    }
}
