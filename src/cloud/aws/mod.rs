//! AWS through the official SDK. SDK types never leave this module: every function here takes
//! and returns the project's own model.

mod apigateway;
mod applied;
mod autoscaling;
mod cloudmap;
mod cloudwatch;
mod ec2;
mod ecr;
mod ecs;
mod elb;
mod errors;
mod iam;
mod kinds;
pub mod lock;
mod logs;
mod observe;
mod ops;
mod ownership;
pub mod pacing;
mod rds;
mod retry;
mod settle;
mod verify;

pub use errors::{classify, set_verbose};

use super::{Cloud, CloudError, OpContext};
use crate::model::{Desired, Kind, Observed, ObservedResource, Resource, TAG_ID, TAG_STACK};
use crate::plan::schedule::OpKind;
use aws_config::retry::RetryConfig;
use aws_config::BehaviorVersion;
use settle::call;
use std::time::Duration;

/// The region of a local run whose file and environment name none: moto's default.
const EMULATOR_REGION: &str = "us-east-1";

/// One client per AWS service; cheap to clone.
#[derive(Clone)]
pub struct AwsCloud {
    ec2: aws_sdk_ec2::Client,
    ecs: aws_sdk_ecs::Client,
    cloudmap: aws_sdk_servicediscovery::Client,
    elb: aws_sdk_elasticloadbalancingv2::Client,
    iam: aws_sdk_iam::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
    apigw: aws_sdk_apigateway::Client,
    apigw2: aws_sdk_apigatewayv2::Client,
    ecr: aws_sdk_ecr::Client,
    autoscaling: aws_sdk_applicationautoscaling::Client,
    cloudwatch: aws_sdk_cloudwatch::Client,
    rds: aws_sdk_rds::Client,
    acm: aws_sdk_acm::Client,
    secrets: aws_sdk_secretsmanager::Client,
    ssm: aws_sdk_ssm::Client,
    quotas: aws_sdk_servicequotas::Client,
    region: String,
    /// The account the credentials act in (from the preflight).
    account: Option<String>,
    timeouts: Timeouts,
    pacer: std::sync::Arc<pacing::Pacer>,
    /// Facts AWS told us once and that never change for an AWS id (a load balancer's DNS name,
    /// a REST API's root resource), so later operations need not ask again.
    facts: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, String>>>,
    /// The NAT gateways this run created: checked once at the end of an apply
    /// (`StackOps::failures_after_apply`).
    created_nats: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

/// How long to wait for AWS's slow operations before giving up with a clear message.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    /// NAT gateways, load balancers, namespaces becoming available or going away.
    pub provisioning: Duration,
    /// Lingering network interfaces and other deletion dependencies.
    pub dependencies: Duration,
    /// Not-found answers about something we just created (eventual consistency).
    pub consistency: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            provisioning: Duration::from_secs(15 * 60),
            dependencies: Duration::from_secs(20 * 60),
            consistency: Duration::from_secs(2 * 60),
        }
    }
}

impl AwsCloud {
    /// Credentials, region and endpoint come from the standard chain (env, profile, SSO,
    /// instance role; `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>`), so the same binary
    /// runs against AWS, LocalStack or moto. `region` overrides the chain's region.
    pub async fn connect(region: Option<&str>) -> Result<Self, CloudError> {
        Self::connect_to(region, None).await
    }

