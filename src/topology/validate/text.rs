//! Small character-level predicates shared by the rules.

/// Why `name` is not `[a-z][a-z0-9-]{0,max-1}` without a trailing '-', if it is not.
pub(super) fn lowercase_name_problem(name: &str, max_len: usize) -> Option<String> {
    let first = name.chars().next()?;
    if !first.is_ascii_lowercase() {
        return Some("it must start with a lowercase letter".into());
    }
    if name.len() > max_len {
        return Some(format!(
            "it is {} characters long, the limit is {max_len}",
            name.chars().count()
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Some(format!(
            "`{bad}` is not allowed (only lowercase letters, digits and '-')"
        ));
    }
    if name.ends_with('-') {
        return Some("it must not end with '-'".into());
    }
    None
}

/// `[A-Za-z_][A-Za-z0-9_]*`: a portable environment variable name.
pub(super) fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Why `name` is not a DNS name (labels `[a-z0-9-]`, ≤ 63 each, ≤ 253 in total), if it is not.
pub(super) fn dns_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("it is empty".into());
    }
    if name.len() > 253 {
        return Some(format!(
            "it is {} characters long, the limit is 253",
            name.len()
        ));
    }
    name.split('.').find_map(dns_label_problem)
}

fn dns_label_problem(label: &str) -> Option<String> {
    if label.is_empty() {
        return Some("it has an empty label (two dots in a row, or a dot at either end)".into());
    }
    if label.len() > 63 {
        return Some(format!("label `{label}` is longer than 63 characters"));
    }
    if let Some(bad) = label
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Some(format!(
            "`{bad}` is not allowed (labels use lowercase letters, digits and '-')"
        ));
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Some(format!("label `{label}` starts or ends with '-'"));
    }
    None
}

/// `us-east-1`, `us-gov-west-1`, `ap-southeast-2`: letters-…-letters-digits.
pub(super) fn looks_like_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    let Some((last, rest)) = parts.split_last() else {
        return false;
    };
    parts.len() >= 3
        && parts[0].len() == 2
        && rest
            .iter()
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_lowercase()))
        && !last.is_empty()
        && last.chars().all(|c| c.is_ascii_digit())
}

/// Every AWS region, all partitions (botocore 1.43.11's `endpoints.json`, 2026-12). A region
/// missing here would be refused offline, so the list is the one thing to extend when AWS opens
/// a region; a typo such as `us-east-9` is caught before any request instead of after 30 s of
/// failing calls.
pub(super) const AWS_REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "cn-north-1",
    "cn-northwest-1",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-iso-east-1",
    "us-iso-west-1",
    "us-isob-east-1",
    "us-isob-west-1",
    "eu-isoe-west-1",
    "us-isof-east-1",
    "us-isof-south-1",
    "eusc-de-east-1",
];

/// An AWS ARN for `service`, in any partition: `arn:aws:acm:...`, `arn:aws-cn:acm:...`.
pub(super) fn is_arn_of(value: &str, service: &str) -> bool {
    let mut parts = value.splitn(4, ':');
    parts.next() == Some("arn")
        && parts
            .next()
            .is_some_and(|partition| partition.starts_with("aws"))
        && parts.next() == Some(service)
        && parts.next().is_some_and(|rest| !rest.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions() {
        for good in [
            "us-east-1",
            "eu-central-1",
            "us-gov-west-1",
            "ap-southeast-2",
        ] {
            assert!(looks_like_region(good), "{good}");
        }
        for bad in [
            "us-east",
            "US-EAST-1",
            "useast1",
            "us-east-1a",
            "",
            "u-east-1",
        ] {
            assert!(!looks_like_region(bad), "{bad}");
        }
    }

    #[test]
    fn arns() {
        assert!(is_arn_of("arn:aws:acm:us-east-1:1:certificate/x", "acm"));
        assert!(is_arn_of("arn:aws-cn:ssm:cn-north-1:1:parameter/x", "ssm"));
        assert!(!is_arn_of("arn:aws:iam::1:role/x", "acm"));
        assert!(!is_arn_of("acm:cert", "acm"));
        assert!(!is_arn_of("arn:aws:acm:", "acm"));
    }

    #[test]
    fn dns_names() {
        assert_eq!(dns_name_problem("internal"), None);
        assert_eq!(dns_name_problem("shop.local"), None);
        assert!(dns_name_problem("Shop").is_some());
        assert!(dns_name_problem("a..b").is_some());
        assert!(dns_name_problem(&"a".repeat(64)).is_some());
        assert!(dns_name_problem("-a").is_some());
    }

    #[test]
    fn env_names() {
        assert!(is_env_name("LOG_LEVEL"));
        assert!(is_env_name("_x1"));
        assert!(!is_env_name("1X"));
        assert!(!is_env_name("A-B"));
        assert!(!is_env_name(""));
    }
}
