//! Pure plan tests: expand, diff, schedule and the rendered plan (insta snapshots).

use ecsform::desired::expand;
use ecsform::model::{Desired, Observed, ObservedResource};
use ecsform::plan::diff::{diff, forces_replacement};
use ecsform::plan::render::{reachability_changes, render_text};
use ecsform::plan::schedule::{schedule, OpKind, Schedule};
use ecsform::plan::{Action, Reason, ReasonCode};
use ecsform::topology::{parse_str, Topology};

const EXAMPLE: &str = include_str!("../topology.example.yaml");

fn topology(src: &str) -> Topology {
    parse_str(src, "t.yaml")
        .map_err(|e| e.to_string())
        .expect("valid topology")
        .topology
}

/// What AWS would report after a perfect apply of `desired`.
fn as_observed(desired: &Desired) -> Observed {
    let mut o = Observed::default();
    for (id, r) in &desired.resources {
        o.resources.insert(
            id.clone(),
            ObservedResource {
                id: id.clone(),
                resource: r.clone(),
                physical_id: format!("aws-{id}"),
            },
        );
    }
    o
}

fn edited(f: impl Fn(&str) -> String) -> Topology {
    topology(&f(EXAMPLE))
}

#[test]
fn create_all_plan() {
    let desired = expand(&topology(EXAMPLE), "us-east-1");
    let plan = diff("shop", "us-east-1", &desired, &Observed::default());
    assert!(plan.steps.iter().all(|s| s.action == Action::Create));
    assert_eq!(plan.steps.len(), desired.resources.len());
    insta::assert_snapshot!("create_all", render_text(&plan));
}

#[test]
fn no_changes_plan_is_empty() {
    let desired = expand(&topology(EXAMPLE), "us-east-1");
    let plan = diff("shop", "us-east-1", &desired, &as_observed(&desired));
    assert!(plan.is_empty());
    insta::assert_snapshot!("no_changes", render_text(&plan));
}

#[test]
fn update_plan_changes_in_place() {
    let before = expand(&topology(EXAMPLE), "us-east-1");
    let after = expand(
        &edited(|s| {
            s.replace("allowed_callers: [api-gateway, order-service, api_gateway]", "allowed_callers: [api-gateway, api_gateway]")
                .replacen("desired_count: 2\n    health_check: /health\n    allowed_callers: [api-gateway]\n  product", "desired_count: 3\n    health_check: /health\n    allowed_callers: [api-gateway]\n  product", 1)
        }),
        "us-east-1",
    );
    let plan = diff("shop", "us-east-1", &after, &as_observed(&before));
    let summary: Vec<(String, Action)> = plan
        .steps
        .iter()
        .map(|s| (s.id.to_string(), s.action))
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "sg.svc.product-service.from.sg.svc.order-service".to_string(),
                Action::Delete
            ),
            ("taskdef.order-service".to_string(), Action::Update),
            ("service.order-service".to_string(), Action::Update),
            ("service.user-service".to_string(), Action::Update),
        ]
    );
    assert_eq!(
        reachability_changes(&plan),
        vec!["- order-service → product-service:3002 no longer allowed"]
    );
    insta::assert_snapshot!("update", render_text(&plan));
}

#[test]
fn replace_plan_names_the_forcing_field() {
    let before = expand(&topology(EXAMPLE), "us-east-1");
    // A new port: rules are immutable in AWS (replaced), the caller's URL changes (new revision).
    let after = expand(
        &edited(|s| s.replace("port: 3001", "port: 3101")),
        "us-east-1",
    );
    let plan = diff("shop", "us-east-1", &after, &as_observed(&before));
    let rule = plan
        .step("sg.svc.user-service.from.sg.svc.api-gateway")
        .expect("rule step");
    assert_eq!(rule.action, Action::Replace);
    assert_eq!(rule.reason_texts(), vec!["port forces replacement"]);
    assert_eq!(
        plan.step("taskdef.api-gateway").map(|s| s.action),
        Some(Action::Update)
    );
    assert_eq!(
        plan.step("service.api-gateway").map(|s| s.action),
        Some(Action::Update)
    );
    assert!(
        plan.step("sg.svc.user-service").is_none(),
        "groups are never replaced for a port change"
    );
    insta::assert_snapshot!("replace", render_text(&plan));
}

#[test]
fn delete_plan_removes_a_service_and_its_edges() {
    let before = expand(&topology(EXAMPLE), "us-east-1");
    let after = expand(
        &edited(|s| {
            let start = s.find("  notification-service:").expect("service");
            s[..start].to_string()
        }),
        "us-east-1",
    );
    let plan = diff("shop", "us-east-1", &after, &as_observed(&before));
    let deleted: Vec<String> = plan
        .steps
        .iter()
        .filter(|s| s.action == Action::Delete)
        .map(|s| s.id.to_string())
        .collect();
    assert_eq!(
        deleted,
        vec![
            "sg.svc.notification-service",
            "sg.svc.notification-service.from.sg.svc.order-service",
            "log.notification-service",
            "namespace.service.notification-service",
            "taskdef.notification-service",
            "service.notification-service",
        ]
    );
    // Each delete says why in words: the service went; the log group says its logs go too.
    for id in &deleted {
        let reasons = plan.step(id).expect("step").reason_texts();
        assert_eq!(
            reasons.first().copied(),
            Some("service `notification-service` removed from the topology"),
            "{id}"
        );
    }
    assert!(plan
        .step("log.notification-service")
        .is_some_and(|s| s.reasons.contains(&Reason::new(
            ReasonCode::DataLoss,
            "DATA LOSS: its logs are deleted with it"
        ))));
    // order-service loses NOTIFICATION_SERVICE_URL: a new revision.
    assert_eq!(
        plan.step("taskdef.order-service").map(|s| s.action),
        Some(Action::Update)
    );
    insta::assert_snapshot!("delete", render_text(&plan));
}

