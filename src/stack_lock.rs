//! The stack lock as commands use it: take it (waiting, or taking over a stale one), keep its
//! lease alive while the command runs, release it. The rules are in `crate::lease`; the AWS
//! calls in `cloud::aws::lock`.

use crate::cloud::aws::lock::{self, Acquired, Renewal};
use crate::cloud::aws::AwsCloud;
use crate::execute::{Halt, HaltReason};
use crate::lease::{self, tag_safe, Host, Lease, LockRecord, ProcessId, Stale};
use anyhow::{bail, Result};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// How often a waiting run looks at the lock again.
const POLL: Duration = Duration::from_secs(2);
/// After taking over a stale lock, how long to wait before checking that no other waiter took
/// it over at the same moment (a takeover is delete + create: two waiters could both delete).
const TAKEOVER_SETTLE: Duration = Duration::from_secs(1);

/// The lock of one stack, held for the whole of an apply or destroy (plans do not take it).
pub struct StackLock {
    stack: String,
    id: String,
    /// The lock group's ARN, once known (the heartbeat looks it up while the run goes on).
    arn: Arc<OnceLock<String>>,
    heartbeat: tokio::task::JoinHandle<()>,
}

impl StackLock {
    /// Takes the lock. A live holder is waited for up to `timeout`; a stale one is taken over,
    /// saying whose it was. The heartbeat sets `halt` if the lease is lost.
    pub async fn take(
        cloud: &AwsCloud,
        stack: &str,
        command: &str,
        timeout: Duration,
        halt: &Halt,
    ) -> Result<StackLock> {
        let lease = Lease::from_env();
        let here = Host::this();
        let me = LockRecord {
            id: lock_id(),
            holder: holder(&here),
            command: command.to_string(),
            host: here.clone(),
            process: Some(ProcessId::this()),
            since: crate::clock::now_rfc3339(),
            heartbeat: Some(unix_now()),
            lease: lease.duration,
        };
        let deadline = Instant::now() + timeout;
        let mut announced = false;
        // The heartbeat this waiter has seen, and since when (its own clock).
        let mut seen: Option<(String, Option<u64>, Instant)> = None;
        loop {
            if halt.is_set() {
                bail!(crate::commands::Interrupted::from(halt));
            }
            let held = match lock::acquire(cloud, stack, &me).await? {
                Acquired::Ours { arn: known } => {
                    let arn = Arc::new(OnceLock::new());
                    if let Some(known) = known {
                        let _ = arn.set(known);
                    }
                    eprintln!(
                        "Locked stack `{stack}` (lock id {}; lease {}s, renewed every {}s).",
                        me.id,
                        lease.duration.as_secs(),
                        lease.renew_every().as_secs()
                    );
                    let heartbeat = tokio::spawn(keep_alive(
                        cloud.clone(),
                        stack.to_string(),
                        arn.clone(),
                        me.id.clone(),
                        lease,
                        halt.clone(),
                    ));
                    return Ok(StackLock {
                        stack: stack.to_string(),
                        id: me.id,
                        arn,
                        heartbeat,
                    });
                }
                // Released while we looked: try again at once.
                Acquired::Held(held) if held.id == me.id => continue,
                Acquired::Held(held) => held,
            };
            let unchanged_for = match &seen {
                Some((id, hb, at)) if *id == held.id && *hb == held.heartbeat => at.elapsed(),
                _ => {
                    seen = Some((held.id.clone(), held.heartbeat, Instant::now()));
                    Duration::ZERO
                }
            };
            if let Some(why) = lease::staleness(
                &held,
                &here,
                unix_now(),
                unchanged_for,
                lease::process_alive,
            ) {
                if try_take_over(cloud, stack, &held, &why).await? {
                    tokio::time::sleep(TAKEOVER_SETTLE).await;
                }
                continue;
            }
            if Instant::now() >= deadline {
                bail!(
                    "stack `{stack}` is locked by {} since {} (lock id {}): another apply or destroy is running. Wait for it with --lock-timeout 10m (a killed run's lock is taken over once its {}s lease runs out).",
                    held.describe(),
                    held.since,
                    held.id,
                    held.lease.as_secs()
                );
            }
            if !announced {
                eprintln!(
                    "Waiting for the lock on `{stack}`, held by {} since {}...",
                    held.describe(),
                    held.since
                );
                announced = true;
            }
            tokio::select! {
                () = tokio::time::sleep(POLL) => {}
                () = halt.wait() => {}
            }
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Stops the heartbeat and deletes the lock if it is still ours.
    pub async fn release(self, cloud: &AwsCloud) {
        self.heartbeat.abort();
        let released = match self.arn.get() {
            Some(arn) => lock::release(cloud, &self.stack, arn, &self.id).await,
            None => lock::delete_if(cloud, &self.stack, &self.id).await,
        };
        if let Err(e) = released {
            eprintln!(
                "warning: could not release the lock on `{}`: {e}; the next run takes it over once its lease runs out",
                self.stack
            );
        }
    }
}

/// Deletes a stale lock (only if it is still that same lock). True if this run removed it.
async fn try_take_over(
    cloud: &AwsCloud,
    stack: &str,
    stale: &LockRecord,
    why: &Stale,
) -> Result<bool> {
    let removed = lock::delete_if(cloud, stack, &stale.id).await?;
    if removed {
        eprintln!(
            "Took over the lock on `{stack}` held by {} since {} (lock id {}): {why}.",
            stale.describe(),
            stale.since,
            stale.id
        );
    }
    Ok(removed)
}

/// Renews the lease every `renew_every`; halts the run when it is lost or at risk.
async fn keep_alive(
    cloud: AwsCloud,
    stack: String,
    arn: Arc<OnceLock<String>>,
    id: String,
    lease: Lease,
    halt: Halt,
) {
    // The lease runs from the lock's creation, whatever the lookup below takes.
    let mut last_renewal = Instant::now();
    // The ARN at once, off the run's critical path; bounded like a renewal (a failure or a
    // timeout is retried at the first renewal, which then gives up in time).
    let _ = tokio::time::timeout(lease.renew_every(), lock_arn(&cloud, &stack, &arn)).await;
    loop {
        tokio::time::sleep(lease.renew_every()).await;
        let attempt = tokio::time::timeout(lease.renew_every(), async {
            match lock_arn(&cloud, &stack, &arn).await? {
                Some(arn) => lock::renew(&cloud, &arn, &id, unix_now()).await,
                None => Ok(Renewal::Lost(None)),
            }
        })
        .await;
        let problem = match attempt {
            Ok(Ok(Renewal::Renewed)) => {
                last_renewal = Instant::now();
                continue;
            }
            Ok(Ok(Renewal::Lost(by))) => {
                let now_held = by
                    .map(|b| format!("it is now held by {} (lock id {})", b.describe(), b.id))
                    .unwrap_or_else(|| "it was removed (force-unlock?)".into());
                halt.set(HaltReason::LockLost(format!(
                    "the lock on `{stack}` is no longer this run's: {now_held}"
                )));
                return;
            }
            Ok(Err(e)) => e.to_string(),
            Err(_) => format!("no answer within {}s", lease.renew_every().as_secs()),
        };
        if last_renewal.elapsed() >= lease.give_up_after() {
            halt.set(HaltReason::LockLost(format!(
                "could not renew its lease for {}s (last error: {problem}); another run may take it over once the {}s lease runs out",
                last_renewal.elapsed().as_secs(),
                lease.duration.as_secs()
            )));
            return;
        }
        eprintln!("warning: renewing the lock's lease failed: {problem}; retrying");
    }
}

/// The lock group's ARN, looked up once; `None` if the group is gone.
async fn lock_arn(
    cloud: &AwsCloud,
    stack: &str,
    arn: &OnceLock<String>,
) -> Result<Option<String>, crate::cloud::CloudError> {
    if let Some(known) = arn.get() {
        return Ok(Some(known.clone()));
    }
    let found = lock::arn_of(cloud, stack).await?;
    if let Some(found) = &found {
        let _ = arn.set(found.clone());
    }
    Ok(found)
}

/// `user@host`, within the tag character set.
fn holder(here: &Host) -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into());
    tag_safe(&format!("{user}@{}", here.name))
}

