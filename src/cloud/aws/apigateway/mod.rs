//! API Gateway (REST, V1): the VPC link, the REST API, its resources, methods with their
//! integrations, deployments and the stage. AWS ids of the API's parts are only unique within
//! their API, so their physical ids here are `<api id>/<part id>`.

mod api_deployment;
mod api_method;
mod api_resource;
mod api_stage;
mod rest_api;
mod vpc_link;
mod vpc_link_v2;

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
