//! Table tests for every rule: each asserts the message, the hint and the line:column.

use super::*;

const FILE: &str = "topology.yaml";

fn parse(lines: &[&str]) -> Result<Loaded, Diagnostics> {
    parse_str(&lines.join("\n"), FILE)
}

fn errors(lines: &[&str]) -> Vec<Diagnostic> {
    match parse(lines) {
        Ok(_) => Vec::new(),
        Err(Diagnostics(found)) => found,
    }
}

fn warnings(lines: &[&str]) -> Vec<Diagnostic> {
    match parse(lines) {
        Ok(loaded) => loaded.warnings,
        Err(found) => panic!("expected a valid file, got:\n{found}"),
    }
}

/// Asserts that a finding whose message contains `message` is at `at` and its hint contains `hint`.
fn assert_finding(found: &[Diagnostic], at: (usize, usize), message: &str, hint: &str) {
    let Some(finding) = found.iter().find(|d| d.message.contains(message)) else {
        let listing: Vec<String> = found.iter().map(ToString::to_string).collect();
        panic!(
            "no finding with {message:?}; found:\n{}",
            listing.join("\n")
        );
    };
    assert_eq!((finding.line, finding.column), at, "position of: {finding}");
    assert!(
        finding.hint.contains(hint),
        "hint of: {finding}\nexpected to contain {hint:?}"
    );
}

fn expect_error(lines: &[&str], at: (usize, usize), message: &str, hint: &str) {
    let found = errors(lines);
    assert!(found.iter().all(Diagnostic::is_error));
    assert_finding(&found, at, message, hint);
}

fn expect_warning(lines: &[&str], at: (usize, usize), message: &str, hint: &str) {
    let found = warnings(lines);
    assert!(found.iter().all(|d| d.severity == Severity::Warning));
    assert_finding(&found, at, message, hint);
}

/// A minimal valid service block starting at line 3 (`services:`), `api` at line 4.
const API: [&str; 6] = [
    "services:",
    "  api:",
    "    image: x",
    "    port: 3000",
    "    desired_count: 2",
    "    allowed_callers: [web]",
];
const WEB: [&str; 4] = [
    "  web:",
    "    image: y",
    "    port: 3001",
    "    desired_count: 2",
];

