//! Per-kind probes: how many resources of a kind carry `ecsform:stack=<stack>` in the emulator,
//! read straight through the SDK (never through ecsform's own observe), checking tags client
//! side because moto ignores some tag filters. Shared by the live, fault and resilience tests.
//! The match over `Kind` has no wildcard: a kind added to the registry without a probe does
//! not compile.

use super::Moto;
use aws_sdk_ec2::types::{NatGatewayState, Tag};
use ecsform::model::Kind;
use std::collections::BTreeMap;

/// Every registered kind, counted.
pub async fn tagged_counts(moto: &Moto, stack: &str) -> BTreeMap<Kind, usize> {
    let probe = Probe::new(moto, stack).await;
    let mut n = BTreeMap::new();
    for &kind in Kind::ALL {
        n.insert(kind, probe.count(kind).await);
    }
    n
}

struct Probe {
    stack: String,
    ec2: aws_sdk_ec2::Client,
    ecs: aws_sdk_ecs::Client,
    elb: aws_sdk_elasticloadbalancingv2::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
    iam: aws_sdk_iam::Client,
    cloudmap: aws_sdk_servicediscovery::Client,
    apigw: aws_sdk_apigateway::Client,
    apigw2: aws_sdk_apigatewayv2::Client,
    ecr: aws_sdk_ecr::Client,
    scaling: aws_sdk_applicationautoscaling::Client,
    cloudwatch: aws_sdk_cloudwatch::Client,
    rds: aws_sdk_rds::Client,
}

impl Probe {
    async fn new(moto: &Moto, stack: &str) -> Probe {
        let conf = moto.sdk_config().await;
        Probe {
            stack: stack.to_string(),
            ec2: aws_sdk_ec2::Client::new(&conf),
            ecs: aws_sdk_ecs::Client::new(&conf),
            elb: aws_sdk_elasticloadbalancingv2::Client::new(&conf),
            logs: aws_sdk_cloudwatchlogs::Client::new(&conf),
            iam: aws_sdk_iam::Client::new(&conf),
            cloudmap: aws_sdk_servicediscovery::Client::new(&conf),
            apigw: aws_sdk_apigateway::Client::new(&conf),
            apigw2: aws_sdk_apigatewayv2::Client::new(&conf),
            ecr: aws_sdk_ecr::Client::new(&conf),
            scaling: aws_sdk_applicationautoscaling::Client::new(&conf),
            cloudwatch: aws_sdk_cloudwatch::Client::new(&conf),
            rds: aws_sdk_rds::Client::new(&conf),
        }
    }

    fn ours(&self, tags: &[Tag]) -> bool {
        tags.iter()
            .any(|t| t.key() == Some("ecsform:stack") && t.value() == Some(self.stack.as_str()))
    }

