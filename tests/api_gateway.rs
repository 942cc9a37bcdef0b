//! The REST API front door against moto: REST API → VPC link → internal NLB → the routed
//! service, least privilege from the NLB's group, route changes that redeploy exactly once, and
//! drift inside an owned API shown and undone.

mod common;

use aws_sdk_apigateway::types::IntegrationType;
use common::{apply, assert_plan_empty, pair, planned_changes, unique_stack, Fixture, Moto};
use std::collections::BTreeSet;

struct Api {
    apigw: aws_sdk_apigateway::Client,
    elb: aws_sdk_elasticloadbalancingv2::Client,
}

impl Api {
    async fn new(moto: &Moto) -> Api {
        let conf = moto.sdk_config().await;
        Api {
            apigw: aws_sdk_apigateway::Client::new(&conf),
            elb: aws_sdk_elasticloadbalancingv2::Client::new(&conf),
        }
    }

    /// The stack's REST API id (exactly one).
    async fn rest_api(&self, stack: &str) -> String {
        let apis = self.apigw.get_rest_apis().send().await.expect("rest apis");
        let ours: Vec<String> = apis
            .items()
            .iter()
            .filter(|a| {
                a.tags()
                    .and_then(|t| t.get("ecsform:stack"))
                    .is_some_and(|s| s == stack)
            })
            .filter_map(|a| a.id().map(String::from))
            .collect();
        assert_eq!(ours.len(), 1, "one REST API tagged for {stack}: {ours:?}");
        ours[0].clone()
    }

    /// `path → (resource id, methods)`.
    async fn resources(&self, api: &str) -> Vec<(String, String, BTreeSet<String>)> {
        let out = self
            .apigw
            .get_resources()
            .rest_api_id(api)
            .embed("methods")
            .send()
            .await
            .expect("resources");
        let mut all: Vec<_> = out
            .items()
            .iter()
            .map(|r| {
                (
                    r.path().unwrap_or_default().to_string(),
                    r.id().unwrap_or_default().to_string(),
                    r.resource_methods()
                        .map(|m| m.keys().cloned().collect())
                        .unwrap_or_default(),
                )
            })
            .collect();
        all.sort();
        all
    }

    async fn resource_id(&self, api: &str, path: &str) -> String {
        self.resources(api)
            .await
            .into_iter()
            .find(|(p, _, _)| p == path)
            .map(|(_, id, _)| id)
            .unwrap_or_else(|| panic!("no resource {path}"))
    }

    async fn nlb(&self, stack: &str) -> aws_sdk_elasticloadbalancingv2::types::LoadBalancer {
        let out = self
            .elb
            .describe_load_balancers()
            .names(format!("{stack}-nlb"))
            .send()
            .await
            .expect("the network load balancer");
        out.load_balancers()[0].clone()
    }
}

