//! `expand`: a checked topology → the typed resources it needs. Pure: no I/O, no AWS.

use crate::model::*;
use crate::names;
use crate::topology::{
    self, ListenerProtocol, NatGateways, NatMode, Topology, CALLER_API_GATEWAY,
    CALLER_LOAD_BALANCER,
};
use std::collections::BTreeMap;

/// The AWS-managed policy that lets ECS pull images and write logs for a task.
pub const EXECUTION_POLICY_ARN: &str =
    "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";
/// Days kept in each service's log group.
pub const LOG_RETENTION_DAYS: i32 = 30;

pub fn expand(t: &Topology, region: &str) -> Desired {
    let mut d = Desired::default();
    let stack = t.name.as_str();
    let vpc = d.insert(
        ids::VPC,
        Resource::Vpc(Vpc {
            name: names::tag_name(stack, "vpc"),
            cidr: t.network.cidr.clone(),
            dns_support: true,
            dns_hostnames: true,
        }),
    );
    let network = expand_network(&mut d, t, region, &vpc);
    expand_security(&mut d, t, &vpc);
    let role = expand_identity(&mut d, t, region);
    let namespace = d.insert(
        ids::NAMESPACE,
        Resource::Namespace(Namespace {
            name: t.discovery.namespace.clone(),
            vpc: Ref::Id(vpc.clone()),
        }),
    );
    let cluster = d.insert(
        ids::CLUSTER,
        Resource::Cluster(Cluster {
            name: names::cluster(stack),
            container_insights: true,
        }),
    );
    expand_edge(&mut d, t, &vpc, &network);
    for (svc, spec) in &t.services {
        d.insert(
            ids::log_group(svc),
            Resource::LogGroup(LogGroup {
                name: names::log_group(stack, svc),
                retention_days: Some(LOG_RETENTION_DAYS),
            }),
        );
        d.insert(
            ids::discovery(svc),
            Resource::DiscoveryService(DiscoveryService {
                name: svc.clone(),
                namespace: Ref::Id(namespace.clone()),
                ttl: t.discovery.ttl,
                failure_threshold: 1,
            }),
        );
        d.insert(
            ids::task_definition(svc),
            Resource::TaskDefinition(TaskDefinition {
                family: names::task_family(stack, svc),
                cpu: spec.cpu,
                memory: spec.memory,
                execution_role: Ref::Id(role.clone()),
                container_name: svc.clone(),
                image: spec.image.clone(),
                port: spec.port,
                environment: environment_for(t, svc),
                secrets: spec.secrets.clone(),
                log_group: names::log_group(stack, svc),
                log_region: region.to_string(),
            }),
        );
        // The container behind the load balancer; nothing when no load balancer sends it traffic.
        let (target_groups, container_name, container_port) = if routed_from_load_balancer(t, svc) {
            (
                vec![Ref::id(ids::target_group(svc))],
                svc.clone(),
                spec.port,
            )
        } else {
            (vec![], String::new(), 0)
        };
        d.insert(
            ids::ecs_service(svc),
            Resource::EcsService(EcsService {
                name: names::ecs_service(stack, svc),
                cluster: Ref::Id(cluster.clone()),
                task_definition: Ref::id(ids::task_definition(svc)),
                desired_count: spec.desired_count,
                subnets: network
                    .private_subnets
                    .iter()
                    .cloned()
                    .map(Ref::Id)
                    .collect(),
                security_groups: vec![Ref::id(ids::service_group(svc))],
                assign_public_ip: false,
                registry: Some(Ref::id(ids::discovery(svc))),
                target_groups,
                container_name,
                container_port,
                deployment: Some(Deployment {
                    minimum_healthy_percent: 50,
                    maximum_percent: 200,
                    circuit_breaker_rollback: true,
                }),
            }),
        );
    }
    d
}

