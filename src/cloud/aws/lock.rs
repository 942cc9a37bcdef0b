//! The stack lock: a CloudWatch Logs log group named `/ecsform/locks/<stack>`.
//!
//! Why a log group: `CreateLogGroup` is an atomic conditional create — AWS creates the group or
//! answers `ResourceAlreadyExistsException`, never both to two callers — and its tags are set
//! in the same call, so the holder's record is never missing. It needs no table or bucket to be
//! set up first, costs nothing, and uses permissions ecsform needs anyway. The lease (see
//! `crate::lease`) is a heartbeat tag the holder rewrites with `TagResource`.

use super::errors::has_code;
use super::settle::call;
use super::AwsCloud;
use crate::cloud::CloudError;
use crate::lease::{tag_safe, Host, LockRecord, ProcessId};
use crate::model::TAG_STACK;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

const TAG_ID: &str = "ecsform:lock-id";
const TAG_HOLDER: &str = "ecsform:lock-holder";
const TAG_COMMAND: &str = "ecsform:lock-command";
const TAG_HOST: &str = "ecsform:lock-host";
const TAG_BOOT: &str = "ecsform:lock-boot";
const TAG_PID: &str = "ecsform:lock-pid";
const TAG_SINCE: &str = "ecsform:lock-since";
const TAG_HEARTBEAT: &str = "ecsform:lock-heartbeat";
const TAG_LEASE: &str = "ecsform:lock-lease";
/// Locks taken by ecsform before leases: their id was kept under this key.
const TAG_OLD_TOKEN: &str = "ecsform:lock-token";

pub fn lock_name(stack: &str) -> String {
    format!("/ecsform/locks/{stack}")
}

/// The tags that record `me` (every value within the Logs tag pattern: see `tag_safe`).
pub fn record_tags(stack: &str, me: &LockRecord) -> HashMap<String, String> {
    let mut tags = vec![
        (TAG_STACK, stack.to_string()),
        (TAG_ID, me.id.clone()),
        (TAG_HOLDER, me.holder.clone()),
        (TAG_COMMAND, me.command.clone()),
        (TAG_HOST, me.host.name.clone()),
        (TAG_BOOT, me.host.boot_id.clone()),
        (TAG_SINCE, me.since.clone()),
        (TAG_LEASE, me.lease.as_secs().to_string()),
    ];
    if let Some(p) = me.process {
        tags.push((TAG_PID, format!("{}/{}", p.pid, p.start)));
    }
    if let Some(h) = me.heartbeat {
        tags.push((TAG_HEARTBEAT, h.to_string()));
    }
    tags.into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.to_string(), tag_safe(&v)))
        .collect()
}

fn record_from_tags(tags: &BTreeMap<String, String>) -> LockRecord {
    let get = |k: &str| tags.get(k).cloned().unwrap_or_default();
    let process = tags.get(TAG_PID).and_then(|v| {
        let (pid, start) = v.split_once('/')?;
        Some(ProcessId {
            pid: pid.parse().ok()?,
            start: start.parse().ok()?,
        })
    });
    let id = tags
        .get(TAG_ID)
        .or_else(|| tags.get(TAG_OLD_TOKEN))
        .cloned()
        .unwrap_or_default();
    LockRecord {
        id,
        holder: get(TAG_HOLDER),
        command: get(TAG_COMMAND),
        host: Host {
            name: get(TAG_HOST),
            boot_id: get(TAG_BOOT),
        },
        process,
        since: get(TAG_SINCE),
        heartbeat: tags.get(TAG_HEARTBEAT).and_then(|h| h.parse().ok()),
        lease: tags
            .get(TAG_LEASE)
            .and_then(|l| l.parse().ok())
            .map(Duration::from_secs)
            .unwrap_or_else(|| crate::lease::Lease::default().duration),
    }
}

/// The outcome of trying to take the lock.
pub enum Acquired {
    /// Ours; the log group's ARN (for renewals and the release) when it is already known.
    Ours {
        arn: Option<String>,
    },
    Held(LockRecord),
}

/// Creates the lock group with `me`'s record, unless someone holds it.
pub async fn acquire(
    cloud: &AwsCloud,
    stack: &str,
    me: &LockRecord,
) -> Result<Acquired, CloudError> {
    let res = call(|| {
        cloud
            .logs
            .create_log_group()
            .log_group_name(lock_name(stack))
            .set_tags(Some(record_tags(stack, me)))
            .send()
    })
    .await;
    match res {
        // The create is atomic: the group is ours, with our record. Its ARN (CreateLogGroup
        // does not answer it) is looked up by the heartbeat while the run goes on.
        Ok(_) => Ok(Acquired::Ours { arn: None }),
        Err(e) if has_code(&e, "ResourceAlreadyExistsException") => {
            match current(cloud, stack).await? {
                // Our own create went through but its answer was lost, and the SDK sent it again.
                Some((held, arn)) if held.id == me.id => Ok(Acquired::Ours { arn: Some(arn) }),
                Some((held, _)) => Ok(Acquired::Held(held)),
                // Released while we read it: the caller simply tries again.
                None => Ok(Acquired::Held(LockRecord {
                    holder: "a run that just released it".into(),
                    ..me.clone()
                })),
            }
        }
        Err(e) => Err(e),
    }
}

