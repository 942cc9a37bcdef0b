//! Live tests: the real `ecsform` binary against a local moto server, checked through the AWS SDK.
//! Every test owns a unique stack, so they run in parallel against the one shared server.

mod common;

use aws_sdk_ec2::types::{Filter, IpPermission, IpRange, NatGatewayState, VpcAttributeName};
use aws_sdk_ecs::error::ProvideErrorMetadata;
use aws_sdk_ecs::types::{
    AssignPublicIp, ClusterField, Compatibility, LaunchType, LogDriver, NetworkMode,
    TaskDefinitionStatus,
};
use aws_sdk_elasticloadbalancingv2::types::{
    ActionTypeEnum, LoadBalancerSchemeEnum, LoadBalancerTypeEnum, TargetTypeEnum,
};
use common::{apply, assert_plan_empty, pair, steps, unique_stack, Fixture, Moto};
use std::collections::{BTreeMap, BTreeSet};

const SERVICES: [&str; 5] = [
    "api-gateway",
    "notification-service",
    "order-service",
    "product-service",
    "user-service",
];
const EXECUTION_POLICY: &str =
    "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";

/// SDK clients for checking what ecsform did.
struct Aws {
    ec2: aws_sdk_ec2::Client,
    ecs: aws_sdk_ecs::Client,
    cloudmap: aws_sdk_servicediscovery::Client,
    elb: aws_sdk_elasticloadbalancingv2::Client,
    iam: aws_sdk_iam::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
}

impl Aws {
    async fn new(moto: &Moto) -> Aws {
        let conf = moto.sdk_config().await;
        Aws {
            ec2: aws_sdk_ec2::Client::new(&conf),
            ecs: aws_sdk_ecs::Client::new(&conf),
            cloudmap: aws_sdk_servicediscovery::Client::new(&conf),
            elb: aws_sdk_elasticloadbalancingv2::Client::new(&conf),
            iam: aws_sdk_iam::Client::new(&conf),
            logs: aws_sdk_cloudwatchlogs::Client::new(&conf),
        }
    }
}

fn filter(name: &str, values: &[&str]) -> Filter {
    Filter::builder()
        .name(name)
        .set_values(Some(values.iter().map(|v| v.to_string()).collect()))
        .build()
}

fn stack_tag(stack: &str) -> Filter {
    filter("tag:ecsform:stack", &[stack])
}

