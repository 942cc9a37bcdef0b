//! The compute pass: the Fargate cluster (Container Insights on), a task definition per service
//! (awsvpc, cpu, memory, port mapping, environment with the callee URLs, secrets, awslogs) and
//! an ECS service per service (private subnets, its own group, no public IP, its discovery
//! service, its target group if routed, circuit breaker with rollback, 50 % / 200 %).

use super::discovery::Discovery;
use super::identity::Identity;
use super::{ids, Network};
use crate::model::*;
use crate::names;
use crate::topology::{self, Topology};
use std::collections::BTreeMap;

pub(super) fn expand(
    d: &mut Desired,
    t: &Topology,
    region: &str,
    network: &Network,
    identity: &Identity,
    discovery: &Discovery,
) {
    let stack = t.name.as_str();
    let cluster = d.insert(
        ids::CLUSTER,
        Resource::Cluster(Cluster {
            name: names::cluster(stack),
            container_insights: true,
        }),
    );
    for (svc, spec) in &t.services {
        d.insert(
            ids::task_definition(svc),
            Resource::TaskDefinition(TaskDefinition {
                family: names::task_family(stack, svc),
                cpu: spec.cpu,
                memory: spec.memory,
                execution_role: Ref::Id(identity.execution_role.clone()),
                task_role: identity.task_roles.get(svc).cloned().map(Ref::Id),
                container_name: svc.clone(),
                image: match &spec.image {
                    topology::Image::Uri(uri) => ImageSource::Uri(uri.clone()),
                    topology::Image::Repository(r) => ImageSource::Repository {
                        repository: Ref::id(ids::repository(&r.repository)),
                        tag: r.tag.clone(),
                    },
                },
                port: spec.port,
                environment: environment_for(t, svc),
                secrets: spec.secrets.clone(),
                databases: super::data::links_for(t, svc),
                log_group: names::log_group(stack, spec.logs_name(svc)),
                log_region: region.to_string(),
            }),
        );
        // The container behind the load balancers; nothing when none sends it traffic.
        let mut target_groups = Vec::new();
        if routed_from_load_balancer(t, svc) {
            target_groups.push(Ref::id(ids::target_group(svc)));
        }
        if routed_from_api(t, svc) {
            target_groups.push(Ref::id(api_target_group(t, svc)));
        }
        let (container_name, container_port) = if target_groups.is_empty() {
            (String::new(), 0)
        } else {
            (svc.clone(), spec.port)
        };
        d.insert(
            ids::ecs_service(svc),
            Resource::EcsService(EcsService {
                name: names::ecs_service(stack, svc),
                cluster: Ref::Id(cluster.clone()),
                task_definition: Ref::id(ids::task_definition(svc)),
                desired_count: spec.desired_count,
                count_scaled: spec.autoscaling.is_some(),
                subnets: network
                    .private_subnets
                    .iter()
                    .cloned()
                    .map(Ref::Id)
                    .collect(),
                security_groups: vec![Ref::id(ids::service_group(svc))],
                assign_public_ip: false,
                registry: discovery.get(svc).cloned().map(Ref::Id),
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

pub(super) fn routed_from_load_balancer(t: &Topology, svc: &str) -> bool {
    t.load_balancer
        .as_ref()
        .is_some_and(|lb| lb.routes.iter().any(|r| r.service == svc))
}

/// Whether the REST API routes requests to `svc` (through the network load balancer).
pub(super) fn routed_from_api(t: &Topology, svc: &str) -> bool {
    t.api_gateway
        .as_ref()
        .is_some_and(|api| api.routes.iter().any(|r| r.service == svc))
}

/// The target group through which the REST API's load balancer reaches `svc`.
pub(super) fn api_target_group(t: &Topology, svc: &str) -> String {
    match t.api_gateway.as_ref().map(|a| a.via) {
        Some(topology::ApiVia::Alb) => ids::api_alb_target_group(svc),
        _ => ids::nlb_target_group(svc),
    }
}
