//! `verify`: what AWS would only reveal minutes into an apply, checked before it — images that
//! exist, secrets and parameters that exist and that the execution role can read, certificates
//! that are issued and in the stack's region, zones the region has, and the quotas the topology
//! needs. This module says what to check (pure, from the topology) and renders the results;
//! the reads are `cloud::aws::verify`. Zero writes.

use crate::kinds::LoadBalancerType;
use crate::model::{Desired, Ref, Resource, ResourceId};
use crate::topology::{Image, Topology};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    Fail,
    /// Not checked, and why (a registry that could not be reached, another region's image).
    Skipped,
}

/// One result row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// `zone`, `image`, `secret`, `parameter`, `certificate`, `quota`.
    pub what: &'static str,
    /// What was checked: the image, the secret's ARN, `services per cluster`.
    pub subject: String,
    pub status: Status,
    pub detail: String,
}

impl Check {
    pub fn new(
        what: &'static str,
        subject: impl Into<String>,
        status: Status,
        detail: impl Into<String>,
    ) -> Check {
        Check {
            what,
            subject: subject.into(),
            status,
            detail: detail.into(),
        }
    }
}

/// Where a service's image lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageRef {
    /// An ECR repository: `<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>` (or
    /// `@sha256:…`), or a repository of the stack's own (`repository:` in the file).
    Ecr {
        region: Option<String>,
        repository: String,
        tag: Option<String>,
        digest: Option<String>,
        /// A repository of the file's `repositories`: apply creates it, so it may not exist yet.
        own: bool,
    },
    /// Docker Hub, public.ecr.aws, ghcr.io, …: asked anonymously, as ECS pulls them
    /// (`cloud::registry`).
    Public(String),
}

/// Splits an image reference; anything not on a private ECR registry is public.
pub fn parse_image(uri: &str) -> ImageRef {
    let Some((host, path)) = uri.split_once('/') else {
        return ImageRef::Public(uri.to_string());
    };
    let parts: Vec<&str> = host.split('.').collect();
    let ecr = parts.len() >= 6
        && parts[1] == "dkr"
        && parts[2] == "ecr"
        && host.ends_with(".amazonaws.com");
    if !ecr {
        return ImageRef::Public(uri.to_string());
    }
    let (repository, tag, digest) = if let Some((repo, digest)) = path.split_once('@') {
        (repo, None, Some(digest.to_string()))
    } else {
        match path.rsplit_once(':') {
            Some((repo, tag)) => (repo, Some(tag.to_string()), None),
            None => (path, Some("latest".to_string()), None),
        }
    };
    ImageRef::Ecr {
        region: Some(parts[3].to_string()),
        repository: repository.to_string(),
        tag,
        digest,
        own: false,
    }
}

/// What the topology needs to exist, per kind of check.
#[derive(Debug, Clone, Default)]
pub struct Wanted {
    pub zones: Vec<String>,
    /// `(service, image)`.
    pub images: Vec<(String, ImageRef)>,
    /// `(service, variable, source)`: a Secrets Manager ARN, or an SSM parameter name or ARN.
    pub secrets: Vec<(String, String, String)>,
    /// `(listener port, certificate ARN)`.
    pub certificates: Vec<(u16, String)>,
    /// The quotas it draws on, read from the account.
    pub quotas: Vec<QuotaNeed>,
}

/// A quota the topology draws on, named as Service Quotas names it. The account's value is read
/// (`GetServiceQuota`, else `GetAWSDefaultServiceQuota`); `default` is used only when neither
/// can be read, and says so. Defaults and codes: the Service Quotas console and
/// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html,
/// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html,
/// https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html.
#[derive(Debug, Clone, PartialEq)]
pub struct QuotaNeed {
    pub service_code: &'static str,
    pub quota_code: &'static str,
    pub name: &'static str,
    /// What the topology needs of it (the largest one where the quota is per resource).
    pub used: f64,
    pub default: f64,
    /// Said with the result, e.g. that other workloads in the account count too.
    pub note: &'static str,
}

