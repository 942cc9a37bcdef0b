//! CLI behaviour that needs an AWS endpoint: saved plans, confirmation without a terminal,
//! exit codes, outputs.

mod common;

use common::{unique_stack, Fixture, Moto};

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_applies_only_while_it_is_current() {
    let moto = Moto::start();
    let stack = unique_stack("saved");
    let fixture = Fixture::seed(&stack);
    let plan_file = fixture.dir.path().join("plan.json");
    let plan_path = plan_file.to_str().expect("utf-8 path").to_string();
    let f = fixture.path_str();
    moto.run(&["plan", "-f", f, "--out", &plan_path, "--detailed-exitcode"])
        .await
        .expect_code(2);
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plan_file).expect("plan")).expect("json");
    assert_eq!(saved["stack"], stack.as_str());
    assert!(saved["steps"].as_array().is_some_and(|s| s.len() > 40));
    moto.run(&["apply", "-f", f, &plan_path, "--auto-approve"])
        .await
        .expect_code(0);
    // The same saved plan is now stale: AWS no longer needs it.
    let stale = moto
        .run(&["apply", "-f", f, &plan_path, "--auto-approve"])
        .await;
    stale.expect_code(1);
    assert!(stale.stderr().contains("is stale"), "{}", stale.stderr());
    moto.run(&["plan", "-f", f, "--detailed-exitcode"])
        .await
        .expect_code(0);
    moto.run(&["destroy", "-f", f, "--auto-approve"])
        .await
        .expect_code(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_and_destroy_refuse_without_a_terminal_unless_auto_approved() {
    let moto = Moto::start();
    let stack = unique_stack("confirm");
    let fixture = Fixture::seed(&stack);
    let f = fixture.path_str();
    // assert_cmd gives the child no terminal on stdin.
    let refused = moto.run(&["apply", "-f", f]).await;
    refused.expect_code(1);
    assert!(
        refused.stderr().contains("--auto-approve"),
        "{}",
        refused.stderr()
    );
    assert!(
        refused.stdout().contains("Plan: "),
        "the plan is shown before refusing"
    );
    // Nothing was created.
    moto.run(&["plan", "-f", f, "--detailed-exitcode"])
        .await
        .expect_code(2);
    moto.run(&["apply", "-f", f, "--auto-approve"])
        .await
        .expect_code(0);
    let refused = moto.run(&["destroy", "-f", f]).await;
    refused.expect_code(1);
    moto.run(&["plan", "-f", f, "--detailed-exitcode"])
        .await
        .expect_code(0);
    let outputs = moto.run(&["outputs", "-f", f, "--json"]).await;
    outputs.expect_code(0);
    let o = outputs.json();
    assert!(
        o["load_balancer_dns_name"]
            .as_str()
            .is_some_and(|d| !d.is_empty()),
        "{o}"
    );
    assert_eq!(o["discovery.user-service"], "user-service.internal");
    moto.run(&["destroy", "-f", f, "--auto-approve"])
        .await
        .expect_code(0);
    moto.run(&["plan", "-f", f, "--detailed-exitcode"])
        .await
        .expect_code(2);
}