fn network_doc(network: &'static str) -> Vec<&'static str> {
    let mut lines = vec!["name: shop", network];
    lines.extend(API);
    lines.extend(WEB);
    lines
}

// ---------------------------------------------------------------- the happy path

#[test]
fn the_seed_example_is_valid_without_warnings() {
    let src = include_str!("../../tests/corpus/valid/00_seed_shop.yaml");
    let loaded = parse_str(src, FILE).unwrap_or_else(|e| panic!("{e}"));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert_eq!(loaded.topology.services.len(), 5);
}

#[test]
fn a_minimal_valid_file_has_no_errors() {
    let lines = network_doc("network: {cidr: 10.0.0.0/16}");
    assert!(errors(&lines).is_empty(), "{:?}", errors(&lines));
}

// ---------------------------------------------------------------- stack

#[test]
fn stack_name_rules() {
    let cases = [
        (
            "name: Shop",
            "invalid stack name `Shop`",
            "must start with a lowercase letter",
        ),
        ("name: a-very-long-stack-name", "the limit is 20", ""),
        ("name: shop-", "must not end with '-'", ""),
        ("name: sh--op", "must not contain \"--\"", ""),
        ("name: sh_op", "`_` is not allowed", ""),
        ("name: ''", "it is empty", ""),
    ];
    for (name_line, message, detail) in cases {
        let mut lines = vec![name_line, "network: {cidr: 10.0.0.0/16}"];
        lines.extend(API);
        lines.extend(WEB);
        expect_error(
            &lines,
            (1, 7),
            message,
            "lowercase letters, digits and single '-'",
        );
        assert!(errors(&lines)[0].message.contains(detail));
    }
}

#[test]
fn region_must_look_like_an_aws_region() {
    let mut lines = vec![
        "name: shop",
        "region: useast1",
        "network: {cidr: 10.0.0.0/16}",
    ];
    lines.extend(API);
    lines.extend(WEB);
    expect_error(
        &lines,
        (2, 9),
        "`useast1` is not an AWS region name",
        "like `us-east-1`",
    );
}

#[test]
fn region_must_exist() {
    let mut lines = vec![
        "name: shop",
        "region: us-east-9",
        "network: {cidr: 10.0.0.0/16}",
    ];
    lines.extend(API);
    lines.extend(WEB);
    expect_error(
        &lines,
        (2, 9),
        "`us-east-9` is not an AWS region",
        "regions there: us-east-1, us-east-2",
    );
}

// ---------------------------------------------------------------- network

#[test]
fn vpc_cidr_rules() {
    let cases = [
        (
            "network: {cidr: 10.0.0.0}",
            "is not an IPv4 CIDR block",
            "`10.0.0.0/16`",
        ),
        (
            "network: {cidr: 10.0.0.1/16}",
            "has host bits set",
            "did you mean `10.0.0.0/16`?",
        ),
        (
            "network: {cidr: 10.0.0.0/8}",
            "/8 is outside /16../24",
            "at most /16",
        ),
        (
            "network: {cidr: 10.0.0.0/26}",
            "/26 is outside /16../24",
            "at least a /24",
        ),
    ];
    for (network, message, hint) in cases {
        expect_error(&network_doc(network), (2, 17), message, hint);
    }
}

#[test]
fn availability_zone_count_rules() {
    expect_error(
        &network_doc("network: {cidr: 10.0.0.0/16, availability_zones: 0}"),
        (2, 50),
        "availability_zones: 0 is outside 1..6",
        "use 2 or 3",
    );
    expect_error(
        &network_doc("network: {cidr: 10.0.0.0/16, availability_zones: 7}"),
        (2, 50),
        "availability_zones: 7 is outside 1..6",
        "",
    );
}

#[test]
fn availability_zone_name_rules() {
    expect_error(
        &network_doc("network: {cidr: 10.0.0.0/16, availability_zones: []}"),
        (2, 50),
        "availability_zones is an empty list",
        "list at least one zone",
    );
    expect_error(
        &network_doc("network: {cidr: 10.0.0.0/16, availability_zones: [eu-west-1a, eu-west-1a]}"),
        (2, 63),
        "availability zone `eu-west-1a` is listed twice",
        "first at line 2",
    );
    let mut lines = vec![
        "name: shop",
        "region: us-east-1",
        "network: {cidr: 10.0.0.0/16, availability_zones: [us-east-1a, eu-west-1b]}",
    ];
    lines.extend(API);
    lines.extend(WEB);
    expect_error(
        &lines,
        (3, 63),
        "availability zone `eu-west-1b` is not in region `us-east-1`",
        "e.g. `us-east-1a`",
    );
}

#[test]
fn load_balancer_needs_two_zones() {
    let lines = [
        "name: shop",
        "network: {cidr: 10.0.0.0/16, availability_zones: 1}",
        "load_balancer:",
        "  listeners: [{port: 80, protocol: HTTP}]",
        "  routes: [{path: /*, service: api}]",
        "services:",
        "  api: {image: x, port: 1, desired_count: 2, health_check: /h, allowed_callers: [load_balancer]}",
    ];
    expect_error(
        &lines,
        (2, 50),
        "the load balancer needs at least 2 availability zones, the network has 1",
        "`availability_zones: 2`",
    );
}

#[test]
fn nat_gateway_count_above_one_is_rejected() {
    expect_error(
        &network_doc("network: {cidr: 10.0.0.0/16, nat_gateways: 2}"),
        (2, 44),
        "nat_gateways: 2 is not supported",
        "`per_az`",
    );
}

#[test]
fn explicit_subnet_rules() {
    let both = |public: &'static str, private: &'static str| {
        let mut lines = vec![
            "name: shop",
            "network:",
            "  cidr: 10.0.0.0/16",
            public,
            private,
        ];
        lines.extend(API);
        lines.extend(WEB);
        lines
    };
    expect_error(
        &both(
            "  public_subnets: [10.0.1.0/24, 10.0.2.0/24]",
            "  nat_gateways: 1",
        ),
        (4, 3),
        "network.public_subnets is given without network.private_subnets",
        "add `private_subnets` too",
    );
    expect_error(
        &both(
            "  public_subnets: [10.0.1.0/24]",
            "  private_subnets: [10.0.11.0/24, 10.0.12.0/24]",
        ),
        (4, 19),
        "network.public_subnets has 1 entries but the network spans 2 availability zones",
        "exactly one subnet per zone (2)",
    );
    expect_error(
        &both(
            "  public_subnets: [10.1.1.0/24, 10.0.2.0/24]",
            "  private_subnets: [10.0.11.0/24, 10.0.12.0/24]",
        ),
        (4, 20),
        "subnet `10.1.1.0/24` is not inside network.cidr `10.0.0.0/16`",
        "e.g. `10.0.1.0/24`",
    );
    expect_error(
        &both(
            "  public_subnets: [10.0.1.0/24, 10.0.2.0/24]",
            "  private_subnets: [10.0.1.128/25, 10.0.12.0/24]",
        ),
        (5, 21),
        "subnet `10.0.1.128/25` overlaps subnet `10.0.1.0/24` (line 4)",
        "do not overlap",
    );
    expect_error(
        &both(
            "  public_subnets: [10.0.1.0/24, nope]",
            "  private_subnets: [10.0.11.0/24, 10.0.12.0/24]",
        ),
        (4, 33),
        "subnet `nope` is not an IPv4 CIDR block",
        "`10.0.1.0/24`",
    );
    expect_error(
        &both(
            "  public_subnets: [10.0.1.5/24, 10.0.2.0/24]",
            "  private_subnets: [10.0.11.0/24, 10.0.12.0/30]",
        ),
        (4, 20),
        "subnet `10.0.1.5/24` has host bits set",
        "`10.0.1.0/24`",
    );
    expect_error(
        &both(
            "  public_subnets: [10.0.1.0/24, 10.0.2.0/24]",
            "  private_subnets: [10.0.11.0/24, 10.0.12.0/30]",
        ),
        (5, 35),
        "smaller than /28",
        "/24",
    );
}

// ---------------------------------------------------------------- discovery

#[test]
fn discovery_rules() {
    let doc = |discovery: &'static str| {
        let mut lines = vec!["name: shop", "network: {cidr: 10.0.0.0/16}", discovery];
        lines.extend(API);
        lines.extend(WEB);
        lines
    };
    expect_error(
        &doc("discovery: {namespace: Internal}"),
        (3, 24),
        "discovery.namespace `Internal` is not a valid DNS name",
        "e.g. `internal`",
    );
    expect_error(
        &doc("discovery: {namespace: a..b}"),
        (3, 24),
        "empty label",
        "",
    );
    expect_error(
        &doc("discovery: {namespace: internal, ttl: 90000}"),
        (3, 39),
        "discovery.ttl 90000 is above 86400",
        "such as 10",
    );
}

// ---------------------------------------------------------------- services

#[test]
fn at_least_one_service() {
    expect_error(
        &["name: shop", "network: {cidr: 10.0.0.0/16}", "services: {}"],
        (3, 1),
        "no services are declared",
        "add at least one service",
    );
}

#[test]
fn renamed_from_names_a_service_no_longer_in_the_file_once() {
    let hint = "a service no longer in the file";
    expect_error(
        &service_doc(&[
            "  api: {image: x, port: 1, desired_count: 2}",
            "  web: {image: x, port: 2, desired_count: 2, renamed_from: api}",
        ]),
        (5, 60),
        "`api` is still a service in this file",
        hint,
    );
    expect_error(
        &service_doc(&[
            "  api: {image: x, port: 1, desired_count: 2, renamed_from: old}",
            "  web: {image: x, port: 2, desired_count: 2, renamed_from: old}",
        ]),
        (4, 60),
        "another service is also renamed from `old`",
        hint,
    );
    expect_error(
        &service_doc(&["  api: {image: x, port: 1, desired_count: 2, renamed_from: Old}"]),
        (4, 60),
        "invalid renamed_from `Old` of service `api`",
        hint,
    );
}

