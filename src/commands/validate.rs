//! `validate`: offline parse, validate and lint.

use super::*;

pub(super) fn validate(f: &FileArg) -> Result<ExitCode> {
    let t = load(f)?;
    let d = expand(&t, t.region.as_deref().unwrap_or("us-east-1"));
    println!(
        "{} is valid: stack `{}`, {} services, {} resources.",
        f.path().display(),
        t.name,
        t.services.len(),
        d.resources.len()
    );
    Ok(ExitCode::SUCCESS)
}
