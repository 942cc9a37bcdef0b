//! `force-unlock LOCK_ID`: remove a lock by its id, for people.

use super::*;

pub(super) async fn force_unlock_cmd(
    f: &FileArg,
    local: bool,
    id: &str,
    force: bool,
) -> Result<ExitCode> {
    let t = load(f)?;
    let cloud = connect(&t, local).await?;
    let confirmed = force
        || {
            let question = format!(
            "Remove lock {id} of stack `{}`? Any run still holding it would go on unprotected. Only 'yes' will be accepted: ",
            t.name
        );
            ask_yes(&question).await?
        };
    stack_lock::force_unlock(&cloud, &t.name, id, confirmed).await?;
    Ok(ExitCode::SUCCESS)
}
