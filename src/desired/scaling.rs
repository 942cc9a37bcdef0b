//! The scaling pass: for each service with `autoscaling`, its desired count as a scalable
//! target (min..max) and either a target-tracking policy on average CPU or seed 002's pair of
//! step policies, each driven by its own CloudWatch alarm on the service's average CPU.

use super::ids;
use crate::model::*;
use crate::names;
use crate::topology::{ScalingRule, StepScaling, Topology};

/// Seconds after a scaling activity before the next one (AWS's console default).
const COOLDOWN_S: u32 = 300;

pub(super) fn expand(d: &mut Desired, t: &Topology) {
    for (svc, spec) in &t.services {
        let Some(scaling) = &spec.autoscaling else {
            continue;
        };
        let target = d.insert_scoped(Resource::ScalableTarget(ScalableTarget {
            service: Ref::id(ids::ecs_service(svc)),
            min: scaling.min,
            max: scaling.max,
        }));
        match scaling.rule() {
            ScalingRule::CpuTarget(percent) => {
                let rule = PolicyRule::TargetTracking {
                    cpu_percent: percent,
                    scale_in_cooldown_s: COOLDOWN_S,
                    scale_out_cooldown_s: COOLDOWN_S,
                };
                d.insert_scoped(policy(t, svc, &target, rule));
            }
            ScalingRule::Step(step) => {
                for adjustment in [1, -1] {
                    let rule = PolicyRule::Step {
                        adjustment,
                        cooldown_s: step.minutes * 60,
                    };
                    let key = rule.key();
                    let policy = d.insert_scoped(policy(t, svc, &target, rule));
                    d.insert(
                        ids::alarm(svc, key),
                        Resource::MetricAlarm(step_alarm(t, svc, key, adjustment, step, policy)),
                    );
                }
            }
        }
    }
}

fn policy(t: &Topology, svc: &str, target: &ResourceId, rule: PolicyRule) -> Resource {
    Resource::ScalingPolicy(ScalingPolicy {
        name: names::scoped(&t.name, svc, rule.key()),
        target: Ref::Id(target.clone()),
        rule,
    })
}

fn step_alarm(
    t: &Topology,
    svc: &str,
    key: &str,
    adjustment: i32,
    step: StepScaling,
    policy: ResourceId,
) -> MetricAlarm {
    let (threshold, comparison, words) = if adjustment > 0 {
        (
            step.scale_out_above,
            "GreaterThanOrEqualToThreshold",
            "at or above",
        )
    } else {
        (step.scale_in_below, "LessThanThreshold", "below")
    };
    MetricAlarm {
        name: names::scoped(&t.name, svc, key),
        description: format!(
            "{svc}: average CPU {words} {threshold}% for {} min: {} one task (ecsform)",
            step.minutes,
            if adjustment > 0 { "add" } else { "remove" }
        ),
        namespace: "AWS/ECS".into(),
        metric: "CPUUtilization".into(),
        statistic: "Average".into(),
        dimensions: super::alarms::service_dimensions(t, svc),
        period_s: 60,
        evaluation_periods: step.minutes,
        threshold,
        comparison: comparison.into(),
        treat_missing_data: "missing".into(),
        notify: None,
        scaling_policy: Some(Ref::Id(policy)),
    }
}

#[cfg(test)]
mod tests {
    use crate::model::*;

    fn expand(scaling: &str) -> Desired {
        let text = format!(
            "name: shop\nnetwork: {{cidr: 10.0.0.0/16}}\nservices:\n  api:\n    image: x\n    port: 1\n    desired_count: 2\n    autoscaling: {scaling}\n"
        );
        let t = crate::topology::parse_str(&text, "t.yaml")
            .map_err(|e| e.to_string())
            .expect("valid")
            .topology;
        crate::desired::expand(&t, "us-east-1")
    }

    fn get<'a>(d: &'a Desired, id: &str) -> &'a Resource {
        d.resources
            .get(&ResourceId::new(id))
            .unwrap_or_else(|| panic!("{id} in {:?}", d.resources.keys()))
    }

    #[test]
    fn min_and_max_alone_mean_target_tracking_at_70_percent() {
        let d = expand("{min: 2, max: 4}");
        assert_eq!(
            get(&d, "service.api.scaling"),
            &Resource::ScalableTarget(ScalableTarget {
                service: Ref::id("service.api"),
                min: 2,
                max: 4
            })
        );
        let Resource::ScalingPolicy(p) = get(&d, "service.api.scaling.policy.cpu-target") else {
            panic!("a policy");
        };
        assert!(matches!(
            p.rule,
            PolicyRule::TargetTracking {
                cpu_percent: 70,
                ..
            }
        ));
        assert!(!d.resources.values().any(|r| r.kind() == Kind::MetricAlarm));
        let Resource::EcsService(s) = get(&d, "service.api") else {
            panic!("a service");
        };
        assert!(s.count_scaled, "the scaler owns the count");
    }

    #[test]
    fn steps_are_two_policies_each_driven_by_its_alarm() {
        let d =
            expand("{min: 2, max: 4, step: {scale_out_above: 70, scale_in_below: 50, minutes: 5}}");
        for (key, adjustment, threshold, comparison) in [
            ("scale-out", 1, 70, "GreaterThanOrEqualToThreshold"),
            ("scale-in", -1, 50, "LessThanThreshold"),
        ] {
            let policy = format!("service.api.scaling.policy.{key}");
            let Resource::ScalingPolicy(p) = get(&d, &policy) else {
                panic!("{policy}");
            };
            assert_eq!(p.name, format!("shop-api-{key}"));
            assert_eq!(
                p.rule,
                PolicyRule::Step {
                    adjustment,
                    cooldown_s: 300
                }
            );
            let Resource::MetricAlarm(a) = get(&d, &format!("alarm.api.{key}")) else {
                panic!("alarm");
            };
            assert_eq!(a.scaling_policy, Some(Ref::id(policy)));
            assert_eq!(
                (a.threshold, a.comparison.as_str()),
                (threshold, comparison)
            );
            assert_eq!((a.period_s, a.evaluation_periods), (60, 5));
            assert_eq!(a.notify, None, "scaling alarms page no one");
        }
    }
}
