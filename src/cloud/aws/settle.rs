//! The answers AWS gives while it settles, as one table, and the one way every request is sent.
//!
//! Real AWS refuses some requests for a while after a change — a role not yet propagated, a
//! service-linked role being created, a service Application Auto Scaling does not see yet,
//! another change to the same REST API in progress — where moto answers at once. Such an
//! answer is not the caller's to handle: [`call`] sends a request, looks its refusal up in
//! [`TRANSIENT`] by service, operation, error code and message, and tries again for as long as
//! the row says. Every request of `src/cloud/aws/` goes through it (but the pages the SDK's
//! paginators send for list reads, which no row concerns), so a row covers the operation
//! wherever it is sent.
//!
//! What is not here, because it is not a transient refusal of one request:
//! - throttling, 5xx and dropped connections: the SDK's own retry (`mod.rs`);
//! - "in use" on deletes (a dependency AWS releases on its own, minutes later): `ops::delete_retrying`,
//!   for `Timeouts::dependencies`, the deletes waking each other (`retry.rs`);
//! - not-found right after our own create (eventual consistency of ids): `ec2::consistent`
//!   and the kinds that wait for what they reference, for `Timeouts::consistency`.

use super::errors::classify;
use super::retry::next_delay;
use crate::cloud::CloudError;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::future::Future;
use std::time::Duration;
// Tokio's clock: paused in unit tests, where a retry of minutes then runs out at once.
use tokio::time::Instant;

/// A refusal AWS is documented (or known from the field) to give while it settles.
#[derive(Debug)]
pub struct Transient {
    /// The SDK crate's service name: `ecs`, `iam`, `apigateway`, `cloudwatchlogs`, …
    pub service: &'static str,
    /// The operations it applies to, by their API names; empty: every operation of the service.
    pub operations: &'static [&'static str],
    /// AWS's error code.
    pub code: &'static str,
    /// A fragment the message must contain, where AWS uses the code for other refusals too.
    pub message: Option<&'static str>,
    /// A fragment that makes the answer final instead (RDS: "is already being deleted").
    pub unless: Option<&'static str>,
    /// How long AWS may keep answering it.
    pub lasts: Duration,
    /// Why AWS answers it, for the message of a retry that runs out.
    pub why: &'static str,
    /// The AWS page, or the Terraform AWS provider's file and function that retries the same.
    pub source: &'static str,
}

impl Transient {
    /// Whether this row covers `code` / `message` from `operation` of `service`.
    pub fn covers(&self, service: &str, operation: &str, code: &str, message: &str) -> bool {
        self.service == service
            && (self.operations.is_empty() || self.operations.contains(&operation))
            && self.code == code
            && self.message.is_none_or(|m| message.contains(m))
            && self.unless.is_none_or(|m| !message.contains(m))
    }
}

const SECOND: u64 = 1;
const MINUTE: u64 = 60 * SECOND;
/// IAM is eventually consistent: a role or policy is usable everywhere within seconds, and
/// the Terraform provider waits up to 2 minutes for it (`propagationTimeout`,
/// internal/service/iam/wait.go).
const PROPAGATION: Duration = Duration::from_secs(2 * MINUTE);

/// ECS services: the provider waits the propagation and a service create's own 2 minutes
/// (`propagationTimeout + serviceCreateTimeout`, internal/service/ecs/service.go).
const SERVICE_PROPAGATION: Duration = Duration::from_secs(4 * MINUTE);