#[test]
fn destroy_order_deletes_every_resource_after_everything_that_points_at_it() {
    let desired = expand(&topology(EXAMPLE), "us-east-1");
    let observed = as_observed(&desired);
    let nothing = Desired::default();
    let plan = diff("shop", "us-east-1", &nothing, &observed);
    let s = schedule(&plan, &nothing, &observed).expect("acyclic");
    let mut position = std::collections::BTreeMap::new();
    for (w, ops) in s.waves().iter().enumerate() {
        for &o in ops {
            position.insert(s.ops[o].id.to_string(), w);
        }
    }
    let deleted_with: std::collections::BTreeMap<String, String> = s
        .ops
        .iter()
        .filter_map(|o| Some((o.id.to_string(), o.deleted_with.as_ref()?.to_string())))
        .collect();
    for (id, r) in &desired.resources {
        for dep in r.dependencies() {
            if deleted_with.get(id.as_str()) == Some(&dep.to_string()) {
                // DeleteRestApi takes its resources, methods and stages along: done after it.
                assert!(
                    position[id.as_str()] > position[dep.as_str()],
                    "{id} goes with {dep}"
                );
                continue;
            }
            assert!(
                position[id.as_str()] < position[dep.as_str()],
                "{id} must be deleted before {dep}"
            );
        }
    }
    // Every part of the REST API goes with it, and its VPC link only after it.
    assert_eq!(deleted_with.values().filter(|p| *p == "api").count(), 6);
    assert!(position["api"] < position["vpc-link"]);
    // DESIGN §4 in words.
    assert!(position["service.api-gateway"] < position["namespace.service.api-gateway"]);
    assert!(position["namespace.service.api-gateway"] < position["namespace"]);
    assert!(position["alb"] < position["sg.alb"]);
    assert!(position["nat.1"] < position["eip.nat.1"]);
    assert!(position["service.user-service"] < position["sg.svc.user-service"]);
    assert_eq!(position["vpc"], s.waves().len() - 1, "the VPC goes last");
}

