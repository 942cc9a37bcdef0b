//! `api_gateway`: REST API name, stage and routes (resources + methods over the VPC link).

use super::callers::check_route_target;
use crate::topology::checker::Checker;
use crate::topology::positions::{child, ypath, Segment};
use crate::topology::types::{ApiGateway, ApiRoute, CALLER_API_GATEWAY};
use std::collections::HashMap;

const NAME_MAX: usize = 1024;
const STAGE_MAX: usize = 128;
const METHODS: [&str; 8] = [
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY",
];

pub(super) fn check(check: &mut Checker) {
    let Some(api) = &check.topology.api_gateway else {
        return;
    };
    check_name(check, api);
    check_stage(check, api);
    check_throttle(check, api);
    check_routes(check, api);
    check_listener_ports(check, api);
}

/// The network load balancer has one listener per routed service's port: two routed services
/// cannot share one.
fn check_listener_ports(check: &mut Checker, api: &ApiGateway) {
    let mut port_owner: HashMap<u16, String> = HashMap::new();
    for (index, route) in api.routes.iter().enumerate() {
        let Some(port) = check.topology.services.get(&route.service).map(|s| s.port) else {
            continue;
        };
        match port_owner.get(&port) {
            Some(owner) if owner != &route.service => {
                let owner = owner.clone();
                check.error(
                    &ypath!("api_gateway", "routes", index, "service"),
                    format!(
                        "`{}` and `{owner}` both listen on port {port}, and the API's network load balancer has one listener per port",
                        route.service
                    ),
                    format!("give `{}` or `{owner}` another `port`", route.service),
                );
            }
            Some(_) => {}
            None => {
                port_owner.insert(port, route.service.clone());
            }
        }
    }
}

/// AWS account default: 10,000 requests per second, burst 5,000 — a stage may not exceed what
/// the account allows (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html).
const THROTTLE_RATE_MAX: u32 = 10_000;
const THROTTLE_BURST_MAX: u32 = 5_000;

fn check_throttle(check: &mut Checker, api: &ApiGateway) {
    let Some(throttle) = api.throttle else {
        return;
    };
    if throttle.rate == 0 || throttle.rate > THROTTLE_RATE_MAX {
        check.error(
            &ypath!("api_gateway", "throttle", "rate"),
            format!(
                "api_gateway.throttle.rate {} is outside 1..{THROTTLE_RATE_MAX}",
                throttle.rate
            ),
            "give the steady requests per second for the stage, e.g. `rate: 100` (the account's default limit is 10000)",
        );
    }
    if throttle.burst == 0 || throttle.burst > THROTTLE_BURST_MAX {
        check.error(
            &ypath!("api_gateway", "throttle", "burst"),
            format!(
                "api_gateway.throttle.burst {} is outside 1..{THROTTLE_BURST_MAX}",
                throttle.burst
            ),
            "give the burst size, e.g. `burst: 200` (the account's default limit is 5000)",
        );
    }
}

fn check_name(check: &mut Checker, api: &ApiGateway) {
    if api.name.trim().is_empty() || api.name.chars().count() > NAME_MAX {
        check.error(
            &ypath!("api_gateway", "name"),
            format!("api_gateway.name must be 1 to {NAME_MAX} characters"),
            format!("name the REST API, e.g. `{}-api`", check.topology.name),
        );
    }
}

fn check_stage(check: &mut Checker, api: &ApiGateway) {
    let valid = (1..=STAGE_MAX).contains(&api.stage.len())
        && api
            .stage
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        check.error(
            &ypath!("api_gateway", "stage"),
            format!(
                "api_gateway.stage `{}` is not a valid stage name",
                api.stage
            ),
            "use letters, digits and '_' only, e.g. `prod`",
        );
    }
}

fn check_routes(check: &mut Checker, api: &ApiGateway) {
    if api.routes.is_empty() {
        check.error_at_key(
            &ypath!("api_gateway"),
            "api_gateway has no routes",
            "a REST API without methods cannot be deployed: add a route, or remove api_gateway",
        );
    }
    // (path, method) → line of its first declaration
    let mut declared: HashMap<(String, String), usize> = HashMap::new();
    // parent path → its `{param}` child and the line that declared it
    let mut variables: HashMap<String, (String, usize)> = HashMap::new();
    for (index, route) in api.routes.iter().enumerate() {
        let route_path = ypath!("api_gateway", "routes", index);
        check_resource_path(check, &child(&route_path, "path"), &route.path);
        check_sibling_variables(
            check,
            &child(&route_path, "path"),
            &route.path,
            &mut variables,
        );
        check_methods(check, index, route, &mut declared);
        check_route_target(
            check,
            &child(&route_path, "service"),
            &route.service,
            CALLER_API_GATEWAY,
        );
    }
}

