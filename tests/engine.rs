//! The engine (diff → schedule → execute) against the in-memory cloud, which refuses to create
//! anything whose references do not exist yet and to delete anything still referenced — the
//! ordering rules AWS enforces and moto mostly does not.

use ecsform::cloud::fake::FakeCloud;
use ecsform::cloud::Cloud;
use ecsform::desired::expand;
use ecsform::execute::{execute, Halt, HaltReason, Outcome, Silent};
use ecsform::model::{Desired, Kind};
use ecsform::plan::diff::diff;
use ecsform::plan::schedule::schedule;
use ecsform::plan::Action;
use ecsform::topology::{parse_str, Topology};

fn example() -> Topology {
    example_edited(str::to_string)
}

/// The example with `edit` applied to its text.
fn example_edited(edit: impl Fn(&str) -> String) -> Topology {
    let src = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/topology.example.yaml"
    ))
    .expect("example");
    parse_str(&edit(&src), "topology.example.yaml")
        .map_err(|e| e.to_string())
        .expect("valid example")
        .topology
}

/// Observe, diff, schedule, execute: one `apply` (or `destroy` with an empty desired state).
async fn converge(
    cloud: &FakeCloud,
    desired: &Desired,
    parallelism: usize,
) -> ecsform::execute::Report {
    let observed = cloud.observe("shop", desired).await.expect("observe");
    let plan = diff("shop", "us-east-1", desired, &observed);
    let sched = schedule(&plan, desired, &observed).expect("acyclic");
    execute(
        cloud,
        &plan,
        &sched,
        &observed,
        parallelism,
        &Silent,
        &Halt::default(),
    )
    .await
}

/// `converge` with a halt that another task may set while it runs.
async fn converge_until(
    cloud: &FakeCloud,
    desired: &Desired,
    halt: &Halt,
) -> ecsform::execute::Report {
    let observed = cloud.observe("shop", desired).await.expect("observe");
    let plan = diff("shop", "us-east-1", desired, &observed);
    let sched = schedule(&plan, desired, &observed).expect("acyclic");
    execute(cloud, &plan, &sched, &observed, 4, &Silent, halt).await
}

/// Executes a schedule already inspected by the test, and requires every operation to succeed.
async fn execute_to_success(
    cloud: &FakeCloud,
    plan: &ecsform::plan::Plan,
    sched: &ecsform::plan::schedule::Schedule,
    observed: &ecsform::model::Observed,
) {
    let report = execute(cloud, plan, sched, observed, 16, &Silent, &Halt::default()).await;
    assert!(
        report.succeeded(),
        "{:?}",
        report.failed().collect::<Vec<_>>()
    );
}

async fn pending_steps(cloud: &FakeCloud, desired: &Desired) -> usize {
    let observed = cloud.observe("shop", desired).await.expect("observe");
    diff("shop", "us-east-1", desired, &observed).steps.len()
}

#[tokio::test]
async fn apply_creates_everything_in_dependency_order_then_plans_nothing() {
    let cloud = FakeCloud::new();
    let desired = expand(&example(), "us-east-1");
    let report = converge(&cloud, &desired, 16).await;
    assert!(
        report.succeeded(),
        "{:?}",
        report.failed().collect::<Vec<_>>()
    );
    assert_eq!(cloud.len(), desired.resources.len());
    assert_eq!(pending_steps(&cloud, &desired).await, 0);
}

#[tokio::test]
async fn destroy_deletes_dependents_first_and_leaves_nothing() {
    let cloud = FakeCloud::new();
    let desired = expand(&example(), "us-east-1");
    assert!(converge(&cloud, &desired, 16).await.succeeded());
    // The fake refuses to delete anything still referenced: success proves the order.
    let report = converge(&cloud, &Desired::default(), 16).await;
    assert!(
        report.succeeded(),
        "{:?}",
        report.failed().collect::<Vec<_>>()
    );
    assert!(cloud.is_empty());
}

