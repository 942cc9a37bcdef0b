//! Task roles against moto: exactly the declared permissions, a trust limited to ECS tasks of
//! this account, changed in place, and gone with the declaration.

mod common;

use common::{apply, assert_plan_empty, pair, planned_changes, unique_stack, Fixture, Moto};
use std::collections::BTreeSet;

const STATEMENT: &str = r#"        - {actions: ["sqs:SendMessage"], resources: ["arn:aws:sqs:us-east-1:123456789012:shop-orders"]}"#;

async fn task_role_arn(moto: &Moto, stack: &str, svc: &str) -> Option<String> {
    let conf = moto.sdk_config().await;
    let ecs = aws_sdk_ecs::Client::new(&conf);
    let td = ecs
        .describe_task_definition()
        .task_definition(format!("{stack}-{svc}"))
        .send()
        .await
        .expect("task definition");
    td.task_definition()
        .and_then(|t| t.task_role_arn())
        .map(String::from)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_role_holds_exactly_the_declared_permissions_and_follows_the_file() {
    let moto = Moto::start();
    let stack = unique_stack("role");
    let mut f = Fixture::seed(&stack);
    apply(moto, &f).await;
    let conf = moto.sdk_config().await;
    let iam = aws_sdk_iam::Client::new(&conf);
    let name = format!("{stack}-order-service-task");
    let role = iam
        .get_role()
        .role_name(&name)
        .send()
        .await
        .expect("task role");
    let role = role.role().expect("role");
    assert_eq!(role.path(), format!("/ecsform/{stack}/"));
    let trust = urlencoding_decode(role.assume_role_policy_document().unwrap_or_default());
    let trust: serde_json::Value = serde_json::from_str(&trust).expect("trust JSON");
    assert_eq!(
        trust["Statement"][0]["Principal"]["Service"],
        "ecs-tasks.amazonaws.com"
    );
    assert_eq!(
        trust["Statement"][0]["Condition"]["StringEquals"]["aws:SourceAccount"], "123456789012",
        "only ECS tasks of this account may assume it"
    );
    let inline = iam
        .list_role_policies()
        .role_name(&name)
        .send()
        .await
        .expect("inline policies");
    assert_eq!(inline.policy_names().len(), 1);
    let doc = iam
        .get_role_policy()
        .role_name(&name)
        .policy_name(&inline.policy_names()[0])
        .send()
        .await
        .expect("inline policy");
    let doc: serde_json::Value =
        serde_json::from_str(&urlencoding_decode(doc.policy_document())).expect("policy JSON");
    assert_eq!(
        doc["Statement"],
        serde_json::json!([{"Effect": "Allow", "Action": ["sqs:SendMessage"],
            "Resource": ["arn:aws:sqs:us-east-1:123456789012:shop-orders"]}])
    );
    assert_eq!(
        task_role_arn(moto, &stack, "order-service")
            .await
            .as_deref(),
        Some(role.arn())
    );
    assert_eq!(
        task_role_arn(moto, &stack, "user-service").await,
        None,
        "a service without task_role runs without a role"
    );

    // More permissions: the role changes in place, nothing else does.
    f.edit(
        None,
        STATEMENT,
        &format!(
            "{STATEMENT}\n      managed_policies: [arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess]"
        ),
    );
    let (planned, shown) = planned_changes(moto, &f).await;
    assert_eq!(
        planned,
        BTreeSet::from([pair("role.task.order-service", "update")]),
        "{}",
        shown
    );
    apply(moto, &f).await;
    assert_plan_empty(moto, &f).await;
    let attached = iam
        .list_attached_role_policies()
        .role_name(&name)
        .send()
        .await
        .expect("attached");
    assert_eq!(
        attached
            .attached_policies()
            .iter()
            .filter_map(|p| p.policy_arn())
            .collect::<Vec<_>>(),
        vec!["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"]
    );

    // No task_role: the role goes, the task definition moves to a revision without one.
    let text = f.text().to_string();
    let start = text
        .find("    task_role:")
        .expect("task_role in the fixture");
    let end = text[start..]
        .find("  notification-service:")
        .map(|i| start + i)
        .expect("next service");
    let block = text[start..end].to_string();
    f.edit(None, &block, "");
    let (planned, shown) = planned_changes(moto, &f).await;
    assert_eq!(
        planned,
        BTreeSet::from([
            pair("role.task.order-service", "delete"),
            pair("taskdef.order-service", "update"),
            pair("service.order-service", "update"),
        ]),
        "{}",
        shown
    );
    apply(moto, &f).await;
    assert_plan_empty(moto, &f).await;
    assert_eq!(task_role_arn(moto, &stack, "order-service").await, None);
}

/// IAM returns policy documents URL-encoded.
fn urlencoding_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