/// Logical ids: stable names inside the stack, stored in the `ecsform:id` tag.
pub mod ids {
    pub const VPC: &str = "vpc";
    pub const INTERNET_GATEWAY: &str = "igw";
    pub const PUBLIC_ROUTES: &str = "rtb.public";
    pub const ALB_GROUP: &str = "sg.alb";
    pub const EXECUTION_ROLE: &str = "role.task-execution";
    pub const NAMESPACE: &str = "namespace";
    pub const CLUSTER: &str = "cluster";
    pub const ALB: &str = "alb";

    pub fn subnet(public: bool, index: usize) -> String {
        format!(
            "subnet.{}.{}",
            if public { "public" } else { "private" },
            index + 1
        )
    }
    pub fn elastic_ip(index: usize) -> String {
        format!("eip.nat.{}", index + 1)
    }
    pub fn nat_gateway(index: usize) -> String {
        format!("nat.{}", index + 1)
    }
    pub fn private_routes(index: usize) -> String {
        format!("rtb.private.{}", index + 1)
    }
    pub fn service_group(svc: &str) -> String {
        format!("sg.svc.{svc}")
    }
    /// The rule on `callee`'s group that admits `caller` (a service, `load_balancer`, `api_gateway`).
    pub fn ingress(callee: &str, caller: &str) -> String {
        format!("ingress.{callee}.from.{caller}")
    }
    pub fn alb_ingress(port: u16, family: &str) -> String {
        format!("ingress.alb.{port}.{family}")
    }
    pub fn log_group(svc: &str) -> String {
        format!("log.{svc}")
    }
    pub fn discovery(svc: &str) -> String {
        format!("discovery.{svc}")
    }
    pub fn task_definition(svc: &str) -> String {
        format!("taskdef.{svc}")
    }
    pub fn ecs_service(svc: &str) -> String {
        format!("service.{svc}")
    }
    pub fn target_group(svc: &str) -> String {
        format!("tg.{svc}")
    }
    pub fn listener(port: u16) -> String {
        format!("listener.{port}")
    }
    pub fn listener_rule(port: u16, index: usize) -> String {
        format!("rule.{port}.{}", index + 1)
    }
}

struct Network {
    private_subnets: Vec<ResourceId>,
    public_subnets: Vec<ResourceId>,
}

fn expand_network(d: &mut Desired, t: &Topology, region: &str, vpc: &ResourceId) -> Network {
    let stack = t.name.as_str();
    let zones = topology::availability_zone_names(t, region);
    let (public_cidrs, private_cidrs) = topology::subnet_cidrs(t);
    let mut subnets = |public: bool, cidrs: &[String]| -> Vec<ResourceId> {
        cidrs
            .iter()
            .zip(&zones)
            .enumerate()
            .map(|(i, (cidr, az))| {
                let id = ids::subnet(public, i);
                let name = names::tag_name(stack, &id);
                d.insert(
                    id,
                    Resource::Subnet(Subnet {
                        name,
                        vpc: Ref::Id(vpc.clone()),
                        cidr: cidr.clone(),
                        availability_zone: az.clone(),
                        public,
                    }),
                )
            })
            .collect()
    };
    let public_subnets = subnets(true, &public_cidrs);
    let private_subnets = subnets(false, &private_cidrs);

    let igw = d.insert(
        ids::INTERNET_GATEWAY,
        Resource::InternetGateway(InternetGateway {
            name: names::tag_name(stack, "igw"),
            vpc: Ref::Id(vpc.clone()),
        }),
    );
    d.insert(
        ids::PUBLIC_ROUTES,
        Resource::RouteTable(RouteTable {
            name: names::tag_name(stack, ids::PUBLIC_ROUTES),
            vpc: Ref::Id(vpc.clone()),
            default_route: Some(Ref::Id(igw)),
            subnets: public_subnets.iter().cloned().map(Ref::Id).collect(),
        }),
    );

    let nat_count = match t.network.nat_gateways {
        NatGateways::Count(n) => usize::from(n.min(1)),
        NatGateways::Mode(NatMode::PerAz) => public_subnets.len(),
    };
    let mut nats = Vec::new();
    for (i, subnet) in public_subnets.iter().take(nat_count).enumerate() {
        let eip = d.insert(
            ids::elastic_ip(i),
            Resource::ElasticIp(ElasticIp {
                name: names::tag_name(stack, &ids::elastic_ip(i)),
            }),
        );
        nats.push(d.insert(
            ids::nat_gateway(i),
            Resource::NatGateway(NatGateway {
                name: names::tag_name(stack, &ids::nat_gateway(i)),
                subnet: Ref::Id(subnet.clone()),
                elastic_ip: Ref::Id(eip),
            }),
        ));
    }
    // One private route table per NAT gateway (per AZ), or a single one when NAT is shared or absent.
    let tables = nat_count.max(1);
    for table in 0..tables {
        let members: Vec<Ref> = private_subnets
            .iter()
            .enumerate()
            .filter(|(i, _)| tables == 1 || *i == table)
            .map(|(_, id)| Ref::Id(id.clone()))
            .collect();
        d.insert(
            ids::private_routes(table),
            Resource::RouteTable(RouteTable {
                name: names::tag_name(stack, &ids::private_routes(table)),
                vpc: Ref::Id(vpc.clone()),
                default_route: nats.get(table).cloned().map(Ref::Id),
                subnets: members,
            }),
        );
    }
    Network {
        private_subnets,
        public_subnets,
    }
}

