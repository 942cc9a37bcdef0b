//! The command line without AWS: validate, graph, confirmation rules, exit codes.

use assert_cmd::Command;
use predicates::prelude::*;

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/topology.example.yaml");

fn ecsform() -> Command {
    let mut cmd = Command::cargo_bin("ecsform").expect("binary");
    cmd.env_remove("ECSFORM_LOCAL");
    // Nothing here may reach AWS: a closed loopback port makes any attempt fail fast.
    cmd.env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_REGION", "us-east-1");
    cmd.env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test");
    cmd
}

#[test]
fn validate_accepts_the_example_and_reports_lints() {
    ecsform()
        .args(["validate", "-f", EXAMPLE])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "is valid: stack `shop`, 5 services",
        ))
        .stderr(predicate::str::contains(
            "warning: the load balancer has only HTTP listeners",
        ));
}

#[test]
fn validate_points_at_the_line_and_column_with_a_hint() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("topology.yaml");
    let text = std::fs::read_to_string(EXAMPLE).expect("example").replace(
        "allowed_callers: [order-service]                # unreachable",
        "allowed_callers: [order-servce]                 # unreachable",
    );
    std::fs::write(&file, text).expect("write");
    let line = std::fs::read_to_string(&file)
        .expect("read")
        .lines()
        .position(|l| l.contains("order-servce"))
        .expect("line")
        + 1;
    ecsform()
        .current_dir(dir.path())
        .args(["validate"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(format!("topology.yaml:{line}:")))
        .stderr(predicate::str::contains("order-servce"))
        .stderr(predicate::str::contains("hint:"))
        .stderr(predicate::str::contains("did you mean `order-service`"));
}

#[test]
fn a_missing_file_is_an_error_not_a_panic() {
    ecsform()
        .args(["plan", "-f", "/nonexistent/topology.yaml"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("/nonexistent/topology.yaml"))
        .stderr(predicate::str::contains("panicked").not());
}

#[test]
fn call_graph_in_mermaid_and_dot() {
    ecsform()
        .args(["graph", "-f", EXAMPLE])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("graph LR"))
        .stdout(predicate::str::contains(
            "svc_order_service -->|3002| svc_product_service",
        ))
        .stdout(predicate::str::contains(
            "front_load_balancer -->|3000| svc_api_gateway",
        ))
        .stdout(predicate::str::contains("svc_api_gateway -->|3004|").not());
    ecsform()
        .args(["graph", "-f", EXAMPLE, "--format", "dot"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "\"order-service\" -> \"notification-service\" [label=\"3004\"]",
        ));
    ecsform()
        .args(["graph", "-f", EXAMPLE, "--resources"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "r_sg__svc__user_2d_service --> r_sg__svc__user_2d_service__from__sg__svc__api_2d_gateway",
        ));
}

/// The example's service `api-gateway` and its REST API front door `api_gateway` are two
/// nodes, and every node and edge is written once (Mermaid merges nodes that share an id).
#[test]
fn the_mermaid_graph_gives_every_node_its_own_id() {
    let out = ecsform()
        .args(["graph", "-f", EXAMPLE])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).expect("utf-8");
    let mut ids = std::collections::BTreeMap::new();
    for line in text.lines().skip(1) {
        // A node definition: `  id["label"]`, `  id[("label")]`, `... --> id{{"label"}}`.
        for (open, close) in [("[\"", "\"]"), ("[(\"", "\")]"), ("{{\"", "\"}}")] {
            if let Some(at) = line.find(open) {
                let id = line[..at]
                    .rsplit(' ')
                    .next()
                    .unwrap_or_default()
                    .to_string();
                let label = line[at + open.len()..]
                    .split(close)
                    .next()
                    .unwrap_or_default();
                let earlier = ids.insert(id.clone(), label.to_string());
                assert!(
                    earlier.is_none() || earlier.as_deref() == Some(label),
                    "node id {id} names both {earlier:?} and {label:?}:\n{text}"
                );
            }
        }
    }
    let labels: std::collections::BTreeSet<_> = ids.values().collect();
    assert_eq!(labels.len(), ids.len(), "two ids for one node:\n{text}");
    assert!(ids.values().any(|l| l == "api-gateway") && ids.values().any(|l| l == "api_gateway"));
    let edges: Vec<&str> = text.lines().filter(|l| l.contains("-->|")).collect();
    let distinct: std::collections::BTreeSet<_> = edges.iter().collect();
    assert_eq!(
        edges.len(),
        distinct.len(),
        "an edge written twice:\n{text}"
    );
    assert!(
        text.contains("front_api_gateway -->|3002| svc_product_service"),
        "{text}"
    );
    assert!(
        text.contains("svc_api_gateway -->|3002| svc_product_service"),
        "{text}"
    );
}

