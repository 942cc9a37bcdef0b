//! The `log_group` kind: its model and what the engine must know about it.

use super::{fields, KindSpec};
use crate::model::{Kind, Ref};
use crate::plan::diff::DATA_LOSS;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogGroup {
    pub name: String,
    pub retention_days: Option<i32>,
}

impl KindSpec for LogGroup {
    const KIND: Kind = Kind::LogGroup;
    const FORCES_REPLACEMENT: &'static [&'static str] = fields!(LogGroup; name);
    /// Deleting a log group deletes its logs.
    fn replacement_cost(_have: &Self) -> Option<String> {
        Some(format!(
            "{DATA_LOSS}: the old log group's logs are deleted with it"
        ))
    }
    fn delete_note(_have: &Self) -> Option<String> {
        Some(format!("{DATA_LOSS}: its logs are deleted with it"))
    }
    fn refs(&self) -> Vec<&Ref> {
        vec![]
    }
    fn refs_mut(&mut self) -> Vec<&mut Ref> {
        vec![]
    }
}
