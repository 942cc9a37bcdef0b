//! What real AWS does and moto does not, reproduced by the fault proxy between the SDK and moto:
//! throttling, 5xx, dropped connections, pending resources, eventual consistency and lingering
//! deletion dependencies. Each run is seeded, so a failure reproduces.

mod common;

use common::probe::{desired_counts, tagged_counts};
use common::proxy::FaultProxy;
use common::{unique_stack, Fixture, Moto};
use ecsform::model::Kind;
use serde_json::json;
use std::collections::BTreeMap;

fn assert_counts(actual: &BTreeMap<Kind, usize>, expected: &BTreeMap<Kind, usize>) {
    for (kind, count) in actual {
        assert_eq!(
            Some(count),
            expected.get(kind).or(Some(&0)),
            "{kind}: {actual:?} vs {expected:?}"
        );
    }
}

fn run(mut cmd: assert_cmd::Command, args: &[&str]) -> std::process::Output {
    cmd.args(args).output().expect("running ecsform")
}

/// `run` on a blocking thread, so the test's runtime goes on serving the probes meanwhile.
async fn run_blocking(cmd: assert_cmd::Command, args: &[&str]) -> std::process::Output {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(cmd, &args)
    })
    .await
    .expect("join")
}

fn show(o: &std::process::Output) -> String {
    format!(
        "exit {:?}\n{}\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_converges_under_throttling_5xx_consistency_and_pending_states() {
    let moto = Moto::start();
    for seed in [11, 12, 13] {
        let stack = unique_stack("flaky");
        let fixture = Fixture::seed(&stack);
        let proxy = FaultProxy::start(
            moto,
            &json!({
                "seed": seed,
                "throttle_fraction": 0.10,
                "error_5xx_fraction": 0.02,
                "not_found_after_create_seconds": 1,
                "pending_seconds": {"nat_gateway": 2, "load_balancer": 2, "namespace_operation": 2},
            }),
        );
        let out = run_blocking(
            proxy.ecsform(moto),
            &["apply", "-f", fixture.path_str(), "--auto-approve"],
        )
        .await;
        assert!(
            out.status.success(),
            "seed {seed}: apply failed under faults:\n{}",
            show(&out)
        );
        let stats = proxy.stats();
        let injected = stats["injected"]
            .as_object()
            .map(|m| m.values().filter_map(|v| v.as_u64()).sum::<u64>())
            .unwrap_or(0);
        assert!(
            injected > 0,
            "seed {seed}: the proxy injected nothing: {stats}"
        );
        // Straight to moto, no faults: nothing left to do.
        let plan = run_blocking(
            moto.ecsform(),
            &["plan", "-f", fixture.path_str(), "--detailed-exitcode"],
        )
        .await;
        assert_eq!(
            plan.status.code(),
            Some(0),
            "seed {seed}: plan after apply:\n{}",
            show(&plan)
        );
        assert_counts(
            &tagged_counts(moto, &stack).await,
            &desired_counts(fixture.text()),
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn destroy_waits_out_lingering_interfaces_and_leaves_nothing() {
    let moto = Moto::start();
    for seed in [21, 22] {
        let stack = unique_stack("linger");
        let fixture = Fixture::seed(&stack);
        let out = run_blocking(
            moto.ecsform(),
            &["apply", "-f", fixture.path_str(), "--auto-approve"],
        )
        .await;
        assert!(out.status.success(), "{}", show(&out));
        let proxy = FaultProxy::start(
            moto,
            &json!({"seed": seed, "linger_seconds": 2, "throttle_fraction": 0.05, "pending_seconds": {"nat_gateway": 1}}),
        );
        let out = run_blocking(
            proxy.ecsform(moto),
            &["destroy", "-f", fixture.path_str(), "--auto-approve"],
        )
        .await;
        assert!(
            out.status.success(),
            "seed {seed}: destroy failed:\n{}",
            show(&out)
        );
        let dependency = proxy.stats()["injected"]["dependency"]
            .as_u64()
            .unwrap_or(0);
        assert!(
            dependency > 0,
            "seed {seed}: no dependency violation was injected"
        );
        let left: Vec<_> = tagged_counts(moto, &stack)
            .await
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .collect();
        assert!(left.is_empty(), "seed {seed}: left behind: {left:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn lost_answers_never_leave_duplicates_after_a_rerun() {
    let moto = Moto::start();
    for seed in [31, 32] {
        let stack = unique_stack("drops");
        let fixture = Fixture::seed(&stack);
        let proxy = FaultProxy::start(
            moto,
            &json!({"seed": seed, "drop_fraction": 0.05, "throttle_fraction": 0.05}),
        );
        // Dropped connections may fail a run; re-running (faults still on) must converge.
        let mut converged = false;
        let mut last = String::new();
        for _ in 0..4 {
            let out = run_blocking(
                proxy.ecsform(moto),
                &["apply", "-f", fixture.path_str(), "--auto-approve"],
            )
            .await;
            if out.status.success() {
                converged = true;
                break;
            }
            last = show(&out);
        }
        assert!(
            converged,
            "seed {seed}: no convergence in 4 runs; the last said:\n{last}"
        );
        // A duplicate created by a retried create is deleted by the next run.
        let out = run_blocking(
            moto.ecsform(),
            &["apply", "-f", fixture.path_str(), "--auto-approve"],
        )
        .await;
        assert!(out.status.success(), "{}", show(&out));
        let plan = run_blocking(
            moto.ecsform(),
            &["plan", "-f", fixture.path_str(), "--detailed-exitcode"],
        )
        .await;
        assert_eq!(plan.status.code(), Some(0), "{}", show(&plan));
        let mut tagged = tagged_counts(moto, &stack).await;
        let desired = desired_counts(fixture.text());
        // moto makes a second load balancer when a CreateLoadBalancer whose answer was lost is
        // sent again; AWS does not: the call is idempotent (same name and settings → the same
        // load balancer; https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html).
        if let (Some(n), Some(want)) = (
            tagged.get_mut(&Kind::LoadBalancer),
            desired.get(&Kind::LoadBalancer),
        ) {
            *n = (*n).min(*want);
        }
        assert_counts(&tagged, &desired);
    }
}

/// AWS refuses an ECS service whose target group no listener or rule forwards to yet, and a
/// NAT gateway in a VPC whose internet gateway is not attached; the proxy refuses both the same
/// way (`aws_orders`). The load balancer stays `provisioning` for 4 s (its listener and rule
/// are created meanwhile, as AWS allows) and the gateway's attach is throttled a few times (so
/// it is attached late): an ECS service or NAT gateway not held back by its edge would be
/// refused. The first apply must get through in one run, with no refusal to retry past.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_orders_aws_enforces_hold_on_the_first_apply() {
    let moto = Moto::start();
    let stack = unique_stack("orders");
    let mut fixture = Fixture::seed(&stack);
    fixture.edit(None, "nat_gateways: 1", "nat_gateways: per_az");
    let proxy = FaultProxy::start(
        moto,
        &json!({
            "aws_orders": true,
            "seed": 7,
            "fault_actions": ["ec2:AttachInternetGateway"],
            "throttle_fraction": 0.6,
            "pending_seconds": {"load_balancer": 4},
        }),
    );
    let out = run_blocking(
        proxy.ecsform(moto),
        &["apply", "-f", fixture.path_str(), "--auto-approve"],
    )
    .await;
    assert!(out.status.success(), "first apply:\n{}", show(&out));
    let stats = proxy.stats();
    assert_eq!(
        stats["injected"].get("order"),
        None,
        "refused as out of order: {stats}"
    );
    let throttled = stats["injected"]["throttle"].as_u64().unwrap_or(0);
    assert!(
        throttled >= 2,
        "the attach was not held back (seed): {stats}"
    );
    for (action, at_least) in [("ecs:CreateService", 5), ("ec2:CreateNatGateway", 2)] {
        let sent = stats["by_action"][action].as_u64().unwrap_or(0);
        assert!(sent >= at_least, "{action}: {sent} sent: {stats}");
    }
    let tagged = tagged_counts(moto, &stack).await;
    assert_eq!(tagged.get(&Kind::NatGateway), Some(&2), "{tagged:?}");
    assert_eq!(tagged.get(&Kind::EcsService), Some(&5), "{tagged:?}");
    let destroyed = run_blocking(
        moto.ecsform(),
        &["destroy", "-f", fixture.path_str(), "--auto-approve"],
    )
    .await;
    assert!(destroyed.status.success(), "{}", show(&destroyed));
}

/// AWS's REST VPC link is PENDING for minutes before AVAILABLE, refuses CreateVpcLink while its
/// NLB is provisioning, refuses a deployment over a link that is not AVAILABLE, lingers
/// DELETING after DeleteVpcLink, and refuses to delete an NLB a link still uses; the proxy does
/// all of it (moto does none). The first apply and the destroy must each get through in one run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_vpc_link_is_waited_for_on_the_way_up_and_down() {
    let moto = Moto::start();
    let stack = unique_stack("link");
    let fixture = Fixture::seed(&stack);
    let proxy = FaultProxy::start(
        moto,
        &json!({
            "aws_orders": true,
            "pending_seconds": {"load_balancer": 2},
            "vpc_link_pending_s": 3,
            "vpc_link_delete_s": 3,
        }),
    );
    let out = run_blocking(
        proxy.ecsform(moto),
        &["apply", "-f", fixture.path_str(), "--auto-approve"],
    )
    .await;
    assert!(out.status.success(), "first apply:\n{}", show(&out));
    let stats = proxy.stats();
    assert_eq!(
        stats["injected"].get("order"),
        None,
        "refused as out of order: {stats}"
    );
    assert_counts(
        &tagged_counts(moto, &stack).await,
        &desired_counts(fixture.text()),
    );
    let destroyed = run_blocking(
        proxy.ecsform(moto),
        &["destroy", "-f", fixture.path_str(), "--auto-approve"],
    )
    .await;
    assert!(destroyed.status.success(), "destroy:\n{}", show(&destroyed));
    let stats = proxy.stats();
    assert_eq!(
        stats["injected"].get("order"),
        None,
        "the NLB was deleted while its link was still there: {stats}"
    );
    let left = tagged_counts(moto, &stack).await;
    assert!(left.values().all(|&n| n == 0), "{left:?}");
}

/// A VPC link AWS cannot set up ends FAILED: the apply stops with AWS's reason, names the link,
/// and creates nothing that needs it (no deployment over a dead link).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_vpc_link_stops_the_apply_with_aws_reason() {
    let moto = Moto::start();
    let stack = unique_stack("linkfail");
    let fixture = Fixture::seed(&stack);
    let proxy = FaultProxy::start(
        moto,
        &json!({"seed": 11, "vpc_link_fail": true, "vpc_link_pending_s": 1}),
    );
    let out = run_blocking(
        proxy.ecsform(moto),
        &["apply", "-f", fixture.path_str(), "--auto-approve"],
    )
    .await;
    assert!(
        !out.status.success(),
        "the apply must fail:\n{}",
        show(&out)
    );
    let text = show(&out);
    assert!(
        text.contains("VPC link") && text.contains("NLB ARN is malformed"),
        "names the link and AWS's reason:\n{text}"
    );
    let tagged = tagged_counts(moto, &stack).await;
    assert_eq!(tagged.get(&Kind::ApiDeployment), Some(&0), "{tagged:?}");
    assert_eq!(tagged.get(&Kind::ApiStage), Some(&0), "{tagged:?}");
    assert_eq!(
        tagged.get(&Kind::EcsService),
        Some(&5),
        "what does not need the link is built: {tagged:?}"
    );
}

/// API Gateway's control plane throttles at 10 requests per second per account: with a share of
/// its calls answered 429 TooManyRequestsException, the apply still gets through in one run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_gateway_throttling_is_retried() {
    let moto = Moto::start();
    let stack = unique_stack("api429");
    let fixture = Fixture::seed(&stack);
    let proxy = FaultProxy::start(
        moto,
        &json!({"seed": 5, "throttle_fraction": 0.3, "fault_actions": ["apigateway:*"]}),
    );
    let out = run_blocking(
        proxy.ecsform(moto),
        &["apply", "-f", fixture.path_str(), "--auto-approve"],
    )
    .await;
    assert!(out.status.success(), "{}", show(&out));
    let stats = proxy.stats();
    assert!(
        stats["injected"]["throttle"].as_u64().unwrap_or(0) >= 3,
        "API Gateway calls were throttled: {stats}"
    );
    assert_counts(
        &tagged_counts(moto, &stack).await,
        &desired_counts(fixture.text()),
    );
}

/// Seed 002 in production under AWS's slowness: the RDS instance stays `creating` with no
/// endpoint for a while, and CloudWatch, Application Auto Scaling and RDS answer a share of
/// their calls with throttling errors. The apply gets through in one run; everything that does
/// not need the endpoint is done before it exists, and only the callers wait for it; destroy
/// gets through too and leaves nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_production_system_converges_while_rds_creates_and_alarms_and_policies_throttle() {
    let moto = Moto::start();
    let stack = unique_stack("prodfault");
    let mut fixture = Fixture::from_repo_file(&stack, "topology.production.yaml");
    fixture.edit(
        None,
        "deletion_protection: true",
        "deletion_protection: false",
    );
    let proxy = FaultProxy::start(
        moto,
        &json!({
            "seed": 7,
            "throttle_fraction": 0.3,
            "fault_actions": ["monitoring:*", "application-autoscaling:*", "rds:*"],
            "pending_seconds": {"db_instance": 4},
        }),
    );
    let out = run_blocking(
        proxy.ecsform(moto),
        &["apply", "-f", fixture.path_str(), "--auto-approve"],
    )
    .await;
    assert!(out.status.success(), "apply:\n{}", show(&out));
    let stats = proxy.stats();
    let throttled: BTreeMap<&str, u64> = ["monitoring:", "application-autoscaling:", "rds:"]
        .into_iter()
        .map(|service| {
            let n = stats["by_action"]
                .as_object()
                .map(|m| m.keys().filter(|k| k.starts_with(service)).count() as u64)
                .unwrap_or(0);
            (service, n)
        })
        .collect();
    assert!(
        stats["injected"]["throttle"].as_u64().unwrap_or(0) >= 5
            && throttled.values().all(|&n| n > 0),
        "throttled: {stats}"
    );
    assert!(
        stats["injected"]["pending"].as_u64().unwrap_or(0) >= 1,
        "the instance was seen creating: {stats}"
    );
    // Finished operations print in order: the instance is done only once the endpoint exists,
    // and by then everything that does not need it is done too; after it, only its callers'
    // task definitions and services (and what hangs off the services).
    let lines =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    let done: Vec<&str> = lines
        .lines()
        .filter(|l| l.starts_with("created "))
        .collect();
    let db_at = done
        .iter()
        .position(|l| l.starts_with("created db.campus-db ("))
        .unwrap_or_else(|| panic!("no line for the instance:\n{lines}"));
    let after: Vec<&str> = done[db_at + 1..].to_vec();
    let waits_for_the_database = |l: &&str| {
        ["taskdef.", "service.", "alarm."]
            .iter()
            .any(|p| l.starts_with(&format!("created {p}")))
    };
    assert!(
        after.iter().all(waits_for_the_database),
        "only the callers wait for the endpoint, not: {:?}\n{lines}",
        after
            .iter()
            .filter(|l| !waits_for_the_database(l))
            .collect::<Vec<_>>()
    );
    assert!(
        after
            .iter()
            .any(|l| l.starts_with("created taskdef.students ")),
        "the callers' task definitions wait for the endpoint:\n{lines}"
    );
    assert!(
        done[..db_at].iter().any(|l| l.starts_with("created api (")),
        "the REST API went on meanwhile:\n{lines}"
    );
    // Straight to moto: nothing left to do, and the callers have the address.
    let plan = run_blocking(
        moto.ecsform(),
        &["plan", "-f", fixture.path_str(), "--detailed-exitcode"],
    )
    .await;
    assert_eq!(plan.status.code(), Some(0), "plan:\n{}", show(&plan));
    assert_counts(
        &tagged_counts(moto, &stack).await,
        &desired_counts(fixture.text()),
    );
    let destroyed = run_blocking(
        proxy.ecsform(moto),
        &["destroy", "-f", fixture.path_str(), "--auto-approve"],
    )
    .await;
    assert!(destroyed.status.success(), "destroy:\n{}", show(&destroyed));
    let left = tagged_counts(moto, &stack).await;
    assert!(left.values().all(|&n| n == 0), "{left:?}");
}

/// Waits and retries say what they wait for, why (the AWS state or error code), elapsed and
/// limit, in a log without a terminal: the VPC link waiting for its provisioning network load
/// balancer on apply (the one create AWS refuses while it provisions), and on destroy
/// a target group AWS keeps `ResourceInUse` and groups held by lingering interfaces.
#[tokio::test(flavor = "multi_thread")]
async fn waits_and_retries_print_what_why_elapsed_and_limit() {
    let moto = Moto::start();
    let stack = unique_stack("progress");
    let fixture = Fixture::seed(&stack);
    let proxy = FaultProxy::start(
        moto,
        &json!({"pending_seconds": {"load_balancer": 3}, "linger_seconds": 3}),
    );
    let out = run_blocking(
        proxy.ecsform(moto),
        &["apply", "-f", fixture.path_str(), "--auto-approve"],
    )
    .await;
    assert!(out.status.success(), "{}", show(&out));
    let log = String::from_utf8_lossy(&out.stderr);
    let waiting: Vec<&str> = log
        .lines()
        .filter(|l| l.starts_with("create vpc-link: waiting for load balancer"))
        .collect();
    assert!(
        waiting
            .iter()
            .any(|l| l.contains(": provisioning, ") && l.ends_with(" of 15m")),
        "{log}"
    );
    assert!(
        waiting.len() <= 4,
        "a line per change of state, not per poll: {waiting:?}"
    );
    let out = run_blocking(
        proxy.ecsform(moto),
        &["destroy", "-f", fixture.path_str(), "--auto-approve"],
    )
    .await;
    assert!(out.status.success(), "{}", show(&out));
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        log.lines().any(|l| (l.starts_with("retrying delete tg.")
            || l.starts_with("retrying delete sg."))
            && (l.contains(": ResourceInUse, ") || l.contains(": DependencyViolation, "))
            && l.ends_with(" of 20m")),
        "{log}"
    );
}

