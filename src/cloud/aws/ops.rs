//! Operations every kind's AWS code shares: deletes that treat "already gone" as done, and
//! deletes that wait out dependencies AWS releases on its own.

use super::errors::has_code;
use super::retry::{is_dependency, is_not_found, retry_while};
use super::AwsCloud;
use crate::cloud::CloudError;

/// A delete (or detach, deregister) whose target is already gone has done its job.
pub fn gone_is_done<T>(result: Result<T, CloudError>) -> Result<(), CloudError> {
    match result {
        Err(e) if !is_not_found(&e) => Err(e),
        _ => Ok(()),
    }
}

/// Deletes tolerate NotFound (someone else already did it) and retry dependency errors that
/// clear on their own (interfaces of stopped tasks and deleted load balancers linger for minutes).
pub async fn delete_retrying<F, Fut>(cloud: &AwsCloud, what: &str, f: F) -> Result<(), CloudError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), CloudError>>,
{
    gone_is_done(retry_while(what, cloud.timeouts.dependencies, is_dependency, f).await)
}

/// Waits until `describe` answers not-found — for deletions AWS finishes later (a VPC link
/// DELETING for minutes, whose resources stay held meanwhile). `describe` returns the state
/// while the resource is still listed.
pub async fn wait_until_gone<F, Fut>(
    cloud: &AwsCloud,
    what: &str,
    mut describe: F,
) -> Result<(), CloudError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<String, CloudError>>,
{
    super::retry::wait_until(
        &format!("{what} to be deleted"),
        cloud.timeouts.provisioning,
        || {
            let read = describe();
            async move {
                match read.await {
                    Err(CloudError::NotFound(_)) => Ok(None),
                    Err(e) => Err(e),
                    Ok(state) => Ok(Some(state)),
                }
            }
        },
    )
    .await
}

/// A create refused with `code` because the resource exists already — made by our own earlier
/// create whose answer was lost, or by a run that was killed — adopts what `find` locates as
/// ours; when `find` finds nothing of ours ([`nothing_of_ours`]), the refusal stands, saying
/// that what exists is not this stack's: a stranger's resource is never adopted.
pub async fn adopt_if_exists<F, Fut>(
    created: Result<String, CloudError>,
    code: &str,
    find: F,
) -> Result<String, CloudError>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<String, CloudError>>,
{
    match created {
        Err(refused) if has_code(&refused, code) => match find().await {
            Err(CloudError::NotFound(_)) => Err(not_adopted(refused)),
            found => found,
        },
        other => other,
    }
}

/// Whether AWS may have carried out a request whose answer did not arrive: a server error
/// (AWS may fail after acting), or no answer at all.
pub fn answer_may_be_lost(e: &CloudError) -> bool {
    const SERVER_ERRORS: &[&str] = &[
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "ServiceUnavailable",
        "Unavailable",
    ];
    matches!(e, CloudError::Unreachable(_))
        || e.aws_code().is_some_and(|c| SERVER_ERRORS.contains(&c))
}

/// A create AWS neither recognises by an idempotency token nor refuses as a duplicate
/// (CreateVpc, CreateInternetGateway, AllocateAddress, CreateRestApi, CreateVpcLink: each call
/// makes one more). `create` sends it without the SDK's own retry (which would make a second
/// one after a lost answer); when its answer may have been lost after AWS acted, what `find`
/// locates by this operation's ownership tags is the one it made, and only if there is none is
/// it sent again. Throttled attempts were refused before acting: sent again after a pause.
pub async fn create_or_find<T, C, CF, F, FF>(
    what: &str,
    mut create: C,
    mut find: F,
) -> Result<T, CloudError>
where
    C: FnMut() -> CF,
    CF: std::future::Future<Output = Result<T, CloudError>>,
    F: FnMut() -> FF,
    FF: std::future::Future<Output = Result<Option<T>, CloudError>>,
{
    // As many attempts as the SDK's own retry makes (mod.rs), at its pauses.
    const ATTEMPTS: u32 = 10;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let refused = match create().await {
            Err(e) if answer_may_be_lost(&e) => {
                // A resource made a moment ago may take a moment to be listed by its tags.
                for look in 0..2 {
                    if look > 0 {
                        crate::slots::sleep_unheld(std::time::Duration::from_secs(1)).await;
                    }
                    if let Some(made) = find().await? {
                        return Ok(made);
                    }
                }
                e
            }
            Err(e @ CloudError::Throttled(_)) => e,
            other => return other,
        };
        if attempt >= ATTEMPTS {
            return Err(CloudError::Timeout(format!(
                "{what}: no usable answer after {ATTEMPTS} attempts: {refused}"
            )));
        }
        let pause = std::time::Duration::from_millis(500 * 2u64.pow(attempt.min(6)));
        crate::slots::sleep_unheld(pause.min(std::time::Duration::from_secs(20))).await;
    }
}

/// A refusal to create something that exists and is not ours, saying so.
fn not_adopted(refused: CloudError) -> CloudError {
    match refused {
        CloudError::Aws { code, message } => CloudError::Aws {
            code,
            message: format!(
                "{message} (it does not carry this stack's ownership tags: ecsform never takes over what it did not create; rename it in the file, or delete it)"
            ),
        },
        other => other,
    }
}

/// What `find` answers when nothing it sees is ours.
pub fn nothing_of_ours() -> CloudError {
    CloudError::NotFound("no earlier create of ours".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gone_is_done_keeps_other_errors() {
        assert_eq!(
            gone_is_done::<()>(Err(CloudError::NotFound("x".into()))),
            Ok(())
        );
        assert_eq!(gone_is_done(Ok(3)), Ok(()));
        let e = CloudError::DependencyViolation("in use".into());
        assert_eq!(gone_is_done::<()>(Err(e.clone())), Err(e));
    }

    #[tokio::test]
    async fn adopt_if_exists_adopts_ours_and_keeps_other_refusals() {
        let dup = || CloudError::Aws {
            code: "InvalidGroup.Duplicate".into(),
            message: "exists".into(),
        };
        let found = |id: Option<&'static str>| async move {
            id.map(String::from).ok_or_else(nothing_of_ours)
        };
        let code = "InvalidGroup.Duplicate";
        assert_eq!(
            adopt_if_exists(Err(dup()), code, || found(Some("sg-1"))).await,
            Ok("sg-1".into())
        );
        let refused = adopt_if_exists(Err(dup()), code, || found(None)).await;
        assert!(
            matches!(&refused, Err(CloudError::Aws { code: c, message }) if c == code && message.contains("does not carry this stack's ownership tags")),
            "{refused:?}"
        );
        assert_eq!(
            adopt_if_exists(Err(dup()), "Other", || found(Some("sg-1"))).await,
            Err(dup())
        );
        assert_eq!(
            adopt_if_exists(Ok("sg-2".into()), code, || found(Some("sg-1"))).await,
            Ok("sg-2".into())
        );
    }
}
