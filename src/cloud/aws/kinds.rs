//! The AWS side of every kind: create, update, delete and pacing cost, implemented once per
//! kind in its own file of its service (`ec2/nat_gateway.rs`, `iam.rs`, ...). The dispatch
//! below is generated from the kind registry (`crate::kinds::with_kinds`): a kind without an
//! `AwsKind` implementation does not compile.

use super::pacing::Family;
use super::AwsCloud;
use crate::cloud::{CloudError, OpContext};
use crate::kinds::{with_kinds, KindSpec};
use crate::model::*;
use crate::plan::schedule::OpKind;

#[allow(async_fn_in_trait)] // crate-internal: every call site is a concrete kind
pub(crate) trait AwsKind: KindSpec + Sized {
    /// What one operation spends of AWS's rate limits (token-bucket families and tokens).
    fn cost(op: OpKind) -> Vec<(Family, f64)>;
    /// Creates it, tagged at creation; its AWS id.
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError>;
    /// Changes `have` (AWS id `id`) into `self` in place; its AWS id afterwards.
    async fn update(
        &self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        id: &str,
        have: &Self,
    ) -> Result<String, CloudError>;
    async fn delete(
        have: &Self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        observed: &ObservedResource,
    ) -> Result<(), CloudError>;
}

/// For kinds whose every field forces replacement: diff never plans an update for them.
pub(crate) fn no_update_in_place(kind: Kind, ctx: &OpContext<'_>) -> CloudError {
    CloudError::Other(format!(
        "{}: a {kind} has no field AWS can change in place (this is a bug in the plan)",
        ctx.id
    ))
}

macro_rules! define_aws_dispatch {
    ($($variant:ident = $name:literal),+ $(,)?) => {
        pub(crate) fn cost(kind: Kind, op: OpKind) -> Vec<(Family, f64)> {
            match kind {
                $(Kind::$variant => <$variant as AwsKind>::cost(op)),+
            }
        }

        pub(crate) async fn create(
            cloud: &AwsCloud,
            ctx: &OpContext<'_>,
            want: &Resource,
        ) -> Result<String, CloudError> {
            match want {
                $(Resource::$variant(w) => w.create(cloud, ctx).await),+
            }
        }

        pub(crate) async fn update(
            cloud: &AwsCloud,
            ctx: &OpContext<'_>,
            have: &ObservedResource,
            want: &Resource,
        ) -> Result<String, CloudError> {
            let id = have.physical_id.as_str();
            match (&have.resource, want) {
                $((Resource::$variant(h), Resource::$variant(w)) => w.update(cloud, ctx, id, h).await,)+
                // The same logical id now names another kind: diff plans that as a replacement.
                (h, w) => Err(CloudError::Other(format!(
                    "{}: cannot change a {} in place into a {}",
                    ctx.id,
                    h.kind(),
                    w.kind()
                ))),
            }
        }

        pub(crate) async fn delete(
            cloud: &AwsCloud,
            ctx: &OpContext<'_>,
            have: &ObservedResource,
        ) -> Result<(), CloudError> {
            match &have.resource {
                $(Resource::$variant(h) => <$variant as AwsKind>::delete(h, cloud, ctx, have).await),+
            }
        }
    };
}
with_kinds!(define_aws_dispatch);
