//! `destroy`: delete everything the stack's tags claim, nothing else.

use super::apply::carry_out;
use super::*;

/// Everything of `destroy` after the lock is taken; any cloud.
pub async fn destroy_cmd<C: StackOps>(
    cloud: &C,
    t: &Topology,
    auto_approve: bool,
    parallelism: usize,
    halt: &Halt,
) -> Result<ExitCode> {
    // Reads are guided by what the file names; what is deleted is decided by tags alone.
    let hint = expand(t, cloud.region());
    let observed = until_halted(halt, async {
        cloud
            .observe(&t.name, &hint)
            .await
            .context("reading the stack from AWS")
    })
    .await?;
    let nothing = Desired::default();
    let plan = diff(&t.name, cloud.region(), &nothing, &observed);
    print!("{}", render_text(&plan));
    if !plan.is_empty() {
        until_halted(halt, confirm(auto_approve, "destroy")).await?;
        carry_out(cloud, &plan, &nothing, &observed, parallelism, halt).await?;
    }
    Ok(ExitCode::SUCCESS)
}