/// Where a quota's value came from.
#[derive(Debug, Clone, PartialEq)]
pub enum QuotaValue {
    /// The account's applied value.
    Applied(f64),
    /// Service Quotas has no applied value (never raised): AWS's default, as Service Quotas says.
    AwsDefault(f64),
    /// Neither could be read (why): the built-in default is used.
    Unread(String),
}

/// The result row of one quota.
pub fn quota_check(need: &QuotaNeed, value: &QuotaValue) -> Check {
    let (limit, source) = match value {
        QuotaValue::Applied(v) => (*v, "this account's quota".to_string()),
        QuotaValue::AwsDefault(v) => (*v, "the AWS default, never raised here".to_string()),
        QuotaValue::Unread(why) => (
            need.default,
            format!("the AWS default: the account's value could not be read ({why})"),
        ),
    };
    let status = if need.used <= limit {
        Status::Ok
    } else {
        Status::Fail
    };
    let mut detail = format!("{} of {} ({source})", number(need.used), number(limit));
    if !need.note.is_empty() {
        detail.push_str("; ");
        detail.push_str(need.note);
    }
    if status == Status::Fail {
        detail.push_str(&format!(
            "; ask for more in the Service Quotas console ({} {})",
            need.service_code, need.quota_code
        ));
    }
    Check::new("quota", need.name, status, detail)
}

/// `4` rather than `4.0`, `0.5` as it is.
fn number(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

/// The quotas an apply of `t` draws on, with what it needs of each, from the resources it
/// would create.
pub fn quota_needs(t: &Topology, d: &Desired) -> Vec<QuotaNeed> {
    let of_kind = |pick: fn(&Resource) -> bool| d.resources.values().filter(move |r| pick(r));
    let max_per = |keys: Vec<String>| -> f64 {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for k in keys {
            *counts.entry(k).or_default() += 1;
        }
        counts.values().copied().max().unwrap_or(0) as f64
    };
    let albs: BTreeSet<&ResourceId> = d
        .resources
        .iter()
        .filter(|(_, r)| {
            matches!(r, Resource::LoadBalancer(lb) if lb.lb_type == LoadBalancerType::Application)
        })
        .map(|(id, _)| id)
        .collect();
    let alb_of_listener = |listener: &Ref| -> Option<String> {
        let Ref::Id(id) = listener else { return None };
        match d.resources.get(id) {
            Some(Resource::Listener(l)) => match &l.load_balancer {
                Ref::Id(lb) if albs.contains(lb) => Some(lb.to_string()),
                _ => None,
            },
            _ => None,
        }
    };
    let rules: Vec<(String, String)> = of_kind(|r| matches!(r, Resource::ListenerRule(_)))
        .filter_map(|r| match r {
            Resource::ListenerRule(rule) => Some((
                alb_of_listener(&rule.listener)?,
                format!("{:?}", rule.target_group),
            )),
            _ => None,
        })
        .collect();
    let target_groups: BTreeSet<(String, String)> = rules.iter().cloned().collect();
    let inbound: Vec<String> = of_kind(|r| matches!(r, Resource::IngressRule(_)))
        .filter_map(|r| match r {
            Resource::IngressRule(rule) => Some(format!("{:?}", rule.group)),
            _ => None,
        })
        .collect();
    let groups_per_interface = d
        .resources
        .values()
        .map(|r| match r {
            Resource::EcsService(s) => s.security_groups.len(),
            Resource::LoadBalancer(lb) => lb.security_groups.len(),
            _ => 0,
        })
        .max()
        .unwrap_or(0);
    // At full scale: the autoscaling maximum, else the desired count.
    let vcpus: f64 = t
        .services
        .values()
        .map(|s| {
            let tasks = s.autoscaling.as_ref().map_or(s.desired_count, |a| a.max);
            f64::from(tasks) * f64::from(s.cpu) / 1024.0
        })
        .sum();
    vec![
        QuotaNeed {
            service_code: "ecs",
            quota_code: "L-9EF96962",
            name: "Services per cluster",
            used: of_kind(|r| matches!(r, Resource::EcsService(_))).count() as f64,
            default: 5000.0,
            note: "",
        },
        QuotaNeed {
            service_code: "fargate",
            quota_code: "L-3032A538",
            name: "Fargate On-Demand vCPU resource count",
            used: vcpus,
            default: 4000.0,
            note: "every service at its autoscaling maximum; the account's other tasks count too",
        },
        QuotaNeed {
            service_code: "elasticloadbalancing",
            quota_code: "L-7EED9B64",
            name: "Rules per Application Load Balancer",
            used: max_per(rules.into_iter().map(|(alb, _)| alb).collect()),
            default: 100.0,
            note: "",
        },
        QuotaNeed {
            service_code: "elasticloadbalancing",
            quota_code: "L-822D1B1B",
            name: "Target Groups per Application Load Balancer",
            used: max_per(target_groups.into_iter().map(|(alb, _)| alb).collect()),
            default: 100.0,
            note: "",
        },
        QuotaNeed {
            service_code: "vpc",
            quota_code: "L-0EA8095F",
            name: "Inbound or outbound rules per security group",
            used: max_per(inbound),
            default: 60.0,
            note: "the busiest group: one rule per caller and port",
        },
        QuotaNeed {
            service_code: "vpc",
            quota_code: "L-2AFB9258",
            name: "Security groups per network interface",
            used: groups_per_interface as f64,
            default: 5.0,
            note: "",
        },
    ]
}

pub fn wanted(t: &Topology, region: &str) -> Wanted {
    let mut w = Wanted {
        zones: crate::topology::availability_zone_names(t, region),
        ..Wanted::default()
    };
    for (name, spec) in &t.services {
        let image = match &spec.image {
            Image::Uri(uri) => parse_image(uri),
            Image::Repository(r) => ImageRef::Ecr {
                region: None,
                repository: crate::names::repository(&t.name, &r.repository),
                tag: Some(r.tag.clone()),
                digest: None,
                own: true,
            },
        };
        w.images.push((name.clone(), image));
        for (var, source) in &spec.secrets {
            w.secrets.push((name.clone(), var.clone(), source.clone()));
        }
    }
    if let Some(lb) = &t.load_balancer {
        for l in &lb.listeners {
            if let Some(arn) = &l.certificate_arn {
                w.certificates.push((l.port, arn.clone()));
            }
        }
    }
    w.quotas = quota_needs(t, &crate::desired::expand(t, region));
    w
}

/// What ACM says of a listener's certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertificateFacts {
    /// `ISSUED`, `PENDING_VALIDATION`, `EXPIRED`, …
    pub status: String,
    /// The names it is issued for (its subject alternative names).
    pub domains: Vec<String>,
    /// Its validity, in seconds since the epoch.
    pub not_before: Option<i64>,
    pub not_after: Option<i64>,
}

