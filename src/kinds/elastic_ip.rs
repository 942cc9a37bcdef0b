//! The `elastic_ip` kind: its model and what the engine must know about it.

use super::KindSpec;
use crate::model::{Kind, Ref};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElasticIp {
    pub name: String,
}

impl KindSpec for ElasticIp {
    const KIND: Kind = Kind::ElasticIp;
    const FORCES_REPLACEMENT: &'static [&'static str] = &[];
    fn refs(&self) -> Vec<&Ref> {
        vec![]
    }
    fn refs_mut(&mut self) -> Vec<&mut Ref> {
        vec![]
    }
}
