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

/// The quirk rows the proxy answered, by name.
fn answered(proxy: &FaultProxy) -> BTreeSet<String> {
    proxy.stats()["injected"]
        .as_object()
        .map(|m| {
            m.keys()
                .filter_map(|k| k.strip_prefix("quirk:").map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Apply, edit, destroy one system with `faults` on, each in one run, each next plan empty,
/// nothing left; returns the quirk rows answered.
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
    let path = fixture.path_str().to_string();
    must_pass(
        &proxy,
        moto,
        "first apply",
        &["apply", "-f", &path, "--auto-approve"],
    )
    .await;
    plan_is_empty(&proxy, moto, "the first apply", &fixture).await;
    for (from, to) in edits {
        fixture.edit(None, from, to);
    }
    must_pass(
        &proxy,
        moto,
        "the edit's apply",
        &["apply", "-f", &path, "--auto-approve"],
    )
    .await;
    plan_is_empty(&proxy, moto, "the edit", &fixture).await;
    must_pass(
        &proxy,
        moto,
        "destroy",
        &["destroy", "-f", &path, "--auto-approve"],
    )
    .await;
    let left: Vec<_> = tagged_counts(moto, &stack)
        .await
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .collect();
    assert!(left.is_empty(), "destroy left {left:?}");
    answered(&proxy)
}

fn every_quirk() -> serde_json::Value {
    json!({"seed": 26, "quirks": {"rows": "all", "times": 1}})
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| n.to_string()).collect()
}

fn assert_answered(answered: &BTreeSet<String>, expected: &[&str]) {
    let missing: Vec<_> = set(expected).difference(answered).cloned().collect();
    assert!(
        missing.is_empty(),
        "rows never answered: {missing:?} (answered: {answered:?})"
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
        ],
    )
    .await;
    assert_answered(&answered, EVERY_SYSTEM);
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