    /// Like `connect`, but every service at `endpoint` with dummy credentials: the local emulator.
    pub async fn connect_to(
        region: Option<&str>,
        endpoint: Option<&str>,
    ) -> Result<Self, CloudError> {
        let mut conf = Self::config(region, endpoint).await;
        if conf.region().is_none() && endpoint.is_some() {
            // The emulator answers in any region: without one from the file or the
            // environment, a local run takes the emulator's default rather than failing.
            conf = Self::config(Some(EMULATOR_REGION), endpoint).await;
        }
        let region = conf.region().map(|r| r.to_string()).ok_or_else(|| {
            CloudError::Other("no AWS region: set `region:` in the topology or AWS_REGION".into())
        })?;
        let account = preflight(&conf).await?;
        Ok(AwsCloud {
            ec2: aws_sdk_ec2::Client::new(&conf),
            ecs: aws_sdk_ecs::Client::new(&conf),
            cloudmap: aws_sdk_servicediscovery::Client::new(&conf),
            elb: aws_sdk_elasticloadbalancingv2::Client::new(&conf),
            iam: aws_sdk_iam::Client::new(&conf),
            logs: aws_sdk_cloudwatchlogs::Client::new(&conf),
            apigw: aws_sdk_apigateway::Client::new(&conf),
            apigw2: aws_sdk_apigatewayv2::Client::new(&conf),
            ecr: aws_sdk_ecr::Client::new(&conf),
            autoscaling: aws_sdk_applicationautoscaling::Client::new(&conf),
            cloudwatch: aws_sdk_cloudwatch::Client::new(&conf),
            rds: aws_sdk_rds::Client::new(&conf),
            acm: aws_sdk_acm::Client::new(&conf),
            secrets: aws_sdk_secretsmanager::Client::new(&conf),
            ssm: aws_sdk_ssm::Client::new(&conf),
            // Quotas are advice for `verify`: two attempts, not ten backed off over a minute
            // (the emulator answers the ones it lacks with 500s).
            quotas: aws_sdk_servicequotas::Client::from_conf(
                aws_sdk_servicequotas::config::Builder::from(&conf)
                    .retry_config(RetryConfig::standard().with_max_attempts(2))
                    .build(),
            ),
            region,
            account,
            timeouts: Timeouts::default(),
            pacer: std::sync::Arc::new(pacing::Pacer::from_env()),
            facts: Default::default(),
            created_nats: Default::default(),
        })
    }

    fn created_nat_gateway(&self, nat: &str) {
        if let Ok(mut nats) = self.created_nats.lock() {
            nats.push(nat.to_string());
        }
    }

    /// The SDK's shared configuration: retries, timeouts, and the region and endpoint given.
    async fn config(region: Option<&str>, endpoint: Option<&str>) -> aws_config::SdkConfig {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            // Throttling and 5xx are retried with exponential backoff and jitter by the SDK.
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(10)
                    .with_max_backoff(Duration::from_secs(20)),
            );
        // Bounded attempts: a connection that never answers is retried, never waited on forever.
        loader = loader.timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(Duration::from_secs(60))
                .build(),
        );
        if let Some(r) = region {
            loader = loader.region(aws_config::Region::new(r.to_string()));
        }
        if let Some(url) = endpoint {
            let creds = aws_sdk_ec2::config::Credentials::new(
                "test",
                "test",
                None,
                None,
                "ecsform-local-emulator",
            );
            loader = loader.endpoint_url(url).credentials_provider(creds);
        }
        loader.load().await
    }

    fn remember(&self, key: &str, value: &str) {
        if let Ok(mut facts) = self.facts.lock() {
            facts.insert(key.to_string(), value.to_string());
        }
    }
    fn recall(&self, key: &str) -> Option<String> {
        self.facts.lock().ok()?.get(key).cloned()
    }
    fn forget(&self, key: &str) {
        if let Ok(mut facts) = self.facts.lock() {
            facts.remove(key);
        }
    }

    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }
}

/// The tags every created resource carries: ownership, logical id, and a readable name.
pub(crate) fn ownership_tags(ctx: &OpContext<'_>, name: &str) -> Vec<(String, String)> {
    vec![
        (TAG_STACK.to_string(), ctx.stack.to_string()),
        (TAG_ID.to_string(), ctx.id.to_string()),
        ("Name".to_string(), name.to_string()),
    ]
}