/// The table. Rows are matched in order; the first that covers an answer decides.
pub static TRANSIENT: &[Transient] = &[
    // ---- ECS
    Transient {
        service: "ecs",
        operations: &["CreateCluster"],
        code: "InvalidParameterException",
        message: Some("Unable to assume the service linked role"),
        unless: None,
        lasts: PROPAGATION,
        why: "ECS creates its service-linked role on an account's first cluster and needs a moment to use it",
        source: "terraform-provider-aws internal/service/ecs/cluster.go, resourceClusterCreate (retryClusterCreate)",
    },
    Transient {
        service: "ecs",
        operations: &["CreateService", "UpdateService"],
        code: "InvalidParameterException",
        message: Some("verify that the ECS service role being passed has the proper permissions"),
        unless: None,
        lasts: SERVICE_PROPAGATION,
        why: "a role just created or changed is not yet visible to ECS (IAM propagation)",
        source: "terraform-provider-aws internal/service/ecs/service.go, retryServiceCreate / resourceServiceUpdate",
    },
    Transient {
        service: "ecs",
        operations: &["CreateService"],
        code: "InvalidParameterException",
        message: Some("Unable to assume the service linked role"),
        unless: None,
        lasts: SERVICE_PROPAGATION,
        why: "ECS's service-linked role, made with the account's first cluster, is not usable yet",
        source: "terraform-provider-aws internal/service/ecs/service.go, retryServiceCreate",
    },
    Transient {
        service: "ecs",
        operations: &["CreateService", "UpdateService"],
        code: "InvalidParameterException",
        message: Some("does not have an associated load balancer"),
        unless: None,
        lasts: SERVICE_PROPAGATION,
        why: "a listener rule just created is not yet seen by ECS",
        source: "terraform-provider-aws internal/service/ecs/service.go, retryServiceCreate",
    },
    Transient {
        service: "ecs",
        operations: &["CreateService"],
        code: "ClusterNotFoundException",
        message: None,
        unless: None,
        lasts: SERVICE_PROPAGATION,
        why: "a cluster just created is not yet visible to CreateService",
        source: "terraform-provider-aws internal/service/ecs/service.go, retryServiceCreate (ClusterNotFoundException)",
    },
    Transient {
        service: "ecs",
        operations: &["DeleteService"],
        code: "InvalidParameterException",
        message: Some("cannot be stopped while deployments are active"),
        unless: None,
        lasts: Duration::from_secs(20 * MINUTE),
        why: "a deployment is still rolling out",
        source: "terraform-provider-aws internal/service/ecs/service.go, resourceServiceDelete",
    },
    Transient {
        service: "ecs",
        operations: &["DeleteCluster"],
        code: "UpdateInProgressException",
        message: None,
        unless: None,
        lasts: Duration::from_secs(10 * MINUTE),
        why: "a change to the cluster (capacity providers, settings) is still in progress",
        source: "terraform-provider-aws internal/service/ecs/cluster.go, resourceClusterDelete",
    },
    // ---- Application Auto Scaling
    Transient {
        service: "applicationautoscaling",
        operations: &["RegisterScalableTarget"],
        code: "ValidationException",
        message: Some("ECS service doesn't exist"),
        unless: None,
        lasts: PROPAGATION,
        why: "a service just created is not yet seen by Application Auto Scaling",
        source: "terraform-provider-aws internal/service/appautoscaling/target.go, resourceTargetPut",
    },
    Transient {
        service: "applicationautoscaling",
        operations: &["RegisterScalableTarget"],
        code: "ValidationException",
        message: Some("Unable to assume IAM role"),
        unless: None,
        lasts: PROPAGATION,
        why: "Application Auto Scaling's service-linked role is not usable yet",
        source: "terraform-provider-aws internal/service/appautoscaling/target.go, registerScalableTarget",
    },
    Transient {
        service: "applicationautoscaling",
        operations: &["PutScalingPolicy", "DeleteScalingPolicy"],
        code: "FailedResourceAccessException",
        message: None,
        unless: None,
        lasts: PROPAGATION,
        why: "Application Auto Scaling's service-linked role is not yet usable",
        source: "terraform-provider-aws internal/service/appautoscaling/policy.go, resourcePolicyPut / resourcePolicyDelete",
    },
    Transient {
        service: "applicationautoscaling",
        operations: &["PutScalingPolicy"],
        code: "ObjectNotFoundException",
        message: None,
        unless: None,
        lasts: PROPAGATION,
        why: "a scalable target just registered is not yet visible",
        source: "terraform-provider-aws internal/service/appautoscaling/policy.go, resourcePolicyPut (its SDK v1 version; the issue's field report)",
    },
    // ---- IAM
    Transient {
        service: "iam",
        operations: &[],
        code: "ConcurrentModification",
        message: None,
        unless: None,
        lasts: PROPAGATION,
        why: "another change to the same role is in progress",
        source: "terraform-provider-aws internal/service/iam/role_policy_attachment.go, attachPolicyToRole / detachPolicyFromRole",
    },
    Transient {
        service: "iam",
        operations: &["DeleteRole"],
        code: "DeleteConflict",
        message: None,
        unless: None,
        lasts: PROPAGATION,
        why: "the policies just detached are still seen attached",
        source: "terraform-provider-aws internal/service/iam/role.go, deleteRole (DeleteConflictException)",
    },
    // ---- API Gateway: one change at a time per REST API (and per account for some)
    Transient {
        service: "apigateway",
        operations: &[],
        code: "ConflictException",
        // "Unable to complete operation due to concurrent modification. Please try again
        // later."; other conflicts ("Stage already exists") are final.
        message: Some("try again later"),
        unless: None,
        lasts: Duration::from_secs(5 * MINUTE),
        why: "another change to the same API is in progress (concurrent modification)",
        source: "terraform-provider-aws internal/service/apigateway/service_package.go, NewClient (a retryer on every call)",
    },
    Transient {
        service: "apigatewayv2",
        operations: &[],
        code: "ConflictException",
        message: Some("try again later"),
        unless: None,
        lasts: Duration::from_secs(5 * MINUTE),
        why: "another change to the same API or VPC link is in progress",
        source: "terraform-provider-aws internal/service/apigateway/service_package.go, NewClient (the same answer of API Gateway V2)",
    },
    // ---- CloudWatch Logs
    Transient {
        service: "cloudwatchlogs",
        operations: &[],
        code: "OperationAbortedException",
        message: None,
        unless: None,
        lasts: Duration::from_secs(2 * MINUTE),
        why: "a conflicting operation is in progress against the log group",
        source: "terraform-provider-aws internal/service/logs/group.go, resourceGroupDelete (OperationAbortedException, \"try again\")",
    },
    // ---- ELBv2
    Transient {
        service: "elasticloadbalancingv2",
        operations: &["CreateListener", "ModifyListener", "AddListenerCertificates"],
        code: "CertificateNotFound",
        message: None,
        unless: None,
        lasts: Duration::from_secs(5 * MINUTE),
        why: "a certificate ACM issued a moment ago is not yet visible to the load balancer",
        source: "terraform-provider-aws internal/service/elbv2/listener.go, retryListenerCreate and resourceListenerUpdate (CertificateNotFound)",
    },
    // ---- RDS
    Transient {
        service: "rds",
        operations: &["ModifyDBInstance"],
        code: "InvalidDBInstanceState",
        message: None,
        unless: None,
        lasts: Duration::from_secs(30 * MINUTE),
        why: "the instance is busy (backing up, modifying, rebooting) and takes changes once available",
        source: "terraform-provider-aws internal/service/rds/instance.go, resourceInstanceDelete's ModifyDBInstance (InvalidDBInstanceState, \"Try your request later\")",
    },
    Transient {
        service: "rds",
        operations: &["DeleteDBInstance"],
        code: "InvalidDBInstanceState",
        message: None,
        unless: Some("is already being deleted"),
        lasts: Duration::from_secs(30 * MINUTE),
        why: "the instance is busy (creating, backing up, modifying) and can be deleted once available",
        source: "terraform-provider-aws internal/service/rds/instance.go, resourceInstanceDelete (\"is already being deleted\" is final)",
    },
    // ---- EC2
    Transient {
        service: "ec2",
        operations: &["DeleteSecurityGroup"],
        code: "InvalidGroup.InUse",
        message: None,
        unless: None,
        lasts: Duration::from_secs(15 * MINUTE),
        why: "another group's rule still references it, or an interface still uses it",
        source: "terraform-provider-aws internal/service/ec2/vpc_security_group.go, resourceSecurityGroupDelete (InvalidGroup.InUse)",
    },
];

