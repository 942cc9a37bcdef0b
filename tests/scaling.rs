//! Autoscaling and alarms against moto, on the seed-002 production example: scalable targets,
//! step policies with their alarms, target tracking, the service alarms and their SNS action;
//! a count the scaler changed is not drift; every edit in place; destroy leaves nothing.

mod common;

use aws_sdk_applicationautoscaling::types::{PolicyType, ServiceNamespace};
use common::{apply, assert_plan_empty, pair, planned_changes, unique_stack, Fixture, Moto};
use std::collections::{BTreeMap, BTreeSet};

const EXAMPLE: &str = "topology.production.yaml";
const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:campus-ops";

struct Clients {
    scaling: aws_sdk_applicationautoscaling::Client,
    cloudwatch: aws_sdk_cloudwatch::Client,
    ecs: aws_sdk_ecs::Client,
}

impl Clients {
    async fn new(moto: &Moto) -> Clients {
        let conf = moto.sdk_config().await;
        Clients {
            scaling: aws_sdk_applicationautoscaling::Client::new(&conf),
            cloudwatch: aws_sdk_cloudwatch::Client::new(&conf),
            ecs: aws_sdk_ecs::Client::new(&conf),
        }
    }

    /// resource id → (min, max).
    async fn targets(&self, stack: &str) -> BTreeMap<String, (i32, i32)> {
        let o = self
            .scaling
            .describe_scalable_targets()
            .service_namespace(ServiceNamespace::Ecs)
            .send()
            .await
            .expect("scalable targets");
        o.scalable_targets()
            .iter()
            .filter(|t| t.resource_id().starts_with(&format!("service/{stack}/")))
            .map(|t| {
                (
                    t.resource_id().to_string(),
                    (t.min_capacity(), t.max_capacity()),
                )
            })
            .collect()
    }

    /// policy name → (type, ARN, first step adjustment or target value).
    async fn policies(&self, stack: &str) -> BTreeMap<String, (PolicyType, String, f64)> {
        let o = self
            .scaling
            .describe_scaling_policies()
            .service_namespace(ServiceNamespace::Ecs)
            .send()
            .await
            .expect("scaling policies");
        o.scaling_policies()
            .iter()
            .filter(|p| p.resource_id().starts_with(&format!("service/{stack}/")))
            .map(|p| {
                let value = p
                    .step_scaling_policy_configuration()
                    .and_then(|c| c.step_adjustments().first())
                    .map(|s| f64::from(s.scaling_adjustment()))
                    .or(p
                        .target_tracking_scaling_policy_configuration()
                        .map(|c| c.target_value()))
                    .unwrap_or(f64::NAN);
                (
                    p.policy_name().to_string(),
                    (p.policy_type().clone(), p.policy_arn().to_string(), value),
                )
            })
            .collect()
    }

