#!/usr/bin/env python3
"""Benchmark 4: apply of a REST API with R routes (default 50) under AWS's documented token
buckets, API Gateway's included (account 10 rps burst 40, CreateResource 5/s, CreateDeployment
1 per 5 s, CreateRestApi 1 per 3 s; fault proxy `token_buckets`, refills multiplied by --scale),
with ecsform's own pacing scaled the same (ECSFORM_RATE_SCALE).

Same method as bench/throttle.py: a reference run without buckets counts the calls per bucket;
the lower bound is max over buckets of max(0, calls - burst) / (refill * scale); measured runs
report wall time, the ratio to the bound, throttles the proxy injected (requests AWS would have
refused) and whether ecsform surfaced any, and a no-op plan afterwards.

    python3 bench/api.py [--routes 50] [--scale 10] [--runs 3] [--latency-ms 20]
"""

import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402
from throttle import THROTTLE_WORDS, bound, bucket_calls  # noqa: E402

SERVICES = 5


def topology(routes: int) -> str:
    lines = ["name: bench-api", "region: us-east-1", "network: {cidr: 10.0.0.0/16}",
             "api_gateway:", "  name: bench-api", "  stage: prod", "  routes:"]
    for i in range(routes):
        lines.append(f"    - {{path: /r{i:03d}, methods: [GET], service: svc-{i % SERVICES}}}")
    lines.append("services:")
    for s in range(SERVICES):
        lines.append(f"  svc-{s}: {{image: x, port: {3000 + s}, health_check: /health, "
                     f"allowed_callers: [api_gateway]}}")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--routes", type=int, default=50)
    ap.add_argument("--scale", type=float, default=10)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--latency-ms", type=float, default=20)
    a = ap.parse_args()
    exe = b.ecsform_bin()
    fp = b.load_proxy_module()
    stack = b.Stack(a.latency_ms)
    tmp = tempfile.mkdtemp(prefix="ecsform-bench-")
    path = os.path.join(tmp, f"api-{a.routes}.yaml")
    with open(path, "w") as f:
        f.write(topology(a.routes))
    cmd = [exe, "apply", "-f", path, "--auto-approve"]

    stack.configure({"token_buckets": {"enabled": False}})
    stack.reset_moto()
    stack.reset_stats()
    r = b.run_timed(cmd, env=stack.env(ECSFORM_RATE_SCALE=1000), cwd=tmp)
    ref = stack.stats()
    calls = bucket_calls(fp, ref["by_action"])
    lower, per_bucket = bound(fp, calls, a.scale)
    binding = max(per_bucket, key=lambda k: per_bucket[k]["seconds"])
    api_calls = sum(v for k, v in ref["by_action"].items() if k.startswith("apigateway:"))
    print(f"reference apply (no buckets): {ref['requests']} requests ({api_calls} API Gateway), "
          f"{r['wall_s']:.2f}s; lower bound at scale {a.scale:g}: {lower:.2f}s (bucket {binding})",
          flush=True)

    runs = []
    env = stack.env(ECSFORM_RATE_SCALE=a.scale)
    for i in range(a.runs):
        stack.configure({"token_buckets": {"enabled": False}})
        stack.reset_moto()
        stack.configure({"token_buckets": {"enabled": True, "scale": a.scale}})
        stack.reset_stats()
        r = b.run_timed(cmd, env=env, cwd=tmp, check=False)
        st = stack.stats()
        out = r["stdout"] + r["stderr"]
        reported = sorted(set(m.group(0) for m in THROTTLE_WORDS.finditer(out)))
        stack.configure({"token_buckets": {"enabled": False}})
        p = b.run_timed([exe, "plan", "-f", path, "--detailed-exitcode"],
                        env=stack.env(ECSFORM_RATE_SCALE=1000), cwd=tmp, check=False)
        runs.append({"wall_s": r["wall_s"], "rc": r["rc"], "requests": st["requests"],
                     "throttled": st["injected"].get("throttle", 0),
                     "ecsform_reported_throttling": reported, "converged": p["rc"] == 0,
                     "tail": out[-1500:] if r["rc"] else ""})
        print(f"run {i + 1}/{a.runs}: {r['wall_s']:.2f}s rc={r['rc']} "
              f"throttled={runs[-1]['throttled']} reported={reported or 'none'} "
              f"converged={p['rc'] == 0}", flush=True)

    wall = b.median([x["wall_s"] for x in runs])
    ratio = wall / lower if lower else None
    print(f"\n{a.routes} routes, token buckets x{a.scale:g}, {a.latency_ms:g} ms per request, "
          f"median of {a.runs} runs (binary {exe})\n")
    b.table(["bucket", "calls", "burst", "refill/s (scaled)", "bound s"],
            [[k, v["calls"], v["burst"], v["refill_per_s"], v["seconds"]]
             for k, v in sorted(per_bucket.items(), key=lambda kv: -kv[1]["seconds"])[:8]])
    print()
    b.table(["wall s (median)", "lower bound s", "ratio", "throttled (median)",
             "ecsform reported", "exit codes", "converged"],
            [[wall, lower, f"{ratio:.2f}" if ratio else "-",
              b.median([x["throttled"] for x in runs]),
              sum(1 for x in runs if x["ecsform_reported_throttling"]),
              ",".join(str(x["rc"]) for x in runs),
              f"{sum(x['converged'] for x in runs)}/{len(runs)}"]])
    b.write_results("api", {
        "routes": a.routes, "scale": a.scale, "latency_ms": a.latency_ms, "runs": a.runs,
        "binary": exe, "reference": {"requests": ref["requests"], "by_action": ref["by_action"],
                                     "bucket_calls": calls},
        "lower_bound_s": lower, "binding_bucket": binding, "per_bucket": per_bucket,
        "median_wall_s": wall, "ratio": ratio, "raw": runs})
    stack.stop()


if __name__ == "__main__":
    main()