#[tokio::test]
async fn destroy_deletes_the_rest_api_whole_and_its_vpc_link_only_after_it() {
    let cloud = FakeCloud::new();
    let desired = expand(&example(), "us-east-1");
    assert!(converge(&cloud, &desired, 16).await.succeeded());
    let calls_before = cloud.calls().len();
    let observed = cloud.observe("shop", &desired).await.expect("observe");
    let nothing = Desired::default();
    let plan = diff("shop", "us-east-1", &nothing, &observed);
    let sched = schedule(&plan, &nothing, &observed).expect("acyclic");
    let op = |id: &str| {
        sched
            .ops
            .iter()
            .position(|o| o.id.as_str() == id)
            .unwrap_or_else(|| panic!("no op for {id}"))
    };
    let api_children: Vec<usize> = sched
        .ops
        .iter()
        .enumerate()
        .filter(|(_, o)| {
            let kind = observed.resources[&o.id].resource.kind();
            matches!(
                kind,
                Kind::ApiResource | Kind::ApiMethod | Kind::ApiDeployment | Kind::ApiStage
            )
        })
        .map(|(i, _)| i)
        .collect();
    assert!(api_children.len() >= 5, "{api_children:?}");
    for &i in &api_children {
        assert_eq!(
            sched.ops[i].deleted_with.as_ref().map(|p| p.as_str()),
            Some("api"),
            "{}",
            sched.ops[i].id
        );
    }
    // AWS refuses to delete a VPC link a stage still serves: the link waits for the API.
    assert!(sched.after[op("vpc-link")].contains(&op("api")));
    execute_to_success(&cloud, &plan, &sched, &observed).await;
    assert!(cloud.is_empty());
    let calls = cloud.calls()[calls_before..].to_vec();
    let api_calls: Vec<&String> = calls
        .iter()
        .filter(|c| c.starts_with("delete api"))
        .collect();
    assert_eq!(
        api_calls,
        ["delete api"],
        "one DeleteRestApi, no call per child"
    );
    let at = |call: &str| calls.iter().position(|c| c == call);
    assert!(at("delete api") < at("delete vpc-link"), "{calls:?}");
}

/// `via: nlb` ↔ `via: alb` turns the REST VPC link into a V2 link under the same id: the new
/// link comes first, the methods and the stage move to it, then the old link goes (AWS refuses
/// to delete a link a method or a stage still uses), both ways.
#[tokio::test]
async fn switching_the_api_front_creates_the_new_vpc_link_first_both_ways() {
    use ecsform::kinds::ReplaceOrder;
    let cloud = FakeCloud::new();
    let nlb = example();
    let alb = example_edited(|s| s.replace("  stage: prod\n", "  stage: prod\n  via: alb\n"));
    assert!(converge(&cloud, &expand(&nlb, "us-east-1"), 16)
        .await
        .succeeded());
    for to in [&alb, &nlb] {
        let desired = expand(to, "us-east-1");
        let observed = cloud.observe("shop", &desired).await.expect("observe");
        let plan = diff("shop", "us-east-1", &desired, &observed);
        let link = plan.step("vpc-link").expect("the link is replaced");
        assert_eq!(link.action, Action::Replace);
        assert_eq!(
            link.replacement.map(|r| r.order),
            Some(ReplaceOrder::CreateFirst)
        );
        let sched = schedule(&plan, &desired, &observed).expect("acyclic");
        let op = |id: &str, kind: ecsform::plan::schedule::OpKind| {
            sched
                .ops
                .iter()
                .position(|o| o.id.as_str() == id && o.kind == kind)
                .unwrap_or_else(|| panic!("no {kind:?} of {id}"))
        };
        use ecsform::plan::schedule::OpKind::{Delete, Update};
        assert!(sched.after[op("vpc-link", Delete)].contains(&op("api.stage.prod", Update)));
        execute_to_success(&cloud, &plan, &sched, &observed).await;
        assert_eq!(pending_steps(&cloud, &desired).await, 0);
    }
}

