//! `services.<name>.task_role`: managed policy ARNs and inline Allow statements, checked against
//! IAM's own rules offline (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).

use crate::topology::checker::Checker;
use crate::topology::positions::ypath;

/// IAM: at most 20 managed policies per role (the default quota is 10; 20 is the raised one).
const MANAGED_MAX: usize = 20;
/// IAM: an inline role policy document is at most 10,240 characters (ecsform adds ~100).
const INLINE_MAX: usize = 10_000;

pub(super) fn check(check: &mut Checker) {
    let services: Vec<_> = check
        .topology
        .services
        .iter()
        .filter_map(|(name, s)| Some((name.clone(), s.task_role.clone()?)))
        .collect();
    for (name, role) in services {
        let at = ypath!("services", name.as_str(), "task_role");
        if role.managed_policies.is_empty() && role.statements.is_empty() {
            check.error_at_key(
                &at,
                format!("services.{name}.task_role grants nothing"),
                "list `managed_policies` or `statements`, or remove `task_role` (the task then has no role)",
            );
        }
        if role.managed_policies.len() > MANAGED_MAX {
            check.error_at_key(
                &ypath!("services", name.as_str(), "task_role", "managed_policies"),
                format!(
                    "{} managed policies: IAM attaches at most {MANAGED_MAX} to a role",
                    role.managed_policies.len()
                ),
                "merge some into `statements`",
            );
        }
        for (i, arn) in role.managed_policies.iter().enumerate() {
            if !is_policy_arn(arn) {
                check.error(
                    &ypath!("services", name.as_str(), "task_role", "managed_policies", i),
                    format!("`{arn}` is not a managed policy ARN"),
                    "write `arn:aws:iam::aws:policy/<name>` or `arn:aws:iam::<account>:policy/<name>`",
                );
            }
        }
        for (i, statement) in role.statements.iter().enumerate() {
            let st = ypath!("services", name.as_str(), "task_role", "statements", i);
            if statement.actions.is_empty() {
                check.error_at_key(
                    &st,
                    "a statement with no `actions`",
                    "list actions, e.g. `[sqs:SendMessage]`",
                );
            }
            for (j, action) in statement.actions.iter().enumerate() {
                if !is_action(action) {
                    check.error(
                        &ypath!("services", name.as_str(), "task_role", "statements", i, "actions", j),
                        format!("`{action}` is not an IAM action"),
                        "write `<service>:<Action>`, e.g. `s3:GetObject` (`*` allowed within the action)",
                    );
                }
            }
            if statement.resources.is_empty() {
                check.error_at_key(
                    &st,
                    "a statement with no `resources`",
                    "list the ARNs it applies to; `*` only where the action has no resource",
                );
            }
            for (j, resource) in statement.resources.iter().enumerate() {
                if resource != "*" && !resource.starts_with("arn:") {
                    check.error(
                        &ypath!("services", name.as_str(), "task_role", "statements", i, "resources", j),
                        format!("`{resource}` is not an ARN"),
                        "write the resource's ARN, e.g. `arn:aws:sqs:us-east-1:123456789012:orders`",
                    );
                }
            }
        }
        let size: usize = role
            .statements
            .iter()
            .map(|s| {
                s.actions
                    .iter()
                    .chain(&s.resources)
                    .map(|x| x.len() + 3)
                    .sum::<usize>()
                    + 60
            })
            .sum();
        if size > INLINE_MAX {
            check.error_at_key(
                &ypath!("services", name.as_str(), "task_role", "statements"),
                format!("the statements make a policy of about {size} characters; IAM allows 10240 per inline role policy"),
                "use wildcards within actions, or a managed policy",
            );
        }
    }
}

fn is_policy_arn(arn: &str) -> bool {
    let Some(rest) = arn.strip_prefix("arn:aws:iam::") else {
        return false;
    };
    let Some((account, name)) = rest.split_once(":policy/") else {
        return false;
    };
    (account == "aws" || (account.len() == 12 && account.chars().all(|c| c.is_ascii_digit())))
        && !name.is_empty()
}

fn is_action(action: &str) -> bool {
    if action == "*" {
        return true;
    }
    let Some((service, name)) = action.split_once(':') else {
        return false;
    };
    !service.is_empty()
        && service
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_and_actions() {
        assert!(is_policy_arn(
            "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
        ));
        assert!(is_policy_arn("arn:aws:iam::123456789012:policy/team/app"));
        assert!(!is_policy_arn("AmazonS3ReadOnlyAccess"));
        assert!(!is_policy_arn("arn:aws:iam::12345:policy/x"));
        assert!(is_action("sqs:SendMessage"));
        assert!(is_action("s3:Get*"));
        assert!(!is_action("sqs"));
        assert!(!is_action("SQS:Send Message"));
    }
}
