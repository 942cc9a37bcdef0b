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

    moto.run(&["destroy", "-f", f.path_str(), "--auto-approve"])
        .await
        .expect_code(0);
    let left = common::probe::tagged_counts(moto, &stack).await;
    assert!(left.values().all(|&n| n == 0), "{left:?}");
    assert!(aws.alarms(&stack).await.is_empty());
}
