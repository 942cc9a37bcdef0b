//! `databases`: identifiers, classes, storage and versions by RDS's rules
//! (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html), and
//! callers that are services of the file.

use crate::topology::checker::Checker;
use crate::topology::naming::{backticked, closest};
use crate::topology::positions::ypath;

/// General Purpose SSD storage for MySQL and PostgreSQL: 20 to 65,536 GiB
/// (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Storage.html).
const STORAGE_GB: std::ops::RangeInclusive<u32> = 20..=65_536;

pub(super) fn check(check: &mut Checker) {
    let t = check.topology;
    for (key, db) in &t.databases {
        let identifier = crate::names::database(&t.name, key);
        if let Some(problem) = identifier_problem(&identifier) {
            check.error_at_key(
                &ypath!("databases", key.as_str()),
                format!("database `{key}` makes the RDS identifier `{identifier}`, which {problem}"),
                "use lowercase letters, digits and single hyphens, starting with a letter (63 characters at most with the stack name)",
            );
        }
        if t.services.contains_key(key) {
            check.error_at_key(
                &ypath!("databases", key.as_str()),
                format!("database `{key}` has the name of a service"),
                "give the database its own name, e.g. `{key}-db`",
            );
        }
        if !is_instance_class(&db.instance_class) {
            check.error(
                &ypath!("databases", key.as_str(), "instance_class"),
                format!(
                    "instance_class `{}` is not an RDS instance class",
                    db.instance_class
                ),
                "use `db.<family>.<size>`, e.g. db.t3.micro or db.m6g.large",
            );
        }
        if !STORAGE_GB.contains(&db.storage_gb) {
            check.error(
                &ypath!("databases", key.as_str(), "storage_gb"),
                format!(
                    "storage_gb {} is outside RDS's {}..{} GiB",
                    db.storage_gb,
                    STORAGE_GB.start(),
                    STORAGE_GB.end()
                ),
                "e.g. 20",
            );
        }
        if let Some(v) = &db.version {
            if !is_version(v) {
                check.error(
                    &ypath!("databases", key.as_str(), "version"),
                    format!("version `{v}` is not an engine version"),
                    format!(
                        "use digits and dots, e.g. {} (`aws rds describe-db-engine-versions --engine {}`)",
                        match db.engine {
                            crate::topology::DatabaseEngine::Mysql => "\"8.0\"",
                            crate::topology::DatabaseEngine::Postgres => "\"16\"",
                        },
                        db.engine.as_str()
                    ),
                );
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for (index, caller) in db.allowed_callers.iter().enumerate() {
            let path = ypath!("databases", key.as_str(), "allowed_callers", index);
            if !seen.insert(caller) {
                check.error(
                    &path,
                    format!("`{caller}` is listed twice in databases.{key}.allowed_callers"),
                    "remove this entry",
                );
            } else if !t.services.contains_key(caller) {
                let hint = match closest(caller, t.services.keys().map(String::as_str)) {
                    Some(near) => format!("did you mean `{near}`?"),
                    None => format!(
                        "a database's callers are services of this file: {}",
                        backticked(t.services.keys())
                    ),
                };
                check.error(
                    &path,
                    format!(
                        "databases.{key}.allowed_callers lists `{caller}`, which is not a service"
                    ),
                    hint,
                );
            }
        }
    }
}

/// What is wrong with an RDS instance identifier, if anything.
fn identifier_problem(id: &str) -> Option<&'static str> {
    if id.len() > 63 {
        Some("is longer than RDS's 63 characters")
    } else if !id.starts_with(|c: char| c.is_ascii_lowercase()) {
        Some("does not start with a letter")
    } else if !id
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        Some("holds characters other than lowercase letters, digits and hyphens")
    } else if id.contains("--") || id.ends_with('-') {
        Some("has two hyphens in a row or ends with one")
    } else {
        None
    }
}

fn is_instance_class(class: &str) -> bool {
    let parts: Vec<&str> = class.split('.').collect();
    matches!(parts.as_slice(), ["db", family, size]
        if !family.is_empty() && !size.is_empty()
            && family.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && size.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
}

fn is_version(v: &str) -> bool {
    let parts: Vec<&str> = v.split('.').collect();
    (1..=4).contains(&parts.len())
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rds_names_classes_and_versions() {
        assert_eq!(identifier_problem("campus-school-db"), None);
        assert!(identifier_problem("campus--db").is_some());
        assert!(identifier_problem("1db").is_some());
        assert!(identifier_problem(&"a".repeat(64)).is_some());
        assert!(is_instance_class("db.t3.micro"));
        assert!(is_instance_class("db.m6gd.2xlarge"));
        assert!(!is_instance_class("t3.micro"));
        assert!(!is_instance_class("db.t3"));
        assert!(is_version("8.0") && is_version("16") && is_version("8.0.39"));
        assert!(!is_version("8.x") && !is_version(""));
    }
}
