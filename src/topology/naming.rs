//! Names derived from the topology, plus small string helpers shared by the checks.

/// ELB target group (and load balancer) names: at most 32 characters.
const ELB_NAME_MAX: usize = 32;
const HASH_HEX_LEN: usize = 6;

/// Target group name for a service: `<stack>-<service>` when it fits AWS's 32-character limit,
/// else a prefix, `-` and 6 hex characters of a stable hash of the full name, so distinct long
/// names stay distinct and the result never changes between runs.
pub fn derived_target_group_name(stack: &str, service: &str) -> String {
    let full = sanitize_elb_name(&format!("{stack}-{service}"));
    if full.len() <= ELB_NAME_MAX && !full.is_empty() {
        return full;
    }
    let hash = fnv1a_32(format!("{stack}-{service}").as_bytes()) & 0x00ff_ffff;
    let suffix = format!("{hash:0width$x}", width = HASH_HEX_LEN);
    let prefix_len = ELB_NAME_MAX - HASH_HEX_LEN - 1;
    let prefix = full[..full.len().min(prefix_len)].trim_end_matches('-');
    if prefix.is_empty() {
        suffix
    } else {
        format!("{prefix}-{suffix}")
    }
}

/// ELB names allow only `[A-Za-z0-9-]` and no hyphen at either end.
fn sanitize_elb_name(raw: &str) -> String {
    let replaced: String = raw
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    replaced.trim_matches('-').to_string()
}

/// 32-bit FNV-1a: tiny, stable across platforms and Rust versions (unlike `DefaultHasher`).
pub fn fnv1a_32(bytes: &[u8]) -> u32 {
    const OFFSET_BASIS: u32 = 0x811c_9dc5;
    const PRIME: u32 = 0x0100_0193;
    bytes.iter().fold(OFFSET_BASIS, |hash, byte| {
        (hash ^ u32::from(*byte)).wrapping_mul(PRIME)
    })
}

/// The environment variable a caller gets for a callee: `user-service` → `USER_SERVICE_URL`.
pub fn env_var_for(service: &str) -> String {
    format!("{}_URL", env_stem(service))
}

/// A name as the stem of environment variables: `school-db` → `SCHOOL_DB`.
pub fn env_stem(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// Levenshtein distance over chars; inputs here are short names.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = Vec::with_capacity(b.len() + 1);
        current.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            let deletion = previous[j + 1] + 1;
            let insertion = current[j] + 1;
            current.push(substitution.min(deletion).min(insertion));
        }
        previous = current;
    }
    previous[b.len()]
}

/// The closest candidate, if it is close enough to be a plausible typo.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|candidate| (edit_distance(word, candidate), candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// Joins items as "`a`, `b`, `c`" for messages.
pub fn backticked<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> String {
    items
        .into_iter()
        .map(|item| format!("`{}`", item.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_group_name_is_plain_when_it_fits() {
        assert_eq!(
            derived_target_group_name("shop", "api-gateway"),
            "shop-api-gateway"
        );
        let exactly_32 = format!("{}-{}", "a".repeat(15), "b".repeat(16));
        assert_eq!(exactly_32.len(), 32);
        assert_eq!(
            derived_target_group_name(&"a".repeat(15), &"b".repeat(16)),
            exactly_32
        );
    }

    #[test]
    fn target_group_name_is_shortened_with_a_hash() {
        let name = derived_target_group_name("payments", "payments-reconciliation-worker-eu");
        assert_eq!(name.len(), 32);
        assert!(name.starts_with("payments-payments-reconci"));
        let suffix = &name[name.len() - 6..];
        assert!(suffix.chars().all(|c| c.is_ascii_hexdigit()), "{name}");
        assert_eq!(&name[name.len() - 7..name.len() - 6], "-");
    }

    #[test]
    fn target_group_name_is_deterministic_and_distinguishes_long_names() {
        let stack = "a-twenty-char-stack1";
        let service = "x".repeat(63);
        let first = derived_target_group_name(stack, &service);
        assert_eq!(first, derived_target_group_name(stack, &service));
        let other = derived_target_group_name(stack, &format!("{}y", "x".repeat(62)));
        assert_ne!(first, other);
        // Pinned values: a change here renames live target groups, so it must be deliberate.
        assert_eq!(first, "a-twenty-char-stack1-xxxx-7b6bf2");
        assert_eq!(
            derived_target_group_name("payments", "payments-reconciliation-worker-eu"),
            "payments-payments-reconci-fc62e6"
        );
    }

    #[test]
    fn target_group_name_charset_and_edges() {
        let long_service = "x".repeat(63);
        let cases = [
            ("s", "a"),
            ("shop", long_service.as_str()),
            ("a-b-c-d-e-f-g-h-i-j", "k-l-m-n-o-p-q-r-s-t-u-v-w-x-y-z"),
            ("stack", "svc-with-hyphen-at-position-twenty-five"),
            ("weird_stack", "under_score.and.dots"),
            ("", "-"),
        ];
        for (stack, service) in cases {
            let name = derived_target_group_name(stack, service);
            assert!(name.len() <= 32, "{name}");
            assert!(!name.is_empty(), "{stack}/{service}");
            assert!(
                name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
                "{name}"
            );
            assert!(!name.starts_with('-') && !name.ends_with('-'), "{name}");
        }
    }

    #[test]
    fn fnv1a_matches_reference_vectors() {
        assert_eq!(fnv1a_32(b""), 0x811c_9dc5);
        assert_eq!(fnv1a_32(b"a"), 0xe40c_292c);
        assert_eq!(fnv1a_32(b"foobar"), 0xbf9c_f968);
    }

    #[test]
    fn env_var_names() {
        assert_eq!(env_var_for("user-service"), "USER_SERVICE_URL");
        assert_eq!(env_var_for("api"), "API_URL");
        assert_eq!(env_var_for("svc-2"), "SVC_2_URL");
    }

    #[test]
    fn edit_distance_and_closest() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(
            closest("user-servce", ["user-service", "order-service"]),
            Some("user-service")
        );
        assert_eq!(
            closest("load-balancer", ["load_balancer", "api_gateway"]),
            Some("load_balancer")
        );
        assert_eq!(closest("zzz", ["user-service"]), None);
    }
}
