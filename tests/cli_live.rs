//! CLI behaviour that needs an AWS endpoint: saved plans, confirmation without a terminal,
//! exit codes, outputs.

mod common;

use common::{unique_stack, Fixture, Moto};

/// Saved plans work like Terraform's: `apply PLAN` needs no `-f` (the plan knows its file),
/// applies without asking (it was reviewed; there is no terminal here), and once stale says
/// what differs: the file, or which resources AWS no longer needs changed. `show PLAN` prints
/// it again without AWS.
#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_applies_only_while_it_is_current() {
    let moto = Moto::start();
    let stack = unique_stack("saved");
    let mut fixture = Fixture::seed(&stack);
    let plan_file = fixture.dir.path().join("plan.json");
    let plan_path = plan_file.to_str().expect("utf-8 path").to_string();
    let f = fixture.path_str().to_string();
    let made = moto
        .run(&["plan", "-f", &f, "--out", &plan_path, "--detailed-exitcode"])
        .await;
    made.expect_code(2);
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plan_file).expect("plan")).expect("json");
    assert_eq!(saved["version"], 2);
    assert_eq!(saved["stack"], stack.as_str());
    let steps = saved["steps"].as_array().map_or(0, Vec::len);
    assert!(steps > 40, "{saved}");
    assert_eq!(saved["summary"]["add"].as_u64(), Some(steps as u64));
    assert_eq!(saved["topology"]["path"], f.as_str());
    assert_eq!(
        saved["topology"]["sha256"].as_str().map(str::len),
        Some(64),
        "{}",
        saved["topology"]
    );
    assert!(
        saved["reachability"].as_array().is_some_and(|r| r
            .iter()
            .any(|c| c["from"] == "0.0.0.0/0"
                && c["to"] == "load_balancer"
                && c["change"] == "added")),
        "{}",
        saved["reachability"]
    );
    assert!(
        saved["steps"][0]["reasons"].is_array(),
        "{}",
        saved["steps"][0]
    );

    // `show` prints it as `plan` did, and the same JSON, without AWS.
    let shown = moto.run(&["show", &plan_path]).await;
    shown.expect_code(0);
    assert!(
        shown.stdout().contains(&made.stdout()),
        "{}",
        shown.stdout()
    );
    let shown_json = moto.run(&["show", &plan_path, "--json"]).await;
    shown_json.expect_code(0);
    assert_eq!(shown_json.json(), saved);

    // No `-f`, no `--auto-approve`, no terminal, another directory: applied.
    let mut cmd = moto.ecsform();
    cmd.current_dir(std::env::temp_dir());
    common::run_command(cmd, &["apply", &plan_path])
        .await
        .expect_code(0);

    // The same saved plan is now stale: AWS no longer needs it, and the plan says which.
    let stale = moto.run(&["apply", &plan_path]).await;
    stale.expect_code(1);
    assert!(
        stale.stderr().contains("is stale")
            && stale
                .stderr()
                .contains("vpc: planned to create, now nothing to do"),
        "{}",
        stale.stderr()
    );

    // A plan of a file edited since names the file.
    let second = fixture.dir.path().join("second.json");
    let second = second.to_str().expect("utf-8 path").to_string();
    fixture.edit(None, "ttl: 10", "ttl: 20");
    moto.run(&["plan", "-f", &f, "--out", &second])
        .await
        .expect_code(0);
    fixture.edit(None, "ttl: 20", "ttl: 30");
    let edited = moto.run(&["apply", &second]).await;
    edited.expect_code(1);
    assert!(
        edited.stderr().contains("changed since the plan was saved"),
        "{}",
        edited.stderr()
    );

    // A plan of an older format is refused with what to do.
    let old = fixture.dir.path().join("old.json");
    std::fs::write(
        &old,
        r#"{"version": 1, "stack": "x", "region": "us-east-1", "steps": []}"#,
    )
    .expect("write");
    let refused = moto
        .run(&["apply", old.to_str().expect("utf-8 path")])
        .await;
    refused.expect_code(1);
    assert!(
        refused.stderr().contains("format version 1"),
        "{}",
        refused.stderr()
    );

    moto.run(&["destroy", "-f", &f, "--auto-approve"])
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
    assert_eq!(
        o["discovery_url.user-service"],
        "http://user-service.internal:3001"
    );
    let dns = o["load_balancer_dns_name"].as_str().unwrap_or_default();
    assert_eq!(o["load_balancer_url.80"], format!("http://{dns}/").as_str());
    assert!(
        o["vpc_id"].as_str().is_some_and(|v| v.starts_with("vpc-")),
        "{o}"
    );
    assert_eq!(
        o["private_subnet_ids"]
            .as_str()
            .map(|s| s.split(',').count()),
        Some(2),
        "{o}"
    );
    assert!(
        o["security_group_id.user-service"]
            .as_str()
            .is_some_and(|g| g.starts_with("sg-")),
        "{o}"
    );
    assert!(
        o["service_arn.user-service"]
            .as_str()
            .is_some_and(|a| a.starts_with("arn:aws:ecs:")),
        "{o}"
    );
    moto.run(&["destroy", "-f", f, "--auto-approve"])
        .await
        .expect_code(0);
    moto.run(&["plan", "-f", f, "--detailed-exitcode"])
        .await
        .expect_code(2);
    // A stack with nothing in AWS has no outputs: an error, not discovery names.
    let none = moto.run(&["outputs", "-f", f]).await;
    none.expect_code(1);
    assert!(
        none.stderr().contains("run `ecsform apply` first"),
        "{}",
        none.stderr()
    );
}

/// The minimal file of docs/topology.md names no region: with `--local` and no region in the
/// environment either, it plans against the emulator in the emulator's region instead of
/// failing with "no AWS region".
#[test]
fn the_minimal_file_plans_locally_without_a_region() {
    let state = tempfile::tempdir().expect("state dir");
    let home = tempfile::tempdir().expect("home");
    let minimal = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/corpus/valid/01_minimal.yaml"
    );
    let ecsform = |args: &[&str]| {
        let mut cmd = assert_cmd::Command::cargo_bin("ecsform").expect("binary");
        for var in [
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
            "AWS_PROFILE",
            "AWS_ENDPOINT_URL",
            "ECSFORM_LOCAL",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("HOME", home.path())
            .env("AWS_CONFIG_FILE", home.path().join("none"))
            .env("AWS_SHARED_CREDENTIALS_FILE", home.path().join("none"))
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("ECSFORM_STATE_DIR", state.path())
            .args(args)
            .output()
            .expect("running ecsform")
    };
    let plan = ecsform(&["--local", "plan", "-f", minimal, "--detailed-exitcode"]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&plan.stdout),
        String::from_utf8_lossy(&plan.stderr)
    );
    ecsform(&["emulator", "stop"]);
    assert_eq!(plan.status.code(), Some(2), "{text}");
    assert!(
        text.contains("us-east-1") && !text.contains("no AWS region"),
        "{text}"
    );
}
