//! The `api_method` kind: one HTTP method of a REST API resource and its `HTTP_PROXY`
//! integration over the VPC link to `http://<load balancer DNS>:<port><path>`.

use super::{fields, KindSpec};
use crate::model::{Kind, Ref, ResourceId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiMethod {
    pub rest_api: Ref,
    /// Its resource, or the REST API itself for a method on the root `/`.
    pub resource: Ref,
    pub http_method: String,
    /// Path parameters the method declares and the integration passes through
    /// (`integration.request.path.x = method.request.path.x`).
    pub path_parameters: Vec<String>,
    /// The integration: through this VPC link, to this load balancer's DNS name and port.
    pub vpc_link: Ref,
    pub load_balancer: Ref,
    /// With a VPC link V2: the load balancer the link delivers to (`integrationTarget`).
    pub integration_target: Option<Ref>,
    pub port: u16,
    pub path: String,
}

impl KindSpec for ApiMethod {
    const KIND: Kind = Kind::ApiMethod;
    /// A method's request parameters are set when it is put; the integration is put again in
    /// place (PutIntegration overwrites).
    const FORCES_REPLACEMENT: &'static [&'static str] =
        fields!(ApiMethod; rest_api, resource, http_method, path_parameters);
    const IN_API_SNAPSHOT: bool = true;
    /// moto drops the integration's `connectionId` on every read (AWS returns it): absent is
    /// unknown, not drift.
    /// and `integrationTarget`: absent is unknown, not drift.
    fn unknown_on_read(have: &Self) -> &'static [&'static str] {
        let link_dropped = matches!(&have.vpc_link, Ref::Unowned(id) if id.is_empty());
        match (link_dropped, have.integration_target.is_none()) {
            (true, true) => fields!(ApiMethod; vpc_link, integration_target),
            (true, false) => fields!(ApiMethod; vpc_link),
            (false, true) => fields!(ApiMethod; integration_target),
            (false, false) => &[],
        }
    }
    /// `<resource>.<METHOD>`: `api/students.GET`, `api.ANY` on the root.
    fn scoped_id(&self) -> Option<ResourceId> {
        Some(ResourceId::new(format!(
            "{}.{}",
            self.resource.as_id()?,
            self.http_method
        )))
    }
    fn api(&self) -> Option<&Ref> {
        Some(&self.rest_api)
    }
    fn deleted_with(&self) -> Option<&Ref> {
        Some(&self.rest_api)
    }
    fn refs(&self) -> Vec<&Ref> {
        let mut out = vec![
            &self.rest_api,
            &self.resource,
            &self.vpc_link,
            &self.load_balancer,
        ];
        out.extend(self.integration_target.as_ref());
        out
    }
    fn refs_mut(&mut self) -> Vec<&mut Ref> {
        let mut out = vec![
            &mut self.rest_api,
            &mut self.resource,
            &mut self.vpc_link,
            &mut self.load_balancer,
        ];
        out.extend(self.integration_target.as_mut());
        out
    }
}