fn service_doc(service_lines: &[&'static str]) -> Vec<&'static str> {
    let mut lines = vec!["name: shop", "network: {cidr: 10.0.0.0/16}", "services:"];
    lines.extend(service_lines);
    lines
}

#[test]
fn service_name_rules() {
    for (line, message) in [
        ("  Api: {image: x, port: 1}", "invalid service name `Api`"),
        ("  api-: {image: x, port: 1}", "must not end with '-'"),
        ("  api.v2: {image: x, port: 1}", "`.` is not allowed"),
        (
            "  aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: {image: x, port: 1}",
            "the limit is 63",
        ),
    ] {
        expect_error(&service_doc(&[line]), (4, 3), message, "one DNS label");
    }
}

#[test]
fn image_rules() {
    expect_error(
        &service_doc(&["  api: {image: '', port: 1}"]),
        (4, 16),
        "services.api.image is empty",
        "dkr.ecr",
    );
    expect_error(
        &service_doc(&["  api: {image: my image, port: 1}"]),
        (4, 16),
        "contains whitespace",
        "remove the spaces",
    );
}

#[test]
fn port_zero_is_rejected() {
    expect_error(
        &service_doc(&["  api: {image: x, port: 0}"]),
        (4, 25),
        "services.api.port must be between 1 and 65535",
        "e.g. 3000",
    );
}

#[test]
fn fargate_size_rules() {
    expect_error(
        &service_doc(&["  api: {image: x, port: 1, cpu: 300}"]),
        (4, 33),
        "services.api.cpu 300 is not a Fargate cpu size",
        "256, 512, 1024, 2048, 4096, 8192, 16384",
    );
    expect_error(
        &service_doc(&["  api: {image: x, port: 1, cpu: 256, memory: 4096}"]),
        (4, 46),
        "services.api.memory 4096 is not valid with cpu 256",
        "with cpu 256 use memory 512, 1024, 2048",
    );
    expect_error(
        &service_doc(&["  api: {image: x, port: 1, cpu: 8192, memory: 18432}"]),
        (4, 47),
        "memory 18432 is not valid with cpu 8192",
        "16384, 20480, 24576",
    );
    // Every documented pair is accepted.
    let pairs = [
        (256, 2048),
        (512, 3072),
        (1024, 8192),
        (2048, 16384),
        (4096, 30720),
        (8192, 61440),
        (16384, 122880),
    ];
    for (cpu, memory) in pairs {
        let line = format!(
            "  api: {{image: x, port: 1, cpu: {cpu}, memory: {memory}, allowed_callers: [b]}}"
        );
        let src = format!("name: shop\nnetwork: {{cidr: 10.0.0.0/16}}\nservices:\n{line}\n  b: {{image: x, port: 2}}\n");
        assert!(parse_str(&src, FILE).is_ok(), "{cpu}/{memory}");
    }
}

#[test]
fn desired_count_limit() {
    expect_error(
        &service_doc(&["  api: {image: x, port: 1, desired_count: 1001}"]),
        (4, 43),
        "services.api.desired_count 1001 is above 1000",
        "at most 1000 tasks",
    );
}

#[test]
fn health_check_rules() {
    expect_error(
        &service_doc(&["  api: {image: x, port: 1, health_check: health}"]),
        (4, 42),
        "services.api.health_check `health` does not start with '/'",
        "`/health`",
    );
    let long = format!(
        "name: shop\nnetwork: {{cidr: 10.0.0.0/16}}\nservices:\n  api: {{image: x, port: 1, health_check: /{}}}\n",
        "a".repeat(1024)
    );
    let found = parse_str(&long, FILE)
        .err()
        .map(|d| d.0)
        .unwrap_or_default();
    assert_finding(&found, (4, 42), "at most 1024 characters", "`/health`");
    // The mapping form: its path is checked where it is, its port must be a port.
    expect_error(
        &service_doc(&["  api: {image: x, port: 1, health_check: {path: up, port: 8081}}"]),
        (4, 49),
        "services.api.health_check `up` does not start with '/'",
        "`/up`",
    );
    expect_error(
        &service_doc(&["  api: {image: x, port: 1, health_check: {path: /up, port: 0}}"]),
        (4, 60),
        "services.api.health_check.port must be 1 to 65535",
        "leave it out to use 1",
    );
    // Neither form: the error points at the field and shows both.
    expect_error(
        &service_doc(&["  api: {image: x, port: 1, health_check: {path: /up, prot: 81}}"]),
        (4, 42),
        "services.api.health_check must be a path, or a mapping with `path` and an optional `port`",
        "`health_check: {path: /actuator/health, port: 8081}`",
    );
    expect_error(
        &service_doc(&["  api: {image: {repo: x}, port: 1}"]),
        (4, 16),
        "services.api.image must be an image URI, or a mapping with `repository`",
        "`image: {repository: <key of repositories>",
    );
}

#[test]
fn environment_rules() {
    expect_error(
        &service_doc(&["  api: {image: x, port: 1, environment: {1BAD: x}}"]),
        (4, 42),
        "environment variable name `1BAD` is invalid",
        "e.g. `LOG_LEVEL`",
    );
    expect_error(
        &service_doc(&[
            "  api:",
            "    image: x",
            "    port: 1",
            "    environment:",
            "      USERS_URL: http://elsewhere",
            "  users: {image: y, port: 2, allowed_callers: [api]}",
        ]),
        (8, 7),
        "environment variable `USERS_URL` of services.api collides with the address ecsform injects for `users`",
        "set to http://users.internal:<port> automatically",
    );
    expect_error(
        &service_doc(&[
            "  api:",
            "    image: x",
            "    port: 1",
            "    environment: {DB_PASSWORD: x}",
            "    secrets:",
            "      DB_PASSWORD: /shop/db",
        ]),
        (7, 19),
        "`DB_PASSWORD` is both an environment variable and a secret of services.api",
        "(line 9)",
    );
}

#[test]
fn secret_rules() {
    expect_error(
        &service_doc(&["  api: {image: x, port: 1, secrets: {DB: not a name}}"]),
        (4, 42),
        "secret `DB` source `not a name` is neither an SSM parameter name nor an SSM/Secrets Manager ARN",
        "`/shop/db/password`",
    );
    expect_error(
        &service_doc(&["  api: {image: x, port: 1, secrets: {DB: 'arn:aws:iam::1:role/x'}}"]),
        (4, 42),
        "source `arn:aws:iam::1:role/x`",
        "arn:aws:secretsmanager:",
    );
    expect_error(
        &service_doc(&["  api: {image: x, port: 1, secrets: {db-pass: /x}}"]),
        (4, 38),
        "secret name `db-pass` is not a valid environment variable name",
        "`DB_PASSWORD`",
    );
    let valid = service_doc(&[
        "  api:",
        "    image: x",
        "    port: 1",
        "    allowed_callers: [b]",
        "    secrets:",
        "      A: /shop/db/password",
        "      B: plain.name-1",
        "      C: arn:aws:ssm:us-east-1:123456789012:parameter/x",
        "      D: arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbCdEf",
        "  b: {image: y, port: 2}",
    ]);
    assert!(errors(&valid).is_empty(), "{:?}", errors(&valid));
}

#[test]
fn autoscaling_rules() {
    let doc = |scaling: &'static str| {
        service_doc(&[
            "  api:",
            "    image: x",
            "    port: 1",
            "    desired_count: 2",
            scaling,
        ])
    };
    expect_error(
        &doc("    autoscaling: {min: 5, max: 4}"),
        (8, 24),
        "autoscaling.min 5 is greater than autoscaling.max 4",
        "min ≤ max",
    );
    expect_error(
        &doc("    autoscaling: {min: 0, max: 0}"),
        (8, 32),
        "autoscaling.max 0 is outside 1..1000",
        "e.g. 4",
    );
    expect_error(
        &doc("    autoscaling: {min: 1, max: 1001}"),
        (8, 32),
        "autoscaling.max 1001 is outside 1..1000",
        "",
    );
    expect_error(
        &doc("    autoscaling: {min: 3, max: 4}"),
        (7, 20),
        "services.api.desired_count 2 is outside autoscaling's 3..4",
        "`desired_count: 3`",
    );
    expect_error(
        &doc("    autoscaling: {min: 1, max: 4, cpu_target: 0}"),
        (8, 47),
        "autoscaling.cpu_target 0 is outside 1..100",
        "percentage",
    );
    expect_error(
        &doc("    autoscaling: {min: 1, max: 4, cpu_target: 101}"),
        (8, 47),
        "cpu_target 101",
        "",
    );
    // The default desired_count (1) is reported at the autoscaling block.
    expect_error(
        &service_doc(&[
            "  api:",
            "    image: x",
            "    port: 1",
            "    autoscaling: {min: 2, max: 4}",
        ]),
        (7, 18),
        "desired_count 1 (the default) is outside autoscaling's 2..4",
        "`desired_count: 2`",
    );
}

#[test]
fn step_scaling_rules() {
    let doc = |scaling: &'static str| {
        service_doc(&[
            "  api:",
            "    image: x",
            "    port: 1",
            "    desired_count: 2",
            scaling,
        ])
    };
    expect_error(
        &doc("    autoscaling: {min: 2, max: 4, cpu_target: 70, step: {scale_out_above: 70, scale_in_below: 50}}"),
        (8, 57),
        "autoscaling has both cpu_target and step",
        "choose one",
    );
    expect_error(
        &doc("    autoscaling: {min: 2, max: 4, step: {scale_out_above: 50, scale_in_below: 50}}"),
        (8, 79),
        "scale_in_below 50 is not below scale_out_above 50",
        "flaps",
    );
    expect_error(
        &doc("    autoscaling: {min: 2, max: 4, step: {scale_out_above: 170, scale_in_below: 50}}"),
        (8, 59),
        "autoscaling.step.scale_out_above 170 is outside 1..100",
        "percentage",
    );
    expect_error(
        &doc("    autoscaling: {min: 2, max: 4, step: {scale_out_above: 70, scale_in_below: 50, minutes: 0}}"),
        (8, 92),
        "autoscaling.step.minutes 0 is outside 1..1440",
        "",
    );
    assert!(errors(&doc(
        "    autoscaling: {min: 2, max: 4, step: {scale_out_above: 70, scale_in_below: 50}}"
    ))
    .is_empty());
}

