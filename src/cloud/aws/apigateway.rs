//! API Gateway (REST, V1): the VPC link, the REST API, its resources, methods with their
//! integrations, deployments and the stage. AWS ids of the API's parts are only unique within
//! their API, so their physical ids here are `<api id>/<part id>`.

use super::errors::{aws_err, has_code, missing};
use super::ops::{adopt_if_exists, create_or_find, gone_is_done, nothing_of_ours, wait_until_gone};
use super::ownership::is_ours;
use super::ownership::{owned_by, scoped, Found};
use super::retry::wait_until;
use super::settle::call;
use super::{ownership_tags, AwsCloud};
use crate::cloud::{CloudError, OpContext};
use crate::model::*;
use aws_sdk_apigateway::types::{
    ConnectionType, EndpointConfiguration, EndpointType, IntegrationType, Op, PatchOperation,
    VpcLinkStatus,
};
use std::collections::{BTreeMap, HashMap};

/// AWS's page size maximum for API Gateway listings.
const PAGE: i32 = 500;

/// For a create that must not be sent twice by the SDK's retry (`ops::create_or_find`).
fn without_retry() -> aws_sdk_apigateway::config::Builder {
    aws_sdk_apigateway::config::Builder::default()
        .retry_config(aws_config::retry::RetryConfig::disabled())
}

fn tag_hash(ctx: &OpContext<'_>, name: &str) -> HashMap<String, String> {
    ownership_tags(ctx, name).into_iter().collect()
}

fn tags_of(tags: Option<&HashMap<String, String>>) -> BTreeMap<String, String> {
    tags.map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// `<api id>/<part id>` → its two halves.
fn split(physical: &str) -> Result<(&str, &str), CloudError> {
    physical
        .split_once('/')
        .ok_or_else(|| CloudError::Other(format!("`{physical}` is not an API part's id")))
}

fn replace(path: &str, value: impl Into<String>) -> PatchOperation {
    PatchOperation::builder()
        .op(Op::Replace)
        .path(path)
        .value(value)
        .build()
}

// ---------------------------------------------------------------- VPC link

pub async fn create_vpc_link(
    cloud: &AwsCloud,
    ctx: &OpContext<'_>,
    r: &VpcLink,
) -> Result<String, CloudError> {
    let nlb = ctx.resolve(&r.load_balancer)?;
    // CreateVpcLink refuses an NLB that is not `active` yet ("NLB ARN is not in active state"):
    // the one edge of the API Gateway entry that waits for the load balancer
    // (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-private-integration.html).
    let nlb_name = nlb.split('/').nth(2).unwrap_or(&nlb).to_string();
    super::elb::wait_active(cloud, &nlb, &nlb_name).await?;
    let create = || async {
        let out = call(|| {
            cloud
                .apigw
                .create_vpc_link()
                .name(&r.name)
                .description(&r.description)
                .target_arns(nlb.clone())
                .set_tags(Some(tag_hash(ctx, &r.name)))
                .customize()
                .config_override(without_retry())
                .send()
        })
        .await?;
        out.id()
            .map(String::from)
            .ok_or_else(|| missing("VpcLink id"))
    };
    let find = || async {
        let mut pages = cloud
            .apigw
            .get_vpc_links()
            .limit(500)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            for link in page.map_err(aws_err)?.items() {
                if is_ours(&tags_of(link.tags()), ctx) {
                    return Ok(link.id().map(String::from));
                }
            }
        }
        Ok(None)
    };
    let id = create_or_find("CreateVpcLink", create, find).await?;
    // A REST VPC link is PENDING for minutes (8–12 against an NLB) and may end FAILED; a
    // deployment over it is refused until it is AVAILABLE
    // (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-private-integration.html).
    wait_until(
        &format!("VPC link {}", r.name),
        cloud.timeouts.provisioning,
        || async {
            let link = call(|| cloud.apigw.get_vpc_link().vpc_link_id(&id).send()).await?;
            match link.status() {
                Some(VpcLinkStatus::Available) => Ok(None),
                Some(VpcLinkStatus::Failed) => Err(CloudError::Other(format!(
                    "VPC link {} failed: {}",
                    r.name,
                    link.status_message().unwrap_or("no reason given")
                ))),
                Some(other) => Ok(Some(other.as_str().to_string())),
                None => Ok(Some("no status yet".into())),
            }
        },
    )
    .await?;
    Ok(id)
}