#[tokio::test]
async fn a_failed_create_skips_only_its_dependents_and_a_rerun_converges() {
    let cloud = FakeCloud::new();
    let desired = expand(&example(), "us-east-1");
    cloud.fail_on("sg.svc.user-service");
    let report = converge(&cloud, &desired, 4).await;
    let failed: Vec<String> = report.failed().map(|r| r.id.to_string()).collect();
    assert_eq!(failed, vec!["sg.svc.user-service"]);
    let skipped: Vec<String> = report.skipped().map(|r| r.id.to_string()).collect();
    assert!(skipped.contains(&"sg.svc.user-service.from.sg.svc.api-gateway".to_string()));
    assert!(skipped.contains(&"service.user-service".to_string()));
    assert!(
        !skipped.iter().any(|s| s.contains("order-service")),
        "independent work was skipped: {skipped:?}"
    );
    for r in &report.ops {
        if let Outcome::Skipped(cause) = &r.outcome {
            assert_eq!(cause.as_str(), "sg.svc.user-service");
        }
    }
    cloud.heal();
    let rerun = converge(&cloud, &desired, 4).await;
    assert!(rerun.succeeded());
    // Only what was missing was created the second time.
    assert_eq!(rerun.ops.len(), failed.len() + skipped.len());
    assert_eq!(pending_steps(&cloud, &desired).await, 0);
}

#[tokio::test]
async fn serial_and_parallel_runs_reach_the_same_state() {
    let desired = expand(&example(), "us-east-1");
    for parallelism in [1, 3, 64] {
        let cloud = FakeCloud::new();
        assert!(converge(&cloud, &desired, parallelism).await.succeeded());
        assert_eq!(
            pending_steps(&cloud, &desired).await,
            0,
            "parallelism {parallelism}"
        );
    }
}

/// With one slot, the long chains of AWS time start first: the VPC (under the NAT gateway, the
/// NLB and its 10-minute VPC link) before the other roots, and when the slot frees it goes to
/// the NLB's chain (subnets, its group, the NLB, the VPC link) before quick leaves that were
/// ready and waiting earlier (the execution role, log groups, the repository).
#[tokio::test]
async fn the_slowest_chains_start_first() {
    let cloud = FakeCloud::new();
    cloud.op_latency(std::time::Duration::from_millis(3));
    let desired = expand(&example(), "us-east-1");
    assert!(converge(&cloud, &desired, 1).await.succeeded());
    let calls = cloud.calls();
    let at = |id: &str| {
        calls
            .iter()
            .position(|c| c == &format!("create {id}"))
            .unwrap_or_else(|| panic!("{id} not created: {calls:?}"))
    };
    assert_eq!(at("vpc"), 0, "{calls:?}");
    for quick in [
        "role.task-execution",
        "log.api-gateway",
        "ecr.product-service",
    ] {
        assert!(
            at("nlb") < at(quick) || at("vpc-link") < at(quick),
            "{quick}: {calls:?}"
        );
    }
    assert!(at("vpc-link") < at("alb.listener.80"), "{calls:?}");
}

/// Waiting for a rate limit must not hold one of the `--parallelism` slots: with one slot and
/// every log group held back by pacing, everything else (none of it needs a log group) runs first.
#[tokio::test]
async fn operations_waiting_for_rate_limits_leave_their_slot_to_others() {
    let cloud = FakeCloud::new();
    cloud.pace_kind(Kind::LogGroup, std::time::Duration::from_millis(300));
    let desired = expand(&example(), "us-east-1");
    assert!(converge(&cloud, &desired, 1).await.succeeded());
    let calls = cloud.calls();
    let first_log = calls
        .iter()
        .position(|c| c.starts_with("create log."))
        .expect("log groups created");
    assert!(
        calls[first_log..]
            .iter()
            .all(|c| c.starts_with("create log.")),
        "a paced log group held the only slot: {calls:?}"
    );
    assert_eq!(cloud.len(), desired.resources.len());
}

