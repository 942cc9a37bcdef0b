//! API resources: one per path segment under the REST API's root.

use super::*;

/// The id of `parent`'s child `path_part`, if it exists.
async fn existing_child(
    cloud: &AwsCloud,
    api: &str,
    parent: &str,
    path_part: &str,
) -> Result<Option<String>, CloudError> {
    let mut pages = cloud
        .apigw
        .get_resources()
        .rest_api_id(api)
        .limit(PAGE)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(aws_err)?;
        if let Some(found) = page
            .items()
            .iter()
            .find(|r| r.parent_id() == Some(parent) && r.path_part() == Some(path_part))
        {
            return Ok(found.id().map(String::from));
        }
    }
    Ok(None)
}

impl AwsKind for ApiResource {
    fn cost(op: OpKind) -> Vec<(Family, f64)> {
        let own = (
            Some(Family::ApiGatewayCreateResource),
            Some(Family::ApiGatewayDeleteResource),
        );
        api_cost(op, own)
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        let r = self;
        let (api, parent) = resource_id(cloud, ctx, &r.rest_api, &r.parent).await?;
        // A conflict is either another change in progress (retried) or this very resource, made
        // by our earlier create whose answer was lost: everything in an owned API is ours, so it is
        // adopted.
        let created = call(|| {
            cloud
                .apigw
                .create_resource()
                .rest_api_id(&api)
                .parent_id(&parent)
                .path_part(&r.path_part)
                .send()
        })
        .await;
        let id = match created {
            Ok(out) => out
                .id()
                .map(String::from)
                .ok_or_else(|| missing("Resource id"))?,
            Err(e) if has_code(&e, "ConflictException") => {
                existing_child(cloud, &api, &parent, &r.path_part)
                    .await?
                    .ok_or(e)?
            }
            Err(e) => return Err(e),
        };
        Ok(format!("{api}/{id}"))
    }
    async fn update(
        &self,
        _cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        _id: &str,
        _have: &Self,
    ) -> Result<String, CloudError> {
        Err(no_update_in_place(Kind::ApiResource, ctx))
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
                    .delete_resource()
                    .rest_api_id(api)
                    .resource_id(id)
                    .send()
            })
            .await,
        )
    }
}
