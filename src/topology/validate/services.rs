//! Per-service fields: name, image, port, size, count, health check, environment, secrets,
//! autoscaling. Caller edges are in `callers.rs`.

use super::fargate::{valid_cpus, valid_memories};
use super::text::{is_arn_of, is_env_name, lowercase_name_problem};
use crate::topology::checker::{allows, Checker};
use crate::topology::naming::env_var_for;
use crate::topology::positions::{child, ypath};
use crate::topology::types::{Autoscaling, HealthCheck, Image, Service};

/// One DNS label: `<service>.<namespace>`.
const SERVICE_NAME_MAX: usize = 63;
/// ECS's limit on tasks per service.
const TASKS_MAX: u32 = 1000;
/// ALB/NLB health check paths are at most 1024 characters.
const HEALTH_CHECK_PATH_MAX: usize = 1024;

pub(super) fn check(check: &mut Checker) {
    let topology = check.topology;
    if topology.services.is_empty() {
        check.error_at_key(
            &ypath!("services"),
            "no services are declared",
            "add at least one service under `services:` with an `image` and a `port`",
        );
    }
    for (name, service) in &topology.services {
        check_name(check, name);
        check_renamed_from(check, name, service);
        check_image(check, name, service);
        check_port(check, name, service);
        check_size(check, name, service);
        check_desired_count(check, name, service);
        check_health_check(check, name, service);
        check_environment(check, name, service);
        check_secrets(check, name, service);
        if let Some(scaling) = &service.autoscaling {
            check_autoscaling(check, name, service, scaling);
        }
    }
}

fn check_name(check: &mut Checker, name: &str) {
    let problem = if name.is_empty() {
        Some("it is empty".to_string())
    } else {
        lowercase_name_problem(name, SERVICE_NAME_MAX)
    };
    if let Some(problem) = problem {
        check.error_at_key(
            &ypath!("services", name),
            format!("invalid service name `{name}`: {problem}"),
            "a service name is one DNS label: lowercase letters, digits and '-', starting with a letter, at most 63 characters",
        );
    }
}

/// The old name is a service name that is no longer in the file, claimed by one service only.
fn check_renamed_from(check: &mut Checker, name: &str, service: &Service) {
    let topology = check.topology;
    let Some(old) = &service.renamed_from else {
        return;
    };
    let path = ypath!("services", name, "renamed_from");
    let problem = if topology.services.contains_key(old) {
        Some(format!("`{old}` is still a service in this file"))
    } else if topology
        .services
        .iter()
        .any(|(other, s)| other.as_str() != name && s.renamed_from.as_deref() == Some(old))
    {
        Some(format!("another service is also renamed from `{old}`"))
    } else {
        lowercase_name_problem(old, SERVICE_NAME_MAX)
    };
    if let Some(problem) = problem {
        check.error(
            &path,
            format!("invalid renamed_from `{old}` of service `{name}`: {problem}"),
            "renamed_from names what this service was called before, a service no longer in the file",
        );
    }
}

fn check_image(check: &mut Checker, name: &str, service: &Service) {
    let path = ypath!("services", name, "image");
    let image = match &service.image {
        Image::Uri(image) => image,
        Image::Repository(r) => {
            if !check.topology.repositories.contains_key(&r.repository) {
                let known: Vec<String> = check
                    .topology
                    .repositories
                    .keys()
                    .map(|k| format!("`{k}`"))
                    .collect();
                check.error(
                    &ypath!("services", name, "image", "repository"),
                    format!("services.{name}.image names repository `{}`, which `repositories` does not declare", r.repository),
                    if known.is_empty() {
                        format!("add `repositories: {{{}: {{}}}}`, or give the image's full URI", r.repository)
                    } else {
                        format!("use one of {}, or declare `{}` under `repositories`", known.join(", "), r.repository)
                    },
                );
            }
            let tag_ok = (1..=128).contains(&r.tag.len())
                && r.tag.chars().enumerate().all(|(i, c)| {
                    c.is_ascii_alphanumeric() || c == '_' || (i > 0 && (c == '.' || c == '-'))
                });
            if !tag_ok {
                check.error(
                    &ypath!("services", name, "image", "tag"),
                    format!("image tag `{}` is not a valid tag", r.tag),
                    "up to 128 letters, digits, `_`, `.` and `-`, not starting with `.` or `-`",
                );
            }
            return;
        }
    };
    if image.trim().is_empty() {
        check.error(
            &path,
            format!("services.{name}.image is empty"),
            format!("set the container image, e.g. `123456789012.dkr.ecr.us-east-1.amazonaws.com/{name}:latest`"),
        );
    } else if image.chars().any(char::is_whitespace) {
        check.error(
            &path,
            format!("services.{name}.image `{image}` contains whitespace"),
            "an image reference is one token such as `repository/name:tag`; remove the spaces",
        );
    }
}