/// On a terminal (a pty from script(1)) the progress bar keeps redrawing while the VPC link
/// waits for its provisioning load balancer, and shows the wait with its state, elapsed time and limit; the wait lines of a
/// log are not printed there.
#[tokio::test(flavor = "multi_thread")]
async fn on_a_terminal_the_bar_ticks_and_shows_the_longest_wait() {
    let moto = Moto::start();
    let stack = unique_stack("pty");
    let fixture = Fixture::seed(&stack);
    let proxy = FaultProxy::start(moto, &json!({"pending_seconds": {"load_balancer": 4}}));
    let mut cmd = std::process::Command::new("script");
    cmd.args([
        "-qec",
        &format!(
            "{} apply -f {} --auto-approve",
            env!("CARGO_BIN_EXE_ecsform"),
            fixture.path_str()
        ),
        "/dev/null",
    ])
    .env("AWS_ENDPOINT_URL", proxy.endpoint())
    .env("AWS_ACCESS_KEY_ID", "test")
    .env("AWS_SECRET_ACCESS_KEY", "test")
    .env("AWS_REGION", "us-east-1")
    .env("AWS_EC2_METADATA_DISABLED", "true")
    .env_remove("AWS_PROFILE")
    .env_remove("ECSFORM_LOCAL");
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("script (util-linux)"))
        .await
        .expect("join");
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{screen}");
    let frames: Vec<&str> = screen
        .split(['\r', '\n'])
        .filter(|f| f.contains("provisioning, ") && f.contains(": waiting for load balancer"))
        .collect();
    assert!(
        frames.len() >= 3,
        "the bar redraws the wait while it lasts: {frames:?}\n{}",
        {
            let all: Vec<char> = screen.escape_debug().to_string().chars().collect();
            all[all.len().saturating_sub(2500)..]
                .iter()
                .collect::<String>()
        }
    );
    assert!(frames.iter().any(|f| f.contains(" of 15m")), "{frames:?}");
    assert!(
        !screen
            .lines()
            .any(|l| l.starts_with("waiting for load balancer")),
        "no log lines on a terminal: {screen}"
    );
}

