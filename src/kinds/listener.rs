//! The `listener` kind: its model and what the engine must know about it.

use super::{child_id, fields, KindSpec};
use crate::model::{Kind, Ref, ResourceId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListenerAction {
    Forward { target_group: Ref },
    Redirect { port: u16, protocol: String },
    FixedResponse { status: u16 },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listener {
    pub load_balancer: Ref,
    pub port: u16,
    pub protocol: String,
    pub certificate_arn: Option<String>,
    pub default_action: ListenerAction,
}

impl KindSpec for Listener {
    const KIND: Kind = Kind::Listener;
    const FORCES_REPLACEMENT: &'static [&'static str] = fields!(Listener; load_balancer);
    /// `<load balancer>.listener.<port>`: a port has one listener per load balancer.
    fn scoped_id(&self) -> Option<ResourceId> {
        child_id(&self.load_balancer, "listener", self.port)
    }
    /// Created beside the old one when its `load_balancer` is replaced: a port is unique on its load balancer only.
    fn unique_within(&self) -> Option<&Ref> {
        Some(&self.load_balancer)
    }
    fn refs(&self) -> Vec<&Ref> {
        let mut out = vec![&self.load_balancer];
        if let ListenerAction::Forward { target_group } = &self.default_action {
            out.push(target_group);
        }
        out
    }
    fn refs_mut(&mut self) -> Vec<&mut Ref> {
        let mut out = vec![&mut self.load_balancer];
        if let ListenerAction::Forward { target_group } = &mut self.default_action {
            out.push(target_group);
        }
        out
    }
}
