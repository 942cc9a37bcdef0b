//! Shared plumbing for `validate` and `lint`: look up positions, collect findings.

use super::diagnostic::Diagnostic;
use super::positions::{PositionIndex, Segment};
use super::types::{Service, Topology, CALLER_API_GATEWAY, CALLER_LOAD_BALANCER};

pub(crate) struct Checker<'a> {
    pub topology: &'a Topology,
    positions: &'a PositionIndex,
    file: &'a str,
    found: Vec<Diagnostic>,
}

impl<'a> Checker<'a> {
    pub fn new(topology: &'a Topology, positions: &'a PositionIndex, file: &'a str) -> Self {
        Checker {
            topology,
            positions,
            file,
            found: Vec::new(),
        }
    }

    pub fn found_count(&self) -> usize {
        self.found.len()
    }

    /// The warnings found since `start` are of lint rule `rule`.
    pub fn name_rule_since(&mut self, start: usize, rule: &'static str) {
        for d in self.found.iter_mut().skip(start) {
            d.rule = Some(rule);
        }
    }

    pub fn finish(self) -> Vec<Diagnostic> {
        self.found
    }

    /// An error about the value at `path` (falls back to the nearest written ancestor).
    pub fn error(&mut self, path: &[Segment], message: impl Into<String>, hint: impl Into<String>) {
        let at = self.positions.value(path);
        self.found
            .push(Diagnostic::error(self.file, at, message, hint));
    }

    /// An error about the key at `path`, e.g. a service name.
    pub fn error_at_key(
        &mut self,
        path: &[Segment],
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        let at = self.positions.key(path);
        self.found
            .push(Diagnostic::error(self.file, at, message, hint));
    }

    pub fn warning(
        &mut self,
        path: &[Segment],
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        let at = self.positions.value(path);
        self.found
            .push(Diagnostic::warning(self.file, at, message, hint));
    }

    pub fn warning_at_key(
        &mut self,
        path: &[Segment],
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        let at = self.positions.key(path);
        self.found
            .push(Diagnostic::warning(self.file, at, message, hint));
    }

    /// Line of the key at `path` for "(line N)" in hints; 0 when unknown.
    pub fn line_of(&self, path: &[Segment]) -> usize {
        self.positions.key(path).line
    }

    /// Whether `path` was written in the file rather than defaulted.
    pub fn written(&self, path: &[Segment]) -> bool {
        self.positions.contains(path)
    }
}

/// Whether `service` lets `caller` connect (a service name or a special caller).
pub(crate) fn allows(service: &Service, caller: &str) -> bool {
    service
        .allowed_callers
        .iter()
        .any(|allowed| allowed == caller)
}

/// Whether the service is reachable from outside the VPC through an entry point.
pub(crate) fn is_entry_target(service: &Service) -> bool {
    allows(service, CALLER_LOAD_BALANCER) || allows(service, CALLER_API_GATEWAY)
}
