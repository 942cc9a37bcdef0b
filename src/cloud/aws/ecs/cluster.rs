//! The Fargate cluster: deleted once its services are gone.

use super::*;

fn insights(on: bool) -> ClusterSetting {
    ClusterSetting::builder()
        .name(ClusterSettingName::ContainerInsights)
        .value(if on { "enabled" } else { "disabled" })
        .build()
}

impl AwsKind for Cluster {
    fn cost(op: OpKind) -> Vec<(Family, f64)> {
        let _ = op;
        vec![(Family::EcsOther, 1.0)]
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        let r = self;
        let strategy = CapacityProviderStrategyItem::builder()
            .capacity_provider("FARGATE")
            .weight(1)
            .build()
            .map_err(build_err)?;
        let out = call(|| {
            cloud
                .ecs
                .create_cluster()
                .cluster_name(&r.name)
                .capacity_providers("FARGATE")
                .default_capacity_provider_strategy(strategy.clone())
                .settings(insights(r.container_insights))
                .set_tags(Some(tags(ctx, &r.name)))
                .send()
        })
        .await?;
        out.cluster()
            .and_then(|c| c.cluster_arn())
            .map(String::from)
            .ok_or_else(|| missing("Cluster.ClusterArn"))
    }
    async fn update(
        &self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        id: &str,
        have: &Self,
    ) -> Result<String, CloudError> {
        let _ = (ctx, have);
        let r = self;
        call(|| {
            cloud
                .ecs
                .update_cluster_settings()
                .cluster(&r.name)
                .settings(insights(r.container_insights))
                .send()
        })
        .await?;
        Ok(id.to_string())
    }
    async fn delete(
        have: &Self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        observed: &ObservedResource,
    ) -> Result<(), CloudError> {
        let _ = (ctx, observed);
        let name: &str = &have.name;
        // Refused while services are still draining.
        let res = retry_while(
            &format!("delete cluster {name}"),
            cloud.timeouts.dependencies,
            is_dependency,
            || async {
                call(|| cloud.ecs.delete_cluster().cluster(name).send())
                    .await
                    .map(|_| ())
            },
        )
        .await;
        gone_is_done(res)
    }
}
