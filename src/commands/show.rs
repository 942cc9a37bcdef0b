//! `show PLAN`: a saved plan, as `plan` printed it or as JSON. Reads only the file.

use super::*;
use crate::plan::document::PlanDocument;

pub(super) fn show_cmd(path: &Path, json: bool) -> Result<ExitCode> {
    let saved = apply::read_saved_plan(path)?;
    let document: &PlanDocument = &saved.document;
    if json {
        println!("{}", document.to_json());
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(source) = &document.topology {
        println!(
            "Saved plan of {} (SHA-256 {}){}; apply it with `ecsform apply {}`.\n",
            source.path,
            source.sha256.get(..12).unwrap_or(&source.sha256),
            document
                .created_at
                .as_deref()
                .map(|at| format!(", made {at}"))
                .unwrap_or_default(),
            path.display()
        );
    }
    crate::ui::print_plan(&render_text(&document.plan));
    Ok(ExitCode::SUCCESS)
}
