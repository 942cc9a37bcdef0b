//! `outputs`: the load balancers' DNS names, the REST API's invoke URL, the databases'
//! endpoints (never a password), the repositories' URIs, the discovery names.

use super::*;

pub(super) async fn outputs_cmd(f: &FileArg, local: bool, json: bool) -> Result<ExitCode> {
    let t = load(f)?;
    let cloud = connect(&t, local).await?;
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
    for svc in t.services.keys() {
        outputs.insert(
            format!("discovery.{svc}"),
            format!("{svc}.{}", t.discovery.namespace),
        );
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&outputs)?);
    } else {
        for (k, v) in &outputs {
            println!("{k} = {v}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
