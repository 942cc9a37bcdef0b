//! The stage: serves the current deployment, with stage-wide throttling.

use super::*;

/// The patch that makes a stage serve `r`: its stage-wide throttling, which lives in the
/// method settings under the `*/*` key
/// (https://docs.aws.amazon.com/apigateway/latest/api/patch-operations.html#UpdateStage-Patch),
/// and, on an update (`have`), the deployment it serves: a new snapshot keeps its logical id,
/// so only the AWS ids tell old from new, and the stage always moves to the current one.
fn stage_patch(r: &ApiStage, deployment: &str, have: Option<&ApiStage>) -> Vec<PatchOperation> {
    let mut ops = Vec::new();
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
    ops
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
        // CreateStage takes no method settings: the throttling is a patch of its own.
        let ops = stage_patch(r, deployment, None);
        if !ops.is_empty() {
            call(|| {
                cloud
                    .apigw
                    .update_stage()
                    .rest_api_id(&api)
                    .stage_name(&r.name)
                    .set_patch_operations(Some(ops.clone()))
                    .send()
            })
            .await?;
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
        let (api, stage) = split(id)?;
        let deployment = ctx.resolve(&self.deployment)?;
        let (_, deployment) = split(&deployment)?;
        let ops = stage_patch(self, deployment, Some(have));
        call(|| {
            cloud
                .apigw
                .update_stage()
                .rest_api_id(api)
                .stage_name(stage)
                .set_patch_operations(Some(ops.clone()))
                .send()
        })
        .await?;
        Ok(id.to_string())
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
