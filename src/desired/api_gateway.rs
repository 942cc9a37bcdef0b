//! The API Gateway pass (seeds 002/003): an internal network load balancer in the private
//! subnets with its own group, a TCP target group and listener per routed service's port, a
//! REST VPC link to it, the regional REST API with one resource per path segment and one method
//! per declared method (each an `HTTP_PROXY` integration over the link), a deployment and the
//! named stage.

use super::compute::routed_from_api;
use super::{ids, Network, API_ALB_PORT};
use crate::model::*;
use crate::names;
use crate::topology::{self, ApiVia, Topology};
use std::collections::BTreeMap;

pub(super) fn expand(d: &mut Desired, t: &Topology, network: &Network) {
    let Some(api) = &t.api_gateway else { return };
    let stack = t.name.as_str();
    let door = match api.via {
        ApiVia::Nlb => network_load_balancer(d, t, network),
        ApiVia::Alb => internal_alb(d, t, network),
    };
    let rest_api = d.insert(
        ids::REST_API,
        Resource::RestApi(RestApi {
            name: api.name.clone(),
            description: format!("ecsform {stack}"),
        }),
    );
    // One resource per distinct path prefix: `/a/b` and `/a/c` share `a`.
    let mut resources: BTreeMap<String, ResourceId> = BTreeMap::new();
    for route in &api.routes {
        let resource = resource_for(d, &rest_api, &mut resources, &route.path);
        let Some(spec) = t.services.get(&route.service) else {
            continue;
        };
        for method in &route.methods {
            d.insert_scoped(Resource::ApiMethod(ApiMethod {
                rest_api: Ref::Id(rest_api.clone()),
                resource: Ref::Id(resource.clone()),
                http_method: method.clone(),
                path_parameters: path_parameters(&route.path),
                vpc_link: Ref::Id(door.link.clone()),
                load_balancer: Ref::Id(door.load_balancer.clone()),
                integration_target: door.targeted.then(|| Ref::Id(door.load_balancer.clone())),
                port: door.port.unwrap_or(spec.port),
                path: backend_path(&route.path),
            }));
        }
    }
    let deployment = d.insert_scoped(Resource::ApiDeployment(ApiDeployment {
        rest_api: Ref::Id(rest_api.clone()),
        description: format!("ecsform {stack}"),
    }));
    d.insert_scoped(Resource::ApiStage(ApiStage {
        rest_api: Ref::Id(rest_api),
        name: api.stage.clone(),
        deployment: Ref::Id(deployment),
        throttle: api.throttle.map(|t| Throttle {
            rate: t.rate,
            burst: t.burst,
        }),
    }));
}

/// How the REST API's integrations reach the services.
struct Door {
    link: ResourceId,
    load_balancer: ResourceId,
    /// A V2 link names its load balancer in each integration (`integrationTarget`).
    targeted: bool,
    /// The load balancer's one port (the ALB's listener), or `None`: each service's own.
    port: Option<u16>,
}

/// `via: nlb` (seeds 002/003): an internal NLB, a TCP listener and target group per routed
/// service's port, a REST VPC link (V1) to it.
fn network_load_balancer(d: &mut Desired, t: &Topology, network: &Network) -> Door {
    let stack = t.name.as_str();
    let nlb = d.insert(
        ids::NLB,
        Resource::LoadBalancer(LoadBalancer {
            name: names::network_load_balancer(stack),
            lb_type: LoadBalancerType::Network,
            internal: true,
            subnets: private(network),
            security_groups: vec![Ref::id(ids::NLB_GROUP)],
            private_link_inbound_rules: Some(false),
        }),
    );
    for (svc, spec) in t.services.iter().filter(|(svc, _)| routed_from_api(t, svc)) {
        let group = d.insert(
            ids::nlb_target_group(svc),
            Resource::TargetGroup(TargetGroup {
                name: topology::derived_target_group_name(
                    stack,
                    &format!("nlb-{svc}-{}", spec.port),
                ),
                vpc: Ref::Id(network.vpc.clone()),
                port: spec.port,
                protocol: "TCP".into(),
                health_check_path: spec.health_check_path(),
                health_check_port: spec.health_check_port(),
            }),
        );
        d.insert_scoped(Resource::Listener(Listener {
            load_balancer: Ref::Id(nlb.clone()),
            port: spec.port,
            protocol: "TCP".into(),
            certificate_arn: None,
            default_action: ListenerAction::Forward {
                target_group: Ref::Id(group),
            },
        }));
    }
    let link = d.insert(
        ids::VPC_LINK,
        Resource::VpcLink(VpcLink {
            name: names::vpc_link(stack),
            description: format!("ecsform {stack}: REST API to the network load balancer"),
            load_balancer: Ref::Id(nlb.clone()),
        }),
    );
    Door {
        link,
        load_balancer: nlb,
        targeted: false,
        port: None,
    }
}

