//! The stack `name` and `region`.

use super::text::{looks_like_region, lowercase_name_problem, AWS_REGIONS};
use crate::topology::checker::Checker;
use crate::topology::positions::ypath;

/// Stack names prefix every AWS name, so they are short (DESIGN §2).
const STACK_NAME_MAX: usize = 20;

pub(super) fn check(check: &mut Checker) {
    check_name(check);
    check_region(check);
}

fn check_name(check: &mut Checker) {
    let name = &check.topology.name;
    let problem = if name.is_empty() {
        Some("it is empty".to_string())
    } else if name.contains("--") {
        Some("it must not contain \"--\"".to_string())
    } else {
        lowercase_name_problem(name, STACK_NAME_MAX)
    };
    if let Some(problem) = problem {
        check.error(
            &ypath!("name"),
            format!("invalid stack name `{name}`: {problem}"),
            "use 1 to 20 lowercase letters, digits and single '-', starting with a letter, e.g. `shop`",
        );
    }
}

fn check_region(check: &mut Checker) {
    let Some(region) = &check.topology.region else {
        return;
    };
    if !looks_like_region(region) {
        check.error(
            &ypath!("region"),
            format!("`{region}` is not an AWS region name"),
            "write it like `us-east-1`, or remove `region` to use AWS_REGION or the profile's region",
        );
    } else if !AWS_REGIONS.contains(&region.as_str()) {
        let same_area: Vec<&str> = AWS_REGIONS
            .iter()
            .copied()
            .filter(|r| {
                r.rsplit_once('-').map(|(area, _)| area)
                    == region.rsplit_once('-').map(|(area, _)| area)
            })
            .collect();
        let hint = if same_area.is_empty() {
            "use an AWS region such as `us-east-1`, `eu-west-1` or `ap-southeast-2`".to_string()
        } else {
            format!("regions there: {}", same_area.join(", "))
        };
        check.error(
            &ypath!("region"),
            format!("`{region}` is not an AWS region"),
            hint,
        );
    }
}