/// `/`, `/students`, `/students/{student_id}`, `/files/{proxy+}` (greedy only at the end).
fn check_resource_path(check: &mut Checker, at: &[Segment], path: &str) {
    let problem = resource_path_problem(path);
    if let Some(problem) = problem {
        check.error(
            at,
            format!("API path `{path}` is invalid: {problem}"),
            "write `/` followed by segments that are literals (letters, digits, `._-:`) or `{param}`, e.g. `/students/{student_id}`",
        );
    }
}

/// AWS refuses a second `{param}` child under one parent ("A sibling ({id}) of this resource
/// already has a variable path part"): `/students/{id}` and `/students/{student_id}` cannot
/// both exist.
fn check_sibling_variables(
    check: &mut Checker,
    at: &[Segment],
    path: &str,
    variables: &mut HashMap<String, (String, usize)>,
) {
    let mut parent = String::new();
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        if segment.starts_with('{') {
            match variables.get(&parent) {
                Some((other, line)) if other != segment => {
                    let (other, line) = (other.clone(), *line);
                    check.error(
                        at,
                        format!("`{segment}` and `{other}` are both variable parts under `{}/`", if parent.is_empty() { "" } else { parent.as_str() }),
                        format!("use one name for both (the first is at line {line}): API Gateway allows one variable path part per parent"),
                    );
                    return;
                }
                Some(_) => {}
                None => {
                    variables.insert(parent.clone(), (segment.to_string(), check.line_of(at)));
                }
            }
        }
        parent.push('/');
        parent.push_str(segment);
    }
}

fn resource_path_problem(path: &str) -> Option<String> {
    let Some(rest) = path.strip_prefix('/') else {
        return Some("it must start with '/'".into());
    };
    if rest.is_empty() {
        return None;
    }
    let segments: Vec<&str> = rest.split('/').collect();
    let last = segments.len() - 1;
    segments
        .iter()
        .enumerate()
        .find_map(|(index, segment)| segment_problem(segment, index == last))
}

fn segment_problem(segment: &str, is_last: bool) -> Option<String> {
    if segment.is_empty() {
        return Some("it has an empty segment (`//` or a trailing '/')".into());
    }
    if let Some(inner) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
        let (name, greedy) = match inner.strip_suffix('+') {
            Some(name) => (name, true),
            None => (inner, false),
        };
        let valid_name =
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid_name {
            return Some(format!("`{segment}` is not a valid `{{param}}` segment"));
        }
        if greedy && !is_last {
            return Some(format!("greedy `{segment}` must be the last segment"));
        }
        return None;
    }
    segment
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "._-:".contains(*c)))
        .map(|bad| format!("segment `{segment}` contains `{bad}`"))
}

fn check_methods(
    check: &mut Checker,
    route_index: usize,
    route: &ApiRoute,
    declared: &mut HashMap<(String, String), usize>,
) {
    if route.methods.is_empty() {
        check.error(
            &ypath!("api_gateway", "routes", route_index, "methods"),
            "route `methods` is an empty list",
            "list the methods, e.g. `[GET, POST]`, or `[ANY]`",
        );
    }
    for (index, method) in route.methods.iter().enumerate() {
        let at = ypath!("api_gateway", "routes", route_index, "methods", index);
        if !METHODS.contains(&method.as_str()) {
            check.error(
                &at,
                format!("`{method}` is not an API Gateway method"),
                method_hint(method),
            );
            continue;
        }
        let key = (route.path.clone(), method.clone());
        if let Some(first_line) = declared.get(&key) {
            check.error(
                &at,
                format!("{method} {} is declared twice", route.path),
                format!("remove one (the first is at line {first_line}); API Gateway allows one integration per method"),
            );
        } else {
            declared.insert(key, check.line_of(&at));
        }
    }
}

fn method_hint(method: &str) -> String {
    let listing = format!("use one of {}", METHODS.join(", "));
    let upper = method.trim().to_ascii_uppercase();
    if METHODS.contains(&upper.as_str()) {
        format!("did you mean `{upper}`? {listing}")
    } else {
        listing
    }
}