#[tokio::test]
async fn replacing_a_security_group_moves_its_users_first() {
    let cloud = FakeCloud::new();
    let desired = expand(&example(), "us-east-1");
    assert!(converge(&cloud, &desired, 8).await.succeeded());
    // A new description forces a new group; rules on it and from it must be recreated.
    let mut changed = desired.clone();
    if let Some(ecsform::model::Resource::SecurityGroup(g)) = changed
        .resources
        .get_mut(&ecsform::model::ResourceId::new("sg.svc.order-service"))
    {
        g.description.push_str(" (v2)");
    }
    let observed = cloud.observe("shop", &changed).await.expect("observe");
    let plan = diff("shop", "us-east-1", &changed, &observed);
    assert_eq!(
        plan.step("sg.svc.order-service").map(|s| s.action),
        Some(Action::Replace)
    );
    assert_eq!(
        plan.step("sg.svc.product-service.from.sg.svc.order-service")
            .map(|s| s.action),
        Some(Action::Replace)
    );
    assert_eq!(
        plan.step("service.order-service").map(|s| s.action),
        Some(Action::Update)
    );
    let report = converge(&cloud, &changed, 8).await;
    // The ECS service still holds the old group while it is deleted: AWS (and the fake) refuse
    // that until the service moves, which the cloud layer retries; here it must be reported.
    let failed: Vec<String> = report.failed().map(|r| r.id.to_string()).collect();
    assert!(
        failed.is_empty() || failed == vec!["sg.svc.order-service"],
        "{failed:?}"
    );
}

#[tokio::test]
async fn a_port_change_moves_traffic_to_a_new_target_group_without_violating_references() {
    let cloud = FakeCloud::new();
    let desired = expand(&example(), "us-east-1");
    assert!(converge(&cloud, &desired, 8).await.succeeded());
    let src = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/topology.example.yaml"
    ))
    .expect("example");
    let moved = parse_str(&src.replace("port: 3000", "port: 3100"), "t.yaml")
        .map_err(|e| e.to_string())
        .expect("valid")
        .topology;
    let moved = expand(&moved, "us-east-1");
    // The fake refuses to delete the old group while the rule or the service still use it.
    let report = converge(&cloud, &moved, 8).await;
    assert!(
        report.succeeded(),
        "{:?}",
        report.failed().collect::<Vec<_>>()
    );
    assert_eq!(pending_steps(&cloud, &moved).await, 0);
}

/// The orders AWS enforces without a reference: with the edges removed, the in-memory cloud
/// refuses the ECS service (no listener rule forwards to its target group yet) and the NAT
/// gateway (no internet gateway attached), as AWS does. With them, the first apply succeeds.
#[tokio::test]
async fn the_first_apply_respects_the_orders_aws_enforces() {
    let desired = expand(&example(), "us-east-1");
    let observed = ecsform::model::Observed::default();
    let plan = diff("shop", "us-east-1", &desired, &observed);
    let sched = schedule(&plan, &desired, &observed).expect("acyclic");
    let op = |id: &str| {
        sched
            .ops
            .iter()
            .position(|o| o.id.as_str() == id)
            .unwrap_or_else(|| panic!("{id} not scheduled"))
    };
    let waits_for = |a: &str, b: &str| sched.after[op(a)].contains(&op(b));
    assert!(
        waits_for("service.api-gateway", "alb.listener.80.rule.1"),
        "ECS service before its rule"
    );
    assert!(
        waits_for("nat.1", "igw"),
        "NAT gateway before the internet gateway"
    );
    // Serially, in the lowest-index order the executor uses: any missing edge would fail here.
    for parallelism in [1, 64] {
        let cloud = FakeCloud::new();
        let report = converge(&cloud, &desired, parallelism).await;
        assert!(
            report.succeeded(),
            "{:?}",
            report.failed().collect::<Vec<_>>()
        );
    }
}

#[tokio::test]
async fn a_halt_before_the_start_starts_nothing() {
    let cloud = FakeCloud::new();
    let desired = expand(&example(), "us-east-1");
    let halt = Halt::default();
    halt.set(HaltReason::Signal(15));
    let report = converge_until(&cloud, &desired, &halt).await;
    assert!(cloud.calls().is_empty(), "{:?}", cloud.calls());
    assert_eq!(report.left(), report.ops.len());
    assert_eq!(report.ops.len(), desired.resources.len());
}

