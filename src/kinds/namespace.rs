//! The `dns_namespace` kind: its model and what the engine must know about it.

use super::{fields, KindSpec};
use crate::model::{Kind, Ref};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Namespace {
    pub name: String,
    pub vpc: Ref,
}

impl KindSpec for Namespace {
    const KIND: Kind = Kind::Namespace;
    const FORCES_REPLACEMENT: &'static [&'static str] = fields!(Namespace; name, vpc);
    fn refs(&self) -> Vec<&Ref> {
        vec![&self.vpc]
    }
    fn refs_mut(&mut self) -> Vec<&mut Ref> {
        vec![&mut self.vpc]
    }
}
