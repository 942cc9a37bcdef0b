//! AWS error codes → `CloudError`, the same way for every service.

use crate::cloud::CloudError;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

pub fn classify<E, R>(err: SdkError<E, R>) -> CloudError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let code = err.code().unwrap_or_default().to_string();
    let message = err.message().unwrap_or_default().to_string();
    let text = if code.is_empty() {
        DisplayErrorContext(&err).to_string()
    } else {
        format!("{code}: {message}")
    };
    from_code(&code, text)
}

pub fn from_code(code: &str, text: String) -> CloudError {
    const NOT_FOUND: &[&str] = &[
        "ResourceNotFoundException",
        "NamespaceNotFound",
        "ServiceNotFound",
        "OperationNotFound",
        "NoSuchEntity",
        "LoadBalancerNotFound",
        "TargetGroupNotFound",
        "ListenerNotFound",
        "RuleNotFound",
        "ClusterNotFoundException",
        "ServiceNotFoundException",
        "ServiceNotActiveException",
    ];
    const IN_USE: &[&str] = &[
        "DependencyViolation",
        "ResourceInUse",
        "ResourceInUseException",
        "ClusterContainsServicesException",
        "ClusterContainsTasksException",
        "DeleteConflict",
        "InvalidIPAddress.InUse",
    ];
    const THROTTLED: &[&str] = &[
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "RequestThrottled",
    ];
    const DENIED: &[&str] = &[
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "AuthFailure",
    ];
    if NOT_FOUND.contains(&code) || code.ends_with(".NotFound") || code.ends_with("NotFound") {
        CloudError::NotFound(text)
    } else if IN_USE.contains(&code) {
        CloudError::DependencyViolation(text)
    } else if THROTTLED.contains(&code) {
        CloudError::Throttled(text)
    } else if DENIED.contains(&code) {
        CloudError::AccessDenied(text)
    } else {
        CloudError::Other(text)
    }
}

/// Whether an error carries this AWS error code (kept at the start of the message).
pub fn has_code(e: &CloudError, code: &str) -> bool {
    let text = match e {
        CloudError::NotFound(t)
        | CloudError::Throttled(t)
        | CloudError::DependencyViolation(t)
        | CloudError::AccessDenied(t)
        | CloudError::Other(t) => t,
        CloudError::Timeout(_) | CloudError::Unresolved(_) => return false,
    };
    text.starts_with(&format!("{code}:"))
}

/// Shorthand: `.send().await.map_err(aws_err)?`.
pub fn aws_err<E, R>(err: SdkError<E, R>) -> CloudError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    classify(err)
}

/// A required builder field was missing: a bug here, reported instead of panicking.
pub fn build_err(e: aws_smithy_types::error::operation::BuildError) -> CloudError {
    CloudError::Other(format!("building an AWS request: {e}"))
}

/// A field AWS should always return was absent.
pub fn missing(what: &str) -> CloudError {
    CloudError::Other(format!("AWS response lacks {what}"))
}
