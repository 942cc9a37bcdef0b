//! The `internet_gateway` kind: its model and what the engine must know about it.

use super::{fields, KindSpec};
use crate::model::{Kind, Ref};
use serde::{Deserialize, Serialize};

/// Created and attached to its VPC in one step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InternetGateway {
    pub name: String,
    pub vpc: Ref,
}

impl KindSpec for InternetGateway {
    const KIND: Kind = Kind::InternetGateway;
    const FORCES_REPLACEMENT: &'static [&'static str] = fields!(InternetGateway; vpc);
    /// A gateway left unattached (a run killed between its create and its attach) is attached,
    /// not replaced.
    fn completes_in_place(have: &Self) -> &'static [&'static str] {
        if have.vpc == Ref::Unowned(String::new()) {
            fields!(InternetGateway; vpc)
        } else {
            &[]
        }
    }
    /// Created beside the old one when its `vpc` is replaced: a VPC has one internet gateway; a new VPC gets its own.
    fn unique_within(&self) -> Option<&Ref> {
        Some(&self.vpc)
    }
    fn refs(&self) -> Vec<&Ref> {
        vec![&self.vpc]
    }
    fn refs_mut(&mut self) -> Vec<&mut Ref> {
        vec![&mut self.vpc]
    }
}
