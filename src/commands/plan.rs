//! `plan`: what apply would change; `--out` saves it, `--json` for machines.

use super::*;

pub(super) async fn plan_cmd(
    f: &FileArg,
    local: bool,
    out: Option<&Path>,
    json: bool,
    detailed: bool,
) -> Result<ExitCode> {
    let t = load(f)?;
    let cloud = connect(&t, local).await?;
    let desired = expand(&t, cloud.region());
    let (plan, _) = make_plan(&cloud, &t, &desired).await?;
    if json {
        println!("{}", render_json(&plan));
    } else {
        print!("{}", render_text(&plan));
    }
    if let Some(path) = out {
        std::fs::write(path, render_json(&plan))
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!(
            "Saved the plan to {}; apply it with `ecsform apply {}`.",
            path.display(),
            path.display()
        );
    }
    Ok(if detailed && !plan.is_empty() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