pub async fn update_vpc_link(cloud: &AwsCloud, id: &str, r: &VpcLink) -> Result<(), CloudError> {
    call(|| {
        cloud
            .apigw
            .update_vpc_link()
            .vpc_link_id(id)
            .patch_operations(replace("/name", &r.name))
            .patch_operations(replace("/description", &r.description))
            .send()
    })
    .await?;
    Ok(())
}

/// Deleting takes a while on AWS (DELETING), and the network load balancer cannot be deleted
/// while the link still uses it: wait until it is gone.
pub async fn delete_vpc_link(cloud: &AwsCloud, id: &str) -> Result<(), CloudError> {
    gone_is_done(call(|| cloud.apigw.delete_vpc_link().vpc_link_id(id).send()).await)?;
    wait_until_gone(cloud, &format!("VPC link {id}"), || async {
        let link = call(|| cloud.apigw.get_vpc_link().vpc_link_id(id).send()).await?;
        Ok(link
            .status()
            .map_or_else(|| "still listed".into(), |s| s.as_str().to_string()))
    })
    .await
}

// ---------------------------------------------------------------- VPC link V2

pub async fn create_vpc_link_v2(
    cloud: &AwsCloud,
    ctx: &OpContext<'_>,
    r: &VpcLinkV2,
) -> Result<String, CloudError> {
    let subnets = ctx.resolve_all(&r.subnets)?;
    let groups = ctx.resolve_all(&r.security_groups)?;
    let create = || async {
        let out = call(|| {
            cloud
                .apigw2
                .create_vpc_link()
                .name(&r.name)
                .set_subnet_ids(Some(subnets.clone()))
                .set_security_group_ids(Some(groups.clone()))
                .set_tags(Some(tag_hash(ctx, &r.name)))
                .customize()
                .config_override(
                    aws_sdk_apigatewayv2::config::Builder::default()
                        .retry_config(aws_config::retry::RetryConfig::disabled()),
                )
                .send()
        })
        .await?;
        out.vpc_link_id()
            .map(String::from)
            .ok_or_else(|| missing("VpcLinkId"))
    };
    // GetVpcLinks (V2) has no paginator in the SDK: NextToken by hand.
    let find = || async {
        let mut token: Option<String> = None;
        loop {
            let page = call(|| {
                cloud
                    .apigw2
                    .get_vpc_links()
                    .max_results("100")
                    .set_next_token(token.clone())
                    .send()
            })
            .await?;
            for link in page.items() {
                if is_ours(&tags_of(link.tags()), ctx) {
                    return Ok(link.vpc_link_id().map(String::from));
                }
            }
            match page.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_string()),
                _ => return Ok(None),
            }
        }
    };
    let id = create_or_find("CreateVpcLink (V2)", create, find).await?;
    // PENDING while AWS makes its network interfaces in the subnets (minutes), or FAILED
    // (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-vpc-links.html).
    wait_until(
        &format!("VPC link {}", r.name),
        cloud.timeouts.provisioning,
        || async {
            let link = call(|| cloud.apigw2.get_vpc_link().vpc_link_id(&id).send()).await?;
            use aws_sdk_apigatewayv2::types::VpcLinkStatus as V2;
            match link.vpc_link_status() {
                Some(V2::Available) => Ok(None),
                Some(V2::Failed) => Err(CloudError::Other(format!(
                    "VPC link {} failed: {}",
                    r.name,
                    link.vpc_link_status_message().unwrap_or("no reason given")
                ))),
                Some(other) => Ok(Some(other.as_str().to_string())),
                None => Ok(Some("no status yet".into())),
            }
        },
    )
    .await?;
    Ok(id)
}

pub async fn update_vpc_link_v2(
    cloud: &AwsCloud,
    id: &str,
    r: &VpcLinkV2,
) -> Result<(), CloudError> {
    call(|| {
        cloud
            .apigw2
            .update_vpc_link()
            .vpc_link_id(id)
            .name(&r.name)
            .send()
    })
    .await?;
    Ok(())
}

