//! `outputs`: the load balancers' DNS names, the REST API's invoke URL, the databases'
//! endpoints (never a password), the repositories' URIs, the discovery names.

use super::*;

pub(super) async fn outputs_cmd(f: &FileArg, local: bool, json: bool) -> Result<ExitCode> {
    let t = load(f)?;
    let cloud = connect(&t, local).await?;
    let desired = expand(&t, cloud.region());
    let observed = crate::cloud::Cloud::observe(&cloud, &t.name, &desired)
        .await
        .context("reading the stack from AWS")?;
    if observed.resources.is_empty() {
        bail!(
            "stack `{}` has nothing in AWS ({}): there are no outputs; run `ecsform apply` first",
            t.name,
            cloud.region()
        );
    }
    let stage = t.api_gateway.as_ref().map(|a| a.stage.as_str());
    let mut outputs = cloud.outputs(&t.name, stage).await?;
    let databases: Vec<(String, String)> = t
        .databases
        .keys()
        .map(|k| (k.clone(), crate::names::database(&t.name, k)))
        .collect();
    let repositories: Vec<(String, String)> = t
        .repositories
        .keys()
        .map(|k| (k.clone(), crate::names::repository(&t.name, k)))
        .collect();
    outputs.extend(cloud.data_outputs(&databases, &repositories).await?);
    for (svc, spec) in &t.services {
        let host = format!("{svc}.{}", t.discovery.namespace);
        outputs.insert(
            format!("discovery_url.{svc}"),
            format!("http://{host}:{}", spec.port),
        );
        outputs.insert(format!("discovery.{svc}"), host);
    }
    if let (Some(lb), Some(dns)) = (
        &t.load_balancer,
        outputs.get("load_balancer_dns_name").cloned(),
    ) {
        for l in &lb.listeners {
            let https = l.certificate_arn.is_some();
            let url = match (https, l.port) {
                (false, 80) => format!("http://{dns}/"),
                (true, 443) => format!("https://{dns}/"),
                (false, p) => format!("http://{dns}:{p}/"),
                (true, p) => format!("https://{dns}:{p}/"),
            };
            outputs.insert(format!("load_balancer_url.{}", l.port), url);
        }
    }
    outputs.extend(ids(&observed));
    if json {
        println!("{}", serde_json::to_string_pretty(&outputs)?);
    } else {
        for (k, v) in &outputs {
            println!("{k} = {v}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The AWS ids people look up after an apply: the VPC, subnets, cluster, groups, services.
fn ids(observed: &crate::model::Observed) -> std::collections::BTreeMap<String, String> {
    use crate::desired::ids;
    let physical = |id: &str| {
        observed
            .resources
            .get(&crate::model::ResourceId::new(id))
            .map(|o| o.physical_id.clone())
    };
    let mut out = std::collections::BTreeMap::new();
    for (key, id) in [("vpc_id", ids::VPC), ("cluster_arn", ids::CLUSTER)] {
        if let Some(p) = physical(id) {
            out.insert(key.to_string(), p);
        }
    }
    for (key, prefix) in [
        ("public_subnet_ids", "subnet.public."),
        ("private_subnet_ids", "subnet.private."),
    ] {
        let subnets: Vec<String> = observed
            .resources
            .iter()
            .filter(|(k, _)| k.as_str().starts_with(prefix))
            .map(|(_, o)| o.physical_id.clone())
            .collect();
        if !subnets.is_empty() {
            out.insert(key.to_string(), subnets.join(","));
        }
    }
    for (id, o) in &observed.resources {
        let id = id.as_str();
        match o.resource.kind() {
            crate::model::Kind::SecurityGroup => {
                if let Some(svc) = id.strip_prefix("sg.svc.") {
                    out.insert(format!("security_group_id.{svc}"), o.physical_id.clone());
                }
            }
            crate::model::Kind::EcsService => {
                let svc = id.strip_prefix("service.").unwrap_or(id);
                out.insert(format!("service_arn.{svc}"), o.physical_id.clone());
            }
            _ => {}
        }
    }
    out
}