/// `apply --wait` waits for each service beside the rest of the apply: moto never runs a task,
/// so the proxy starts each service's tasks 3 s after its create (`service_start_s`), while the
/// REST VPC link stays PENDING for 6 s; the services are waited for, and seen settling, before
/// the apply's own work is done, and all are steady at the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_wait_overlaps_each_service_with_the_rest_of_the_apply() {
    let moto = Moto::start();
    let stack = unique_stack("wait");
    let fixture = Fixture::seed(&stack);
    let proxy = FaultProxy::start(
        moto,
        &json!({"service_start_s": 3, "vpc_link_pending_s": 6}),
    );
    let out = run_blocking(
        proxy.ecsform(moto),
        &[
            "apply",
            "-f",
            fixture.path_str(),
            "--auto-approve",
            "--wait",
            "--wait-timeout",
            "2m",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", show(&out));
    let log = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = log.lines().collect();
    let settling = lines
        .iter()
        .position(|l| l.contains("waiting for the ECS services to be steady: settling:"))
        .unwrap_or_else(|| panic!("no settling line:\n{log}"));
    let link_done = lines
        .iter()
        .position(|l| l.starts_with("created vpc-link"))
        .unwrap_or_else(|| panic!("no vpc-link line:\n{log}"));
    assert!(
        settling < link_done,
        "the services were waited for only after the apply:\n{log}"
    );
    assert!(log.contains("All 5 services are steady."), "{log}");
    let destroyed = run_blocking(
        moto.ecsform(),
        &["destroy", "-f", fixture.path_str(), "--auto-approve"],
    )
    .await;
    assert!(destroyed.status.success(), "{}", show(&destroyed));
}

/// Every list read is followed to its last page: with every paged list answered one item a
/// page (AWS may answer fewer items than asked, with a token), the example applies, plans no
/// changes, and destroys to nothing. A read that stopped at its first page would plan the
/// rest again (or miss it on destroy).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_list_is_read_to_its_last_page() {
    let moto = Moto::start();
    let stack = unique_stack("paged");
    let mut fixture = Fixture::from_repo_file(&stack, "topology.example.yaml");
    // Two listeners with two rules each: lists of more than one item everywhere.
    fixture.edit(
        None,
        "    - port: 80\n      protocol: HTTP\n",
        "    - port: 80\n      protocol: HTTP\n    - port: 8080\n      protocol: HTTP\n",
    );
    fixture.edit(
        None,
        "    - path: /*\n",
        "    - path: /admin/*\n      service: api-gateway\n    - path: /*\n",
    );
    let proxy = FaultProxy::start(moto, &json!({"paging": true, "page_max": 1}));
    let out = run_blocking(
        proxy.ecsform(moto),
        &["apply", "-f", fixture.path_str(), "--auto-approve"],
    )
    .await;
    assert!(out.status.success(), "apply:\n{}", show(&out));
    assert_counts(
        &tagged_counts(moto, &stack).await,
        &desired_counts(fixture.text()),
    );
    let plan = run_blocking(
        proxy.ecsform(moto),
        &["plan", "-f", fixture.path_str(), "--detailed-exitcode"],
    )
    .await;
    assert_eq!(plan.status.code(), Some(0), "plan:\n{}", show(&plan));
    let paged = proxy.stats()["injected"]["paged"].as_u64().unwrap_or(0);
    assert!(paged > 20, "hardly any list was paged: {paged}");
    let destroyed = run_blocking(
        proxy.ecsform(moto),
        &["destroy", "-f", fixture.path_str(), "--auto-approve"],
    )
    .await;
    assert!(destroyed.status.success(), "destroy:\n{}", show(&destroyed));
    let left = tagged_counts(moto, &stack).await;
    assert!(left.values().all(|&n| n == 0), "{left:?}");
}
