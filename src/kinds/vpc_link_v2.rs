//! The `vpc_link_v2` kind: an API Gateway VPC link V2, network interfaces in our subnets with a
//! group of our choosing, through which a REST API reaches an internal ALB directly.

use super::{fields, KindSpec, ReplaceOrder};
use crate::model::{Kind, Ref};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VpcLinkV2 {
    pub name: String,
    pub subnets: Vec<Ref>,
    pub security_groups: Vec<Ref>,
}

impl KindSpec for VpcLinkV2 {
    const KIND: Kind = Kind::VpcLinkV2;
    const HELD_BY_API_STAGES: bool = true;
    const HOLDS_INTERFACES: bool = true;
    /// Only the name of a V2 link can be changed.
    const FORCES_REPLACEMENT: &'static [&'static str] =
        fields!(VpcLinkV2; subnets, security_groups);
    /// The new link comes first and the methods move to it before the old one goes: no moment
    /// without a link, and no delete of a link integrations still use. Names need not be unique
    /// (links are known by id:
    /// https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/vpclinks.html).
    const REPLACE_ORDER: ReplaceOrder = ReplaceOrder::CreateFirst;
    fn refs(&self) -> Vec<&Ref> {
        self.subnets.iter().chain(&self.security_groups).collect()
    }
    fn refs_mut(&mut self) -> Vec<&mut Ref> {
        self.subnets
            .iter_mut()
            .chain(self.security_groups.iter_mut())
            .collect()
    }
}
