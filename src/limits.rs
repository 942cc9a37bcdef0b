//! AWS's rules for the names, descriptions and tags ecsform derives, as pure checks. The unit
//! tests run every resource `expand` makes for the longest legal stack and service names
//! through them; the fault proxy checks the same values again on the wire against AWS's
//! published service models (`tools/contract.py`).

use crate::model::{Resource, ResourceId, TAG_ID, TAG_STACK};

/// A value AWS would refuse: which rule, and the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub what: String,
    pub rule: &'static str,
    pub value: String,
}

fn check(out: &mut Vec<Violation>, what: &str, value: &str, rule: &'static str, ok: bool) {
    if !ok {
        out.push(Violation {
            what: what.to_string(),
            rule,
            value: value.to_string(),
        });
    }
}

fn len_in(value: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&value.chars().count())
}

/// The tag pattern of CloudWatch Logs, ECS, ELBv2, IAM and Cloud Map (`^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`),
/// the strictest of the services ecsform tags; keys 1–128, values ≤ 256 characters, no `aws:`.
/// https://docs.aws.amazon.com/tag-editor/latest/userguide/best-practices-and-strats.html
pub fn tag_violations(key: &str, value: &str) -> Vec<Violation> {
    let allowed = |s: &str| s.chars().all(tag_char_allowed);
    let mut out = Vec::new();
    check(
        &mut out,
        "tag key",
        key,
        "tag key 1-128 characters",
        len_in(key, 1, 128),
    );
    check(&mut out, "tag key", key, "tag character set", allowed(key));
    check(
        &mut out,
        "tag key",
        key,
        "no aws: prefix",
        !key.to_ascii_lowercase().starts_with("aws:"),
    );
    check(
        &mut out,
        key,
        value,
        "tag value at most 256 characters",
        len_in(value, 0, 256),
    );
    check(&mut out, key, value, "tag character set", allowed(value));
    out
}

/// One character of `[\p{L}\p{Z}\p{N}_.:/=+\-@]` (ASCII space standing for `\p{Z}`).
pub fn tag_char_allowed(c: char) -> bool {
    c.is_alphanumeric() || c == ' ' || "_.:/=+-@".contains(c)
}

/// EC2 security group names and descriptions (and rule descriptions): ≤ 255 characters of
/// `a-zA-Z0-9`, spaces and `._-:/()#,@[]+=&;{}!$*`; a group name may not start with `sg-`.
/// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html
fn ec2_group_text(out: &mut Vec<Violation>, what: &str, value: &str) {
    let allowed = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || " ._-:/()#,@[]+=&;{}!$*".contains(c));
    check(out, what, value, "1-255 characters", len_in(value, 1, 255));
    check(
        out,
        what,
        value,
        "EC2 security group character set",
        allowed,
    );
}

/// ELBv2 load balancer and target group names: 1–32 alphanumerics and hyphens, no hyphen at
/// either end. https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html
fn elb_name(out: &mut Vec<Violation>, what: &str, value: &str) {
    check(out, what, value, "1-32 characters", len_in(value, 1, 32));
    check(
        out,
        what,
        value,
        "alphanumerics and hyphens, not at either end",
        value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !value.starts_with('-')
            && !value.ends_with('-'),
    );
}

/// ECS cluster, service, task family and container names: up to 255 letters, numbers,
/// hyphens and underscores. https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html
fn ecs_name(out: &mut Vec<Violation>, what: &str, value: &str) {
    check(out, what, value, "1-255 characters", len_in(value, 1, 255));
    check(
        out,
        what,
        value,
        "letters, numbers, hyphens, underscores",
        value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
    );
}

