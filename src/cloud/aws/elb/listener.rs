//! Listeners: a port and protocol on a load balancer, forwarding or redirecting.

use super::*;

impl AwsKind for Listener {
    fn cost(op: OpKind) -> Vec<(Family, f64)> {
        let _ = op;
        vec![(Family::ElbMutate, 1.0), (Family::ElbAccount, 1.0)]
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        let r = self;
        let certificates: Vec<Certificate> = r
            .certificate_arn
            .iter()
            .map(|c| Certificate::builder().certificate_arn(c).build())
            .collect();
        let load_balancer = ctx.resolve(&r.load_balancer)?;
        let default_action = action(ctx, &r.default_action)?;
        let out = call(|| {
            cloud
                .elb
                .create_listener()
                .load_balancer_arn(load_balancer.clone())
                .port(i32::from(r.port))
                .protocol(protocol(&r.protocol))
                .set_certificates(Some(certificates.clone()))
                .default_actions(default_action.clone())
                .set_tags(Some(tags(ctx, &ctx.id.to_string())))
                .send()
        })
        .await;
        let created = out.and_then(|out| {
            out.listeners()
                .first()
                .and_then(|l| l.listener_arn())
                .map(String::from)
                .ok_or_else(|| missing("ListenerArn"))
        });
        // A listener on this port of our load balancer exists already (a lost answer): adopt it,
        // the next plan corrects whatever differs.
        adopt_if_exists(created, "DuplicateListener", || async {
            let load_balancer = ctx.resolve(&r.load_balancer)?;
            let found = call(|| {
                cloud
                    .elb
                    .describe_listeners()
                    .load_balancer_arn(load_balancer.clone())
                    .send()
            })
            .await?;
            found
                .listeners()
                .iter()
                .find(|l| l.port() == Some(i32::from(r.port)))
                .and_then(|l| l.listener_arn())
                .map(String::from)
                .ok_or_else(nothing_of_ours)
        })
        .await
    }
    async fn update(
        &self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        id: &str,
        have: &Self,
    ) -> Result<String, CloudError> {
        let _ = have;
        let arn: &str = id;
        let r = self;
        let certificates: Vec<Certificate> = r
            .certificate_arn
            .iter()
            .map(|c| Certificate::builder().certificate_arn(c).build())
            .collect();
        let default_action = action(ctx, &r.default_action)?;
        call(|| {
            cloud
                .elb
                .modify_listener()
                .listener_arn(arn)
                .port(i32::from(r.port))
                .protocol(protocol(&r.protocol))
                .set_certificates(Some(certificates.clone()))
                .default_actions(default_action.clone())
                .send()
        })
        .await?;
        Ok(id.to_string())
    }
    async fn delete(
        have: &Self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        observed: &ObservedResource,
    ) -> Result<(), CloudError> {
        let _ = (have, ctx);
        let arn: &str = &observed.physical_id;
        gone_is_done(call(|| cloud.elb.delete_listener().listener_arn(arn).send()).await)
    }
}
