//! The waits and retries under way, for the progress display: what each waits for, why (the
//! AWS state or error code), since when, and its limit. The cloud layer registers them; a
//! terminal shows the longest one on a line that keeps ticking, and a log without a terminal
//! gets a line at each change of state and at least once a minute per wait.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often a wait that does not change is repeated in a log.
pub const LOG_EVERY: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct Wait {
    /// "retrying delete tg.api" / "waiting for load balancer shop-alb".
    pub what: String,
    /// The AWS state or error code it waits out: "provisioning", "ResourceInUse".
    pub why: String,
    pub since: Instant,
    pub limit: Duration,
    logged: Option<(String, Instant)>,
}

impl Wait {
    /// For a progress bar, the state and times first (a narrow terminal cuts the end):
    /// "ResourceInUse, 3m 10s of 20m: retrying delete tg.api".
    pub fn bar_line(&self, now: Instant) -> String {
        format!(
            "{}, {} of {}: {}",
            self.why,
            short(now.saturating_duration_since(self.since)),
            short(self.limit),
            self.what
        )
    }

    /// "retrying delete tg.api: ResourceInUse, 3m 10s of 20m".
    pub fn line(&self, now: Instant) -> String {
        format!(
            "{}: {}, {} of {}",
            self.what,
            self.why,
            short(now.saturating_duration_since(self.since)),
            short(self.limit)
        )
    }
}

static WAITS: Mutex<BTreeMap<u64, Wait>> = Mutex::new(BTreeMap::new());
static NEXT: AtomicU64 = AtomicU64::new(0);
/// Without a terminal, waits print their own lines; with one, the progress bar shows them.
static LOG_LINES: AtomicBool = AtomicBool::new(true);

pub fn set_log_lines(on: bool) {
    LOG_LINES.store(on, Ordering::Relaxed);
}

tokio::task_local! {
    /// The operation a wait belongs to ("delete tg.api-gateway"), so it is named by the
    /// resource the user knows rather than an AWS id.
    static OPERATION: String;
}

/// Runs `f` as operation `label`: the waits and retries inside it are named after it.
pub async fn within<F: std::future::Future>(label: String, f: F) -> F::Output {
    OPERATION.scope(label, f).await
}

/// Why a wait is shown: a retry of a refused call, or a poll of a state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Retry,
    Poll,
}

/// "retrying delete tg.api-gateway" / "create alb: waiting for load balancer shop-alb"; without
/// an operation, "retrying <what>" / "waiting for <what>".
pub fn label(kind: Kind, what: &str) -> String {
    match (kind, OPERATION.try_with(String::clone).ok()) {
        (Kind::Retry, Some(op)) => format!("retrying {op}"),
        (Kind::Poll, Some(op)) => format!("{op}: waiting for {what}"),
        (Kind::Retry, None) => format!("retrying {what}"),
        (Kind::Poll, None) => format!("waiting for {what}"),
    }
}

/// A wait under way; it leaves the display when dropped.
#[derive(Debug)]
pub struct WaitGuard(u64);

/// Registers a wait (shown only once [`WaitGuard::state`] says why it waits).
pub fn begin(what: impl Into<String>, limit: Duration) -> WaitGuard {
    let key = NEXT.fetch_add(1, Ordering::Relaxed);
    if let Ok(mut waits) = WAITS.lock() {
        waits.insert(
            key,
            Wait {
                what: what.into(),
                why: String::new(),
                since: Instant::now(),
                limit,
                logged: None,
            },
        );
    }
    WaitGuard(key)
}

impl WaitGuard {
    /// It still waits, now because of `why`: a log gets a line when `why` changed or a minute
    /// passed since the last line.
    pub fn state(&self, why: &str) {
        let now = Instant::now();
        let line = {
            let Ok(mut waits) = WAITS.lock() else { return };
            let Some(wait) = waits.get_mut(&self.0) else {
                return;
            };
            wait.why = why.to_string();
            let due = match &wait.logged {
                None => true,
                Some((last, at)) => last != why || now.duration_since(*at) >= LOG_EVERY,
            };
            if !due {
                return;
            }
            wait.logged = Some((why.to_string(), now));
            wait.line(now)
        };
        if LOG_LINES.load(Ordering::Relaxed) {
            eprintln!("{line}");
        }
    }
}

impl Drop for WaitGuard {
    fn drop(&mut self) {
        if let Ok(mut waits) = WAITS.lock() {
            waits.remove(&self.0);
        }
    }
}

/// The waits that have said why, longest first.
pub fn current() -> Vec<Wait> {
    let mut all: Vec<Wait> = WAITS
        .lock()
        .map(|w| w.values().filter(|w| !w.why.is_empty()).cloned().collect())
        .unwrap_or_default();
    all.sort_by_key(|w| w.since);
    all
}

/// `45s`, `3m 10s`, `20m`, `1h 5m`.
pub fn short(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 3600, (s % 3600) / 60, s % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, s) => format!("{m}m {s}s"),
        (h, 0, _) => format!("{h}h"),
        (h, m, _) => format!("{h}h {m}m"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_people_write_them() {
        assert_eq!(short(Duration::from_secs(45)), "45s");
        assert_eq!(short(Duration::from_secs(190)), "3m 10s");
        assert_eq!(short(Duration::from_secs(1200)), "20m");
        assert_eq!(short(Duration::from_secs(3900)), "1h 5m");
    }

    #[test]
    fn a_wait_is_shown_once_it_says_why_and_gone_when_dropped() {
        let guard = begin("retrying delete tg.unit-test", Duration::from_secs(1200));
        assert!(!current()
            .iter()
            .any(|w| w.what == "retrying delete tg.unit-test"));
        guard.state("ResourceInUse");
        let shown = current();
        let wait = shown
            .iter()
            .find(|w| w.what == "retrying delete tg.unit-test")
            .expect("listed");
        assert!(wait
            .line(wait.since + Duration::from_secs(190))
            .ends_with(": ResourceInUse, 3m 10s of 20m"));
        drop(guard);
        assert!(!current()
            .iter()
            .any(|w| w.what == "retrying delete tg.unit-test"));
    }
}
