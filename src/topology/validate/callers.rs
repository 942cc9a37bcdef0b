//! `allowed_callers`: the only source of ingress rules, so every entry must mean something.

use crate::topology::checker::{allows, Checker};
use crate::topology::naming::{backticked, closest};
use crate::topology::positions::ypath;
use crate::topology::types::{Service, Topology, CALLER_API_GATEWAY, CALLER_LOAD_BALANCER};
use std::collections::HashMap;

pub(super) fn check(check: &mut Checker) {
    let topology = check.topology;
    for (name, service) in &topology.services {
        let mut first_index: HashMap<&str, usize> = HashMap::new();
        for (index, caller) in service.allowed_callers.iter().enumerate() {
            if let Some(first) = first_index.get(caller.as_str()) {
                let line = check.line_of(&ypath!("services", name, "allowed_callers", *first));
                check.error(
                    &ypath!("services", name, "allowed_callers", index),
                    format!("`{caller}` is listed twice in services.{name}.allowed_callers"),
                    format!("remove this entry (first at line {line})"),
                );
                continue;
            }
            first_index.insert(caller, index);
            check_caller(check, name, index, caller);
        }
        check_entry_is_routed(check, name, service);
    }
}

fn check_caller(check: &mut Checker, name: &str, index: usize, caller: &str) {
    let topology = check.topology;
    let path = ypath!("services", name, "allowed_callers", index);
    if caller == name {
        check.error(
            &path,
            format!("service `{name}` lists itself in allowed_callers"),
            "remove it: a service always reaches itself locally",
        );
    } else if caller == CALLER_LOAD_BALANCER && topology.load_balancer.is_none() {
        check.error(
            &path,
            format!("services.{name}.allowed_callers lists `load_balancer` but the file has no `load_balancer` section"),
            format!("add a load_balancer section with a route to `{name}`, or remove `load_balancer` here"),
        );
    } else if caller == CALLER_API_GATEWAY && topology.api_gateway.is_none() {
        check.error(
            &path,
            format!("services.{name}.allowed_callers lists `api_gateway` but the file has no `api_gateway` section"),
            format!("add an api_gateway section with a route to `{name}`, or remove `api_gateway` here"),
        );
    } else if !is_known_caller(topology, caller) {
        check.error(
            &path,
            format!("unknown caller `{caller}` in services.{name}.allowed_callers"),
            unknown_caller_hint(topology, name, caller),
        );
    }
}

fn is_known_caller(topology: &Topology, caller: &str) -> bool {
    caller == CALLER_LOAD_BALANCER
        || caller == CALLER_API_GATEWAY
        || topology.services.contains_key(caller)
}

fn unknown_caller_hint(topology: &Topology, name: &str, caller: &str) -> String {
    let candidates: Vec<&str> = topology
        .services
        .keys()
        .map(String::as_str)
        .filter(|candidate| *candidate != name)
        .chain([CALLER_LOAD_BALANCER, CALLER_API_GATEWAY])
        .collect();
    let listing = format!(
        "callers are service names, `load_balancer` or `api_gateway`: {}",
        backticked(&candidates)
    );
    match closest(caller, candidates.iter().copied()) {
        Some(suggestion) => format!("did you mean `{suggestion}`? {listing}"),
        None => listing,
    }
}

/// A service that admits an entry point nobody routes to would have an ingress rule for nothing.
fn check_entry_is_routed(check: &mut Checker, name: &str, service: &Service) {
    let topology = check.topology;
    let routed_by_alb = topology
        .load_balancer
        .as_ref()
        .is_some_and(|alb| alb.routes.iter().any(|route| route.service == name));
    let routed_by_api = topology
        .api_gateway
        .as_ref()
        .is_some_and(|api| api.routes.iter().any(|route| route.service == name));
    let entries = [
        (
            CALLER_LOAD_BALANCER,
            topology.load_balancer.is_some(),
            routed_by_alb,
            "load_balancer.routes",
        ),
        (
            CALLER_API_GATEWAY,
            topology.api_gateway.is_some(),
            routed_by_api,
            "api_gateway.routes",
        ),
    ];
    for (entry, section_exists, routed, routes) in entries {
        if section_exists && !routed && allows(service, entry) {
            let index = service
                .allowed_callers
                .iter()
                .position(|caller| caller == entry)
                .unwrap_or_default();
            check.error(
                &ypath!("services", name, "allowed_callers", index),
                format!("service `{name}` allows `{entry}` but no {routes} entry targets it"),
                format!("add a route with `service: {name}` under {routes}, or remove `{entry}` from its allowed_callers"),
            );
        }
    }
}

/// A route's `service` must exist and list the entry point (`load_balancer` / `api_gateway`)
/// among its callers; otherwise the route would forward to a security group that drops it.
pub(super) fn check_route_target(
    check: &mut Checker,
    service_path: &[crate::topology::positions::Segment],
    service: &str,
    entry: &str,
) {
    let topology = check.topology;
    let Some(target) = topology.services.get(service) else {
        let names = topology.services.keys().map(String::as_str);
        let hint = match closest(service, names) {
            Some(suggestion) => format!("did you mean `{suggestion}`?"),
            None => format!(
                "declared services: {}",
                backticked(topology.services.keys())
            ),
        };
        check.error(
            service_path,
            format!("route targets unknown service `{service}`"),
            hint,
        );
        return;
    };
    if allows(target, entry) {
        return;
    }
    let callers_path = ypath!("services", service, "allowed_callers");
    let hint = if check.written(&callers_path) {
        format!(
            "add `{entry}` to services.{service}.allowed_callers (line {})",
            check.line_of(&callers_path)
        )
    } else {
        format!(
            "add `allowed_callers: [{entry}]` to services.{service} (line {})",
            check.line_of(&ypath!("services", service))
        )
    };
    check.error(
        service_path,
        format!(
            "route targets service `{service}`, which does not list `{entry}` in allowed_callers"
        ),
        hint,
    );
}
