//! The `ingress_rule` kind: its model and what the engine must know about it.

use super::{child_id, fields, KindSpec, ReplaceOrder};
use crate::model::{Kind, Ref, ResourceId};
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
    /// `<group>.from.<source group>` (one rule per caller: a new port replaces it), or
    /// `<group>.<port>.from.<cidr>` for address ranges; a source group not ours keeps its AWS id.
    fn scoped_id(&self) -> Option<ResourceId> {
        match &self.source {
            RuleSource::Group(source) => child_id(&self.group, "from", source.as_id()?),
            RuleSource::Cidr(cidr) => {
                child_id(&self.group, &self.port.to_string(), format!("from.{cidr}"))
            }
        }
    }
    /// `<group>.from.<source group>.<port>`: a second rule from a source already admitted on
    /// another port (the load balancer's health checks on their own port).
    fn alternative_id(&self) -> Option<ResourceId> {
        match &self.source {
            RuleSource::Group(_) => self
                .scoped_id()
                .map(|id| ResourceId::new(format!("{id}.{}", self.port))),
            RuleSource::Cidr(_) => None,
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