    async fn count(&self, kind: Kind) -> usize {
        match kind {
            Kind::Vpc => {
                let o = self.ec2.describe_vpcs().send().await.expect("vpcs");
                o.vpcs().iter().filter(|v| self.ours(v.tags())).count()
            }
            Kind::Subnet => {
                let o = self.ec2.describe_subnets().send().await.expect("subnets");
                o.subnets().iter().filter(|v| self.ours(v.tags())).count()
            }
            Kind::InternetGateway => {
                let o = self
                    .ec2
                    .describe_internet_gateways()
                    .send()
                    .await
                    .expect("igws");
                o.internet_gateways()
                    .iter()
                    .filter(|v| self.ours(v.tags()))
                    .count()
            }
            Kind::ElasticIp => {
                let o = self.ec2.describe_addresses().send().await.expect("eips");
                o.addresses().iter().filter(|v| self.ours(v.tags())).count()
            }
            Kind::NatGateway => {
                let o = self.ec2.describe_nat_gateways().send().await.expect("nats");
                let gone = |s: Option<&NatGatewayState>| {
                    matches!(
                        s,
                        Some(NatGatewayState::Deleted | NatGatewayState::Deleting)
                    )
                };
                o.nat_gateways()
                    .iter()
                    .filter(|v| self.ours(v.tags()) && !gone(v.state()))
                    .count()
            }
            Kind::RouteTable => {
                let o = self.ec2.describe_route_tables().send().await.expect("rtbs");
                o.route_tables()
                    .iter()
                    .filter(|v| self.ours(v.tags()))
                    .count()
            }
            Kind::SecurityGroup => self.groups().await.len(),
            Kind::IngressRule => self
                .groups()
                .await
                .iter()
                .flat_map(|g| g.ip_permissions())
                .map(|p| {
                    p.user_id_group_pairs().len() + p.ip_ranges().len() + p.ipv6_ranges().len()
                })
                .sum(),
            Kind::Role => {
                let o = self
                    .iam
                    .list_roles()
                    .path_prefix(format!("/ecsform/{}/", self.stack))
                    .send()
                    .await
                    .expect("roles");
                o.roles().len()
            }
            Kind::LogGroup => {
                let o = self
                    .logs
                    .describe_log_groups()
                    .log_group_name_prefix(format!("/ecs/{}-", self.stack))
                    .send()
                    .await
                    .expect("log groups");
                let mut n = 0;
                for arn in o.log_groups().iter().filter_map(|g| g.arn()) {
                    let tags = self
                        .logs
                        .list_tags_for_resource()
                        .resource_arn(arn.trim_end_matches(":*"))
                        .send()
                        .await
                        .expect("log group tags");
                    n += usize::from(
                        tags.tags()
                            .and_then(|t| t.get("ecsform:stack"))
                            .is_some_and(|s| *s == self.stack),
                    );
                }
                n
            }
            Kind::Namespace => {
                let o = self
                    .cloudmap
                    .list_namespaces()
                    .send()
                    .await
                    .expect("namespaces");
                let mut n = 0;
                for ns in o.namespaces() {
                    let tags = self
                        .cloudmap
                        .list_tags_for_resource()
                        .resource_arn(ns.arn().unwrap_or_default())
                        .send()
                        .await
                        .expect("namespace tags");
                    n +=
                        usize::from(tags.tags().iter().any(|t| {
                            t.key() == "ecsform:stack" && t.value() == self.stack.as_str()
                        }));
                }
                n
            }
            Kind::DiscoveryService => {
                // Service summaries carry no tags: ecsform marks its services' description.
                let o = self
                    .cloudmap
                    .list_services()
                    .send()
                    .await
                    .expect("services");
                let marker = format!("ecsform stack {}", self.stack);
                o.services()
                    .iter()
                    .filter(|s| s.description() == Some(marker.as_str()))
                    .count()
            }
            Kind::Cluster => {
                let o = self
                    .ecs
                    .describe_clusters()
                    .clusters(&self.stack)
                    .send()
                    .await
                    .expect("clusters");
                o.clusters()
                    .iter()
                    .filter(|c| c.status() == Some("ACTIVE"))
                    .count()
            }
            Kind::TaskDefinition => {
                // One per family with an active revision (moto lists deregistered ones too).
                // (`familyPrefix` is an exact family name: list all, filter by family.)
                let o = self
                    .ecs
                    .list_task_definitions()
                    .send()
                    .await
                    .expect("task definitions");
                let prefix = format!(":task-definition/{}-", self.stack);
                let mut families = std::collections::BTreeSet::new();
                for arn in o
                    .task_definition_arns()
                    .iter()
                    .filter(|a| a.contains(&prefix))
                {
                    let d = self
                        .ecs
                        .describe_task_definition()
                        .task_definition(arn)
                        .send()
                        .await
                        .expect("task definition");
                    if let Some(td) = d.task_definition() {
                        if td.status().map(|s| s.as_str()) == Some("ACTIVE") {
                            families.insert(td.family().unwrap_or_default().to_string());
                        }
                    }
                }
                families.len()
            }
            Kind::EcsService => {
                let Ok(o) = self.ecs.list_services().cluster(&self.stack).send().await else {
                    return 0;
                };
                if o.service_arns().is_empty() {
                    return 0;
                }
                let d = self
                    .ecs
                    .describe_services()
                    .cluster(&self.stack)
                    .set_services(Some(o.service_arns().to_vec()))
                    .send()
                    .await
                    .expect("services");
                d.services()
                    .iter()
                    .filter(|s| s.status() == Some("ACTIVE"))
                    .count()
            }
            Kind::LoadBalancer => self.load_balancers().await.len(),
            Kind::TargetGroup => {
                let o = self.elb.describe_target_groups().send().await.expect("tgs");
                let arns: Vec<String> = o
                    .target_groups()
                    .iter()
                    .filter_map(|t| t.target_group_arn().map(String::from))
                    .collect();
                self.elb_owned(&arns).await
            }
            Kind::Listener => {
                let mut n = 0;
                for lb in self.load_balancers().await {
                    n += self.listeners(&lb).await.len();
                }
                n
            }
            Kind::ListenerRule => {
                let mut n = 0;
                for lb in self.load_balancers().await {
                    for listener in self.listeners(&lb).await {
                        let o = self
                            .elb
                            .describe_rules()
                            .listener_arn(listener)
                            .send()
                            .await
                            .expect("rules");
                        n += o
                            .rules()
                            .iter()
                            .filter(|r| r.is_default() != Some(true))
                            .count();
                    }
                }
                n
            }
            Kind::VpcLink => {
                let o = self.apigw.get_vpc_links().send().await.expect("vpc links");
                o.items().iter().filter(|l| self.api_ours(l.tags())).count()
            }
            Kind::VpcLinkV2 => {
                let o = self
                    .apigw2
                    .get_vpc_links()
                    .send()
                    .await
                    .expect("vpc links v2");
                o.items().iter().filter(|l| self.api_ours(l.tags())).count()
            }
            Kind::RestApi => self.rest_apis().await.len(),
            Kind::EcrRepository => {
                let o = self
                    .ecr
                    .describe_repositories()
                    .send()
                    .await
                    .expect("repositories");
                let mut n = 0;
                for arn in o.repositories().iter().filter_map(|r| r.repository_arn()) {
                    // Another test's stack may delete its repository meanwhile.
                    let tags = match self
                        .ecr
                        .list_tags_for_resource()
                        .resource_arn(arn)
                        .send()
                        .await
                    {
                        Ok(tags) => tags,
                        Err(e)
                            if e.as_service_error()
                                .is_some_and(|e| e.is_repository_not_found_exception()) =>
                        {
                            continue
                        }
                        Err(e) => panic!("repository tags: {e:?}"),
                    };
                    n +=
                        usize::from(tags.tags().iter().any(|t| {
                            t.key() == "ecsform:stack" && t.value() == self.stack.as_str()
                        }));
                }
                n
            }
            Kind::ApiResource | Kind::ApiMethod => {
                let mut n = 0;
                for api in self.rest_apis().await {
                    let o = self
                        .apigw
                        .get_resources()
                        .rest_api_id(&api)
                        .embed("methods")
                        .send()
                        .await
                        .expect("resources");
                    n += if kind == Kind::ApiResource {
                        o.items().iter().filter(|r| r.parent_id().is_some()).count()
                    } else {
                        o.items()
                            .iter()
                            .map(|r| r.resource_methods().map_or(0, |m| m.len()))
                            .sum()
                    };
                }
                n
            }
            Kind::ApiDeployment => {
                let mut n = 0;
                for api in self.rest_apis().await {
                    let o = self
                        .apigw
                        .get_deployments()
                        .rest_api_id(&api)
                        .send()
                        .await
                        .expect("deployments");
                    n += o.items().len();
                }
                n
            }
            Kind::ApiStage => {
                let mut n = 0;
                for api in self.rest_apis().await {
                    let o = self
                        .apigw
                        .get_stages()
                        .rest_api_id(&api)
                        .send()
                        .await
                        .expect("stages");
                    n += o.item().len();
                }
                n
            }
            Kind::DbInstance => {
                let o = self
                    .rds
                    .describe_db_instances()
                    .send()
                    .await
                    .expect("db instances");
                o.db_instances()
                    .iter()
                    .filter(|d| {
                        d.tag_list().iter().any(|t| {
                            t.key() == Some("ecsform:stack")
                                && t.value() == Some(self.stack.as_str())
                        })
                    })
                    .count()
            }
            Kind::DbSubnetGroup => {
                let o = self
                    .rds
                    .describe_db_subnet_groups()
                    .send()
                    .await
                    .expect("db subnet groups");
                let mut n = 0;
                // Only our names: another test's stack may delete its groups meanwhile.
                let ours = format!("{}-", self.stack);
                for arn in o
                    .db_subnet_groups()
                    .iter()
                    .filter(|g| {
                        g.db_subnet_group_name()
                            .is_some_and(|n| n.starts_with(&ours))
                    })
                    .filter_map(|g| g.db_subnet_group_arn())
                {
                    let tags = self
                        .rds
                        .list_tags_for_resource()
                        .resource_name(arn)
                        .send()
                        .await
                        .expect("subnet group tags");
                    n += usize::from(tags.tag_list().iter().any(|t| {
                        t.key() == Some("ecsform:stack") && t.value() == Some(self.stack.as_str())
                    }));
                }
                n
            }
            // Owned through the stack's cluster (`service/<cluster>/<service>`).
            Kind::ScalableTarget => {
                let o = self
                    .scaling
                    .describe_scalable_targets()
                    .service_namespace(aws_sdk_applicationautoscaling::types::ServiceNamespace::Ecs)
                    .send()
                    .await
                    .expect("scalable targets");
                let prefix = format!("service/{}/", self.stack);
                o.scalable_targets()
                    .iter()
                    .filter(|t| t.resource_id().starts_with(&prefix))
                    .count()
            }
            Kind::ScalingPolicy => {
                let o = self
                    .scaling
                    .describe_scaling_policies()
                    .service_namespace(aws_sdk_applicationautoscaling::types::ServiceNamespace::Ecs)
                    .send()
                    .await
                    .expect("scaling policies");
                let prefix = format!("service/{}/", self.stack);
                o.scaling_policies()
                    .iter()
                    .filter(|p| p.resource_id().starts_with(&prefix))
                    .count()
            }
            Kind::MetricAlarm => {
                let o = self
                    .cloudwatch
                    .describe_alarms()
                    .send()
                    .await
                    .expect("alarms");
                let mut n = 0;
                // Only our names: another test's stack may delete its alarms meanwhile.
                let ours = format!("{}-", self.stack);
                for arn in o
                    .metric_alarms()
                    .iter()
                    .filter(|a| a.alarm_name().is_some_and(|n| n.starts_with(&ours)))
                    .filter_map(|a| a.alarm_arn())
                {
                    let tags = self
                        .cloudwatch
                        .list_tags_for_resource()
                        .resource_arn(arn)
                        .send()
                        .await
                        .expect("alarm tags");
                    n += usize::from(tags.tags().iter().any(|t| {
                        t.key() == Some("ecsform:stack") && t.value() == Some(self.stack.as_str())
                    }));
                }
                n
            }
        }
    }

