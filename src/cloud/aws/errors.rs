//! AWS error codes → `CloudError`, the same way for every service.

use crate::cloud::CloudError;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::sync::atomic::{AtomicBool, Ordering};

static VERBOSE: AtomicBool = AtomicBool::new(false);

/// `--verbose`: errors carry the SDK's whole chain of causes, not just the one line.
pub fn set_verbose(on: bool) {
    VERBOSE.store(on, Ordering::Relaxed);
}

fn verbose() -> bool {
    VERBOSE.load(Ordering::Relaxed)
}

pub fn classify<E, R>(err: SdkError<E, R>) -> CloudError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let code = err.code().unwrap_or_default().to_string();
    let message = err.message().unwrap_or_default().to_string();
    if code.is_empty() {
        return without_code(&err);
    }
    from_code_and_message(&code, &message)
}

/// An AWS answer with an error code: classified, or kept with its code.
pub fn from_code_and_message(code: &str, message: &str) -> CloudError {
    match from_code(code, format!("{code}: {message}")) {
        CloudError::Other(_) => CloudError::Aws {
            code: code.to_string(),
            message: message.to_string(),
        },
        classified => classified,
    }
}

/// An error AWS did not answer with a code: no connection, no answer in time, an unreadable
/// answer. One line naming the cause; the full chain only with `--verbose`.
fn without_code<E, R>(err: &SdkError<E, R>) -> CloudError
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let detail = || {
        if verbose() {
            format!("\n  caused by: {}", DisplayErrorContext(err))
        } else {
            String::new()
        }
    };
    match err {
        SdkError::DispatchFailure(d) if d.is_io() || d.is_timeout() => {
            CloudError::Unreachable(format!(
                "could not connect to {} ({}): check the network, proxy settings and AWS_ENDPOINT_URL; without an AWS account use --local{}",
                endpoint_shown(),
                innermost_cause(err),
                detail()
            ))
        }
        SdkError::TimeoutError(_) => CloudError::Unreachable(format!(
            "no answer from {} in time: check the network and AWS_ENDPOINT_URL{}",
            endpoint_shown(),
            detail()
        )),
        SdkError::ResponseError(_) => CloudError::Other(format!(
            "{} sent an answer that is not an AWS response ({}){}",
            endpoint_shown(),
            innermost_cause(err),
            detail()
        )),
        _ => CloudError::Other(format!("{}{}", innermost_cause(err), detail())),
    }
}

/// Where requests go, for messages: the endpoint override if any, else AWS.
fn endpoint_shown() -> String {
    match std::env::var("AWS_ENDPOINT_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => "AWS".to_string(),
    }
}

/// The last message in an error's chain of sources: the actual cause ("Connection refused").
pub fn innermost_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause: &(dyn std::error::Error + 'static) = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// The IAM action named in an access-denied message ("... is not authorized to perform:
/// ec2:CreateVpc on resource ..."), which AWS includes in most of them.
fn denied_action(message: &str) -> Option<&str> {
    let rest = &message[message.find("perform: ")? + "perform: ".len()..];
    let action = rest.split_whitespace().next()?;
    action
        .contains(':')
        .then_some(action.trim_end_matches(['.', ',']))
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
        "NotFoundException",
        "ObjectNotFoundException",
        "DBSubnetGroupNotFoundFault",
        "DBInstanceNotFound",
        "LifecyclePolicyNotFoundException",
        "RepositoryNotFoundException",
    ];
    const IN_USE: &[&str] = &[
        "DependencyViolation",
        "InvalidDBSubnetGroupStateFault",
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
    ];
    // The credentials themselves are refused.
    const BAD_CREDENTIALS: &[&str] = &[
        "AuthFailure",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "InvalidSignatureException",
        "IncompleteSignature",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidAccessKeyId",
        "RequestExpired",
    ];
    if NOT_FOUND.contains(&code) || code.ends_with(".NotFound") || code.ends_with("NotFound") {
        CloudError::NotFound(text)
    } else if IN_USE.contains(&code) {
        CloudError::DependencyViolation(text)
    } else if THROTTLED.contains(&code) {
        CloudError::Throttled(text)
    } else if DENIED.contains(&code) {
        let hint = match denied_action(&text) {
            Some(action) => format!(" (missing IAM permission `{action}`: README \"IAM permissions\" lists every action ecsform needs)"),
            None => " (README \"IAM permissions\" lists every action ecsform needs)".to_string(),
        };
        CloudError::AccessDenied(format!("{text}{hint}"))
    } else if BAD_CREDENTIALS.contains(&code) {
        CloudError::Credentials(format!(
            "AWS refused the credentials ({text}): check AWS_PROFILE or AWS_ACCESS_KEY_ID; for an SSO profile run `aws sso login`"
        ))
    } else {
        CloudError::Other(text)
    }
}

/// Whether an error is AWS's answer with this (unclassified) code.
pub fn has_code(e: &CloudError, code: &str) -> bool {
    e.aws_code() == Some(code)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_denied_names_the_missing_action() {
        let e = from_code(
            "AccessDenied",
            "AccessDenied: User: arn:aws:iam::123456789012:user/ci is not authorized to perform: ecs:CreateCluster on resource: *".into(),
        );
        let CloudError::AccessDenied(text) = e else {
            panic!("not AccessDenied: {e:?}")
        };
        assert!(
            text.contains("missing IAM permission `ecs:CreateCluster`"),
            "{text}"
        );
    }

    #[test]
    fn unclassified_answers_keep_their_code() {
        let e = from_code_and_message(
            "InvalidGroup.Duplicate",
            "The security group 'x' already exists",
        );
        assert!(has_code(&e, "InvalidGroup.Duplicate"), "{e:?}");
        assert!(!has_code(&e, "InvalidGroup"), "{e:?}");
        assert_eq!(
            e.to_string(),
            "InvalidGroup.Duplicate: The security group 'x' already exists"
        );
        let not_found = from_code_and_message("InvalidVpcID.NotFound", "gone");
        assert!(matches!(not_found, CloudError::NotFound(_)));
        assert_eq!(not_found.aws_code(), None);
    }

    #[test]
    fn refused_credentials_say_what_to_do() {
        let e = from_code(
            "ExpiredToken",
            "ExpiredToken: The security token included in the request is expired".into(),
        );
        assert!(
            matches!(&e, CloudError::Credentials(t) if t.contains("aws sso login")),
            "{e:?}"
        );
    }
}
