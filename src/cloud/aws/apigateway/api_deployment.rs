//! Deployments: snapshots of the API's resources and methods that a stage serves.

use super::*;

impl AwsKind for ApiDeployment {
    fn cost(op: OpKind) -> Vec<(Family, f64)> {
        api_cost(op, (Some(Family::ApiGatewayCreateDeployment), None))
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        let r = self;
        let api = ctx.resolve(&r.rest_api)?;
        let create = || async {
            let out = call(|| {
                cloud
                    .apigw
                    .create_deployment()
                    .rest_api_id(&api)
                    .description(&r.description)
                    .customize()
                    .config_override(without_retry())
                    .send()
            })
            .await?;
            let id = out.id().ok_or_else(|| missing("Deployment id"))?;
            Ok(format!("{api}/{id}"))
        };
        // Deployments carry no tags: the one this create made is the snapshot with our description
        // that the run did not see when it began (the stack's others, current or not, it did).
        let find = || async {
            let seen: std::collections::BTreeSet<&String> = ctx.observed.values().collect();
            let mut pages = cloud
                .apigw
                .get_deployments()
                .rest_api_id(&api)
                .limit(500)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                for d in page.map_err(aws_err)?.items() {
                    let physical = format!("{api}/{}", d.id().unwrap_or_default());
                    if d.description() == Some(r.description.as_str()) && !seen.contains(&physical)
                    {
                        return Ok(Some(physical));
                    }
                }
            }
            Ok(None)
        };
        create_or_find("CreateDeployment", create, find).await
    }
    async fn update(
        &self,
        _cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        _id: &str,
        _have: &Self,
    ) -> Result<String, CloudError> {
        // Immutable: a changed description is a new snapshot (diff plans replacements only).
        Err(no_update_in_place(Kind::ApiDeployment, ctx))
    }
    async fn delete(
        _have: &Self,
        cloud: &AwsCloud,
        _ctx: &OpContext<'_>,
        observed: &ObservedResource,
    ) -> Result<(), CloudError> {
        let physical: &str = &observed.physical_id;
        let (api, id) = split(physical)?;
        gone_is_done(
            call(|| {
                cloud
                    .apigw
                    .delete_deployment()
                    .rest_api_id(api)
                    .deployment_id(id)
                    .send()
            })
            .await,
        )
    }
}
