//! The discovery pass: the Cloud Map private DNS namespace and one discovery service per
//! service (A record, TTL from the file, custom health check failure threshold 1).

use super::ids;
use crate::model::*;
use crate::topology::Topology;

pub(super) fn expand(d: &mut Desired, t: &Topology, vpc: &ResourceId) {
    let namespace = d.insert(
        ids::NAMESPACE,
        Resource::Namespace(Namespace {
            name: t.discovery.namespace.clone(),
            vpc: Ref::Id(vpc.clone()),
        }),
    );
    for svc in t.services.keys() {
        d.insert(
            ids::discovery(svc),
            Resource::DiscoveryService(DiscoveryService {
                name: svc.clone(),
                namespace: Ref::Id(namespace.clone()),
                ttl: t.discovery.ttl,
                failure_threshold: 1,
            }),
        );
    }
}
