//! The stack lock's lease against moto (through the fault proxy): stale locks are taken over,
//! live ones never; a run that cannot renew its lease stops; SIGINT and SIGTERM stop a run
//! cleanly, release its lock and leave a state the next apply converges from; force-unlock
//! needs the lock's id and refuses a live holder.

mod common;

use common::proxy::FaultProxy;
use common::{unique_stack, Fixture, Moto};
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn ecsform(endpoint: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecsform"));
    cmd.env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("ECSFORM_LOCAL")
        .env_remove("ECSFORM_LOCK_LEASE_SECS")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

fn run(endpoint: &str, args: &[&str]) -> Output {
    ecsform(endpoint)
        .args(args)
        .output()
        .expect("running ecsform")
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// SDK access to the lock groups (a runtime of its own: these tests are synchronous).
struct Locks {
    rt: tokio::runtime::Runtime,
    logs: aws_sdk_cloudwatchlogs::Client,
}

impl Locks {
    fn new(moto: &Moto) -> Locks {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let conf = rt.block_on(moto.sdk_config());
        Locks {
            rt,
            logs: aws_sdk_cloudwatchlogs::Client::new(&conf),
        }
    }

    /// Plants a lock as another run would have left it.
    /// `holder`: (host, boot id, "pid/start").
    fn plant(&self, stack: &str, id: &str, holder: (&str, &str, &str), heartbeat: u64, lease: u64) {
        let (host, boot, pid) = holder;
        let tags = [
            ("ecsform:stack", stack.to_string()),
            ("ecsform:lock-id", id.to_string()),
            ("ecsform:lock-holder", format!("ci@{host}")),
            ("ecsform:lock-command", "apply".to_string()),
            ("ecsform:lock-host", host.to_string()),
            ("ecsform:lock-boot", boot.to_string()),
            ("ecsform:lock-pid", pid.to_string()),
            ("ecsform:lock-since", "2026-12-01T10:00:00Z".to_string()),
            ("ecsform:lock-heartbeat", heartbeat.to_string()),
            ("ecsform:lock-lease", lease.to_string()),
        ];
        let mut req = self
            .logs
            .create_log_group()
            .log_group_name(format!("/ecsform/locks/{stack}"));
        for (k, v) in tags {
            req = req.tags(k, v);
        }
        self.rt.block_on(req.send()).expect("planting a lock");
    }

    /// The id of the stack's lock, if it is locked.
    fn held(&self, stack: &str) -> Option<String> {
        let name = format!("/ecsform/locks/{stack}");
        let groups = self
            .rt
            .block_on(
                self.logs
                    .describe_log_groups()
                    .log_group_name_prefix(&name)
                    .send(),
            )
            .expect("listing lock groups");
        let group = groups
            .log_groups()
            .iter()
            .find(|g| g.log_group_name() == Some(name.as_str()))?;
        let arn = group.arn()?.trim_end_matches(":*").to_string();
        let tags = self
            .rt
            .block_on(self.logs.list_tags_for_resource().resource_arn(arn).send())
            .expect("lock tags");
        tags.tags()
            .and_then(|t| t.get("ecsform:lock-id").cloned())
            .or(Some(String::new()))
    }
}

fn this_host() -> (String, String) {
    let h = ecsform::lease::Host::this();
    (h.name, h.boot_id)
}

#[test]
fn a_lock_from_another_host_past_its_lease_is_taken_over_and_a_fresh_one_never() {
    let moto = Moto::start();
    let locks = Locks::new(moto);
    let stack = unique_stack("stale");
    let fixture = Fixture::seed(&stack);
    let apply = ["apply", "-f", fixture.path_str(), "--auto-approve"];

    // Fresh heartbeat on another machine: the holder may be alive; never taken.
    locks.plant(&stack, "feedface01", ("elsewhere", "b", "77/1"), now(), 60);
    let refused = run(&moto.endpoint(), &apply);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(
        stderr(&refused).contains("is locked by ci@elsewhere (ecsform apply, pid 77)"),
        "{}",
        text(&refused)
    );
    assert!(
        stderr(&refused).contains("lock id feedface01"),
        "{}",
        text(&refused)
    );
    assert_eq!(locks.held(&stack).as_deref(), Some("feedface01"));

    // The same lock with a heartbeat long past its lease: taken over at once, saying whose.
    run(
        &moto.endpoint(),
        &[
            "force-unlock",
            "-f",
            fixture.path_str(),
            "feedface01",
            "--force",
        ],
    );
    locks.plant(
        &stack,
        "feedface02",
        ("elsewhere", "b", "77/1"),
        now() - 1000,
        60,
    );
    let took = run(&moto.endpoint(), &apply);
    assert!(took.status.success(), "{}", text(&took));
    let err = stderr(&took);
    assert!(err.contains("Took over the lock on"), "{err}");
    assert!(
        err.contains("ci@elsewhere (ecsform apply, pid 77)"),
        "{err}"
    );
    assert!(err.contains("since 2026-12-01T10:00:00Z"), "{err}");
    assert!(err.contains("past its lease"), "{err}");
    assert_eq!(
        locks.held(&stack),
        None,
        "the run released the lock it took over"
    );

    // A fresh heartbeat that then stops changing: a waiter takes it over once the lease (3 s
    // here) has run out on its own clock, within --lock-timeout.
    locks.plant(&stack, "feedface03", ("elsewhere", "b", "77/1"), now(), 3);
    let started = Instant::now();
    let waited = run(
        &moto.endpoint(),
        &[&apply[..], &["--lock-timeout", "30"]].concat(),
    );
    assert!(waited.status.success(), "{}", text(&waited));
    assert!(
        stderr(&waited).contains("Waiting for the lock"),
        "{}",
        text(&waited)
    );
    assert!(
        stderr(&waited).contains("Took over the lock"),
        "{}",
        text(&waited)
    );
    eprintln!(
        "took over a 3 s lease after {:.1}s",
        started.elapsed().as_secs_f64()
    );
    let destroyed = run(
        &moto.endpoint(),
        &["destroy", "-f", fixture.path_str(), "--auto-approve"],
    );
    assert!(destroyed.status.success(), "{}", text(&destroyed));
}

#[test]
fn force_unlock_needs_the_lock_id_and_refuses_a_holder_alive_on_this_host() {
    let moto = Moto::start();
    let locks = Locks::new(moto);
    let stack = unique_stack("funlock");
    let fixture = Fixture::seed(&stack);
    let (host, boot) = this_host();
    let me = ecsform::lease::ProcessId::this();
    let unlock = |id: &str, force: bool| {
        let mut args = vec!["force-unlock", "-f", fixture.path_str(), id];
        if force {
            args.push("--force");
        }
        run(&moto.endpoint(), &args)
    };

    // Held by this very test process: alive on this host.
    locks.plant(
        &stack,
        "live0001",
        (&host, &boot, &format!("{}/{}", me.pid, me.start)),
        now(),
        60,
    );
    let refused = unlock("live0001", true);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(
        stderr(&refused).contains("still running on this host"),
        "{}",
        text(&refused)
    );
    // ... and apply waits for it rather than taking it.
    let apply = run(
        &moto.endpoint(),
        &["apply", "-f", fixture.path_str(), "--auto-approve"],
    );
    assert_eq!(apply.status.code(), Some(1), "{}", text(&apply));
    assert_eq!(locks.held(&stack).as_deref(), Some("live0001"));

    // The wrong id names the right one and removes nothing.
    let wrong = unlock("0000dead", true);
    assert_eq!(wrong.status.code(), Some(1), "{}", text(&wrong));
    assert!(
        stderr(&wrong).contains("has id live0001, not 0000dead"),
        "{}",
        text(&wrong)
    );
    assert_eq!(locks.held(&stack).as_deref(), Some("live0001"));

    // Without a terminal and without --force: refused, nothing removed.
    let unconfirmed = unlock("live0001", false);
    assert_eq!(unconfirmed.status.code(), Some(1), "{}", text(&unconfirmed));
    assert!(
        stderr(&unconfirmed).contains("--force"),
        "{}",
        text(&unconfirmed)
    );

    // A holder on another machine (its liveness cannot be checked from here): removed with its id.
    let removed = {
        // Replace the live lock by one from elsewhere.
        locks
            .rt
            .block_on(
                locks
                    .logs
                    .delete_log_group()
                    .log_group_name(format!("/ecsform/locks/{stack}"))
                    .send(),
            )
            .expect("removing the planted lock");
        locks.plant(&stack, "other0002", ("elsewhere", "b", "12/3"), now(), 60);
        unlock("other0002", true)
    };
    assert!(removed.status.success(), "{}", text(&removed));
    assert!(
        String::from_utf8_lossy(&removed.stdout).contains("Removed the lock"),
        "{}",
        text(&removed)
    );
    assert_eq!(locks.held(&stack), None);
    let none = unlock("other0002", true);
    assert!(
        String::from_utf8_lossy(&none.stdout).contains("is not locked"),
        "{}",
        text(&none)
    );
}

#[test]
fn a_run_that_cannot_renew_its_lease_stops_and_says_so() {
    let moto = Moto::start();
    let stack = unique_stack("nobeat");
    let fixture = Fixture::seed(&stack);
    // Every heartbeat is throttled; the REST VPC link stays PENDING long enough for the 6 s lease
    // (renewed every 1 s, given up after 4 s) to be lost mid-apply.
    let proxy = FaultProxy::start(
        moto,
        &json!({
            "fault_actions": ["logs:TagResource"],
            "throttle_fraction": 1.0,
            "vpc_link_pending_s": 30,
        }),
    );
    let started = Instant::now();
    let out = ecsform(&proxy.endpoint())
        .env("ECSFORM_LOCK_LEASE_SECS", "6")
        .args(["apply", "-f", fixture.path_str(), "--auto-approve"])
        .output()
        .expect("apply");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(err.contains("lost the stack lock"), "{err}");
    assert!(err.contains("could not renew its lease"), "{err}");
    assert!(err.contains("Run the command again"), "{err}");
    eprintln!(
        "stopped {:.1}s after the start",
        started.elapsed().as_secs_f64()
    );
    drop(proxy);
    // The stopped run is gone: its lock (if left) is taken over at once; the rerun converges.
    let rerun = run(
        &moto.endpoint(),
        &[
            "apply",
            "-f",
            fixture.path_str(),
            "--auto-approve",
            "--lock-timeout",
            "150",
        ],
    );
    assert!(rerun.status.success(), "{}", text(&rerun));
    let plan = run(
        &moto.endpoint(),
        &["plan", "-f", fixture.path_str(), "--detailed-exitcode"],
    );
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));
    let destroyed = run(
        &moto.endpoint(),
        &["destroy", "-f", fixture.path_str(), "--auto-approve"],
    );
    assert!(destroyed.status.success(), "{}", text(&destroyed));
}

