//! Hostile input never reaches AWS: every file of `tests/corpus/invalid` is run through the real
//! binary (`plan` and `apply --auto-approve`) with the SDK pointed at a local listener that
//! counts connections. Each run must exit 1 with a located, hinted diagnostic, without a panic,
//! and the listener must see no connection at all. A control run with a valid file proves the
//! listener would have noticed.

use assert_cmd::Command;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// Longest a single CLI run may take before it is killed and the test fails.
const RUN_TIMEOUT: Duration = Duration::from_secs(30);
/// How many CLI runs go on at once.
const WORKERS: usize = 4;

/// A TCP listener on 127.0.0.1 that counts every connection it accepts. Each connection gets a
/// `400 Bad Request` (not retried by the SDK) so that a client reaching it fails fast.
struct CountingListener {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// What the listener answers unless told otherwise: 400, which the SDK does not retry.
const BAD_REQUEST: &[u8] =
    b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

impl CountingListener {
    fn start() -> CountingListener {
        CountingListener::answering(BAD_REQUEST)
    }

    /// A listener that answers every request with `response` (a whole HTTP response).
    fn answering(response: &'static [u8]) -> CountingListener {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("making the listener nonblocking");
        let addr = listener.local_addr().expect("listener address");
        let accepted = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let accepted = Arc::clone(&accepted);
            let stop = Arc::clone(&stop);
            thread::spawn(move || accept_loop(&listener, &accepted, &stop, response))
        };
        CountingListener {
            addr,
            accepted,
            stop,
            thread: Some(thread),
        }
    }

    fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn count(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Stops the accept loop after it has drained the backlog; returns the final count.
    fn finish(mut self) -> usize {
        self.shut_down();
        self.count()
    }

    fn shut_down(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            thread.join().expect("the listener thread panicked");
        }
    }
}

impl Drop for CountingListener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn accept_loop(
    listener: &TcpListener,
    accepted: &AtomicUsize,
    stop: &AtomicBool,
    response: &'static [u8],
) {
    loop {
        // Read the flag before draining, so connections queued before `stop` are still counted.
        let stopping = stop.load(Ordering::SeqCst);
        loop {
            match listener.accept() {
                Ok((stream, _)) => {
                    accepted.fetch_add(1, Ordering::SeqCst);
                    thread::spawn(move || answer(stream, response));
                }
                Err(err) if err.kind() == ErrorKind::WouldBlock => break,
                Err(err) if err.kind() == ErrorKind::Interrupted => continue,
                Err(err) => panic!("accept failed: {err}"),
            }
        }
        if stopping {
            return;
        }
        thread::sleep(Duration::from_millis(5));
    }
}

/// Reads the request (headers and a `Content-Length` body), answers `response` and closes.
fn answer(mut stream: TcpStream, response: &[u8]) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    let complete = |request: &[u8]| -> bool {
        let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") else {
            return false;
        };
        let head = String::from_utf8_lossy(&request[..end]).to_ascii_lowercase();
        let body_len = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length:"))
            .and_then(|n| n.trim().parse::<usize>().ok())
            .unwrap_or(0);
        request.len() >= end + 4 + body_len
    };
    while !complete(&request) {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let _ = stream.write_all(response);
    let _ = stream.flush();
}

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Files of `tests/corpus/<kind>` with `extension`, as paths relative to the crate root.
fn corpus(kind: &str, extension: &str) -> Vec<PathBuf> {
    let relative = Path::new("tests/corpus").join(kind);
    let dir = manifest_dir().join(&relative);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
        .map(|entry| entry.expect("reading the corpus directory").file_name())
        .map(|name| relative.join(name))
        .filter(|path| path.extension().is_some_and(|ext| ext == extension))
        .collect();
    files.sort();
    files
}

struct Expectation {
    line: usize,
    column: usize,
    message: String,
}

fn read_expectation(yaml: &Path) -> Expectation {
    let expect = manifest_dir().join(yaml.with_extension("expect"));
    let text = std::fs::read_to_string(&expect)
        .unwrap_or_else(|err| panic!("{}: {err}", expect.display()));
    let mut lines = text.lines();
    let (line, column) = lines
        .next()
        .and_then(|position| position.split_once(':'))
        .and_then(|(line, column)| Some((line.trim().parse().ok()?, column.trim().parse().ok()?)))
        .unwrap_or_else(|| panic!("{}: first line must be line:col", expect.display()));
    let message = lines.next().unwrap_or_default().to_string();
    assert!(
        !message.is_empty(),
        "{}: second line must be a message substring",
        expect.display()
    );
    Expectation {
        line,
        column,
        message,
    }
}