    fn api_ours(&self, tags: Option<&std::collections::HashMap<String, String>>) -> bool {
        tags.and_then(|t| t.get("ecsform:stack"))
            .is_some_and(|s| *s == self.stack)
    }

    /// The ids of the stack's REST APIs.
    async fn rest_apis(&self) -> Vec<String> {
        let o = self.apigw.get_rest_apis().send().await.expect("rest apis");
        o.items()
            .iter()
            .filter(|a| self.api_ours(a.tags()))
            .filter_map(|a| a.id().map(String::from))
            .collect()
    }

    async fn groups(&self) -> Vec<aws_sdk_ec2::types::SecurityGroup> {
        let o = self
            .ec2
            .describe_security_groups()
            .send()
            .await
            .expect("sgs");
        o.security_groups()
            .iter()
            .filter(|g| self.ours(g.tags()))
            .cloned()
            .collect()
    }

    /// How many of these ELB resources carry the stack's tag.
    async fn elb_owned(&self, arns: &[String]) -> usize {
        let mut n = 0;
        for arn in arns {
            let tags = self
                .elb
                .describe_tags()
                .resource_arns(arn)
                .send()
                .await
                .expect("elb tags");
            n += usize::from(
                tags.tag_descriptions()
                    .iter()
                    .flat_map(|d| d.tags())
                    .any(|t| {
                        t.key() == Some("ecsform:stack") && t.value() == Some(self.stack.as_str())
                    }),
            );
        }
        n
    }