/// `via: alb` (AWS's advice since November 2025): an internal ALB with an HTTP listener and one
/// path rule per route to the service's target group, reached through a VPC link V2 whose
/// interfaces sit in the private subnets with their own group.
fn internal_alb(d: &mut Desired, t: &Topology, network: &Network) -> Door {
    let stack = t.name.as_str();
    let alb = d.insert(
        ids::API_ALB,
        Resource::LoadBalancer(LoadBalancer {
            name: names::api_load_balancer(stack),
            lb_type: LoadBalancerType::Application,
            internal: true,
            subnets: private(network),
            security_groups: vec![Ref::id(ids::API_ALB_GROUP)],
            private_link_inbound_rules: None,
        }),
    );
    for (svc, spec) in t.services.iter().filter(|(svc, _)| routed_from_api(t, svc)) {
        d.insert(
            ids::api_alb_target_group(svc),
            Resource::TargetGroup(TargetGroup {
                name: topology::derived_target_group_name(
                    stack,
                    &format!("api-{svc}-{}", spec.port),
                ),
                vpc: Ref::Id(network.vpc.clone()),
                port: spec.port,
                protocol: "HTTP".into(),
                health_check_path: spec.health_check_path(),
                health_check_port: spec.health_check_port(),
            }),
        );
    }
    let listener = d.insert_scoped(Resource::Listener(Listener {
        load_balancer: Ref::Id(alb.clone()),
        port: API_ALB_PORT,
        protocol: "HTTP".into(),
        certificate_arn: None,
        default_action: ListenerAction::FixedResponse { status: 404 },
    }));
    let api = t.api_gateway.as_ref();
    for (priority, (pattern, svc)) in alb_rules(api.map_or(&[][..], |a| &a.routes))
        .into_iter()
        .enumerate()
    {
        d.insert_scoped(Resource::ListenerRule(ListenerRule {
            listener: Ref::Id(listener.clone()),
            priority: u32::try_from(priority + 1).unwrap_or(u32::MAX),
            path_patterns: vec![pattern],
            methods: vec![],
            target_group: Ref::id(ids::api_alb_target_group(&svc)),
        }));
    }
    let link = d.insert(
        ids::VPC_LINK,
        Resource::VpcLinkV2(VpcLinkV2 {
            name: names::vpc_link(stack),
            subnets: private(network),
            security_groups: vec![Ref::id(ids::API_LINK_GROUP)],
        }),
    );
    Door {
        link,
        load_balancer: alb,
        targeted: true,
        port: Some(API_ALB_PORT),
    }
}

fn private(network: &Network) -> Vec<Ref> {
    network
        .private_subnets
        .iter()
        .cloned()
        .map(Ref::Id)
        .collect()
}

/// The ALB path patterns of the routes (`{param}` segments match anything: `*`), each once,
/// exact paths before patterns and longer patterns first, so the most specific rule wins.
fn alb_rules(routes: &[topology::ApiRoute]) -> Vec<(String, String)> {
    let mut rules: Vec<(String, String)> = Vec::new();
    for route in routes {
        let pattern = route
            .path
            .split('/')
            .map(|s| if s.starts_with('{') { "*" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        let pattern = if pattern.is_empty() {
            "/".into()
        } else {
            pattern
        };
        if !rules.iter().any(|(p, _)| *p == pattern) {
            rules.push((pattern, route.service.clone()));
        }
    }
    // Stable: file order among equals.
    rules.sort_by_key(|(p, _)| (p.contains('*'), std::cmp::Reverse(p.matches('/').count())));
    rules
}

/// The resource of `path`, adding it and its missing ancestors; the API itself for `/`.
fn resource_for(
    d: &mut Desired,
    rest_api: &ResourceId,
    made: &mut BTreeMap<String, ResourceId>,
    path: &str,
) -> ResourceId {
    let mut parent = rest_api.clone();
    let mut prefix = String::new();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        prefix.push('/');
        prefix.push_str(part);
        parent = match made.get(&prefix) {
            Some(id) => id.clone(),
            None => {
                let id = d.insert_scoped(Resource::ApiResource(ApiResource {
                    rest_api: Ref::Id(rest_api.clone()),
                    parent: Ref::Id(parent),
                    path_part: part.to_string(),
                }));
                made.insert(prefix.clone(), id.clone());
                id
            }
        };
    }
    parent
}

/// `{student_id}` → `student_id`, `{proxy+}` → `proxy`.
fn path_parameters(path: &str) -> Vec<String> {
    path.split('/')
        .filter_map(|p| p.strip_prefix('{')?.strip_suffix('}'))
        .map(|p| p.trim_end_matches('+').to_string())
        .collect()
}

/// The service's path: the same, with a greedy `{proxy+}` written `{proxy}` (how an integration
/// URI names a path parameter).
fn backend_path(path: &str) -> String {
    path.replace("+}", "}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_parameters_and_backend_paths() {
        assert_eq!(path_parameters("/students"), Vec::<String>::new());
        assert_eq!(path_parameters("/a/{id}/b/{proxy+}"), vec!["id", "proxy"]);
        assert_eq!(backend_path("/files/{proxy+}"), "/files/{proxy}");
        assert_eq!(backend_path("/"), "/");
    }

    #[test]
    fn alb_rules_put_the_most_specific_first() {
        let route = |path: &str, service: &str| topology::ApiRoute {
            path: path.into(),
            methods: vec!["GET".into()],
            service: service.into(),
        };
        let rules = alb_rules(&[
            route("/s/{id}", "a"),
            route("/s", "a"),
            route("/s/{id}/marks", "b"),
            route("/s/{other}", "a"),
            route("/", "c"),
        ]);
        assert_eq!(
            rules,
            vec![
                ("/s".to_string(), "a".to_string()),
                ("/".to_string(), "c".to_string()),
                ("/s/*/marks".to_string(), "b".to_string()),
                ("/s/*".to_string(), "a".to_string()),
            ]
        );
    }
}