fn expand_security(d: &mut Desired, t: &Topology, vpc: &ResourceId) {
    let stack = t.name.as_str();
    if let Some(lb) = &t.load_balancer {
        d.insert(
            ids::ALB_GROUP,
            Resource::SecurityGroup(SecurityGroup {
                name: names::security_group(stack, "alb"),
                vpc: Ref::Id(vpc.clone()),
                description: format!(
                    "ecsform {stack}: load balancer, listener ports from the internet"
                ),
            }),
        );
        for listener in &lb.listeners {
            for (family, cidr) in [("ipv4", "0.0.0.0/0"), ("ipv6", "::/0")] {
                d.insert(
                    ids::alb_ingress(listener.port, family),
                    Resource::IngressRule(IngressRule {
                        group: Ref::id(ids::ALB_GROUP),
                        port: listener.port,
                        source: RuleSource::Cidr(cidr.into()),
                        description: format!("internet to listener {}", listener.port),
                    }),
                );
            }
        }
    }
    for (svc, spec) in &t.services {
        d.insert(
            ids::service_group(svc),
            Resource::SecurityGroup(SecurityGroup {
                name: names::security_group(stack, svc),
                vpc: Ref::Id(vpc.clone()),
                description: format!("ecsform {stack}: service {svc}"),
            }),
        );
        for caller in &spec.allowed_callers {
            let source_group = match caller.as_str() {
                CALLER_LOAD_BALANCER => ids::ALB_GROUP.to_string(),
                // The API Gateway path reaches services through its internal NLB's group.
                CALLER_API_GATEWAY => continue,
                service => ids::service_group(service),
            };
            d.insert(
                ids::ingress(svc, caller),
                Resource::IngressRule(IngressRule {
                    group: Ref::id(ids::service_group(svc)),
                    port: spec.port,
                    source: RuleSource::Group(Ref::id(source_group)),
                    description: format!("{caller} to {svc}"),
                }),
            );
        }
    }
}

fn expand_identity(d: &mut Desired, t: &Topology, region: &str) -> ResourceId {
    d.insert(
        ids::EXECUTION_ROLE,
        Resource::Role(Role {
            name: names::execution_role(&t.name),
            assumed_by: "ecs-tasks.amazonaws.com".into(),
            managed_policies: vec![EXECUTION_POLICY_ARN.into()],
            inline_policy: secrets_policy(t, region),
        }),
    )
}

