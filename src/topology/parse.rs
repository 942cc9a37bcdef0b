//! Reading a topology file: bytes → UTF-8 → serde → position index → validate → lint.
//! Every failure becomes a located `Diagnostic` with a hint; nothing here panics on input.

use super::diagnostic::{sort_by_position, Diagnostic, Diagnostics, Pos};
use super::naming::{backticked, closest};
use super::positions::{display_path, first_alias, second_document, ypath, PositionIndex, Segment};
use super::types::Topology;
use super::{lint, validate, Loaded};
use std::path::Path;

/// Reads and checks a topology file. I/O errors and non-UTF-8 content are diagnostics too.
pub fn load(path: &Path) -> Result<Loaded, Diagnostics> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|err| {
        let hint =
            "check the path (default: topology.yaml in the current directory) and its permissions";
        single(Diagnostic::error(
            &file,
            Pos::UNKNOWN,
            format!("cannot read the topology file: {err}"),
            hint,
        ))
    })?;
    parse_bytes(&bytes, &file)
}

/// Like `parse_str`, for raw file content that may not be UTF-8.
pub fn parse_bytes(bytes: &[u8], file: &str) -> Result<Loaded, Diagnostics> {
    match std::str::from_utf8(bytes) {
        Ok(src) => parse_str(src, file),
        Err(err) => {
            let at = position_of_byte(bytes, err.valid_up_to());
            Err(single(Diagnostic::error(
                file,
                at,
                "the file is not valid UTF-8",
                "save the file as UTF-8 (YAML requires it); look for a stray byte at this position",
            )))
        }
    }
}

/// Parses, validates and lints. `Err` holds every error in source order; warnings ride on `Ok`.
pub fn parse_str(src: &str, file: &str) -> Result<Loaded, Diagnostics> {
    if has_no_content(src) {
        return Err(single(Diagnostic::error(
            file,
            Pos::new(1, 1),
            "the file is empty",
            "a topology needs at least `name:`, `network: {cidr: ...}` and `services:`",
        )));
    }
    let topology: Topology =
        serde_yaml_ng::from_str(src).map_err(|err| single(schema_error(&err, src, file)))?;
    // Built only now: serde has proven the input is one well-formed, bounded document.
    let positions = PositionIndex::build(src);
    let mut errors = duplicate_key_errors(&positions, file);
    errors.extend(validate(&topology, &positions, file));
    if !errors.is_empty() {
        sort_by_position(&mut errors);
        return Err(Diagnostics(errors));
    }
    let mut warnings = lint(&topology, &positions, file);
    sort_by_position(&mut warnings);
    Ok(Loaded { topology, warnings })
}

fn single(diagnostic: Diagnostic) -> Diagnostics {
    Diagnostics(vec![diagnostic])
}

/// Only blank lines and comments: serde would say "missing field `name`", which misleads.
fn has_no_content(src: &str) -> bool {
    src.lines().all(|line| {
        let line = line.trim();
        line.is_empty() || line.starts_with('#') || line == "---" || line == "..."
    })
}

/// 1-based line and column (in characters) of byte `offset`; the prefix must be valid UTF-8.
fn position_of_byte(bytes: &[u8], offset: usize) -> Pos {
    let prefix = std::str::from_utf8(&bytes[..offset.min(bytes.len())]).unwrap_or_default();
    let line = prefix.matches('\n').count() + 1;
    let line_start = prefix.rfind('\n').map_or(0, |newline| newline + 1);
    Pos::new(line, prefix[line_start..].chars().count() + 1)
}

/// serde_yaml_ng maps keep the last of two equal keys silently; a typo'd copy would win.
fn duplicate_key_errors(positions: &PositionIndex, file: &str) -> Vec<Diagnostic> {
    positions
        .duplicates()
        .iter()
        .map(|duplicate| {
            Diagnostic::error(
                file,
                duplicate.second,
                format!("duplicate key `{}`", display_path(&duplicate.path)),
                format!(
                    "remove one of the two entries (the first is at line {}); YAML keeps only the last",
                    duplicate.first.line
                ),
            )
        })
        .collect()
}

/// Turns a serde_yaml_ng error (syntax or schema) into a located diagnostic with a hint.
fn schema_error(err: &serde_yaml_ng::Error, src: &str, file: &str) -> Diagnostic {
    let text = strip_first_location(&err.to_string());
    let reported = err
        .location()
        .map_or(Pos::UNKNOWN, |at| Pos::new(at.line(), at.column()));
    let problem = classify(&text, reported, src);
    Diagnostic::error(file, problem.at, problem.message, problem.hint)
}

struct Problem {
    at: Pos,
    message: String,
    hint: String,
}

