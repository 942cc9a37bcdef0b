//! The security pass: one group per service (and the load balancer's), and one ingress rule per
//! edge of the call graph, whose source is the caller's group (never a CIDR).

use super::compute::routed_from_api;
use super::ids;
use super::API_ALB_PORT;
use crate::model::*;
use crate::names;
use crate::topology::{ApiVia, Topology, CALLER_API_GATEWAY, CALLER_LOAD_BALANCER};

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
    // The REST API's way in: the NLB's group (no inbound rules: the only traffic it takes is
    // the VPC link's, which arrives through PrivateLink and skips inbound rules — the NLB's
    // PrivateLink setting is off), or with `via: alb` the internal ALB's group, which admits the
    // VPC link V2's interfaces (their own group) on the listener port.
    let api_group = t.api_gateway.as_ref().map(|api| match api.via {
        ApiVia::Nlb => {
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
            ids::NLB_GROUP
        }
        ApiVia::Alb => {
            d.insert(
                ids::API_LINK_GROUP,
                Resource::SecurityGroup(SecurityGroup {
                    name: names::security_group(stack, "api-link"),
                    vpc: Ref::Id(vpc.clone()),
                    description: format!("ecsform {stack}: REST API VPC link interfaces"),
                }),
            );
            d.insert(
                ids::API_ALB_GROUP,
                Resource::SecurityGroup(SecurityGroup {
                    name: names::security_group(stack, "api-alb"),
                    vpc: Ref::Id(vpc.clone()),
                    description: format!(
                        "ecsform {stack}: API internal load balancer, from the VPC link only"
                    ),
                }),
            );
            d.insert_scoped(Resource::IngressRule(IngressRule {
                group: Ref::id(ids::API_ALB_GROUP),
                port: API_ALB_PORT,
                source: RuleSource::Group(Ref::id(ids::API_LINK_GROUP)),
                description: "REST API VPC link to the internal load balancer".into(),
            }));
            ids::API_ALB_GROUP
        }
    });
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
                CALLER_API_GATEWAY if routed_from_api(t, svc) => match api_group {
                    Some(group) => group.to_string(),
                    None => continue,
                },
                CALLER_API_GATEWAY => continue,
                service => ids::service_group(service),
            };
            // The load balancers' health checks come from their group too, on their own port.
            let checked_from_here = caller == CALLER_LOAD_BALANCER || caller == CALLER_API_GATEWAY;
            if let (true, Some(port)) = (checked_from_here, spec.health_check_port()) {
                let rule = Resource::IngressRule(IngressRule {
                    group: Ref::id(ids::service_group(svc)),
                    port,
                    source: RuleSource::Group(Ref::id(source_group.clone())),
                    description: format!("{caller} health checks to {svc}"),
                });
                if let Some(id) = rule.alternative_id() {
                    d.insert(id.to_string(), rule);
                }
            }
            d.insert_scoped(Resource::IngressRule(IngressRule {
                group: Ref::id(ids::service_group(svc)),
                port: spec.port,
                source: RuleSource::Group(Ref::id(source_group)),
                description: format!("{caller} to {svc}"),
            }));
        }
    }
}
