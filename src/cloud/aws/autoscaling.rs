//! Application Auto Scaling: an ECS service's desired count as a scalable target and its
//! policies. AWS names a target by its service (`service/<cluster>/<service>`), which is its
//! physical id here; ownership follows from the stack's cluster (tagging targets is not
//! available everywhere, and the emulator does not implement it).
//! Registering the first ECS target makes AWS create the service-linked role
//! `AWSServiceRoleForApplicationAutoScaling_ECSService` when it is missing (needs
//! `iam:CreateServiceLinkedRole`; https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-service-linked-roles.html).

use super::errors::{aws_err, build_err, missing};
use super::ops::gone_is_done;
use super::ownership::{scoped, Found};
use super::settle::call;
use super::AwsCloud;
use crate::cloud::{CloudError, OpContext};
use crate::model::*;
use crate::names;
use aws_sdk_applicationautoscaling::types::{
    AdjustmentType, MetricAggregationType, MetricType, PolicyType, PredefinedMetricSpecification,
    ScalableDimension, ServiceNamespace, StepAdjustment, StepScalingPolicyConfiguration,
    TargetTrackingScalingPolicyConfiguration,
};

/// How Application Auto Scaling names an ECS service.
pub fn resource_id(cluster: &str, service: &str) -> String {
    format!("service/{cluster}/{service}")
}

/// The target's resource id from a policy ARN
/// (`arn:aws:autoscaling:…:scalingPolicy:<uuid>:resource/ecs/<resource id>:policyName/<name>`).
fn policy_resource_id(arn: &str) -> Option<&str> {
    let rest = &arn[arn.find(":resource/ecs/")? + ":resource/ecs/".len()..];
    Some(&rest[..rest.find(":policyName/")?])
}

/// The stack cluster's scalable targets and their policies (two listings, in parallel).
pub async fn observe(cloud: &AwsCloud, stack: &str) -> Result<Found, CloudError> {
    let prefix = format!("service/{}/", names::cluster(stack));
    let targets = async {
        let mut out = Vec::new();
        let mut pages = cloud
            .autoscaling
            .describe_scalable_targets()
            .service_namespace(ServiceNamespace::Ecs)
            .max_results(50)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            out.extend(page.map_err(aws_err)?.scalable_targets().iter().cloned());
        }
        Ok::<_, CloudError>(out)
    };
    let policies = async {
        let mut out = Vec::new();
        let mut pages = cloud
            .autoscaling
            .describe_scaling_policies()
            .service_namespace(ServiceNamespace::Ecs)
            .max_results(50)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            out.extend(page.map_err(aws_err)?.scaling_policies().iter().cloned());
        }
        Ok::<_, CloudError>(out)
    };
    let (targets, policies) = tokio::try_join!(targets, policies)?;
    let mut found = Found::new(stack);
    for t in targets.iter().filter(|t| {
        t.resource_id().starts_with(&prefix)
            && t.scalable_dimension() == &ScalableDimension::EcsServiceDesiredCount
    }) {
        found.items.push(scoped(
            Resource::ScalableTarget(ScalableTarget {
                service: Ref::Unowned(t.resource_id().to_string()),
                min: u32::try_from(t.min_capacity()).unwrap_or(0),
                max: u32::try_from(t.max_capacity()).unwrap_or(0),
            }),
            t.resource_id(),
        ));
    }
    for p in policies.iter().filter(|p| {
        p.resource_id().starts_with(&prefix)
            && p.scalable_dimension() == &ScalableDimension::EcsServiceDesiredCount
    }) {
        let Some(rule) = read_rule(p) else { continue };
        found.items.push(scoped(
            Resource::ScalingPolicy(ScalingPolicy {
                name: p.policy_name().to_string(),
                target: Ref::Unowned(p.resource_id().to_string()),
                rule,
            }),
            p.policy_arn(),
        ));
    }
    Ok(found)
}

fn read_rule(p: &aws_sdk_applicationautoscaling::types::ScalingPolicy) -> Option<PolicyRule> {
    let seconds = |s: Option<i32>| s.and_then(|s| u32::try_from(s).ok()).unwrap_or(0);
    if let Some(c) = p.target_tracking_scaling_policy_configuration() {
        return Some(PolicyRule::TargetTracking {
            cpu_percent: c.target_value().round() as u32,
            scale_in_cooldown_s: seconds(c.scale_in_cooldown()),
            scale_out_cooldown_s: seconds(c.scale_out_cooldown()),
        });
    }
    let c = p.step_scaling_policy_configuration()?;
    Some(PolicyRule::Step {
        adjustment: c
            .step_adjustments()
            .first()
            .map(|s| s.scaling_adjustment())
            .unwrap_or(0),
        cooldown_s: seconds(c.cooldown()),
    })
}