fn classify(text: &str, reported: Pos, src: &str) -> Problem {
    let (path, detail) = split_path(text);
    let problem = |message: String, hint: String| Problem {
        at: reported,
        message,
        hint,
    };
    if let Some(field) = between(detail, "unknown field `", "`") {
        // The list of valid fields moves to the hint, where it reads as advice.
        let message = text.split_once(", expected").map_or(text, |(head, _)| head);
        return problem(message.to_string(), unknown_field_hint(field, detail));
    }
    if let Some(variant) = between(detail, "unknown variant `", "`") {
        let expected = detail.split_once("expected ").map_or("", |(_, rest)| rest);
        let hint = format!("`{variant}` is not allowed here; use {expected} (case matters)");
        return problem(text.to_string(), hint);
    }
    if let Some(field) = between(detail, "missing field `", "`") {
        let place = if path.is_empty() {
            "the top level"
        } else {
            path
        };
        return problem(text.to_string(), format!("add `{field}:` to {place}"));
    }
    if let Some(field) = between(detail, "duplicate field `", "`") {
        return duplicate_field(text, field, reported, src);
    }
    if detail.contains("untagged enum AvailabilityZones") {
        return untagged_mismatch(src, "availability_zones", zones_help());
    }
    if detail.contains("untagged enum NatGateways") {
        return untagged_mismatch(src, "nat_gateways", nat_help());
    }
    if let Some((_, kind)) = detail.split_once("untagged enum ") {
        if let Some(problem) = service_field_mismatch(src, path, kind.trim()) {
            return problem;
        }
    }
    if detail.starts_with("invalid type") || detail.starts_with("invalid value") {
        return problem(text.to_string(), expected_hint(detail));
    }
    if detail.contains("recursion limit exceeded") {
        let hint = "a topology file needs only a few levels of nesting; look for runaway brackets";
        return problem("the document is nested too deeply".into(), hint.into());
    }
    if detail.contains("repetition limit exceeded") {
        return Problem {
            at: first_alias(src).unwrap_or(reported),
            message: "YAML aliases expand to too much data (an alias bomb?)".into(),
            hint: "write the values out instead of using anchors (`&a`) and aliases (`*a`)".into(),
        };
    }
    if detail.contains("more than one document") {
        return Problem {
            at: second_document(src).unwrap_or(reported),
            message: "the file contains more than one YAML document".into(),
            hint: "keep one topology per file: remove this `---` and what follows".into(),
        };
    }
    syntax_error(text, reported, src)
}

fn syntax_error(text: &str, reported: Pos, src: &str) -> Problem {
    let hint = if tab_near(src, reported) {
        "YAML does not allow tabs for indentation; indent with spaces"
    } else {
        "check indentation, quotes and brackets at this position"
    };
    Problem {
        at: reported,
        message: format!("YAML syntax error: {text}"),
        hint: hint.into(),
    }
}

fn tab_near(src: &str, at: Pos) -> bool {
    at.line > 0
        && src
            .lines()
            .nth(at.line - 1)
            .is_some_and(|line| line.trim_end().contains('\t'))
}

fn duplicate_field(text: &str, field: &str, reported: Pos, src: &str) -> Problem {
    let positions = PositionIndex::build(src);
    let found = positions
        .duplicates()
        .iter()
        .find(|duplicate| matches!(duplicate.path.last(), Some(Segment::Key(key)) if key == field));
    let (at, first_line) = found.map_or((reported, reported.line), |duplicate| {
        (duplicate.second, duplicate.first.line)
    });
    Problem {
        at,
        message: text.to_string(),
        hint: format!("`{field}` may appear once here; remove one of the entries (the first is at line {first_line})"),
    }
}

/// serde reports untagged-enum mismatches at the enclosing mapping; point at the value instead.
fn untagged_mismatch(src: &str, field: &str, help: (&str, &str)) -> Problem {
    let positions = PositionIndex::build(src);
    Problem {
        at: positions.value(&ypath!("network", field)),
        message: format!("network.{field}: {}", help.0),
        hint: help.1.to_string(),
    }
}

/// A service field that is a string or a mapping (`image`, `health_check`) matched neither:
/// serde names the service, point at the field and show both forms.
fn service_field_mismatch(src: &str, path: &str, kind: &str) -> Option<Problem> {
    let (field, what, hint) = match kind {
        "HealthCheck" => (
            "health_check",
            "a path, or a mapping with `path` and an optional `port`",
            "write a path (`health_check: /health`) or `health_check: {path: /actuator/health, port: 8081}`",
        ),
        "Image" => (
            "image",
            "an image URI, or a mapping with `repository` and an optional `tag`",
            "write an image URI (`image: nginx:1.27`) or `image: {repository: <key of repositories>, tag: \"1.0\"}`",
        ),
        _ => return None,
    };
    let service = path.strip_prefix("services.")?;
    let positions = PositionIndex::build(src);
    Some(Problem {
        at: positions.value(&ypath!("services", service, field)),
        message: format!("services.{service}.{field} must be {what}"),
        hint: hint.to_string(),
    })
}

