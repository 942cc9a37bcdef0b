//! Client-side pacing: AWS's documented token buckets (per account and region), mirrored here
//! so a large apply spends its calls at the rate AWS refills them instead of triggering a
//! throttling storm. Retries stay for surprises (other clients sharing the account).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A family of API actions sharing one AWS rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    Ec2Mutate,
    Ec2Ingress,
    Ec2NatGateway,
    EcsService,
    EcsRegisterTaskDefinition,
    EcsOther,
    ElbAccount,
    ElbCreateLoadBalancer,
    ElbMutate,
    CloudMap,
    Iam,
    Logs,
    /// API Gateway's control plane: 10 requests per second per account, burst 40; some
    /// creates have their own, slower limits
    /// (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html).
    ApiGateway,
    ApiGatewayCreateResource,
    ApiGatewayDeleteResource,
    ApiGatewayCreateRestApi,
    ApiGatewayDeleteRestApi,
    ApiGatewayCreateDeployment,
    ApiGatewayVpcLink,
    ApiGatewayDeleteVpcLinkV2,
    /// ECR control plane (CreateRepository and friends publish ~10 TPS; a guess below it).
    Ecr,
    /// Application Auto Scaling (no published figures for these calls: a conservative guess).
    AutoScaling,
    /// CloudWatch PutMetricAlarm, DeleteAlarms: 3 transactions per second
    /// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html).
    CloudWatchAlarms,
    /// RDS control plane (its API throttles per account; no figure is published for these
    /// calls: a conservative guess).
    Rds,
}

impl Family {
    /// (burst, refill per second), from AWS's documentation (see shared/MOTO.md); Cloud Map,
    /// IAM and Logs publish no figures for these calls: conservative guesses.
    fn limits(self) -> (f64, f64) {
        match self {
            Family::Ec2Mutate => (50.0, 5.0),
            Family::Ec2Ingress => (50.0, 5.0),
            Family::Ec2NatGateway => (10.0, 1.0),
            Family::EcsService => (50.0, 5.0),
            Family::EcsRegisterTaskDefinition => (20.0, 1.0),
            Family::EcsOther => (50.0, 20.0),
            Family::ElbAccount => (40.0, 10.0),
            Family::ElbCreateLoadBalancer => (10.0, 0.2),
            Family::ElbMutate => (20.0, 3.0),
            Family::CloudMap => (50.0, 10.0),
            Family::Iam => (20.0, 5.0),
            Family::Logs => (50.0, 10.0),
            Family::ApiGateway => (40.0, 10.0),
            Family::ApiGatewayCreateResource => (5.0, 5.0),
            Family::ApiGatewayDeleteResource => (5.0, 5.0),
            Family::ApiGatewayCreateRestApi => (2.0, 1.0 / 3.0),
            // One request every 30 s per account: the first is free, a second waits it out.
            Family::ApiGatewayDeleteRestApi => (1.0, 1.0 / 30.0),
            Family::ApiGatewayCreateDeployment => (2.0, 1.0 / 5.0),
            Family::ApiGatewayVpcLink => (2.0, 1.0 / 15.0),
            Family::ApiGatewayDeleteVpcLinkV2 => (1.0, 1.0 / 30.0),
            Family::Ecr => (10.0, 5.0),
            Family::AutoScaling => (10.0, 5.0),
            Family::CloudWatchAlarms => (3.0, 3.0),
            Family::Rds => (10.0, 2.0),
        }
    }
}

/// Shares of AWS's burst and refill that ecsform allows itself.
const BURST_SHARE: f64 = 0.8;
const REFILL_SHARE: f64 = 0.95;

struct Bucket {
    tokens: f64,
    burst: f64,
    refill: f64,
    at: Instant,
}

/// Two token buckets per family. `acquire` (before an operation takes a parallel slot) gives it
/// its place in the family's queue without holding a slot while it waits. `admit` (inside the
/// slot, right before the calls) checks the same limits against the moments requests really
/// leave: operations delayed on the way (all slots busy) must not go out in a bunch that AWS's
/// bucket, which sees send times, would refuse.
pub struct Pacer {
    buckets: Mutex<HashMap<Family, Bucket>>,
    sent: Mutex<HashMap<Family, Bucket>>,
    /// Multiplies every refill rate (tests and benchmarks run AWS's shape faster).
    scale: f64,
}

impl Pacer {
    pub fn new(scale: f64) -> Self {
        Pacer {
            buckets: Mutex::new(HashMap::new()),
            sent: Mutex::new(HashMap::new()),
            scale: if scale > 0.0 { scale } else { 1.0 },
        }
    }

    /// `ECSFORM_RATE_SCALE` (default 1: AWS's own rates).
    pub fn from_env() -> Self {
        Self::new(
            std::env::var("ECSFORM_RATE_SCALE")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(1.0),
        )
    }

