//! Harness for live tests: one moto server per test binary, the `ecsform` binary pointed at it,
//! SDK clients for checking what it did, unique stack names and topology fixtures.
#![allow(dead_code)]

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The seed topology: five services behind an ALB (`name: shop`).
pub const SEED: &str = include_str!("../../topology.example.yaml");

/// Longest a single CLI run may take before the test fails instead of hanging.
const CLI_TIMEOUT: Duration = Duration::from_secs(180);

pub mod probe;
pub mod proxy;

/// A moto server on 127.0.0.1 behind the contract proxy (`tools/faultproxy.py` with no faults):
/// every request a test sends is checked against AWS's published service models first, and one
/// AWS would refuse fails with `ContractViolation` naming the operation, member, rule and value.
/// `ECSFORM_CONTRACT=0` talks to moto directly (to measure what the checking costs).
/// Both run under a small `sh` watchdog that reads our pipe: when the test process exits
/// (normally, by panic, or killed), the pipe closes and the watchdog stops them, so no server
/// outlives the test binary. Dropping a `Moto` stops it at once.
pub struct Moto {
    port: u16,
    /// The contract proxy's port (`None` with ECSFORM_CONTRACT=0).
    proxy_port: Option<u16>,
    watchdog: Mutex<Option<(Child, ChildStdin)>>,
    pub log: PathBuf,
}

static SHARED: OnceLock<Moto> = OnceLock::new();

impl Moto {
    /// The moto server shared by every test of this binary, started on first use.
    pub fn start() -> &'static Moto {
        SHARED.get_or_init(|| Moto::spawn().unwrap_or_else(|e| panic!("starting moto: {e}")))
    }

    /// A new server of its own (stopped when dropped).
    pub fn spawn() -> Result<Moto, String> {
        let port = free_port().map_err(|e| format!("finding a free port: {e}"))?;
        let contract = std::env::var("ECSFORM_CONTRACT").map_or(true, |v| v != "0");
        let proxy_port = if contract {
            Some(free_port().map_err(|e| format!("finding a free port: {e}"))?)
        } else {
            None
        };
        let python = std::env::var("ECSFORM_PYTHON").unwrap_or_else(|_| "python3".into());
        let log = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("moto-{}-{port}.log", std::process::id()));
        let log_file =
            std::fs::File::create(&log).map_err(|e| format!("creating {}: {e}", log.display()))?;
        // `read` returns when our end of the pipe closes: then moto and the proxy go too (the
        // proxy writes its contract report on SIGTERM).
        let script = r#"
"$0" -m moto.server -H 127.0.0.1 -p "$1" </dev/null &
pids=$!
if [ -n "$2" ]; then
  "$0" "$3" --upstream "http://127.0.0.1:$1" --port "$2" </dev/null &
  pids="$pids $!"