fn paths(resources: &[(String, String, BTreeSet<String>)]) -> Vec<(String, Vec<String>)> {
    resources
        .iter()
        .map(|(p, _, m)| (p.clone(), m.iter().cloned().collect()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rest_api_reaches_the_routed_service_through_the_vpc_link_and_nlb() {
    let moto = Moto::start();
    let stack = unique_stack("api");
    let f = Fixture::seed(&stack);
    apply(moto, &f).await;
    let aws = Api::new(moto).await;

    // The internal network load balancer, its TCP listener and target group.
    let nlb = aws.nlb(&stack).await;
    assert_eq!(nlb.r#type().map(|t| t.as_str()), Some("network"));
    assert_eq!(nlb.scheme().map(|s| s.as_str()), Some("internal"));
    assert_eq!(nlb.security_groups().len(), 1, "its own group");
    let nlb_arn = nlb.load_balancer_arn().expect("arn").to_string();
    let listeners = aws
        .elb
        .describe_listeners()
        .load_balancer_arn(&nlb_arn)
        .send()
        .await
        .expect("listeners");
    let ports: Vec<(Option<i32>, Option<&str>)> = listeners
        .listeners()
        .iter()
        .map(|l| (l.port(), l.protocol().map(|p| p.as_str())))
        .collect();
    assert_eq!(
        ports,
        vec![(Some(3002), Some("TCP"))],
        "one TCP listener, on the routed service's port only"
    );
    let group_arn = listeners.listeners()[0].default_actions()[0]
        .target_group_arn()
        .expect("forwards")
        .to_string();
    let groups = aws
        .elb
        .describe_target_groups()
        .target_group_arns(&group_arn)
        .send()
        .await
        .expect("target group");
    let group = &groups.target_groups()[0];
    assert_eq!(group.protocol().map(|p| p.as_str()), Some("TCP"));
    assert_eq!(group.target_type().map(|t| t.as_str()), Some("ip"));
    assert_eq!(group.health_check_path(), Some("/health"));

    // The VPC link to it, and the REST API over the link.
    let links = aws.apigw.get_vpc_links().send().await.expect("links");
    let link = links
        .items()
        .iter()
        .find(|l| l.name() == Some(format!("{stack}-api-link").as_str()))
        .expect("the VPC link");
    assert_eq!(link.target_arns(), std::slice::from_ref(&nlb_arn));
    let api = aws.rest_api(&stack).await;
    let described = aws
        .apigw
        .get_rest_api()
        .rest_api_id(&api)
        .send()
        .await
        .expect("api");
    assert_eq!(
        described.endpoint_configuration().map(|e| e
            .types()
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()),
        Some(vec!["REGIONAL"])
    );
    let resources = aws.resources(&api).await;
    assert_eq!(
        paths(&resources),
        vec![
            ("/".to_string(), vec![]),
            ("/products".to_string(), vec!["GET".to_string()]),
            (
                "/products/{product_id}".to_string(),
                vec!["GET".to_string()]
            ),
        ]
    );
    let item = aws.resource_id(&api, "/products/{product_id}").await;
    let integration = aws
        .apigw
        .get_integration()
        .rest_api_id(&api)
        .resource_id(&item)
        .http_method("GET")
        .send()
        .await
        .expect("integration");
    assert_eq!(integration.r#type(), Some(&IntegrationType::HttpProxy));
    assert_eq!(
        integration.connection_type().map(|c| c.as_str()),
        Some("VPC_LINK")
    );
    assert_eq!(
        integration.uri(),
        Some(
            format!(
                "http://{}:3002/products/{{product_id}}",
                nlb.dns_name().unwrap_or_default()
            )
            .as_str()
        )
    );
    assert_eq!(
        integration
            .request_parameters()
            .and_then(|p| p.get("integration.request.path.product_id"))
            .map(String::as_str),
        Some("method.request.path.product_id"),
        "the path parameter is passed through"
    );

    // The stage serves the deployment, throttled as the file says.
    let stages = aws
        .apigw
        .get_stages()
        .rest_api_id(&api)
        .send()
        .await
        .expect("stages");
    assert_eq!(stages.item().len(), 1);
    let stage = &stages.item()[0];
    assert_eq!(stage.stage_name(), Some("prod"));
    let deployments = aws
        .apigw
        .get_deployments()
        .rest_api_id(&api)
        .send()
        .await
        .expect("deployments");
    assert_eq!(deployments.items().len(), 1, "one deployment");
    assert_eq!(stage.deployment_id(), deployments.items()[0].id());
    let throttle = stage
        .method_settings()
        .and_then(|m| m.get("*/*"))
        .expect("stage-wide method settings");
    assert_eq!(
        (
            throttle.throttling_rate_limit(),
            throttle.throttling_burst_limit()
        ),
        (100.0, 200)
    );
    assert_plan_empty(moto, &f).await;

    // What people need next: the invoke URL and the NLB's DNS name.
    let out = moto.run(&["outputs", "-f", f.path_str(), "--json"]).await;
    out.expect_code(0);
    let outputs = out.json();
    assert_eq!(
        outputs["api_invoke_url"],
        format!("https://{api}.execute-api.us-east-1.amazonaws.com/prod")
    );
    assert_eq!(
        outputs["api_nlb_dns_name"],
        nlb.dns_name().unwrap_or_default()
    );
}

/// A routed service's port changes: the NLB's listener and target group move to the new port,
/// the integrations are put again in place, one new deployment; the REST API stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_port_change_moves_the_listener_and_the_integrations() {
    let moto = Moto::start();
    let stack = unique_stack("apiport");
    let mut f = Fixture::seed(&stack);
    apply(moto, &f).await;
    let aws = Api::new(moto).await;
    let api = aws.rest_api(&stack).await;
    f.edit(None, "port: 3002", "port: 3012");
    let (planned, shown) = planned_changes(moto, &f).await;
    for want in [
        pair("nlb.listener.3002", "delete"),
        pair("nlb.listener.3012", "create"),
        pair("tg.nlb.product-service", "replace"),
        pair("api/products.GET", "update"),
        pair("api/products/{product_id}.GET", "update"),
        pair("api.deployment.current", "replace"),
        pair("api.stage.prod", "update"),
    ] {
        assert!(planned.contains(&want), "{want:?} missing:\n{}", shown);
    }
    assert!(
        !planned
            .iter()
            .any(|(id, _)| id == "api" || id.ends_with("/products")),
        "neither the API nor its resources change: {planned:?}"
    );
    apply(moto, &f).await;
    assert_plan_empty(moto, &f).await;
    assert_eq!(aws.rest_api(&stack).await, api);
    let products = aws.resource_id(&api, "/products").await;
    let integration = aws
        .apigw
        .get_integration()
        .rest_api_id(&api)
        .resource_id(&products)
        .http_method("GET")
        .send()
        .await
        .expect("integration");
    assert!(
        integration
            .uri()
            .is_some_and(|u| u.ends_with(":3012/products")),
        "{:?}",
        integration.uri()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_route_change_changes_exactly_that_and_deploys_once_more() {
    let moto = Moto::start();
    let stack = unique_stack("route");
    let mut f = Fixture::seed(&stack);
    apply(moto, &f).await;
    let aws = Api::new(moto).await;
    let api = aws.rest_api(&stack).await;

    // A method added to a route.
    f.edit(
        None,
        "    - path: /products\n      methods: [GET]",
        "    - path: /products\n      methods: [GET, POST]",
    );
    let (planned, shown) = planned_changes(moto, &f).await;
    assert_eq!(
        planned,
        BTreeSet::from([
            pair("api/products.POST", "create"),
            pair("api.deployment.current", "replace"),
            pair("api.stage.prod", "update"),
        ]),
        "the new method, a new deployment, the stage moved to it:\n{}",
        shown
    );
    apply(moto, &f).await;
    assert_plan_empty(moto, &f).await;
    assert_eq!(
        aws.rest_api(&stack).await,
        api,
        "the REST API is never replaced"
    );

    // A route removed: its method and the resource only it used go; one deployment remains.
    f.edit(
        None,
        "    - path: /products/{product_id}\n      methods: [GET]\n      service: product-service\n",
        "",
    );
    let (planned, shown) = planned_changes(moto, &f).await;
    assert_eq!(
        planned,
        BTreeSet::from([
            pair("api/products/{product_id}.GET", "delete"),
            pair("api/products/{product_id}", "delete"),
            pair("api.deployment.current", "replace"),
            pair("api.stage.prod", "update"),
        ]),
        "{}",
        shown
    );
    apply(moto, &f).await;
    assert_plan_empty(moto, &f).await;
    assert_eq!(
        paths(&aws.resources(&api).await),
        vec![
            ("/".to_string(), vec![]),
            (
                "/products".to_string(),
                vec!["GET".to_string(), "POST".to_string()]
            ),
        ]
    );
    let deployments = aws
        .apigw
        .get_deployments()
        .rest_api_id(&api)
        .send()
        .await
        .expect("deployments");
    assert_eq!(
        deployments.items().len(),
        1,
        "the old snapshots are deleted once the stage has moved"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_inside_the_api_is_planned_and_undone() {
    let moto = Moto::start();
    let stack = unique_stack("apidrift");
    let f = Fixture::seed(&stack);
    apply(moto, &f).await;
    let aws = Api::new(moto).await;
    let api = aws.rest_api(&stack).await;
    let products = aws.resource_id(&api, "/products").await;

    // By hand: a method nobody declared, and the GET integration pointed elsewhere.
    aws.apigw
        .put_method()
        .rest_api_id(&api)
        .resource_id(&products)
        .http_method("DELETE")
        .authorization_type("NONE")
        .send()
        .await
        .expect("hand-made method");
    aws.apigw
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&products)
        .http_method("GET")
        .r#type(IntegrationType::HttpProxy)
        .integration_http_method("GET")
        .uri("http://elsewhere.example.com:8080/products")
        .send()
        .await
        .expect("hand-changed integration");

    let (planned, shown) = planned_changes(moto, &f).await;
    assert_eq!(
        planned,
        BTreeSet::from([
            pair("api/products.DELETE", "delete"),
            pair("api/products.GET", "update"),
            pair("api.deployment.current", "replace"),
            pair("api.stage.prod", "update"),
        ]),
        "{}",
        shown
    );
    apply(moto, &f).await;
    assert_plan_empty(moto, &f).await;
    let integration = aws
        .apigw
        .get_integration()
        .rest_api_id(&api)
        .resource_id(&products)
        .http_method("GET")
        .send()
        .await
        .expect("integration");
    let dns = aws
        .nlb(&stack)
        .await
        .dns_name()
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        integration.uri(),
        Some(format!("http://{dns}:3002/products").as_str()),
        "the integration points at the NLB again"
    );
    assert_eq!(
        paths(&aws.resources(&api).await)[1],
        ("/products".to_string(), vec!["GET".to_string()]),
        "the hand-made method is gone"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroy_leaves_nothing_of_ours_and_a_hand_made_api_survives() {
    let moto = Moto::start();
    let stack = unique_stack("apigone");
    let f = Fixture::seed(&stack);
    apply(moto, &f).await;
    let aws = Api::new(moto).await;
    let theirs = aws
        .apigw
        .create_rest_api()
        .name(format!("{stack}-hand-made"))
        .send()
        .await
        .expect("a hand-made REST API")
        .id()
        .expect("id")
        .to_string();
    moto.run(&["destroy", "-f", f.path_str(), "--auto-approve"])
        .await
        .expect_code(0);
    let left = common::probe::tagged_counts(moto, &stack).await;
    assert!(
        left.values().all(|&n| n == 0),
        "nothing of the stack is left: {left:?}"
    );
    aws.apigw
        .get_rest_api()
        .rest_api_id(&theirs)
        .send()
        .await
        .expect("the hand-made REST API is untouched");
}

/// The school example (seeds 002/003) with a stack name of ours.
fn school(stack: &str, via: &str) -> Fixture {
    let text = include_str!("../topology.school.yaml")
        .replace("\nname: school\n", &format!("\nname: {stack}\n"))
        .replace("  stage: Test\n", &format!("  stage: Test\n  via: {via}\n"));
    Fixture::from_text(stack, &text)
}

/// `via: alb`: an internal ALB with a path rule per route, a VPC link V2 whose interfaces have
/// their own group, integrations that name the ALB; the services admit the ALB's group only, the
/// ALB's group admits the link's only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn via_alb_the_rest_api_reaches_an_internal_alb_through_a_v2_link() {
    let moto = Moto::start();
    let stack = unique_stack("viaalb");
    let f = school(&stack, "alb");
    apply(moto, &f).await;
    let aws = Api::new(moto).await;
    let conf = moto.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let apigw2 = aws_sdk_apigatewayv2::Client::new(&conf);

    let lbs = aws
        .elb
        .describe_load_balancers()
        .names(format!("{stack}-api-alb"))
        .send()
        .await
        .expect("the internal ALB");
    let alb = &lbs.load_balancers()[0];
    assert_eq!(alb.r#type().map(|t| t.as_str()), Some("application"));
    assert_eq!(alb.scheme().map(|s| s.as_str()), Some("internal"));
    let alb_arn = alb.load_balancer_arn().expect("arn").to_string();
    let listeners = aws
        .elb
        .describe_listeners()
        .load_balancer_arn(&alb_arn)
        .send()
        .await
        .expect("listeners");
    assert_eq!(listeners.listeners().len(), 1);
    let rules = aws
        .elb
        .describe_rules()
        .listener_arn(listeners.listeners()[0].listener_arn().expect("arn"))
        .send()
        .await
        .expect("rules");
    let mut patterns: Vec<String> = rules
        .rules()
        .iter()
        .filter(|r| r.is_default() != Some(true))
        .flat_map(|r| {
            r.conditions()
                .iter()
                .flat_map(|c| c.path_pattern_config().map(|p| p.values().to_vec()))
                .flatten()
        })
        .collect();
    patterns.sort();
    assert_eq!(
        patterns,
        vec!["/student", "/student/*", "/subject", "/subject/*"],
        "one path rule per route"
    );

    // The V2 link: in the private subnets, with the link's own group.
    let links = apigw2.get_vpc_links().send().await.expect("v2 links");
    let link = links
        .items()
        .iter()
        .find(|l| l.name() == Some(format!("{stack}-api-link").as_str()))
        .expect("the VPC link V2");
    assert_eq!(link.subnet_ids().len(), 2, "one interface subnet per zone");
    let groups = ec2
        .describe_security_groups()
        .set_group_ids(Some(link.security_group_ids().to_vec()))
        .send()
        .await
        .expect("link group");
    assert_eq!(
        groups.security_groups()[0].group_name(),
        Some(format!("{stack}-api-link").as_str())
    );

    // Who may reach whom: link → ALB on 80, ALB → each routed service on its port, nothing else.
    let all = ec2.describe_security_groups().send().await.expect("groups");
    let name_of: std::collections::BTreeMap<String, String> = all
        .security_groups()
        .iter()
        .filter_map(|g| Some((g.group_id()?.to_string(), g.group_name()?.to_string())))
        .collect();
    let mut edges: Vec<String> = all
        .security_groups()
        .iter()
        .filter(|g| {
            g.group_name()
                .is_some_and(|n| n.starts_with(&format!("{stack}-")))
        })
        .flat_map(|g| {
            g.ip_permissions().iter().flat_map(|p| {
                p.user_id_group_pairs().iter().map(|pair| {
                    format!(
                        "{} <- {} :{}",
                        g.group_name().unwrap_or_default(),
                        name_of
                            .get(pair.group_id().unwrap_or_default())
                            .cloned()
                            .unwrap_or_default(),
                        p.from_port().unwrap_or_default()
                    )
                })
            })
        })
        .collect();
    edges.sort();
    assert_eq!(
        edges,
        vec![
            format!("{stack}-api-alb <- {stack}-api-link :80"),
            format!("{stack}-students <- {stack}-api-alb :8080"),
            format!("{stack}-subjects <- {stack}-api-alb :8081"),
        ]
    );

    // Integrations go to the ALB's DNS name on its listener port.
    let api = aws.rest_api(&stack).await;
    let student = aws.resource_id(&api, "/student/{student_id}").await;
    let integration = aws
        .apigw
        .get_integration()
        .rest_api_id(&api)
        .resource_id(&student)
        .http_method("GET")
        .send()
        .await
        .expect("integration");
    assert_eq!(
        integration.uri(),
        Some(
            format!(
                "http://{}:80/student/{{student_id}}",
                alb.dns_name().unwrap_or_default()
            )
            .as_str()
        )
    );
    assert_plan_empty(moto, &f).await;
    moto.run(&["destroy", "-f", f.path_str(), "--auto-approve"])
        .await
        .expect_code(0);
    let left = common::probe::tagged_counts(moto, &stack).await;
    assert!(left.values().all(|&n| n == 0), "{left:?}");
}

/// The school example as written (`via: nlb`) applies and plans nothing afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_school_example_applies_and_converges() {
    let moto = Moto::start();
    let stack = unique_stack("school");
    let f = school(&stack, "nlb");
    apply(moto, &f).await;
    assert_plan_empty(moto, &f).await;
    let tagged = common::probe::tagged_counts(moto, &stack).await;
    assert_eq!(tagged, common::probe::desired_counts(f.text()));
}

/// A private subnet moves to a new CIDR: the NLB in it swaps that zone's subnet in two
/// `SetSubnets` calls, the old subnet out before the new one in, as AWS requires of a network
/// load balancer (one call is refused on AWS). moto refuses the one-zone list in between (it
/// holds NLBs to two zones) and takes the swap in one call, so the calls are counted through the
/// proxy, which also holds every request to the service models.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_subnet_move_swaps_the_nlb_zone_in_two_calls() {
    let moto = Moto::start();
    let stack = unique_stack("nlbmove");
    let mut f = Fixture::seed(&stack);
    apply(moto, &f).await;
    f.edit(
        None,
        "  nat_gateways: 1",
        "  public_subnets: [10.0.1.0/24, 10.0.2.0/24]\n  private_subnets: [10.0.21.0/24, 10.0.12.0/24]\n  nat_gateways: 1",
    );
    let proxy = common::proxy::FaultProxy::start(moto, &serde_json::json!({}));
    common::run_command(
        proxy.ecsform(moto),
        &["apply", "-f", f.path_str(), "--auto-approve"],
    )
    .await
    .expect_code(0);
    let stats = proxy.stats();
    assert_eq!(
        stats["by_action"]["elasticloadbalancing:SetSubnets"], 2,
        "one call to take the old subnet out, one to put the new one in: {}",
        stats["by_action"]
    );
    assert_plan_empty(moto, &f).await;
    let aws = Api::new(moto).await;
    let nlb = aws.nlb(&stack).await;
    let conf = moto.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let subnet_ids: Vec<String> = nlb
        .availability_zones()
        .iter()
        .filter_map(|z| z.subnet_id().map(String::from))
        .collect();
    let described = ec2
        .describe_subnets()
        .set_subnet_ids(Some(subnet_ids))
        .send()
        .await
        .expect("subnets");
    let mut cidrs: Vec<String> = described
        .subnets()
        .iter()
        .filter_map(|s| s.cidr_block().map(String::from))
        .collect();
    cidrs.sort();
    assert_eq!(cidrs, vec!["10.0.12.0/24", "10.0.21.0/24"]);
}

/// `via: alb` and a private subnet moved: the VPC link V2 in it is replaced create-first (a
/// V2 link's subnets cannot change), the methods move to the new link before the old one goes,
/// and exactly one link of the stack is left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_subnet_move_replaces_the_v2_link_create_first() {
    let moto = Moto::start();
    let stack = unique_stack("v2move");
    let mut f = school(&stack, "alb");
    apply(moto, &f).await;
    f.edit(
        None,
        "  nat_gateways: 1",
        "  public_subnets: [10.20.1.0/24, 10.20.2.0/24]\n  private_subnets: [10.20.21.0/24, 10.20.12.0/24]\n  nat_gateways: 1",
    );
    let plan = moto
        .run(&["plan", "-f", f.path_str(), "--json", "--detailed-exitcode"])
        .await;
    plan.expect_code(2);
    let plan = plan.json();
    let link = plan["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["kind"] == "vpc_link_v2")
        .unwrap_or_else(|| panic!("the V2 link is in the plan: {plan}"));
    assert_eq!(link["action"], "replace", "{link}");
    assert_eq!(link["replacement"]["order"], "create_first", "{link}");
    apply(moto, &f).await;
    assert_plan_empty(moto, &f).await;
    let apigw2 = aws_sdk_apigatewayv2::Client::new(&moto.sdk_config().await);
    let links = apigw2.get_vpc_links().send().await.expect("v2 links");
    let ours: Vec<_> = links
        .items()
        .iter()
        .filter(|l| l.name() == Some(format!("{stack}-api-link").as_str()))
        .collect();
    assert_eq!(ours.len(), 1, "the old link is gone: {ours:?}");
}
