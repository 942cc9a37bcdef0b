//! The `scaling_policy` kind: a target-tracking or step policy of a scalable target. Step
//! policies act only when an alarm names them (`cloudwatch_alarm.scaling_policy`).

use super::{child_id, fields, KindSpec};
use crate::model::{Kind, Ref, ResourceId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PolicyRule {
    /// Keeps the service's average CPU near `cpu_percent` (AWS makes and owns its alarms).
    TargetTracking {
        cpu_percent: u32,
        scale_in_cooldown_s: u32,
        scale_out_cooldown_s: u32,
    },
    /// Changes the desired count by `adjustment` tasks each time its alarm fires.
    Step { adjustment: i32, cooldown_s: u32 },
}

impl PolicyRule {
    /// The policy's key within its target (also the end of its name).
    pub fn key(&self) -> &'static str {
        match self {
            PolicyRule::TargetTracking { .. } => "cpu-target",
            PolicyRule::Step { adjustment, .. } if *adjustment >= 0 => "scale-out",
            PolicyRule::Step { .. } => "scale-in",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScalingPolicy {
    pub name: String,
    /// The scalable target it scales.
    pub target: Ref,
    pub rule: PolicyRule,
}

impl KindSpec for ScalingPolicy {
    const KIND: Kind = Kind::ScalingPolicy;
    /// `PutScalingPolicy` on the same name changes the rule in place.
    const FORCES_REPLACEMENT: &'static [&'static str] = fields!(ScalingPolicy; name, target);
    /// moto answers a policy put again with a new ARN (AWS keeps it): the alarms that name the
    /// policy are put again after an update, which is harmless on AWS.
    const UPDATE_RENEWS_IDENTITY: bool = true;
    fn refs(&self) -> Vec<&Ref> {
        vec![&self.target]
    }
    fn refs_mut(&mut self) -> Vec<&mut Ref> {
        vec![&mut self.target]
    }
    fn scoped_id(&self) -> Option<ResourceId> {
        child_id(&self.target, "policy", self.rule.key())
    }
}