/// Under this many days left, an issued certificate's row says it is about to expire.
const CERTIFICATE_WARNING_DAYS: i64 = 30;

/// Whether a listener can serve `facts`' certificate at `now` (seconds since the epoch): issued,
/// and within its validity (a load balancer serves an expired one, and every client refuses it).
pub fn certificate_check(subject: String, facts: &CertificateFacts, now: i64) -> Check {
    let day = |secs: i64| {
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs.max(0) as u64);
        humantime::format_rfc3339_seconds(at).to_string()[..10].to_string()
    };
    if facts.status != "ISSUED" {
        return Check::new(
            "certificate",
            subject,
            Status::Fail,
            format!("{}: the listener needs an issued certificate", facts.status),
        );
    }
    if let Some(after) = facts.not_after.filter(|after| *after < now) {
        return Check::new(
            "certificate",
            subject,
            Status::Fail,
            format!("expired on {}: renew it or name another", day(after)),
        );
    }
    if let Some(before) = facts.not_before.filter(|before| *before > now) {
        return Check::new(
            "certificate",
            subject,
            Status::Fail,
            format!("not valid before {}", day(before)),
        );
    }
    let mut detail = format!("issued for {}", facts.domains.join(", "));
    if let Some(after) = facts.not_after {
        let days = (after - now) / 86_400;
        if days < CERTIFICATE_WARNING_DAYS {
            detail.push_str(&format!("; expires in {days} days ({})", day(after)));
        } else {
            detail.push_str(&format!("; valid until {}", day(after)));
        }
    }
    Check::new("certificate", subject, Status::Ok, detail)
}