/// The idempotency token of one create in this run: the SDK's retries of it (after an answer
/// lost after AWS acted) are recognised by AWS instead of making a second one. Unique to the
/// run: AWS remembers a token for at least a day and answers a later create with the same one
/// with the resource it first made, so a resource since deleted and made again (a service
/// removed and added back, a failed NAT gateway replaced in the same subnet with the same
/// address) would get the old one back
/// (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html; the Terraform
/// AWS provider, too, makes a new token per create: `ClientToken: id.UniqueId()`). A rerun
/// after a killed run finds what that run made by its tags instead.
pub(crate) fn client_token(ctx: &OpContext<'_>, extra: &str) -> String {
    use sha2::{Digest, Sha256};
    static RUN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let run = RUN.get_or_init(|| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        format!("{now}/{}", std::process::id())
    });
    let digest = Sha256::digest(format!("{}/{}/{extra}/{run}", ctx.stack, ctx.id).as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

impl Cloud for AwsCloud {
    async fn pace(&self, kind: Kind, op: OpKind) {
        self.pacer.acquire(&kinds::cost(kind, op)).await;
    }

    async fn observe(&self, stack: &str, hint: &Desired) -> Result<Observed, CloudError> {
        let (observed, record) = tokio::join!(
            observe::observe(self, stack, hint),
            applied::read(self, stack)
        );
        let mut observed = observed?;
        observed.last_applied = record?;
        Ok(observed)
    }

    async fn create(&self, ctx: &OpContext<'_>, want: &Resource) -> Result<String, CloudError> {
        self.pacer
            .admit(&kinds::cost(want.kind(), OpKind::Create))
            .await;
        kinds::create(self, ctx, want).await
    }

    async fn update(
        &self,
        ctx: &OpContext<'_>,
        have: &ObservedResource,
        want: &Resource,
    ) -> Result<String, CloudError> {
        self.pacer
            .admit(&kinds::cost(want.kind(), OpKind::Update))
            .await;
        kinds::update(self, ctx, have, want).await
    }

    async fn delete(&self, ctx: &OpContext<'_>, have: &ObservedResource) -> Result<(), CloudError> {
        self.pacer
            .admit(&kinds::cost(have.resource.kind(), OpKind::Delete))
            .await;
        kinds::delete(self, ctx, have).await
    }
}

/// Before any work: credentials that load, and an AWS that answers and accepts them. One
/// `sts:GetCallerIdentity` (needs no permission) with few retries, so a missing profile, an
/// expired SSO session, wrong keys or an unreachable endpoint end the command in a second or
/// two with one line saying what to do, instead of after every other call has been retried.
async fn preflight(conf: &aws_config::SdkConfig) -> Result<Option<String>, CloudError> {
    use aws_credential_types::provider::{error::CredentialsError, ProvideCredentials};
    const NO_CREDENTIALS: &str = "no AWS credentials found: set AWS_PROFILE (for an SSO profile run `aws sso login` first) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; to try ecsform without an AWS account use --local";
    let Some(provider) = conf.credentials_provider() else {
        return Err(CloudError::Credentials(NO_CREDENTIALS.into()));
    };
    let loaded =
        tokio::time::timeout(Duration::from_secs(10), provider.provide_credentials()).await;
    match loaded {
        Err(_) => {
            return Err(CloudError::Credentials(
                "loading AWS credentials took more than 10 s (an unreachable SSO or instance metadata endpoint?): check AWS_PROFILE, or set AWS_EC2_METADATA_DISABLED=true off EC2".into(),
            ))
        }
        Ok(Err(CredentialsError::CredentialsNotLoaded(_))) => {
            return Err(CloudError::Credentials(NO_CREDENTIALS.into()))
        }
        Ok(Err(e)) => {
            let cause = errors::innermost_cause(&e);
            let cause = cause.trim_end_matches('.');
            let lower = cause.to_ascii_lowercase();
            // The default chain's last provider is the instance metadata service: off EC2 its
            // refusal ("IMDS is disabled", "request forbidden", no answer) means that no
            // provider had credentials, and says so the same way whichever provider said it.
            if lower.contains("imds") || lower.contains("instance metadata") {
                return Err(CloudError::Credentials(NO_CREDENTIALS.into()));
            }
            let sso = lower.contains("sso") || lower.contains("token");
            return Err(CloudError::Credentials(if sso {
                format!("the AWS SSO session is missing or expired ({cause}): run `aws sso login` (with the same AWS_PROFILE)")
            } else {
                format!("could not load AWS credentials ({cause}): check AWS_PROFILE and ~/.aws/config; to try ecsform without an AWS account use --local")
            }));
        }
        Ok(Ok(_)) => {}
    }
    let sts_conf = aws_sdk_sts::config::Builder::from(conf)
        .retry_config(RetryConfig::standard().with_max_attempts(2))
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3))
                .operation_timeout(Duration::from_secs(15))
                .build(),
        )
        .build();
    let me = call(|| {
        aws_sdk_sts::Client::from_conf(sts_conf.clone())
            .get_caller_identity()
            .send()
    })
    .await?;
    Ok(me.account().map(String::from))
}

impl super::StackOps for AwsCloud {
    async fn failures_after_apply(&self) -> Result<Vec<String>, CloudError> {
        let nats = self
            .created_nats
            .lock()
            .map(|n| n.clone())
            .unwrap_or_default();
        ec2::failed_nat_gateways(self, &nats).await
    }
    fn region(&self) -> &str {
        &self.region
    }
    async fn record_applied(
        &self,
        stack: &str,
        record: &crate::applied::AppliedRecord,
    ) -> Result<(), CloudError> {
        applied::write(self, stack, record).await
    }
    async fn forget_applied(&self, stack: &str) -> Result<(), CloudError> {
        applied::forget(self, stack).await
    }
    async fn wait_for_steady_services(
        &self,
        stack: &str,
        services: &[String],
        limit: std::time::Duration,
    ) -> Result<(), CloudError> {
        ecs::wait_steady(self, stack, services, limit).await
    }
}

