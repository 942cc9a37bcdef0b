#!/usr/bin/env python3
"""Benchmark 4: CPU and memory of ecsform itself.

* `ecsform validate` of a generated 200-service file: hyperfine (>= 10 runs, 3 warm-ups),
  else a timed loop; median wall time. Also peak RSS (median of --runs).
* Peak RSS (/usr/bin/time -v) of a 200-service `plan`, median of --runs, both against an empty
  account (everything to create: the largest plan) and against the applied stack (no-op plan),
  through the fault proxy at 20 ms per request.
* Release binary size (bytes, and stripped size if `strip` exists).

    python3 bench/cpu.py [--n 200] [--runs 5] [--validate-runs 20]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402
from gen_topology import generate  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--validate-runs", type=int, default=20)
    ap.add_argument("--latency-ms", type=float, default=20)
    a = ap.parse_args()
    exe = b.ecsform_bin()
    tmp = tempfile.mkdtemp(prefix="ecsform-bench-")
    path = os.path.join(tmp, f"topology-{a.n}.yaml")
    with open(path, "w") as f:
        f.write(generate(a.n))
    res = {"n": a.n, "binary": exe, "runs": a.runs}

    # validate: wall time
    vcmd = [exe, "validate", "-f", path]
    if shutil.which("hyperfine"):
        hj = os.path.join(tmp, "hf.json")
        subprocess.run(["hyperfine", "-N", "--warmup", "3", "--runs", str(a.validate_runs),
                        "--export-json", hj, " ".join(vcmd)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        h = json.load(open(hj))["results"][0]
        res["validate"] = {"tool": "hyperfine", "runs": len(h["times"]), "median_s": h["median"],
                           "mean_s": h["mean"], "stddev_s": h["stddev"], "min_s": h["min"],
                           "max_s": h["max"], "user_s": h["user"], "system_s": h["system"]}
    else:
        ts = []
        for _ in range(a.validate_runs):
            t = time.monotonic()
            subprocess.run(vcmd, check=True, capture_output=True)
            ts.append(time.monotonic() - t)
        res["validate"] = {"tool": "loop", "runs": len(ts), "median_s": b.median(ts),
                           "min_s": min(ts), "max_s": max(ts)}
    res["validate"]["max_rss_kib"] = b.median(
        [b.run_timed(vcmd)["max_rss_kib"] for _ in range(a.runs)])

    # plan: peak RSS
    stack = b.Stack(a.latency_ms)
    env = stack.env(ECSFORM_RATE_SCALE=1000)
    pcmd = [exe, "plan", "-f", path, "--detailed-exitcode"]
    stack.reset_moto()
    full = [b.run_timed(pcmd, env=env, cwd=tmp) for _ in range(a.runs)]
    b.run_timed([exe, "apply", "-f", path, "--auto-approve"], env=env, cwd=tmp)
    noop = [b.run_timed(pcmd, env=env, cwd=tmp) for _ in range(a.runs)]
    stack.stop()
    for key, rs in (("plan_empty_account", full), ("plan_noop", noop)):
        res[key] = {"max_rss_kib": b.median([r["max_rss_kib"] for r in rs]),
                    "wall_s": b.median([r["wall_s"] for r in rs]),
                    "cpu_s": b.median([r["user_s"] + r["sys_s"] for r in rs]),
                    "exit_codes": [r["rc"] for r in rs]}

    # binary size
    size = os.path.getsize(exe)
    res["binary_bytes"] = size
    if shutil.which("strip"):
        s = os.path.join(tmp, "ecsform.stripped")
        shutil.copy(exe, s)
        subprocess.run(["strip", s], check=True)
        res["binary_stripped_bytes"] = os.path.getsize(s)

    print(f"\nN={a.n} (binary {exe})\n")
    v = res["validate"]
    b.table(["measure", "value"], [
        [f"validate wall, median of {v['runs']} ({v['tool']})", f"{v['median_s'] * 1000:.1f} ms"],
        ["validate peak RSS", f"{v['max_rss_kib'] / 1024:.1f} MiB"],
        [f"plan (empty account, {a.n} creates) peak RSS",
         f"{res['plan_empty_account']['max_rss_kib'] / 1024:.1f} MiB"],
        ["plan (empty account) wall / CPU",
         f"{res['plan_empty_account']['wall_s']:.2f} s / {res['plan_empty_account']['cpu_s']:.2f} s"],
        ["no-op plan peak RSS", f"{res['plan_noop']['max_rss_kib'] / 1024:.1f} MiB"],
        ["no-op plan wall / CPU",
         f"{res['plan_noop']['wall_s']:.2f} s / {res['plan_noop']['cpu_s']:.2f} s"],
        ["release binary size", f"{size / 1048576:.1f} MiB ({size} B)"],
        ["stripped", f"{res.get('binary_stripped_bytes', 0) / 1048576:.1f} MiB"],
    ])
    b.write_results("cpu", res)


if __name__ == "__main__":
    main()