#[test]
fn alarms_notify_a_topic() {
    let mut lines = service_doc(&["  api: {image: x, port: 1, desired_count: 2}"]);
    lines.insert(2, "alarms: {notify: ops@example.com}");
    expect_error(
        &lines,
        (3, 18),
        "alarms.notify `ops@example.com` is not an SNS topic ARN",
        "arn:aws:sns:",
    );
    lines[2] = "alarms: {notify: arn:aws:sns:us-east-1:123456789012:ops}";
    assert!(errors(&lines).is_empty(), "{:?}", errors(&lines));
}

// ---------------------------------------------------------------- allowed_callers

#[test]
fn caller_rules() {
    expect_error(
        &service_doc(&[
            "  api: {image: x, port: 1, allowed_callers: [webb]}",
            "  web: {image: x, port: 2}",
        ]),
        (4, 46),
        "unknown caller `webb` in services.api.allowed_callers",
        "did you mean `web`?",
    );
    expect_error(
        &service_doc(&[
            "  api: {image: x, port: 1, allowed_callers: [zzzzzz]}",
            "  web: {image: x, port: 2}",
        ]),
        (4, 46),
        "unknown caller `zzzzzz`",
        "`web`, `load_balancer`, `api_gateway`",
    );
    expect_error(
        &service_doc(&[
            "  api: {image: x, port: 1, allowed_callers: [web, web]}",
            "  web: {image: x, port: 2}",
        ]),
        (4, 51),
        "`web` is listed twice in services.api.allowed_callers",
        "first at line 4",
    );
    expect_error(
        &service_doc(&["  api: {image: x, port: 1, allowed_callers: [api]}"]),
        (4, 46),
        "service `api` lists itself in allowed_callers",
        "a service always reaches itself locally",
    );
    expect_error(
        &service_doc(&["  api: {image: x, port: 1, allowed_callers: [load_balancer]}"]),
        (4, 46),
        "lists `load_balancer` but the file has no `load_balancer` section",
        "add a load_balancer section",
    );
    expect_error(
        &service_doc(&["  api: {image: x, port: 1, allowed_callers: [api_gateway]}"]),
        (4, 46),
        "lists `api_gateway` but the file has no `api_gateway` section",
        "add an api_gateway section",
    );
}

