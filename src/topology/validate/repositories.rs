//! `repositories`: ECR repository names (`<stack>-<key>`) and lifecycle counts, by ECR's rules
//! (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html).

use crate::topology::checker::Checker;
use crate::topology::positions::ypath;

/// ECR's lifecycle `countNumber` is at least 1; more than 10,000 images is beyond the
/// per-repository quota (https://docs.aws.amazon.com/AmazonECR/latest/userguide/service-quotas.html).
const KEEP_MAX: u32 = 10_000;

pub(super) fn check(check: &mut Checker) {
    let stack = check.topology.name.clone();
    let repositories: Vec<_> = check
        .topology
        .repositories
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (key, spec) in repositories {
        let name = crate::names::repository(&stack, &key);
        if !is_repository_name(&name) {
            check.error_at_key(
                &ypath!("repositories", key.as_str()),
                format!("repository `{key}` makes the ECR name `{name}`, which ECR refuses"),
                "use lowercase letters, digits and single `-`, `_` or `.` between them",
            );
        }
        if spec.keep_images == 0 || spec.keep_images > KEEP_MAX {
            check.error(
                &ypath!("repositories", key.as_str(), "keep_images"),
                format!("keep_images {} is outside 1..{KEEP_MAX}", spec.keep_images),
                "keep the last N images, e.g. `keep_images: 30`",
            );
        }
    }
}

/// ECR: `(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*`, 2–256 characters.
fn is_repository_name(name: &str) -> bool {
    (2..=256).contains(&name.len())
        && name.split('/').all(|part| {
            !part.is_empty()
                && part.split(['.', '_', '-']).all(|w| {
                    !w.is_empty()
                        && w.chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                })
        })
}

#[cfg(test)]
mod tests {
    #[test]
    fn repository_names() {
        assert!(super::is_repository_name("shop-demo1"));
        assert!(!super::is_repository_name("shop-Demo"));
        assert!(!super::is_repository_name("shop--x"));
    }
}