/// Its network interfaces go minutes after the delete, and hold the subnets and the group
/// until then: wait until the link is gone.
pub async fn delete_vpc_link_v2(cloud: &AwsCloud, id: &str) -> Result<(), CloudError> {
    gone_is_done(call(|| cloud.apigw2.delete_vpc_link().vpc_link_id(id).send()).await)?;
    wait_until_gone(cloud, &format!("VPC link {id}"), || async {
        let link = call(|| cloud.apigw2.get_vpc_link().vpc_link_id(id).send()).await?;
        Ok(link
            .vpc_link_status()
            .map_or_else(|| "still listed".into(), |s| s.as_str().to_string()))
    })
    .await
}

// ---------------------------------------------------------------- REST API

pub async fn create_rest_api(
    cloud: &AwsCloud,
    ctx: &OpContext<'_>,
    r: &RestApi,
) -> Result<String, CloudError> {
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

pub async fn update_rest_api(cloud: &AwsCloud, id: &str, r: &RestApi) -> Result<(), CloudError> {
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
    Ok(())
}

pub async fn delete_rest_api(cloud: &AwsCloud, id: &str) -> Result<(), CloudError> {
    gone_is_done(call(|| cloud.apigw.delete_rest_api().rest_api_id(id).send()).await)
}

fn root_key(api: &str) -> String {
    format!("apigateway-root:{api}")
}

/// The AWS id of the resource a `Ref` names: the API's root `/` when it names the API itself.
async fn resource_id(
    cloud: &AwsCloud,
    ctx: &OpContext<'_>,
    rest_api: &Ref,
    resource: &Ref,
) -> Result<(String, String), CloudError> {
    let api = ctx.resolve(rest_api)?;
    if resource == rest_api {
        if let Some(root) = cloud.recall(&root_key(&api)) {
            return Ok((api, root));
        }
        let out = call(|| cloud.apigw.get_rest_api().rest_api_id(&api).send()).await?;
        let root = out
            .root_resource_id()
            .ok_or_else(|| missing("rootResourceId"))?
            .to_string();
        cloud.remember(&root_key(&api), &root);
        return Ok((api, root));
    }
    let physical = ctx.resolve(resource)?;
    let (_, id) = split(&physical)?;
    Ok((api, id.to_string()))
}

// ---------------------------------------------------------------- resources

pub async fn create_resource(
    cloud: &AwsCloud,
    ctx: &OpContext<'_>,
    r: &ApiResource,
) -> Result<String, CloudError> {
    let (api, parent) = resource_id(cloud, ctx, &r.rest_api, &r.parent).await?;
    // A conflict is either another change in progress (retried) or this very resource, made
    // by our earlier create whose answer was lost: everything in an owned API is ours, so it is
    // adopted.
    let id = async {
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
        match created {
            Ok(out) => out
                .id()
                .map(String::from)
                .ok_or_else(|| missing("Resource id")),
            Err(e) if has_code(&e, "ConflictException") => {
                match existing_child(cloud, &api, &parent, &r.path_part).await? {
                    Some(id) => Ok(id),
                    None => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }
    .await?;
    Ok(format!("{api}/{id}"))
}

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

pub async fn delete_resource(cloud: &AwsCloud, physical: &str) -> Result<(), CloudError> {
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

// ---------------------------------------------------------------- methods and integrations

pub async fn create_method(
    cloud: &AwsCloud,
    ctx: &OpContext<'_>,
    r: &ApiMethod,
) -> Result<String, CloudError> {
    let (api, resource) = resource_id(cloud, ctx, &r.rest_api, &r.resource).await?;
    let parameters: HashMap<String, bool> = r
        .path_parameters
        .iter()
        .map(|p| (format!("method.request.path.{p}"), true))
        .collect();
    async {
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
            Ok(_) => Ok(()),
            // The method exists: our earlier put whose answer was lost (the integration is
            // put below either way; the next plan corrects anything else that differs).
            Err(e) if has_code(&e, "ConflictException") => call(|| {
                cloud
                    .apigw
                    .get_method()
                    .rest_api_id(&api)
                    .resource_id(&resource)
                    .http_method(&r.http_method)
                    .send()
            })
            .await
            .map(|_| ())
            .map_err(|_| e),
            Err(e) => Err(e),
        }
    }
    .await?;
    put_integration(cloud, ctx, &api, &resource, r).await?;
    Ok(format!("{api}/{resource}/{}", r.http_method))
}

/// PutIntegration replaces the method's integration: used to create and to update it.
async fn put_integration(
    cloud: &AwsCloud,
    ctx: &OpContext<'_>,
    api: &str,
    resource: &str,
    r: &ApiMethod,
) -> Result<(), CloudError> {
    let dns = super::elb::dns_name(cloud, &ctx.resolve(&r.load_balancer)?).await?;
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
    async {
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
        .await
    }
    .await?;
    Ok(())
}

pub async fn update_method(
    cloud: &AwsCloud,
    ctx: &OpContext<'_>,
    physical: &str,
    r: &ApiMethod,
) -> Result<(), CloudError> {
    let (api, resource, _) = split_method(physical)?;
    put_integration(cloud, ctx, api, resource, r).await
}

pub async fn delete_method(cloud: &AwsCloud, physical: &str) -> Result<(), CloudError> {
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

fn split_method(physical: &str) -> Result<(&str, &str, &str), CloudError> {
    let mut parts = physical.splitn(3, '/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(a), Some(r), Some(m)) => Ok((a, r, m)),
        _ => Err(CloudError::Other(format!(
            "`{physical}` is not an API method's id"
        ))),
    }
}

fn integration_uri(host: &str, port: u16, path: &str) -> String {
    format!("http://{host}:{port}{path}")
}

/// `http://host:port/path` → (host, port, path); anything else keeps the whole URI as the host,
/// so it never matches a load balancer and shows as drift.
fn parse_integration_uri(uri: &str) -> (String, u16, String) {
    let parsed = uri.strip_prefix("http://").and_then(|rest| {
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (host, port) = authority.rsplit_once(':')?;
        Some((host.to_string(), port.parse().ok()?, path.to_string()))
    });
    parsed.unwrap_or_else(|| (uri.to_string(), 0, String::new()))
}

// ---------------------------------------------------------------- deployments and stages

pub async fn create_deployment(
    cloud: &AwsCloud,
    ctx: &OpContext<'_>,
    r: &ApiDeployment,
) -> Result<String, CloudError> {
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
                if d.description() == Some(r.description.as_str()) && !seen.contains(&physical) {
                    return Ok(Some(physical));
                }
            }
        }
        Ok(None)
    };
    create_or_find("CreateDeployment", create, find).await
}

pub async fn delete_deployment(cloud: &AwsCloud, physical: &str) -> Result<(), CloudError> {
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

pub async fn create_stage(
    cloud: &AwsCloud,
    ctx: &OpContext<'_>,
    r: &ApiStage,
) -> Result<String, CloudError> {
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

pub async fn delete_stage(cloud: &AwsCloud, physical: &str) -> Result<(), CloudError> {
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

// ---------------------------------------------------------------- observe

/// VPC links and REST APIs are found by their tags (read with the listing: `GetTags` is not
/// needed); an owned API's resources, methods, deployments and stages are ours through it.
pub async fn observe(cloud: &AwsCloud, stack: &str) -> Result<Found, CloudError> {
    let (links, links_v2, apis) = tokio::try_join!(
        async {
            let mut all = Vec::new();
            let mut pages = cloud
                .apigw
                .get_vpc_links()
                .limit(PAGE)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                all.extend(page.map_err(aws_err)?.items().to_vec());
            }
            Ok::<_, CloudError>(all)
        },
        async {
            // No paginator in the SDK for this listing: follow NextToken by hand.
            let mut all = Vec::new();
            let mut token: Option<String> = None;
            loop {
                let page = call(|| {
                    cloud
                        .apigw2
                        .get_vpc_links()
                        .max_results(PAGE.to_string())
                        .set_next_token(token.take())
                        .send()
                })
                .await?;
                all.extend(page.items().to_vec());
                match page.next_token() {
                    Some(next) if !next.is_empty() => token = Some(next.to_string()),
                    _ => break,
                }
            }
            Ok::<_, CloudError>(all)
        },
        async {
            let mut all = Vec::new();
            let mut pages = cloud
                .apigw
                .get_rest_apis()
                .limit(PAGE)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                all.extend(page.map_err(aws_err)?.items().to_vec());
            }
            Ok::<_, CloudError>(all)
        },
    )?;
    let mut found = Found::new(stack);
    for link in &links {
        let tags = tags_of(link.tags());
        found.add(&tags, link.id(), |_| {
            Resource::VpcLink(VpcLink {
                name: link.name().unwrap_or_default().to_string(),
                description: link.description().unwrap_or_default().to_string(),
                load_balancer: Ref::Unowned(
                    link.target_arns().first().cloned().unwrap_or_default(),
                ),
            })
        });
    }
    for link in &links_v2 {
        let tags = tags_of(link.tags());
        let refs = |ids: &[String]| -> Vec<Ref> {
            let mut out: Vec<Ref> = ids.iter().map(|i| Ref::Unowned(i.clone())).collect();
            out.sort();
            out
        };
        found.add(&tags, link.vpc_link_id(), |_| {
            Resource::VpcLinkV2(VpcLinkV2 {
                name: link.name().unwrap_or_default().to_string(),
                subnets: refs(link.subnet_ids()),
                security_groups: refs(link.security_group_ids()),
            })
        });
    }
    let owned: Vec<_> = apis
        .iter()
        .filter(|a| owned_by(&tags_of(a.tags()), stack))
        .filter_map(|a| Some((a, a.id()?)))
        .collect();
    for (api, id) in &owned {
        let tags = tags_of(api.tags());
        found.add(&tags, Some(id), |_| {
            Resource::RestApi(RestApi {
                name: api.name().unwrap_or_default().to_string(),
                description: api.description().unwrap_or_default().to_string(),
            })
        });
    }
    let parts =
        futures::future::try_join_all(owned.iter().map(|(_, id)| observe_api(cloud, stack, id)))
            .await?;
    for part in parts {
        found.items.extend(part.items);
    }
    Ok(found)
}

/// One API's resources with their methods and integrations (one listing, `embed=methods`),
/// deployments and stages, read in parallel.
async fn observe_api(cloud: &AwsCloud, stack: &str, api: &str) -> Result<Found, CloudError> {
    let (resources, deployments, stages) = tokio::try_join!(
        async {
            let mut all = Vec::new();
            let mut pages = cloud
                .apigw
                .get_resources()
                .rest_api_id(api)
                .embed("methods")
                .limit(PAGE)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                all.extend(page.map_err(aws_err)?.items().to_vec());
            }
            Ok::<_, CloudError>(all)
        },
        async {
            let mut all = Vec::new();
            let mut pages = cloud
                .apigw
                .get_deployments()
                .rest_api_id(api)
                .limit(PAGE)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                all.extend(page.map_err(aws_err)?.items().to_vec());
            }
            Ok::<_, CloudError>(all)
        },
        async { call(|| cloud.apigw.get_stages().rest_api_id(api).send()).await },
    )?;
    let mut found = Found::new(stack);
    let mut resources = resources;
    // Parents before children: observe's linking derives a child's id from its parent's.
    resources.sort_by_key(|r| r.path().map(|p| p.matches('/').count()).unwrap_or(0));
    // The root `/` is the API itself: its children and methods point at the API.
    let node_of = |id: &str| match resources.iter().find(|r| r.id() == Some(id)) {
        Some(r) if r.parent_id().is_none() => Ref::Unowned(api.to_string()),
        _ => Ref::Unowned(format!("{api}/{id}")),
    };
    for res in &resources {
        let Some(id) = res.id() else { continue };
        let physical = format!("{api}/{id}");
        let node = node_of(id);
        if let Some(parent) = res.parent_id() {
            found.items.push(scoped(
                Resource::ApiResource(ApiResource {
                    rest_api: Ref::Unowned(api.to_string()),
                    parent: node_of(parent),
                    path_part: res.path_part().unwrap_or_default().to_string(),
                }),
                &physical,
            ));
        }
        let mut methods: Vec<_> = res.resource_methods().into_iter().flatten().collect();
        methods.sort_by(|a, b| a.0.cmp(b.0));
        for (verb, method) in methods {
            let integration = method.method_integration();
            let (host, port, path) =
                parse_integration_uri(integration.and_then(|i| i.uri()).unwrap_or_default());
            let mut path_parameters: Vec<String> = method
                .request_parameters()
                .into_iter()
                .flatten()
                .filter_map(|(k, _)| k.strip_prefix("method.request.path.").map(String::from))
                .collect();
            path_parameters.sort();
            // Only a proxy over a VPC link is what we make; anything else is drift.
            let over_link = integration.is_some_and(|i| {
                i.r#type() == Some(&IntegrationType::HttpProxy)
                    && i.connection_type() == Some(&ConnectionType::VpcLink)
            });
            found.items.push(scoped(
                Resource::ApiMethod(ApiMethod {
                    rest_api: Ref::Unowned(api.to_string()),
                    resource: node.clone(),
                    http_method: verb.clone(),
                    path_parameters,
                    vpc_link: Ref::Unowned(
                        integration
                            .and_then(|i| i.connection_id())
                            .unwrap_or_default()
                            .to_string(),
                    ),
                    load_balancer: Ref::Unowned(if over_link { host } else { String::new() }),
                    integration_target: integration
                        .and_then(|i| i.integration_target())
                        .map(|t| Ref::Unowned(t.to_string())),
                    port,
                    path,
                }),
                &format!("{physical}/{verb}"),
            ));
        }
    }
    for d in &deployments {
        let Some(id) = d.id() else { continue };
        found.items.push(scoped(
            Resource::ApiDeployment(ApiDeployment {
                rest_api: Ref::Unowned(api.to_string()),
                description: d.description().unwrap_or_default().to_string(),
            }),
            &format!("{api}/{id}"),
        ));
    }
    for s in stages.item() {
        let Some(name) = s.stage_name() else { continue };
        let throttle = s
            .method_settings()
            .and_then(|m| m.get("*/*"))
            .map(|m| Throttle {
                rate: m.throttling_rate_limit().max(0.0).round() as u32,
                burst: u32::try_from(m.throttling_burst_limit()).unwrap_or(0),
            });
        found.items.push(scoped(
            Resource::ApiStage(ApiStage {
                rest_api: Ref::Unowned(api.to_string()),
                name: name.to_string(),
                deployment: Ref::Unowned(format!(
                    "{api}/{}",
                    s.deployment_id().unwrap_or_default()
                )),
                throttle,
            }),
            &format!("{api}/{name}"),
        ));
    }
    Ok(found)
}

// ---------------------------------------------------------------- kinds (see `super::kinds`)

use super::kinds::{no_update_in_place, AwsKind};
use super::pacing::Family;
use crate::plan::schedule::OpKind;

/// Every call spends the account-wide bucket; some creates and deletes also their own slower
/// one (`own`: the family for each).
fn api_cost(op: OpKind, own: (Option<Family>, Option<Family>)) -> Vec<(Family, f64)> {
    let mut cost = vec![(Family::ApiGateway, 1.0)];
    let family = match op {
        OpKind::Create => own.0,
        OpKind::Delete => own.1,
        _ => None,
    };
    cost.extend(family.map(|f| (f, 1.0)));
    cost
}

impl AwsKind for VpcLink {
    fn cost(op: OpKind) -> Vec<(Family, f64)> {
        api_cost(op, (Some(Family::ApiGatewayVpcLink), None))
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        create_vpc_link(cloud, ctx, self).await
    }
    async fn update(
        &self,
        cloud: &AwsCloud,
        _ctx: &OpContext<'_>,
        id: &str,
        _have: &Self,
    ) -> Result<String, CloudError> {
        update_vpc_link(cloud, id, self)
            .await
            .map(|()| id.to_string())
    }
    async fn delete(
        _have: &Self,
        cloud: &AwsCloud,
        _ctx: &OpContext<'_>,
        observed: &ObservedResource,
    ) -> Result<(), CloudError> {
        delete_vpc_link(cloud, &observed.physical_id).await
    }
}

impl AwsKind for VpcLinkV2 {
    fn cost(op: OpKind) -> Vec<(Family, f64)> {
        let own = (
            Some(Family::ApiGatewayVpcLink),
            Some(Family::ApiGatewayDeleteVpcLinkV2),
        );
        api_cost(op, own)
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        create_vpc_link_v2(cloud, ctx, self).await
    }
    async fn update(
        &self,
        cloud: &AwsCloud,
        _ctx: &OpContext<'_>,
        id: &str,
        _have: &Self,
    ) -> Result<String, CloudError> {
        update_vpc_link_v2(cloud, id, self)
            .await
            .map(|()| id.to_string())
    }
    async fn delete(
        _have: &Self,
        cloud: &AwsCloud,
        _ctx: &OpContext<'_>,
        observed: &ObservedResource,
    ) -> Result<(), CloudError> {
        delete_vpc_link_v2(cloud, &observed.physical_id).await
    }
}

impl AwsKind for RestApi {
    fn cost(op: OpKind) -> Vec<(Family, f64)> {
        let own = (
            Some(Family::ApiGatewayCreateRestApi),
            Some(Family::ApiGatewayDeleteRestApi),
        );
        api_cost(op, own)
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        create_rest_api(cloud, ctx, self).await
    }
    async fn update(
        &self,
        cloud: &AwsCloud,
        _ctx: &OpContext<'_>,
        id: &str,
        _have: &Self,
    ) -> Result<String, CloudError> {
        update_rest_api(cloud, id, self)
            .await
            .map(|()| id.to_string())
    }
    async fn delete(
        _have: &Self,
        cloud: &AwsCloud,
        _ctx: &OpContext<'_>,
        observed: &ObservedResource,
    ) -> Result<(), CloudError> {
        delete_rest_api(cloud, &observed.physical_id).await
    }
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
        create_resource(cloud, ctx, self).await
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
        delete_resource(cloud, &observed.physical_id).await
    }
}

