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

/// The pause before the next poll or retry of something waited on for `elapsed`: 5% of it,
/// between 250 ms and `cap`. Readiness is then seen at most 5% (and at most `cap`) after it
/// happens, where doubling the pause could see it a whole pause late; a wait of minutes costs
/// a poll every few seconds.
pub fn next_delay(elapsed: Duration, cap: Duration) -> Duration {
    elapsed.mul_f64(0.05).clamp(Duration::from_millis(250), cap)
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
    let shown = crate::waits::begin(crate::waits::label(crate::waits::Kind::Retry, what), limit);
    loop {
        let delay = next_delay(start.elapsed(), Duration::from_secs(15));
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) if retryable(&e) && start.elapsed() + delay < limit => {
                shown.state(&reason(&e));
                crate::slots::sleep_unheld(jitter(delay)).await;
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
    let shown = crate::waits::begin(crate::waits::label(crate::waits::Kind::Poll, what), limit);
    loop {
        let delay = next_delay(start.elapsed(), Duration::from_secs(10));
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
                crate::slots::sleep_unheld(jitter(delay)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::next_delay;
    use std::time::Duration;

    #[test]
    fn polls_come_at_most_five_percent_late() {
        let cap = Duration::from_secs(10);
        let cases = [
            (0, 250),          // at once: the floor
            (4_000, 250),      // 5% of 4 s is 200 ms: still the floor
            (20_000, 1000),    // 5% of 20 s
            (90_000, 4500),    // a NAT gateway's minute and a half
            (600_000, 10_000), // a VPC link's ten minutes: the cap
        ];
        for (elapsed_ms, want_ms) in cases {
            assert_eq!(
                next_delay(Duration::from_millis(elapsed_ms), cap),
                Duration::from_millis(want_ms),
                "after {elapsed_ms} ms"
            );
        }
        // Summed over a whole wait, the polls a 10-minute wait makes stay in the low hundreds.
        let (mut t, mut polls) = (Duration::ZERO, 0);
        while t < Duration::from_secs(600) {
            t += next_delay(t, cap);
            polls += 1;
        }
        assert!((100..200).contains(&polls), "{polls} polls");
    }
}