#[test]
fn help_lists_every_subcommand() {
    let out = ecsform().arg("--help").assert().success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    for cmd in [
        "validate",
        "plan",
        "apply",
        "destroy",
        "graph",
        "outputs",
        "force-unlock",
        "show",
        "schema",
        "completions",
    ] {
        assert!(text.contains(cmd), "{cmd} missing from --help");
    }
}

/// Every flag and argument of every command says what it does.
#[test]
fn every_flag_has_help() {
    use clap::CommandFactory;
    fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
        for arg in cmd.get_arguments() {
            let builtin = matches!(arg.get_id().as_str(), "help" | "version");
            if !builtin && arg.get_help().is_none() && arg.get_long_help().is_none() {
                missing.push(format!("{path} {}", arg.get_id()));
            }
        }
        for sub in cmd.get_subcommands() {
            walk(sub, &format!("{path} {}", sub.get_name()), missing);
        }
    }
    let mut missing = Vec::new();
    walk(&ecsform::cli::Cli::command(), "ecsform", &mut missing);
    assert!(missing.is_empty(), "without help: {missing:?}");
}

/// `--local` is offered by the commands that talk to AWS and by no other (it would mean nothing
/// to `graph`); `ecsform --local COMMAND` keeps working.
#[test]
fn local_is_offered_only_where_it_means_something() {
    use clap::{CommandFactory, Parser};
    let cli = ecsform::cli::Cli::command();
    let mut offering: Vec<String> = cli
        .get_subcommands()
        .filter(|sub| sub.get_arguments().any(|arg| arg.get_id() == "local"))
        .map(|sub| sub.get_name().to_string())
        .collect();
    offering.sort();
    let expected = [
        "apply",
        "audit",
        "destroy",
        "force-unlock",
        "outputs",
        "plan",
        "verify",
    ];
    assert_eq!(offering, expected);
    let graph_help = ecsform().args(["graph", "--help"]).assert().success();
    let text = String::from_utf8_lossy(&graph_help.get_output().stdout).to_string();
    assert!(!text.contains("--local"), "{text}");
    // Both spellings parse; `graph --local` is refused by clap, naming the flag.
    for args in [["--local", "plan"], ["plan", "--local"]] {
        ecsform::cli::Cli::try_parse_from(std::iter::once("ecsform").chain(args))
            .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    }
    let refused = ecsform()
        .args(["graph", "--local", "-f", EXAMPLE])
        .assert()
        .code(1);
    let err = String::from_utf8_lossy(&refused.get_output().stderr).to_string();
    assert!(err.contains("--local"), "{err}");
}

#[test]
fn durations_are_written_as_people_write_them() {
    use ecsform::cli::duration;
    assert_eq!(duration("30s"), Ok(std::time::Duration::from_secs(30)));
    assert_eq!(duration("5m"), Ok(std::time::Duration::from_secs(300)));
    assert_eq!(duration("1h 30m"), Ok(std::time::Duration::from_secs(5400)));
    assert_eq!(duration("45"), Ok(std::time::Duration::from_secs(45)));
    let refused = duration("soon").expect_err("not a duration");
    assert!(refused.contains("such as 30s"), "{refused}");
    let out = ecsform()
        .args(["apply", "--lock-timeout", "soon", "-f", EXAMPLE])
        .assert()
        .code(1);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        err.contains("--lock-timeout") && err.contains("such as 30s"),
        "{err}"
    );
}

#[test]
fn completions_for_bash_zsh_and_fish() {
    for (shell, mark) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef ecsform"),
        ("fish", "complete -c ecsform"),
    ] {
        let out = ecsform().args(["completions", shell]).assert().success();
        let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
        assert!(
            text.contains(mark) && text.contains("allow-replace"),
            "{shell}: {}",
            &text[..text.len().min(300)]
        );
    }
}