impl AwsKind for ApiMethod {
    fn cost(op: OpKind) -> Vec<(Family, f64)> {
        // A create is two calls (the method, its integration).
        let calls = if op == OpKind::Create { 2.0 } else { 1.0 };
        vec![(Family::ApiGateway, calls)]
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        create_method(cloud, ctx, self).await
    }
    async fn update(
        &self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        id: &str,
        _have: &Self,
    ) -> Result<String, CloudError> {
        update_method(cloud, ctx, id, self)
            .await
            .map(|()| id.to_string())
    }
    async fn delete(
        _have: &Self,
        cloud: &AwsCloud,
        _ctx: &OpContext<'_>,
        observed: &ObservedResource,
    ) -> Result<(), CloudError> {
        delete_method(cloud, &observed.physical_id).await
    }
}

impl AwsKind for ApiDeployment {
    fn cost(op: OpKind) -> Vec<(Family, f64)> {
        api_cost(op, (Some(Family::ApiGatewayCreateDeployment), None))
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        create_deployment(cloud, ctx, self).await
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
        delete_deployment(cloud, &observed.physical_id).await
    }
}

impl AwsKind for ApiStage {
    fn cost(op: OpKind) -> Vec<(Family, f64)> {
        api_cost(op, (None, None))
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        create_stage(cloud, ctx, self).await
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
        delete_stage(cloud, &observed.physical_id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integration_uris_round_trip() {
        let uri = integration_uri("nlb-1.elb.amazonaws.com", 3001, "/students/{student_id}");
        assert_eq!(
            uri,
            "http://nlb-1.elb.amazonaws.com:3001/students/{student_id}"
        );
        assert_eq!(
            parse_integration_uri(&uri),
            (
                "nlb-1.elb.amazonaws.com".to_string(),
                3001,
                "/students/{student_id}".to_string()
            )
        );
        assert_eq!(
            parse_integration_uri("https://example.com/x"),
            ("https://example.com/x".to_string(), 0, String::new())
        );
        assert_eq!(split_method("a/b/GET").ok(), Some(("a", "b", "GET")));
        assert!(split_method("a/b").is_err());
    }
}
