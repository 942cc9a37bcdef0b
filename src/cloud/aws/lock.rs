//! The stack lock: a CloudWatch Logs log group named `/ecsform/locks/<stack>`.
//!
//! Why a log group: `CreateLogGroup` is an atomic conditional create — AWS creates the group or
//! answers `ResourceAlreadyExistsException`, never both to two callers — and its tags are set
//! in the same call, so the holder's name, start time and token are never missing. It needs no
//! table or bucket to be set up first, costs nothing, and uses permissions ecsform needs anyway.

use super::errors::aws_err;
use super::AwsCloud;
use crate::cloud::{CloudError, LockInfo};
use crate::model::TAG_STACK;
use std::collections::HashMap;

const TAG_HOLDER: &str = "ecsform:lock-holder";
const TAG_SINCE: &str = "ecsform:lock-since";
const TAG_TOKEN: &str = "ecsform:lock-token";

pub fn lock_name(stack: &str) -> String {
    format!("/ecsform/locks/{stack}")
}

fn is_already_exists(e: &CloudError) -> bool {
    matches!(e, CloudError::Other(m) if m.starts_with("ResourceAlreadyExistsException"))
}

/// `Ok(None)`: the lock is ours. `Ok(Some(holder))`: someone else holds it.
pub async fn acquire(
    cloud: &AwsCloud,
    stack: &str,
    me: &LockInfo,
) -> Result<Option<LockInfo>, CloudError> {
    let tags: HashMap<String, String> = [
        (TAG_STACK, stack),
        (TAG_HOLDER, me.holder.as_str()),
        (TAG_SINCE, me.since.as_str()),
        (TAG_TOKEN, me.token.as_str()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let res = cloud
        .logs
        .create_log_group()
        .log_group_name(lock_name(stack))
        .set_tags(Some(tags))
        .send()
        .await
        .map_err(aws_err);
    match res {
        Ok(_) => Ok(None),
        Err(e) if is_already_exists(&e) => match current(cloud, stack).await? {
            // Our own create went through but its answer was lost, and the SDK sent it again.
            Some(held) if held.token == me.token => Ok(None),
            Some(held) => Ok(Some(held)),
            None => Ok(Some(LockInfo {
                holder: "unknown (the lock was released while we read it)".into(),
                since: String::new(),
                token: String::new(),
            })),
        },
        Err(e) => Err(e),
    }
}

/// Who holds the lock, if anyone.
pub async fn current(cloud: &AwsCloud, stack: &str) -> Result<Option<LockInfo>, CloudError> {
    let Some(tags) = super::logs::tags_of_group(cloud, &lock_name(stack)).await? else {
        return Ok(None);
    };
    let get = |k: &str| tags.get(k).cloned().unwrap_or_default();
    Ok(Some(LockInfo {
        holder: get(TAG_HOLDER),
        since: get(TAG_SINCE),
        token: get(TAG_TOKEN),
    }))
}

/// Releases the lock if it is still ours (it may have been force-unlocked and taken since).
pub async fn release(cloud: &AwsCloud, stack: &str, token: &str) -> Result<(), CloudError> {
    match current(cloud, stack).await? {
        Some(held) if held.token == token => delete(cloud, stack).await,
        _ => Ok(()),
    }
}

pub async fn delete(cloud: &AwsCloud, stack: &str) -> Result<(), CloudError> {
    match cloud
        .logs
        .delete_log_group()
        .log_group_name(lock_name(stack))
        .send()
        .await
        .map_err(aws_err)
    {
        Err(CloudError::NotFound(_)) | Ok(_) => Ok(()),
        Err(e) => Err(e),
    }
}
