//! Warnings: valid files that are probably mistakes (the seed articles' "common mistakes").

use super::checker::{is_entry_target, Checker};
use super::diagnostic::{sort_by_position, Diagnostic};
use super::positions::{ypath, PositionIndex};
use super::types::{ApiVia, LintRule, ListenerProtocol, NatGateways, Topology};

/// One rule's check: it adds its warnings to the checker.
type LintFn = fn(&mut Checker);

/// Warnings about a topology that passed `validate`, in source order.
pub fn lint(t: &Topology, pos: &PositionIndex, file: &str) -> Vec<Diagnostic> {
    let mut check = Checker::new(t, pos, file);
    let rules: [(LintRule, LintFn); 6] = [
        (LintRule::MissingHealthCheck, lint_missing_health_checks),
        (LintRule::NoNat, lint_no_nat),
        (LintRule::HttpOnly, lint_plain_http),
        (LintRule::SingleTask, lint_single_task),
        (LintRule::NoCallers, lint_unreachable),
        (LintRule::LegacyVpcLink, lint_legacy_vpc_link),
    ];
    for (rule, run) in rules {
        if t.lints.allow.contains(&rule) {
            continue;
        }
        let before = check.found_count();
        run(&mut check);
        check.name_rule_since(before, rule.name());
    }
    let mut warnings = check.finish();
    sort_by_position(&mut warnings);
    warnings
}

fn lint_missing_health_checks(check: &mut Checker) {
    for (name, service) in &check.topology.services {
        if is_entry_target(service) && service.health_check.is_none() {
            check.warning_at_key(
                &ypath!("services", name),
                format!("service `{name}` receives outside traffic but has no health_check"),
                "add `health_check: /health` (and serve it) so unhealthy tasks get no traffic and are replaced",
            );
        }
    }
}

/// AWS's private-integration guide calls REST VPC links to a network load balancer (V1) legacy
/// and advises VPC links V2 to an ALB for new APIs
/// (https://docs.aws.amazon.com/apigateway/latest/developerguide/private-integration.html).
fn lint_legacy_vpc_link(check: &mut Checker) {
    let Some(api) = &check.topology.api_gateway else {
        return;
    };
    if api.via == ApiVia::Nlb {
        check.warning_at_key(
            &ypath!("api_gateway"),
            "api_gateway reaches the services through a VPC link to a network load balancer, which AWS now calls legacy",
            "`via: alb` uses a VPC link V2 to an internal ALB instead (AWS's current advice); `via: nlb` keeps the seeds' shape",
        );
    }
}

fn lint_no_nat(check: &mut Checker) {
    let no_nat = check.topology.network.nat_gateways == NatGateways::Count(0);
    if no_nat && !check.topology.services.is_empty() {
        check.warning(
            &ypath!("network", "nat_gateways"),
            "nat_gateways: 0 leaves tasks in the private subnets without outbound access",
            "they cannot pull images from ECR or public registries without NAT or VPC endpoints; use 1 or per_az",
        );
    }
}

fn lint_plain_http(check: &mut Checker) {
    let Some(alb) = &check.topology.load_balancer else {
        return;
    };
    let has_tls = alb
        .listeners
        .iter()
        .any(|listener| listener.protocol == ListenerProtocol::Https);
    if !has_tls && !alb.listeners.is_empty() {
        check.warning_at_key(
            &ypath!("load_balancer", "listeners"),
            "the load balancer has only HTTP listeners: traffic is not encrypted",
            "add an HTTPS listener on 443 with an ACM certificate and `redirect_to: 443` on port 80",
        );
    }
}

fn lint_single_task(check: &mut Checker) {
    for (name, service) in &check.topology.services {
        if service.desired_count == 1 && service.autoscaling.is_none() {
            let path = ypath!("services", name, "desired_count");
            let at = if check.written(&path) {
                path.to_vec()
            } else {
                ypath!("services", name).to_vec()
            };
            check.warning_at_key(
                &at,
                format!("service `{name}` runs a single task"),
                "set `desired_count: 2` (or autoscaling with min 2) so one task or zone failure does not take it down",
            );
        }
    }
}

fn lint_unreachable(check: &mut Checker) {
    for (name, service) in &check.topology.services {
        if service.allowed_callers.is_empty() {
            check.warning_at_key(
                &ypath!("services", name),
                format!("service `{name}` accepts no connections: its allowed_callers is empty"),
                "fine for a worker that only calls out; otherwise list who may call it in allowed_callers",
            );
        }
    }
}
