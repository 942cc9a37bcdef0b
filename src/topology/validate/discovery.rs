//! `discovery`: the Cloud Map namespace and record TTL.

use super::text::dns_name_problem;
use crate::topology::checker::Checker;
use crate::topology::positions::ypath;

/// One day; longer TTLs keep callers on replaced tasks' old addresses.
const TTL_MAX: u32 = 86_400;

pub(super) fn check(check: &mut Checker) {
    let discovery = check.topology.discovery.clone();
    if let Some(problem) = dns_name_problem(&discovery.namespace) {
        check.error(
            &ypath!("discovery", "namespace"),
            format!(
                "discovery.namespace `{}` is not a valid DNS name: {problem}",
                discovery.namespace
            ),
            "use lowercase labels of letters, digits and '-' separated by dots, e.g. `internal`",
        );
    }
    if discovery.ttl > TTL_MAX {
        check.error(
            &ypath!("discovery", "ttl"),
            format!(
                "discovery.ttl {} is above {TTL_MAX} seconds (one day)",
                discovery.ttl
            ),
            "use a short TTL such as 10 so callers notice replaced tasks quickly",
        );
    }
}
