//! Diagnostics: what `validate`/`lint` and the parser report, with file:line:column.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Severity {
    Error,
    Warning,
}

/// One finding about a topology file. `line`/`column` are 1-based; 0 means unknown.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub hint: String,
    /// A warning's lint rule, which `lints: {allow: [rule]}` silences.
    pub rule: Option<&'static str>,
}

impl Diagnostic {
    pub fn error(file: &str, at: Pos, message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self::new(Severity::Error, file, at, message.into(), hint.into())
    }

    pub fn warning(
        file: &str,
        at: Pos,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Self::new(Severity::Warning, file, at, message.into(), hint.into())
    }

    fn new(severity: Severity, file: &str, at: Pos, message: String, hint: String) -> Self {
        Diagnostic {
            severity,
            file: file.to_string(),
            line: at.line,
            column: at.column,
            message,
            hint,
            rule: None,
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line != 0 {
            write!(f, ":{}", self.line)?;
            if self.column != 0 {
                write!(f, ":{}", self.column)?;
            }
        }
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, ": {label}: {}", self.message)?;
        if !self.hint.is_empty() {
            write!(f, "\n  hint: {}", self.hint)?;
        }
        if let Some(rule) = self.rule {
            write!(
                f,
                "; or silence rule `{rule}` with `lints: {{allow: [{rule}]}}`"
            )?;
        }
        Ok(())
    }
}

/// A position in the source file (1-based; 0 = unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

impl Pos {
    pub const UNKNOWN: Pos = Pos { line: 0, column: 0 };

    pub fn new(line: usize, column: usize) -> Self {
        Pos { line, column }
    }
}

/// Every error of one file, in source order. `Display` prints each on its own lines.
#[derive(Debug, thiserror::Error)]
#[error("{}", render_all(.0))]
pub struct Diagnostics(pub Vec<Diagnostic>);

fn render_all(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Source order: by line, then column; unknown positions (0) go last so located findings lead.
pub fn sort_by_position(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by_key(|d| {
        let unknown = d.line == 0;
        (unknown, d.line, d.column)
    });
}
