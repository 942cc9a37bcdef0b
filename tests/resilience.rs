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
fn a_killed_apply_leaves_a_lock_that_force_unlock_clears_and_the_rerun_converges() {
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
    for kill_after_ms in [whole / 5, whole / 2, whole * 4 / 5] {
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
        let blocked = killed.then(|| run(&["apply", "-f", fixture.path_str(), "--auto-approve"]));
        if let Some(blocked) = blocked.filter(|b| !b.status.success()) {
            kills += 1;
            assert_eq!(blocked.status.code(), Some(1), "{}", text(&blocked));
            assert!(
                String::from_utf8_lossy(&blocked.stderr).contains("force-unlock"),
                "{}",
                text(&blocked)
            );
            let unlocked = run(&["force-unlock", "-f", fixture.path_str()]);
            assert!(unlocked.status.success(), "{}", text(&unlocked));
            assert!(
                String::from_utf8_lossy(&unlocked.stdout).contains("Removed the lock"),
                "{}",
                text(&unlocked)
            );
        }
        let rerun = run(&["apply", "-f", fixture.path_str(), "--auto-approve"]);
        assert!(
            rerun.status.success(),
            "killed after {kill_after_ms} ms; rerun:\n{}",
            text(&rerun)
        );
        let plan = run(&["plan", "-f", fixture.path_str(), "--detailed-exitcode"]);
        assert_eq!(
            plan.status.code(),
            Some(0),
            "killed after {kill_after_ms} ms; plan:\n{}",
            text(&plan)
        );
        let unlocked = run(&["force-unlock", "-f", fixture.path_str()]);
        assert!(
            String::from_utf8_lossy(&unlocked.stdout).contains("is not locked"),
            "{}",
            text(&unlocked)
        );
        let destroyed = run(&["destroy", "-f", fixture.path_str(), "--auto-approve"]);
        assert!(destroyed.status.success(), "{}", text(&destroyed));
    }
    assert!(
        kills >= 2,
        "only {kills} of 3 runs were still going when killed: slow the proxy down"
    );
}
