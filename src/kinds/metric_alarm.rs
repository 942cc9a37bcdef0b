//! The `cloudwatch_alarm` kind: one CloudWatch metric alarm, tagged, named `<stack>-<svc>-<what>`.
//! Its action is an SNS topic (`alarms.notify`) or a step scaling policy.

use super::{fields, KindSpec};
use crate::model::{Kind, Ref};
use serde::{Deserialize, Serialize};

/// A dimension's value: a name known from the file, or a load balancer's or target group's
/// AWS name (`app/<name>/<hash>`, `targetgroup/<name>/<hash>`), known once it exists.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DimensionValue {
    Name(String),
    LoadBalancer(Ref),
    TargetGroup(Ref),
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Dimension {
    pub name: String,
    pub value: DimensionValue,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricAlarm {
    pub name: String,
    pub description: String,
    pub namespace: String,
    pub metric: String,
    /// `Average`, `Minimum`, `Maximum`, `Sum`.
    pub statistic: String,
    pub dimensions: Vec<Dimension>,
    pub period_s: u32,
    pub evaluation_periods: u32,
    pub threshold: u32,
    /// CloudWatch's `ComparisonOperator`, e.g. `GreaterThanOrEqualToThreshold`.
    pub comparison: String,
    /// `missing`, `notBreaching`, `breaching`.
    pub treat_missing_data: String,
    /// The SNS topic told of the alarm and of its return to OK.
    pub notify: Option<String>,
    /// The step scaling policy the alarm drives.
    pub scaling_policy: Option<Ref>,
}

impl MetricAlarm {
    fn dimension_refs(&self) -> impl Iterator<Item = &Ref> {
        self.dimensions.iter().filter_map(|d| match &d.value {
            DimensionValue::LoadBalancer(r) | DimensionValue::TargetGroup(r) => Some(r),
            DimensionValue::Name(_) => None,
        })
    }
}

impl KindSpec for MetricAlarm {
    const KIND: Kind = Kind::MetricAlarm;
    /// `PutMetricAlarm` on the same name overwrites every other field.
    const FORCES_REPLACEMENT: &'static [&'static str] = fields!(MetricAlarm; name);
    fn refs(&self) -> Vec<&Ref> {
        let mut out: Vec<&Ref> = self.dimension_refs().collect();
        out.extend(self.scaling_policy.iter());
        out
    }
    fn refs_mut(&mut self) -> Vec<&mut Ref> {
        let mut out: Vec<&mut Ref> = self
            .dimensions
            .iter_mut()
            .filter_map(|d| match &mut d.value {
                DimensionValue::LoadBalancer(r) | DimensionValue::TargetGroup(r) => Some(r),
                DimensionValue::Name(_) => None,
            })
            .collect();
        out.extend(self.scaling_policy.iter_mut());
        out
    }
}