/// The row covering an answer, if any.
pub fn transient(
    service: &str,
    operation: &str,
    code: &str,
    message: &str,
) -> Option<&'static Transient> {
    TRANSIENT
        .iter()
        .find(|row| row.covers(service, operation, code, message))
}

/// The service and operation of an SDK error type, from its path:
/// `aws_sdk_ecs::operation::create_cluster::CreateClusterError` → (`ecs`, `CreateCluster`).
pub fn operation_of<E>() -> (&'static str, &'static str) {
    let path = std::any::type_name::<E>();
    let service = path
        .split("::")
        .next()
        .and_then(|krate| krate.strip_prefix("aws_sdk_"))
        .unwrap_or("");
    let operation = path
        .rsplit("::")
        .next()
        .and_then(|name| name.strip_suffix("Error"))
        .unwrap_or("");
    (service, operation)
}

/// Sends a request (`send` builds and sends it anew for each attempt) and tries again while
/// AWS answers a [`TRANSIENT`] refusal, for as long as its row says; any other error is
/// classified as usual. A retry that runs out says so: the operation, AWS's last answer and how
/// long it tried.
pub async fn call<T, E, R, F, Fut>(mut send: F) -> Result<T, CloudError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, R>>>,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let (service, operation) = operation_of::<E>();
    retry_transient(service, operation, move || {
        let attempt = send();
        async move {
            attempt.await.map_err(|err| {
                let code = err.code().unwrap_or_default().to_string();
                let message = err.message().unwrap_or_default().to_string();
                (code, message, classify(err))
            })
        }
    })
    .await
}

