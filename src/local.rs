//! `--local`: a moto server on 127.0.0.1 that ecsform starts once and reuses across commands,
//! so `apply` then `plan` work without an AWS account. Never used against real AWS.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The emulator version the project is tested with (also in requirements-emulator.txt).
pub const MOTO_VERSION: &str = "5.2.1";

#[derive(Debug, Serialize, Deserialize)]
struct EmulatorState {
    port: u16,
    pid: u32,
}

fn state_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("ECSFORM_STATE_DIR") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    home.join(".ecsform")
}

fn state_file() -> PathBuf {
    state_dir().join("emulator.json")
}

fn reachable(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_ok()
}

fn read_state() -> Option<EmulatorState> {
    let text = std::fs::read_to_string(state_file()).ok()?;
    serde_json::from_str(&text).ok()
}

/// The endpoint of a running emulator, if one is up.
pub fn running_endpoint() -> Option<String> {
    read_state()
        .filter(|s| reachable(s.port))
        .map(|s| format!("http://127.0.0.1:{}", s.port))
}

/// Starts the emulator unless it already runs; returns its endpoint.
pub fn ensure_running() -> Result<String> {
    if let Some(endpoint) = running_endpoint() {
        return Ok(endpoint);
    }
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    std::fs::create_dir_all(state_dir())
        .with_context(|| format!("creating {}", state_dir().display()))?;
    let log = std::fs::File::create(state_dir().join("emulator.log"))?;
    let python = std::env::var("ECSFORM_PYTHON").unwrap_or_else(|_| "python3".into());
    let mut cmd = Command::new(&python);
    cmd.args([
        "-m",
        "moto.server",
        "-H",
        "127.0.0.1",
        "-p",
        &port.to_string(),
    ])
    .envs(emulator_env())
    .stdin(Stdio::null())
    .stdout(log.try_clone()?)
    .stderr(log);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // Its own process group: Ctrl-C on one ecsform command must not stop the emulator.
        cmd.process_group(0);
    }
    let child = cmd.spawn().with_context(|| {
        format!("starting the local emulator with `{python} -m moto.server`; install it with: pip install 'moto[server]=={MOTO_VERSION}'")
    })?;
    let start = Instant::now();
    while !reachable(port) {
        if start.elapsed() > Duration::from_secs(30) {
            bail!(
                "the local emulator did not start within 30 s; see {} (is moto installed? pip install 'moto[server]=={MOTO_VERSION}')",
                state_dir().join("emulator.log").display()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let state = EmulatorState {
        port,
        pid: child.id(),
    };
    std::fs::write(state_file(), serde_json::to_string(&state)?)?;
    eprintln!("Started the local AWS emulator (moto) at http://127.0.0.1:{port} (stop it with `ecsform emulator stop`).");
    Ok(format!("http://127.0.0.1:{port}"))
}

/// Settings that make moto behave closer to AWS for our calls (see shared/MOTO.md).
pub fn emulator_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("MOTO_IAM_LOAD_MANAGED_POLICIES", "true"),
        ("MOTO_ACM_VALIDATION_WAIT", "0"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
    ]
}

pub fn stop() -> Result<bool> {
    let Some(state) = read_state() else {
        return Ok(false);
    };
    let _ = std::fs::remove_file(state_file());
    if !reachable(state.port) {
        return Ok(false);
    }
    let status = Command::new("kill").arg(state.pid.to_string()).status()?;
    Ok(status.success())
}