    /// alarm name → the alarm.
    async fn alarms(
        &self,
        stack: &str,
    ) -> BTreeMap<String, aws_sdk_cloudwatch::types::MetricAlarm> {
        let o = self
            .cloudwatch
            .describe_alarms()
            .alarm_name_prefix(format!("{stack}-"))
            .send()
            .await
            .expect("alarms");
        o.metric_alarms()
            .iter()
            .map(|a| (a.alarm_name().unwrap_or_default().to_string(), a.clone()))
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn step_scaling_and_alarms_are_built_as_declared_and_the_scaler_count_is_not_drift() {
    let moto = Moto::start();
    let stack = unique_stack("scale");
    let mut f = Fixture::from_repo_file(&stack, EXAMPLE);
    apply(moto, &f).await;
    assert_plan_empty(moto, &f).await;
    let aws = Clients::new(moto).await;
    health_check_on_its_own_port(moto, &stack, &mut f).await;

    let services = ["students", "subjects"];
    let expected_targets: BTreeMap<String, (i32, i32)> = services
        .iter()
        .map(|s| (format!("service/{stack}/{stack}-{s}"), (2, 4)))
        .collect();
    assert_eq!(aws.targets(&stack).await, expected_targets);

    let policies = aws.policies(&stack).await;
    let mut names = BTreeSet::new();
    for svc in services {
        for (what, adjustment) in [("scale-out", 1.0), ("scale-in", -1.0)] {
            let name = format!("{stack}-{svc}-{what}");
            let (kind, _, value) = &policies[&name];
            assert_eq!(kind, &PolicyType::StepScaling, "{name}");
            assert_eq!(*value, adjustment, "{name}");
            names.insert(name);
        }
    }
    assert_eq!(policies.keys().cloned().collect::<BTreeSet<_>>(), names);

    // Each step policy has its alarm on the service's CPU; every other alarm notifies the topic.
    let alarms = aws.alarms(&stack).await;
    let mut expected = BTreeSet::new();
    for svc in services {
        for what in [
            "scale-out",
            "scale-in",
            "cpu-high",
            "memory-high",
            "tasks-below-desired",
            "api-unhealthy-targets",
        ] {
            expected.insert(format!("{stack}-{svc}-{what}"));
        }
        let out = &alarms[&format!("{stack}-students-scale-out")];
        assert_eq!(out.threshold(), Some(70.0));
        assert_eq!(out.evaluation_periods(), Some(5));
        assert_eq!(out.period(), Some(60));
        assert_eq!(
            out.alarm_actions(),
            [policies[&format!("{stack}-students-scale-out")].1.clone()]
        );
        let r#in = &alarms[&format!("{stack}-{svc}-scale-in")];
        assert_eq!(r#in.threshold(), Some(50.0));
        assert_eq!(
            r#in.comparison_operator().map(|c| c.as_str()),
            Some("LessThanThreshold")
        );
        let tasks = &alarms[&format!("{stack}-{svc}-tasks-below-desired")];
        assert_eq!(tasks.threshold(), Some(2.0), "the autoscaling floor");
        assert_eq!(tasks.alarm_actions(), [TOPIC.to_string()]);
        let unhealthy = &alarms[&format!("{stack}-{svc}-api-unhealthy-targets")];
        assert_eq!(unhealthy.namespace(), Some("AWS/NetworkELB"));
        let dims: BTreeMap<&str, &str> = unhealthy
            .dimensions()
            .iter()
            .map(|d| (d.name().unwrap_or_default(), d.value().unwrap_or_default()))
            .collect();
        assert!(dims["TargetGroup"].starts_with("targetgroup/"), "{dims:?}");
        assert!(dims["LoadBalancer"].contains('/'), "{dims:?}");
    }
    assert_eq!(alarms.keys().cloned().collect::<BTreeSet<_>>(), expected);

    // The scaler moves a service to 3 tasks: the plan leaves it alone.
    aws.ecs
        .update_service()
        .cluster(&stack)
        .service(format!("{stack}-students"))
        .desired_count(3)
        .send()
        .await
        .expect("the scaler's change");
    assert_plan_empty(moto, &f).await;

    // Each edit changes only what it names, in place.
    // (where, from, to, the plan's steps; none: every notifying alarm is updated)
    type Edit<'a> = (&'a str, &'a str, &'a str, &'a [(&'a str, &'a str)]);
    let edits: [Edit; 3] = [
        (
            "  students:",
            "max: 4",
            "max: 6",
            &[("service.students.scaling", "update")],
        ),
        (
            "  students:",
            "scale_out_above: 70",
            "scale_out_above: 75",
            &[("alarm.students.scale-out", "update")],
        ),
        (
            "alarms:",
            TOPIC,
            "arn:aws:sns:us-east-1:123456789012:campus-pager",
            &[],
        ),
    ];
    for (anchor, from, to, wanted) in edits {
        f.edit(Some(anchor), from, to);
        let (planned, shown) = planned_changes(moto, &f).await;
        if !wanted.is_empty() {
            let wanted: BTreeSet<_> = wanted.iter().map(|(id, a)| pair(id, a)).collect();
            assert_eq!(planned, wanted, "{from} → {to}:\n{shown}");
        } else {
            assert!(
                planned
                    .iter()
                    .all(|(id, a)| id.starts_with("alarm.") && a == "update")
                    && planned.len() == 8,
                "{from} → {to}: the 8 notifying alarms change in place:\n{shown}"
            );
        }
        apply(moto, &f).await;
        assert_plan_empty(moto, &f).await;
    }
    assert_eq!(
        aws.targets(&stack).await[&format!("service/{stack}/{stack}-students")],
        (2, 6)
    );
    assert_eq!(
        aws.alarms(&stack).await[&format!("{stack}-students-scale-out")].threshold(),
        Some(75.0)
    );

    // Steps → target tracking: the step policies and their alarms go, one policy comes.
    f.edit(
        Some("  subjects:"),
        "step: {scale_out_above: 70, scale_in_below: 50, minutes: 5}",
        "cpu_target: 60",
    );
    let (planned, shown) = planned_changes(moto, &f).await;
    assert_eq!(
        planned,
        BTreeSet::from([
            pair("service.subjects.scaling.policy.scale-out", "delete"),
            pair("service.subjects.scaling.policy.scale-in", "delete"),
            pair("alarm.subjects.scale-out", "delete"),
            pair("alarm.subjects.scale-in", "delete"),
            pair("service.subjects.scaling.policy.cpu-target", "create"),
        ]),
        "{shown}"
    );
    apply(moto, &f).await;
    assert_plan_empty(moto, &f).await;
    let (kind, _, target) =
        aws.policies(&stack).await[&format!("{stack}-subjects-cpu-target")].clone();
    assert_eq!((kind, target), (PolicyType::TargetTrackingScaling, 60.0));

    database_as_declared(moto, &mut f).await;
    assert!(aws.alarms(&stack).await.is_empty());
}

/// students' health check on 8081 (seed 001's actuator): its target group checks that port, its
/// group admits 8080 and 8081 from the NLB's group only; moved to the traffic port, the group
/// changes in place and the extra rule goes; moved back, it returns.
async fn health_check_on_its_own_port(moto: &Moto, stack: &str, f: &mut Fixture) {
    let conf = moto.sdk_config().await;
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&conf);
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let group_name = ecsform::topology::derived_target_group_name(stack, "nlb-students-8080");
    let checked_port = || async {
        let groups = elb
            .describe_target_groups()
            .names(&group_name)
            .send()
            .await
            .expect("the students target group");
        let g = &groups.target_groups()[0];
        (
            g.health_check_path().map(String::from),
            g.health_check_port().map(String::from),
        )
    };
    let admitted = || async {
        let groups = ec2
            .describe_security_groups()
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("group-name")
                    .values(format!("{stack}-students"))
                    .build(),
            )
            .send()
            .await
            .expect("the students group");
        let id = groups.security_groups()[0]
            .group_id()
            .expect("id")
            .to_string();
        let rules = ec2
            .describe_security_group_rules()
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("group-id")
                    .values(&id)
                    .build(),
            )
            .send()
            .await
            .expect("rules");
        let mut ports: Vec<(i32, bool)> = rules
            .security_group_rules()
            .iter()
            .filter(|r| r.is_egress() == Some(false))
            .map(|r| {
                (
                    r.from_port().unwrap_or(-1),
                    r.referenced_group_info().is_some() && r.cidr_ipv4().is_none(),
                )
            })
            .collect();
        ports.sort();
        ports
    };
    assert_eq!(
        checked_port().await,
        (Some("/actuator/health".into()), Some("8081".into()))
    );
    assert_eq!(admitted().await, vec![(8080, true), (8081, true)]);

