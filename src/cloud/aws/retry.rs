//! Our own retries, for what the SDK's retry does not cover: eventual consistency after our
//! creates, deletion dependencies that clear on their own, and slow resources.

use crate::cloud::CloudError;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

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

/// What AWS releases on its own goes in clusters: a deleted load balancer's network interfaces
/// leave its subnets and security groups together, and its target groups are free at about the
/// same time; a delete that waited may itself have held others. So when a delete refused with
/// something "in use" goes through, the retries sleeping on such a refusal try again at once,
/// instead of up to a whole interval later (late by 5% of a long wait, each). A wrong guess
/// costs one request per sleeper per success: with the ~20 such deletes of a large stack, a
/// few hundred requests over a destroy, as many as a few minutes of polling. Other refusals
/// (conflicting changes, not-yet-visible ids) are not woken: there, one success says nothing
/// of the others, and waking them all would only make them collide again.
fn released_signal(refusal: &CloudError) -> Option<Arc<Notify>> {
    static IN_USE: Mutex<Option<Arc<Notify>>> = Mutex::new(None);
    if !matches!(refusal, CloudError::DependencyViolation(_)) {
        return None;
    }
    let mut signal = IN_USE.lock().unwrap_or_else(|e| e.into_inner());
    Some(signal.get_or_insert_with(Default::default).clone())
}

/// Retries `f` while `retryable(err)` holds, at intervals of 5% of the time waited so far, for
/// at most `limit`; a success after an "in use" refusal wakes the retries sleeping on one.
pub async fn retry_while<T, F, Fut>(
    what: &str,
    limit: Duration,
    retryable: impl Fn(&CloudError) -> bool,
    f: F,
) -> Result<T, CloudError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, CloudError>>,
{
    let pause = |waited| next_delay(waited, Duration::from_secs(15));
    retry_paced(what, limit, retryable, pause, f).await
}

/// `retry_while` with the pause after `waited` so far given by `pause`.
async fn retry_paced<T, F, Fut>(
    what: &str,
    limit: Duration,
    retryable: impl Fn(&CloudError) -> bool,
    pause: impl Fn(Duration) -> Duration,
    mut f: F,
) -> Result<T, CloudError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, CloudError>>,
{
    let start = Instant::now();
    let shown = crate::waits::begin(crate::waits::label(crate::waits::Kind::Retry, what), limit);
    // What the last attempt was refused with, once it was.
    let mut waited_out: Option<Arc<Notify>> = None;
    loop {
        let delay = pause(start.elapsed());
        match f().await {
            Ok(v) => {
                if let Some(signal) = waited_out {
                    signal.notify_waiters();
                }
                return Ok(v);
            }
            Err(e) if retryable(&e) && start.elapsed() + delay < limit => {
                shown.state(&reason(&e));
                let signal = released_signal(&e);
                crate::slots::unheld(async {
                    match &signal {
                        Some(signal) => tokio::select! {
                            () = tokio::time::sleep(jitter(delay)) => {}
                            () = signal.notified() => {}
                        },
                        None => tokio::time::sleep(jitter(delay)).await,
                    }
                })
                .await;
                waited_out = signal;
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
    use super::{next_delay, retry_paced};
    use crate::cloud::CloudError;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    #[tokio::test]
    async fn a_success_after_an_in_use_refusal_wakes_the_retries_sleeping_on_one_and_no_other() {
        // One lingering dependency holds two deletes; it goes after 120 ms. The first delete
        // retries every 100 ms at most, the second every 10 s: without the wake-up it would try
        // again only seconds after the dependency went.
        let released = Arc::new(AtomicBool::new(false));
        // Two refusals of one kind ("in use"), with different codes: a subnet's and a target
        // group's.
        let attempt = |released: Arc<AtomicBool>, refusal: &'static str| {
            move || {
                let released = released.clone();
                async move {
                    if released.load(Ordering::SeqCst) {
                        Ok(())
                    } else {
                        Err(CloudError::DependencyViolation(refusal.to_string()))
                    }
                }
            }
        };
        let limit = Duration::from_secs(60);
        let slow = tokio::spawn(retry_paced(
            "delete slow",
            limit,
            |_| true,
            |_| Duration::from_secs(10),
            attempt(
                released.clone(),
                "ResourceInUse: target group in use by a listener",
            ),
        ));
        // The slow one has met the error and sleeps before the quick one starts.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let quick = tokio::spawn(retry_paced(
            "delete quick",
            limit,
            |_| true,
            |_| Duration::from_millis(100),
            attempt(
                released.clone(),
                "DependencyViolation: subnet has dependencies",
            ),
        ));
        // A retry refused for another reason (a conflicting change) is not woken: it makes no
        // second attempt before its own 10 s are up.
        let conflict_attempts = Arc::new(AtomicUsize::new(0));
        let counted = conflict_attempts.clone();
        let conflicting = tokio::spawn(retry_paced(
            "update conflicting",
            limit,
            |_| true,
            |_| Duration::from_secs(10),
            move || {
                counted.fetch_add(1, Ordering::SeqCst);
                async {
                    Err::<(), _>(CloudError::Aws {
                        code: "ConflictException".into(),
                        message: "another change is in progress".into(),
                    })
                }
            },
        ));
        tokio::time::sleep(Duration::from_millis(100)).await;
        released.store(true, Ordering::SeqCst);
        let both = async {
            quick.await.expect("quick task").expect("quick delete");
            slow.await.expect("slow task").expect("slow delete");
        };
        tokio::time::timeout(Duration::from_secs(2), both)
            .await
            .expect("the slow retry slept on after the quick one succeeded");
        assert_eq!(
            conflict_attempts.load(Ordering::SeqCst),
            1,
            "a conflicting update was woken by a released delete"
        );
        conflicting.abort();
    }

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
