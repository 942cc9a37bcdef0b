#!/usr/bin/env python3
"""Benchmark 3: apply of N = 200 generated services under AWS's documented token buckets
(fault proxy `token_buckets` enabled, refill rates multiplied by --scale to keep it short),
with ecsform's own client-side pacing scaled by the same factor (ECSFORM_RATE_SCALE).

1. Reference run (buckets off, ECSFORM_RATE_SCALE=1000): counts the calls the apply needs, per
   bucket, using the proxy's own request -> bucket mapping (tools/faultproxy.py bucket_names).
2. Lower bound on wall time: for each bucket, max(0, calls - burst) / (refill * scale); the max
   over buckets (a bucket starts full, so its burst is free; the rest arrives at the refill rate).
3. --runs measured runs with buckets on: wall time, ratio to the bound (goal <= 1.2),
   throttling errors the proxy injected (`injected.throttle`, i.e. requests AWS would have
   refused) and whether ecsform reported any (exit code, throttling words in its output), then
   a no-op plan to check the apply really converged.

    python3 bench/throttle.py [--n 200] [--scale 10] [--runs 5] [--latency-ms 20]
"""

import argparse
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402
from gen_topology import generate  # noqa: E402

THROTTLE_WORDS = re.compile(r"throttl|RequestLimitExceeded|Rate exceeded|TooManyRequests|"
                            r"SlowDown", re.I)


def bucket_calls(fp, by_action: dict) -> dict:
    calls = {}
    for key, count in by_action.items():
        service, action = key.split(":", 1)
        for name in fp.bucket_names(service, action):
            calls[name] = calls.get(name, 0) + count
    return calls


def bound(fp, calls: dict, scale: float) -> tuple[float, dict]:
    per = {}
    for name, c in calls.items():
        burst, refill = fp.BUCKETS[name]
        per[name] = {"calls": c, "burst": burst, "refill_per_s": refill * scale,
                     "seconds": max(0.0, c - burst) / (refill * scale)}
    return max((v["seconds"] for v in per.values()), default=0.0), per


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--scale", type=float, default=10)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--latency-ms", type=float, default=20)
    a = ap.parse_args()
    exe = b.ecsform_bin()
    fp = b.load_proxy_module()
    stack = b.Stack(a.latency_ms)
    tmp = tempfile.mkdtemp(prefix="ecsform-bench-")
    path = os.path.join(tmp, f"topology-{a.n}.yaml")
    with open(path, "w") as f:
        f.write(generate(a.n))
    cmd = [exe, "apply", "-f", path, "--auto-approve"]

    # 1. reference: what the apply needs
    stack.configure({"token_buckets": {"enabled": False}})
    stack.reset_moto()
    stack.reset_stats()
    r = b.run_timed(cmd, env=stack.env(ECSFORM_RATE_SCALE=1000), cwd=tmp)
    ref = stack.stats()
    calls = bucket_calls(fp, ref["by_action"])
    lower, per_bucket = bound(fp, calls, a.scale)
    binding = max(per_bucket, key=lambda k: per_bucket[k]["seconds"])
    print(f"reference apply (no buckets): {ref['requests']} requests, {r['wall_s']:.2f}s; "
          f"lower bound at scale {a.scale:g}: {lower:.2f}s (bucket {binding})", flush=True)

    # 2. measured runs under the buckets
    runs = []
    env = stack.env(ECSFORM_RATE_SCALE=a.scale)
    for i in range(a.runs):
        stack.configure({"token_buckets": {"enabled": False}})
        stack.reset_moto()
        stack.configure({"token_buckets": {"enabled": True, "scale": a.scale}})  # full buckets
        stack.reset_stats()
        r = b.run_timed(cmd, env=env, cwd=tmp, check=False)
        st = stack.stats()
        out = r["stdout"] + r["stderr"]
        reported = sorted(set(m.group(0) for m in THROTTLE_WORDS.finditer(out)))
        stack.configure({"token_buckets": {"enabled": False}})
        stack.reset_stats()
        p = b.run_timed([exe, "plan", "-f", path, "--detailed-exitcode"],
                        env=stack.env(ECSFORM_RATE_SCALE=1000), cwd=tmp, check=False)
        runs.append({
            "wall_s": r["wall_s"], "rc": r["rc"], "requests": st["requests"],
            "sequential_round_trips": st["sequential_round_trips"],
            "max_in_flight": st["max_in_flight"], "injected": st["injected"],
            "throttled": st["injected"].get("throttle", 0), "by_action": st["by_action"],
            "bucket_calls": bucket_calls(fp, st["by_action"]),
            "ecsform_reported_throttling": reported,
            "ecsform_throttle_lines": [ln for ln in out.splitlines()
                                       if THROTTLE_WORDS.search(ln)][:20],
            "max_rss_kib": r["max_rss_kib"], "converged": p["rc"] == 0,
            "tail": out[-1500:] if r["rc"] else ""})
        print(f"run {i + 1}/{a.runs}: {r['wall_s']:.2f}s rc={r['rc']} "
              f"throttled={runs[-1]['throttled']} reported={reported or 'none'} "
              f"converged={p['rc'] == 0}", flush=True)

    wall = b.median([x["wall_s"] for x in runs])
    ratio = wall / lower if lower else None
    print(f"\nN={a.n}, token buckets x{a.scale:g} (proxy) and ECSFORM_RATE_SCALE={a.scale:g}, "
          f"{a.latency_ms:g} ms per request, median of {a.runs} runs (binary {exe})\n")
    b.table(["bucket", "calls", "burst", "refill/s (scaled)", "bound s"],
            [[k, v["calls"], v["burst"], v["refill_per_s"], v["seconds"]]
             for k, v in sorted(per_bucket.items(), key=lambda kv: -kv[1]["seconds"])])
    print()
    b.table(["wall s (median)", "min", "max", "lower bound s", "ratio", "goal <= 1.2",
             "throttled (median)", "ecsform reported", "exit codes", "converged"],
            [[wall, min(x["wall_s"] for x in runs), max(x["wall_s"] for x in runs), lower,
              f"{ratio:.2f}", "met" if ratio and ratio <= 1.2 else "NOT met",
              b.median([x["throttled"] for x in runs]),
              sum(1 for x in runs if x["ecsform_reported_throttling"]),
              ",".join(str(x["rc"]) for x in runs),
              f"{sum(x['converged'] for x in runs)}/{len(runs)}"]])
    b.write_results("throttle", {
        "n": a.n, "scale": a.scale, "latency_ms": a.latency_ms, "runs": a.runs, "binary": exe,
        "reference": {"requests": ref["requests"], "by_action": ref["by_action"],
                      "bucket_calls": calls},
        "lower_bound_s": lower, "binding_bucket": binding, "per_bucket": per_bucket,
        "median_wall_s": wall, "ratio": ratio, "goal_ratio": 1.2,
        "goal_met": bool(ratio and ratio <= 1.2), "raw": runs})
    stack.stop()


if __name__ == "__main__":
    main()
