//! The alarms pass (`alarms:` in the file): per service, CPU and memory high and running tasks
//! below the floor; for a service behind a load balancer, unhealthy targets and (ALB) target
//! 5xx responses. Each notifies `alarms.notify` when given.
//! Metrics: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/available-metrics.html,
//! https://docs.aws.amazon.com/AmazonECS/latest/developerguide/Container-Insights-metrics.html
//! (the cluster has Container Insights on), and
//! https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html.

use super::compute::{api_target_group, routed_from_api, routed_from_load_balancer};
use super::ids;
use crate::model::*;
use crate::names;
use crate::topology::{ApiVia, Topology};

/// Utilisation that pages someone: sustained, not a spike.
const HIGH_PERCENT: u32 = 80;
const HIGH_MINUTES: u32 = 5;
/// Minutes of fewer tasks than the floor, of unhealthy targets, of 5xx, before the alarm.
const TASKS_MINUTES: u32 = 3;
/// Target 5xx responses per minute that count as an incident.
const ERRORS_PER_MINUTE: u32 = 5;

/// `ClusterName` and `ServiceName`: how ECS and Container Insights name a service's metrics.
pub(super) fn service_dimensions(t: &Topology, svc: &str) -> Vec<Dimension> {
    let mut dims = vec![
        Dimension {
            name: "ClusterName".into(),
            value: DimensionValue::Name(names::cluster(&t.name)),
        },
        Dimension {
            name: "ServiceName".into(),
            value: DimensionValue::Name(names::ecs_service(&t.name, svc)),
        },
    ];
    dims.sort();
    dims
}

struct Watch {
    key: &'static str,
    description: String,
    namespace: &'static str,
    metric: &'static str,
    statistic: &'static str,
    dimensions: Vec<Dimension>,
    minutes: u32,
    threshold: u32,
    comparison: &'static str,
    treat_missing_data: &'static str,
}

