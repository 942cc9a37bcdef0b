//! `audit`: the reachability AWS enforces, against the call graph (see `crate::audit`).

use super::*;
use crate::audit::{facts, paths, Audit};
use crate::cli::AuditFormat;
use crate::cloud::Cloud;
use crate::model::ResourceId;
use std::collections::BTreeSet;

pub(super) async fn audit_cmd(f: &FileArg, local: bool, format: AuditFormat) -> Result<ExitCode> {
    let t = load(f)?;
    let cloud = connect(&t, local).await?;
    let desired = expand(&t, cloud.region());
    let observed = cloud
        .observe(&t.name, &desired)
        .await
        .context("reading the stack from AWS")?;
    if observed.resources.is_empty() {
        bail!(
            "stack `{}` has nothing in AWS ({}): there is nothing to audit; run `ecsform apply` first",
            t.name,
            cloud.region()
        );
    }
    let (declared_parties, declared_rules) = facts(desired.resources.iter());
    let (live_parties, mut live_rules) =
        facts(observed.resources.iter().map(|(id, o)| (id, &o.resource)));
    // Groups attached by hand are not the stack's, so observe did not read their rules.
    let foreign: BTreeSet<String> = live_parties
        .iter()
        .flat_map(|p| p.groups.iter())
        .filter(|g| g.starts_with("sg-"))
        .cloned()
        .collect();
    let foreign_rules = cloud
        .rules_of_groups(&foreign)
        .await
        .context("reading the rules of groups attached by hand")?;
    let none = ResourceId::new("foreign");
    live_rules.extend(facts(foreign_rules.iter().map(|r| (&none, r))).1);
    let audit = Audit::new(
        &t.name,
        &paths(&declared_parties, &declared_rules),
        &paths(&live_parties, &live_rules),
    );
    match format {
        AuditFormat::Text => print!("{}", audit.text()),
        AuditFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&audit).context("rendering the audit")?
        ),
        AuditFormat::Mermaid => print!("{}", audit.mermaid()),
    }
    Ok(if audit.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
