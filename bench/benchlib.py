"""Shared harness for the ecsform benchmarks (python3 stdlib only).

Starts moto's server and tools/faultproxy.py on free loopback ports, talks to the proxy's
control endpoints, runs commands under /usr/bin/time -v, and writes results JSON.
Everything listens on / connects to 127.0.0.1 only.
"""

from __future__ import annotations

import atexit
import json
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
RESULTS = os.path.join(BENCH, "results")
PROXY = os.path.join(ROOT, "tools", "faultproxy.py")


def ecsform_bin() -> str:
    """ECSFORM_BIN, else the release binary of the benchmark build dir, else target/release."""
    for cand in (
        os.environ.get("ECSFORM_BIN"),
        "/work/bench-target/release/ecsform",
        os.path.join(ROOT, "target", "release", "ecsform"),
    ):
        if cand and os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    sys.exit("no ecsform binary: set ECSFORM_BIN or build with "
             "CARGO_TARGET_DIR=/work/bench-target cargo build --release")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _http(method: str, url: str, body: dict | None = None, timeout: float = 30):
    data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        raw = r.read()
    try:
        return json.loads(raw or b"null")
    except ValueError:
        return raw.decode(errors="replace")


class Stack:
    """One moto server and one faultproxy in front of it, killed at exit."""

    def __init__(self, latency_ms: float = 20, extra_config: dict | None = None,
                 log_path: str | None = None):
        self.procs: list[subprocess.Popen] = []
        atexit.register(self.stop)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: sys.exit(130))
        self.moto_port = free_port()
        env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true",
                   MOTO_ACM_VALIDATION_WAIT="0")
        self.moto_log = open(os.path.join(RESULTS, ".moto.log"), "w")
        self.procs.append(subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.moto_port)],
            stdout=self.moto_log, stderr=subprocess.STDOUT, env=env, start_new_session=True))
        self.moto = f"http://127.0.0.1:{self.moto_port}"
        deadline = time.time() + 30
        while True:
            try:
                _http("GET", self.moto + "/moto-api/data.json", timeout=2)
                break
            except Exception:
                if time.time() > deadline:
                    raise RuntimeError("moto did not start")
                time.sleep(0.1)
        p = subprocess.Popen(
            [sys.executable, PROXY, "--upstream", self.moto, "--port", "0"]
            + (["--log", log_path] if log_path else []),
            stdout=subprocess.PIPE, stderr=open(os.path.join(RESULTS, ".proxy.log"), "w"),
            text=True, start_new_session=True)
        self.procs.append(p)
        line = p.stdout.readline().strip()
        if not line.startswith("LISTENING "):
            raise RuntimeError(f"proxy said {line!r}")
        self.proxy_port = int(line.split()[1])
        self.proxy = f"http://127.0.0.1:{self.proxy_port}"
        self.latency_ms = latency_ms
        # Kept across reconfigurations (a latency probe must not turn paging or timing off).
        self.base_config = dict(extra_config or {})
        self.configure({})
        self.warm_up()

    # -- control ----------------------------------------------------------
    def configure(self, extra: dict | None = None):
        # Benchmarks time ecsform, not the proxy: the contract check (which the test suite runs
        # on every request) is off here, so figures stay comparable across versions.
        cfg = {"latency_ms": self.latency_ms, "contract": False}
        cfg.update(self.base_config)
        cfg.update(extra or {})
        _http("POST", self.proxy + "/_proxy/config", cfg)

    def stats(self) -> dict:
        return _http("GET", self.proxy + "/_proxy/stats")

    def reset_stats(self):
        _http("POST", self.proxy + "/_proxy/reset-stats")

    def reset_moto(self):
        """Empty moto (through the proxy, so it also forgets remembered resources), then load
        every backend again straight at moto, uncounted: after a reset moto rebuilds a backend
        on its first call (IAM with the managed policies ~1.3 s, EC2 ~0.5 s), a cost real AWS
        does not have and that would otherwise land inside the measured run."""
        _http("POST", self.proxy + "/moto-api/reset")
        self.warm_backends()

    def warm_backends(self):
        def call(service, body, target=None):
            h = {"Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/"
                                  f"{service}/aws4_request, SignedHeaders=host, Signature=0",
                 "X-Amz-Date": "20260101T000000Z",
                 "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
            if target:
                h["X-Amz-Target"] = target
                h["Content-Type"] = "application/x-amz-json-1.1"
            req = urllib.request.Request(self.moto + "/", data=body.encode(), headers=h,
                                         method="POST")
            try:
                with urllib.request.urlopen(req, timeout=60) as r:
                    r.read()
            except urllib.error.HTTPError as e:
                e.read()
        for _ in range(2):
            call("ec2", "Action=DescribeVpcs&Version=2016-11-15")
        call("iam", "Action=ListRoles&Version=2010-05-08")
        call("ecs", "{}", "AmazonEC2ContainerServiceV20141113.ListClusters")
        call("servicediscovery", "{}", "Route53AutoNaming_v20170314.ListNamespaces")
        call("elasticloadbalancing", "Action=DescribeLoadBalancers&Version=2015-12-01")
        call("logs", "{}", "Logs_20140328.DescribeLogGroups")
        call("acm", "{}", "CertificateManager.ListCertificates")
        call("sts", "Action=GetCallerIdentity&Version=2011-06-15")

    def env(self, **extra) -> dict:
        e = dict(os.environ)
        for k in list(e):
            if k.startswith("AWS_"):
                del e[k]
        e.update(AWS_ENDPOINT_URL=self.proxy, AWS_ACCESS_KEY_ID="test",
                 AWS_SECRET_ACCESS_KEY="test", AWS_REGION="us-east-1",
                 AWS_DEFAULT_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true",
                 AWS_PAGER="", AWS_CONFIG_FILE="/dev/null",
                 AWS_SHARED_CREDENTIALS_FILE="/dev/null", NO_COLOR="1")
        e.pop("ECSFORM_LOCAL", None)
        e.update({k: str(v) for k, v in extra.items()})
        return e

    def warm_up(self):
        self.reset_moto()

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for p in self.procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
        self.procs = []


# -- running commands ---------------------------------------------------------

TIME_BIN = "/usr/bin/time"


def run_timed(cmd: list[str], env: dict | None = None, cwd: str | None = None,
              check: bool = True, input_text: str | None = None) -> dict:
    """Run under /usr/bin/time -v; return wall (monotonic, s), max RSS (KiB), rc, output."""
    tfile = os.path.join(RESULTS, ".time.txt")
    t0 = time.monotonic()
    p = subprocess.run([TIME_BIN, "-v", "-o", tfile, *cmd], env=env, cwd=cwd,
                       capture_output=True, text=True, input=input_text)
    wall = time.monotonic() - t0
    tv = open(tfile).read()
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", tv).group(1))
    user = float(re.search(r"User time \(seconds\): ([\d.]+)", tv).group(1))
    sys_ = float(re.search(r"System time \(seconds\): ([\d.]+)", tv).group(1))
    res = {"wall_s": wall, "max_rss_kib": rss, "user_s": user, "sys_s": sys_,
           "rc": p.returncode, "stdout": p.stdout, "stderr": p.stderr}
    if check and p.returncode not in (0, 2):
        raise RuntimeError(f"{cmd} failed rc={p.returncode}\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    return res


def median(xs):
    return statistics.median(xs) if xs else None


def machine() -> dict:
    model = ""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        m = re.search(r"Model name:\s*(.+)", out)
        model = m.group(1).strip() if m else ""
    except FileNotFoundError:
        pass
    mem = ""
    try:
        mem = open("/proc/meminfo").readline().split(":")[1].strip()
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu_model": model, "mem_total": mem,
            "kernel": platform.release(), "python": platform.python_version(),
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def write_results(name: str, data: dict):
    os.makedirs(RESULTS, exist_ok=True)
    data = dict(data, machine=machine())
    path = os.path.join(RESULTS, f"{name}.json")
    with open(path, "w") as f:
        json.dump(data, f, indent=2, sort_keys=True)
    print(f"\nresults: {os.path.relpath(path, ROOT)}")


def table(headers: list[str], rows: list[list]):
    cells = [[str(h) for h in headers]] + [[fmt(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for j, r in enumerate(cells):
        print("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))))
        if j == 0:
            print("  ".join("-" * w for w in widths))


def fmt(c):
    if isinstance(c, float):
        return f"{c:.3f}" if abs(c) < 10 else f"{c:.1f}"
    return str(c)


def load_proxy_module():
    """tools/faultproxy.py as a module (bucket table and request -> bucket mapping)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("faultproxy", PROXY)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


os.makedirs(RESULTS, exist_ok=True)