pub(super) fn expand(d: &mut Desired, t: &Topology) {
    let Some(alarms) = &t.alarms else {
        return;
    };
    for (svc, spec) in &t.services {
        let floor = spec
            .autoscaling
            .as_ref()
            .map_or(spec.desired_count, |a| a.min)
            .max(1);
        let service = service_dimensions(t, svc);
        let high = |key, what, metric| Watch {
            key,
            description: format!(
                "{svc}: average {what} at or above {HIGH_PERCENT}% for {HIGH_MINUTES} min"
            ),
            namespace: "AWS/ECS",
            metric,
            statistic: "Average",
            dimensions: service.clone(),
            minutes: HIGH_MINUTES,
            threshold: HIGH_PERCENT,
            comparison: "GreaterThanOrEqualToThreshold",
            treat_missing_data: "missing",
        };
        let mut watches = vec![
            high("cpu-high", "CPU", "CPUUtilization"),
            high("memory-high", "memory", "MemoryUtilization"),
            // No data means no task reports: as bad as too few.
            Watch {
                key: "tasks-below-desired",
                description: format!(
                    "{svc}: fewer than {floor} running tasks for {TASKS_MINUTES} min"
                ),
                namespace: "ECS/ContainerInsights",
                metric: "RunningTaskCount",
                statistic: "Minimum",
                dimensions: service.clone(),
                minutes: TASKS_MINUTES,
                threshold: floor,
                comparison: "LessThanThreshold",
                treat_missing_data: "breaching",
            },
        ];
        let mut doors = Vec::new();
        if routed_from_load_balancer(t, svc) {
            doors.push((ids::ALB, ids::target_group(svc), true, "load balancer"));
        }
        if routed_from_api(t, svc) {
            let via = t.api_gateway.as_ref().map(|a| a.via).unwrap_or_default();
            let (lb, alb) = match via {
                ApiVia::Nlb => (ids::NLB, false),
                ApiVia::Alb => (ids::API_ALB, true),
            };
            doors.push((lb, api_target_group(t, svc), alb, "API's load balancer"));
        }
        for (lb, tg, alb, which) in doors {
            let dims = {
                let mut dims = vec![
                    Dimension {
                        name: "LoadBalancer".into(),
                        value: DimensionValue::LoadBalancer(Ref::id(lb)),
                    },
                    Dimension {
                        name: "TargetGroup".into(),
                        value: DimensionValue::TargetGroup(Ref::id(tg)),
                    },
                ];
                dims.sort();
                dims
            };
            let public = lb == ids::ALB;
            let namespace = if alb {
                "AWS/ApplicationELB"
            } else {
                "AWS/NetworkELB"
            };
            watches.push(Watch {
                key: if public {
                    "unhealthy-targets"
                } else {
                    "api-unhealthy-targets"
                },
                description: format!(
                    "{svc}: unhealthy targets at the {which} for {TASKS_MINUTES} min"
                ),
                namespace,
                metric: "UnHealthyHostCount",
                statistic: "Maximum",
                dimensions: dims.clone(),
                minutes: TASKS_MINUTES,
                threshold: 1,
                comparison: "GreaterThanOrEqualToThreshold",
                treat_missing_data: "notBreaching",
            });
            if alb {
                watches.push(Watch {
                    key: if public { "5xx" } else { "api-5xx" },
                    description: format!(
                        "{svc}: {ERRORS_PER_MINUTE} or more 5xx responses a minute at the {which} for {TASKS_MINUTES} min"
                    ),
                    namespace,
                    metric: "HTTPCode_Target_5XX_Count",
                    statistic: "Sum",
                    dimensions: dims,
                    minutes: TASKS_MINUTES,
                    threshold: ERRORS_PER_MINUTE,
                    comparison: "GreaterThanOrEqualToThreshold",
                    treat_missing_data: "notBreaching",
                });
            }
        }
        for w in watches {
            d.insert(
                ids::alarm(svc, w.key),
                Resource::MetricAlarm(MetricAlarm {
                    name: names::scoped(&t.name, svc, w.key),
                    description: format!("{} (ecsform)", w.description),
                    namespace: w.namespace.into(),
                    metric: w.metric.into(),
                    statistic: w.statistic.into(),
                    dimensions: w.dimensions,
                    period_s: 60,
                    evaluation_periods: w.minutes,
                    threshold: w.threshold,
                    comparison: w.comparison.into(),
                    treat_missing_data: w.treat_missing_data.into(),
                    notify: alarms.notify.clone(),
                    scaling_policy: None,
                }),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::model::*;

    #[test]
    fn a_service_behind_the_alb_is_watched_at_its_target_group_too() {
        let text = include_str!("../../topology.example.yaml")
            .replace("\nservices:\n", "\nalarms: {}\nservices:\n");
        let t = crate::topology::parse_str(&text, "t.yaml")
            .map_err(|e| e.to_string())
            .expect("valid")
            .topology;
        let d = crate::desired::expand(&t, "us-east-1");
        let alarm = |id: &str| match d.resources.get(&ResourceId::new(id)) {
            Some(Resource::MetricAlarm(a)) => a.clone(),
            other => panic!("{id}: {other:?}"),
        };
        let errors = alarm("alarm.api-gateway.5xx");
        assert_eq!(errors.namespace, "AWS/ApplicationELB");
        assert_eq!(errors.metric, "HTTPCode_Target_5XX_Count");
        assert_eq!(
            errors.refs(),
            vec![&Ref::id("alb"), &Ref::id("tg.api-gateway")],
            "the dimensions name our load balancer and target group"
        );
        assert_eq!(errors.notify, None, "no topic in the file");
        // Not behind a load balancer: the three service alarms only.
        let quiet: Vec<_> = d
            .resources
            .keys()
            .filter(|id| id.as_str().starts_with("alarm.notification-service."))
            .map(|id| {
                id.as_str()
                    .trim_start_matches("alarm.notification-service.")
            })
            .collect();
        assert_eq!(quiet, ["cpu-high", "memory-high", "tasks-below-desired"]);
    }
}
