//! The stage: serves the current deployment, with stage-wide throttling.

use super::*;

/// Stage-wide method settings live under the `*/*` key
/// (https://docs.aws.amazon.com/apigateway/latest/api/patch-operations.html#UpdateStage-Patch).
pub async fn update_stage(
    cloud: &AwsCloud,
    ctx: &OpContext<'_>,
    physical: &str,
    r: &ApiStage,
    have: Option<&ApiStage>,
) -> Result<(), CloudError> {
    let (api, stage) = split(physical)?;
    let deployment = ctx.resolve(&r.deployment)?;
    let (_, deployment) = split(&deployment)?;
    let mut ops = Vec::new();
    // On an update, the stage always moves to the current deployment: a new snapshot keeps
    // its logical id, so only the AWS ids tell old from new.
    if have.is_some() {
        ops.push(replace("/deploymentId", deployment));
    }
    match r.throttle {
        Some(t) => {
            ops.push(replace("/*/*/throttling/rateLimit", t.rate.to_string()));
            ops.push(replace("/*/*/throttling/burstLimit", t.burst.to_string()));
        }
        None if have.is_some_and(|h| h.throttle.is_some()) => {
            ops.push(
                PatchOperation::builder()
                    .op(Op::Remove)
                    .path("/*/*")
                    .build(),
            );
        }
        None => {}
    }
    if ops.is_empty() {
        return Ok(());
    }
    async {
        call(|| {
            cloud
                .apigw
                .update_stage()
                .rest_api_id(api)
                .stage_name(stage)
                .set_patch_operations(Some(ops.clone()))
                .send()
        })
        .await
    }
    .await?;
    Ok(())
}

impl AwsKind for ApiStage {
    fn cost(op: OpKind) -> Vec<(Family, f64)> {
        api_cost(op, (None, None))
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        let r = self;
        let api = ctx.resolve(&r.rest_api)?;
        let deployment = ctx.resolve(&r.deployment)?;
        let (_, deployment) = split(&deployment)?;
        let physical = format!("{api}/{}", r.name);
        let created = call(|| {
            cloud
                .apigw
                .create_stage()
                .rest_api_id(&api)
                .stage_name(&r.name)
                .deployment_id(deployment)
                .set_tags(Some(tag_hash(ctx, &r.name)))
                .send()
        })
        .await
        .map(|_| physical.clone());
        // A create whose answer was lost ("Stage already exists"): ours if it carries our tags.
        adopt_if_exists(created, "ConflictException", || async {
            let stage = call(|| {
                cloud
                    .apigw
                    .get_stage()
                    .rest_api_id(&api)
                    .stage_name(&r.name)
                    .send()
            })
            .await?;
            let tags = stage
                .tags()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .collect();
            match is_ours(&tags, ctx) {
                true => Ok(physical.clone()),
                false => Err(nothing_of_ours()),
            }
        })
        .await?;
        if r.throttle.is_some() {
            update_stage(cloud, ctx, &physical, r, None).await?;
        }
        Ok(physical)
    }
    async fn update(
        &self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        id: &str,
        have: &Self,
    ) -> Result<String, CloudError> {
        update_stage(cloud, ctx, id, self, Some(have))
            .await
            .map(|()| id.to_string())
    }
    async fn delete(
        _have: &Self,
        cloud: &AwsCloud,
        _ctx: &OpContext<'_>,
        observed: &ObservedResource,
    ) -> Result<(), CloudError> {
        let physical: &str = &observed.physical_id;
        let (api, stage) = split(physical)?;
        gone_is_done(
            call(|| {
                cloud
                    .apigw
                    .delete_stage()
                    .rest_api_id(api)
                    .stage_name(stage)
                    .send()
            })
            .await,
        )
    }
}