    let own_port = "{path: /actuator/health, port: 8081}";
    f.edit(None, own_port, "/actuator/health");
    let (planned, shown) = planned_changes(moto, f).await;
    assert_eq!(
        planned,
        BTreeSet::from([
            pair("sg.svc.students.from.sg.nlb.8081", "delete"),
            pair("tg.nlb.students", "update"),
        ]),
        "{shown}"
    );
    apply(moto, f).await;
    assert_plan_empty(moto, f).await;
    assert_eq!(
        checked_port().await,
        (Some("/actuator/health".into()), Some("traffic-port".into()))
    );
    assert_eq!(admitted().await, vec![(8080, true)]);
    f.edit(
        None,
        "health_check: /actuator/health",
        &format!("health_check: {own_port}"),
    );
    apply(moto, f).await;
    assert_plan_empty(moto, f).await;
    assert_eq!(admitted().await, vec![(8080, true), (8081, true)]);
}

/// The database: private, encrypted, reachable from exactly its callers, who get its address
/// and the managed secret's keys (never a password); a replacement is refused without
/// `--allow-replace`; destroy refuses while deletion protection is on, then keeps a snapshot.
async fn database_as_declared(moto: &Moto, f: &mut Fixture) {
    let stack = f.stack.clone();
    let conf = moto.sdk_config().await;
    let rds = aws_sdk_rds::Client::new(&conf);
    let ecs = aws_sdk_ecs::Client::new(&conf);
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let id = format!("{stack}-campus-db");
    let dbs = rds
        .describe_db_instances()
        .db_instance_identifier(&id)
        .send()
        .await
        .expect("the instance");
    let db = &dbs.db_instances()[0];
    assert_eq!(db.storage_encrypted(), Some(true));
    assert_eq!(db.publicly_accessible(), Some(false));
    assert_eq!(db.deletion_protection(), Some(true));
    assert_eq!(db.engine(), Some("mysql"));
    let secret = db
        .master_user_secret()
        .and_then(|s| s.secret_arn())
        .expect("an RDS-managed secret")
        .to_string();
    let host = db.endpoint().and_then(|e| e.address()).expect("endpoint");
    assert_eq!(
        db.db_subnet_group().and_then(|g| g.db_subnet_group_name()),
        Some(format!("{id}-subnets").as_str())
    );
    // One rule per caller on 3306, from the caller's group.
    let group = db.vpc_security_groups()[0]
        .vpc_security_group_id()
        .expect("group");
    let rules = ec2
        .describe_security_group_rules()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("group-id")
                .values(group)
                .build(),
        )
        .send()
        .await
        .expect("rules");
    let inbound: Vec<_> = rules
        .security_group_rules()
        .iter()
        .filter(|r| r.is_egress() == Some(false))
        .collect();
    assert_eq!(inbound.len(), 2, "{inbound:?}");
    assert!(inbound.iter().all(|r| r.from_port() == Some(3306)
        && r.referenced_group_info().is_some()
        && r.cidr_ipv4().is_none()));
    for svc in ["students", "subjects"] {
        let td = ecs
            .describe_task_definition()
            .task_definition(format!("{stack}-{svc}"))
            .send()
            .await
            .expect("task definition");
        let c = &td.task_definition().expect("td").container_definitions()[0];
        let env: BTreeMap<&str, &str> = c
            .environment()
            .iter()
            .filter_map(|kv| Some((kv.name()?, kv.value()?)))
            .collect();
        assert_eq!(env.get("CAMPUS_DB_HOST"), Some(&host));
        assert_eq!(env.get("CAMPUS_DB_PORT"), Some(&"3306"));
        assert!(!env.keys().any(|k| k.contains("PASSWORD")), "{env:?}");
        let secrets: BTreeMap<&str, &str> = c
            .secrets()
            .iter()
            .map(|s| (s.name(), s.value_from()))
            .collect();
        assert_eq!(
            secrets.get("CAMPUS_DB_PASSWORD").copied(),
            Some(format!("{secret}:password::").as_str())
        );
        assert_eq!(
            secrets.get("CAMPUS_DB_USERNAME").copied(),
            Some(format!("{secret}:username::").as_str())
        );
    }
    // Outputs: the endpoint and the repositories, never the secret.
    let outputs = moto.run(&["outputs", "-f", f.path_str(), "--json"]).await;
    outputs.expect_code(0);
    let values = outputs.json();
    assert_eq!(values["database.campus-db"], format!("{host}:3306"));
    assert!(
        values["repository.students"]
            .as_str()
            .is_some_and(|u| u.ends_with(&format!("/{stack}-students"))),
        "{values}"
    );
    assert!(!outputs.stdout().contains(&secret));
    // The plan never carries the secret, let alone the password.
    let shown = moto.run(&["plan", "-f", f.path_str(), "--json"]).await;
    assert!(!shown.stdout().contains(&secret), "{}", shown.stdout());

    // A new engine replaces the database: refused, and nothing changes.
    f.edit(Some("campus-db:"), "engine: mysql", "engine: postgres");
    let out = moto
        .run(&["apply", "-f", f.path_str(), "--auto-approve"])
        .await;
    assert_eq!(out.code(), Some(1), "{}", out.stdout());
    assert!(out.stdout().contains("DATA LOSS"), "{}", out.stdout());
    assert!(
        out.stderr().contains("--allow-replace db.campus-db"),
        "{}",
        out.stderr()
    );
    f.edit(Some("campus-db:"), "engine: postgres", "engine: mysql");
    assert_plan_empty(moto, f).await;

    // A bigger class changes in place.
    f.edit(Some("campus-db:"), "db.t3.micro", "db.t3.small");
    let (planned, shown) = planned_changes(moto, f).await;
    assert_eq!(
        planned,
        BTreeSet::from([pair("db.campus-db", "update")]),
        "{shown}"
    );
    assert!(shown.contains("AWS applies it now"), "{shown}");
    apply(moto, f).await;
    assert_plan_empty(moto, f).await;

    // Destroy refuses while deletion protection is on, and says how to go on.
    let out = moto
        .run(&["destroy", "-f", f.path_str(), "--auto-approve"])
        .await;
    assert_ne!(out.code(), Some(0));
    assert!(
        out.stderr().contains("deletion protection on"),
        "{}",
        out.stderr()
    );
    f.edit(
        Some("campus-db:"),
        "deletion_protection: true",
        "deletion_protection: false",
    );
    apply(moto, f).await;
    moto.run(&["destroy", "-f", f.path_str(), "--auto-approve"])
        .await
        .expect_code(0);
    let left = common::probe::tagged_counts(moto, &stack).await;
    assert!(left.values().all(|&n| n == 0), "{left:?}");
    let snapshots = rds
        .describe_db_snapshots()
        .db_instance_identifier(&id)
        .send()
        .await
        .expect("snapshots");
    let finals: Vec<_> = snapshots
        .db_snapshots()
        .iter()
        .filter_map(|s| s.db_snapshot_identifier())
        .filter(|s| s.starts_with(&format!("{id}-final-")))
        .collect();
    assert_eq!(finals.len(), 1, "the final snapshot is kept: {snapshots:?}");
}
