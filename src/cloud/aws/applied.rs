//! Where AWS keeps the last-applied record (`crate::applied`): log events in the log group
//! `/ecsform/applied/<stack>`, one event per apply, the newest read back. Like the stack lock
//! it needs nothing set up first and only permissions ecsform uses anyway; the events are a
//! history of applies. An event holds at most 1 MiB
//! (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html):
//! a fingerprint is 8 characters, an id rarely 60, so thousands of resources fit.

use super::errors::has_code;
use super::settle::call;
use super::AwsCloud;
use crate::applied::AppliedRecord;
use crate::cloud::CloudError;
use crate::model::TAG_STACK;

const STREAM: &str = "applies";

pub fn record_group(stack: &str) -> String {
    format!("/ecsform/applied/{stack}")
}

fn missing(e: &CloudError) -> bool {
    super::retry::is_not_found(e) || has_code(e, "ResourceNotFoundException")
}

/// The newest record, or `None` when the stack has none yet (never applied by this version).
pub async fn read(cloud: &AwsCloud, stack: &str) -> Result<Option<AppliedRecord>, CloudError> {
    let out = call(|| {
        cloud
            .logs
            .get_log_events()
            .log_group_name(record_group(stack))
            .log_stream_name(STREAM)
            .start_from_head(false)
            .limit(1)
            .send()
    })
    .await;
    let out = match out {
        Err(e) if missing(&e) => return Ok(None),
        other => other?,
    };
    Ok(out
        .events()
        .last()
        .and_then(|e| e.message())
        .and_then(|m| serde_json::from_str(m).ok()))
}

/// Appends `record` as the newest event, creating the group and stream on first use.
pub async fn write(
    cloud: &AwsCloud,
    stack: &str,
    record: &AppliedRecord,
) -> Result<(), CloudError> {
    let group = record_group(stack);
    let message = serde_json::to_string(record).map_err(|e| CloudError::Other(e.to_string()))?;
    let put = || async {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        let event = aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
            .timestamp(now)
            .message(&message)
            .build()
            .map_err(|e| CloudError::Other(e.to_string()))?;
        call(|| {
            cloud
                .logs
                .put_log_events()
                .log_group_name(&group)
                .log_stream_name(STREAM)
                .log_events(event.clone())
                .send()
        })
        .await
        .map(|_| ())
    };
    match put().await {
        Err(e) if missing(&e) => {}
        other => return other,
    }
    let created = call(|| {
        cloud
            .logs
            .create_log_group()
            .log_group_name(&group)
            .tags(TAG_STACK, stack)
            .send()
    })
    .await;
    match created {
        Err(e) if !has_code(&e, "ResourceAlreadyExistsException") => return Err(e),
        _ => {}
    }
    let stream = call(|| {
        cloud
            .logs
            .create_log_stream()
            .log_group_name(&group)
            .log_stream_name(STREAM)
            .send()
    })
    .await;
    match stream {
        Err(e) if !has_code(&e, "ResourceAlreadyExistsException") => return Err(e),
        _ => {}
    }
    put().await
}

/// Deletes the record (after a destroy that left nothing).
pub async fn forget(cloud: &AwsCloud, stack: &str) -> Result<(), CloudError> {
    match call(|| {
        cloud
            .logs
            .delete_log_group()
            .log_group_name(record_group(stack))
            .send()
    })
    .await
    {
        Err(e) if !missing(&e) => Err(e),
        _ => Ok(()),
    }
}
