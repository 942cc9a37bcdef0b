//! Methods and their integrations: HTTP proxy over the VPC link to the service's port and path.

use super::*;

/// PutIntegration replaces the method's integration: used to create and to update it.
async fn put_integration(
    cloud: &AwsCloud,
    ctx: &OpContext<'_>,
    api: &str,
    resource: &str,
    r: &ApiMethod,
) -> Result<(), CloudError> {
    let dns = crate::cloud::aws::elb::dns_name(cloud, &ctx.resolve(&r.load_balancer)?).await?;
    let parameters: HashMap<String, String> = r
        .path_parameters
        .iter()
        .map(|p| {
            (
                format!("integration.request.path.{p}"),
                format!("method.request.path.{p}"),
            )
        })
        .collect();
    let link = ctx.resolve(&r.vpc_link)?;
    let target = r
        .integration_target
        .as_ref()
        .map(|t| ctx.resolve(t))
        .transpose()?;
    call(|| {
        cloud
            .apigw
            .put_integration()
            .rest_api_id(api)
            .resource_id(resource)
            .http_method(&r.http_method)
            .r#type(IntegrationType::HttpProxy)
            .integration_http_method(&r.http_method)
            .uri(integration_uri(&dns, r.port, &r.path))
            .connection_type(ConnectionType::VpcLink)
            .connection_id(&link)
            .set_integration_target(target.clone())
            .set_request_parameters((!parameters.is_empty()).then(|| parameters.clone()))
            .send()
    })
    .await?;
    Ok(())
}

impl AwsKind for ApiMethod {
    fn cost(op: OpKind) -> Vec<(Family, f64)> {
        // A create is two calls (the method, its integration).
        let calls = if op == OpKind::Create { 2.0 } else { 1.0 };
        vec![(Family::ApiGateway, calls)]
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        let r = self;
        let (api, resource) = resource_id(cloud, ctx, &r.rest_api, &r.resource).await?;
        let parameters: HashMap<String, bool> = r
            .path_parameters
            .iter()
            .map(|p| (format!("method.request.path.{p}"), true))
            .collect();
        let put = call(|| {
            cloud
                .apigw
                .put_method()
                .rest_api_id(&api)
                .resource_id(&resource)
                .http_method(&r.http_method)
                .authorization_type("NONE")
                .set_request_parameters((!parameters.is_empty()).then(|| parameters.clone()))
                .send()
        })
        .await;
        match put {
            Ok(_) => {}
            // The method exists: our earlier put whose answer was lost (the integration is
            // put below either way; the next plan corrects anything else that differs).
            Err(e) if has_code(&e, "ConflictException") => {
                call(|| {
                    cloud
                        .apigw
                        .get_method()
                        .rest_api_id(&api)
                        .resource_id(&resource)
                        .http_method(&r.http_method)
                        .send()
                })
                .await
                .map_err(|_| e)?;
            }
            Err(e) => return Err(e),
        }
        put_integration(cloud, ctx, &api, &resource, r).await?;
        Ok(format!("{api}/{resource}/{}", r.http_method))
    }
    async fn update(
        &self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        id: &str,
        _have: &Self,
    ) -> Result<String, CloudError> {
        let physical: &str = id;
        let r = self;
        let (api, resource, _) = split_method(physical)?;
        put_integration(cloud, ctx, api, resource, r).await?;
        Ok(id.to_string())
    }
    async fn delete(
        _have: &Self,
        cloud: &AwsCloud,
        _ctx: &OpContext<'_>,
        observed: &ObservedResource,
    ) -> Result<(), CloudError> {
        let physical: &str = &observed.physical_id;
        let (api, resource, method) = split_method(physical)?;
        gone_is_done(
            call(|| {
                cloud
                    .apigw
                    .delete_method()
                    .rest_api_id(api)
                    .resource_id(resource)
                    .http_method(method)
                    .send()
            })
            .await,
        )
    }
}