/// Read access to exactly the declared secrets, nothing else; `None` when no service has any.
pub fn secrets_policy(t: &Topology, region: &str) -> Option<String> {
    let mut parameters = Vec::new();
    let mut secrets = Vec::new();
    for spec in t.services.values() {
        for source in spec.secrets.values() {
            if source.starts_with("arn:aws:secretsmanager:") {
                secrets.push(source.clone());
            } else if source.starts_with("arn:") {
                parameters.push(source.clone());
            } else {
                let name = source.trim_start_matches('/');
                // The account is the role's own: a policy variable keeps expand free of AWS calls.
                parameters.push(format!(
                    "arn:aws:ssm:{region}:${{aws:PrincipalAccount}}:parameter/{name}"
                ));
            }
        }
    }
    parameters.sort();
    parameters.dedup();
    secrets.sort();
    secrets.dedup();
    let mut statements = Vec::new();
    if !parameters.is_empty() {
        statements.push(serde_json::json!({"Effect": "Allow", "Action": ["ssm:GetParameters"], "Resource": parameters}));
    }
    if !secrets.is_empty() {
        statements.push(serde_json::json!({"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": secrets}));
    }
    if statements.is_empty() {
        return None;
    }
    Some(serde_json::json!({"Version": "2012-10-17", "Statement": statements}).to_string())
}

/// The file's own environment plus `<CALLEE>_URL` for every service that lists this one as a caller.
pub fn environment_for(t: &Topology, svc: &str) -> BTreeMap<String, String> {
    let mut env = t
        .services
        .get(svc)
        .map(|s| s.environment.clone())
        .unwrap_or_default();
    for (callee, spec) in &t.services {
        if spec.allowed_callers.iter().any(|c| c == svc) {
            env.insert(
                topology::env_var_for(callee),
                format!("http://{callee}.{}:{}", t.discovery.namespace, spec.port),
            );
        }
    }
    env
}

fn routed_from_load_balancer(t: &Topology, svc: &str) -> bool {
    t.load_balancer
        .as_ref()
        .is_some_and(|lb| lb.routes.iter().any(|r| r.service == svc))
}

fn expand_edge(d: &mut Desired, t: &Topology, vpc: &ResourceId, network: &Network) {
    let Some(lb) = &t.load_balancer else { return };
    let stack = t.name.as_str();
    d.insert(
        ids::ALB,
        Resource::LoadBalancer(LoadBalancer {
            name: names::load_balancer(stack),
            internal: false,
            subnets: network
                .public_subnets
                .iter()
                .cloned()
                .map(Ref::Id)
                .collect(),
            security_groups: vec![Ref::id(ids::ALB_GROUP)],
        }),
    );
    for (svc, spec) in &t.services {
        if routed_from_load_balancer(t, svc) {
            d.insert(
                ids::target_group(svc),
                Resource::TargetGroup(TargetGroup {
                    // The port is in the name: a new port makes a new group beside the old one.
                    name: topology::derived_target_group_name(
                        stack,
                        &format!("{svc}-{}", spec.port),
                    ),
                    vpc: Ref::Id(vpc.clone()),
                    port: spec.port,
                    health_check_path: spec.health_check.clone().unwrap_or_else(|| "/".into()),
                }),
            );
        }
    }
    for listener in &lb.listeners {
        let protocol = match listener.protocol {
            ListenerProtocol::Http => "HTTP",
            ListenerProtocol::Https => "HTTPS",
        };
        let default_action = match listener.redirect_to {
            Some(port) => ListenerAction::Redirect {
                port,
                protocol: "HTTPS".into(),
            },
            None => ListenerAction::FixedResponse { status: 404 },
        };
        let listener_id = d.insert(
            ids::listener(listener.port),
            Resource::Listener(Listener {
                load_balancer: Ref::id(ids::ALB),
                port: listener.port,
                protocol: protocol.into(),
                certificate_arn: listener.certificate_arn.clone(),
                default_action,
            }),
        );
        if listener.redirect_to.is_some() {
            continue;
        }
        for (i, route) in lb.routes.iter().enumerate() {
            d.insert(
                ids::listener_rule(listener.port, i),
                Resource::ListenerRule(ListenerRule {
                    listener: Ref::Id(listener_id.clone()),
                    priority: u32::try_from(i + 1).unwrap_or(u32::MAX),
                    path_patterns: vec![route.path.clone()],
                    methods: route.methods.clone().unwrap_or_default(),
                    target_group: Ref::id(ids::target_group(&route.service)),
                }),
            );
        }
    }
}
