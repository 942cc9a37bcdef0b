//! The security pass: one group per service (and the load balancer's), and one ingress rule per
//! edge of the call graph, whose source is the caller's group (never a CIDR).

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
                // The API Gateway path reaches services through its internal NLB's group.
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
