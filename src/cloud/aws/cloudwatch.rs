//! CloudWatch metric alarms, tagged at creation and found by the stack's name prefix plus
//! their tags. `PutMetricAlarm` both creates and changes an alarm.
//! (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html)

use super::errors::aws_err;
use super::ownership::{owned_by, tag_map, Found};
use super::settle::call;
use super::{ownership_tags, AwsCloud};
use crate::cloud::{CloudError, OpContext};
use crate::model::*;
use aws_sdk_cloudwatch::types::{
    AlarmType, ComparisonOperator, Dimension as CwDimension, Statistic, Tag,
};

/// The `LoadBalancer` dimension of a load balancer ARN (`app/<name>/<hash>`,
/// `net/<name>/<hash>`) and the `TargetGroup` dimension of a target group ARN
/// (`targetgroup/<name>/<hash>`).
/// (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html)
pub fn load_balancer_dimension(arn: &str) -> Option<&str> {
    arn.split_once(":loadbalancer/").map(|(_, rest)| rest)
}
pub fn target_group_dimension(arn: &str) -> Option<&str> {
    arn.rsplit_once(':')
        .map(|(_, rest)| rest)
        .filter(|rest| rest.starts_with("targetgroup/"))
}

fn dimensions(ctx: &OpContext<'_>, r: &MetricAlarm) -> Result<Vec<CwDimension>, CloudError> {
    r.dimensions
        .iter()
        .map(|d| {
            let value = match &d.value {
                DimensionValue::Name(v) => v.clone(),
                DimensionValue::LoadBalancer(lb) => {
                    let arn = ctx.resolve(lb)?;
                    load_balancer_dimension(&arn).unwrap_or(&arn).to_string()
                }
                DimensionValue::TargetGroup(tg) => {
                    let arn = ctx.resolve(tg)?;
                    target_group_dimension(&arn).unwrap_or(&arn).to_string()
                }
            };
            Ok(CwDimension::builder().name(&d.name).value(value).build())
        })
        .collect()
}

/// Metric alarms named `<stack>-…` whose tags say they are ours (tags read per alarm, in
/// parallel).
pub async fn observe(cloud: &AwsCloud, stack: &str) -> Result<Found, CloudError> {
    let mut alarms = Vec::new();
    let mut pages = cloud
        .cloudwatch
        .describe_alarms()
        .alarm_name_prefix(format!("{stack}-"))
        .alarm_types(AlarmType::MetricAlarm)
        .max_records(100)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        alarms.extend(page.map_err(aws_err)?.metric_alarms().iter().cloned());
    }
    let reads = alarms.iter().map(|a| async move {
        call(|| {
            cloud
                .cloudwatch
                .list_tags_for_resource()
                .resource_arn(a.alarm_arn().unwrap_or_default())
                .send()
        })
        .await
    });
    let tags = futures::future::try_join_all(reads).await?;
    let mut found = Found::new(stack);
    for (a, tags) in alarms.iter().zip(tags) {
        let tags = tag_map(tags.tags().iter().map(|t| (t.key(), t.value())));
        if !owned_by(&tags, stack) {
            continue;
        }
        found.add(&tags, a.alarm_name(), |_| {
            Resource::MetricAlarm(read_alarm(a))
        });
    }
    Ok(found)
}

