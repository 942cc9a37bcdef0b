//! AWS names derived from the stack and service names: stable, and within AWS's limits.

pub fn tag_name(stack: &str, what: &str) -> String {
    format!("{stack}-{what}")
}
pub fn security_group(stack: &str, what: &str) -> String {
    format!("{stack}-{what}")
}
pub fn cluster(stack: &str) -> String {
    stack.to_string()
}
pub fn task_family(stack: &str, svc: &str) -> String {
    format!("{stack}-{svc}")
}
pub fn ecs_service(stack: &str, svc: &str) -> String {
    format!("{stack}-{svc}")
}
pub fn log_group(stack: &str, svc: &str) -> String {
    format!("/ecs/{stack}-{svc}")
}
/// Prefix shared by every log group of the stack (listing by prefix finds them in one call).
pub fn log_group_prefix(stack: &str) -> String {
    format!("/ecs/{stack}-")
}
/// ≤ 32 characters: the stack name is at most 20.
pub fn load_balancer(stack: &str) -> String {
    format!("{stack}-alb")
}
/// The internal network load balancer behind the REST API (≤ 32 characters, as above).
pub fn network_load_balancer(stack: &str) -> String {
    format!("{stack}-nlb")
}
/// The internal ALB of `api_gateway.via: alb`.
pub fn api_load_balancer(stack: &str) -> String {
    format!("{stack}-api-alb")
}
pub fn vpc_link(stack: &str) -> String {
    format!("{stack}-api-link")
}
/// A service's task role: `<stack>-<service>-task`, within IAM's 64 characters (a long name
/// keeps a prefix and a stable hash of the whole).
pub fn task_role(stack: &str, svc: &str) -> String {
    const IAM_ROLE_NAME_MAX: usize = 64;
    let full = format!("{stack}-{svc}-task");
    if full.len() <= IAM_ROLE_NAME_MAX {
        return full;
    }
    let hash = crate::topology::naming::fnv1a_32(full.as_bytes()) & 0x00ff_ffff;
    let keep = IAM_ROLE_NAME_MAX - 7 - "-task".len();
    format!("{}-{hash:06x}-task", full[..keep].trim_end_matches('-'))
}
/// An ECR repository of the stack.
pub fn repository(stack: &str, key: &str) -> String {
    format!("{stack}-{key}")
}
pub fn execution_role(stack: &str) -> String {
    format!("{stack}-task-execution")
}
/// IAM path of every role of the stack: one `ListRoles` call finds them.
pub fn role_path(stack: &str) -> String {
    format!("/ecsform/{stack}/")
}

/// `<stack>-<service>-<what>`: alarms and scaling policies (CloudWatch and Application Auto
/// Scaling allow 255 and 256 characters; stack and service names are far shorter).
pub fn scoped(stack: &str, svc: &str, what: &str) -> String {
    format!("{stack}-{svc}-{what}")
}

/// The RDS instance identifier and DB subnet group name of a database.
pub fn database(stack: &str, key: &str) -> String {
    format!("{stack}-{key}")
}

/// The second name of a resource whose name is unique in the account (a load balancer, a
/// target group): what its replacement is called while the old one still holds `name`, within
/// `max` characters. A later replacement takes `name` again, so the two alternate.
pub fn replacement_name(name: &str, max: usize) -> String {
    const SUFFIX: &str = "-2";
    let keep = name.len().min(max.saturating_sub(SUFFIX.len()));
    let stem = name.get(..keep).unwrap_or(name).trim_end_matches('-');
    format!("{stem}{SUFFIX}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_replacement_name_fits_and_differs() {
        assert_eq!(super::replacement_name("shop-alb", 32), "shop-alb-2");
        let long = "a".repeat(29) + "-bc";
        let second = super::replacement_name(&long, 32);
        assert_eq!(second.len(), 31, "{second}");
        assert_eq!(second, "a".repeat(29) + "-2");
        assert_ne!(super::replacement_name(&"x".repeat(32), 32), "x".repeat(32));
        assert_eq!(super::replacement_name(&"x".repeat(32), 32).len(), 32);
    }

    #[test]
    fn task_role_names_fit_iam() {
        assert_eq!(super::task_role("shop", "api"), "shop-api-task");
        let long = super::task_role(&"s".repeat(20), &"x".repeat(63));
        assert!(long.len() <= 64, "{long}");
        assert!(long.ends_with("-task"));
        assert_ne!(long, super::task_role(&"s".repeat(20), &"y".repeat(63)));
    }
}