fn check_port(check: &mut Checker, name: &str, service: &Service) {
    if service.port == 0 {
        check.error(
            &ypath!("services", name, "port"),
            format!("services.{name}.port must be between 1 and 65535"),
            "use the port the container listens on, e.g. 3000",
        );
    }
}

fn check_size(check: &mut Checker, name: &str, service: &Service) {
    let Some(memories) = valid_memories(service.cpu) else {
        let cpus: Vec<String> = valid_cpus().iter().map(ToString::to_string).collect();
        check.error(
            &ypath!("services", name, "cpu"),
            format!(
                "services.{name}.cpu {} is not a Fargate cpu size",
                service.cpu
            ),
            format!("use one of {}", cpus.join(", ")),
        );
        return;
    };
    if !memories.contains(&service.memory) {
        let listed: Vec<String> = memories.iter().map(ToString::to_string).collect();
        check.error(
            &ypath!("services", name, "memory"),
            format!(
                "services.{name}.memory {} is not valid with cpu {} on Fargate",
                service.memory, service.cpu
            ),
            format!("with cpu {} use memory {}", service.cpu, listed.join(", ")),
        );
    }
}

fn check_desired_count(check: &mut Checker, name: &str, service: &Service) {
    if service.desired_count > TASKS_MAX {
        check.error(
            &ypath!("services", name, "desired_count"),
            format!(
                "services.{name}.desired_count {} is above {TASKS_MAX}",
                service.desired_count
            ),
            format!("ECS runs at most {TASKS_MAX} tasks per service"),
        );
    }
}

fn check_health_check(check: &mut Checker, name: &str, service: &Service) {
    let Some(health) = &service.health_check else {
        return;
    };
    let path = health.path();
    let at = match health {
        HealthCheck::Path(_) => ypath!("services", name, "health_check").to_vec(),
        HealthCheck::Detailed(_) => ypath!("services", name, "health_check", "path").to_vec(),
    };
    if health.port() == Some(0) {
        check.error(
            &ypath!("services", name, "health_check", "port"),
            format!("services.{name}.health_check.port must be 1 to 65535"),
            format!(
                "give the port the health endpoint listens on, or leave it out to use {}",
                service.port
            ),
        );
    }
    if !path.starts_with('/') {
        check.error(
            &at,
            format!("services.{name}.health_check `{path}` does not start with '/'"),
            format!(
                "write the HTTP path, e.g. `/{}`",
                path.trim_start_matches('/')
            ),
        );
    } else if path.len() > HEALTH_CHECK_PATH_MAX || path.chars().any(char::is_whitespace) {
        check.error(
            &at,
            format!("services.{name}.health_check must be one path of at most {HEALTH_CHECK_PATH_MAX} characters without spaces"),
            "use a short path such as `/health`",
        );
    }
}

fn check_environment(check: &mut Checker, name: &str, service: &Service) {
    let topology = check.topology;
    for key in service.environment.keys() {
        let path = ypath!("services", name, "environment", key);
        if !is_env_name(key) {
            check.error_at_key(
                &path,
                format!("environment variable name `{key}` is invalid"),
                "use letters, digits and '_', not starting with a digit, e.g. `LOG_LEVEL`",
            );
            continue;
        }
        if let Some(callee) = topology
            .services
            .iter()
            .find(|(callee, callee_service)| {
                *callee != name && allows(callee_service, name) && env_var_for(callee) == *key
            })
            .map(|(callee, _)| callee)
        {
            check.error_at_key(
                &path,
                format!("environment variable `{key}` of services.{name} collides with the address ecsform injects for `{callee}`"),
                format!("remove `{key}`: it is set to http://{callee}.{}:<port> automatically because `{name}` may call `{callee}`", topology.discovery.namespace),
            );
            continue;
        }
        if service.secrets.contains_key(key) {
            let line = check.line_of(&ypath!("services", name, "secrets", key));
            check.error_at_key(
                &path,
                format!("`{key}` is both an environment variable and a secret of services.{name}"),
                format!("keep only one: remove it from environment or from secrets (line {line})"),
            );
        }
    }
}

