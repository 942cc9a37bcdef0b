//! The stack lock's lease: who holds it, whether that holder is still there, and when a waiting
//! run may take it over. Pure (the clock, the host and process checks are passed in), so every
//! rule is unit-tested; `cloud::aws::lock` stores a [`LockRecord`] as tags of the lock's log group.
//!
//! Why a lease: a run killed by a CI timeout or a reclaimed runner cannot release its lock, and a
//! lock nobody can clear but a person wedges every later pipeline. The holder renews a heartbeat
//! every [`Lease::renew_every`]; a lock whose heartbeat is older than its lease, or whose holder
//! process is provably gone from this same host, is stale and is taken over by the next run.
//!
//! Chosen figures: renew every 10 s, lease 60 s. Five renewals may fail in a row (a throttled or
//! briefly unreachable CloudWatch Logs) before the lease is at risk; a killed run's lock is taken
//! over at most a minute later; renewing costs two requests per 10 s, far inside CloudWatch
//! Logs' rate limits. A holder that has not renewed for [`Lease::give_up_after`] (40 s) starts no
//! new operation and stops: with the 10 s grace for in-flight calls it is done well before any
//! other run may take the lock over.

use std::time::Duration;

/// The lease a run announces in its lock record, and how it keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    pub duration: Duration,
}

impl Default for Lease {
    fn default() -> Self {
        Lease {
            duration: Duration::from_secs(60),
        }
    }
}

impl Lease {
    /// `ECSFORM_LOCK_LEASE_SECS` shortens the lease for tests of lease expiry (minimum 3 s).
    pub fn from_env() -> Lease {
        std::env::var("ECSFORM_LOCK_LEASE_SECS")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .map(|s| Lease {
                duration: Duration::from_secs(s.max(3)),
            })
            .unwrap_or_default()
    }
    /// One sixth of the lease: 10 s for the default.
    pub fn renew_every(&self) -> Duration {
        self.duration / 6
    }
    /// Two thirds of the lease: after this long without a renewal the holder stops.
    pub fn give_up_after(&self) -> Duration {
        self.duration * 2 / 3
    }
}

/// What identifies this machine for "is the holder's process still alive here": the host name
/// and the kernel's boot id (a pid means nothing after a reboot or on another machine).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    pub name: String,
    pub boot_id: String,
}

impl Host {
    pub fn this() -> Host {
        let name = std::fs::read_to_string("/etc/hostname")
            .map(|h| h.trim().to_string())
            .ok()
            .filter(|h| !h.is_empty())
            .or_else(|| std::env::var("HOSTNAME").ok())
            .unwrap_or_else(|| "unknown-host".into());
        let boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
            .map(|b| b.trim().to_string())
            .unwrap_or_default();
        Host {
            name: tag_safe(&name),
            boot_id: tag_safe(&boot_id),
        }
    }
}

/// A process: its pid and its start time (clock ticks after boot, from `/proc/<pid>/stat`), so
/// a recycled pid is not mistaken for the holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessId {
    pub pid: u32,
    pub start: u64,
}

impl ProcessId {
    pub fn this() -> ProcessId {
        let pid = std::process::id();
        ProcessId {
            pid,
            start: process_start(pid).unwrap_or(0),
        }
    }
}

/// Field 22 of `/proc/<pid>/stat` (Linux). The command name (field 2) may hold spaces and
/// parentheses, so fields are counted after its closing parenthesis.
fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(19)?.parse().ok()
}

/// Whether a process of this host is alive: `Some(false)` only when that is certain.
pub fn process_alive(p: ProcessId) -> Option<bool> {
    if !std::path::Path::new("/proc/self/stat").exists() {
        return None; // no procfs (macOS): cannot prove anything, the lease decides
    }
    match process_start(p.pid) {
        None => Some(false),
        Some(start) => Some(p.start == 0 || start == p.start),
    }
}

