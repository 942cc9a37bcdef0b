//! The first run in a real account: AWS's answers while it settles (a service-linked role not
//! yet usable, IAM propagation, a conflicting change to the same API, a busy log group or
//! database, …), answers lost after AWS acted, and a NAT gateway that fails. The fault proxy
//! answers each row of ecsform's retry table (`src/cloud/aws/settle.rs`) the way AWS does, for
//! the first call(s) of each request; every command must still get through in one run.

mod common;

use common::probe::tagged_counts;
use common::proxy::FaultProxy;
use common::{unique_stack, Fixture, Moto};
use serde_json::json;
use std::collections::BTreeSet;

fn show(o: &std::process::Output) -> String {
    format!(
        "exit {:?}\n{}\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `ecsform <args>` through `proxy`, on a blocking thread.
async fn run(proxy: &FaultProxy, moto: &Moto, args: &[&str]) -> std::process::Output {
    let mut cmd = proxy.ecsform(moto);
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || cmd.args(&args).output().expect("running ecsform"))
        .await
        .expect("join")
}

/// Runs `ecsform <args>` through `proxy` and requires exit 0 in this one run.
async fn must_pass(proxy: &FaultProxy, moto: &Moto, what: &str, args: &[&str]) {
    let out = run(proxy, moto, args).await;
    assert!(out.status.success(), "{what}:\n{}", show(&out));
}

/// `plan --detailed-exitcode` through `proxy`: no changes.
async fn plan_is_empty(proxy: &FaultProxy, moto: &Moto, what: &str, f: &Fixture) {
    let out = run(
        proxy,
        moto,
        &["plan", "-f", f.path_str(), "--detailed-exitcode"],
    )
    .await;
    assert!(
        out.status.code() == Some(0),
        "the plan after {what} is not empty:\n{}",
        show(&out)
    );
}

/// `apply` through `proxy` in one run, then an empty plan.
async fn apply_converges(proxy: &FaultProxy, moto: &Moto, what: &str, f: &Fixture) {
    let args = ["apply", "-f", f.path_str(), "--auto-approve"];
    must_pass(proxy, moto, what, &args).await;
    plan_is_empty(proxy, moto, what, f).await;
}

/// `destroy` through `proxy` in one run.
async fn destroy(proxy: &FaultProxy, moto: &Moto, f: &Fixture) {
    let args = ["destroy", "-f", f.path_str(), "--auto-approve"];
    must_pass(proxy, moto, "destroy", &args).await;
}

/// What the proxy injected: `quirk:<row>`, `lost:<service:Action>`, ...
fn injected(proxy: &FaultProxy) -> BTreeSet<String> {
    proxy.stats()["injected"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// The injections of one kind (`quirk`, `lost`), by what follows the colon.
fn of_kind(injected: &BTreeSet<String>, kind: &str) -> BTreeSet<String> {
    let prefix = format!("{kind}:");
    injected
        .iter()
        .filter_map(|k| k.strip_prefix(&prefix).map(String::from))
        .collect()
}

/// Apply, edit, destroy one system with `faults` on, each in one run, each next plan empty,
/// nothing left; returns what the proxy injected.
async fn lifecycle(
    file: &str,
    prefix: &str,
    faults: serde_json::Value,
    edits: &[(&str, &str)],
) -> BTreeSet<String> {
    let moto = Moto::start();
    let stack = unique_stack(prefix);
    let mut fixture = Fixture::from_repo_file(&stack, file);
    let proxy = FaultProxy::start(moto, &faults);
    apply_converges(&proxy, moto, "the first apply", &fixture).await;
    for (from, to) in edits {
        fixture.edit(None, from, to);
    }
    apply_converges(&proxy, moto, "the edit's apply", &fixture).await;
    destroy(&proxy, moto, &fixture).await;
    let left: Vec<_> = tagged_counts(moto, &stack)
        .await
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .collect();
    assert!(left.is_empty(), "destroy left {left:?}");
    injected(&proxy)
}

fn every_quirk() -> serde_json::Value {
    json!({"seed": 26, "quirks": {"rows": "all", "times": 1}})
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| n.to_string()).collect()
}

fn assert_answered(injected: &BTreeSet<String>, expected: &[&str]) {
    let answered = of_kind(injected, "quirk");
    let missing: Vec<_> = set(expected).difference(&answered).cloned().collect();
    assert!(
        missing.is_empty(),
        "rows never answered: {missing:?} (answered: {answered:?})"
    );
}

fn assert_lost(injected: &BTreeSet<String>, expected: &[&str]) {
    let lost = of_kind(injected, "lost");
    let missing: Vec<_> = set(expected).difference(&lost).cloned().collect();
    assert!(
        missing.is_empty(),
        "answers never lost: {missing:?} (lost: {lost:?})"
    );
}

/// Rows every system meets: its cluster, services, roles, log groups, groups and gateway.
const EVERY_SYSTEM: &[&str] = &[
    "ecs_service_linked_role",
    "ecs_service_linked_role_service",
    "ecs_service_role",
    "ecs_cluster_not_visible",
    "ecs_deployments_active",
    "ecs_cluster_updating",
    "iam_concurrent",
    "iam_delete_conflict",
    "apigateway_conflict",
    "logs_aborted",
    "group_in_use",
    "gateway_detached",
];

#[tokio::test(flavor = "multi_thread")]
async fn the_example_settles_in_one_run_each_step() {
    // An HTTPS listener whose certificate ACM issued a moment ago.
    let acm = aws_sdk_acm::Client::new(&Moto::start().sdk_config().await);
    let certificate = acm
        .request_certificate()
        .domain_name("settling.example.com")
        .send()
        .await
        .expect("a certificate")
        .certificate_arn()
        .expect("its ARN")
        .to_string();
    let https = format!(
        "    - port: 80\n      protocol: HTTP\n    - {{port: 443, protocol: HTTPS, certificate_arn: \"{certificate}\"}}\n"
    );
    let answered = lifecycle(
        "topology.example.yaml",
        "settle-ex",
        every_quirk(),
        &[
            ("LOG_LEVEL: info", "LOG_LEVEL: debug"),
            ("    - port: 80\n      protocol: HTTP\n", &https),
        ],
    )
    .await;
    let mut expected = EVERY_SYSTEM.to_vec();
    expected.extend(["ecs_target_group_not_seen", "certificate_not_visible"]);
    assert_answered(&answered, &expected);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_school_system_settles_in_one_run_each_step() {
    let answered = lifecycle(
        "topology.school.yaml",
        "settle-sc",
        every_quirk(),
        &[
            (
                "    port: 8080\n",
                "    port: 8080\n    environment: {LOG_LEVEL: debug}\n",
            ),
            (
                "throttle: {rate: 50, burst: 100}",
                "throttle: {rate: 60, burst: 100}",
            ),
            // The other front: a VPC link V2 to an internal ALB (API Gateway V2 calls).
            ("  stage: Test\n", "  stage: Test\n  via: alb\n"),
        ],
    )
    .await;
    let mut expected = EVERY_SYSTEM.to_vec();
    expected.push("apigatewayv2_conflict");
    assert_answered(&answered, &expected);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_production_system_settles_in_one_run_each_step() {
    let answered = lifecycle(
        "topology.production.yaml",
        "settle-pr",
        every_quirk(),
        &[
            ("instance_class: db.t3.micro", "instance_class: db.t3.small"),
            // Destroy refuses while it is on.
            ("deletion_protection: true", "deletion_protection: false"),
            (
                "    port: 8080\n",
                "    port: 8080\n    environment: {LOG_LEVEL: debug}\n",
            ),
        ],
    )
    .await;
    let mut expected = EVERY_SYSTEM.to_vec();
    expected.extend([
        "scaling_service_unknown",
        "scaling_role_not_assumable",
        "scaling_role_unusable",
        "scaling_target_unknown",
        "rds_busy",
        "rds_busy_delete",
    ]);
    assert_answered(&answered, &expected);
}

/// Every create whose first answer is lost after AWS acted (a 500 the SDK retries).
fn lost_creates() -> serde_json::Value {
    json!({"seed": 27, "lose_answers": [
        "*:Create*", "*:Allocate*", "*:Register*", "*:Put*", "*:Authorize*", "*:Attach*",
        "*:Associate*", "apigateway:POST *", "apigateway:PUT *"
    ]})
}

/// The creates of every system, each of which had its answer lost.
const CREATES: &[&str] = &[
    "ec2:CreateVpc",
    "ec2:CreateSubnet",
    "ec2:CreateInternetGateway",
    "ec2:AttachInternetGateway",
    "ec2:AllocateAddress",
    "ec2:CreateNatGateway",
    "ec2:CreateRouteTable",
    "ec2:CreateRoute",
    "ec2:AssociateRouteTable",
    "ec2:CreateSecurityGroup",
    "ec2:AuthorizeSecurityGroupIngress",
    "iam:CreateRole",
    "iam:AttachRolePolicy",
    "logs:CreateLogGroup",
    "logs:PutRetentionPolicy",
    "servicediscovery:CreatePrivateDnsNamespace",
    "servicediscovery:CreateService",
    "ecs:CreateCluster",
    "ecs:RegisterTaskDefinition",
    "ecs:CreateService",
    "elasticloadbalancing:CreateLoadBalancer",
    "elasticloadbalancing:CreateTargetGroup",
    "elasticloadbalancing:CreateListener",
    "apigateway:POST /vpclinks",
    "apigateway:POST /restapis",
    "apigateway:POST /restapis/{}/resources/{}",
    "apigateway:PUT /restapis/{}/resources/{}/methods/{}",
    "apigateway:PUT /restapis/{}/resources/{}/methods/{}/integration",
    "apigateway:POST /restapis/{}/deployments",
    "apigateway:POST /restapis/{}/stages",
];

#[tokio::test(flavor = "multi_thread")]
async fn the_example_converges_when_create_answers_are_lost() {
    let injected = lifecycle(
        "topology.example.yaml",
        "lost-ex",
        lost_creates(),
        &[("LOG_LEVEL: info", "LOG_LEVEL: debug")],
    )
    .await;
    let mut expected = CREATES.to_vec();
    expected.extend(["elasticloadbalancing:CreateRule", "ecr:CreateRepository"]);
    assert_lost(&injected, &expected);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_school_system_converges_when_create_answers_are_lost() {
    let injected = lifecycle(
        "topology.school.yaml",
        "lost-sc",
        lost_creates(),
        &[(
            "    port: 8080\n",
            "    port: 8080\n    environment: {LOG_LEVEL: debug}\n",
        )],
    )
    .await;
    assert_lost(&injected, CREATES);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_production_system_converges_when_create_answers_are_lost() {
    let injected = lifecycle(
        "topology.production.yaml",
        "lost-pr",
        lost_creates(),
        &[
            ("instance_class: db.t3.micro", "instance_class: db.t3.small"),
            ("deletion_protection: true", "deletion_protection: false"),
            (
                "    port: 8080\n",
                "    port: 8080\n    environment: {LOG_LEVEL: debug}\n",
            ),
        ],
    )
    .await;
    let mut expected = CREATES.to_vec();
    expected.extend([
        "ecr:CreateRepository",
        "rds:CreateDBSubnetGroup",
        "rds:CreateDBInstance",
        "application-autoscaling:RegisterScalableTarget",
        "application-autoscaling:PutScalingPolicy",
        "monitoring:PutMetricAlarm",
    ]);
    assert_lost(&injected, &expected);
}

/// A NAT gateway that AWS reports `failed` (no free address in its subnet): the apply that
/// created it does not end green, the next plan replaces it saying why, and once AWS can make
/// one the next apply converges.
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_nat_gateway_fails_the_apply_and_the_plan_replaces_it() {
    let moto = Moto::start();
    let stack = unique_stack("natfail");
    let fixture = Fixture::seed(&stack);
    let path = fixture.path_str().to_string();
    let proxy = FaultProxy::start(moto, &json!({"nat_fail": true}));
    let out = run(&proxy, moto, &["apply", "-f", &path, "--auto-approve"]).await;
    let text = show(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("failed: NAT gateway nat-")
            && text.contains(
                "InsufficientFreeAddressesInSubnet: Subnet has insufficient free addresses"
            ),
        "the apply does not name the failed gateway and AWS's reason:\n{text}"
    );
    let plan = run(&proxy, moto, &["plan", "-f", &path, "--detailed-exitcode"]).await;
    let shown = show(&plan);
    assert_eq!(plan.status.code(), Some(2), "{shown}");
    assert!(
        shown.contains("nat.1") && shown.contains("InsufficientFreeAddressesInSubnet"),
        "the plan hides the failed gateway:\n{shown}"
    );
    let planned = run(&proxy, moto, &["plan", "-f", &path, "--json"]).await;
    let steps = common::steps(&serde_json::from_slice(&planned.stdout).expect("plan JSON"));
    assert!(
        steps.contains(&common::pair("nat.1", "replace")),
        "the failed gateway is not replaced: {steps:?}"
    );
    // AWS can make one now: the next apply replaces it and converges.
    proxy.configure(&json!({"nat_fail": false}));
    apply_converges(&proxy, moto, "the apply after", &fixture).await;
    destroy(&proxy, moto, &fixture).await;
}