/// Everything AWS would refuse in the names, descriptions and ownership tags of one resource.
pub fn resource_violations(
    stack: &str,
    id: &ResourceId,
    name_tag: &str,
    r: &Resource,
) -> Vec<Violation> {
    let mut out = Vec::new();
    for (k, v) in [
        (TAG_STACK, stack),
        (TAG_ID, id.as_str()),
        ("Name", name_tag),
    ] {
        out.extend(tag_violations(k, v));
    }
    match r {
        Resource::SecurityGroup(g) => {
            ec2_group_text(&mut out, "security group name", &g.name);
            check(
                &mut out,
                "security group name",
                &g.name,
                "not sg-",
                !g.name.starts_with("sg-"),
            );
            ec2_group_text(&mut out, "security group description", &g.description);
        }
        Resource::IngressRule(rule) => {
            ec2_group_text(&mut out, "rule description", &rule.description)
        }
        Resource::LoadBalancer(lb) => {
            elb_name(&mut out, "load balancer name", &lb.name);
            check(
                &mut out,
                "load balancer name",
                &lb.name,
                "not internal-",
                !lb.name.starts_with("internal-"),
            );
        }
        Resource::TargetGroup(tg) => elb_name(&mut out, "target group name", &tg.name),
        Resource::Cluster(c) => ecs_name(&mut out, "cluster name", &c.name),
        Resource::EcsService(s) => {
            ecs_name(&mut out, "ECS service name", &s.name);
            if !s.container_name.is_empty() {
                ecs_name(&mut out, "load balancer container name", &s.container_name);
            }
        }
        Resource::TaskDefinition(t) => {
            ecs_name(&mut out, "task family", &t.family);
            ecs_name(&mut out, "container name", &t.container_name);
        }
        // https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html
        Resource::LogGroup(g) => {
            check(
                &mut out,
                "log group name",
                &g.name,
                "1-512 characters",
                len_in(&g.name, 1, 512),
            );
            check(
                &mut out,
                "log group name",
                &g.name,
                "[.-_/#A-Za-z0-9]",
                g.name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-/#".contains(c)),
            );
        }
        // https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html
        Resource::Role(role) => {
            check(
                &mut out,
                "role name",
                &role.name,
                "1-64 characters",
                len_in(&role.name, 1, 64),
            );
            check(
                &mut out,
                "role name",
                &role.name,
                "[\\w+=,.@-]",
                role.name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)),
            );
        }
        // https://docs.aws.amazon.com/cloud-map/latest/api/API_CreateService.html: one DNS label.
        Resource::DiscoveryService(d) => {
            check(
                &mut out,
                "discovery service name",
                &d.name,
                "1-63 characters",
                len_in(&d.name, 1, 63),
            );
            check(
                &mut out,
                "discovery service name",
                &d.name,
                "a DNS label",
                d.name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                    && !d.name.starts_with('-')
                    && !d.name.ends_with('-'),
            );
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::expand;
    use crate::topology::parse_str;

    /// The longest legal stack name (20) and service names (63), routed, calling each other,
    /// with secrets: every derived name must still be one AWS accepts.
    fn longest() -> String {
        let a = format!("a{}", "-b".repeat(31));
        let b = format!("z{}", "9".repeat(62));
        format!(
            "name: abcdefghij-klmnopqr9\nregion: ap-southeast-7\nnetwork: {{cidr: 10.0.0.0/16, availability_zones: 3, nat_gateways: per_az}}\n\
             discovery: {{namespace: internal}}\n\
             load_balancer:\n  listeners: [{{port: 80, protocol: HTTP}}]\n  routes: [{{path: /*, service: {a}}}]\n\
             services:\n  {a}:\n    image: x\n    port: 65535\n    health_check: /health\n    allowed_callers: [load_balancer, {b}]\n    secrets: {{DB: /shop/db}}\n\
             \x20 {b}:\n    image: x\n    port: 8080\n    allowed_callers: [{a}]\n"
        )
    }

    #[test]
    fn every_derived_name_and_tag_fits_aws_rules_at_the_longest_legal_names() {
        let src = longest();
        let t = parse_str(&src, "t.yaml")
            .map_err(|e| e.to_string())
            .expect("the longest legal topology is valid")
            .topology;
        assert_eq!(t.name.len(), 20);
        assert!(t.services.keys().all(|s| s.len() == 63));
        let d = expand(&t, "ap-southeast-7");
        let mut all = Vec::new();
        for (id, r) in &d.resources {
            // The `Name` tag the cloud layer sends is the resource's name, or its id.
            let name_tag = crate::names::tag_name(&t.name, id.as_str());
            all.extend(resource_violations(&t.name, id, &name_tag, r));
        }
        assert!(all.is_empty(), "{all:#?}");
        assert!(d.resources.len() > 30);
    }

    #[test]
    fn the_checks_can_fail() {
        assert_eq!(
            tag_violations("k", "pid 1 (ecsform apply)")[0].rule,
            "tag character set"
        );
        assert_eq!(tag_violations("aws:x", "v")[0].rule, "no aws: prefix");
        assert_eq!(
            tag_violations(&"k".repeat(129), "v")[0].rule,
            "tag key 1-128 characters"
        );
        assert!(!tag_violations("k", &"v".repeat(257)).is_empty());
        let mut out = Vec::new();
        elb_name(&mut out, "tg", &format!("{}-", "a".repeat(10)));
        elb_name(&mut out, "tg", &"a".repeat(33));
        ec2_group_text(&mut out, "sg", "naïve");
        ecs_name(&mut out, "family", "a.b");
        assert_eq!(out.len(), 4, "{out:#?}");
    }
}