/// Everything the lock records about its holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockRecord {
    /// Random per run, printed by the run: `force-unlock ID` names exactly this lock.
    pub id: String,
    /// `user@host`, for people.
    pub holder: String,
    pub command: String,
    pub host: Host,
    pub process: Option<ProcessId>,
    /// RFC 3339, UTC.
    pub since: String,
    /// Unix seconds of the last renewal (or of the take).
    pub heartbeat: Option<u64>,
    pub lease: Duration,
}

impl LockRecord {
    /// `user@host (apply, pid 123)`: whose lock it is, for messages.
    pub fn describe(&self) -> String {
        let pid = self
            .process
            .map(|p| format!(", pid {}", p.pid))
            .unwrap_or_default();
        let cmd = if self.command.is_empty() {
            "ecsform".to_string()
        } else {
            format!("ecsform {}", self.command)
        };
        format!("{} ({cmd}{pid})", self.holder)
    }
}

/// Why a lock may be taken over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stale {
    /// Its holder ran on this host and is gone.
    HolderGone,
    /// No renewal for longer than its lease (`age` seconds since the last heartbeat).
    LeaseExpired { age: u64 },
}

impl std::fmt::Display for Stale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stale::HolderGone => write!(f, "its process is no longer running on this host"),
            Stale::LeaseExpired { age } => {
                write!(f, "its heartbeat is {age}s old, past its lease")
            }
        }
    }
}

/// Whether the lock's holder ran on this host (same name and boot id) and is provably alive
/// (`Some(true)`) or gone (`Some(false)`); `None` when that cannot be known from here.
pub fn holder_alive_here(
    lock: &LockRecord,
    here: &Host,
    alive: impl Fn(ProcessId) -> Option<bool>,
) -> Option<bool> {
    let same_host = lock.host == *here && !here.boot_id.is_empty();
    lock.process.filter(|_| same_host).and_then(alive)
}

/// Whether `lock` may be taken over now. `now` is Unix seconds by this machine's clock;
/// `alive` answers for a process of this host. A heartbeat is judged by the wall clock only
/// past twice the lease, so clocks up to a lease apart never take a live holder's lock; the
/// waiter's own observation (`unchanged_for`: how long this waiter has seen the same heartbeat)
/// covers the rest and needs no clock agreement at all.
pub fn staleness(
    lock: &LockRecord,
    here: &Host,
    now: u64,
    unchanged_for: Duration,
    alive: impl Fn(ProcessId) -> Option<bool>,
) -> Option<Stale> {
    match holder_alive_here(lock, here, alive) {
        Some(false) => return Some(Stale::HolderGone),
        Some(true) => return None, // a live holder's lock is never taken
        None => {}
    }
    let age = lock.heartbeat.map(|h| now.saturating_sub(h));
    let wall_clock_expired = age.is_some_and(|a| a > 2 * lease_secs(lock));
    if wall_clock_expired || unchanged_for > lock.lease {
        let age = age.unwrap_or(unchanged_for.as_secs());
        return Some(Stale::LeaseExpired { age });
    }
    None
}

fn lease_secs(lock: &LockRecord) -> u64 {
    lock.lease.as_secs().max(1)
}