/// A signal mid-apply: what is in flight finishes, nothing new starts, nothing fails, and the
/// next run creates exactly what is left.
#[tokio::test]
async fn a_halt_mid_apply_lets_in_flight_work_finish_and_the_rerun_converges() {
    let cloud = FakeCloud::new();
    cloud.pace_kind(Kind::LogGroup, std::time::Duration::from_millis(200));
    let desired = expand(&example(), "us-east-1");
    let halt = Halt::default();
    let trigger = halt.clone();
    let stopper = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        trigger.set(HaltReason::Signal(2));
    });
    let report = converge_until(&cloud, &desired, &halt).await;
    stopper.await.expect("stopper");
    assert_eq!(report.failed().count(), 0);
    assert!(report.done() > 0, "the un-paced work ran before the halt");
    assert!(report.left() > 0, "the paced log groups were never started");
    assert_eq!(report.done() + report.left(), report.ops.len());
    assert_eq!(cloud.len(), report.done());
    assert!(
        !cloud.calls().iter().any(|c| c.starts_with("create log.")),
        "{:?}",
        cloud.calls()
    );
    let rerun = converge(&cloud, &desired, 4).await;
    assert!(rerun.succeeded());
    assert_eq!(rerun.ops.len(), report.left());
    assert_eq!(pending_steps(&cloud, &desired).await, 0);
}

/// A wrapper failing the k-th create of a kind: only that operation fails, only what depends on
/// it is skipped, and the next run (the failure was transient) converges.
#[tokio::test]
async fn the_kth_failure_of_a_kind_fails_only_that_operation_and_a_rerun_converges() {
    use ecsform::cloud::failing::{FailNth, FailingCloud};
    use ecsform::cloud::CloudError;
    use ecsform::plan::schedule::OpKind;
    let cloud = FailingCloud::new(
        FakeCloud::new(),
        vec![FailNth {
            kind: Kind::SecurityGroup,
            op: OpKind::Create,
            nth: 2,
            error: CloudError::Throttled("RequestLimitExceeded: injected".into()),
        }],
    );
    let desired = expand(&example(), "us-east-1");
    let run = || async {
        let observed = cloud.observe("shop", &desired).await.expect("observe");
        let plan = diff("shop", "us-east-1", &desired, &observed);
        let sched = schedule(&plan, &desired, &observed).expect("acyclic");
        execute(
            &cloud,
            &plan,
            &sched,
            &observed,
            1,
            &Silent,
            &Halt::default(),
        )
        .await
    };
    let first = run().await;
    let failed: Vec<String> = first.failed().map(|r| r.id.to_string()).collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed[0].starts_with("sg."), "{failed:?}");
    assert!(first.skipped().count() > 0);
    assert!(first
        .skipped()
        .all(|r| matches!(&r.outcome, Outcome::Skipped(c) if c.as_str() == failed[0])));
    let rerun = run().await;
    assert!(
        rerun.succeeded(),
        "{:?}",
        rerun.failed().collect::<Vec<_>>()
    );
    assert_eq!(pending_steps(cloud.inner(), &desired).await, 0);
}

/// The plan says how each replacement happens: a security group (its name is unique) goes
/// first and its rules with it; a target group (its name carries the port) comes first.
#[tokio::test]
async fn the_plan_says_how_each_replacement_happens() {
    use ecsform::kinds::ReplaceOrder;
    use ecsform::plan::ReplaceCause;
    let cloud = FakeCloud::new();
    let desired = expand(&example(), "us-east-1");
    assert!(converge(&cloud, &desired, 8).await.succeeded());
    let mut changed = desired.clone();
    if let Some(ecsform::model::Resource::SecurityGroup(g)) = changed
        .resources
        .get_mut(&ecsform::model::ResourceId::new("sg.svc.order-service"))
    {
        g.description.push_str(" (v2)");
    }
    if let Some(ecsform::model::Resource::TargetGroup(tg)) = changed
        .resources
        .get_mut(&ecsform::model::ResourceId::new("tg.api-gateway"))
    {
        tg.port = 3100;
    }
    let observed = cloud.observe("shop", &changed).await.expect("observe");
    let plan = diff("shop", "us-east-1", &changed, &observed);
    let how = |id: &str| {
        let r = plan
            .step(id)
            .and_then(|s| s.replacement)
            .unwrap_or_else(|| panic!("{id} is not replaced"));
        (r.order, r.cause, r.has_gap())
    };
    assert_eq!(
        how("sg.svc.order-service"),
        (ReplaceOrder::DeleteFirst, ReplaceCause::KindRule, true)
    );
    assert_eq!(
        how("sg.svc.order-service.from.sg.svc.api-gateway"),
        (
            ReplaceOrder::DeleteFirst,
            ReplaceCause::FollowsDeleteFirst,
            true
        )
    );
    assert_eq!(
        how("tg.api-gateway"),
        (
            ReplaceOrder::CreateFirst,
            ReplaceCause::CoexistsWithOld,
            false
        )
    );
    assert!(plan
        .steps
        .iter()
        .all(|s| s.replacement.is_some() == (s.action == Action::Replace)));
    let json = ecsform::plan::render::render_json(&plan);
    assert!(
        json.contains("\"order\":\"create_first\"") || json.contains("\"order\": \"create_first\""),
        "{json}"
    );
}