fn read_alarm(a: &aws_sdk_cloudwatch::types::MetricAlarm) -> MetricAlarm {
    let count = |n: Option<i32>| n.and_then(|n| u32::try_from(n).ok()).unwrap_or(0);
    let mut dimensions: Vec<Dimension> = a
        .dimensions()
        .iter()
        .map(|d| {
            let name = d.name().unwrap_or_default().to_string();
            let value = d.value().unwrap_or_default().to_string();
            let value = match name.as_str() {
                "LoadBalancer" => DimensionValue::LoadBalancer(Ref::Unowned(value)),
                "TargetGroup" => DimensionValue::TargetGroup(Ref::Unowned(value)),
                _ => DimensionValue::Name(value),
            };
            Dimension { name, value }
        })
        .collect();
    dimensions.sort();
    let actions = a.alarm_actions();
    MetricAlarm {
        name: a.alarm_name().unwrap_or_default().into(),
        description: a.alarm_description().unwrap_or_default().into(),
        namespace: a.namespace().unwrap_or_default().into(),
        metric: a.metric_name().unwrap_or_default().into(),
        statistic: a.statistic().map(|s| s.as_str()).unwrap_or_default().into(),
        dimensions,
        period_s: count(a.period()),
        evaluation_periods: count(a.evaluation_periods()),
        threshold: a.threshold().map(|t| t.round() as u32).unwrap_or(0),
        comparison: a
            .comparison_operator()
            .map(|c| c.as_str())
            .unwrap_or_default()
            .into(),
        treat_missing_data: a.treat_missing_data().unwrap_or("missing").into(),
        notify: actions.iter().find(|a| a.contains(":sns:")).cloned(),
        scaling_policy: actions
            .iter()
            .find(|a| a.contains(":autoscaling:"))
            .map(|a| Ref::Unowned(a.clone())),
    }
}

// ---------------------------------------------------------------- kinds (see `super::kinds`)

use super::kinds::AwsKind;
use super::pacing::Family;
use crate::plan::schedule::OpKind;

impl AwsKind for MetricAlarm {
    fn cost(_op: OpKind) -> Vec<(Family, f64)> {
        vec![(Family::CloudWatchAlarms, 1.0)]
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        let r = self;
        let mut actions: Vec<String> = r.notify.iter().cloned().collect();
        if let Some(policy) = &r.scaling_policy {
            actions.push(ctx.resolve(policy)?);
        }
        let tags: Vec<Tag> = ownership_tags(ctx, &r.name)
            .into_iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect();
        let dimensions = dimensions(ctx, r)?;
        call(|| {
            cloud
                .cloudwatch
                .put_metric_alarm()
                .alarm_name(&r.name)
                .alarm_description(&r.description)
                .namespace(&r.namespace)
                .metric_name(&r.metric)
                .statistic(Statistic::from(r.statistic.as_str()))
                .set_dimensions(Some(dimensions.clone()))
                .period(r.period_s as i32)
                .evaluation_periods(r.evaluation_periods as i32)
                .threshold(f64::from(r.threshold))
                .comparison_operator(ComparisonOperator::from(r.comparison.as_str()))
                .treat_missing_data(&r.treat_missing_data)
                .actions_enabled(true)
                .set_alarm_actions(Some(actions.clone()))
                // People are told when it is over, too; a scaling policy is not.
                .set_ok_actions(Some(r.notify.iter().cloned().collect()))
                .set_tags(Some(tags.clone()))
                .send()
        })
        .await?;
        Ok(r.name.clone())
    }
    async fn update(
        &self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        _id: &str,
        _have: &Self,
    ) -> Result<String, CloudError> {
        self.create(cloud, ctx).await
    }
    async fn delete(
        _have: &Self,
        cloud: &AwsCloud,
        _ctx: &OpContext<'_>,
        observed: &ObservedResource,
    ) -> Result<(), CloudError> {
        let name: &str = &observed.physical_id;
        // DeleteAlarms of a name that does not exist succeeds: nothing to translate.
        call(|| cloud.cloudwatch.delete_alarms().alarm_names(name).send()).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn dimensions_of_arns() {
        let lb = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/shop-alb/50dc6c495c0c9188";
        assert_eq!(
            super::load_balancer_dimension(lb),
            Some("app/shop-alb/50dc6c495c0c9188")
        );
        let tg = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/shop-api/73e2d6bc24d8a067";
        assert_eq!(
            super::target_group_dimension(tg),
            Some("targetgroup/shop-api/73e2d6bc24d8a067")
        );
        assert_eq!(super::target_group_dimension(lb), None);
    }
}
