//! Operations every kind's AWS code shares: deletes that treat "already gone" as done, and
//! deletes that wait out dependencies AWS releases on its own.

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
}