#[test]
fn apply_help_has_examples() {
    let out = ecsform().args(["apply", "--help"]).assert().success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        text.contains("Examples:") && text.contains("ecsform apply plan.json"),
        "{text}"
    );
}

#[test]
fn zero_parallelism_is_refused_before_anything_runs() {
    for command in ["apply", "destroy"] {
        ecsform()
            .args([
                command,
                "-f",
                EXAMPLE,
                "--auto-approve",
                "--parallelism",
                "0",
            ])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("--parallelism"));
    }
}

/// With --detailed-exitcode, 2 means "the plan has changes" and nothing else: a usage error
/// exits 1 like every other error.
#[test]
fn usage_errors_exit_1_never_2() {
    ecsform()
        .args(["plan", "--detailed-exitcode", "--bogus"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--bogus"));
    ecsform().args(["plan", "--parallelism"]).assert().code(1);
    ecsform().args(["frobnicate"]).assert().code(1);
    ecsform().arg("--help").assert().code(0);
    ecsform().arg("--version").assert().code(0);
}

#[test]
fn emulator_status_exits_non_zero_when_it_is_down() {
    let state = tempfile::TempDir::new().expect("temp dir");
    ecsform()
        .args(["emulator", "status"])
        .env("ECSFORM_STATE_DIR", state.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains("not running"));
}

/// Colour on a terminal (a pty from `script`), none with NO_COLOR, --no-color or without a
/// terminal; the saved plan shown is the example's first apply.
#[test]
fn plans_are_coloured_only_on_a_terminal_and_never_with_no_color() {
    let loaded = ecsform::topology::load(std::path::Path::new(EXAMPLE)).expect("example");
    let t = loaded.topology;
    let desired = ecsform::desired::expand(&t, "us-east-1");
    let plan = ecsform::plan::diff::diff(&t.name, "us-east-1", &desired, &Default::default());
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("plan.json");
    std::fs::write(
        &file,
        ecsform::plan::document::PlanDocument::new(plan, None, false).to_json(),
    )
    .expect("write");
    let bin = assert_cmd::cargo::cargo_bin("ecsform");
    let on_pty = |extra: &str, no_color_env: bool| {
        let mut cmd = std::process::Command::new("script");
        cmd.args([
            "-qec",
            &format!("{} show {} {extra}", bin.display(), file.display()),
            "/dev/null",
        ]);
        cmd.env_remove("NO_COLOR");
        if no_color_env {
            cmd.env("NO_COLOR", "1");
        }
        let out = cmd
            .output()
            .expect("script (util-linux) runs ecsform on a pty");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let coloured = on_pty("", false);
    assert!(coloured.contains("\x1b[32m  + vpc (vpc)"), "{coloured:?}");
    assert!(!on_pty("--no-color", false).contains('\x1b'));
    assert!(!on_pty("", true).contains('\x1b'));
    let piped = ecsform()
        .args(["show", file.to_str().expect("utf-8")])
        .assert()
        .success();
    assert!(!String::from_utf8_lossy(&piped.get_output().stdout).contains('\x1b'));
}

/// Without credentials on a machine whose instance metadata service refuses (off EC2, or IMDS
/// disabled), the message is the one of "no credentials found", with the `--local` hint: not
/// the last provider's words.
#[test]
fn no_credentials_says_so_whichever_provider_answered_last() {
    use std::io::{Read, Write};
    // A stand-in metadata service on loopback that refuses every request, as IMDS does when
    // it is disabled.
    let imds = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = imds.local_addr().expect("port").port();
    std::thread::spawn(move || {
        for stream in imds.incoming().flatten() {
            let mut stream = stream;
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(
                b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    let home = tempfile::tempdir().expect("home");
    let mut cmd = Command::cargo_bin("ecsform").expect("binary");
    for var in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_EC2_METADATA_DISABLED",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "ECSFORM_LOCAL",
    ] {
        cmd.env_remove(var);
    }
    let out = cmd
        .env("HOME", home.path())
        .env("AWS_CONFIG_FILE", home.path().join("none"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.path().join("none"))
        .env(
            "AWS_EC2_METADATA_SERVICE_ENDPOINT",
            format!("http://127.0.0.1:{port}"),
        )
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .args(["plan", "-f", EXAMPLE])
        .output()
        .expect("running ecsform");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("no AWS credentials found") && err.contains("--local") && !err.contains(".:"),
        "{err}"
    );
}