// ---------------------------------------------------------------- kinds (see `super::kinds`)

use super::kinds::AwsKind;
use super::pacing::Family;
use crate::plan::schedule::OpKind;

impl AwsKind for ScalableTarget {
    fn cost(_op: OpKind) -> Vec<(Family, f64)> {
        vec![(Family::AutoScaling, 1.0)]
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        let r = self;
        let service_arn = ctx.resolve(&r.service)?;
        // `arn:aws:ecs:<region>:<account>:service/<cluster>/<service>`
        let id = service_arn
            .rsplit_once(":service/")
            .map(|(_, rest)| format!("service/{rest}"))
            .ok_or_else(|| missing("the ECS service's cluster in its ARN"))?;
        call(|| {
            cloud
                .autoscaling
                .register_scalable_target()
                .service_namespace(ServiceNamespace::Ecs)
                .resource_id(&id)
                .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
                .min_capacity(r.min as i32)
                .max_capacity(r.max as i32)
                .send()
        })
        .await?;
        Ok(id)
    }
    /// Registering an existing target again sets its new min and max.
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
        let id: &str = &observed.physical_id;
        let out = call(|| {
            cloud
                .autoscaling
                .deregister_scalable_target()
                .service_namespace(ServiceNamespace::Ecs)
                .resource_id(id)
                .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
                .send()
        })
        .await;
        gone_is_done(out.map(|_| ()))
    }
}

impl AwsKind for ScalingPolicy {
    fn cost(_op: OpKind) -> Vec<(Family, f64)> {
        vec![(Family::AutoScaling, 1.0)]
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        let r = self;
        let mut req = cloud
            .autoscaling
            .put_scaling_policy()
            .policy_name(&r.name)
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id(ctx.resolve(&r.target)?)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount);
        req = match &r.rule {
            PolicyRule::TargetTracking {
                cpu_percent,
                scale_in_cooldown_s,
                scale_out_cooldown_s,
            } => req
                .policy_type(PolicyType::TargetTrackingScaling)
                .target_tracking_scaling_policy_configuration(
                    TargetTrackingScalingPolicyConfiguration::builder()
                        .target_value(f64::from(*cpu_percent))
                        .predefined_metric_specification(
                            PredefinedMetricSpecification::builder()
                                .predefined_metric_type(MetricType::EcsServiceAverageCpuUtilization)
                                .build()
                                .map_err(build_err)?,
                        )
                        .scale_in_cooldown(*scale_in_cooldown_s as i32)
                        .scale_out_cooldown(*scale_out_cooldown_s as i32)
                        .build()
                        .map_err(build_err)?,
                ),
            PolicyRule::Step {
                adjustment,
                cooldown_s,
            } => {
                // The alarm's threshold is the interval's zero: scale out for any breach above it,
                // scale in for any below it.
                // (https://docs.aws.amazon.com/autoscaling/application/userguide/step-scaling-policy-overview.html)
                let step = if *adjustment >= 0 {
                    StepAdjustment::builder().metric_interval_lower_bound(0.0)
                } else {
                    StepAdjustment::builder().metric_interval_upper_bound(0.0)
                };
                req.policy_type(PolicyType::StepScaling)
                    .step_scaling_policy_configuration(
                        StepScalingPolicyConfiguration::builder()
                            .adjustment_type(AdjustmentType::ChangeInCapacity)
                            .cooldown(*cooldown_s as i32)
                            .metric_aggregation_type(MetricAggregationType::Average)
                            .step_adjustments(
                                step.scaling_adjustment(*adjustment)
                                    .build()
                                    .map_err(build_err)?,
                            )
                            .build(),
                    )
            }
        };
        let out = call(|| req.clone().send()).await?;
        Ok(out.policy_arn().to_string())
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
        have: &Self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        observed: &ObservedResource,
    ) -> Result<(), CloudError> {
        let r: &ScalingPolicy = have;
        let arn: &str = &observed.physical_id;
        let resource = match policy_resource_id(arn) {
            Some(id) => id.to_string(),
            None => ctx.resolve(&r.target)?,
        };
        let out = call(|| {
            cloud
                .autoscaling
                .delete_scaling_policy()
                .policy_name(&r.name)
                .service_namespace(ServiceNamespace::Ecs)
                .resource_id(resource.clone())
                .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
                .send()
        })
        .await;
        gone_is_done(out.map(|_| ()))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn policy_arns_name_their_target() {
        let arn = "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:6d8972f3-efc8-437c-92d1-6270f29a66e7:resource/ecs/service/shop-cluster/shop-api:policyName/shop-api-scale-out";
        assert_eq!(
            super::policy_resource_id(arn),
            Some("service/shop-cluster/shop-api")
        );
        assert_eq!(super::policy_resource_id("arn:aws:sns:x"), None);
    }
}