fn zones_help() -> (&'static str, &'static str) {
    (
        "must be a zone count or a list of zone names",
        "write `availability_zones: 2` (1 to 6) or `availability_zones: [us-east-1a, us-east-1b]`",
    )
}

fn nat_help() -> (&'static str, &'static str) {
    (
        "must be 0, 1 or per_az",
        "0 = no egress from private subnets, 1 = one shared NAT gateway, per_az = one per zone",
    )
}

fn unknown_field_hint(field: &str, detail: &str) -> String {
    if field == "<<" {
        return "YAML merge keys (`<<`) are not supported; write the fields out".into();
    }
    let Some((_, expected)) = detail.split_once("expected ") else {
        return format!("remove `{field}`: this mapping has no fields");
    };
    let valid: Vec<&str> = expected
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|name| !name.is_empty())
        .collect();
    let listing = format!("valid fields here: {}", backticked(&valid));
    match closest(field, valid.iter().copied()) {
        Some(suggestion) => format!("did you mean `{suggestion}`? {listing}"),
        None => listing,
    }
}

/// Restates serde's "expected u16" and friends in the user's terms.
fn expected_hint(detail: &str) -> String {
    let expected = detail
        .rsplit_once("expected ")
        .map_or("", |(_, rest)| rest)
        .trim();
    let plain = match expected {
        "u8" => "a whole number from 0 to 255".to_string(),
        "u16" => "a whole number from 0 to 65535".to_string(),
        "u32" => "a whole number from 0 to 4294967295".to_string(),
        "a string" => "text (quote it if it looks like a number or boolean)".to_string(),
        "a map" => "a mapping of `key: value` entries".to_string(),
        "a sequence" => "a list (`[a, b]` or `- item` lines)".to_string(),
        other if other.starts_with("struct ") => "a mapping with the documented fields".to_string(),
        "" => "a different kind of value".to_string(),
        other => other.to_string(),
    };
    format!("this value must be {plain}")
}

/// Splits "services.api.port: invalid type ..." into ("services.api.port", "invalid type ...").
fn split_path(text: &str) -> (&str, &str) {
    match text.split_once(": ") {
        Some((path, detail)) if looks_like_path(path) => (path, detail),
        _ => ("", text),
    }
}

fn looks_like_path(candidate: &str) -> bool {
    !candidate.is_empty()
        && !candidate.contains(' ')
        && !candidate.contains('`')
        && candidate
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-[]".contains(c))
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let after = text.split_once(start)?.1;
    Some(after.split_once(end)?.0)
}

/// Removes the first " at line N column M" (our diagnostic carries that position itself).
fn strip_first_location(text: &str) -> String {
    const MARKER: &str = " at line ";
    let Some(start) = text.find(MARKER) else {
        return text.to_string();
    };
    let rest = &text[start + MARKER.len()..];
    let Some(after_column) = rest
        .split_once(" column ")
        .filter(|(line, _)| line.chars().all(|c| c.is_ascii_digit()))
        .map(|(_, after)| after.trim_start_matches(|c: char| c.is_ascii_digit()))
    else {
        return text.to_string();
    };
    format!("{}{}", &text[..start], after_column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_only_the_first_location() {
        assert_eq!(
            strip_first_location("did not find expected ',' at line 3 column 9, while parsing a flow mapping at line 2 column 10"),
            "did not find expected ',', while parsing a flow mapping at line 2 column 10"
        );
        assert_eq!(
            strip_first_location("missing field `name`"),
            "missing field `name`"
        );
    }

    #[test]
    fn byte_positions_count_characters() {
        assert_eq!(position_of_byte(b"ab\ncd", 4), Pos::new(2, 2));
        assert_eq!(position_of_byte("é\nxé".as_bytes(), 6), Pos::new(2, 3));
        assert_eq!(position_of_byte(b"", 0), Pos::new(1, 1));
    }

    #[test]
    fn splits_paths_from_details() {
        assert_eq!(
            split_path("services.a.port: invalid type: string"),
            ("services.a.port", "invalid type: string")
        );
        assert_eq!(
            split_path("missing field `name`"),
            ("", "missing field `name`")
        );
        assert_eq!(
            split_path("load_balancer.listeners[0].protocol: unknown variant `x`"),
            ("load_balancer.listeners[0].protocol", "unknown variant `x`")
        );
    }
}