/// [`call`]'s loop, on answers already split into code, message and classified error.
async fn retry_transient<T, F, Fut>(
    service: &str,
    operation: &str,
    mut attempt: F,
) -> Result<T, CloudError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, (String, String, CloudError)>>,
{
    let mut settling: Option<(Instant, crate::waits::WaitGuard)> = None;
    loop {
        let (code, message, error) = match attempt().await {
            Ok(v) => return Ok(v),
            Err(refused) => refused,
        };
        let Some(row) = transient(service, operation, &code, &message) else {
            return Err(error);
        };
        let (since, shown) = settling.get_or_insert_with(|| {
            let label = crate::waits::label(crate::waits::Kind::Retry, operation);
            (Instant::now(), crate::waits::begin(label, row.lasts))
        });
        let waited = since.elapsed();
        let pause = next_delay(waited, Duration::from_secs(10));
        if waited + pause >= row.lasts {
            return Err(ran_out(operation, row, &error, waited));
        }
        shown.state(&code);
        crate::slots::sleep_unheld(pause).await;
    }
}

fn ran_out(operation: &str, row: &Transient, last: &CloudError, waited: Duration) -> CloudError {
    CloudError::Timeout(format!(
        "{operation}: AWS still answered `{last}` after {} of trying again ({}; retried as {}); run the command again to resume",
        crate::waits::short(waited),
        row.why,
        row.source
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn a_row_covers_only_its_operation_code_and_message() {
        let slr = "Unable to assume the service linked role. Please verify that the ECS service linked role exists.";
        let row = transient("ecs", "CreateCluster", "InvalidParameterException", slr)
            .expect("the service-linked role refusal is transient");
        assert!(row.source.contains("cluster.go"), "{}", row.source);
        // Same code, another operation, another service, another message: final.
        assert!(transient(
            "ecs",
            "RegisterTaskDefinition",
            "InvalidParameterException",
            slr
        )
        .is_none());
        assert!(transient("ecr", "CreateCluster", "InvalidParameterException", slr).is_none());
        assert!(transient(
            "ecs",
            "CreateCluster",
            "InvalidParameterException",
            "Cluster name is invalid"
        )
        .is_none());
        assert!(transient("ecs", "CreateCluster", "ClientException", slr).is_none());
        // A row without operations covers every operation of its service.
        let concurrent =
            "Unable to complete operation due to concurrent modification. Please try again later.";
        for op in ["CreateStage", "DeleteRestApi", "PutIntegration"] {
            assert!(
                transient("apigateway", op, "ConflictException", concurrent).is_some(),
                "{op}"
            );
            // Another conflict is final: what is asked for exists already.
            let exists = "Stage already exists";
            assert!(
                transient("apigateway", op, "ConflictException", exists).is_none(),
                "{op}"
            );
        }
        // An `unless` fragment makes the answer final: RDS deleting already is not a refusal.
        assert!(transient(
            "rds",
            "DeleteDBInstance",
            "InvalidDBInstanceState",
            "Instance orders-db is currently backing-up"
        )
        .is_some());
        assert!(transient(
            "rds",
            "DeleteDBInstance",
            "InvalidDBInstanceState",
            "Instance orders-db is already being deleted."
        )
        .is_none());
    }

    #[test]
    fn every_row_names_its_source_and_reason() {
        for row in TRANSIENT {
            assert!(!row.why.is_empty() && !row.code.is_empty(), "{row:?}");
            assert!(
                row.source.starts_with("https://docs.aws.amazon.com/")
                    || row
                        .source
                        .starts_with("terraform-provider-aws internal/service/"),
                "{row:?}"
            );
            assert!(row.lasts >= Duration::from_secs(60), "{row:?}");
        }
    }

    #[test]
    fn the_operation_is_read_from_the_error_type() {
        assert_eq!(
            operation_of::<aws_sdk_ecs::operation::create_cluster::CreateClusterError>(),
            ("ecs", "CreateCluster")
        );
        assert_eq!(
            operation_of::<aws_sdk_cloudwatchlogs::operation::delete_log_group::DeleteLogGroupError>(
            ),
            ("cloudwatchlogs", "DeleteLogGroup")
        );
    }

    fn refusal(code: &str, message: &str) -> (String, String, CloudError) {
        let error = super::super::errors::from_code_and_message(code, message);
        (code.to_string(), message.to_string(), error)
    }

    #[tokio::test]
    async fn a_transient_refusal_is_retried_until_it_clears() {
        let attempts = AtomicUsize::new(0);
        let answer = retry_transient("iam", "AttachRolePolicy", || {
            let n = attempts.fetch_add(1, Ordering::SeqCst);
            async move {
                if n < 2 {
                    Err(refusal(
                        "ConcurrentModification",
                        "Rate exceeded for this role",
                    ))
                } else {
                    Ok(n)
                }
            }
        })
        .await;
        assert_eq!(answer, Ok(2));
    }

    #[tokio::test]
    async fn other_answers_are_final_at_once() {
        let attempts = AtomicUsize::new(0);
        let answer: Result<(), _> = retry_transient("iam", "AttachRolePolicy", || {
            attempts.fetch_add(1, Ordering::SeqCst);
            async { Err(refusal("NoSuchEntity", "The role cannot be found")) }
        })
        .await;
        assert!(matches!(answer, Err(CloudError::NotFound(_))), "{answer:?}");
        assert_eq!(attempts.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_retry_that_runs_out_names_the_operation_the_answer_and_the_time() {
        let answer: Result<(), _> = retry_transient("ecs", "CreateCluster", || async {
            Err(refusal(
                "InvalidParameterException",
                "Unable to assume the service linked role. Please verify that the ECS service linked role exists.",
            ))
        })
        .await;
        let Err(CloudError::Timeout(text)) = answer else {
            panic!("not a timeout: {answer:?}")
        };
        assert!(
            text.starts_with(
                "CreateCluster: AWS still answered `InvalidParameterException: Unable to assume"
            ),
            "{text}"
        );
        assert!(text.contains("after 1m"), "{text}");
        assert!(text.contains("service-linked role"), "{text}");
    }
}
