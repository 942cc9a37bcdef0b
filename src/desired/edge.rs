//! The edge pass: the internet-facing ALB in the public subnets, a target group per routed
//! service (ip targets, its health check path), the listeners and the rules, in file order.

use super::{compute::routed_from_load_balancer, ids, Network};
use crate::model::*;
use crate::names;
use crate::topology::{self, ListenerProtocol, Topology};

pub(super) fn expand(d: &mut Desired, t: &Topology, network: &Network) {
    let vpc = &network.vpc;
    let Some(lb) = &t.load_balancer else { return };
    let stack = t.name.as_str();
    d.insert(
        ids::ALB,
        Resource::LoadBalancer(LoadBalancer {
            name: names::load_balancer(stack),
            lb_type: LoadBalancerType::Application,
            internal: false,
            subnets: network
                .public_subnets
                .iter()
                .cloned()
                .map(Ref::Id)
                .collect(),
            security_groups: vec![Ref::id(ids::ALB_GROUP)],
            private_link_inbound_rules: None,
        }),
    );
    for (svc, spec) in &t.services {
        if routed_from_load_balancer(t, svc) {
            d.insert(
                ids::target_group(svc),
                Resource::TargetGroup(TargetGroup {
                    // The port is in the name: a new port makes a new group beside the old one.
                    name: topology::derived_target_group_name(
                        stack,
                        &format!("{svc}-{}", spec.port),
                    ),
                    vpc: Ref::Id(vpc.clone()),
                    port: spec.port,
                    protocol: "HTTP".into(),
                    health_check_path: spec.health_check_path(),
                    health_check_port: spec.health_check_port(),
                }),
            );
        }
    }
    for listener in &lb.listeners {
        let protocol = match listener.protocol {
            ListenerProtocol::Http => "HTTP",
            ListenerProtocol::Https => "HTTPS",
        };
        let default_action = match listener.redirect_to {
            Some(port) => ListenerAction::Redirect {
                port,
                protocol: "HTTPS".into(),
            },
            None => ListenerAction::FixedResponse { status: 404 },
        };
        let listener_id = d.insert_scoped(Resource::Listener(Listener {
            load_balancer: Ref::id(ids::ALB),
            port: listener.port,
            protocol: protocol.into(),
            certificate_arn: listener.certificate_arn.clone(),
            default_action,
        }));
        if listener.redirect_to.is_some() {
            continue;
        }
        for (i, route) in lb.routes.iter().enumerate() {
            d.insert_scoped(Resource::ListenerRule(ListenerRule {
                listener: Ref::Id(listener_id.clone()),
                priority: u32::try_from(i + 1).unwrap_or(u32::MAX),
                path_patterns: vec![route.path.clone()],
                methods: route.methods.clone().unwrap_or_default(),
                target_group: Ref::id(ids::target_group(&route.service)),
            }));
        }
    }
}
