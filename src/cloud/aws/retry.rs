//! Our own retries, for what the SDK's retry does not cover: eventual consistency after our
//! creates, deletion dependencies that clear on their own, and slow resources.

use crate::cloud::CloudError;
use std::future::Future;
use std::time::{Duration, Instant};

fn jitter(base: Duration) -> Duration {
    // Full jitter without a random crate: sub-second clock noise is uncorrelated enough between
    // concurrent tasks to spread them out.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let fraction = f64::from(nanos % 1000) / 1000.0;
    base.mul_f64(0.5 + fraction / 2.0)
}

/// Retries `f` while `retryable(err)` holds, with capped exponential backoff, for at most `limit`.
pub async fn retry_while<T, F, Fut>(
    what: &str,
    limit: Duration,
    retryable: impl Fn(&CloudError) -> bool,
    mut f: F,
) -> Result<T, CloudError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, CloudError>>,
{
    let start = Instant::now();
    let mut delay = Duration::from_millis(250);
    let shown = crate::waits::begin(crate::waits::label(crate::waits::Kind::Retry, what), limit);
    loop {
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) if retryable(&e) && start.elapsed() + delay < limit => {
                shown.state(&reason(&e));
                tokio::time::sleep(jitter(delay)).await;
                delay = (delay * 2).min(Duration::from_secs(15));
            }
            Err(e) if retryable(&e) => {
                return Err(CloudError::Timeout(format!(
                    "{what}: still failing after {:?}: {e}",
                    start.elapsed()
                )))
            }
            Err(e) => return Err(e),
        }
    }
}

/// Why a retry waits, short: the AWS error code where the answer names one
/// (`ResourceInUse`, `DependencyViolation`), else the kind of error.
fn reason(e: &CloudError) -> String {
    let (kind, text) = match e {
        CloudError::Aws { code, .. } => return code.clone(),
        CloudError::NotFound(t) => ("not found yet", t),
        CloudError::Throttled(t) => ("throttled", t),
        CloudError::DependencyViolation(t) => ("a dependency still holds it", t),
        CloudError::Timeout(t) => ("timed out", t),
        other => return other.to_string(),
    };
    match text.split_once(':') {
        Some((code, _))
            if !code.is_empty() && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '.') =>
        {
            code.to_string()
        }
        _ => kind.to_string(),
    }
}

pub fn is_not_found(e: &CloudError) -> bool {
    matches!(e, CloudError::NotFound(_))
}

/// `None` for an answer saying the thing does not exist (any more), the answer otherwise.
pub fn found<T>(answer: Result<T, CloudError>) -> Result<Option<T>, CloudError> {
    match answer {
        Err(e) if is_not_found(&e) => Ok(None),
        other => other.map(Some),
    }
}

pub fn is_dependency(e: &CloudError) -> bool {
    matches!(e, CloudError::DependencyViolation(_))
}

/// Polls `check` until it reports done, at a gentle interval, for at most `limit`.
/// `check` returns `Ok(Some(state))` while not ready (the state names what we wait for).
pub async fn wait_until<F, Fut>(what: &str, limit: Duration, mut check: F) -> Result<(), CloudError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<String>, CloudError>>,
{
    let start = Instant::now();
    let mut delay = Duration::from_millis(200);
    let shown = crate::waits::begin(crate::waits::label(crate::waits::Kind::Poll, what), limit);
    loop {
        match check().await? {
            None => return Ok(()),
            Some(state) if start.elapsed() + delay >= limit => {
                return Err(CloudError::Timeout(format!(
                    "{what} is still {state} after {}s; AWS may be slow: run apply again to resume",
                    start.elapsed().as_secs()
                )))
            }
            Some(state) => {
                shown.state(&state);
                tokio::time::sleep(jitter(delay)).await;
                delay = (delay * 2).min(Duration::from_secs(10));
            }
        }
    }
}
