//! The discovery pass: the Cloud Map private DNS namespace and one discovery service per
//! service (A record, TTL from the file, custom health check failure threshold 1).

use super::ids;
use crate::model::*;
use crate::topology::Topology;
use std::collections::BTreeMap;

/// Each service's discovery service, for the ECS services that register in it.
pub(super) type Discovery = BTreeMap<String, ResourceId>;

pub(super) fn expand(d: &mut Desired, t: &Topology, vpc: &ResourceId) -> Discovery {
    let namespace = d.insert(
        ids::NAMESPACE,
        Resource::Namespace(Namespace {
            name: t.discovery.namespace.clone(),
            vpc: Ref::Id(vpc.clone()),
        }),
    );
    t.services
        .keys()
        .map(|svc| {
            let id = d.insert_scoped(Resource::DiscoveryService(DiscoveryService {
                name: svc.clone(),
                namespace: Ref::Id(namespace.clone()),
                ttl: t.discovery.ttl,
                failure_threshold: 1,
            }));
            (svc.clone(), id)
        })
        .collect()
}