#[test]
fn creation_waves_follow_references_and_run_independent_chains_together() {
    let desired = expand(&topology(EXAMPLE), "us-east-1");
    let plan = diff("shop", "us-east-1", &desired, &Observed::default());
    let s = schedule(&plan, &desired, &Observed::default()).expect("acyclic");
    let waves = s.waves();
    assert!(waves[0].iter().any(|&o| s.ops[o].id.as_str() == "vpc"));
    for (i, op) in s.ops.iter().enumerate() {
        assert_eq!(op.kind, OpKind::Create);
        for &b in &s.after[i] {
            assert!(
                waves.iter().position(|w| w.contains(&b))
                    < waves.iter().position(|w| w.contains(&i))
            );
        }
    }
    // vpc → subnet → nat → route table → ... : a handful of waves, not one per resource.
    assert!(waves.len() <= 8, "{} waves", waves.len());
    insta::assert_snapshot!(
        "create_waves",
        waves
            .iter()
            .enumerate()
            .map(|(w, ops)| format!(
                "{w}: {}",
                ops.iter()
                    .map(|&o| s.ops[o].id.to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            ))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn replacement_table() {
    use ecsform::model::Kind::*;
    let table = [
        (Vpc, "cidr", true),
        (Vpc, "name", false),
        (Subnet, "cidr", true),
        (Subnet, "availability_zone", true),
        (SecurityGroup, "description", true),
        (IngressRule, "port", true),
        (IngressRule, "source", true),
        (IngressRule, "description", false),
        (RouteTable, "subnets", false),
        (RouteTable, "default_route", false),
        (TaskDefinition, "image", false),
        (EcsService, "desired_count", false),
        (EcsService, "name", true),
        (TargetGroup, "health_check_path", false),
        (TargetGroup, "port", true),
        (Listener, "certificate_arn", false),
        (ListenerRule, "path_patterns", false),
        (DiscoveryService, "ttl", false),
        (Namespace, "name", true),
        (Role, "inline_policy", false),
    ];
    for (kind, field, replace) in table {
        assert_eq!(forces_replacement(kind, field), replace, "{kind:?}.{field}");
    }
}

#[test]
fn environment_urls_reach_only_declared_callers() {
    let t = topology(EXAMPLE);
    let env = |svc: &str| ecsform::desired::environment_for(&t, svc);
    let urls = |svc: &str| {
        env(svc)
            .into_iter()
            .filter(|(k, _)| k.ends_with("_URL"))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        urls("api-gateway"),
        vec![
            (
                "ORDER_SERVICE_URL".to_string(),
                "http://order-service.internal:3003".to_string()
            ),
            (
                "PRODUCT_SERVICE_URL".to_string(),
                "http://product-service.internal:3002".to_string()
            ),
            (
                "USER_SERVICE_URL".to_string(),
                "http://user-service.internal:3001".to_string()
            ),
        ]
    );
    assert_eq!(
        urls("order-service"),
        vec![
            (
                "NOTIFICATION_SERVICE_URL".to_string(),
                "http://notification-service.internal:3004".to_string()
            ),
            (
                "PRODUCT_SERVICE_URL".to_string(),
                "http://product-service.internal:3002".to_string()
            ),
        ]
    );
    for svc in ["user-service", "product-service", "notification-service"] {
        assert!(urls(svc).is_empty(), "{svc} got {:?}", urls(svc));
    }
    assert_eq!(
        env("api-gateway").get("LOG_LEVEL").map(String::as_str),
        Some("info")
    );
}

#[test]
fn secrets_policy_grants_exactly_the_declared_parameters() {
    let t = topology(&EXAMPLE.replace(
        "environment: {LOG_LEVEL: info}",
        "environment: {LOG_LEVEL: info}\n    secrets: {DB_PASSWORD: /shop/db/password, API_KEY: \"arn:aws:secretsmanager:us-east-1:123456789012:secret:k\"}",
    ));
    let policy = ecsform::desired::secrets_policy(&t, "us-east-1").expect("policy");
    let v: serde_json::Value = serde_json::from_str(&policy).expect("json");
    let statements = v["Statement"].as_array().expect("statements");
    assert_eq!(statements.len(), 2);
    assert_eq!(statements[0]["Action"][0], "ssm:GetParameters");
    assert_eq!(
        statements[0]["Resource"][0],
        "arn:aws:ssm:us-east-1:${aws:PrincipalAccount}:parameter/shop/db/password"
    );
    assert_eq!(
        statements[1]["Resource"][0],
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:k"
    );
    assert!(ecsform::desired::secrets_policy(&topology(EXAMPLE), "us-east-1").is_none());
}

#[test]
fn a_new_port_for_a_routed_service_creates_the_new_target_group_before_deleting_the_old() {
    let before = expand(&topology(EXAMPLE), "us-east-1");
    let after = expand(
        &edited(|s| s.replace("port: 3000", "port: 3100")),
        "us-east-1",
    );
    let observed = as_observed(&before);
    let plan = diff("shop", "us-east-1", &after, &observed);
    assert_eq!(
        plan.step("tg.api-gateway").map(|s| s.action),
        Some(Action::Replace)
    );
    let s = schedule(&plan, &after, &observed).expect("acyclic");
    let op = |id: &str, kind: OpKind| op_index(&s, id, kind);
    let waits_for = |later: usize, earlier: usize| waits_for(&s, later, earlier);
    let (new_tg, old_tg) = (
        op("tg.api-gateway", OpKind::Create),
        op("tg.api-gateway", OpKind::Delete),
    );
    let service = op("service.api-gateway", OpKind::Update);
    let rule = op("alb.listener.80.rule.1", OpKind::Update);
    assert!(
        waits_for(service, new_tg) && waits_for(rule, new_tg),
        "users move to the new group once it exists"
    );
    assert!(
        waits_for(old_tg, service) && waits_for(old_tg, rule),
        "the old group goes once nothing uses it"
    );
    // The rule on the gateway's group changes port: the new rule comes first, no gap.
    let (new_rule, old_rule) = (
        op("sg.svc.api-gateway.from.sg.alb", OpKind::Create),
        op("sg.svc.api-gateway.from.sg.alb", OpKind::Delete),
    );
    assert!(waits_for(old_rule, new_rule));
}

/// A run killed between creating the internet gateway and attaching it leaves it unattached:
/// the next plan attaches it in place; a gateway attached to another VPC is replaced.
#[test]
fn an_unattached_internet_gateway_is_attached_in_place_and_a_misattached_one_replaced() {
    use ecsform::model::{Ref, Resource};
    let desired = expand(&topology(EXAMPLE), "us-east-1");
    for (attached_to, expected) in [("", Action::Update), ("vpc-other", Action::Replace)] {
        let mut observed = as_observed(&desired);
        let igw = observed
            .resources
            .get_mut(&ecsform::model::ResourceId::new("igw"))
            .expect("igw");
        let Resource::InternetGateway(g) = &mut igw.resource else {
            panic!("igw is an internet gateway")
        };
        g.vpc = Ref::Unowned(attached_to.into());
        let plan = diff("shop", "us-east-1", &desired, &observed);
        assert_eq!(
            plan.step("igw").map(|s| s.action),
            Some(expected),
            "attached to {attached_to:?}"
        );
    }
}

/// The examples exercise every registered kind, so the live tests that apply them and require
/// an empty plan afterwards (`plan_right_after_apply_is_empty` for the example,
/// `via_alb_the_rest_api_reaches_an_internal_alb_through_a_v2_link` for the school example with
/// `via: alb`, the one kind a stack with the NLB cannot have) cover every kind's observer: a
/// kind observe does not find would be planned again.
#[test]
fn the_examples_contain_every_registered_kind() {
    let school_via_alb = include_str!("../topology.school.yaml")
        .replace("  stage: Test\n", "  stage: Test\n  via: alb\n");
    let mut kinds = std::collections::BTreeSet::new();
    for text in [
        EXAMPLE,
        school_via_alb.as_str(),
        include_str!("../topology.production.yaml"),
    ] {
        let d = expand(&topology(text), "us-east-1");
        kinds.extend(d.resources.values().map(|r| r.kind()));
    }
    for kind in ecsform::model::Kind::ALL {
        assert!(
            kinds.contains(kind),
            "no {kind} in the examples: extend an example (topology.example.yaml, topology.production.yaml) so the live tests cover it"
        );
    }
    assert!(
        !expand(&topology(EXAMPLE), "us-east-1")
            .resources
            .values()
            .any(|r| r.kind() == ecsform::model::Kind::VpcLinkV2)
            && kinds.contains(&ecsform::model::Kind::VpcLinkV2),
        "the V2 link comes from the school example with via: alb"
    );
}

/// A route removed from the REST API: its method and resource go, then a new deployment is
/// taken (after the deletions, or the snapshot would still serve them), then the stage moves to
/// it, then the old deployment goes. A plan with no API change takes no new deployment.
#[test]
fn a_removed_route_is_deleted_before_the_new_deployment_the_stage_moves_to() {
    let before = expand(&topology(EXAMPLE), "us-east-1");
    let observed = as_observed(&before);
    assert!(
        diff("shop", "us-east-1", &before, &observed).is_empty(),
        "no change, no deployment"
    );
    let after = expand(
        &edited(|s| {
            s.replace(
                "    - path: /products/{product_id}\n      methods: [GET]\n      service: product-service\n",
                "",
            )
        }),
        "us-east-1",
    );
    let plan = diff("shop", "us-east-1", &after, &observed);
    insta::assert_snapshot!("api_route_removed", render_text(&plan));
    let summary: Vec<(String, Action)> = plan
        .steps
        .iter()
        .map(|s| (s.id.to_string(), s.action))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("api/products/{product_id}".to_string(), Action::Delete),
            ("api/products/{product_id}.GET".to_string(), Action::Delete),
            ("api.deployment.current".to_string(), Action::Replace),
            ("api.stage.prod".to_string(), Action::Update),
        ]
    );
    let s = schedule(&plan, &after, &observed).expect("acyclic");
    let op = |id: &str, kind: OpKind| op_index(&s, id, kind);
    let new_deployment = op("api.deployment.current", OpKind::Create);
    let old_deployment = op("api.deployment.current", OpKind::Delete);
    let stage = op("api.stage.prod", OpKind::Update);
    for gone in [
        op("api/products/{product_id}.GET", OpKind::Delete),
        op("api/products/{product_id}", OpKind::Delete),
    ] {
        assert!(
            s.after[new_deployment].contains(&gone),
            "the snapshot is taken after the deletion"
        );
    }
    assert!(s.after[stage].contains(&new_deployment));
    assert!(s.after[old_deployment].contains(&stage));
}

/// The seed-002/003 example: only the REST API's front door, least privilege from the NLB.
#[test]
fn the_school_example_builds_only_the_api_front_door() {
    let d = expand(
        &topology(include_str!("../topology.school.yaml")),
        "us-east-1",
    );
    let ids: std::collections::BTreeSet<&str> = d.resources.keys().map(|id| id.as_str()).collect();
    for want in [
        "nlb",
        "sg.nlb",
        "nlb.listener.8080",
        "nlb.listener.8081",
        "tg.nlb.students",
        "tg.nlb.subjects",
        "vpc-link",
        "api",
        "api/student",
        "api/student/{student_id}",
        "api/student.GET",
        "api/student.POST",
        "api/subject/{subject_id}.GET",
        "api.deployment.current",
        "api.stage.Test",
    ] {
        assert!(ids.contains(want), "{want} missing: {ids:?}");
    }
    assert!(!ids.contains("alb") && !ids.contains("sg.alb"), "no ALB");
    let rules: Vec<&str> = d
        .resources
        .iter()
        .filter(|(_, r)| r.kind() == ecsform::model::Kind::IngressRule)
        .map(|(id, _)| id.as_str())
        .collect();
    assert_eq!(
        rules,
        vec!["sg.svc.students.from.sg.nlb", "sg.svc.subjects.from.sg.nlb"],
        "the NLB's group may reach the routed services, and nothing else exists"
    );
}

const PRODUCTION: &str = include_str!("../topology.production.yaml");

/// A health check on its own port: the target group checks that port, and the service's group
/// admits it from the load balancer's group beside the traffic port; nobody else gets it.
#[test]
fn a_health_check_on_its_own_port_is_checked_there_and_admitted_from_the_load_balancer_only() {
    use ecsform::model::{Resource, RuleSource};
    let d = expand(&topology(PRODUCTION), "us-east-1");
    let group_of = |id: &str| match d.resources.get(&ecsform::model::ResourceId::new(id)) {
        Some(Resource::TargetGroup(g)) => (g.health_check_path.clone(), g.health_check_port),
        other => panic!("{id}: {other:?}"),
    };
    assert_eq!(
        group_of("tg.nlb.students"),
        ("/actuator/health".to_string(), Some(8081))
    );
    assert_eq!(
        group_of("tg.nlb.subjects"),
        ("/subject/health".to_string(), None),
        "a path alone is checked on the traffic port"
    );
    let mut into_students: Vec<(u16, String)> = d
        .resources
        .values()
        .filter_map(|r| match r {
            Resource::IngressRule(rule) if rule.group.to_string() == "sg.svc.students" => {
                match &rule.source {
                    RuleSource::Group(g) => Some((rule.port, g.to_string())),
                    RuleSource::Cidr(c) => Some((rule.port, c.clone())),
                }
            }
            _ => None,
        })
        .collect();
    into_students.sort();
    assert_eq!(
        into_students,
        vec![(8080, "sg.nlb".to_string()), (8081, "sg.nlb".to_string())]
    );
    // Moving the check to the traffic port changes the group in place and drops the rule.
    let before = as_observed(&d);
    let after = expand(
        &topology(&PRODUCTION.replace(
            "{path: /actuator/health, port: 8081}",
            "{path: /actuator/health}",
        )),
        "us-east-1",
    );
    let plan = diff("campus", "us-east-1", &after, &before);
    let actions: Vec<(String, Action)> = plan
        .steps
        .iter()
        .map(|s| (s.id.to_string(), s.action))
        .collect();
    assert_eq!(
        actions,
        vec![
            (
                "sg.svc.students.from.sg.nlb.8081".to_string(),
                Action::Delete
            ),
            ("tg.nlb.students".to_string(), Action::Update),
        ]
    );
}

/// RDS cannot shrink storage: the plan says so on the step, and `apply` refuses the whole plan
/// before changing anything (the in-memory cloud sees no write).
#[test]
fn a_database_storage_shrink_is_refused_in_the_plan() {
    let before = expand(
        &topology(&PRODUCTION.replace("storage_gb: 20", "storage_gb: 30")),
        "us-east-1",
    );
    let after = expand(&topology(PRODUCTION), "us-east-1");
    let plan = diff("campus", "us-east-1", &after, &as_observed(&before));
    let step = plan.step("db.campus-db").expect("a database step");
    assert_eq!(step.action, Action::Update);
    assert!(
        step.reason_texts()
            .iter()
            .any(|r| r.starts_with("REFUSED: RDS cannot shrink storage (30 GiB to 20 GiB)")),
        "{:?}",
        step.reasons
    );
    let grown = diff(
        "campus",
        "us-east-1",
        &expand(
            &topology(&PRODUCTION.replace("storage_gb: 20", "storage_gb: 40")),
            "us-east-1",
        ),
        &as_observed(&before),
    );
    let step = grown.step("db.campus-db").expect("a database step");
    assert!(!step.reason_texts().iter().any(|r| r.starts_with("REFUSED")));
    // A replacement makes a new instance: any size is fine (only its deletion protection,
    // switched off here, could refuse it).
    let unprotected =
        |t: &str| t.replace("deletion_protection: true", "deletion_protection: false");
    let replaced = diff(
        "campus",
        "us-east-1",
        &expand(
            &topology(&unprotected(PRODUCTION).replace(
                "engine: mysql\n    version: \"8.0\"",
                "engine: postgres\n    version: \"16\"",
            )),
            "us-east-1",
        ),
        &as_observed(&expand(
            &topology(&unprotected(
                &PRODUCTION.replace("storage_gb: 20", "storage_gb: 30"),
            )),
            "us-east-1",
        )),
    );
    let step = replaced.step("db.campus-db").expect("a database step");
    assert_eq!(step.action, Action::Replace);
    assert!(step.refusal().is_none(), "{:?}", step.reasons);
    // RDS does not downgrade an engine.
    let older = diff(
        "campus",
        "us-east-1",
        &expand(&topology(PRODUCTION), "us-east-1"),
        &as_observed(&expand(
            &topology(&PRODUCTION.replace("version: \"8.0\"", "version: \"8.4\"")),
            "us-east-1",
        )),
    );
    let step = older.step("db.campus-db").expect("a database step");
    assert!(
        step.reason_texts()
            .iter()
            .any(|r| r.starts_with("REFUSED: RDS cannot downgrade mysql from 8.4 to 8.0")),
        "{:?}",
        step.reasons
    );
}

/// Deleting a repository: while it holds images the plan marks the delete REFUSED; with
/// `--delete-images` it is DATA LOSS; an empty repository needs neither. A database's delete
/// says its final snapshot is kept, or that deletion protection refuses it.
#[test]
fn deletes_say_what_they_lose_and_what_refuses_them() {
    use ecsform::model::Resource;
    let desired = expand(&topology(PRODUCTION), "us-east-1");
    let mut observed = as_observed(&desired);
    if let Some(Resource::EcrRepository(r)) = observed
        .resources
        .get_mut(&ecsform::model::ResourceId::new("ecr.students"))
        .map(|o| &mut o.resource)
    {
        r.holds_images = true;
    }
    let nothing = Desired::default();
    let reasons = |plan: &ecsform::plan::Plan, id: &str| {
        plan.step(id)
            .map(|s| {
                s.reason_texts()
                    .into_iter()
                    .map(String::from)
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    let plan = diff("campus", "us-east-1", &nothing, &observed);
    assert!(reasons(&plan, "ecr.students")
        .iter()
        .any(|r| r.starts_with("REFUSED: ECR repository campus-students still holds images")));
    assert_eq!(reasons(&plan, "ecr.subjects"), vec!["not in the topology"]);
    assert!(
        reasons(&plan, "db.campus-db")
            .iter()
            .any(|r| r
                .starts_with("REFUSED: DB instance campus-campus-db has deletion protection on"))
    );
    observed.delete_images_with_repositories();
    let plan = diff("campus", "us-east-1", &nothing, &observed);
    assert!(reasons(&plan, "ecr.students")
        .iter()
        .any(|r| r.starts_with("DATA LOSS: its images are deleted with it")));
    assert_eq!(reasons(&plan, "ecr.subjects"), vec!["not in the topology"]);
    let unprotected = expand(
        &topology(&PRODUCTION.replace("deletion_protection: true", "deletion_protection: false")),
        "us-east-1",
    );
    let plan = diff("campus", "us-east-1", &nothing, &as_observed(&unprotected));
    assert!(reasons(&plan, "db.campus-db").contains(&"a final snapshot is kept".to_string()));
}

/// `destroy` and `plan --destroy` word every step as a destroy, not as "not in the topology".
#[test]
fn a_destroy_plan_says_will_be_destroyed() {
    let desired = expand(&topology(EXAMPLE), "us-east-1");
    let plan = ecsform::plan::diff::diff_destroy("shop", "us-east-1", &as_observed(&desired));
    assert_eq!(plan.steps.len(), desired.resources.len());
    assert!(plan
        .steps
        .iter()
        .all(|s| s.action == Action::Delete
            && s.reason_texts().first() == Some(&"will be destroyed")));
}

/// A new CIDR replaces the VPC: the plan flags the rebuild on the VPC's own step, naming the
/// flag that allows it.
#[test]
fn a_vpc_replacement_is_flagged_as_a_rebuild_that_needs_allow_replace() {
    let before = expand(&topology(EXAMPLE), "us-east-1");
    let after = expand(
        &edited(|s| s.replace("cidr: 10.0.0.0/16", "cidr: 10.1.0.0/16")),
        "us-east-1",
    );
    let plan = diff("shop", "us-east-1", &after, &as_observed(&before));
    let vpc = plan.step("vpc").expect("the VPC step");
    assert_eq!(vpc.action, Action::Replace);
    assert!(
        vpc.reason_texts().iter().any(|r| r
            .starts_with("REBUILD: everything in the VPC is rebuilt")
            && r.ends_with("apply refuses this without `--allow-replace vpc`")),
        "{:?}",
        vpc.reasons
    );
}

/// A new CIDR moves the whole network: everything that lives in the VPC is built in the new
/// one beside the old (under second names where names are unique in the region), the services
/// move to it in place, and only then is the old network torn down, so no step waits for one
/// that comes after it. The NAT gateway is the one gap: its address moves.
#[test]
fn a_new_cidr_builds_the_new_network_beside_the_old_and_moves_the_services() {
    use ecsform::kinds::ReplaceOrder;
    let before = expand(&topology(EXAMPLE), "us-east-1");
    let after = expand(
        &edited(|s| s.replace("cidr: 10.0.0.0/16", "cidr: 10.1.0.0/16")),
        "us-east-1",
    );
    let observed = as_observed(&before);
    let plan = diff("shop", "us-east-1", &after, &observed);
    let order = |id: &str| {
        let step = plan.step(id).unwrap_or_else(|| panic!("no step {id}"));
        (step.action, step.replacement.map(|r| r.order))
    };
    let create_first = (Action::Replace, Some(ReplaceOrder::CreateFirst));
    for id in [
        "vpc",
        "subnet.public.1",
        "subnet.private.2",
        "igw",
        "rtb.public",
        "sg.alb",
        "sg.svc.api-gateway",
        "sg.svc.product-service.from.sg.svc.api-gateway",
        "alb",
        "nlb",
        "tg.api-gateway",
        "tg.nlb.product-service",
        "alb.listener.80",
        "namespace",
        "namespace.service.user-service",
        "vpc-link",
    ] {
        assert_eq!(order(id), create_first, "{id}");
    }
    let nat = plan
        .steps
        .iter()
        .find(|s| s.kind == ecsform::model::Kind::NatGateway)
        .expect("a NAT gateway");
    assert_eq!(
        nat.replacement.map(|r| r.order),
        Some(ReplaceOrder::DeleteFirst)
    );
    for svc in [
        "api-gateway",
        "user-service",
        "product-service",
        "order-service",
        "notification-service",
    ] {
        assert_eq!(
            order(&format!("service.{svc}")),
            (Action::Update, None),
            "{svc}"
        );
    }
    // Names unique in the region: the new ones take the second name.
    let name_of = |id: &str| match plan.step(id).and_then(|s| s.after.as_ref()) {
        Some(ecsform::model::Resource::LoadBalancer(lb)) => lb.name.clone(),
        Some(ecsform::model::Resource::TargetGroup(tg)) => tg.name.clone(),
        other => panic!("{id}: {other:?}"),
    };
    assert_eq!(name_of("alb"), "shop-alb-2");
    assert_eq!(name_of("tg.api-gateway"), "shop-api-gateway-3000-2");

    let s = schedule(&plan, &after, &observed).expect("acyclic");
    let op = |id: &str, kind: OpKind| op_index(&s, id, kind);
    let waits_for = |later: usize, earlier: usize| waits_for(&s, later, earlier);
    let service = op("service.api-gateway", OpKind::Update);
    for new in [
        "subnet.private.1",
        "sg.svc.api-gateway",
        "tg.api-gateway",
        "alb.listener.80",
    ] {
        assert!(
            waits_for(service, op(new, OpKind::Create)),
            "the move waits for the new {new}"
        );
        assert!(
            !waits_for(service, op(new, OpKind::Delete)),
            "the move never waits for the old {new} to go"
        );
    }
    for old in [
        "subnet.private.1",
        "sg.svc.api-gateway",
        "tg.api-gateway",
        "namespace.service.api-gateway",
        "vpc",
    ] {
        assert!(
            waits_for(op(old, OpKind::Delete), service),
            "the old {old} goes after the service moved"
        );
    }
    assert!(waits_for(
        op("tg.api-gateway", OpKind::Delete),
        op("alb.listener.80.rule.1", OpKind::Delete)
    ));
    assert!(waits_for(
        op("vpc", OpKind::Delete),
        op("igw", OpKind::Delete)
    ));
    // A second plan of the moved stack is empty: the second names are the file's resources.
    let mut moved = Observed::default();
    for step in &plan.steps {
        if let Some(r) = &step.after {
            moved.resources.insert(
                step.id.clone(),
                ObservedResource {
                    id: step.id.clone(),
                    resource: r.clone(),
                    physical_id: format!("new-{}", step.id),
                },
            );
        }
    }
    for (id, r) in &after.resources {
        moved
            .resources
            .entry(id.clone())
            .or_insert_with(|| ObservedResource {
                id: id.clone(),
                resource: r.clone(),
                physical_id: format!("aws-{id}"),
            });
    }
    let again = diff("shop", "us-east-1", &after, &moved);
    assert!(again.is_empty(), "{}", render_text(&again));
    insta::assert_snapshot!("vpc_move", render_text(&plan));
}

/// A subnet moved to a CIDR clear of every existing subnet is created before the old one goes,
/// so the services move without a gap; one that keeps its CIDR in another zone must go first,
/// and AWS does not delete it while tasks are in it: the plan refuses that, saying how to get
/// out, instead of an apply that retries until its timeout.
#[test]
fn a_subnet_is_moved_create_first_when_its_new_cidr_is_clear_and_refused_when_it_cannot_be() {
    use ecsform::kinds::ReplaceOrder;
    let before = expand(&topology(EXAMPLE), "us-east-1");
    let observed = as_observed(&before);

    let clear = expand(
        &edited(|s| {
            s.replace(
                "  nat_gateways: 1 ",
                "  public_subnets: [10.0.1.0/24, 10.0.2.0/24]\n  private_subnets: [10.0.11.0/24, 10.0.22.0/24]\n  nat_gateways: 1 ",
            )
        }),
        "us-east-1",
    );
    let plan = diff("shop", "us-east-1", &clear, &observed);
    let subnet = plan.step("subnet.private.2").expect("the moved subnet");
    assert_eq!(subnet.action, Action::Replace);
    assert_eq!(
        subnet.replacement.map(|r| r.order),
        Some(ReplaceOrder::CreateFirst)
    );
    assert!(
        plan.steps.iter().all(|s| s.refusal().is_none()),
        "{}",
        render_text(&plan)
    );
    assert_eq!(plan.step("subnet.private.1").map(|s| s.action), None);

    let same_cidr_elsewhere = expand(
        &edited(|s| {
            s.replace(
                "availability_zones: 2 ",
                "availability_zones: [us-east-1a, us-east-1c] ",
            )
        }),
        "us-east-1",
    );
    let plan = diff("shop", "us-east-1", &same_cidr_elsewhere, &observed);
    let subnet = plan.step("subnet.private.2").expect("the moved subnet");
    assert_eq!(
        subnet.replacement.map(|r| r.order),
        Some(ReplaceOrder::DeleteFirst)
    );
    let service = plan.step("service.api-gateway").expect("the service moves");
    let why = service.refusal().expect("refused");
    assert!(
        why.contains("subnet.private.2") && why.contains("a CIDR clear of every subnet"),
        "{why}"
    );
    insta::assert_snapshot!("subnet_refused", render_text(&plan));
}

/// With a last-applied record, what AWS changed behind ecsform's back is told apart from what
/// the file changed: a count scaled by hand and a rule added by hand are "changed outside
/// ecsform", a resource deleted by hand is one to create again, a new count in the file is the
/// file's.
#[test]
fn drift_is_listed_apart_from_the_files_changes() {
    use ecsform::model::Resource;
    let applied = expand(&topology(EXAMPLE), "us-east-1");
    let mut observed = as_observed(&applied);
    observed.last_applied = Some(
        applied
            .resources
            .iter()
            .map(|(id, r)| (id.clone(), ecsform::applied::fingerprint(r)))
            .collect(),
    );
    // By hand: user-service scaled to 5, a rule from anywhere, the log group of
    // notification-service deleted.
    let user = ecsform::model::ResourceId::new("service.user-service".to_string());
    if let Some(Resource::EcsService(s)) =
        observed.resources.get_mut(&user).map(|o| &mut o.resource)
    {
        s.desired_count = 5;
    }
    let rule_id =
        ecsform::model::ResourceId::new("sg.svc.user-service.3001.from.0.0.0.0/0".to_string());
    let hand_rule = observed
        .resources
        .values()
        .find_map(|o| match &o.resource {
            Resource::IngressRule(r)
                if o.id.as_str() == "sg.svc.user-service.from.sg.svc.api-gateway" =>
            {
                let mut r = r.clone();
                r.source = ecsform::model::RuleSource::Cidr("0.0.0.0/0".into());
                Some(r)
            }
            _ => None,
        })
        .expect("a rule to copy");
    observed.resources.insert(
        rule_id.clone(),
        ObservedResource {
            id: rule_id,
            resource: Resource::IngressRule(hand_rule),
            physical_id: "sgr-hand".into(),
        },
    );
    observed.resources.remove(&ecsform::model::ResourceId::new(
        "log.notification-service".to_string(),
    ));
    // In the file: order-service to 3.
    let desired = expand(
        &edited(|s| {
            s.replacen("desired_count: 2\n    health_check: /health\n    allowed_callers: [api-gateway]\n    task_role", "desired_count: 3\n    health_check: /health\n    allowed_callers: [api-gateway]\n    task_role", 1)
        }),
        "us-east-1",
    );
    let plan = diff("shop", "us-east-1", &desired, &observed);
    let drift: Vec<&str> = plan
        .steps
        .iter()
        .filter(|s| s.drift)
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(
        drift,
        vec![
            "sg.svc.user-service.3001.from.0.0.0.0/0",
            "log.notification-service",
            "service.user-service"
        ],
        "{}",
        render_text(&plan)
    );
    assert!(plan.step("service.order-service").is_some_and(|s| !s.drift));
    // Without a record nothing can be told apart: no step is drift.
    observed.last_applied = None;
    assert!(diff("shop", "us-east-1", &desired, &observed)
        .steps
        .iter()
        .all(|s| !s.drift));
    insta::assert_snapshot!("drift", render_text(&plan));
}

/// A database engine change replaces it: DATA LOSS on its own line, refused without the flag.
#[test]
fn a_database_replacement_is_marked_data_loss() {
    let before = expand(&topology(PRODUCTION), "us-east-1");
    let after = expand(
        &topology(
            &PRODUCTION
                .replacen("engine: mysql", "engine: postgres", 1)
                .replacen("version: \"8.0\"", "version: \"16\"", 1),
        ),
        "us-east-1",
    );
    let plan = diff("school", "us-east-1", &after, &as_observed(&before));
    let db = plan
        .steps
        .iter()
        .find(|s| s.kind == ecsform::model::Kind::DbInstance)
        .expect("the database");
    assert_eq!(db.action, Action::Replace);
    assert!(
        db.reason_texts()
            .iter()
            .any(|r| r.starts_with("DATA LOSS: the new database starts empty")),
        "{:?}",
        db.reasons
    );
    let text = render_text(&plan);
    let db_lines: String = text
        .lines()
        .skip_while(|l| !l.contains("(db_instance)"))
        .take_while(|l| {
            !l.contains("(dns_namespace)") && !l.contains("(ecs_cluster)")
                || l.contains("(db_instance)")
        })
        .collect::<Vec<_>>()
        .join("\n");
    insta::assert_snapshot!("database_replaced", db_lines);
}

/// A service renamed with `renamed_from` keeps its log group (and logs) under the old name;
/// everything else is made again under the new one, and the deletes say it was renamed, not
/// removed. Without `renamed_from` the log group goes too, marked DATA LOSS.
#[test]
fn a_renamed_service_keeps_its_logs_and_says_so() {
    let before = expand(&topology(EXAMPLE), "us-east-1");
    let rename = |with: &str| {
        expand(
            &edited(|s| s.replace("  user-service:\n", &format!("  accounts:\n{with}"))),
            "us-east-1",
        )
    };
    let after = rename("    renamed_from: user-service\n");
    let plan = diff("shop", "us-east-1", &after, &as_observed(&before));
    assert!(
        plan.step("log.user-service").is_none(),
        "the log group is kept:\n{}",
        render_text(&plan)
    );
    let service = plan
        .step("service.user-service")
        .expect("the old service goes");
    assert_eq!(service.action, Action::Delete);
    assert!(
        service.reasons[0].code == ReasonCode::ServiceRenamed
            && service.reasons[0]
                .text
                .starts_with("service `user-service` renamed to `accounts`"),
        "{:?}",
        service.reasons
    );
    assert_eq!(
        plan.step("service.accounts").map(|s| s.action),
        Some(Action::Create)
    );
    insta::assert_snapshot!("rename", render_text(&plan));

    let plain = rename("");
    let plan = diff("shop", "us-east-1", &plain, &as_observed(&before));
    let logs = plan
        .step("log.user-service")
        .expect("without renamed_from the logs go");
    assert!(
        logs.reason_texts()
            .iter()
            .any(|r| r.starts_with("DATA LOSS")),
        "{:?}",
        logs.reasons
    );
}

/// The index of the operation `kind` on `id` in the schedule.
fn op_index(s: &Schedule, id: &str, kind: OpKind) -> usize {
    s.ops
        .iter()
        .position(|o| o.id.as_str() == id && o.kind == kind)
        .unwrap_or_else(|| panic!("no {kind:?} {id}"))
}

/// Whether operation `later` waits, directly or through others, for operation `earlier`.
fn waits_for(s: &Schedule, later: usize, earlier: usize) -> bool {
    let mut stack = vec![later];
    let mut seen = std::collections::BTreeSet::new();
    while let Some(o) = stack.pop() {
        if o == earlier {
            return true;
        }
        if seen.insert(o) {
            stack.extend(s.after[o].iter().copied());
        }
    }
    false
}