/// The binary with AWS pointed at `endpoint` and nothing else that could redirect it.
fn ecsform(endpoint: &str, args: &[&str]) -> Command {
    let mut cmd = Command::cargo_bin("ecsform").expect("the ecsform binary");
    cmd.current_dir(manifest_dir())
        .args(args)
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("ECSFORM_LOCAL")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_DEFAULT_REGION")
        .timeout(RUN_TIMEOUT);
    for (key, _) in std::env::vars_os() {
        if key
            .to_str()
            .is_some_and(|key| key.starts_with("AWS_ENDPOINT_URL_"))
        {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// Runs `args` on one invalid file; returns every broken expectation (empty when all hold).
fn check_run(endpoint: &str, file: &Path, expected: &Expectation, args: &[&str]) -> Vec<String> {
    let output = ecsform(endpoint, args)
        .output()
        .unwrap_or_else(|err| panic!("running ecsform {args:?}: {err}"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let location = format!("{}:{}:{}", file.display(), expected.line, expected.column);
    let mut problems = Vec::new();
    if output.status.code() != Some(1) {
        problems.push(format!("exit status {:?}, expected 1", output.status));
    }
    if !stderr.contains(&location) {
        problems.push(format!("stderr lacks the location `{location}`"));
    }
    if !stderr.contains(&expected.message) {
        problems.push(format!("stderr lacks the message `{}`", expected.message));
    }
    if !stderr.contains("hint:") {
        problems.push("stderr has no `hint:`".to_string());
    }
    if stderr.contains("panicked") {
        problems.push("the binary panicked".to_string());
    }
    if problems.is_empty() {
        return problems;
    }
    vec![format!(
        "ecsform {}:\n    {}\n  stderr:\n{}",
        args.join(" "),
        problems.join("\n    "),
        stderr
            .lines()
            .map(|line| format!("    | {line}"))
            .collect::<Vec<_>>()
            .join("\n")
    )]
}

fn check_file(endpoint: &str, file: &Path) -> Vec<String> {
    let expected = read_expectation(file);
    let path = file.to_str().expect("corpus paths are UTF-8");
    let mut problems = check_run(endpoint, file, &expected, &["plan", "-f", path]);
    problems.extend(check_run(
        endpoint,
        file,
        &expected,
        &["apply", "-f", path, "--auto-approve"],
    ));
    problems
}

#[test]
fn invalid_files_fail_with_a_located_diagnostic_and_never_touch_aws() {
    let started = Instant::now();
    let files = corpus("invalid", "yaml");
    assert!(
        files.len() >= 50,
        "only {} invalid corpus files found",
        files.len()
    );
    let listener = CountingListener::start();
    let endpoint = listener.endpoint();
    let chunk = files.len().div_ceil(WORKERS);
    let mut failures: Vec<String> = thread::scope(|scope| {
        let workers: Vec<_> = files
            .chunks(chunk)
            .map(|files| {
                let endpoint = endpoint.as_str();
                scope.spawn(move || {
                    files
                        .iter()
                        .flat_map(|file| check_file(endpoint, file))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().expect("a worker thread panicked"))
            .collect()
    });
    let connections = listener.finish();
    if connections != 0 {
        failures.push(format!(
            "the AWS endpoint received {connections} connection(s); invalid input must not reach AWS"
        ));
    }
    assert!(
        failures.is_empty(),
        "{} problem(s) over {} files:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
    eprintln!(
        "{} invalid files x 2 commands in {:.1}s, 0 connections",
        files.len(),
        started.elapsed().as_secs_f64()
    );
}

/// Without this, a listener that never counts would make the test above pass vacuously.
#[test]
fn control_a_valid_file_does_reach_the_listener() {
    let listener = CountingListener::start();
    let file = "tests/corpus/valid/00_seed_shop.yaml";
    let started = Instant::now();
    let output = ecsform(&listener.endpoint(), &["plan", "-f", file])
        .output()
        .expect("running ecsform plan");
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let connections = listener.finish();
    assert!(
        connections > 0,
        "the listener saw no connection from `plan` of a valid file; stderr:\n{stderr}"
    );
    assert_eq!(
        output.status.code(),
        Some(1),
        "plan against a listener answering 400 must fail; stderr:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "panicked; stderr:\n{stderr}");
    assert!(
        elapsed < Duration::from_secs(20),
        "plan took {elapsed:?} against a listener answering 400"
    );
    eprintln!(
        "control: {connections} connection(s), plan failed in {:.1}s",
        elapsed.as_secs_f64()
    );
}

/// Runs `plan` of a valid file with `setup` applied to the command; returns (stderr, exit
/// code, seconds, connections the listener saw).
fn plan_with(setup: impl FnOnce(&mut Command)) -> (String, Option<i32>, f64, usize) {
    plan_against(CountingListener::start(), setup)
}

fn plan_against(
    listener: CountingListener,
    setup: impl FnOnce(&mut Command),
) -> (String, Option<i32>, f64, usize) {
    let mut cmd = ecsform(
        &listener.endpoint(),
        &["plan", "-f", "topology.example.yaml"],
    );
    setup(&mut cmd);
    let started = Instant::now();
    let output = cmd.output().expect("running ecsform plan");
    let elapsed = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (stderr, output.status.code(), elapsed, listener.finish())
}

/// The error lines of a run: one, short, no SDK debug dump.
fn assert_one_error_line(stderr: &str, wanted: &[&str]) {
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "stderr:\n{stderr}");
    // The file's lint warnings (each with its hint line) come first; then the one error line.
    let rest: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.contains(": warning: ") && !l.starts_with("  hint: ") && !l.is_empty())
        .collect();
    assert_eq!(rest.len(), 1, "more than the one line:\n{stderr}");
    for w in wanted {
        assert!(errors[0].contains(w), "`{w}` missing from: {}", errors[0]);
    }
    for dump in ["DispatchFailure", "ConnectorError", "{ source", "Some("] {
        assert!(!stderr.contains(dump), "SDK debug output in:\n{stderr}");
    }
}

#[test]
fn no_credentials_is_one_actionable_line_and_no_request() {
    let home = tempfile::TempDir::new().expect("temp home");
    let (stderr, code, secs, connections) = plan_with(|cmd| {
        cmd.env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_WEB_IDENTITY_TOKEN_FILE")
            .env_remove("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
            .env_remove("AWS_CONTAINER_CREDENTIALS_FULL_URI")
            .env("HOME", home.path())
            .env("AWS_CONFIG_FILE", home.path().join("config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                home.path().join("credentials"),
            );
    });
    assert_eq!(code, Some(1), "{stderr}");
    assert_one_error_line(
        &stderr,
        &[
            "no AWS credentials found",
            "AWS_PROFILE",
            "aws sso login",
            "--local",
        ],
    );
    assert_eq!(connections, 0, "a request went out without credentials");
    eprintln!("no credentials: failed in {secs:.2}s");
}

#[test]
fn an_unreachable_endpoint_is_one_actionable_line() {
    // A port nothing listens on (bound, then released).
    let closed = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr");
    let endpoint = format!("http://{closed}");
    let (stderr, code, secs, _) = plan_with(|cmd| {
        cmd.env("AWS_ENDPOINT_URL", &endpoint);
    });
    assert_eq!(code, Some(1), "{stderr}");
    assert_one_error_line(
        &stderr,
        &[
            "could not connect to",
            &endpoint,
            "AWS_ENDPOINT_URL",
            "--local",
        ],
    );
    eprintln!("unreachable endpoint: failed in {secs:.2}s");
}

/// What AWS answers to keys that do not exist (STS's query-protocol error shape).
const INVALID_TOKEN: &[u8] = b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/xml\r\nContent-Length: 280\r\nConnection: close\r\n\r\n<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error><RequestId>4d7b6ff1-6c47-4b24-a3e2-8f0e3b1c1e4a</RequestId></ErrorResponse>";

#[test]
fn refused_credentials_are_one_actionable_line_after_one_request() {
    let (stderr, code, secs, connections) =
        plan_against(CountingListener::answering(INVALID_TOKEN), |_| {});
    assert_eq!(code, Some(1), "{stderr}");
    assert_one_error_line(
        &stderr,
        &[
            "AWS refused the credentials",
            "InvalidClientTokenId",
            "AWS_PROFILE",
            "aws sso login",
        ],
    );
    assert_eq!(
        connections, 1,
        "refused credentials were retried or the run went on"
    );
    eprintln!("refused credentials: failed in {secs:.2}s after {connections} request");
}
