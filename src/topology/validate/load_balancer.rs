//! `load_balancer`: listeners (ports, TLS, redirects) and routes (ALB listener rules).

use super::callers::check_route_target;
use super::text::is_arn_of;
use crate::topology::checker::Checker;
use crate::topology::positions::{child, ypath, Segment};
use crate::topology::types::{
    Listener, ListenerProtocol, LoadBalancer, Route, CALLER_LOAD_BALANCER,
};
use std::collections::HashMap;

/// ALB: 100 rules per listener (the default rule not counted).
const ROUTES_MAX: usize = 100;
/// ALB path-pattern values are at most 128 characters.
const ROUTE_PATH_MAX: usize = 128;
/// Characters an ALB path pattern may contain (besides letters and digits).
const ROUTE_PATH_SPECIALS: &str = "_-.$/~\"'@:+&*?";
const METHOD_MAX: usize = 40;

pub(super) fn check(check: &mut Checker) {
    let Some(alb) = &check.topology.load_balancer else {
        return;
    };
    check_listeners(check, alb);
    check_routes(check, alb);
}

fn listener_field(index: usize, name: &str) -> Vec<Segment> {
    child(&ypath!("load_balancer", "listeners", index), name)
}

fn check_listeners(check: &mut Checker, alb: &LoadBalancer) {
    if alb.listeners.is_empty() {
        check.error_at_key(
            &ypath!("load_balancer", "listeners"),
            "the load balancer has no listeners",
            "add one, e.g. `- {port: 443, protocol: HTTPS, certificate_arn: arn:aws:acm:...}`",
        );
        return;
    }
    let mut first_with_port: HashMap<u16, usize> = HashMap::new();
    for (index, listener) in alb.listeners.iter().enumerate() {
        let port_path = listener_field(index, "port");
        if listener.port == 0 {
            check.error(
                &port_path,
                "listener port must be between 1 and 65535",
                "use 443 for HTTPS or 80 for HTTP",
            );
        } else if let Some(first) = first_with_port.get(&listener.port) {
            let line = check.line_of(&ypath!("load_balancer", "listeners", *first));
            check.error(
                &port_path,
                format!("listener port {} is declared twice", listener.port),
                format!("each listener needs its own port (the other is at line {line})"),
            );
        } else {
            first_with_port.insert(listener.port, index);
        }
        check_tls(check, index, listener);
        check_redirect(check, alb, index, listener);
    }
    let routes_need_forwarding = !alb.routes.is_empty();
    if routes_need_forwarding
        && alb
            .listeners
            .iter()
            .all(|listener| listener.redirect_to.is_some())
    {
        check.error_at_key(
            &ypath!("load_balancer", "routes"),
            "routes are declared but every listener redirects, so no listener forwards to them",
            "remove `redirect_to` from the listener that should serve the routes (usually the HTTPS one)",
        );
    }
}

fn check_tls(check: &mut Checker, index: usize, listener: &Listener) {
    let port = listener.port;
    match (listener.protocol, &listener.certificate_arn) {
        (ListenerProtocol::Https, None) => check.error(
            &listener_field(index, "protocol"),
            format!("HTTPS listener on port {port} has no certificate_arn"),
            "add `certificate_arn: arn:aws:acm:<region>:<account>:certificate/<id>`",
        ),
        (ListenerProtocol::Https, Some(arn)) if !is_arn_of(arn, "acm") => check.error(
            &listener_field(index, "certificate_arn"),
            format!("certificate_arn `{arn}` is not an ACM certificate ARN"),
            "it looks like `arn:aws:acm:us-east-1:123456789012:certificate/<id>`",
        ),
        (ListenerProtocol::Http, Some(_)) => check.error(
            &listener_field(index, "certificate_arn"),
            format!("HTTP listener on port {port} has a certificate_arn"),
            "remove certificate_arn, or set `protocol: HTTPS`",
        ),
        _ => {}
    }
}

