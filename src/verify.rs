//! `verify`: what AWS would only reveal minutes into an apply, checked before it — images that
//! exist, secrets and parameters that exist and that the execution role can read, certificates
//! that are issued and in the stack's region, zones the region has, and the quotas the topology
//! needs. This module says what to check (pure, from the topology) and renders the results;
//! the reads are `cloud::aws::verify`. Zero writes.

use crate::topology::{Image, Topology};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    Fail,
    /// Not checked, and why (a public registry, an account quota read as its default).
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
    /// Docker Hub, public.ecr.aws, ghcr.io, …: not checked (no registry credentials here).
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
    /// Checks decided from the file alone (quotas at their defaults).
    pub offline: Vec<Check>,
}

/// AWS's default quotas the topology can reach
/// (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html,
/// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html,
/// https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html).
const SERVICES_PER_CLUSTER: usize = 5000;
const RULES_PER_LISTENER: usize = 100;
const TARGET_GROUPS_PER_ALB: usize = 100;
const GROUPS_PER_INTERFACE: usize = 5;

/// `used` against AWS's default `limit` for `subject`.
fn quota(subject: &str, used: usize, limit: usize) -> Check {
    let status = if used <= limit {
        Status::Ok
    } else {
        Status::Fail
    };
    Check::new(
        "quota",
        subject,
        status,
        format!("{used} of the default {limit}"),
    )
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
        w.offline.push(quota(
            "rules per listener",
            lb.routes.len(),
            RULES_PER_LISTENER,
        ));
        let routed: std::collections::BTreeSet<&str> =
            lb.routes.iter().map(|r| r.service.as_str()).collect();
        w.offline.push(quota(
            "target groups per load balancer",
            routed.len(),
            TARGET_GROUPS_PER_ALB,
        ));
    }
    w.offline.push(quota(
        "services per cluster",
        t.services.len(),
        SERVICES_PER_CLUSTER,
    ));
    // Each task interface has exactly its service's group.
    w.offline.push(quota(
        "security groups per task interface",
        1,
        GROUPS_PER_INTERFACE,
    ));
    w
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
}