fn alb_doc(
    listeners: &[&'static str],
    routes: &[&'static str],
    services: &[&'static str],
) -> Vec<&'static str> {
    let mut lines = vec![
        "name: shop",
        "network: {cidr: 10.0.0.0/16}",
        "load_balancer:",
        "  listeners:",
    ];
    lines.extend(listeners);
    lines.push("  routes:");
    lines.extend(routes);
    lines.push("services:");
    lines.extend(services);
    lines
}

const HTTPS: &str =
    "    - {port: 443, protocol: HTTPS, certificate_arn: 'arn:aws:acm:us-east-1:1:certificate/a'}";
const REDIRECT: &str = "    - {port: 80, protocol: HTTP, redirect_to: 443}";
const ROUTE_API: &str = "    - {path: /*, service: api}";
const API_PUBLIC: &str = "  api: {image: x, port: 1, desired_count: 2, health_check: /h, allowed_callers: [load_balancer]}";

#[test]
fn valid_alb_document() {
    let lines = alb_doc(&[HTTPS, REDIRECT], &[ROUTE_API], &[API_PUBLIC]);
    let loaded = parse(&lines).unwrap_or_else(|e| panic!("{e}"));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn a_service_allowing_the_alb_needs_a_route() {
    let lines = alb_doc(
        &[HTTPS],
        &[ROUTE_API],
        &[
            API_PUBLIC,
            "  web: {image: x, port: 2, allowed_callers: [load_balancer]}",
        ],
    );
    expect_error(
        &lines,
        (10, 46),
        "service `web` allows `load_balancer` but no load_balancer.routes entry targets it",
        "add a route with `service: web`",
    );
}

#[test]
fn listener_rules() {
    expect_error(
        &[
            "name: shop",
            "network: {cidr: 10.0.0.0/16}",
            "load_balancer: {listeners: []}",
            "services:",
            API_PUBLIC,
        ],
        (3, 17),
        "the load balancer has no listeners",
        "protocol: HTTPS",
    );
    expect_error(
        &alb_doc(
            &[HTTPS, "    - {port: 443, protocol: HTTP}"],
            &[ROUTE_API],
            &[API_PUBLIC],
        ),
        (6, 14),
        "listener port 443 is declared twice",
        "the other is at line 5",
    );
    expect_error(
        &alb_doc(
            &["    - {port: 443, protocol: HTTPS}"],
            &[ROUTE_API],
            &[API_PUBLIC],
        ),
        (5, 29),
        "HTTPS listener on port 443 has no certificate_arn",
        "arn:aws:acm:",
    );
    expect_error(
        &alb_doc(
            &["    - {port: 443, protocol: HTTPS, certificate_arn: 'arn:aws:iam::1:x'}"],
            &[ROUTE_API],
            &[API_PUBLIC],
        ),
        (5, 53),
        "certificate_arn `arn:aws:iam::1:x` is not an ACM certificate ARN",
        "arn:aws:acm:us-east-1",
    );
    expect_error(
        &alb_doc(&["    - {port: 80, protocol: HTTP, certificate_arn: 'arn:aws:acm:us-east-1:1:certificate/a'}"], &[ROUTE_API], &[API_PUBLIC]),
        (5, 51),
        "HTTP listener on port 80 has a certificate_arn",
        "`protocol: HTTPS`",
    );
    expect_error(
        &alb_doc(
            &["    - {port: 0, protocol: HTTP}"],
            &[ROUTE_API],
            &[API_PUBLIC],
        ),
        (5, 14),
        "listener port must be between 1 and 65535",
        "443",
    );
}

#[test]
fn redirect_rules() {
    expect_error(
        &alb_doc(&[REDIRECT], &[], &[API_PUBLIC]),
        (5, 47),
        "the only listener (port 80) redirects, so nothing would serve traffic",
        "add the HTTPS listener",
    );
    expect_error(
        &alb_doc(
            &[HTTPS, "    - {port: 80, protocol: HTTP, redirect_to: 80}"],
            &[ROUTE_API],
            &[API_PUBLIC],
        ),
        (6, 47),
        "listener on port 80 redirects to itself",
        "usually 443",
    );
    expect_error(
        &alb_doc(
            &[HTTPS, "    - {port: 80, protocol: HTTP, redirect_to: 8443}"],
            &[ROUTE_API],
            &[API_PUBLIC],
        ),
        (6, 47),
        "redirects to port 8443, which is not a listener in this file",
        "HTTPS listeners: 443",
    );
    expect_error(
        &alb_doc(
            &[
                "    - {port: 8080, protocol: HTTP}",
                "    - {port: 80, protocol: HTTP, redirect_to: 8080}",
            ],
            &[ROUTE_API],
            &[API_PUBLIC],
        ),
        (6, 47),
        "redirects to port 8080, which is not HTTPS",
        "there is none yet",
    );
    expect_error(
        &alb_doc(
            &[
                "    - {port: 443, protocol: HTTPS, certificate_arn: 'arn:aws:acm:us-east-1:1:certificate/a', redirect_to: 8443}",
                "    - {port: 8443, protocol: HTTPS, certificate_arn: 'arn:aws:acm:us-east-1:1:certificate/a', redirect_to: 443}",
            ],
            &[ROUTE_API],
            &[API_PUBLIC],
        ),
        (5, 107),
        "redirects to port 8443, which redirects too",
        "serves the routes",
    );
    expect_error(
        &alb_doc(
            &[
                "    - {port: 443, protocol: HTTPS, certificate_arn: 'arn:aws:acm:us-east-1:1:certificate/a', redirect_to: 8443}",
                "    - {port: 8443, protocol: HTTPS, certificate_arn: 'arn:aws:acm:us-east-1:1:certificate/a', redirect_to: 443}",
            ],
            &[ROUTE_API],
            &[API_PUBLIC],
        ),
        (7, 3),
        "every listener redirects",
        "remove `redirect_to`",
    );
}

#[test]
fn alb_route_rules() {
    let route = |line: &'static str| alb_doc(&[HTTPS], &[line], &[API_PUBLIC]);
    expect_error(
        &route("    - {path: api, service: api}"),
        (7, 14),
        "route path `api` does not start with '/'",
        "`/api`",
    );
    expect_error(
        &route("    - {path: '/users/{id}', service: api}"),
        (7, 14),
        "contains `{`, which ALB path patterns do not allow",
        "use `*`",
    );
    expect_error(
        &route("    - {path: /api, methods: [], service: api}"),
        (7, 29),
        "route `methods` is an empty list",
        "`[GET, POST]`",
    );
    expect_error(
        &route("    - {path: /api, methods: [get], service: api}"),
        (7, 30),
        "`get` is not an HTTP method name",
        "`GET`",
    );
    expect_error(
        &route("    - {path: /api, service: apii}"),
        (7, 29),
        "route targets unknown service `apii`",
        "did you mean `api`?",
    );
    let long = format!("/{}", "a".repeat(128));
    let src = format!(
        "name: shop\nnetwork: {{cidr: 10.0.0.0/16}}\nload_balancer:\n  listeners:\n{HTTPS}\n  routes:\n    - {{path: {long}, service: api}}\n    - {{path: /*, service: api}}\nservices:\n{API_PUBLIC}\n"
    );
    let found = parse_str(&src, FILE).err().map(|d| d.0).unwrap_or_default();
    assert_finding(
        &found,
        (7, 14),
        "route path is 129 characters long; ALB allows 128",
        "`*`",
    );
}

#[test]
fn route_target_must_allow_the_load_balancer() {
    let lines = alb_doc(
        &[HTTPS],
        &[
            "    - {path: /*, service: api}",
            "    - {path: /web/*, service: web}",
        ],
        &[
            API_PUBLIC,
            "  web:",
            "    image: x",
            "    port: 2",
            "    allowed_callers: [api]",
        ],
    );
    expect_error(
        &lines,
        (8, 31),
        "route targets service `web`, which does not list `load_balancer` in allowed_callers",
        "add `load_balancer` to services.web.allowed_callers (line 14)",
    );
    let lines = alb_doc(
        &[HTTPS],
        &["    - {path: /*, service: web}"],
        &["  web:", "    image: x", "    port: 2"],
    );
    expect_error(
        &lines,
        (7, 27),
        "does not list `load_balancer`",
        "add `allowed_callers: [load_balancer]` to services.web (line 9)",
    );
}

#[test]
fn at_most_100_alb_routes() {
    let mut src = format!("name: shop\nnetwork: {{cidr: 10.0.0.0/16}}\nload_balancer:\n  listeners:\n{HTTPS}\n  routes:\n");
    for index in 0..101 {
        src.push_str(&format!("    - {{path: /r{index}, service: api}}\n"));
    }
    src.push_str(&format!("services:\n{API_PUBLIC}\n"));
    let found = parse_str(&src, FILE).err().map(|d| d.0).unwrap_or_default();
    assert_finding(
        &found,
        (107, 7),
        "the load balancer has 101 routes; an ALB listener allows at most 100",
        "wildcards",
    );
}

// ---------------------------------------------------------------- api_gateway

fn api_doc(api: &[&'static str], service: &'static str) -> Vec<&'static str> {
    let mut lines = vec!["name: shop", "network: {cidr: 10.0.0.0/16}", "api_gateway:"];
    lines.extend(api);
    lines.push("services:");
    lines.push(service);
    lines
}

const STUDENTS: &str = "  students: {image: x, port: 1, desired_count: 2, health_check: /h, allowed_callers: [api_gateway]}";

#[test]
fn valid_api_gateway_document() {
    let lines = api_doc(
        &[
            "  name: shop-api",
            "  stage: Test",
            "  routes:",
            "    - {path: /students, methods: [GET, POST], service: students}",
            "    - {path: '/students/{student_id}', methods: [GET], service: students}",
            "    - {path: '/files/{proxy+}', methods: [ANY], service: students}",
            "    - {path: /, methods: [GET], service: students}",
        ],
        STUDENTS,
    );
    let loaded = parse(&lines).unwrap_or_else(|e| panic!("{e}"));
    let warnings: Vec<String> = loaded.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("which AWS now calls legacy") && warnings[0].contains("`via: alb`"),
        "{warnings:?}"
    );
    let mut v2 = lines.clone();
    v2.insert(5, "  via: alb");
    let loaded = parse(&v2).unwrap_or_else(|e| panic!("{e}"));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn api_gateway_rules() {
    let route = "  routes: [{path: /s, methods: [GET], service: students}]";
    expect_error(
        &api_doc(&["  name: ''", route], STUDENTS),
        (4, 9),
        "api_gateway.name must be 1 to 1024 characters",
        "`shop-api`",
    );
    expect_error(
        &api_doc(&["  name: a", "  stage: prod-1", route], STUDENTS),
        (5, 10),
        "api_gateway.stage `prod-1` is not a valid stage name",
        "e.g. `prod`",
    );
    expect_error(
        &api_doc(&["  name: a"], STUDENTS),
        (3, 1),
        "api_gateway has no routes",
        "cannot be deployed",
    );
    let one = |line: &'static str| api_doc(&["  name: a", "  routes:", line], STUDENTS);
    expect_error(
        &one("    - {path: s, methods: [GET], service: students}"),
        (6, 14),
        "API path `s` is invalid: it must start with '/'",
        "`/students/{student_id}`",
    );
    expect_error(
        &one("    - {path: /s/, methods: [GET], service: students}"),
        (6, 14),
        "empty segment",
        "",
    );
    expect_error(
        &one("    - {path: '/a/{p+}/b', methods: [GET], service: students}"),
        (6, 14),
        "greedy `{p+}` must be the last segment",
        "",
    );
    expect_error(
        &one("    - {path: '/a/{}', methods: [GET], service: students}"),
        (6, 14),
        "`{}` is not a valid `{param}` segment",
        "",
    );
    expect_error(
        &one("    - {path: '/a b', methods: [GET], service: students}"),
        (6, 14),
        "segment `a b` contains ` `",
        "",
    );
    expect_error(
        &one("    - {path: /s, methods: [FETCH], service: students}"),
        (6, 28),
        "`FETCH` is not an API Gateway method",
        "GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, ANY",
    );
    expect_error(
        &one("    - {path: /s, methods: [get], service: students}"),
        (6, 28),
        "`get` is not an API Gateway method",
        "did you mean `GET`?",
    );
    expect_error(
        &one("    - {path: /s, methods: [], service: students}"),
        (6, 27),
        "route `methods` is an empty list",
        "`[ANY]`",
    );
    expect_error(
        &one("    - {path: /s, methods: [GET], service: studnets}"),
        (6, 43),
        "route targets unknown service `studnets`",
        "did you mean `students`?",
    );
}

#[test]
fn api_gateway_duplicate_routes() {
    let lines = api_doc(
        &[
            "  name: a",
            "  routes:",
            "    - {path: /s, methods: [GET, POST], service: students}",
            "    - {path: /s, methods: [PUT, GET], service: students}",
        ],
        STUDENTS,
    );
    expect_error(
        &lines,
        (7, 33),
        "GET /s is declared twice",
        "the first is at line 6",
    );
}

#[test]
fn route_target_must_allow_the_api_gateway() {
    let lines = api_doc(
        &[
            "  name: a",
            "  routes: [{path: /s, methods: [GET], service: students}]",
        ],
        "  students: {image: x, port: 1, allowed_callers: [other]}",
    );
    let mut lines = lines;
    lines.push("  other: {image: x, port: 2}");
    expect_error(
        &lines,
        (5, 48),
        "route targets service `students`, which does not list `api_gateway` in allowed_callers",
        "add `api_gateway` to services.students.allowed_callers (line 7)",
    );
}

#[test]
fn api_gateway_throttle_ports_and_sibling_variables() {
    let route = "  routes: [{path: /s, methods: [GET], service: students}]";
    expect_error(
        &api_doc(
            &["  name: a", "  throttle: {rate: 0, burst: 10}", route],
            STUDENTS,
        ),
        (5, 20),
        "api_gateway.throttle.rate 0 is outside 1..10000",
        "`rate: 100`",
    );
    expect_error(
        &api_doc(
            &["  name: a", "  throttle: {rate: 10, burst: 9000}", route],
            STUDENTS,
        ),
        (5, 31),
        "api_gateway.throttle.burst 9000 is outside 1..5000",
        "`burst: 200`",
    );
    expect_error(
        &api_doc(
            &[
                "  name: a",
                "  routes:",
                "    - {path: '/s/{id}', methods: [GET], service: students}",
                "    - {path: '/s/{student_id}/x', methods: [GET], service: students}",
            ],
            STUDENTS,
        ),
        (7, 14),
        "`{student_id}` and `{id}` are both variable parts under `/s/`",
        "the first is at line 6",
    );
    let mut shared_port = api_doc(
        &[
            "  name: a",
            "  routes:",
            "    - {path: /s, methods: [GET], service: students}",
            "    - {path: /t, methods: [GET], service: teachers}",
        ],
        STUDENTS,
    );
    shared_port.push("  teachers: {image: x, port: 1, allowed_callers: [api_gateway]}");
    expect_error(
        &shared_port,
        (7, 43),
        "`teachers` and `students` both listen on port 1",
        "another `port`",
    );
}

// ---------------------------------------------------------------- task_role

#[test]
fn task_role_rules() {
    let doc = |extra: &[&'static str]| {
        let mut lines = vec![
            "name: shop",
            "network: {cidr: 10.0.0.0/16}",
            "services:",
            "  api:",
            "    image: x",
            "    port: 1",
            "    task_role:",
        ];
        lines.extend(extra);
        lines
    };
    expect_error(
        &doc(&["      managed_policies: [AmazonS3ReadOnlyAccess]"]),
        (8, 26),
        "`AmazonS3ReadOnlyAccess` is not a managed policy ARN",
        "`arn:aws:iam::aws:policy/<name>`",
    );
    let found = errors(&doc(&[
        "      statements:",
        "        - {actions: [sqs], resources: [x]}",
    ]));
    assert_finding(
        &found,
        (9, 22),
        "`sqs` is not an IAM action",
        "`s3:GetObject`",
    );
    assert_finding(&found, (9, 40), "`x` is not an ARN", "");
    expect_error(
        &doc(&["      statements: []"]),
        (7, 5),
        "services.api.task_role grants nothing",
        "remove `task_role`",
    );
    assert!(parse(&doc(&[
        "      managed_policies: [arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess]",
        "      statements:",
        "        - {actions: ['sqs:SendMessage'], resources: ['arn:aws:sqs:us-east-1:123456789012:q']}",
    ]))
    .is_ok());
}

// ---------------------------------------------------------------- schema (serde) errors

#[test]
fn schema_errors_are_located_with_hints() {
    expect_error(
        &[
            "name: shop",
            "network:",
            "  cidr: 10.0.0.0/16",
            "  availabilty_zones: 2",
            "services: {}",
        ],
        (4, 3),
        "unknown field `availabilty_zones`",
        "did you mean `availability_zones`?",
    );
    expect_error(
        &["name: shop", "services: {}"],
        (1, 1),
        "missing field `network`",
        "add `network:` to the top level",
    );
    expect_error(
        &[
            "name: shop",
            "network: {cidr: 10.0.0.0/16}",
            "services:",
            "  api:",
            "    image: x",
        ],
        (5, 5),
        "services.api: missing field `port`",
        "add `port:` to services.api",
    );
    expect_error(
        &[
            "name: shop",
            "network:",
            "  cidr: 10.0.0.0/16",
            "  availability_zones: two",
            "services: {}",
        ],
        (4, 23),
        "network.availability_zones: must be a zone count or a list of zone names",
        "`availability_zones: 2`",
    );
    expect_error(
        &[
            "name: shop",
            "network: {cidr: 10.0.0.0/16}",
            "services:",
            "  api: {image: x, port: 99999}",
        ],
        (4, 25),
        "services.api.port: invalid value: integer `99999`, expected u16",
        "a whole number from 0 to 65535",
    );
}

#[test]
fn duplicate_map_keys_are_errors() {
    let lines = [
        "name: shop",
        "network: {cidr: 10.0.0.0/16}",
        "services:",
        "  api: {image: x, port: 1, allowed_callers: [web]}",
        "  web: {image: x, port: 2}",
        "  api: {image: y, port: 3}",
    ];
    expect_error(
        &lines,
        (6, 3),
        "duplicate key `services.api`",
        "the first is at line 4",
    );
}

#[test]
fn errors_are_all_reported_in_source_order() {
    let lines = [
        "name: Shop",
        "network: {cidr: 10.0.0.0/8, nat_gateways: 3}",
        "services:",
        "  api: {image: x, port: 0, cpu: 300}",
    ];
    let found = errors(&lines);
    let positions: Vec<(usize, usize)> = found.iter().map(|d| (d.line, d.column)).collect();
    assert!(found.len() >= 5, "{found:?}");
    let mut sorted = positions.clone();
    sorted.sort();
    assert_eq!(positions, sorted);
}

// ---------------------------------------------------------------- lints

#[test]
fn lint_entry_service_without_health_check() {
    let lines = alb_doc(
        &[HTTPS],
        &[ROUTE_API],
        &["  api: {image: x, port: 1, desired_count: 2, allowed_callers: [load_balancer]}"],
    );
    expect_warning(
        &lines,
        (9, 3),
        "service `api` receives outside traffic but has no health_check",
        "`health_check: /health`",
    );
}

#[test]
fn lint_no_nat_gateway() {
    expect_warning(
        &network_doc("network: {cidr: 10.0.0.0/16, nat_gateways: 0}"),
        (2, 44),
        "nat_gateways: 0 leaves tasks in the private subnets without outbound access",
        "VPC endpoints",
    );
}

#[test]
fn lint_plain_http_load_balancer() {
    let lines = alb_doc(
        &["    - {port: 80, protocol: HTTP}"],
        &[ROUTE_API],
        &[API_PUBLIC],
    );
    expect_warning(
        &lines,
        (4, 3),
        "only HTTP listeners",
        "add an HTTPS listener",
    );
}

#[test]
fn lint_single_task() {
    let lines = service_doc(&[
        "  api: {image: x, port: 1, desired_count: 1, allowed_callers: [b]}",
        "  b: {image: x, port: 2, desired_count: 2}",
    ]);
    expect_warning(
        &lines,
        (4, 28),
        "service `api` runs a single task",
        "`desired_count: 2`",
    );
    let defaulted = service_doc(&[
        "  api: {image: x, port: 1, allowed_callers: [b]}",
        "  b: {image: x, port: 2, desired_count: 2}",
    ]);
    expect_warning(&defaulted, (4, 3), "service `api` runs a single task", "");
    let scaled = service_doc(&[
        "  api: {image: x, port: 1, allowed_callers: [b], autoscaling: {min: 1, max: 3}}",
        "  b: {image: x, port: 2, desired_count: 2}",
    ]);
    assert!(!warnings(&scaled)
        .iter()
        .any(|w| w.message.contains("`api` runs a single task")));
}

#[test]
fn lint_service_nobody_may_call() {
    let lines = service_doc(&["  worker: {image: x, port: 1, desired_count: 2}"]);
    expect_warning(
        &lines,
        (4, 3),
        "service `worker` accepts no connections",
        "fine for a worker",
    );
}

// ---------------------------------------------------------------- display and API helpers

#[test]
fn diagnostics_render_with_position_and_hint() {
    let located = Diagnostic::error("t.yaml", Pos::new(3, 5), "bad", "fix it");
    assert_eq!(
        located.to_string(),
        "t.yaml:3:5: error: bad\n  hint: fix it"
    );
    let unlocated = Diagnostic::warning("t.yaml", Pos::UNKNOWN, "meh", "maybe");
    assert_eq!(unlocated.to_string(), "t.yaml: warning: meh\n  hint: maybe");
    let both = Diagnostics(vec![located, unlocated]);
    assert_eq!(
        both.to_string(),
        "t.yaml:3:5: error: bad\n  hint: fix it\nt.yaml: warning: meh\n  hint: maybe"
    );
}

#[test]
fn load_reports_missing_files_and_non_utf8() {
    let missing = load(std::path::Path::new("/nonexistent/topology.yaml"));
    let Err(Diagnostics(found)) = missing else {
        panic!("expected an error");
    };
    assert!(found[0].message.contains("cannot read the topology file"));

    let Err(Diagnostics(found)) = parse_bytes(b"name: sh\xffop\n", FILE) else {
        panic!("expected an error");
    };
    assert_eq!((found[0].line, found[0].column), (1, 9));
    assert!(found[0].message.contains("not valid UTF-8"));
}

#[test]
fn validate_and_lint_work_without_positions() {
    let src = include_str!("../../tests/corpus/valid/00_seed_shop.yaml");
    let loaded = parse_str(src, FILE).unwrap_or_else(|e| panic!("{e}"));
    let mut topology = loaded.topology;
    topology.name = "Bad".into();
    let found = validate(&topology, &PositionIndex::empty(), FILE);
    assert_eq!(found.len(), 1);
    assert_eq!((found[0].line, found[0].column), (0, 0));
    assert!(lint(&topology, &PositionIndex::empty(), FILE).is_empty());
}

#[test]
fn position_index_maps_keys_and_values() {
    let index = PositionIndex::build("a: 1\nb:\n  - x\n  - {c: d}\n");
    use positions::ypath;
    assert_eq!(index.key(&ypath!("a")), Pos::new(1, 1));
    assert_eq!(index.value(&ypath!("a")), Pos::new(1, 4));
    assert_eq!(index.value(&ypath!("b", 0)), Pos::new(3, 5));
    assert_eq!(index.value(&ypath!("b", 1, "c")), Pos::new(4, 9));
    assert_eq!(index.key(&ypath!("b", 1, "c")), Pos::new(4, 6));
    // Unknown paths fall back to the nearest ancestor that exists.
    assert_eq!(index.value(&ypath!("b", 1, "zzz")), Pos::new(4, 5));
    assert_eq!(
        index.value(&ypath!("nope")),
        Pos::UNKNOWN.max(index.value(&[]))
    );
}

#[test]
fn position_index_survives_deep_and_broken_input() {
    // Must neither overflow the stack nor hang; what it indexes is unimportant.
    let _ = PositionIndex::build(&"[".repeat(100_000));
    let _ = PositionIndex::build(&"{a: ".repeat(100_000));
    let nested = format!("{}{}", "[".repeat(200), "]".repeat(200));
    assert_eq!(PositionIndex::build(&nested).value(&[]), Pos::new(1, 1));
    let broken = PositionIndex::build("a: [\n  b: {");
    assert_eq!(broken.key(&positions::ypath!("a")), Pos::new(1, 1));
}

#[test]
fn a_lint_rule_allowed_in_the_file_is_silent_and_the_others_name_their_rule() {
    let base = "name: shop\nnetwork:\n  cidr: 10.0.0.0/16\nload_balancer:\n  listeners: [{port: 80, protocol: HTTP}]\n  routes: [{path: /*, service: web}]\nservices:\n  web:\n    image: nginx\n    port: 80\n    desired_count: 2\n    health_check: /health\n    allowed_callers: [load_balancer]\n";
    let loud = parse_str(base, "t.yaml").expect("valid");
    let http: Vec<_> = loud
        .warnings
        .iter()
        .filter(|w| w.rule == Some("http_only"))
        .collect();
    assert_eq!(http.len(), 1, "{:?}", loud.warnings);
    assert!(
        http[0]
            .to_string()
            .contains("silence rule `http_only` with `lints: {allow: [http_only]}`"),
        "{}",
        http[0]
    );
    let quiet =
        parse_str(&format!("{base}lints:\n  allow: [http_only]\n"), "t.yaml").expect("valid");
    assert!(
        quiet.warnings.iter().all(|w| w.rule != Some("http_only")),
        "{:?}",
        quiet.warnings
    );
    let unknown =
        parse_str(&format!("{base}lints:\n  allow: [http]\n"), "t.yaml").expect_err("unknown rule");
    let text = unknown.to_string();
    assert!(
        text.contains("t.yaml:15:11") && text.contains("http_only"),
        "{text}"
    );
}
