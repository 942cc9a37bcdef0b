//! The REST API: deleting it takes its resources, methods, deployments and stages along.

use super::*;

impl AwsKind for RestApi {
    fn cost(op: OpKind) -> Vec<(Family, f64)> {
        let own = (
            Some(Family::ApiGatewayCreateRestApi),
            Some(Family::ApiGatewayDeleteRestApi),
        );
        api_cost(op, own)
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        let r = self;
        let create = || async {
            let out = call(|| {
                cloud
                    .apigw
                    .create_rest_api()
                    .name(&r.name)
                    .description(&r.description)
                    .endpoint_configuration(
                        EndpointConfiguration::builder()
                            .types(EndpointType::Regional)
                            .build(),
                    )
                    .set_tags(Some(tag_hash(ctx, &r.name)))
                    .customize()
                    .config_override(without_retry())
                    .send()
            })
            .await?;
            let id = out.id().ok_or_else(|| missing("RestApi id"))?.to_string();
            if let Some(root) = out.root_resource_id() {
                cloud.remember(&root_key(&id), root);
            }
            Ok(id)
        };
        let find = || async {
            let mut pages = cloud
                .apigw
                .get_rest_apis()
                .limit(500)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                for api in page.map_err(aws_err)?.items() {
                    if is_ours(&tags_of(api.tags()), ctx) {
                        return Ok(api.id().map(String::from));
                    }
                }
            }
            Ok(None)
        };
        create_or_find("CreateRestApi", create, find).await
    }
    async fn update(
        &self,
        cloud: &AwsCloud,
        _ctx: &OpContext<'_>,
        id: &str,
        _have: &Self,
    ) -> Result<String, CloudError> {
        let r = self;
        call(|| {
            cloud
                .apigw
                .update_rest_api()
                .rest_api_id(id)
                .patch_operations(replace("/name", &r.name))
                .patch_operations(replace("/description", &r.description))
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
        let id: &str = &observed.physical_id;
        gone_is_done(call(|| cloud.apigw.delete_rest_api().rest_api_id(id).send()).await)
    }
}
