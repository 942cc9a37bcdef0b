//! The topology file: schema (`types`), parsing with file:line:column diagnostics, semantic
//! validation, lints, and the names and address plans derived from it.

mod checker;
pub mod diagnostic;
mod lint;
pub mod naming;
pub mod network;
mod parse;
pub mod positions;
mod schema;
pub mod types;
mod validate;

#[cfg(test)]
mod corpus_tests;
#[cfg(test)]
mod tests;

pub use diagnostic::{Diagnostic, Diagnostics, Pos, Severity};
pub use lint::lint;
pub use naming::{derived_target_group_name, env_stem, env_var_for};
pub use network::{availability_zone_names, subnet_cidrs};
pub use parse::{load, parse_bytes, parse_str};
pub use positions::{PositionIndex, Segment};
pub use schema::json_schema;
pub use types::*;
pub use validate::validate;

/// A topology that passed validation, with its (non-fatal) warnings.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub topology: Topology,
    pub warnings: Vec<Diagnostic>,
}
