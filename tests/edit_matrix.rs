//! The edit matrix: every field of the schema, changed one at a time on a deployed stack. For
//! each edit: the apply succeeds, the next plan is empty, the live stack has exactly the
//! resources a fresh apply of the edited file has (per kind) and exactly its security-group
//! edges (read with the SDK); then the edit is reverted the same way. Which fields exist is
//! read from the schema's own types (a fully set topology, serialised): a field without an
//! edit fails `every_schema_field_has_an_edit`.
//!
//! Its own test binary: `cargo test --test edit_matrix` (about 5 minutes against moto).

mod common;

use common::probe::{desired_counts, tagged_counts};
use common::{unique_stack, Fixture, Moto};
use std::collections::BTreeSet;

/// Every section and field set, so that serialising it names every field of the schema.
const BASE: &str = r#"name: STACK
region: us-east-1
network:
  cidr: 10.40.0.0/16
  availability_zones: 2
  nat_gateways: 1
  public_subnets: [10.40.1.0/24, 10.40.2.0/24]
  private_subnets: [10.40.11.0/24, 10.40.12.0/24]
discovery:
  namespace: edits.internal
  ttl: 10
load_balancer:
  listeners:
    - {port: 80, protocol: HTTP}
  routes:
    - {path: /web/*, methods: [GET, POST], service: web}
api_gateway:
  name: edits-api
  stage: prod
  via: nlb
  throttle: {rate: 100, burst: 200}
  routes:
    - {path: /items, methods: [GET], service: items}
repositories:
  items: {scan_on_push: true, keep_images: 30, tag_mutability: mutable}
databases:
  items-db:
    engine: mysql
    version: "8.0"
    instance_class: db.t3.micro
    storage_gb: 20
    multi_az: false
    deletion_protection: false
    allowed_callers: [items]
alarms:
  notify: arn:aws:sns:us-east-1:123456789012:edits-ops
lints:
  allow: [legacy_vpc_link]
services:
  web:
    image: public.ecr.aws/nginx/nginx:1.27
    port: 8080
    cpu: 256
    memory: 512
    desired_count: 1
    health_check: /health
    environment: {LOG_LEVEL: info}
    secrets: {API_KEY: /edits/api-key}
    allowed_callers: [load_balancer]
    task_role:
      managed_policies: [arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess]
      statements:
        - {actions: ["sqs:SendMessage"], resources: ["arn:aws:sqs:us-east-1:123456789012:edits"]}
  items:
    image: {repository: items, tag: "1.0.0"}
    port: 9090
    desired_count: 2
    health_check: {path: /actuator/health, port: 9091}
    allowed_callers: [api_gateway, web]
    autoscaling:
      min: 2
      max: 4
      step: {scale_out_above: 70, scale_in_below: 50, minutes: 5}
  jobs:
    renamed_from: worker
    image: public.ecr.aws/docker/library/busybox:1.36
    port: 7070
    allowed_callers: [web]
    autoscaling: {min: 1, max: 3, cpu_target: 60}
"#;

/// One edit: the schema paths it covers, and the text it changes (`anchor` narrows where).
struct Edit {
    covers: &'static [&'static str],
    anchor: Option<&'static str>,
    from: &'static str,
    to: &'static str,
    /// AWS cannot undo it (storage only grows, versions only go up): the edited file becomes
    /// the base.
    one_way: bool,
    /// What its apply needs (`--allow-replace`); every other apply runs without flags, so an
    /// edit refused by mistake fails.
    flags: &'static [&'static str],
}

const fn edit(
    covers: &'static [&'static str],
    anchor: Option<&'static str>,
    from: &'static str,
    to: &'static str,
) -> Edit {
    Edit {
        covers,
        anchor,
        from,
        to,
        one_way: false,
        flags: &[],
    }
}

impl Edit {
    /// AWS cannot undo it: the edited file becomes the base.
    const fn one_way(self) -> Edit {
        Edit {
            one_way: true,
            ..self
        }
    }

    /// Its apply needs these flags.
    const fn with_flags(self, flags: &'static [&'static str]) -> Edit {
        Edit { flags, ..self }
    }
}

/// Edits not run, with the reason: the stack name and region make another stack; a subnet
/// keeping its CIDR in a new zone is refused by the plan.
const NOT_RUN: &[(&str, &str)] = &[
    (
        "name",
        "another name is another stack, with nothing in common",
    ),
    (
        "region",
        "another region is another stack, with nothing in common",
    ),
    (
        "network.private_subnets[]",
        "moto's ModifyDBSubnetGroup loses the group (DescribeDBSubnetGroups answers none after it, its tags gone); the create-first move is in tests/plan.rs",
    ),
    (
        "network.availability_zones",
        "with explicit subnets, a new zone keeps a subnet's CIDR in another zone: the plan refuses it (AWS keeps a subnet with tasks in it), as tests/plan.rs shows",
    ),
    (
        "load_balancer.listeners[].certificate_arn",
        "needs an issued ACM certificate: HTTPS is applied in tests/live.rs",
    ),
    (
        "load_balancer.listeners[].redirect_to",
        "redirects only to HTTPS: applied in tests/live.rs",
    ),
];

/// An edit whose apply, and its revert's, needs `flags`.
const EDITS: &[Edit] = &[
    // The whole network moves: a new VPC beside the old one, the database moved with its data.
    edit(
        &["network.cidr"],
        None,
        "cidr: 10.40.0.0/16\n  availability_zones: 2\n  nat_gateways: 1\n  public_subnets: [10.40.1.0/24, 10.40.2.0/24]\n  private_subnets: [10.40.11.0/24, 10.40.12.0/24]",
        "cidr: 10.41.0.0/16\n  availability_zones: 2\n  nat_gateways: 1\n  public_subnets: [10.41.1.0/24, 10.41.2.0/24]\n  private_subnets: [10.41.11.0/24, 10.41.12.0/24]",
    )
    .with_flags(&["--allow-replace", "vpc"]),
    edit(&["network.public_subnets[]"], None, "[10.40.1.0/24, 10.40.2.0/24]", "[10.40.3.0/24, 10.40.2.0/24]"),
    edit(&["network.nat_gateways"], None, "nat_gateways: 1", "nat_gateways: per_az"),
    edit(&["discovery.ttl"], None, "ttl: 10", "ttl: 30"),
    edit(&["discovery.namespace"], None, "namespace: edits.internal", "namespace: edits2.internal"),
    edit(
        &["load_balancer.listeners[].port", "load_balancer.listeners[].protocol"],
        None,
        "- {port: 80, protocol: HTTP}",
        "- {port: 8000, protocol: HTTP}",
    ),
    edit(&["load_balancer.routes[].path"], None, "path: /web/*", "path: /site/*"),
    edit(&["load_balancer.routes[].methods[]"], None, "methods: [GET, POST], service: web", "methods: [GET], service: web"),
    edit(&["load_balancer.routes[].service"], None, "{path: /web/*, methods: [GET, POST], service: web}", "{path: /web/*, methods: [GET, POST], service: web}\n    - {path: /static/*, methods: [GET], service: web}"),
    edit(&["api_gateway.name"], None, "name: edits-api", "name: edits-api-2"),
    edit(&["api_gateway.stage"], None, "stage: prod", "stage: live"),
    edit(&["api_gateway.via"], None, "via: nlb", "via: alb"),
    edit(&["api_gateway.throttle.rate"], None, "rate: 100", "rate: 50"),
    edit(&["api_gateway.throttle.burst"], None, "burst: 200", "burst: 100"),
    edit(&["api_gateway.routes[].path"], None, "path: /items,", "path: /stock,"),
    edit(&["api_gateway.routes[].methods[]"], None, "methods: [GET], service: items", "methods: [GET, POST], service: items"),
    edit(&["api_gateway.routes[].service"], None, "- {path: /items, methods: [GET], service: items}", "- {path: /items, methods: [GET], service: items}\n    - {path: '/items/{item_id}', methods: [GET], service: items}"),
    edit(&["repositories.*.scan_on_push"], None, "scan_on_push: true", "scan_on_push: false"),
    edit(&["repositories.*.keep_images"], None, "keep_images: 30", "keep_images: 10"),
    edit(&["repositories.*.tag_mutability"], None, "tag_mutability: mutable", "tag_mutability: immutable"),
    edit(&["databases.*.instance_class"], None, "instance_class: db.t3.micro", "instance_class: db.t3.small"),
    edit(&["databases.*.storage_gb"], None, "storage_gb: 20", "storage_gb: 30").one_way(),
    edit(&["databases.*.multi_az"], None, "multi_az: false", "multi_az: true"),
    edit(&["databases.*.deletion_protection"], None, "deletion_protection: false", "deletion_protection: true"),
    edit(&["databases.*.version"], None, "version: \"8.0\"", "version: \"8.4\"").one_way(),
    edit(&["databases.*.allowed_callers[]"], None, "allowed_callers: [items]\nalarms", "allowed_callers: [items, jobs]\nalarms"),
    edit(&["alarms.notify"], None, "edits-ops", "edits-oncall"),
    // Only what validate prints changes: nothing in AWS.
    edit(&["lints", "lints.allow[]"], None, "allow: [legacy_vpc_link]", "allow: [legacy_vpc_link, http_only]"),
    edit(&["services.*.image"], Some("  web:"), "nginx:1.27", "nginx:1.28"),
    edit(&["services.*.image.repository", "services.*.image.tag"], None, "tag: \"1.0.0\"", "tag: \"1.1.0\""),
    edit(&["services.*.port"], Some("  jobs:"), "port: 7070", "port: 7171"),
    edit(&["services.*.cpu"], None, "cpu: 256\n    memory: 512", "cpu: 512\n    memory: 1024"),
    edit(&["services.*.memory"], None, "memory: 512", "memory: 1024"),
    edit(&["services.*.desired_count"], Some("  web:"), "desired_count: 1", "desired_count: 2"),
    edit(&["services.*.health_check"], None, "health_check: /health", "health_check: /ready"),
    edit(&["services.*.health_check.path", "services.*.health_check.port"], None, "port: 9091}", "port: 9092}"),
    edit(&["services.*.environment.*"], None, "{LOG_LEVEL: info}", "{LOG_LEVEL: debug, MODE: edits}"),
    edit(&["services.*.secrets.*"], None, "{API_KEY: /edits/api-key}", "{API_KEY: /edits/api-key-2}"),
    edit(&["services.*.allowed_callers[]"], Some("  jobs:"), "allowed_callers: [web]", "allowed_callers: [web, items]"),
    edit(&["services.*.autoscaling.min", "services.*.autoscaling.max"], Some("  jobs:"), "{min: 1, max: 3, cpu_target: 60}", "{min: 1, max: 5, cpu_target: 60}"),
    edit(&["services.*.autoscaling.cpu_target"], Some("  jobs:"), "cpu_target: 60", "cpu_target: 75"),
    edit(&["services.*.autoscaling.step.scale_out_above", "services.*.autoscaling.step.scale_in_below"], None, "scale_out_above: 70, scale_in_below: 50", "scale_out_above: 80, scale_in_below: 40"),
    edit(&["services.*.autoscaling.step.minutes"], None, "minutes: 5", "minutes: 3"),
    edit(&["services.*.autoscaling.step"], None, "step: {scale_out_above: 70, scale_in_below: 50, minutes: 5}", "cpu_target: 65"),
    edit(&["services.*.task_role.managed_policies[]"], None, "[arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess]", "[arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess]"),
    edit(&["services.*.task_role.statements[].actions[]", "services.*.task_role.statements[].resources[]"], None, "[\"sqs:SendMessage\"]", "[\"sqs:SendMessage\", \"sqs:GetQueueUrl\"]"),
    edit(&["services.*.task_role"], None, "    task_role:\n      managed_policies: [arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess]\n      statements:\n        - {actions: [\"sqs:SendMessage\"], resources: [\"arn:aws:sqs:us-east-1:123456789012:edits\"]}\n", ""),
    edit(&["services.*"], None, "  jobs:\n    renamed_from: worker\n    image: public.ecr.aws/docker/library/busybox:1.36\n    port: 7070\n    allowed_callers: [web]\n    autoscaling: {min: 1, max: 3, cpu_target: 60}\n", ""),
    // A rename keeps the logs: the log group stays under the name it was made with.
    edit(&["services.*.renamed_from"], None, "  jobs:\n    renamed_from: worker\n", "  tasks:\n    renamed_from: worker\n"),
    edit(&["services.*.autoscaling"], Some("  jobs:"), "    autoscaling: {min: 1, max: 3, cpu_target: 60}\n", ""),
    // Last: moto names a new instance's automated snapshot by the minute, so the same
    // identifier cannot be created twice in one minute (AWS can); no revert.
    edit(
        &["databases.*.engine"],
        None,
        "engine: mysql\n    version: \"8.4\"",
        "engine: postgres\n    version: \"16\"",
    )
    .one_way()
    .with_flags(&["--allow-replace", "db.items-db"]),
];

/// Schema paths of a serialised topology: map keys as `*`, list items as `[]`.
fn schema_paths(value: &serde_json::Value, path: &str, maps: &[&str], out: &mut BTreeSet<String>) {
    match value {
        serde_json::Value::Object(fields) => {
            let is_map = maps.contains(&path);
            if !path.is_empty() && !is_map {
                out.insert(path.to_string());
            }
            for (key, v) in fields {
                let segment = if is_map { "*" } else { key.as_str() };
                let child = if path.is_empty() {
                    segment.to_string()
                } else {
                    format!("{path}.{segment}")
                };
                if is_map {
                    out.insert(child.clone());
                }
                schema_paths(v, &child, maps, out);
            }
        }
        serde_json::Value::Array(items) => {
            let child = format!("{path}[]");
            if items.is_empty() {
                out.insert(child.clone());
            }
            for item in items {
                schema_paths(item, &child, maps, out);
            }
        }
        _ => {
            out.insert(path.to_string());
        }
    }
}

/// The mappings whose keys are the user's names, not fields.
const MAPS: &[&str] = &[
    "repositories",
    "databases",
    "services",
    "services.*.environment",
    "services.*.secrets",
];

fn base(stack: &str) -> String {
    BASE.replace("name: STACK", &format!("name: {stack}"))
}

#[test]
fn every_schema_field_has_an_edit() {
    let t = ecsform::topology::parse_str(&base("edits"), "t.yaml")
        .map_err(|e| e.to_string())
        .expect("the base is valid")
        .topology;
    let mut paths = BTreeSet::new();
    schema_paths(
        &serde_json::to_value(&t).expect("serialises"),
        "",
        MAPS,
        &mut paths,
    );
    let covered: BTreeSet<&str> = EDITS
        .iter()
        .flat_map(|e| e.covers.iter().copied())
        .chain(NOT_RUN.iter().map(|(p, _)| *p))
        .collect();
    let missing: Vec<&String> = paths
        .iter()
        .filter(|p| !covered.contains(p.as_str()))
        .filter(|p| {
            // A section is covered by its fields' edits.
            !covered
                .iter()
                .any(|c| c.starts_with(&format!("{p}.")) || c.starts_with(&format!("{p}[")))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "schema fields without an edit in the matrix: {missing:?}"
    );
    let unknown: Vec<&&str> = covered.iter().filter(|c| !paths.contains(**c)).collect();
    assert!(
        unknown.is_empty(),
        "edits name fields the schema does not have: {unknown:?}"
    );
    // Every edit applies to the base as the live run has it (one-way edits stay), and the
    // edited file is valid.
    let mut current = base("edits");
    for e in EDITS {
        let mut f = Fixture::from_text("edits", &current);
        f.edit(e.anchor, e.from, e.to);
        if let Err(d) = ecsform::topology::parse_str(f.text(), "t.yaml") {
            panic!("edit {:?} makes an invalid file: {d}", e.covers);
        }
        if e.one_way {
            current = f.text().to_string();
        }
    }
}

/// Security-group edges as `(group name, port, source group name or CIDR)`.
fn expected_edges(text: &str) -> BTreeSet<(String, i32, String)> {
    use ecsform::model::{Ref, Resource, RuleSource};
    let t = ecsform::topology::parse_str(text, "t.yaml")
        .map_err(|e| e.to_string())
        .expect("valid")
        .topology;
    let d = ecsform::desired::expand(&t, "us-east-1");
    let name = |r: &Ref| match r {
        Ref::Id(id) => match d.resources.get(id) {
            Some(Resource::SecurityGroup(g)) => g.name.clone(),
            _ => id.to_string(),
        },
        Ref::Unowned(p) => p.clone(),
    };
    d.resources
        .values()
        .filter_map(|r| match r {
            Resource::IngressRule(rule) => Some((
                name(&rule.group),
                i32::from(rule.port),
                match &rule.source {
                    RuleSource::Group(g) => name(g),
                    RuleSource::Cidr(c) => c.clone(),
                },
            )),
            _ => None,
        })
        .collect()
}

async fn live_edges(moto: &Moto, stack: &str) -> BTreeSet<(String, i32, String)> {
    let ec2 = aws_sdk_ec2::Client::new(&moto.sdk_config().await);
    let groups = ec2
        .describe_security_groups()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("tag:ecsform:stack")
                .values(stack)
                .build(),
        )
        .send()
        .await
        .expect("groups");
    let names: std::collections::BTreeMap<String, String> = groups
        .security_groups()
        .iter()
        .filter_map(|g| Some((g.group_id()?.to_string(), g.group_name()?.to_string())))
        .collect();
    let mut edges = BTreeSet::new();
    for (id, name) in &names {
        let rules = ec2
            .describe_security_group_rules()
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("group-id")
                    .values(id)
                    .build(),
            )
            .send()
            .await
            .expect("rules");
        for r in rules
            .security_group_rules()
            .iter()
            .filter(|r| r.is_egress() == Some(false))
        {
            let source = r
                .referenced_group_info()
                .and_then(|g| g.group_id())
                .map(|g| names.get(g).cloned().unwrap_or_else(|| g.to_string()))
                .or(r.cidr_ipv4().map(String::from))
                .or(r.cidr_ipv6().map(String::from))
                .unwrap_or_default();
            edges.insert((name.clone(), r.from_port().unwrap_or(-1), source));
        }
    }
    edges
}

/// Applies the file, then checks what a fresh apply of it would have: an empty plan, the same
/// resources per kind, the same edges.
async fn converged(moto: &Moto, f: &Fixture, what: &str, flags: &[&str]) -> Result<(), String> {
    let mut args = vec!["apply", "-f", f.path_str(), "--auto-approve"];
    args.extend(flags);
    let out = moto.run(&args).await;
    if out.code() != Some(0) {
        return Err(format!(
            "{what}: apply failed:\n{}\n{}",
            out.stdout(),
            out.stderr()
        ));
    }
    let plan = moto
        .run(&["plan", "-f", f.path_str(), "--detailed-exitcode"])
        .await;
    if plan.code() != Some(0) {
        return Err(format!(
            "{what}: the next plan is not empty:\n{}",
            plan.stdout()
        ));
    }
    let live = tagged_counts(moto, &f.stack).await;
    let fresh = desired_counts(f.text());
    let differ: Vec<String> = fresh
        .iter()
        .filter(|(k, n)| live.get(k).copied().unwrap_or(0) != **n)
        .map(|(k, n)| format!("{k}: {} live, {n} fresh", live.get(k).copied().unwrap_or(0)))
        .collect();
    if !differ.is_empty() {
        return Err(format!(
            "{what}: resources differ from a fresh apply: {differ:?}"
        ));
    }
    let (want, have) = (expected_edges(f.text()), live_edges(moto, &f.stack).await);
    if want != have {
        return Err(format!(
            "{what}: edges differ: missing {:?}, extra {:?}",
            want.difference(&have).collect::<Vec<_>>(),
            have.difference(&want).collect::<Vec<_>>()
        ));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_edit_converges_and_reverts() {
    let moto = Moto::start();
    let stack = unique_stack("edits");
    let mut f = Fixture::from_text(&stack, &base(&stack));
    converged(moto, &f, "the base", &[])
        .await
        .expect("the base applies");
    let mut failures = Vec::new();
    let started = std::time::Instant::now();
    let mut current = base(&stack);
    for e in EDITS {
        let what = format!("{:?}", e.covers);
        f.edit(e.anchor, e.from, e.to);
        failures.extend(
            converged(moto, &f, &format!("{what} edited"), e.flags)
                .await
                .err(),
        );
        if e.one_way {
            current = f.text().to_string();
            continue;
        }
        // Back to the base: the reverse edit converges too.
        f = Fixture::from_text(&stack, &current);
        failures.extend(
            converged(moto, &f, &format!("{what} reverted"), e.flags)
                .await
                .err(),
        );
    }
    eprintln!(
        "edit matrix: {} edits ({} schema fields, {} not run), each applied and reverted but {} one-way, in {:.0}s",
        EDITS.len(),
        EDITS.iter().map(|e| e.covers.len()).sum::<usize>(),
        NOT_RUN.len(),
        EDITS.iter().filter(|e| e.one_way).count(),
        started.elapsed().as_secs_f64()
    );
    moto.run(&[
        "destroy",
        "-f",
        f.path_str(),
        "--auto-approve",
        "--delete-images",
    ])
    .await
    .expect_code(0);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