fn check_secrets(check: &mut Checker, name: &str, service: &Service) {
    for (key, source) in &service.secrets {
        let path = ypath!("services", name, "secrets", key);
        if !is_env_name(key) {
            check.error_at_key(
                &path,
                format!("secret name `{key}` is not a valid environment variable name"),
                "use letters, digits and '_', not starting with a digit, e.g. `DB_PASSWORD`",
            );
        }
        if !is_secret_source(source) {
            check.error(
                &path,
                format!("secret `{key}` source `{source}` is neither an SSM parameter name nor an SSM/Secrets Manager ARN"),
                "use a parameter name like `/shop/db/password`, or an `arn:aws:ssm:...` / `arn:aws:secretsmanager:...` ARN",
            );
        }
    }
}

/// ECS accepts an SSM parameter name (same region) or a full SSM / Secrets Manager ARN.
fn is_secret_source(source: &str) -> bool {
    if source.starts_with("arn:") {
        return is_arn_of(source, "ssm") || is_arn_of(source, "secretsmanager");
    }
    !source.is_empty()
        && source
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-/".contains(c))
}

fn check_autoscaling(check: &mut Checker, name: &str, service: &Service, scaling: &Autoscaling) {
    let base = ypath!("services", name, "autoscaling");
    let at = |field: &str| child(&base, field);
    if scaling.max == 0 || scaling.max > TASKS_MAX {
        check.error(
            &at("max"),
            format!("autoscaling.max {} is outside 1..{TASKS_MAX}", scaling.max),
            "choose the largest number of tasks the service may scale to, e.g. 4",
        );
    }
    if scaling.min > scaling.max {
        check.error(
            &at("min"),
            format!(
                "autoscaling.min {} is greater than autoscaling.max {}",
                scaling.min, scaling.max
            ),
            "make min ≤ max, e.g. `{min: 2, max: 4}`",
        );
    } else if !(scaling.min..=scaling.max).contains(&service.desired_count) {
        let path = ypath!("services", name, "desired_count");
        let written = check.written(&path);
        check.error(
            if written { &path[..] } else { &base[..] },
            format!(
                "services.{name}.desired_count {}{} is outside autoscaling's {}..{}",
                service.desired_count,
                if written { "" } else { " (the default)" },
                scaling.min,
                scaling.max
            ),
            format!(
                "set `desired_count: {}` (between min and max)",
                scaling.min.max(1)
            ),
        );
    }
    if let (Some(_), Some(_)) = (scaling.cpu_target, scaling.step) {
        check.error(
            &at("step"),
            "autoscaling has both cpu_target and step".to_string(),
            "choose one: `cpu_target: 70` (target tracking) or `step: {scale_out_above: 70, scale_in_below: 50}`",
        );
    }
    let percent = |check: &mut Checker,
                   path: &[crate::topology::positions::Segment],
                   what: &str,
                   value: u32| {
        if !(1..=100).contains(&value) {
            check.error(
                path,
                format!("autoscaling.{what} {value} is outside 1..100"),
                "it is a CPU utilisation percentage, e.g. 70",
            );
        }
    };
    if let Some(target) = scaling.cpu_target {
        percent(check, &at("cpu_target"), "cpu_target", target);
    }
    if let Some(step) = scaling.step {
        let steps = child(&base, "step");
        let at = |field: &str| child(&steps, field);
        percent(
            check,
            &at("scale_out_above"),
            "step.scale_out_above",
            step.scale_out_above,
        );
        percent(
            check,
            &at("scale_in_below"),
            "step.scale_in_below",
            step.scale_in_below,
        );
        if step.scale_in_below >= step.scale_out_above {
            check.error(
                &at("scale_in_below"),
                format!(
                    "autoscaling.step.scale_in_below {} is not below scale_out_above {}",
                    step.scale_in_below, step.scale_out_above
                ),
                "leave a band between the two, e.g. `{scale_out_above: 70, scale_in_below: 50}`, or the service flaps",
            );
        }
        // CloudWatch: evaluation periods × period (60 s) must not exceed one day.
        // (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html)
        if !(1..=1440).contains(&step.minutes) {
            check.error(
                &at("minutes"),
                format!(
                    "autoscaling.step.minutes {} is outside 1..1440",
                    step.minutes
                ),
                "how long CPU must stay past a threshold before a step, e.g. 5",
            );
        }
    }
}