/// Whether any check failed.
pub fn failed(checks: &[Check]) -> bool {
    checks.iter().any(|c| c.status == Status::Fail)
}

/// An aligned table, failures first.
pub fn table(checks: &[Check]) -> String {
    let mut rows: Vec<&Check> = checks.iter().collect();
    rows.sort_by_key(|c| match c.status {
        Status::Fail => 0,
        Status::Skipped => 2,
        Status::Ok => 1,
    });
    let width = |f: &dyn Fn(&Check) -> usize| rows.iter().map(|c| f(c)).max().unwrap_or(0);
    let what_w = width(&|c| c.what.len()).max(5);
    let subject_w = width(&|c| c.subject.chars().count()).clamp(7, 70);
    let mut out = format!(
        "{:<6} {:<what_w$} {:<subject_w$} {}\n",
        "RESULT", "CHECK", "SUBJECT", "DETAIL"
    );
    for c in rows {
        let status = match c.status {
            Status::Ok => "ok",
            Status::Fail => "FAIL",
            Status::Skipped => "skip",
        };
        out.push_str(&format!(
            "{status:<6} {:<what_w$} {:<subject_w$} {}\n",
            c.what, c.subject, c.detail
        ));
    }
    let fails = checks.iter().filter(|c| c.status == Status::Fail).count();
    out.push_str(&if fails == 0 {
        format!(
            "\nAll {} checks passed (skipped ones say why).\n",
            checks.len()
        )
    } else {
        format!(
            "\n{fails} of {} checks failed: fix them before `ecsform apply`.\n",
            checks.len()
        )
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecr_images_are_told_from_public_ones() {
        assert_eq!(
            parse_image("123456789012.dkr.ecr.us-east-1.amazonaws.com/users:1.2"),
            ImageRef::Ecr {
                region: Some("us-east-1".into()),
                repository: "users".into(),
                tag: Some("1.2".into()),
                digest: None,
                own: false
            }
        );
        assert_eq!(
            parse_image("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/api@sha256:abc"),
            ImageRef::Ecr {
                region: Some("eu-west-1".into()),
                repository: "team/api".into(),
                tag: None,
                digest: Some("sha256:abc".into()),
                own: false
            }
        );
        for public in [
            "nginx:1.27",
            "public.ecr.aws/nginx/nginx:1.27",
            "ghcr.io/o/r:v1",
            "localhost:5000/x:y",
        ] {
            assert!(
                matches!(parse_image(public), ImageRef::Public(_)),
                "{public}"
            );
        }
    }

    #[test]
    fn the_table_puts_failures_first_and_counts_them() {
        let checks = vec![
            Check::new("zone", "us-east-1a", Status::Ok, "available"),
            Check::new(
                "secret",
                "arn:aws:secretsmanager:us-east-1:1:secret:x",
                Status::Fail,
                "does not exist",
            ),
        ];
        let t = table(&checks);
        let fail = t.find("FAIL").expect("listed");
        assert!(fail < t.find("ok ").expect("listed"), "{t}");
        assert!(t.contains("1 of 2 checks failed"), "{t}");
        assert!(failed(&checks));
    }

    fn needs_of(text: &str) -> Vec<QuotaNeed> {
        let t = crate::topology::parse_str(text, "t.yaml")
            .map_err(|e| e.to_string())
            .expect("valid")
            .topology;
        quota_needs(&t, &crate::desired::expand(&t, "us-east-1"))
    }

    fn used(needs: &[QuotaNeed], code: &str) -> f64 {
        needs
            .iter()
            .find(|n| n.quota_code == code)
            .unwrap_or_else(|| panic!("{code} in {needs:?}"))
            .used
    }

    #[test]
    fn the_example_needs_what_it_creates() {
        let needs = needs_of(include_str!("../topology.example.yaml"));
        assert_eq!(used(&needs, "L-9EF96962"), 5.0, "services per cluster");
        // 5 services × 2 tasks × 256 CPU units.
        assert_eq!(used(&needs, "L-3032A538"), 2.5, "Fargate vCPUs");
        // product-service admits api-gateway, order-service and the NLB.
        assert_eq!(used(&needs, "L-0EA8095F"), 3.0, "rules per group");
        assert_eq!(used(&needs, "L-2AFB9258"), 1.0, "groups per interface");
    }

    #[test]
    fn a_service_called_by_seventy_others_outgrows_the_default_rules_per_group() {
        let mut text = String::from(
            "name: big\nnetwork: {cidr: 10.0.0.0/16}\nservices:\n  core:\n    image: x\n    port: 1\n    allowed_callers: [",
        );
        let callers: Vec<String> = (0..70).map(|i| format!("c{i}")).collect();
        text.push_str(&callers.join(", "));
        text.push_str("]\n");
        for c in &callers {
            text.push_str(&format!(
                "  {c}:\n    image: x\n    port: 2\n    cpu: 1024\n    memory: 2048\n    desired_count: 1\n    autoscaling: {{min: 1, max: 4, cpu_target: 60}}\n"
            ));
        }
        let needs = needs_of(&text);
        let rules = needs
            .iter()
            .find(|n| n.quota_code == "L-0EA8095F")
            .expect("rules per group");
        assert_eq!(rules.used, 70.0);
        let unread = quota_check(rules, &QuotaValue::Unread("AccessDeniedException".into()));
        assert_eq!(unread.status, Status::Fail, "{unread:?}");
        assert!(
            unread.detail.contains("70 of 60 (the AWS default")
                && unread.detail.contains("AccessDeniedException")
                && unread.detail.contains("vpc L-0EA8095F"),
            "{unread:?}"
        );
        // Raised for this account: it fits, and the row says whose value it is.
        let raised = quota_check(rules, &QuotaValue::Applied(200.0));
        assert_eq!(raised.status, Status::Ok);
        assert!(
            raised
                .detail
                .starts_with("70 of 200 (this account's quota)"),
            "{raised:?}"
        );
        // 70 services at their autoscaling maximum of 4 one-vCPU tasks, and core's 0.25 × 1.
        assert_eq!(used(&needs, "L-3032A538"), 280.25);
        let small_account = quota_check(
            needs
                .iter()
                .find(|n| n.quota_code == "L-3032A538")
                .expect("vcpus"),
            &QuotaValue::Applied(6.0),
        );
        assert_eq!(small_account.status, Status::Fail, "{small_account:?}");
    }

    #[test]
    fn a_certificate_is_served_only_issued_and_in_its_validity() {
        let now = 1_800_000_000; // 2027-01-15
        let facts = |status: &str, before: i64, after: i64| CertificateFacts {
            status: status.into(),
            domains: vec!["shop.example.com".into(), "*.shop.example.com".into()],
            not_before: Some(before),
            not_after: Some(after),
        };
        let year = 365 * 86_400;
        let cases = [
            (
                facts("ISSUED", now - year, now + year),
                Status::Ok,
                "issued for shop.example.com, *.shop.example.com; valid until 2028-01-15",
            ),
            (
                facts("ISSUED", now - year, now + 10 * 86_400),
                Status::Ok,
                "expires in 10 days (2027-01-25)",
            ),
            (
                facts("ISSUED", now - year, now - 86_400),
                Status::Fail,
                "expired on 2027-01-14",
            ),
            (
                facts("ISSUED", now + 86_400, now + year),
                Status::Fail,
                "not valid before 2027-01-16",
            ),
            (
                facts("PENDING_VALIDATION", now, now + year),
                Status::Fail,
                "PENDING_VALIDATION: the listener needs an issued certificate",
            ),
        ];
        for (facts, status, says) in cases {
            let check = certificate_check("listener 443".into(), &facts, now);
            assert_eq!(check.status, status, "{check:?}");
            assert!(check.detail.contains(says), "{check:?} should say {says}");
        }
    }
}
