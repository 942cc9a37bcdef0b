//! The `ingress_rule` kind: its model and what the engine must know about it.

use super::{fields, KindSpec, ReplaceOrder};
use crate::model::{Kind, Ref};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleSource {
    Group(Ref),
    Cidr(String),
}

/// One inbound TCP rule; AWS rules are immutable, so any change replaces it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngressRule {
    pub group: Ref,
    pub port: u16,
    pub source: RuleSource,
    pub description: String,
}

impl KindSpec for IngressRule {
    const KIND: Kind = Kind::IngressRule;
    const FORCES_REPLACEMENT: &'static [&'static str] = fields!(IngressRule; group, port, source);
    /// Replaced create-first: the new one can coexist with the old, so traffic never has a gap.
    const REPLACE_ORDER: ReplaceOrder = ReplaceOrder::CreateFirst;
    /// moto drops the description of group-referencing rules on read (AWS keeps it): absent is
    /// unknown, not drift (a description is only a label).
    fn unknown_on_read(have: &Self) -> &'static [&'static str] {
        if have.description.is_empty() {
            fields!(IngressRule; description)
        } else {
            &[]
        }
    }
    fn refs(&self) -> Vec<&Ref> {
        let mut out = vec![&self.group];
        if let RuleSource::Group(g) = &self.source {
            out.push(g);
        }
        out
    }
    fn refs_mut(&mut self) -> Vec<&mut Ref> {
        let mut out = vec![&mut self.group];
        if let RuleSource::Group(g) = &mut self.source {
            out.push(g);
        }
        out
    }
}