/// The lock group's ARN, if the group exists.
pub async fn arn_of(cloud: &AwsCloud, stack: &str) -> Result<Option<String>, CloudError> {
    super::logs::arn_of_group(cloud, &lock_name(stack)).await
}

/// Who holds the lock, if anyone, and the lock group's ARN.
pub async fn current(
    cloud: &AwsCloud,
    stack: &str,
) -> Result<Option<(LockRecord, String)>, CloudError> {
    let Some((tags, arn)) = super::logs::tags_and_arn_of_group(cloud, &lock_name(stack)).await?
    else {
        return Ok(None);
    };
    Ok(Some((record_from_tags(&tags), arn)))
}

/// The result of one renewal.
pub enum Renewal {
    Renewed,
    /// The lock is gone or someone else's (force-unlocked, or taken over as stale).
    Lost(Option<LockRecord>),
}

/// Rewrites the heartbeat if the lock is still `id`'s.
pub async fn renew(cloud: &AwsCloud, arn: &str, id: &str, now: u64) -> Result<Renewal, CloudError> {
    let tags = match super::logs::tags_of_arn(cloud, arn).await {
        Ok(t) => t,
        Err(CloudError::NotFound(_)) => return Ok(Renewal::Lost(None)),
        Err(e) => return Err(e),
    };
    let held = record_from_tags(&tags);
    if held.id != id {
        return Ok(Renewal::Lost((!tags.is_empty()).then_some(held)));
    }
    call(|| {
        cloud
            .logs
            .tag_resource()
            .resource_arn(arn)
            .tags(TAG_HEARTBEAT, now.to_string())
            .send()
    })
    .await?;
    Ok(Renewal::Renewed)
}

/// Deletes the lock if it is still `id`'s: a run releases only its own lock, and a takeover
/// removes only the stale lock it judged (never one taken since).
pub async fn delete_if(cloud: &AwsCloud, stack: &str, id: &str) -> Result<bool, CloudError> {
    match current(cloud, stack).await? {
        Some((held, _)) if held.id == id => {
            delete(cloud, stack).await?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// `delete_if` for the holder, who knows the lock group's ARN: one read fewer (the tags by ARN,
/// without looking the group up by name first).
pub async fn release(
    cloud: &AwsCloud,
    stack: &str,
    arn: &str,
    id: &str,
) -> Result<bool, CloudError> {
    let tags = match super::logs::tags_of_arn(cloud, arn).await {
        Ok(t) => t,
        Err(CloudError::NotFound(_)) => return Ok(false),
        Err(e) => return Err(e),
    };
    if record_from_tags(&tags).id != id {
        return Ok(false);
    }
    delete(cloud, stack).await?;
    Ok(true)
}

async fn delete(cloud: &AwsCloud, stack: &str) -> Result<(), CloudError> {
    match call(|| {
        cloud
            .logs
            .delete_log_group()
            .log_group_name(lock_name(stack))
            .send()
    })
    .await
    {
        Err(CloudError::NotFound(_)) | Ok(_) => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_survives_its_tags() {
        let me = LockRecord {
            id: "0123abcd".into(),
            holder: "ci@runner".into(),
            command: "apply".into(),
            host: Host {
                name: "runner".into(),
                boot_id: "5f1c-22".into(),
            },
            process: Some(ProcessId {
                pid: 4242,
                start: 98765,
            }),
            since: "2026-12-02T00:00:00Z".into(),
            heartbeat: Some(1_796_000_000),
            lease: Duration::from_secs(60),
        };
        let tags: BTreeMap<String, String> = record_tags("shop", &me).into_iter().collect();
        assert_eq!(record_from_tags(&tags), me);
    }

    /// CloudWatch Logs refuses tag values outside `[\p{L}\p{Z}\p{N}_.:/=+\-@]`: the lock's
    /// holder used to read `root@host pid 12 (ecsform apply)`, and every apply on AWS failed.
    #[test]
    fn lock_tags_fit_the_logs_tag_pattern_whatever_the_user_and_host() {
        let me = LockRecord {
            id: "0123abcd".into(),
            holder: "ci (bot)@build#7".into(),
            command: "apply (ci)".into(),
            host: Host {
                name: "box(1);rm".into(),
                boot_id: "5f1c-22".into(),
            },
            process: Some(ProcessId { pid: 1, start: 2 }),
            since: crate::clock::now_rfc3339(),
            heartbeat: Some(1),
            lease: Duration::from_secs(60),
        };
        let tags = record_tags(&"s".repeat(20), &me);
        assert!(tags.len() >= 9);
        for (k, v) in &tags {
            let bad = crate::limits::tag_violations(k, v);
            assert!(bad.is_empty(), "{k}={v}: {bad:?}");
        }
    }
}