/// CloudWatch Logs (like ECS, ELB and IAM) allows tag values matching
/// `^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$` only (the `TagValue` shape of its API model) and at most
/// 256 characters: anything else in a user or host name becomes `_`.
/// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_TagResource.html
pub fn tag_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if crate::limits::tag_char_allowed(c) {
                c
            } else {
                '_'
            }
        })
        .take(256)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn here() -> Host {
        Host {
            name: "runner-7".into(),
            boot_id: "b00t".into(),
        }
    }

    fn record(host: Host, heartbeat: u64) -> LockRecord {
        LockRecord {
            id: "abc".into(),
            holder: "ci@runner-7".into(),
            command: "apply".into(),
            host,
            process: Some(ProcessId { pid: 42, start: 7 }),
            since: "2026-12-02T00:00:00Z".into(),
            heartbeat: Some(heartbeat),
            lease: Duration::from_secs(60),
        }
    }

    #[test]
    fn staleness_table() {
        let other = Host {
            name: "runner-9".into(),
            boot_id: "x".into(),
        };
        let rebooted = Host {
            name: "runner-7".into(),
            boot_id: "new-boot".into(),
        };
        let none = Duration::ZERO;
        let dead = |_| Some(false);
        let alive = |_| Some(true);
        let unknown = |_| None;
        type Case<'a> = (
            &'a str,
            Host,
            u64,
            Duration,
            &'a dyn Fn(ProcessId) -> Option<bool>,
        );
        let cases: Vec<(Case, Option<Stale>)> = vec![
            (
                ("dead holder here", here(), 1000, none, &dead),
                Some(Stale::HolderGone),
            ),
            (
                (
                    "live holder here, old heartbeat",
                    here(),
                    99_999,
                    none,
                    &alive,
                ),
                None,
            ),
            (
                (
                    "live holder here, long unchanged",
                    here(),
                    1000,
                    Duration::from_secs(999),
                    &alive,
                ),
                None,
            ),
            (
                (
                    "other host, fresh heartbeat",
                    other.clone(),
                    1030,
                    none,
                    &dead,
                ),
                None,
            ),
            (
                (
                    "other host, within 2x lease",
                    other.clone(),
                    1100,
                    none,
                    &dead,
                ),
                None,
            ),
            (
                (
                    "other host, past 2x lease",
                    other.clone(),
                    1121,
                    none,
                    &dead,
                ),
                Some(Stale::LeaseExpired { age: 121 }),
            ),
            (
                (
                    "other host, unchanged past the lease",
                    other.clone(),
                    1000,
                    Duration::from_secs(61),
                    &dead,
                ),
                Some(Stale::LeaseExpired { age: 0 }),
            ),
            (
                (
                    "rebooted host: pid means nothing",
                    rebooted,
                    1010,
                    none,
                    &dead,
                ),
                None,
            ),
            (
                ("no procfs: lease decides", here(), 1010, none, &unknown),
                None,
            ),
            (
                ("no procfs, lease run out", here(), 1200, none, &unknown),
                Some(Stale::LeaseExpired { age: 200 }),
            ),
        ];
        for ((name, host, now, unchanged, alive_fn), want) in cases {
            let lock = record(host, 1000);
            assert_eq!(
                staleness(&lock, &here(), now, unchanged, alive_fn),
                want,
                "{name}"
            );
        }
    }

    #[test]
    fn an_empty_boot_id_never_proves_a_holder_dead() {
        let blank = Host {
            name: "h".into(),
            boot_id: String::new(),
        };
        let lock = record(blank.clone(), 1000);
        assert_eq!(
            staleness(&lock, &blank, 1001, Duration::ZERO, |_| Some(false)),
            None
        );
    }

    #[test]
    fn lease_intervals() {
        let l = Lease::default();
        assert_eq!(l.renew_every(), Duration::from_secs(10));
        assert_eq!(l.give_up_after(), Duration::from_secs(40));
    }

    #[test]
    fn tag_safe_keeps_the_allowed_set_and_replaces_the_rest() {
        assert_eq!(
            tag_safe("root@host pid 1 (ecsform apply)"),
            "root@host pid 1 _ecsform apply_"
        );
        assert_eq!(tag_safe("a.b_c:d/e=f+g-h@i"), "a.b_c:d/e=f+g-h@i");
        assert_eq!(tag_safe("ünï"), "ünï");
        assert_eq!(tag_safe(&"x".repeat(300)).len(), 256);
    }

    #[test]
    fn this_process_is_alive_and_a_recycled_pid_is_not_the_holder() {
        let me = ProcessId::this();
        if process_alive(me).is_none() {
            return; // no procfs on this platform
        }
        assert_eq!(process_alive(me), Some(true));
        let recycled = ProcessId {
            pid: me.pid,
            start: me.start + 1,
        };
        assert_eq!(process_alive(recycled), Some(false));
        assert_eq!(
            process_alive(ProcessId {
                pid: u32::MAX - 1,
                start: 1
            }),
            Some(false)
        );
    }
}