/// The `apply` and `destroy` commands (after the lock) run against any cloud: here the
/// in-memory one, with `--wait`; a signal before the start makes `apply` change nothing and
/// exit 130.
#[tokio::test]
async fn the_apply_and_destroy_commands_run_against_the_in_memory_cloud() {
    use ecsform::commands::{
        apply::{apply_cmd, ApplyOptions},
        destroy::{destroy_cmd, DestroyOptions},
        exit_code,
    };
    let cloud = FakeCloud::new();
    let t = example();
    let desired = expand(&t, "us-east-1");

    let stopped = Halt::default();
    stopped.set(HaltReason::Signal(2));
    let err = apply_cmd(
        &cloud,
        &t,
        None,
        &ApplyOptions {
            auto_approve: true,
            parallelism: 8,
            wait: false,
            ..Default::default()
        },
        &stopped,
    )
    .await
    .expect_err("a halted apply fails");
    assert_eq!(
        format!("{:?}", exit_code(&err)),
        format!("{:?}", std::process::ExitCode::from(130))
    );
    assert!(cloud.is_empty(), "{:?}", cloud.calls());

    let halt = Halt::default();
    apply_cmd(
        &cloud,
        &t,
        None,
        &ApplyOptions {
            auto_approve: true,
            parallelism: 8,
            wait: true,
            ..Default::default()
        },
        &halt,
    )
    .await
    .expect("apply");
    assert_eq!(cloud.len(), desired.resources.len());
    assert_eq!(pending_steps(&cloud, &desired).await, 0);
    apply_cmd(
        &cloud,
        &t,
        None,
        &ApplyOptions {
            auto_approve: true,
            parallelism: 8,
            wait: false,
            ..Default::default()
        },
        &halt,
    )
    .await
    .expect("a second apply: nothing to do");
    let destroy = DestroyOptions {
        auto_approve: true,
        parallelism: 8,
        ..Default::default()
    };
    // A new CIDR replaces the VPC: refused without `--allow-replace vpc`, and not one call.
    let moved = parse_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/topology.example.yaml"
        ))
        .expect("example")
        .replace("cidr: 10.0.0.0/16", "cidr: 10.1.0.0/16"),
        "topology.yaml",
    )
    .map_err(|e| e.to_string())
    .expect("valid")
    .topology;
    let calls = cloud.calls().len();
    let err = apply_cmd(
        &cloud,
        &moved,
        None,
        &ApplyOptions {
            auto_approve: true,
            parallelism: 8,
            ..Default::default()
        },
        &halt,
    )
    .await
    .expect_err("a VPC replacement needs --allow-replace");
    let text = format!("{err:#}");
    assert!(
        text.contains("vpc (REBUILD") && text.contains("--allow-replace vpc"),
        "{text}"
    );
    assert_eq!(cloud.calls().len(), calls, "nothing was changed");
    destroy_cmd(&cloud, &t, &destroy, &halt)
        .await
        .expect("destroy");
    assert!(cloud.is_empty());
}