/// Spawns `apply`, waits until it holds the lock and has started operations, sends `signal`.
fn interrupt_mid_apply(proxy: &FaultProxy, fixture: &Fixture, signal: &str) -> (Output, String) {
    let mut child = ecsform(&proxy.endpoint())
        .args(["apply", "-f", fixture.path_str(), "--auto-approve"])
        .spawn()
        .expect("spawn");
    let stderr_pipe = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr_pipe).lines().map_while(Result::ok) {
            let _ = tx.send(line.clone());
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    // Operations are under way once the first one has finished.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("apply printed no finished operation within 60 s");
        if line.starts_with("created ") {
            break;
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let out = child.wait_with_output().expect("wait");
    let err = reader.join().expect("reader");
    (out, err)
}

#[test]
fn sigint_and_sigterm_mid_apply_release_the_lock_and_the_rerun_converges() {
    let moto = Moto::start();
    let locks = Locks::new(moto);
    // Slow enough to be mid-apply when the signal comes: the REST VPC link pending for 8 s.
    let proxy = FaultProxy::start(moto, &json!({"latency_ms": 20, "vpc_link_pending_s": 8}));
    for (signal, code) in [("INT", 130), ("TERM", 143)] {
        let stack = unique_stack("sig");
        let fixture = Fixture::seed(&stack);
        let started = Instant::now();
        let (out, err) = interrupt_mid_apply(&proxy, &fixture, signal);
        assert_eq!(out.status.code(), Some(code), "SIG{signal}:\n{err}");
        assert!(
            err.contains("starting no new operation"),
            "SIG{signal}:\n{err}"
        );
        assert!(err.contains("Stopped,"), "SIG{signal}:\n{err}");
        assert!(err.contains(" left"), "SIG{signal}:\n{err}");
        assert!(
            err.contains("Run the command again: it resumes"),
            "SIG{signal}:\n{err}"
        );
        assert_eq!(
            locks.held(&stack),
            None,
            "SIG{signal}: the lock was left:\n{err}"
        );
        eprintln!(
            "SIG{signal}: exited {code} {:.1}s after the start",
            started.elapsed().as_secs_f64()
        );
        // No lock to wait for: the rerun goes at once and converges.
        let rerun = run(
            &proxy.endpoint(),
            &["apply", "-f", fixture.path_str(), "--auto-approve"],
        );
        assert!(
            rerun.status.success(),
            "SIG{signal} rerun:\n{}",
            text(&rerun)
        );
        let plan = run(
            &proxy.endpoint(),
            &["plan", "-f", fixture.path_str(), "--detailed-exitcode"],
        );
        assert_eq!(
            plan.status.code(),
            Some(0),
            "SIG{signal} plan:\n{}",
            text(&plan)
        );
        let destroyed = run(
            &proxy.endpoint(),
            &["destroy", "-f", fixture.path_str(), "--auto-approve"],
        );
        assert!(destroyed.status.success(), "{}", text(&destroyed));
    }
}

#[test]
fn a_run_releases_its_own_lock_and_never_one_taken_since() {
    let moto = Moto::start();
    let locks = Locks::new(moto);
    // Interfaces lingering for 4 s keep the destroy running while its lock is replaced.
    let proxy = FaultProxy::start(
        moto,
        &json!({"linger_seconds": 4, "linger_from": "release"}),
    );
    let stack = unique_stack("own");
    let fixture = Fixture::seed(&stack);

    // A run that keeps its lock releases it.
    let first = run(
        &proxy.endpoint(),
        &["apply", "-f", fixture.path_str(), "--auto-approve"],
    );
    assert!(first.status.success(), "{}", text(&first));
    assert_eq!(
        locks.held(&stack),
        None,
        "the lock was left:\n{}",
        text(&first)
    );

    // Mid-run, the lock is force-unlocked and another run takes it: at its end, this run
    // leaves that lock alone (a 600 s lease is renewed every 100 s: not within the run, which
    // would notice the loss and stop).
    let child = ecsform(&proxy.endpoint())
        .env("ECSFORM_LOCK_LEASE_SECS", "600")
        .args(["destroy", "-f", fixture.path_str(), "--auto-approve"])
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(60);
    while locks.held(&stack).is_none() {
        assert!(Instant::now() < deadline, "the destroy never took the lock");
        std::thread::sleep(Duration::from_millis(50));
    }
    let group = format!("/ecsform/locks/{stack}");
    locks
        .rt
        .block_on(locks.logs.delete_log_group().log_group_name(&group).send())
        .expect("force-unlocking");
    let (host, boot) = this_host();
    locks.plant(&stack, "other0003", (&host, &boot, "1/1"), now(), 600);
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        locks.held(&stack).as_deref(),
        Some("other0003"),
        "the run released a lock it no longer held:\n{}",
        text(&out)
    );
}