fn check_redirect(check: &mut Checker, alb: &LoadBalancer, index: usize, listener: &Listener) {
    let Some(target_port) = listener.redirect_to else {
        return;
    };
    let path = listener_field(index, "redirect_to");
    let port = listener.port;
    if alb.listeners.len() == 1 {
        check.error(
            &path,
            format!("the only listener (port {port}) redirects, so nothing would serve traffic"),
            "add the HTTPS listener it should redirect to, e.g. `{port: 443, protocol: HTTPS, certificate_arn: ...}`",
        );
        return;
    }
    if target_port == port {
        check.error(
            &path,
            format!("listener on port {port} redirects to itself"),
            "point redirect_to at another listener's port, usually 443",
        );
        return;
    }
    let https_ports = https_ports_text(alb);
    let Some(target) = alb.listeners.iter().find(|other| other.port == target_port) else {
        check.error(
            &path,
            format!("listener on port {port} redirects to port {target_port}, which is not a listener in this file"),
            format!("redirect_to must name the port of an HTTPS listener declared here ({https_ports})"),
        );
        return;
    };
    if target.protocol != ListenerProtocol::Https {
        check.error(
            &path,
            format!("listener on port {port} redirects to port {target_port}, which is not HTTPS"),
            format!(
                "redirect to an HTTPS listener so the redirect upgrades to TLS ({https_ports})"
            ),
        );
    } else if target.redirect_to.is_some() {
        check.error(
            &path,
            format!("listener on port {port} redirects to port {target_port}, which redirects too"),
            "point redirect_to at a listener that serves the routes",
        );
    }
}

fn https_ports_text(alb: &LoadBalancer) -> String {
    let ports: Vec<String> = alb
        .listeners
        .iter()
        .filter(|listener| listener.protocol == ListenerProtocol::Https)
        .map(|listener| listener.port.to_string())
        .collect();
    if ports.is_empty() {
        "there is none yet".to_string()
    } else {
        format!("HTTPS listeners: {}", ports.join(", "))
    }
}

fn check_routes(check: &mut Checker, alb: &LoadBalancer) {
    if alb.routes.len() > ROUTES_MAX {
        check.error(
            &ypath!("load_balancer", "routes", ROUTES_MAX),
            format!(
                "the load balancer has {} routes; an ALB listener allows at most {ROUTES_MAX}",
                alb.routes.len()
            ),
            "merge routes with wildcards (`/api/*`), or move some behind an internal router",
        );
    }
    for (index, route) in alb.routes.iter().enumerate() {
        let route_path = ypath!("load_balancer", "routes", index);
        check_route_path(check, &child(&route_path, "path"), &route.path);
        check_methods(check, index, route);
        check_route_target(
            check,
            &child(&route_path, "service"),
            &route.service,
            CALLER_LOAD_BALANCER,
        );
    }
}

fn check_route_path(check: &mut Checker, at: &[Segment], path: &str) {
    if !path.starts_with('/') {
        check.error(
            at,
            format!("route path `{path}` does not start with '/'"),
            format!("write `/{}`", path.trim_start_matches('/')),
        );
    } else if path.chars().count() > ROUTE_PATH_MAX {
        check.error(
            at,
            format!(
                "route path is {} characters long; ALB allows {ROUTE_PATH_MAX}",
                path.chars().count()
            ),
            "shorten it, using `*` for the variable part",
        );
    } else if let Some(bad) = path
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || ROUTE_PATH_SPECIALS.contains(*c)))
    {
        check.error(
            at,
            format!("route path `{path}` contains `{bad}`, which ALB path patterns do not allow"),
            "use letters, digits, `_-.$/~\"'@:+&`, and `*` / `?` as wildcards (ALB has no `{param}` syntax: use `*`)",
        );
    }
}

fn check_methods(check: &mut Checker, route_index: usize, route: &Route) {
    let Some(methods) = &route.methods else {
        return;
    };
    if methods.is_empty() {
        check.error(
            &ypath!("load_balancer", "routes", route_index, "methods"),
            "route `methods` is an empty list",
            "list the methods, e.g. `[GET, POST]`, or remove `methods` to match all",
        );
    }
    for (index, method) in methods.iter().enumerate() {
        let is_token = (1..=METHOD_MAX).contains(&method.len())
            && method
                .chars()
                .all(|c| c.is_ascii_uppercase() || c == '_' || c == '-');
        if !is_token {
            check.error(
                &ypath!("load_balancer", "routes", route_index, "methods", index),
                format!("`{method}` is not an HTTP method name"),
                format!("methods are uppercase, e.g. `{}`", suggest_method(method)),
            );
        }
    }
}

fn suggest_method(method: &str) -> String {
    let upper = method.trim().to_ascii_uppercase();
    if upper.is_empty() {
        "GET".to_string()
    } else {
        upper
    }
}
