//! `destroy`: delete everything the stack's tags claim, nothing else.

use super::apply::{carry_out, refuse_forbidden};
use super::*;

/// How `destroy` goes about it (its flags).
#[derive(Debug, Clone, Default)]
pub struct DestroyOptions {
    pub auto_approve: bool,
    pub parallelism: usize,
    /// Repositories holding images are deleted with them (`--delete-images`).
    pub delete_images: bool,
}

/// Everything of `destroy` after the lock is taken; any cloud.
pub async fn destroy_cmd<C: StackOps>(
    cloud: &C,
    t: &Topology,
    options: &DestroyOptions,
    halt: &Halt,
) -> Result<ExitCode> {
    // Reads are guided by what the file names; what is deleted is decided by tags alone.
    let hint = expand(t, cloud.region());
    let mut observed = until_halted(halt, async {
        cloud
            .observe(&t.name, &hint)
            .await
            .context("reading the stack from AWS")
    })
    .await?;
    if options.delete_images {
        observed.delete_images_with_repositories();
    }
    let nothing = Desired::default();
    let plan = diff_destroy(&t.name, cloud.region(), &observed);
    crate::ui::print_plan(&render_text(&plan));
    refuse_forbidden(&plan, &[])?;
    if !plan.is_empty() {
        until_halted(halt, confirm(options.auto_approve, "destroy")).await?;
        carry_out(cloud, &plan, &nothing, &observed, options.parallelism, halt).await?;
    }
    Ok(ExitCode::SUCCESS)
}