impl AwsCloud {
    /// The inbound rules of groups that are not the stack's (attached by hand to one of its
    /// services, load balancers or databases): `audit` counts what they open too.
    pub async fn rules_of_groups(
        &self,
        groups: &std::collections::BTreeSet<String>,
    ) -> Result<Vec<crate::model::Resource>, CloudError> {
        Ok(ec2::observe_rules(self, groups)
            .await?
            .into_iter()
            .map(|o| o.resource)
            .collect())
    }

    /// Values people need after an apply: the load balancers' DNS names and the REST API's
    /// invoke URL (`api_stage`: the stage the file names).
    pub async fn outputs(
        &self,
        stack: &str,
        api_stage: Option<&str>,
    ) -> Result<std::collections::BTreeMap<String, String>, CloudError> {
        let dns = |name: String| async move {
            match call(|| {
                self.elb
                    .describe_load_balancers()
                    .names(name.clone())
                    .send()
            })
            .await
            {
                Ok(o) => Ok(o
                    .load_balancers()
                    .first()
                    .and_then(|l| l.dns_name())
                    .map(String::from)),
                Err(CloudError::NotFound(_)) => Ok(None),
                Err(e) => Err(e),
            }
        };
        // One read per name (a missing name fails the whole call), in parallel.
        let (alb, nlb) = tokio::try_join!(
            dns(crate::names::load_balancer(stack)),
            dns(crate::names::network_load_balancer(stack)),
        )?;
        let mut out = std::collections::BTreeMap::new();
        for (key, value) in [("load_balancer_dns_name", alb), ("api_nlb_dns_name", nlb)] {
            if let Some(value) = value {
                out.insert(key.to_string(), value);
            }
        }
        if let Some(stage) = api_stage {
            let apis = call(|| self.apigw.get_rest_apis().limit(500).send()).await?;
            let ours = apis.items().iter().find(|a| {
                a.tags()
                    .and_then(|t| t.get(TAG_STACK))
                    .is_some_and(|s| s == stack)
            });
            if let Some(id) = ours.and_then(|a| a.id()) {
                // https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-call-api.html
                out.insert(
                    "api_invoke_url".to_string(),
                    format!(
                        "https://{id}.execute-api.{}.amazonaws.com/{stage}",
                        self.region
                    ),
                );
            }
        }
        Ok(out)
    }
}

impl AwsCloud {
    /// `database.<key>` = `host:port` of each database that exists, and `repository.<key>` =
    /// the URI of each repository that exists (`(key, AWS name)` pairs). Never a password.
    pub async fn data_outputs(
        &self,
        databases: &[(String, String)],
        repositories: &[(String, String)],
    ) -> Result<std::collections::BTreeMap<String, String>, CloudError> {
        let mut out = std::collections::BTreeMap::new();
        // One read per database, in parallel; one listing for the repositories (a missing
        // name would fail a by-name read of all of them).
        let endpoints = futures::future::try_join_all(
            databases
                .iter()
                .map(|(_, identifier)| rds::endpoint_now(self, identifier)),
        );
        let listing = async {
            let mut all = Vec::new();
            if repositories.is_empty() {
                return Ok(all);
            }
            let mut pages = self
                .ecr
                .describe_repositories()
                .max_results(1000)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                all.extend(
                    page.map_err(errors::aws_err)?
                        .repositories()
                        .iter()
                        .cloned(),
                );
            }
            Ok::<_, CloudError>(all)
        };
        let (endpoints, repos) = tokio::try_join!(endpoints, listing)?;
        for ((key, _), endpoint) in databases.iter().zip(endpoints) {
            if let Some((host, port)) = endpoint {
                out.insert(format!("database.{key}"), format!("{host}:{port}"));
            }
        }
        for (key, name) in repositories {
            if let Some(uri) = repos
                .iter()
                .find(|r| r.repository_name() == Some(name.as_str()))
                .and_then(|r| r.repository_uri())
            {
                out.insert(format!("repository.{key}"), uri.to_string());
            }
        }
        Ok(out)
    }
}
