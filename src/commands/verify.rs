//! `verify`: preflight checks against AWS, reads only (see `crate::verify`).

use super::*;
use crate::verify::{failed, table, wanted};

pub(super) async fn verify_cmd(f: &FileArg, local: bool, json: bool) -> Result<ExitCode> {
    let t = load(f)?;
    let cloud = connect(&t, local).await?;
    let checks = cloud.verify(&wanted(&t, cloud.region())).await;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&checks).context("rendering the checks")?
        );
    } else {
        print!("{}", table(&checks));
    }
    Ok(if failed(&checks) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