fi
trap 'kill $pids 2>/dev/null; exit 0' TERM INT HUP
while read -r _; do :; done
kill $pids 2>/dev/null
wait $pids 2>/dev/null
"#;
        let proxy_script = concat!(env!("CARGO_MANIFEST_DIR"), "/tools/faultproxy.py");
        let proxy_arg = proxy_port.map(|p| p.to_string()).unwrap_or_default();
        let mut child = Command::new("sh")
            .args([
                "-c",
                script,
                &python,
                &port.to_string(),
                &proxy_arg,
                proxy_script,
            ])
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .env("MOTO_ACM_VALIDATION_WAIT", "0")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .stdin(Stdio::piped())
            .stdout(log_file.try_clone().map_err(|e| e.to_string())?)
            .stderr(log_file)
            .spawn()
            .map_err(|e| format!("spawning sh for `{python} -m moto.server`: {e}"))?;
        let stdin = child.stdin.take().ok_or("no stdin pipe")?;
        let moto = Moto {
            port,
            proxy_port,
            watchdog: Mutex::new(Some((child, stdin))),
            log,
        };
        moto.wait_ready(moto.port, "/moto-api/data.json", Duration::from_secs(30))?;
        if let Some(p) = proxy_port {
            moto.wait_ready(p, "/_proxy/health", Duration::from_secs(30))?;
        }
        Ok(moto)
    }

    fn wait_ready(&self, port: u16, path: &str, limit: Duration) -> Result<(), String> {
        let start = Instant::now();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        loop {
            if let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
                // Listening is not answering: ask for something moto serves itself.
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                let req = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n");
                if s.write_all(req.as_bytes()).is_ok() {
                    let mut head = [0u8; 12];
                    if std::io::Read::read_exact(&mut s, &mut head).is_ok()
                        && head.starts_with(b"HTTP/")
                    {
                        return Ok(());
                    }
                }
            }
            if let Some((child, _)) = self.watchdog.lock().unwrap().as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    return Err(format!(
                        "moto exited ({status}); see {}",
                        self.log.display()
                    ));
                }
            }
            if start.elapsed() > limit {
                return Err(format!(
                    "{path} did not answer on port {port} within {limit:?}; see {}",
                    self.log.display()
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Where tests send requests: the contract proxy (or moto itself with ECSFORM_CONTRACT=0).
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.proxy_port.unwrap_or(self.port))
    }

    /// moto itself, for a fault proxy (which checks the contract on its own) to forward to.
    pub fn raw_endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The `ecsform` binary, talking to this server through the standard AWS env chain.
    pub fn ecsform(&self) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_ecsform"));
        cmd.env("AWS_ENDPOINT_URL", self.endpoint())
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_DEFAULT_PROFILE")
            .env_remove("ECSFORM_LOCAL")
            .env("NO_COLOR", "1")
            .timeout(CLI_TIMEOUT);
        cmd
    }

    /// Runs `ecsform ARGS` off the async runtime and returns its output.
    pub async fn run(&self, args: &[&str]) -> Cli {
        run_command(self.ecsform(), args).await
    }

    /// SDK configuration for the same endpoint and credentials.
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        let creds =
            aws_sdk_ec2::config::Credentials::new("test", "test", None, None, "ecsform-live-tests");
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(self.endpoint())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(creds)
            .load()
            .await
    }

    pub fn stop(&self) {
        if let Some((mut child, stdin)) = self.watchdog.lock().unwrap().take() {
            drop(stdin);
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> std::io::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// Runs `cmd ARGS` (ecsform with its environment set: `Moto::ecsform`, `FaultProxy::ecsform`)
/// off the async runtime.
pub async fn run_command(mut cmd: assert_cmd::Command, args: &[&str]) -> Cli {
    cmd.args(args);
    let shown = format!("ecsform {}", args.join(" "));
    let output = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("join")
        .expect("running ecsform");
    Cli { shown, output }
}

/// One finished CLI run.
pub struct Cli {
    pub shown: String,
    pub output: Output,
}

impl Cli {
    pub fn code(&self) -> Option<i32> {
        self.output.status.code()
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }
    /// Panics with both streams unless the exit code is `code`.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code(),
            Some(code),
            "`{}` exited with {:?}, expected {code}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.shown,
            self.output.status,
            self.stdout(),
            self.stderr()
        );
        self
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.output.stdout).unwrap_or_else(|e| {
            panic!(
                "`{}` did not print JSON ({e}):\n{}",
                self.shown,
                self.stdout()
            )
        })
    }
}

/// A stack name unique to this test run: `prefix` + `-` + a per-process tag + a counter,
/// `[a-z][a-z0-9-]`, at most 20 characters.
pub fn unique_stack(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    assert!(
        prefix.len() <= 10 && prefix.starts_with(|c: char| c.is_ascii_lowercase()),
        "stack prefix `{prefix}` must start with a-z and be at most 10 characters"
    );
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let pid = std::process::id() % 36u32.pow(4);
    let name = format!("{prefix}-{}{}", base36(pid, 4), base36(n, 1));
    assert!(
        name.len() <= 20
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    );
    name
}