fn ec2_tags(tags: &[aws_sdk_ec2::types::Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

fn set<T: Ord + Clone>(items: impl IntoIterator<Item = T>) -> BTreeSet<T> {
    items.into_iter().collect()
}

/// The stack's security groups: name → id (tag-filtered, so the VPC's default group is excluded).
async fn stack_groups(aws: &Aws, stack: &str) -> BTreeMap<String, String> {
    let out = aws
        .ec2
        .describe_security_groups()
        .filters(stack_tag(stack))
        .send()
        .await
        .expect("describe_security_groups");
    out.security_groups()
        .iter()
        .map(|g| {
            (
                g.group_name().unwrap_or_default().to_string(),
                g.group_id().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Every ingress rule of the stack's groups, in words: `user-service:3001/tcp <- sg api-gateway`.
/// Group names lose the `<stack>-` prefix; a source group outside the stack shows its id.
async fn ingress_rules(aws: &Aws, stack: &str) -> Vec<String> {
    let groups = stack_groups(aws, stack).await;
    let by_id: BTreeMap<&str, &str> = groups
        .iter()
        .map(|(n, id)| (id.as_str(), n.as_str()))
        .collect();
    let short = |name: &str| {
        name.strip_prefix(&format!("{stack}-"))
            .unwrap_or(name)
            .to_string()
    };
    let ids: Vec<&str> = groups.values().map(String::as_str).collect();
    let out = aws
        .ec2
        .describe_security_group_rules()
        .filters(filter("group-id", &ids))
        .max_results(1000)
        .send()
        .await
        .expect("describe_security_group_rules");
    let mut rules: Vec<String> = out
        .security_group_rules()
        .iter()
        .filter(|r| r.is_egress() == Some(false))
        .map(|r| {
            let group = by_id
                .get(r.group_id().unwrap_or_default())
                .map(|n| short(n))
                .unwrap_or_else(|| "?".into());
            let ports = match (r.from_port(), r.to_port()) {
                (Some(a), Some(b)) if a == b => a.to_string(),
                (a, b) => format!("{a:?}-{b:?}"),
            };
            let source = if let Some(g) = r.referenced_group_info().and_then(|g| g.group_id()) {
                format!(
                    "sg {}",
                    by_id
                        .get(g)
                        .map(|n| short(n))
                        .unwrap_or_else(|| g.to_string())
                )
            } else if let Some(c) = r.cidr_ipv4().or(r.cidr_ipv6()) {
                format!("cidr {c}")
            } else {
                format!("other {:?}", r.prefix_list_id())
            };
            format!(
                "{group}:{ports}/{} <- {source}",
                r.ip_protocol().unwrap_or_default()
            )
        })
        .collect();
    rules.sort();
    rules
}

/// The seed's communication map, exactly, plus the ALB's listener port from the internet.
fn seed_rules() -> Vec<String> {
    let mut rules: Vec<String> = [
        "alb:80/tcp <- cidr 0.0.0.0/0",
        "alb:80/tcp <- cidr ::/0",
        "api-gateway:3000/tcp <- sg alb",
        "user-service:3001/tcp <- sg api-gateway",
        "product-service:3002/tcp <- sg api-gateway",
        "product-service:3002/tcp <- sg order-service",
        // The REST API's path: from the network load balancer's group, to the routed service only.
        "product-service:3002/tcp <- sg nlb",
        "order-service:3003/tcp <- sg api-gateway",
        "notification-service:3004/tcp <- sg order-service",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    rules.sort();
    rules
}

fn url(svc: &str, port: u16) -> (String, String) {
    (
        format!("{}_URL", svc.to_uppercase().replace('-', "_")),
        format!("http://{svc}.internal:{port}"),
    )
}

fn env_map(pairs: &[(&str, &str)], urls: &[(&str, u16)]) -> BTreeMap<String, String> {
    let mut m: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    m.extend(urls.iter().map(|(s, p)| url(s, *p)));
    m
}

/// The environment the seed gives each container: `<CALLEE>_URL` only for declared callers.
fn seed_environment(svc: &str) -> BTreeMap<String, String> {
    match svc {
        "api-gateway" => env_map(
            &[("LOG_LEVEL", "info")],
            &[
                ("user-service", 3001),
                ("product-service", 3002),
                ("order-service", 3003),
            ],
        ),
        "order-service" => env_map(
            &[],
            &[("product-service", 3002), ("notification-service", 3004)],
        ),
        _ => BTreeMap::new(),
    }
}

fn port_of(svc: &str) -> u16 {
    match svc {
        "api-gateway" => 3000,
        "user-service" => 3001,
        "product-service" => 3002,
        "order-service" => 3003,
        "notification-service" => 3004,
        other => panic!("no port for {other}"),
    }
}

/// The newest task definition of `<stack>-<svc>`, its container environment, and the raw output.
async fn task_definition(aws: &Aws, stack: &str, svc: &str) -> aws_sdk_ecs::types::TaskDefinition {
    let out = aws
        .ecs
        .describe_task_definition()
        .task_definition(format!("{stack}-{svc}"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("describe_task_definition {stack}-{svc}: {e:?}"));
    out.task_definition().cloned().expect("task definition")
}

fn container_env(td: &aws_sdk_ecs::types::TaskDefinition) -> BTreeMap<String, String> {
    let c = td.container_definitions().first().expect("one container");
    c.environment()
        .iter()
        .map(|kv| {
            (
                kv.name().unwrap_or_default().to_string(),
                kv.value().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

async fn ecs_service(aws: &Aws, stack: &str, svc: &str) -> aws_sdk_ecs::types::Service {
    let out = aws
        .ecs
        .describe_services()
        .cluster(stack)
        .services(format!("{stack}-{svc}"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("describe_services {stack}-{svc}: {e:?}"));
    out.services()
        .iter()
        .find(|s| s.status() == Some("ACTIVE"))
        .cloned()
        .unwrap_or_else(|| panic!("no active ECS service {stack}-{svc}"))
}

// ---------------------------------------------------------------------------------------------
// a. Applying the seed creates everything issue #2 lists, exactly as the file says.
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_seed_creates_the_whole_least_privilege_stack() {
    let moto = Moto::start();
    let stack = unique_stack("seed");
    let f = Fixture::seed(&stack);
    apply(moto, &f).await;
    let aws = Aws::new(moto).await;

    // --- Network -------------------------------------------------------------------------------
    let vpcs = aws
        .ec2
        .describe_vpcs()
        .filters(stack_tag(&stack))
        .send()
        .await
        .expect("describe_vpcs");
    assert_eq!(vpcs.vpcs().len(), 1, "one VPC tagged ecsform:stack={stack}");
    let vpc = vpcs.vpcs()[0].vpc_id().expect("vpc id").to_string();
    assert_eq!(vpcs.vpcs()[0].cidr_block(), Some("10.0.0.0/16"));
    let dns_support = aws
        .ec2
        .describe_vpc_attribute()
        .vpc_id(&vpc)
        .attribute(VpcAttributeName::EnableDnsSupport)
        .send()
        .await
        .unwrap();
    assert_eq!(
        dns_support.enable_dns_support().and_then(|a| a.value()),
        Some(true),
        "VPC DNS support"
    );
    let dns_names = aws
        .ec2
        .describe_vpc_attribute()
        .vpc_id(&vpc)
        .attribute(VpcAttributeName::EnableDnsHostnames)
        .send()
        .await
        .unwrap();
    assert_eq!(
        dns_names.enable_dns_hostnames().and_then(|a| a.value()),
        Some(true),
        "VPC DNS hostnames"
    );

    let subnets = aws
        .ec2
        .describe_subnets()
        .filters(filter("vpc-id", &[&vpc]))
        .send()
        .await
        .expect("describe_subnets");
    let mut by_id = BTreeMap::new(); // logical id → (subnet id, cidr, az)
    for s in subnets.subnets() {
        let tags = ec2_tags(s.tags());
        assert_eq!(
            tags.get("ecsform:stack").map(String::as_str),
            Some(stack.as_str()),
            "subnet {:?} tagged",
            s.subnet_id()
        );
        let id = tags.get("ecsform:id").cloned().unwrap_or_default();
        by_id.insert(
            id,
            (
                s.subnet_id().unwrap_or_default().to_string(),
                s.cidr_block().unwrap_or_default().to_string(),
                s.availability_zone().unwrap_or_default().to_string(),
            ),
        );
    }
    let layout: BTreeMap<String, (String, String)> = by_id
        .iter()
        .map(|(k, (_, c, a))| (k.clone(), (c.clone(), a.clone())))
        .collect();
    let want: BTreeMap<String, (String, String)> = [
        ("subnet.public.1", "10.0.1.0/24", "us-east-1a"),
        ("subnet.public.2", "10.0.2.0/24", "us-east-1b"),
        ("subnet.private.1", "10.0.11.0/24", "us-east-1a"),
        ("subnet.private.2", "10.0.12.0/24", "us-east-1b"),
    ]
    .iter()
    .map(|(k, c, a)| (k.to_string(), (c.to_string(), a.to_string())))
    .collect();
    assert_eq!(layout, want, "2 public + 2 private subnets, CIDRs and AZs");
    let public: BTreeSet<String> =
        set(["subnet.public.1", "subnet.public.2"].map(|k| by_id[k].0.clone()));
    let private: BTreeSet<String> =
        set(["subnet.private.1", "subnet.private.2"].map(|k| by_id[k].0.clone()));

    let igws = aws
        .ec2
        .describe_internet_gateways()
        .filters(filter("attachment.vpc-id", &[&vpc]))
        .send()
        .await
        .unwrap();
    assert_eq!(
        igws.internet_gateways().len(),
        1,
        "one internet gateway attached to the VPC"
    );
    let igw_obj = &igws.internet_gateways()[0];
    let igw = igw_obj.internet_gateway_id().unwrap().to_string();
    assert_eq!(ec2_tags(igw_obj.tags()).get("ecsform:stack"), Some(&stack));

    let nats = aws
        .ec2
        .describe_nat_gateways()
        .filter(filter("vpc-id", &[&vpc]))
        .send()
        .await
        .unwrap();
    let live: Vec<_> = nats
        .nat_gateways()
        .iter()
        .filter(|n| n.state() == Some(&NatGatewayState::Available))
        .collect();
    assert_eq!(live.len(), 1, "one available NAT gateway: {nats:?}");
    let nat = live[0].nat_gateway_id().unwrap().to_string();
    assert!(
        public.contains(live[0].subnet_id().unwrap_or_default()),
        "the NAT gateway sits in a public subnet"
    );
    let allocation = live[0]
        .nat_gateway_addresses()
        .first()
        .and_then(|a| a.allocation_id())
        .expect("NAT has an elastic IP")
        .to_string();
    let eips = aws
        .ec2
        .describe_addresses()
        .allocation_ids(&allocation)
        .send()
        .await
        .unwrap();
    assert_eq!(eips.addresses().len(), 1);
    assert_eq!(
        ec2_tags(eips.addresses()[0].tags()).get("ecsform:stack"),
        Some(&stack),
        "the elastic IP is owned"
    );

    let rtbs = aws
        .ec2
        .describe_route_tables()
        .filters(filter("vpc-id", &[&vpc]))
        .send()
        .await
        .unwrap();
    let default_via = |t: &aws_sdk_ec2::types::RouteTable| -> Option<String> {
        t.routes()
            .iter()
            .find(|r| r.destination_cidr_block() == Some("0.0.0.0/0"))
            .and_then(|r| r.nat_gateway_id().or(r.gateway_id()))
            .map(String::from)
    };
    let associated = |t: &aws_sdk_ec2::types::RouteTable| -> BTreeSet<String> {
        t.associations()
            .iter()
            .filter_map(|a| a.subnet_id())
            .map(String::from)
            .collect()
    };
    let via_igw: Vec<_> = rtbs
        .route_tables()
        .iter()
        .filter(|t| default_via(t).as_deref() == Some(igw.as_str()))
        .collect();
    assert_eq!(via_igw.len(), 1, "one public route table 0.0.0.0/0 → igw");
    assert_eq!(
        associated(via_igw[0]),
        public,
        "the public route table serves exactly the public subnets"
    );
    let via_nat: Vec<_> = rtbs
        .route_tables()
        .iter()
        .filter(|t| default_via(t).as_deref() == Some(nat.as_str()))
        .collect();
    assert_eq!(via_nat.len(), 1, "one private route table 0.0.0.0/0 → nat");
    assert_eq!(
        associated(via_nat[0]),
        private,
        "the private route table serves exactly the private subnets"
    );

    // --- Security: the call graph is the policy --------------------------------------------------
    let groups = stack_groups(&aws, &stack).await;
    let want_groups: BTreeSet<String> = SERVICES
        .iter()
        .map(|s| format!("{stack}-{s}"))
        .chain([format!("{stack}-alb"), format!("{stack}-nlb")])
        .collect();
    assert_eq!(
        set(groups.keys().cloned()),
        want_groups,
        "7 security groups tagged ecsform:stack: one per service, the ALB's, the NLB's"
    );
    let described = aws
        .ec2
        .describe_security_groups()
        .filters(filter("vpc-id", &[&vpc]))
        .send()
        .await
        .unwrap();
    for g in described
        .security_groups()
        .iter()
        .filter(|g| g.group_name() != Some("default"))
    {
        assert_eq!(
            ec2_tags(g.tags()).get("ecsform:stack"),
            Some(&stack),
            "group {:?} tagged",
            g.group_name()
        );
    }
    assert_eq!(
        ingress_rules(&aws, &stack).await,
        seed_rules(),
        "ingress = the communication map, nothing else"
    );

    // --- Identity and logs ----------------------------------------------------------------------
    let role = aws
        .iam
        .get_role()
        .role_name(format!("{stack}-task-execution"))
        .send()
        .await
        .expect("execution role");
    let role = role.role().expect("role");
    assert_eq!(role.path(), format!("/ecsform/{stack}/"));
    let trust = role.assume_role_policy_document().unwrap_or_default();
    assert!(
        trust.contains("ecs-tasks.amazonaws.com"),
        "trusted by ECS tasks: {trust}"
    );
    let attached = aws
        .iam
        .list_attached_role_policies()
        .role_name(role.role_name())
        .send()
        .await
        .unwrap();
    let policies: Vec<&str> = attached
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn())
        .collect();
    assert_eq!(
        policies,
        vec![EXECUTION_POLICY],
        "the execution role has the managed execution policy"
    );
    let role_arn = role.arn().to_string();

    let logs = aws
        .logs
        .describe_log_groups()
        .log_group_name_prefix(format!("/ecs/{stack}-"))
        .send()
        .await
        .unwrap();
    let log_names = set(logs
        .log_groups()
        .iter()
        .filter_map(|g| g.log_group_name())
        .map(String::from));
    assert_eq!(
        log_names,
        set(SERVICES.iter().map(|s| format!("/ecs/{stack}-{s}"))),
        "one log group per service"
    );

    // --- Cluster, task definitions ---------------------------------------------------------------
    let clusters = aws
        .ecs
        .describe_clusters()
        .clusters(&stack)
        .include(ClusterField::Tags)
        .send()
        .await
        .unwrap();
    let cluster = clusters
        .clusters()
        .iter()
        .find(|c| c.status() == Some("ACTIVE"))
        .expect("active cluster");
    assert!(
        cluster.capacity_providers().iter().any(|p| p == "FARGATE"),
        "FARGATE capacity provider: {cluster:?}"
    );

    for svc in SERVICES {
        let td = task_definition(&aws, &stack, svc).await;
        assert_eq!(td.family(), Some(format!("{stack}-{svc}").as_str()));
        assert_eq!(
            td.network_mode(),
            Some(&NetworkMode::Awsvpc),
            "{svc}: awsvpc"
        );
        assert!(
            td.requires_compatibilities()
                .contains(&Compatibility::Fargate),
            "{svc}: FARGATE"
        );
        assert_eq!(
            (td.cpu(), td.memory()),
            (Some("256"), Some("512")),
            "{svc}: cpu/memory"
        );
        assert_eq!(
            td.execution_role_arn(),
            Some(role_arn.as_str()),
            "{svc}: execution role"
        );
        let c = td.container_definitions().first().expect("container");
        assert_eq!(
            c.port_mappings().first().and_then(|p| p.container_port()),
            Some(i32::from(port_of(svc))),
            "{svc}: port"
        );
        let log = c.log_configuration().expect("log configuration");
        assert_eq!(log.log_driver(), &LogDriver::Awslogs);
        let group = log.options().and_then(|o| o.get("awslogs-group")).cloned();
        assert_eq!(
            group,
            Some(format!("/ecs/{stack}-{svc}")),
            "{svc}: awslogs group"
        );
        let env = container_env(&td);
        assert_eq!(
            env,
            seed_environment(svc),
            "{svc}: environment (URLs only for declared callers)"
        );
        if !matches!(svc, "api-gateway" | "order-service") {
            assert!(
                env.keys().all(|k| !k.ends_with("_URL")),
                "{svc} calls nobody, so no *_URL: {env:?}"
            );
        }
    }

    // --- Discovery --------------------------------------------------------------------------------
    let mut namespaces = Vec::new();
    let mut pages = aws.cloudmap.list_namespaces().into_paginator().send();
    while let Some(page) = pages.next().await {
        namespaces.extend(page.unwrap().namespaces().to_vec());
    }
    let mut ours = Vec::new();
    for ns in &namespaces {
        let Some(tags) = cloudmap_tags(&aws, ns.arn()).await else {
            continue;
        };
        if tags
            .tags()
            .iter()
            .any(|t| t.key() == "ecsform:stack" && t.value() == stack)
        {
            ours.push(ns.clone());
        }
    }
    assert_eq!(ours.len(), 1, "one namespace tagged with the stack");
    assert_eq!(ours[0].name(), Some("internal"));
    assert_eq!(ours[0].r#type().map(|t| t.as_str()), Some("DNS_PRIVATE"));
    let ns_id = ours[0].id().unwrap().to_string();
    let mut registry_of = BTreeMap::new(); // service name → discovery service ARN
    let mut pages = aws.cloudmap.list_services().into_paginator().send();
    while let Some(page) = pages.next().await {
        for s in page.unwrap().services() {
            // Other tests create and delete discovery services meanwhile.
            let info = match aws.cloudmap.get_service().id(s.id().unwrap()).send().await {
                Ok(info) => info,
                Err(e) if e.code() == Some("ServiceNotFound") => continue,
                Err(e) => panic!("get_service: {e:?}"),
            };
            let info = info.service().expect("service");
            if info.namespace_id() != Some(ns_id.as_str()) {
                continue;
            }
            let name = info.name().unwrap_or_default().to_string();
            let records = info
                .dns_config()
                .map(|d| d.dns_records().to_vec())
                .unwrap_or_default();
            assert_eq!(records.len(), 1, "{name}: one DNS record");
            assert_eq!(records[0].r#type().as_str(), "A", "{name}: A record");
            assert_eq!(records[0].ttl(), 10, "{name}: TTL from the file");
            #[allow(deprecated)]
            let threshold = info
                .health_check_custom_config()
                .and_then(|h| h.failure_threshold());
            assert_eq!(
                threshold,
                Some(1),
                "{name}: custom health check, failure threshold 1"
            );
            registry_of.insert(name, info.arn().unwrap_or_default().to_string());
        }
    }
    assert_eq!(
        set(registry_of.keys().cloned()),
        set(SERVICES.map(String::from)),
        "one discovery service per service"
    );

    // --- Edge ---------------------------------------------------------------------------------------
    let lbs = aws
        .elb
        .describe_load_balancers()
        .names(format!("{stack}-alb"))
        .send()
        .await
        .expect("the ALB");
    let lb = lbs.load_balancers().first().expect("the ALB");
    assert_eq!(lb.scheme(), Some(&LoadBalancerSchemeEnum::InternetFacing));
    assert_eq!(lb.r#type(), Some(&LoadBalancerTypeEnum::Application));
    assert_eq!(
        set(lb
            .availability_zones()
            .iter()
            .filter_map(|z| z.subnet_id())
            .map(String::from)),
        public,
        "ALB in public subnets"
    );
    assert_eq!(
        lb.security_groups(),
        [groups[&format!("{stack}-alb")].clone()],
        "ALB uses the alb group only"
    );
    let lb_arn = lb.load_balancer_arn().unwrap().to_string();
    let tgs = aws
        .elb
        .describe_target_groups()
        .load_balancer_arn(&lb_arn)
        .send()
        .await
        .unwrap();
    let tg_arns = set(tgs
        .target_groups()
        .iter()
        .filter_map(|t| t.target_group_arn())
        .map(String::from));
    assert_eq!(tg_arns.len(), 1, "one target group");
    let tg = tgs.target_groups().first().unwrap();
    let tg_arn = tg.target_group_arn().unwrap().to_string();
    assert_eq!(
        tg.target_type(),
        Some(&TargetTypeEnum::Ip),
        "ip targets (awsvpc)"
    );
    assert_eq!(tg.health_check_path(), Some("/health"));
    assert_eq!(tg.port(), Some(3000));
    assert_eq!(tg.vpc_id(), Some(vpc.as_str()));
    let listeners = aws
        .elb
        .describe_listeners()
        .load_balancer_arn(&lb_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(listeners.listeners().len(), 1);
    let listener = &listeners.listeners()[0];
    assert_eq!(listener.port(), Some(80));
    let rules = aws
        .elb
        .describe_rules()
        .listener_arn(listener.listener_arn().unwrap())
        .send()
        .await
        .unwrap();
    let custom: Vec<_> = rules
        .rules()
        .iter()
        .filter(|r| r.is_default() != Some(true))
        .collect();
    assert_eq!(custom.len(), 1, "one routing rule");
    let paths: Vec<String> = custom[0]
        .conditions()
        .iter()
        .filter(|c| c.field() == Some("path-pattern"))
        .flat_map(|c| {
            c.values().iter().cloned().chain(
                c.path_pattern_config()
                    .map(|p| p.values().to_vec())
                    .unwrap_or_default(),
            )
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(
        paths,
        vec!["/*".to_string()],
        "path /* routes to api-gateway"
    );
    let action = custom[0].actions().first().expect("rule action");
    assert_eq!(action.r#type(), Some(&ActionTypeEnum::Forward));
    let forwards_to = action.target_group_arn().or_else(|| {
        action
            .forward_config()
            .and_then(|f| f.target_groups().first())
            .and_then(|t| t.target_group_arn())
    });
    assert_eq!(forwards_to, Some(tg_arn.as_str()));

    // --- ECS services -------------------------------------------------------------------------------
    for svc in SERVICES {
        let s = ecs_service(&aws, &stack, svc).await;
        assert_eq!(s.desired_count(), 2, "{svc}: desired count");
        assert_eq!(
            s.launch_type(),
            Some(&LaunchType::Fargate),
            "{svc}: FARGATE"
        );
        let net = s
            .network_configuration()
            .and_then(|n| n.awsvpc_configuration())
            .expect("awsvpc configuration");
        assert_eq!(
            set(net.subnets().iter().cloned()),
            private,
            "{svc}: private subnets"
        );
        assert_eq!(
            net.security_groups(),
            [groups[&format!("{stack}-{svc}")].clone()],
            "{svc}: its own group only"
        );
        assert_eq!(
            net.assign_public_ip(),
            Some(&AssignPublicIp::Disabled),
            "{svc}: no public IP"
        );
        let registries: Vec<&str> = s
            .service_registries()
            .iter()
            .filter_map(|r| r.registry_arn())
            .collect();
        assert_eq!(
            registries,
            vec![registry_of[svc].as_str()],
            "{svc}: registered in Cloud Map"
        );
        let lbs: Vec<_> = s
            .load_balancers()
            .iter()
            .map(|l| (l.target_group_arn(), l.container_name(), l.container_port()))
            .collect();
        if svc == "api-gateway" {
            assert_eq!(
                lbs,
                vec![(Some(tg_arn.as_str()), Some("api-gateway"), Some(3000))],
                "api-gateway behind the ALB"
            );
        } else if svc == "product-service" {
            // Routed by the REST API: registered in the network load balancer's TCP group.
            assert_eq!(lbs.len(), 1, "{svc}: one target group: {lbs:?}");
            let (group, container, port) = lbs[0];
            assert!(
                group.is_some_and(|g| g.contains(":targetgroup/") && g.contains("-nlb-")),
                "{svc} behind the network load balancer: {lbs:?}"
            );
            assert_eq!((container, port), (Some("product-service"), Some(3002)));
        } else {
            assert!(
                lbs.is_empty(),
                "{svc} is not behind a load balancer: {lbs:?}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// b. A plan right after apply is empty.
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_right_after_apply_is_empty() {
    let moto = Moto::start();
    let f = Fixture::seed(&unique_stack("noop"));
    let before = moto
        .run(&["plan", "-f", f.path_str(), "--detailed-exitcode"])
        .await;
    before.expect_code(2);
    apply(moto, &f).await;
    assert_plan_empty(moto, &f).await;
    let json = moto.run(&["plan", "-f", f.path_str(), "--json"]).await;
    json.expect_code(0);
    assert_eq!(
        steps(&json.json()),
        BTreeSet::new(),
        "the JSON plan has no steps"
    );
    // A second apply has nothing to do and says so.
    let again = moto
        .run(&["apply", "-f", f.path_str(), "--auto-approve"])
        .await;
    again.expect_code(0);
    assert!(again.stdout().contains("No changes"), "{}", again.stdout());
}

// ---------------------------------------------------------------------------------------------
// c. Editing the call graph and a count changes exactly what follows from the edit.
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_a_caller_revokes_one_rule_and_keeps_the_groups() {
    let moto = Moto::start();
    let stack = unique_stack("edit");
    let mut f = Fixture::seed(&stack);
    apply(moto, &f).await;
    let aws = Aws::new(moto).await;
    let groups_before = stack_groups(&aws, &stack).await;

    f.edit(
        None,
        "allowed_callers: [api-gateway, order-service, api_gateway]",
        "allowed_callers: [api-gateway, api_gateway]",
    );
    f.edit(
        Some("  user-service:\n"),
        "desired_count: 2",
        "desired_count: 3",
    );

    let plan = moto
        .run(&["plan", "-f", f.path_str(), "--json", "--detailed-exitcode"])
        .await;
    plan.expect_code(2);
    let json = plan.json();
    // The revoked edge, the scaled service, and what the edge implies for the caller: order-service
    // is no longer a declared caller of product-service, so it loses PRODUCT_SERVICE_URL (DESIGN §2:
    // only declared callers get the address) — a new task definition revision its service moves to.
    assert_eq!(
        steps(&json),
        set([
            pair("sg.svc.product-service.from.sg.svc.order-service", "delete"),
            pair("service.user-service", "update"),
            pair("taskdef.order-service", "update"),
            pair("service.order-service", "update"),
        ]),
        "exactly the consequences of the edit:\n{}",
        plan.stdout()
    );
    for step in json["steps"].as_array().unwrap() {
        assert_ne!(
            step["kind"], "security_group",
            "no security group is touched: {step}"
        );
        assert_ne!(step["action"], "replace", "nothing is replaced: {step}");
    }
    let user = json["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "service.user-service")
        .unwrap();
    let changed: Vec<&str> = user["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["field"].as_str())
        .collect();
    assert_eq!(
        changed,
        vec!["desired_count"],
        "user-service: only its count changes"
    );
    let td = json["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "taskdef.order-service")
        .unwrap();
    let changed: Vec<&str> = td["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["field"].as_str())
        .collect();
    assert_eq!(
        changed,
        vec!["environment"],
        "order-service: only its environment changes"
    );

    let text = moto.run(&["plan", "-f", f.path_str()]).await;
    text.expect_code(0);
    assert!(
        text.stdout()
            .contains("order-service → product-service:3002 no longer allowed"),
        "the text plan names the lost edge:\n{}",
        text.stdout()
    );

    apply(moto, &f).await;
    let mut want = seed_rules();
    want.retain(|r| r != "product-service:3002/tcp <- sg order-service");
    assert_eq!(
        ingress_rules(&aws, &stack).await,
        want,
        "the rule is gone, the others stay"
    );
    assert_eq!(
        stack_groups(&aws, &stack).await,
        groups_before,
        "every group keeps its id"
    );
    assert_eq!(
        ecs_service(&aws, &stack, "user-service")
            .await
            .desired_count(),
        3
    );
    let order_td = task_definition(&aws, &stack, "order-service").await;
    assert_eq!(
        container_env(&order_td),
        env_map(&[], &[("notification-service", 3004)])
    );
    let order = ecs_service(&aws, &stack, "order-service").await;
    assert_eq!(
        order.task_definition(),
        order_td.task_definition_arn(),
        "order-service runs the new revision"
    );
    assert_plan_empty(moto, &f).await;
}

// ---------------------------------------------------------------------------------------------
// d. A rule added by hand is drift: planned for deletion and removed.
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hand_made_ingress_is_drift_and_is_removed() {
    let moto = Moto::start();
    let stack = unique_stack("drift");
    let f = Fixture::seed(&stack);
    apply(moto, &f).await;
    let aws = Aws::new(moto).await;
    let group = stack_groups(&aws, &stack).await[&format!("{stack}-user-service")].clone();
    let open = IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(3001)
        .to_port(3001)
        .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
        .build();
    let added = aws
        .ec2
        .authorize_security_group_ingress()
        .group_id(&group)
        .ip_permissions(open)
        .send()
        .await
        .unwrap();
    assert_eq!(
        added.security_group_rules().len(),
        1,
        "one rule added by hand"
    );

    let plan = moto
        .run(&["plan", "-f", f.path_str(), "--detailed-exitcode"])
        .await;
    plan.expect_code(2);
    // Named by its content within the group: whoever made it, it is not in the file.
    let drift_id = "sg.svc.user-service.3001.from.0.0.0.0/0";
    assert!(
        plan.stdout().contains(drift_id),
        "the plan deletes {drift_id}:\n{}",
        plan.stdout()
    );
    let json = moto.run(&["plan", "-f", f.path_str(), "--json"]).await;
    json.expect_code(0);
    assert_eq!(
        steps(&json.json()),
        set([pair(drift_id, "delete")]),
        "only the drift is planned"
    );

    // A count changed by hand, and a change of the file: each in its own section.
    aws.ecs
        .update_service()
        .cluster(&stack)
        .service(format!("{stack}-user-service"))
        .desired_count(5)
        .send()
        .await
        .unwrap();
    let mut f = f;
    f.edit(
        Some("  order-service:\n"),
        "desired_count: 2",
        "desired_count: 3",
    );
    let text = moto.run(&["plan", "-f", f.path_str()]).await;
    text.expect_code(0);
    let out = text.stdout();
    let (outside, file) = out
        .split_once("Changes of the file:")
        .unwrap_or_else(|| panic!("two sections:\n{out}"));
    assert!(outside.contains("Changed outside ecsform"), "{out}");
    for id in [drift_id, "service.user-service"] {
        assert!(
            outside.contains(id) && !file.contains(id),
            "{id} is drift:\n{out}"
        );
    }
    assert!(
        file.contains("service.order-service") && !outside.contains("service.order-service"),
        "{out}"
    );
    let json = moto
        .run(&["plan", "-f", f.path_str(), "--json"])
        .await
        .json();
    let drift: BTreeSet<String> = json["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["drift"] == true)
        .filter_map(|s| s["id"].as_str().map(String::from))
        .collect();
    assert_eq!(
        drift,
        set([drift_id.to_string(), "service.user-service".to_string()])
    );
    let refresh = moto
        .run(&["plan", "-f", f.path_str(), "--refresh-only", "--json"])
        .await;
    assert_eq!(
        steps(&refresh.json()),
        set([
            pair(drift_id, "delete"),
            pair("service.user-service", "update")
        ]),
        "--refresh-only shows only what changed outside ecsform"
    );

    apply(moto, &f).await;
    assert_eq!(
        ingress_rules(&aws, &stack).await,
        seed_rules(),
        "the hand-made rule is gone"
    );
    assert_plan_empty(moto, &f).await;
    let refresh = moto
        .run(&[
            "plan",
            "-f",
            f.path_str(),
            "--refresh-only",
            "--detailed-exitcode",
        ])
        .await;
    refresh.expect_code(0);
}

/// Detaches the stack's internet gateway, as a run killed between its create and its attach
/// leaves it.
async fn detach_gateway(aws: &Aws, stack: &str) {
    let igws = aws
        .ec2
        .describe_internet_gateways()
        .filters(stack_tag(stack))
        .send()
        .await
        .unwrap();
    let igw = igws
        .internet_gateways()
        .first()
        .expect("the stack's gateway");
    for a in igw.attachments() {
        aws.ec2
            .detach_internet_gateway()
            .internet_gateway_id(igw.internet_gateway_id().unwrap_or_default())
            .vpc_id(a.vpc_id().unwrap_or_default())
            .send()
            .await
            .unwrap();
    }
}

async fn gateway_attachments(aws: &Aws, stack: &str) -> Vec<Vec<String>> {
    let igws = aws
        .ec2
        .describe_internet_gateways()
        .filters(stack_tag(stack))
        .send()
        .await
        .unwrap();
    igws.internet_gateways()
        .iter()
        .map(|g| {
            g.attachments()
                .iter()
                .filter_map(|a| a.vpc_id().map(String::from))
                .collect()
        })
        .collect()
}

// A gateway left unattached by a killed run is attached in place (not replaced), and destroy
// deletes an unattached gateway without tripping over the detach.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unattached_gateway_is_attached_in_place_and_destroyed_cleanly() {
    let moto = Moto::start();
    let stack = unique_stack("igw");
    let f = Fixture::seed(&stack);
    apply(moto, &f).await;
    let aws = Aws::new(moto).await;
    let attached = gateway_attachments(&aws, &stack).await;
    detach_gateway(&aws, &stack).await;

    let json = moto.run(&["plan", "-f", f.path_str(), "--json"]).await;
    json.expect_code(0);
    assert_eq!(steps(&json.json()), set([pair("igw", "update")]));
    apply(moto, &f).await;
    assert_eq!(
        gateway_attachments(&aws, &stack).await,
        attached,
        "attached again, same gateway"
    );
    assert_plan_empty(moto, &f).await;

    detach_gateway(&aws, &stack).await;
    moto.run(&["destroy", "-f", f.path_str(), "--auto-approve"])
        .await
        .expect_code(0);
    assert!(
        gateway_attachments(&aws, &stack).await.is_empty(),
        "the gateway is gone"
    );
}

/// (port, protocol, certificate ARNs, default actions) of each of the stack's listeners.
async fn listeners_of(aws: &Aws, stack: &str) -> Vec<(i32, String, Vec<String>, Vec<String>)> {
    let lbs = aws.elb.describe_load_balancers().send().await.unwrap();
    let lb = lbs
        .load_balancers()
        .iter()
        .find(|l| l.load_balancer_name() == Some(&format!("{stack}-alb")))
        .expect("the stack's load balancer");
    let out = aws
        .elb
        .describe_listeners()
        .load_balancer_arn(lb.load_balancer_arn().unwrap_or_default())
        .send()
        .await
        .unwrap();
    let mut listeners: Vec<_> = out
        .listeners()
        .iter()
        .map(|l| {
            let actions = l
                .default_actions()
                .iter()
                .map(|a| match a.redirect_config() {
                    Some(r) => format!(
                        "redirect {}:{} {:?}",
                        r.protocol().unwrap_or_default(),
                        r.port().unwrap_or_default(),
                        r.status_code()
                    ),
                    None => a
                        .r#type()
                        .map(|t| t.as_str().to_string())
                        .unwrap_or_default(),
                })
                .collect();
            (
                l.port().unwrap_or_default(),
                l.protocol()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_default(),
                l.certificates()
                    .iter()
                    .filter_map(|c| c.certificate_arn().map(String::from))
                    .collect(),
                actions,
            )
        })
        .collect();
    listeners.sort();
    listeners
}

// f. HTTPS: a listener with an ACM certificate, plain HTTP redirecting to it; a new certificate
//    is changed in place on the same listener.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_listener_redirect_and_certificate_change_in_place() {
    let moto = Moto::start();
    let stack = unique_stack("tls");
    let acm = aws_sdk_acm::Client::new(&moto.sdk_config().await);
    let mut certificates = Vec::new();
    for domain in ["shop.example.com", "www.shop.example.com"] {
        let out = acm
            .request_certificate()
            .domain_name(domain)
            .send()
            .await
            .unwrap();
        certificates.push(out.certificate_arn().expect("certificate ARN").to_string());
    }
    let mut f = Fixture::seed(&stack);
    f.edit(
        Some("listeners:"),
        "    - port: 80\n      protocol: HTTP\n",
        &format!(
            "    - {{port: 443, protocol: HTTPS, certificate_arn: \"{}\"}}\n    \
             - {{port: 80, protocol: HTTP, redirect_to: 443}}\n",
            certificates[0]
        ),
    );
    apply(moto, &f).await;
    let aws = Aws::new(moto).await;
    let redirect = vec!["redirect HTTPS:443 Some(Http301)".to_string()];
    let expected = |certificate: &str| {
        vec![
            (80, "HTTP".to_string(), vec![], redirect.clone()),
            (
                443,
                "HTTPS".to_string(),
                vec![certificate.to_string()],
                vec!["fixed-response".to_string()],
            ),
        ]
    };
    assert_eq!(listeners_of(&aws, &stack).await, expected(&certificates[0]));
    assert_plan_empty(moto, &f).await;

    f.edit(None, &certificates[0], &certificates[1]);
    let json = moto.run(&["plan", "-f", f.path_str(), "--json"]).await;
    json.expect_code(0);
    assert_eq!(
        steps(&json.json()),
        set([pair("alb.listener.443", "update")])
    );
    apply(moto, &f).await;
    assert_eq!(listeners_of(&aws, &stack).await, expected(&certificates[1]));
    assert_plan_empty(moto, &f).await;
}

// A log group the file no longer names but that carries this stack's tags (a removed service's)
// is found by its tags, planned for deletion and deleted; an untagged one beside it is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tagged_log_group_the_file_no_longer_names_is_deleted() {
    let moto = Moto::start();
    let stack = unique_stack("ghost");
    let f = Fixture::seed(&stack);
    apply(moto, &f).await;
    let aws = Aws::new(moto).await;
    let ghost = format!("/ecs/{stack}-ghost-service");
    let stranger = format!("/ecs/{stack}-stranger");
    aws.logs
        .create_log_group()
        .log_group_name(&ghost)
        .tags("ecsform:stack", &stack)
        .tags("ecsform:id", "log.ghost-service")
        .send()
        .await
        .unwrap();
    aws.logs
        .create_log_group()
        .log_group_name(&stranger)
        .send()
        .await
        .unwrap();

    let json = moto.run(&["plan", "-f", f.path_str(), "--json"]).await;
    json.expect_code(0);
    assert_eq!(
        steps(&json.json()),
        set([pair("log.ghost-service", "delete")])
    );
    apply(moto, &f).await;
    let left: BTreeSet<String> = aws
        .logs
        .describe_log_groups()
        .log_group_name_prefix(format!("/ecs/{stack}-"))
        .send()
        .await
        .unwrap()
        .log_groups()
        .iter()
        .filter_map(|g| g.log_group_name().map(String::from))
        .collect();
    assert!(!left.contains(&ghost), "{left:?}");
    assert!(left.contains(&stranger), "{left:?}");
    assert_plan_empty(moto, &f).await;
}

// ---------------------------------------------------------------------------------------------
// e. Destroy removes everything of one stack and nothing of anyone else.
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroy_removes_one_stack_and_nothing_else() {
    let moto = Moto::start();
    let first = unique_stack("isoa");
    let second = unique_stack("isob");
    let a = Fixture::seed(&first);
    let mut b = Fixture::seed(&second);
    b.edit(None, "cidr: 10.0.0.0/16", "cidr: 10.1.0.0/16");
    let aws = Aws::new(moto).await;
    // Things nobody's file owns: a group in a hand-made VPC, and a log group under the first
    // stack's log prefix without its tags.
    let (ra, rb, own_vpc) = tokio::join!(
        apply(moto, &a),
        apply(moto, &b),
        aws.ec2.create_vpc().cidr_block("10.99.0.0/16").send()
    );
    let ((), ()) = (ra, rb);
    // Every kind, read straight from the emulator: exactly what each file asks for.
    for (stack, fixture) in [(&first, &a), (&second, &b)] {
        assert_eq!(
            common::probe::tagged_counts(moto, stack).await,
            common::probe::desired_counts(fixture.text()),
            "{stack} after apply"
        );
    }
    let own_vpc = own_vpc
        .unwrap()
        .vpc()
        .and_then(|v| v.vpc_id())
        .unwrap()
        .to_string();
    let own_group = aws
        .ec2
        .create_security_group()
        .group_name(format!("{first}-handmade"))
        .description("made by hand")
        .vpc_id(&own_vpc)
        .send()
        .await
        .unwrap()
        .group_id()
        .unwrap()
        .to_string();
    let own_log = format!("/ecs/{first}-handmade");
    aws.logs
        .create_log_group()
        .log_group_name(&own_log)
        .send()
        .await
        .unwrap();

    moto.run(&["destroy", "-f", a.path_str(), "--auto-approve"])
        .await
        .expect_code(0);
    assert_nothing_left(&aws, &first, &[own_log.as_str()]).await;
    let left = common::probe::tagged_counts(moto, &first).await;
    assert!(
        left.values().all(|&n| n == 0),
        "{first} after destroy: {left:?}"
    );
    assert_eq!(
        common::probe::tagged_counts(moto, &second).await,
        common::probe::desired_counts(b.text()),
        "{second} untouched by the other stack's destroy"
    );

    // The second stack and the hand-made things are untouched.
    assert_plan_empty(moto, &b).await;
    let still = aws
        .ec2
        .describe_security_groups()
        .group_ids(&own_group)
        .send()
        .await
        .expect("the hand-made group exists");
    assert_eq!(still.security_groups().len(), 1);
    let logs = aws
        .logs
        .describe_log_groups()
        .log_group_name_prefix(&own_log)
        .send()
        .await
        .unwrap();
    assert_eq!(
        logs.log_groups().len(),
        1,
        "the untagged log group under the prefix stays"
    );
    moto.run(&["destroy", "-f", b.path_str(), "--auto-approve"])
        .await
        .expect_code(0);
    assert_nothing_left(&aws, &second, &[]).await;
    aws.ec2
        .delete_security_group()
        .group_id(&own_group)
        .send()
        .await
        .unwrap();
    aws.ec2.delete_vpc().vpc_id(&own_vpc).send().await.unwrap();
    aws.logs
        .delete_log_group()
        .log_group_name(&own_log)
        .send()
        .await
        .unwrap();
    // Destroying a destroyed stack finds nothing to do.
    for f in [&a, &b] {
        let again = moto
            .run(&["destroy", "-f", f.path_str(), "--auto-approve"])
            .await;
        again.expect_code(0);
        assert!(
            again.stdout().contains("No changes"),
            "nothing left to destroy:\n{}",
            again.stdout()
        );
    }
}

/// The tags of a Cloud Map resource; `None` if it went away meanwhile (other tests run too).
async fn cloudmap_tags(
    aws: &Aws,
    arn: Option<&str>,
) -> Option<aws_sdk_servicediscovery::operation::list_tags_for_resource::ListTagsForResourceOutput>
{
    match aws
        .cloudmap
        .list_tags_for_resource()
        .resource_arn(arn.unwrap_or_default())
        .send()
        .await
    {
        Ok(tags) => Some(tags),
        Err(e) if e.code().is_some_and(|c| c.contains("NotFound")) => None,
        Err(e) => panic!("list_tags_for_resource {arn:?}: {e:?}"),
    }
}

/// No resource of any kind tagged `ecsform:stack=<stack>` (or named for it) remains.
async fn assert_nothing_left(aws: &Aws, stack: &str, foreign_logs: &[&str]) {
    let ec2 = &aws.ec2;
    let t = || stack_tag(stack);
    assert_eq!(
        ec2.describe_vpcs()
            .filters(t())
            .send()
            .await
            .unwrap()
            .vpcs()
            .len(),
        0,
        "VPCs of {stack}"
    );
    assert_eq!(
        ec2.describe_subnets()
            .filters(t())
            .send()
            .await
            .unwrap()
            .subnets()
            .len(),
        0,
        "subnets of {stack}"
    );
    assert_eq!(
        ec2.describe_internet_gateways()
            .filters(t())
            .send()
            .await
            .unwrap()
            .internet_gateways()
            .len(),
        0,
        "IGWs"
    );
    assert_eq!(
        ec2.describe_addresses()
            .filters(t())
            .send()
            .await
            .unwrap()
            .addresses()
            .len(),
        0,
        "elastic IPs"
    );
    assert_eq!(
        ec2.describe_route_tables()
            .filters(t())
            .send()
            .await
            .unwrap()
            .route_tables()
            .len(),
        0,
        "route tables"
    );
    assert_eq!(
        ec2.describe_security_groups()
            .filters(t())
            .send()
            .await
            .unwrap()
            .security_groups()
            .len(),
        0,
        "groups"
    );
    // moto ignores tag filters on DescribeNatGateways: check the tags here too.
    let nats = ec2
        .describe_nat_gateways()
        .filter(t())
        .send()
        .await
        .unwrap();
    let live: Vec<_> = nats
        .nat_gateways()
        .iter()
        .filter(|n| ec2_tags(n.tags()).get("ecsform:stack").map(String::as_str) == Some(stack))
        .filter(|n| n.state() != Some(&NatGatewayState::Deleted))
        .collect();
    assert!(
        live.is_empty(),
        "NAT gateways of {stack} not deleted: {live:?}"
    );

    let clusters = aws
        .ecs
        .describe_clusters()
        .clusters(stack)
        .send()
        .await
        .unwrap();
    assert!(
        clusters
            .clusters()
            .iter()
            .all(|c| c.status() != Some("ACTIVE")),
        "cluster {stack} still active"
    );
    let names: Vec<String> = SERVICES.iter().map(|s| format!("{stack}-{s}")).collect();
    match aws
        .ecs
        .describe_services()
        .cluster(stack)
        .set_services(Some(names))
        .send()
        .await
    {
        Ok(out) => {
            let active: Vec<_> = out
                .services()
                .iter()
                .filter(|s| s.status() == Some("ACTIVE"))
                .map(|s| s.service_name())
                .collect();
            assert!(
                active.is_empty(),
                "ECS services of {stack} still active: {active:?}"
            );
        }
        Err(e) => assert_eq!(
            e.code(),
            Some("ClusterNotFoundException"),
            "describe_services: {e:?}"
        ),
    }
    for svc in SERVICES {
        let family = format!("{stack}-{svc}");
        let tds = aws
            .ecs
            .list_task_definitions()
            .family_prefix(&family)
            .status(TaskDefinitionStatus::Active)
            .send()
            .await
            .unwrap();
        assert!(
            tds.task_definition_arns().is_empty(),
            "active task definitions of {family}: {:?}",
            tds.task_definition_arns()
        );
    }

    match aws
        .elb
        .describe_load_balancers()
        .names(format!("{stack}-alb"))
        .send()
        .await
    {
        Ok(out) => assert!(
            out.load_balancers().is_empty(),
            "the ALB of {stack} remains"
        ),
        Err(e) => assert_eq!(
            e.code(),
            Some("LoadBalancerNotFound"),
            "describe_load_balancers: {e:?}"
        ),
    }
    let tgs = aws.elb.describe_target_groups().send().await.unwrap();
    let left: Vec<_> = tgs
        .target_groups()
        .iter()
        .filter_map(|g| g.target_group_name())
        .filter(|n| n.starts_with(&format!("{stack}-")))
        .collect();
    assert!(left.is_empty(), "target groups of {stack}: {left:?}");

    let mut pages = aws.cloudmap.list_namespaces().into_paginator().send();
    while let Some(page) = pages.next().await {
        for ns in page.unwrap().namespaces() {
            let Some(tags) = cloudmap_tags(aws, ns.arn()).await else {
                continue;
            };
            assert!(
                !tags
                    .tags()
                    .iter()
                    .any(|t| t.key() == "ecsform:stack" && t.value() == stack),
                "namespace {:?} of {stack} remains",
                ns.id()
            );
        }
    }
    let mut pages = aws.cloudmap.list_services().into_paginator().send();
    while let Some(page) = pages.next().await {
        for s in page.unwrap().services() {
            let Some(tags) = cloudmap_tags(aws, s.arn()).await else {
                continue;
            };
            assert!(
                !tags
                    .tags()
                    .iter()
                    .any(|t| t.key() == "ecsform:stack" && t.value() == stack),
                "discovery service {:?} of {stack} remains",
                s.name()
            );
        }
    }

    let roles = aws
        .iam
        .list_roles()
        .path_prefix(format!("/ecsform/{stack}/"))
        .send()
        .await
        .unwrap();
    let roles: Vec<&str> = roles.roles().iter().map(|r| r.role_name()).collect();
    assert!(roles.is_empty(), "IAM roles of {stack}: {roles:?}");

    let logs = aws
        .logs
        .describe_log_groups()
        .log_group_name_prefix(format!("/ecs/{stack}-"))
        .send()
        .await
        .unwrap();
    let left = set(logs
        .log_groups()
        .iter()
        .filter_map(|g| g.log_group_name())
        .map(String::from));
    assert_eq!(
        left,
        set(foreign_logs.iter().map(|s| s.to_string())),
        "log groups of {stack}"
    );
}

// ---------------------------------------------------------------------------------------------
// f. Bad input: a clear `file:line:col` error, exit 1.
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_caller_is_an_error_with_its_position() {
    let moto = Moto::start();
    let f = Fixture::from_file(&unique_stack("bad"), "unknown_caller.yaml");
    let line = f
        .text()
        .lines()
        .position(|l| l.contains("billing-service"))
        .expect("fixture names billing-service")
        + 1;
    for command in ["validate", "plan"] {
        let out = moto.run(&[command, "-f", f.path_str()]).await;
        out.expect_code(1);
        let stderr = out.stderr();
        let prefix = format!("{}:{line}:", f.path.display());
        let at = stderr
            .find(&prefix)
            .unwrap_or_else(|| panic!("`{command}`: stderr lacks `{prefix}<col>`:\n{stderr}"));
        let col: String = stderr[at + prefix.len()..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        assert!(
            col.parse::<u32>().is_ok_and(|c| c >= 1),
            "`{command}`: no column after `{prefix}`:\n{stderr}"
        );
        assert!(
            stderr.contains("billing-service"),
            "`{command}`: the error names the unknown caller:\n{stderr}"
        );
    }
}

/// Issue 12's wall: a new `network.cidr` on a deployed stack. Without `--allow-replace vpc`
/// apply refuses and changes nothing; with it one apply moves everything to the new VPC (the
/// new network built beside the old one, the services moved, the old one torn down), the next
/// plan is empty, the stack has what a fresh apply has, and nothing is left in the old VPC.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_cidr_moves_the_stack_to_a_new_vpc_in_one_apply_and_leaves_nothing_behind() {
    let moto = Moto::start();
    let stack = unique_stack("cidr");
    let mut f = Fixture::seed(&stack);
    apply(moto, &f).await;
    let aws = Aws::new(moto).await;
    let vpcs = |cidr: &'static str| {
        let ec2 = aws.ec2.clone();
        let stack = stack.clone();
        async move {
            ec2.describe_vpcs()
                .filters(stack_tag(&stack))
                .send()
                .await
                .expect("vpcs")
                .vpcs()
                .iter()
                .filter(|v| v.cidr_block() == Some(cidr))
                .filter_map(|v| v.vpc_id().map(String::from))
                .collect::<Vec<_>>()
        }
    };
    let old = vpcs("10.0.0.0/16").await;
    assert_eq!(old.len(), 1);
    f.edit(None, "cidr: 10.0.0.0/16", "cidr: 10.1.0.0/16");

    let refused = moto
        .run(&["apply", "-f", f.path_str(), "--auto-approve"])
        .await;
    refused.expect_code(1);
    assert!(
        refused.stderr().contains("--allow-replace vpc"),
        "{}",
        refused.stderr()
    );
    assert_eq!(vpcs("10.0.0.0/16").await, old, "refused: nothing changed");
    assert!(vpcs("10.1.0.0/16").await.is_empty());

    let moved = moto
        .run(&[
            "apply",
            "-f",
            f.path_str(),
            "--auto-approve",
            "--allow-replace",
            "vpc",
        ])
        .await;
    assert_eq!(
        moved.code(),
        Some(0),
        "{}\n{}",
        moved.stdout(),
        moved.stderr()
    );
    assert_plan_empty(moto, &f).await;
    assert!(vpcs("10.0.0.0/16").await.is_empty(), "the old VPC is gone");
    let new = vpcs("10.1.0.0/16").await;
    assert_eq!(new.len(), 1);
    let live = common::probe::tagged_counts(moto, &stack).await;
    let fresh = common::probe::desired_counts(f.text());
    assert_eq!(live, fresh, "the moved stack has what a fresh apply has");

    // Nothing of the stack is left in the old VPC, under any id: subnets, groups, interfaces,
    // load balancers, target groups.
    let in_old = || filter("vpc-id", &[old[0].as_str()]);
    let ec2 = &aws.ec2;
    let subnets = ec2
        .describe_subnets()
        .filters(in_old())
        .send()
        .await
        .unwrap();
    let groups = ec2
        .describe_security_groups()
        .filters(in_old())
        .send()
        .await
        .unwrap();
    let interfaces = ec2
        .describe_network_interfaces()
        .filters(in_old())
        .send()
        .await
        .unwrap();
    assert!(subnets.subnets().is_empty(), "{:?}", subnets.subnets());
    assert!(
        groups
            .security_groups()
            .iter()
            .all(|g| g.group_name() == Some("default")),
        "{:?}",
        groups.security_groups()
    );
    // moto keeps a deleted NAT gateway's interface (AWS deletes it with the gateway).
    let nat_interfaces: BTreeSet<String> = ec2
        .describe_nat_gateways()
        .filter(filter("vpc-id", &[old[0].as_str()]))
        .send()
        .await
        .unwrap()
        .nat_gateways()
        .iter()
        .filter(|n| n.state() == Some(&NatGatewayState::Deleted))
        .flat_map(|n| n.nat_gateway_addresses())
        .filter_map(|a| a.network_interface_id().map(String::from))
        .collect();
    let left: Vec<_> = interfaces
        .network_interfaces()
        .iter()
        .filter(|i| {
            !i.network_interface_id()
                .is_some_and(|id| nat_interfaces.contains(id))
        })
        .collect();
    assert!(left.is_empty(), "{left:?}");
    let lbs = aws.elb.describe_load_balancers().send().await.unwrap();
    let tgs = aws.elb.describe_target_groups().send().await.unwrap();
    for lb in lbs.load_balancers() {
        assert_ne!(lb.vpc_id(), Some(old[0].as_str()), "{lb:?}");
    }
    for tg in tgs.target_groups() {
        assert_ne!(tg.vpc_id(), Some(old[0].as_str()), "{tg:?}");
    }
    // Services run in the new VPC's private subnets.
    let private: BTreeSet<String> = ec2
        .describe_subnets()
        .filters(filter("vpc-id", &[new[0].as_str()]))
        .send()
        .await
        .unwrap()
        .subnets()
        .iter()
        .filter(|s| {
            ec2_tags(s.tags())
                .get("ecsform:id")
                .is_some_and(|id| id.starts_with("subnet.private."))
        })
        .filter_map(|s| s.subnet_id().map(String::from))
        .collect();
    let svc = ecs_service(&aws, &stack, "api-gateway").await;
    let in_subnets: BTreeSet<String> = svc
        .network_configuration()
        .and_then(|n| n.awsvpc_configuration())
        .map(|a| a.subnets().to_vec())
        .unwrap_or_default()
        .into_iter()
        .collect();
    assert!(
        !in_subnets.is_empty() && in_subnets.is_subset(&private),
        "{in_subnets:?} in {private:?}"
    );

    moto.run(&["destroy", "-f", f.path_str(), "--auto-approve"])
        .await
        .expect_code(0);
    assert!(vpcs("10.1.0.0/16").await.is_empty());
}
