#!/usr/bin/env python3
"""Benchmark 0: the example (topology.example.yaml, the seed-000 system, 51 resources) end to
end: `apply` on an empty account, a no-op `plan`, `destroy` — wall time and AWS requests of
each, median of --runs, against moto through the proxy (default latency 0 ms, i.e. moto's own
answer time; --latency-ms 20 for the same setting as the other benchmarks).

    python3 bench/example.py [--runs 5] [--latency-ms 0]
"""

import argparse
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--latency-ms", type=float, default=0)
    a = ap.parse_args()
    exe = b.ecsform_bin()
    stack = b.Stack(a.latency_ms)
    tmp = tempfile.mkdtemp(prefix="ecsform-bench-")
    path = os.path.join(tmp, "topology.yaml")
    shutil.copy(os.path.join(b.ROOT, "topology.example.yaml"), path)
    commands = {
        "apply": [exe, "apply", "-f", path, "--auto-approve"],
        "no-op plan": [exe, "plan", "-f", path, "--detailed-exitcode"],
        "destroy": [exe, "destroy", "-f", path, "--auto-approve"],
    }
    raw = {k: [] for k in commands}
    for i in range(a.runs):
        stack.reset_moto()
        for name, cmd in commands.items():
            stack.reset_stats()
            r = b.run_timed(cmd, env=stack.env(), cwd=tmp)
            st = stack.stats()
            raw[name].append({"wall_s": r["wall_s"], "requests": st["requests"],
                              "max_rss_kib": r["max_rss_kib"], "by_action": st["by_action"]})
        print(f"run {i + 1}/{a.runs}: " + ", ".join(
            f"{k} {v[-1]['wall_s']:.2f}s/{v[-1]['requests']} req" for k, v in raw.items()),
            flush=True)
    summary = {k: {"wall_s": b.median([x["wall_s"] for x in v]),
                   "requests": b.median([x["requests"] for x in v]),
                   "max_rss_kib": b.median([x["max_rss_kib"] for x in v])}
               for k, v in raw.items()}
    print(f"\ntopology.example.yaml, median of {a.runs} runs, {a.latency_ms:g} ms per request "
          f"(binary {exe})\n")
    b.table(["command", "wall s", "requests", "peak RSS MiB"],
            [[k, s["wall_s"], s["requests"], f"{s['max_rss_kib'] / 1024:.1f}"]
             for k, s in summary.items()])
    b.write_results("example", {"runs": a.runs, "latency_ms": a.latency_ms, "binary": exe,
                                "summary": summary, "raw": raw})
    stack.stop()


if __name__ == "__main__":
    main()