fn base36(mut n: u32, min_width: usize) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    while n > 0 || out.len() < min_width {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// A topology file in its own temporary directory.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
    pub stack: String,
    text: String,
}

impl Fixture {
    /// The seed topology with its stack renamed to `stack`.
    pub fn seed(stack: &str) -> Fixture {
        assert_eq!(
            SEED.matches("\nname: shop\n").count(),
            1,
            "the seed's `name: shop` line moved"
        );
        Fixture::from_text(
            stack,
            &SEED.replace("\nname: shop\n", &format!("\nname: {stack}\n")),
        )
    }

    /// A file under `tests/fixtures/`, its `name:` line (if any) set to `stack`.
    pub fn from_file(stack: &str, relative: &str) -> Fixture {
        Fixture::from_repo_file(stack, &format!("tests/fixtures/{relative}"))
    }

    /// A file of the repository (an example), its `name:` line (if any) set to `stack`.
    pub fn from_repo_file(stack: &str, relative: &str) -> Fixture {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let text = text
            .lines()
            .map(|l| {
                if l.starts_with("name:") {
                    format!("name: {stack}")
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
            + "\n";
        Fixture::from_text(stack, &text)
    }

    pub fn from_text(stack: &str, text: &str) -> Fixture {
        let dir = tempfile::TempDir::new().expect("temp dir");
        let path = dir.path().join("topology.yaml");
        std::fs::write(&path, text).expect("writing the topology");
        Fixture {
            dir,
            path,
            stack: stack.to_string(),
            text: text.to_string(),
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// Rewrites the file, replacing the one occurrence of `from` (after `anchor`, if given) by `to`.
    pub fn edit(&mut self, anchor: Option<&str>, from: &str, to: &str) {
        let start = match anchor {
            Some(a) => self
                .text
                .find(a)
                .unwrap_or_else(|| panic!("`{a}` not in the topology")),
            None => 0,
        };
        let at = self.text[start..]
            .find(from)
            .unwrap_or_else(|| panic!("`{from}` not in the topology"))
            + start;
        if anchor.is_none() {
            assert_eq!(
                self.text.matches(from).count(),
                1,
                "`{from}` is ambiguous in the topology"
            );
        }
        self.text.replace_range(at..at + from.len(), to);
        std::fs::write(&self.path, &self.text).expect("writing the topology");
    }

    pub fn path_str(&self) -> &str {
        self.path.to_str().expect("utf-8 temp path")
    }
}

// ---------------------------------------------------------------- plans and applies

/// The plan's steps as `(id, action)`.
pub fn steps(plan: &serde_json::Value) -> std::collections::BTreeSet<(String, String)> {
    plan["steps"]
        .as_array()
        .expect("plan.steps")
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap_or_default().to_string(),
                s["action"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

pub fn pair(id: &str, action: &str) -> (String, String) {
    (id.to_string(), action.to_string())
}

pub async fn apply(moto: &Moto, f: &Fixture) {
    moto.run(&["apply", "-f", f.path_str(), "--auto-approve"])
        .await
        .expect_code(0);
}

pub async fn assert_plan_empty(moto: &Moto, f: &Fixture) {
    let out = moto
        .run(&["plan", "-f", f.path_str(), "--detailed-exitcode"])
        .await;
    out.expect_code(0);
    assert!(
        out.stdout().contains("No changes"),
        "plan should say `No changes`:\n{}",
        out.stdout()
    );
}

/// `plan --json --detailed-exitcode` of a stack with changes (exit 2): its steps as
/// `(id, action)`, and its text for failure messages.
pub async fn planned_changes(
    moto: &Moto,
    f: &Fixture,
) -> (std::collections::BTreeSet<(String, String)>, String) {
    let plan = moto
        .run(&["plan", "-f", f.path_str(), "--json", "--detailed-exitcode"])
        .await;
    plan.expect_code(2);
    (steps(&plan.json()), plan.stdout())
}
