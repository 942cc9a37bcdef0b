//! Runs every file under tests/corpus through the parser: each `invalid/NN_x.yaml` must fail
//! with an error at the `line:col` of its `NN_x.expect` whose message contains the expected
//! text; each `valid/*.yaml` must load with no errors.

use super::{load, Diagnostic};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Hostile inputs (alias bombs, 10k-deep nesting) must still answer quickly.
const TIME_LIMIT: Duration = Duration::from_secs(10);

fn corpus(kind: &str, extension: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(kind);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == extension))
        .collect();
    files.sort();
    files
}

struct Expectation {
    line: usize,
    column: usize,
    message: String,
}

fn read_expectation(yaml: &Path) -> Expectation {
    let expect = yaml.with_extension("expect");
    let text =
        fs::read_to_string(&expect).unwrap_or_else(|err| panic!("{}: {err}", expect.display()));
    let mut lines = text.lines();
    let position = lines.next().unwrap_or_default();
    let (line, column) = position
        .split_once(':')
        .and_then(|(line, column)| Some((line.trim().parse().ok()?, column.trim().parse().ok()?)))
        .unwrap_or_else(|| panic!("{}: first line must be line:col", expect.display()));
    let message = lines.next().unwrap_or_default().to_string();
    assert!(
        !message.is_empty(),
        "{}: second line must be a message substring",
        expect.display()
    );
    Expectation {
        line,
        column,
        message,
    }
}

fn matches(diagnostic: &Diagnostic, expected: &Expectation) -> bool {
    diagnostic.line == expected.line
        && diagnostic.column == expected.column
        && diagnostic.message.contains(&expected.message)
}

#[test]
fn every_invalid_file_fails_at_the_expected_position() {
    let files = corpus("invalid", "yaml");
    assert!(
        files.len() >= 45,
        "only {} invalid corpus files",
        files.len()
    );
    let mut failures = Vec::new();
    for file in &files {
        let expected = read_expectation(file);
        let started = Instant::now();
        let outcome = load(file);
        assert!(
            started.elapsed() < TIME_LIMIT,
            "{} took {:?}",
            file.display(),
            started.elapsed()
        );
        match outcome {
            Ok(_) => failures.push(format!("{}: accepted", file.display())),
            Err(found) => {
                if !found
                    .0
                    .iter()
                    .any(|diagnostic| matches(diagnostic, &expected))
                {
                    failures.push(format!(
                        "{}: wanted {}:{} {:?}, got:\n{found}",
                        file.display(),
                        expected.line,
                        expected.column,
                        expected.message
                    ));
                }
                assert!(
                    found.0.iter().all(|d| !d.hint.is_empty()),
                    "{}: a diagnostic without a hint",
                    file.display()
                );
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_valid_file_loads_without_errors() {
    let files = corpus("valid", "yaml");
    assert!(files.len() >= 4, "only {} valid corpus files", files.len());
    for file in &files {
        if let Err(found) = load(file) {
            panic!("{} should be valid:\n{found}", file.display());
        }
    }
}

#[test]
fn every_invalid_file_has_an_expectation() {
    for file in corpus("invalid", "yaml") {
        assert!(
            file.with_extension("expect").is_file(),
            "{} has no .expect",
            file.display()
        );
    }
}
