//! Runs that overlap or die: the stack lock, force-unlock, and applies killed with SIGKILL at
//! various points, after which the next apply must adopt what exists and converge.

mod common;

use common::proxy::FaultProxy;
use common::{unique_stack, Fixture, Moto};
use serde_json::json;
use std::process::{Command, Stdio};
use std::time::Duration;

fn ecsform_via(proxy: &FaultProxy, moto: &Moto) -> Command {
    // A plain std Command (assert_cmd's cannot be killed midway): same environment.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecsform"));
    cmd.env("AWS_ENDPOINT_URL", proxy.endpoint())
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("ECSFORM_LOCAL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let _ = moto;
    cmd
}

fn text(o: &std::process::Output) -> String {
    format!(
        "exit {:?}\n{}\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn two_concurrent_applies_one_waits_or_fails_naming_the_holder() {
    let moto = Moto::start();
    let stack = unique_stack("lock");
    let fixture = Fixture::seed(&stack);
    // Slow AWS down so the two runs overlap.
    let proxy = FaultProxy::start(moto, &json!({"latency_ms": 40}));
    let spawn = || {
        ecsform_via(&proxy, moto)
            .args(["apply", "-f", fixture.path_str(), "--auto-approve"])
            .spawn()
            .expect("spawn")
    };
    let first = spawn();
    std::thread::sleep(Duration::from_millis(600));
    let second = spawn();
    let (a, b) = (
        first.wait_with_output().expect("first"),
        second.wait_with_output().expect("second"),
    );
    let outcomes = [a.status.success(), b.status.success()];
    assert_eq!(
        outcomes.iter().filter(|ok| **ok).count(),
        1,
        "exactly one may proceed:\n{}\n{}",
        text(&a),
        text(&b)
    );
    let loser = if a.status.success() { &b } else { &a };
    let err = String::from_utf8_lossy(&loser.stderr);
    assert!(
        err.contains(&format!("stack `{stack}` is locked by"))
            && err.contains("pid")
            && err.contains("since 20"),
        "{err}"
    );
    // The winner released the lock: the same command now goes through, with nothing to do.
    let again = ecsform_via(&proxy, moto)
        .args(["apply", "-f", fixture.path_str(), "--auto-approve"])
        .output()
        .expect("run");
    assert!(again.status.success(), "{}", text(&again));
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("No changes"),
        "{}",
        text(&again)
    );
    // With --lock-timeout a second run waits for the first instead of failing.
    let first = ecsform_via(&proxy, moto)
        .args(["destroy", "-f", fixture.path_str(), "--auto-approve"])
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(600));
    let waiting = ecsform_via(&proxy, moto)
        .args([
            "apply",
            "-f",
            fixture.path_str(),
            "--auto-approve",
            "--lock-timeout",
            "120",
        ])
        .output()
        .expect("run");
    let destroyed = first.wait_with_output().expect("destroy");
    assert!(destroyed.status.success(), "{}", text(&destroyed));
    assert!(waiting.status.success(), "{}", text(&waiting));
    assert!(
        String::from_utf8_lossy(&waiting.stderr).contains("Waiting for the lock"),
        "{}",
        text(&waiting)
    );
}

#[test]
fn a_killed_apply_leaves_a_lock_the_next_apply_takes_over_and_converges() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(moto, &json!({"latency_ms": 40}));
    // How long a whole apply takes here (once moto has loaded its backends), to spread the kill
    // points over it.
    let mut whole = 0;
    for _ in 0..2 {
        let probe = Fixture::seed(&unique_stack("probe"));
        let started = std::time::Instant::now();
        let full = ecsform_via(&proxy, moto)
            .args(["apply", "-f", probe.path_str(), "--auto-approve"])
            .output()
            .expect("run");
        assert!(full.status.success(), "{}", text(&full));
        whole = started.elapsed().as_millis() as u64;
    }
    let mut kills = 0;
    // Early (network), middle (groups, discovery), late (ECS, load balancer).
    for kill_after_ms in [
        whole / 6,
        whole / 3,
        whole / 2,
        whole * 2 / 3,
        whole * 5 / 6,
    ] {
        let stack = unique_stack("kill");
        let fixture = Fixture::seed(&stack);
        let mut child = ecsform_via(&proxy, moto)
            .args(["apply", "-f", fixture.path_str(), "--auto-approve"])
            .spawn()
            .expect("spawn");
        std::thread::sleep(Duration::from_millis(kill_after_ms));
        let killed = child.try_wait().expect("status").is_none();
        child.kill().ok(); // SIGKILL: no cleanup runs
        child.wait().ok();
        let run = |args: &[&str]| ecsform_via(&proxy, moto).args(args).output().expect("run");
        // A run still alive may already have released its lock (it was printing its summary):
        // then the next apply simply proceeds, and this kill point does not count.
        // A request the killed run had already sent (its lock's delete, say) still lands: let
        // it, through the proxy's added latency, before looking.
        std::thread::sleep(Duration::from_millis(500));
        let left_a_lock = killed && lock_exists(moto, &stack);
        // No force-unlock: the killed run's lock is stale (its process is gone from this host)
        // and the next apply takes it over by itself.
        let rerun = run(&[
            "apply",
            "-f",
            fixture.path_str(),
            "--auto-approve",
            "--lock-timeout",
            "150",
        ]);
        assert!(
            rerun.status.success(),
            "killed after {kill_after_ms} ms; rerun:\n{}",
            text(&rerun)
        );
        if left_a_lock {
            kills += 1;
            assert!(
                String::from_utf8_lossy(&rerun.stderr).contains("Took over the lock"),
                "{}",
                text(&rerun)
            );
        }
        let plan = run(&["plan", "-f", fixture.path_str(), "--detailed-exitcode"]);
        assert_eq!(
            plan.status.code(),
            Some(0),
            "killed after {kill_after_ms} ms; plan:\n{}",
            text(&plan)
        );
        assert!(!lock_exists(moto, &stack), "the rerun released its lock");
        let destroyed = run(&["destroy", "-f", fixture.path_str(), "--auto-approve"]);
        assert!(destroyed.status.success(), "{}", text(&destroyed));
    }
    assert!(
        kills >= 3,
        "only {kills} of 5 runs left a lock when killed: slow the proxy down"
    );
}

/// Whether the stack's lock group exists (read through the SDK, straight from moto).
fn lock_exists(moto: &Moto, stack: &str) -> bool {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let logs = aws_sdk_cloudwatchlogs::Client::new(&moto.sdk_config().await);
        let name = format!("/ecsform/locks/{stack}");
        logs.describe_log_groups()
            .log_group_name_prefix(&name)
            .send()
            .await
            .expect("listing lock groups")
            .log_groups()
            .iter()
            .any(|g| g.log_group_name() == Some(name.as_str()))
    })
}