    /// Waits until every family of the operation has the tokens it needs, reserving them at
    /// once so concurrent callers queue in order rather than all waking together.
    pub async fn acquire(&self, needs: &[(Family, f64)]) {
        self.wait_in(&self.buckets, needs).await;
    }

    /// The send-time check: usually free, since `acquire` already spaced the operations.
    pub async fn admit(&self, needs: &[(Family, f64)]) {
        self.wait_in(&self.sent, needs).await;
    }

    async fn wait_in(&self, buckets: &Mutex<HashMap<Family, Bucket>>, needs: &[(Family, f64)]) {
        let wait = {
            let mut buckets = buckets.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let mut wait = Duration::ZERO;
            for &(family, cost) in needs {
                let (burst, refill) = family.limits();
                // A margin below AWS's figures: requests bunch up on the way, and other clients
                // may share the account's buckets.
                // A burst of one stays one: a share of it would make every first call wait. Such
                // a bucket has no margin; a call another client made within its window is
                // throttled once and retried by the SDK.
                let burst = (burst * BURST_SHARE).max(burst.min(1.0));
                let refill = refill * REFILL_SHARE * self.scale;
                let b = buckets.entry(family).or_insert(Bucket {
                    tokens: burst,
                    burst,
                    refill,
                    at: now,
                });
                b.tokens =
                    (b.tokens + now.duration_since(b.at).as_secs_f64() * b.refill).min(b.burst);
                b.at = now;
                b.tokens -= cost;
                if b.tokens < 0.0 {
                    wait = wait.max(Duration::from_secs_f64(-b.tokens / b.refill));
                }
            }
            wait
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real time, with rates scaled up so the test takes a fraction of a second.
    #[tokio::test]
    async fn spends_the_burst_then_waits_for_the_refill() {
        // RegisterTaskDefinition: AWS allows a burst of 20, then 1/s; ecsform takes 80 % of the
        // burst (16) and 95 % of the refill, here scaled by 50 (47.5/s).
        let pacer = Pacer::new(50.0);
        let start = Instant::now();
        for _ in 0..16 {
            pacer
                .acquire(&[(Family::EcsRegisterTaskDefinition, 1.0)])
                .await;
        }
        assert!(
            start.elapsed() < Duration::from_millis(15),
            "the burst is free"
        );
        for _ in 0..9 {
            pacer
                .acquire(&[(Family::EcsRegisterTaskDefinition, 1.0)])
                .await;
        }
        let waited = start.elapsed().as_secs_f64();
        assert!(
            (0.18..0.5).contains(&waited),
            "nine more at 47.5/s take 0.19 s: {waited}"
        );
    }

    /// Operations spaced by `acquire` but delayed on the way (every slot busy) arrive together:
    /// `admit` spaces them again at the moment they are sent.
    #[tokio::test]
    async fn operations_delayed_on_the_way_are_spaced_again_when_sent() {
        let pacer = Pacer::new(50.0);
        let needs = [(Family::EcsRegisterTaskDefinition, 1.0)];
        for _ in 0..25 {
            pacer.acquire(&needs).await;
        }
        let start = Instant::now();
        futures::future::join_all((0..25).map(|_| pacer.admit(&needs))).await;
        let waited = start.elapsed().as_secs_f64();
        assert!(
            (0.17..0.5).contains(&waited),
            "25 sent together: 16 at once, nine more at 47.5/s: {waited}"
        );
    }

    /// DeleteRestApi: one request every 30 s per account. The first goes at once; the second
    /// waits out the refill (here 30 s / 300 × 1 / 0.95 ≈ 0.105 s).
    #[tokio::test]
    async fn a_one_request_bucket_lets_the_first_go_at_once() {
        let pacer = Pacer::new(300.0);
        let needs = [(Family::ApiGatewayDeleteRestApi, 1.0)];
        let start = Instant::now();
        pacer.acquire(&needs).await;
        assert!(
            start.elapsed() < Duration::from_millis(15),
            "the first delete waited {:?}",
            start.elapsed()
        );
        pacer.acquire(&needs).await;
        let waited = start.elapsed().as_secs_f64();
        assert!((0.09..0.4).contains(&waited), "the second: {waited}");
    }

    #[tokio::test]
    async fn an_operation_waits_for_its_slowest_family() {
        let pacer = Pacer::new(100.0);
        // Drain the load balancer bucket (80 % of a burst of 10; 95 % of 0.2/s × 100 = 19/s).
        pacer.acquire(&[(Family::ElbCreateLoadBalancer, 8.0)]).await;
        let start = Instant::now();
        pacer
            .acquire(&[
                (Family::ElbCreateLoadBalancer, 2.0),
                (Family::ElbAccount, 1.0),
            ])
            .await;
        let waited = start.elapsed().as_secs_f64();
        assert!(
            (0.09..0.4).contains(&waited),
            "two tokens at 19/s: {waited}"
        );
    }
}
