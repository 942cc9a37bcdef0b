//! The security pass: one group per service (and the load balancer's), and one ingress rule per
//! edge of the call graph, whose source is the caller's group (never a CIDR).

use super::compute::routed_from_api;
use super::ids;
use crate::model::*;
use crate::names;
use crate::topology::{Topology, CALLER_API_GATEWAY, CALLER_LOAD_BALANCER};

pub(super) fn expand(d: &mut Desired, t: &Topology, vpc: &ResourceId) {
    let stack = t.name.as_str();
    if let Some(lb) = &t.load_balancer {
        d.insert(
            ids::ALB_GROUP,
            Resource::SecurityGroup(SecurityGroup {
                name: names::security_group(stack, "alb"),
                vpc: Ref::Id(vpc.clone()),
                description: format!(
                    "ecsform {stack}: load balancer, listener ports from the internet"
                ),
            }),
        );
        for listener in &lb.listeners {
            for cidr in ["0.0.0.0/0", "::/0"] {
                d.insert_scoped(Resource::IngressRule(IngressRule {
                    group: Ref::id(ids::ALB_GROUP),
                    port: listener.port,
                    source: RuleSource::Cidr(cidr.into()),
                    description: format!("internet to listener {}", listener.port),
                }));
            }
        }
    }
    if t.api_gateway.is_some() {
        // No inbound rules: the only traffic it admits is the VPC link's, which arrives through
        // PrivateLink and skips inbound rules (the load balancer's PrivateLink setting is off).
        d.insert(
            ids::NLB_GROUP,
            Resource::SecurityGroup(SecurityGroup {
                name: names::security_group(stack, "nlb"),
                vpc: Ref::Id(vpc.clone()),
                description: format!(
                    "ecsform {stack}: API network load balancer, VPC link traffic only"
                ),
            }),
        );
    }
    for (svc, spec) in &t.services {
        d.insert(
            ids::service_group(svc),
            Resource::SecurityGroup(SecurityGroup {
                name: names::security_group(stack, svc),
                vpc: Ref::Id(vpc.clone()),
                description: format!("ecsform {stack}: service {svc}"),
            }),
        );
        for caller in &spec.allowed_callers {
            let source_group = match caller.as_str() {
                CALLER_LOAD_BALANCER => ids::ALB_GROUP.to_string(),
                // The REST API reaches a service through the network load balancer, and only a
                // service it routes to.
                CALLER_API_GATEWAY if routed_from_api(t, svc) => ids::NLB_GROUP.to_string(),
                CALLER_API_GATEWAY => continue,
                service => ids::service_group(service),
            };
            d.insert_scoped(Resource::IngressRule(IngressRule {
                group: Ref::id(ids::service_group(svc)),
                port: spec.port,
                source: RuleSource::Group(Ref::id(source_group)),
                description: format!("{caller} to {svc}"),
            }));
        }
    }
}