fn lock_id() -> String {
    use sha2::{Digest, Sha256};
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let digest = Sha256::digest(format!("{}/{nanos}", std::process::id()).as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `force-unlock ID`: removes the lock only if it is lock `id` and its holder is not alive on
/// this host.
pub async fn force_unlock(cloud: &AwsCloud, stack: &str, id: &str, confirmed: bool) -> Result<()> {
    let Some((held, _)) = lock::current(cloud, stack).await? else {
        println!("Stack `{stack}` is not locked.");
        return Ok(());
    };
    if held.id != id {
        bail!(
            "the lock on `{stack}` has id {}, not {id}: it is held by {} since {}; force-unlock only the lock you mean",
            held.id,
            held.describe(),
            held.since
        );
    }
    if lease::holder_alive_here(&held, &Host::this(), lease::process_alive) == Some(true) {
        bail!(
            "refusing: the lock's holder {} is still running on this host; stop it (Ctrl-C releases the lock) instead",
            held.describe()
        );
    }
    if !confirmed {
        bail!(
            "force-unlock of the lock held by {} was not confirmed",
            held.describe()
        );
    }
    if lock::delete_if(cloud, stack, id).await? {
        println!(
            "Removed the lock on `{stack}` held by {} since {} (lock id {id}).",
            held.describe(),
            held.since
        );
    } else {
        println!("The lock {id} on `{stack}` was released in the meantime.");
    }
    Ok(())
}