    async fn load_balancers(&self) -> Vec<String> {
        let o = self
            .elb
            .describe_load_balancers()
            .send()
            .await
            .expect("lbs");
        let mut owned = Vec::new();
        for arn in o
            .load_balancers()
            .iter()
            .filter_map(|l| l.load_balancer_arn())
        {
            if self.elb_owned(&[arn.to_string()]).await == 1 {
                owned.push(arn.to_string());
            }
        }
        owned
    }

    async fn listeners(&self, lb: &str) -> Vec<String> {
        let o = self
            .elb
            .describe_listeners()
            .load_balancer_arn(lb)
            .send()
            .await
            .expect("listeners");
        o.listeners()
            .iter()
            .filter_map(|l| l.listener_arn().map(String::from))
            .collect()
    }
}

/// What the topology `text` asks for, per kind (every registered kind, zero when absent).
pub fn desired_counts(text: &str) -> BTreeMap<Kind, usize> {
    let t = ecsform::topology::parse_str(text, "t.yaml")
        .map_err(|e| e.to_string())
        .expect("valid topology")
        .topology;
    let d = ecsform::desired::expand(&t, "us-east-1");
    let mut n: BTreeMap<Kind, usize> = Kind::ALL.iter().map(|&k| (k, 0)).collect();
    for r in d.resources.values() {
        *n.entry(r.kind()).or_insert(0) += 1;
    }
    n
}
