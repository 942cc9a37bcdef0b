//! `plan`: what apply would change; `--out` saves it, `--json` for machines.

use super::*;
use crate::plan::document::{PlanDocument, TopologySource};

/// How `plan` goes about it (its flags).
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    pub out: Option<std::path::PathBuf>,
    pub json: bool,
    pub detailed_exitcode: bool,
    pub delete_images: bool,
    /// What `destroy` would do (Terraform's `plan -destroy`).
    pub destroy: bool,
    /// Only the changes made outside ecsform (Terraform's `-refresh-only`, without a state to
    /// refresh: the file stays the truth, and `apply` puts these back).
    pub refresh_only: bool,
}

pub(super) async fn plan_cmd(f: &FileArg, local: bool, options: &PlanOptions) -> Result<ExitCode> {
    let t = load(f)?;
    let cloud = connect(&t, local).await?;
    let desired = expand(&t, cloud.region());
    let (plan, observed) = make_plan(&cloud, &t, &desired, options.delete_images).await?;
    let plan = if options.destroy {
        diff_destroy(&t.name, cloud.region(), &observed)
    } else if options.refresh_only {
        if observed.last_applied.is_none() {
            eprintln!("note: stack `{}` has no last-applied record yet (apply writes one): nothing can be told apart as changed outside ecsform", t.name);
        }
        let mut plan = plan;
        plan.steps.retain(|s| s.drift);
        plan
    } else {
        plan
    };
    let (json, out, detailed) = (
        options.json,
        options.out.as_deref(),
        options.detailed_exitcode,
    );
    let source = std::fs::read(f.path())
        .map(|bytes| TopologySource::of(f.path(), &bytes))
        .with_context(|| format!("reading {}", f.path().display()))?;
    let empty = plan.is_empty();
    let mut document = PlanDocument::new(plan, Some(source), options.delete_images);
    document.created_at =
        Some(humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string());
    if json {
        println!("{}", document.to_json());
    } else {
        crate::ui::print_plan(&render_text(&document.plan));
    }
    if let Some(path) = out {
        std::fs::write(path, document.to_json())
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!(
            "Saved the plan to {}; apply it with `ecsform apply {}`.",
            path.display(),
            path.display()
        );
    }
    Ok(if detailed && !empty {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
