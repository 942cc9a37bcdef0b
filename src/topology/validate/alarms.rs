//! `alarms`: the SNS topic that receives them must be a topic ARN, or CloudWatch refuses every
//! alarm at apply time (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html).

use crate::topology::checker::Checker;
use crate::topology::positions::ypath;

pub(super) fn check(check: &mut Checker) {
    let Some(notify) = check
        .topology
        .alarms
        .as_ref()
        .and_then(|a| a.notify.clone())
    else {
        return;
    };
    if !is_topic_arn(&notify) {
        check.error(
            &ypath!("alarms", "notify"),
            format!("alarms.notify `{notify}` is not an SNS topic ARN"),
            "use the topic's ARN, e.g. arn:aws:sns:us-east-1:123456789012:ops (`aws sns list-topics`)",
        );
    }
}

/// `arn:<partition>:sns:<region>:<12-digit account>:<topic>`; topic names are 1–256 letters,
/// digits, `-` and `_` (a FIFO topic ends in `.fifo`).
/// (https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html)
pub(super) fn is_topic_arn(value: &str) -> bool {
    let parts: Vec<&str> = value.split(':').collect();
    let [arn, partition, sns, region, account, topic] = parts.as_slice() else {
        return false;
    };
    let topic = topic.strip_suffix(".fifo").unwrap_or(topic);
    *arn == "arn"
        && partition.starts_with("aws")
        && *sns == "sns"
        && !region.is_empty()
        && account.len() == 12
        && account.chars().all(|c| c.is_ascii_digit())
        && (1..=256).contains(&topic.len())
        && topic
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::is_topic_arn;

    #[test]
    fn topic_arns() {
        assert!(is_topic_arn("arn:aws:sns:us-east-1:123456789012:ops"));
        assert!(is_topic_arn("arn:aws:sns:eu-west-1:123456789012:ops.fifo"));
        assert!(!is_topic_arn("arn:aws:sqs:us-east-1:123456789012:ops"));
        assert!(!is_topic_arn("arn:aws:sns:us-east-1:1234:ops"));
        assert!(!is_topic_arn("arn:aws:sns:us-east-1:123456789012:o/ps"));
        assert!(!is_topic_arn("ops@example.com"));
    }
}
