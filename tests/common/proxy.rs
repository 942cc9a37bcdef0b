//! The fault-injecting proxy (`tools/faultproxy.py`) in front of a moto server.

use super::Moto;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

pub struct FaultProxy {
    port: u16,
    child: Child,
}

impl FaultProxy {
    /// Starts a proxy in front of `moto` with `config` (JSON, see the proxy's docstring). It
    /// checks every request against AWS's service models too (its `contract` key, on unless
    /// ECSFORM_CONTRACT=0), so fault tests are held to the contract like every other test.
    pub fn start(moto: &Moto, config: &serde_json::Value) -> FaultProxy {
        let python = std::env::var("ECSFORM_PYTHON").unwrap_or_else(|_| "python3".into());
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tools/faultproxy.py");
        let config_file = tempfile::NamedTempFile::new().expect("temp file");
        let mut config = config.clone();
        if std::env::var("ECSFORM_CONTRACT").is_ok_and(|v| v == "0") {
            config["contract"] = serde_json::Value::Bool(false);
        }
        std::fs::write(config_file.path(), config.to_string()).expect("writing the proxy config");
        let mut child = Command::new(python)
            .args([
                script,
                "--upstream",
                &moto.raw_endpoint(),
                "--port",
                "0",
                "--config",
            ])
            .arg(config_file.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting tools/faultproxy.py");
        let stdout = child.stdout.take().expect("proxy stdout");
        let mut first = String::new();
        BufReader::new(stdout)
            .read_line(&mut first)
            .expect("reading the proxy's port");
        let port = first
            .trim()
            .strip_prefix("LISTENING ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected proxy greeting: {first:?}"));
        FaultProxy { port, child }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `ecsform` talking to AWS through this proxy.
    pub fn ecsform(&self, moto: &Moto) -> assert_cmd::Command {
        let mut cmd = moto.ecsform();
        cmd.env("AWS_ENDPOINT_URL", self.endpoint());
        cmd
    }

    /// Replaces the proxy's configuration (what it learnt of the resources is kept).
    pub fn configure(&self, config: &serde_json::Value) {
        let body = config.to_string();
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("proxy");
        write!(
            s,
            "POST /_proxy/config HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("write");
        let mut text = String::new();
        s.read_to_string(&mut text).expect("read");
        assert!(
            text.starts_with("HTTP/1.1 200") || text.starts_with("HTTP/1.0 200"),
            "{text}"
        );
    }

    /// The proxy's request statistics.
    pub fn stats(&self) -> serde_json::Value {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("proxy");
        write!(
            s,
            "GET /_proxy/stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .expect("write");
        let mut text = String::new();
        s.read_to_string(&mut text).expect("read");
        let body = text.split("\r\n\r\n").nth(1).unwrap_or("{}");
        serde_json::from_str(body).unwrap_or(serde_json::Value::Null)
    }
}

impl Drop for FaultProxy {
    /// SIGTERM first, so the proxy writes its final contract report; SIGKILL if it lingers.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        for _ in 0..40 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
