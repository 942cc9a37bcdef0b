#!/usr/bin/env python3
"""Benchmark 2: full apply and no-op plan at N = 10, 50, 200 generated services
(bench/gen_topology.py), against moto through the fault proxy (20 ms per request).

For each N and each run: reset moto, `ecsform apply` (timed), then `ecsform plan
--detailed-exitcode` (timed; must exit 0 = no changes). Per command: requests (proxy stats),
wall time, peak RSS (/usr/bin/time -v). Then per N the sequential round trips of the no-op plan
by latency differential (see below). Targets for the no-op plan: requests <= 1.2*N + 40 and
sequential round trips <= 6.

Client-side pacing: ecsform paces its mutations at AWS's documented rates (ECSFORM_RATE_SCALE,
default 1). This benchmark measures the engine, not AWS's rate limits (that is
bench/throttle.py), so it runs with ECSFORM_RATE_SCALE=1000 unless --rate-scale says otherwise.

    python3 bench/scale.py [--ns 10,50,200] [--runs 5] [--latency-ms 20] [--rate-scale 1000]
                           [--probe-extra-ms 1000] [--probe-runs 3]
                           [--names numbered|realistic]
"""

import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402
from gen_topology import generate  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ns", default="10,50,200")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--latency-ms", type=float, default=20)
    ap.add_argument("--rate-scale", default="1000")
    ap.add_argument("--names", choices=["numbered", "realistic"], default="numbered",
                    help="service names of the generated file (see gen_topology.py)")
    ap.add_argument("--probe-extra-ms", type=float, default=1000,
                    help="round trips by latency differential: no-op plans at the base latency "
                         "and at base + this (0: skip)")
    ap.add_argument("--probe-runs", type=int, default=3)
    ap.add_argument("--paging", action="store_true",
                    help="lists paged as AWS pages them (the proxy's `paging`; issue #14)")
    a = ap.parse_args()
    exe = b.ecsform_bin()
    ns = [int(x) for x in a.ns.split(",")]
    stack = b.Stack(a.latency_ms, {"paging": True} if a.paging else None)
    tmp = tempfile.mkdtemp(prefix="ecsform-bench-")
    env = stack.env(ECSFORM_RATE_SCALE=a.rate_scale)
    raw = {}
    for n in ns:
        path = os.path.join(tmp, f"topology-{n}.yaml")
        with open(path, "w") as f:
            f.write(generate(n, names=a.names))
        raw[n] = {"apply": [], "plan": []}
        for i in range(a.runs):
            stack.reset_moto()
            stack.reset_stats()
            r = b.run_timed([exe, "apply", "-f", path, "--auto-approve"], env=env, cwd=tmp)
            st = stack.stats()
            raw[n]["apply"].append(dict(
                wall_s=r["wall_s"], max_rss_kib=r["max_rss_kib"], cpu_s=r["user_s"] + r["sys_s"],
                requests=st["requests"], sequential_round_trips=st["sequential_round_trips"],
                max_in_flight=st["max_in_flight"], by_action=st["by_action"],
                injected=st["injected"], rc=r["rc"]))
            stack.reset_stats()
            r = b.run_timed([exe, "plan", "-f", path, "--detailed-exitcode"], env=env, cwd=tmp)
            st = stack.stats()
            raw[n]["plan"].append(dict(
                wall_s=r["wall_s"], max_rss_kib=r["max_rss_kib"], cpu_s=r["user_s"] + r["sys_s"],
                requests=st["requests"], sequential_round_trips=st["sequential_round_trips"],
                max_in_flight=st["max_in_flight"], by_action=st["by_action"], rc=r["rc"],
                no_changes=r["rc"] == 0))
            if r["rc"] != 0:
                print(f"WARNING: N={n} run {i + 1}: plan after apply is not empty "
                      f"(rc {r['rc']}):\n{r['stdout'][-2000:]}", flush=True)
            print(f"N={n} run {i + 1}/{a.runs}: apply {raw[n]['apply'][-1]['wall_s']:.2f}s "
                  f"{raw[n]['apply'][-1]['requests']} req; plan {raw[n]['plan'][-1]['wall_s']:.3f}s "
                  f"{raw[n]['plan'][-1]['requests']} req", flush=True)

    # Round trips the client cannot overlap, by latency differential: every sequential round
    # costs the added latency once, however many requests run in parallel within it, so
    # (wall at base + D) - (wall at base) = rounds x D. moto answers one request at a time, which
    # spreads a round's parallel requests over time; the proxy's chain count then also counts
    # requests that were *issued* together as if they were sequential. The differential does
    # not: moto's queueing costs the same at both latencies and cancels out.
    probe = {}
    if a.probe_extra_ms:
        extra_s = a.probe_extra_ms / 1000
        for n in ns:
            path = os.path.join(tmp, f"topology-{n}.yaml")
            stack.reset_moto()
            b.run_timed([exe, "apply", "-f", path, "--auto-approve"], env=env, cwd=tmp)
            walls = {"base": [], "slow": []}
            chains = {"base": [], "slow": []}
            for _ in range(a.probe_runs):
                for which, lat in (("base", a.latency_ms), ("slow", a.latency_ms + a.probe_extra_ms)):
                    stack.configure({"latency_ms": lat})
                    stack.reset_stats()
                    r = b.run_timed([exe, "plan", "-f", path, "--detailed-exitcode"], env=env,
                                    cwd=tmp)
                    walls[which].append(r["wall_s"])
                    chains[which].append(stack.stats()["sequential_round_trips"])
            stack.configure({})
            diff = b.median(walls["slow"]) - b.median(walls["base"])
            probe[n] = {"extra_latency_ms": a.probe_extra_ms, "runs": a.probe_runs,
                        "wall_base_s": b.median(walls["base"]),
                        "wall_slow_s": b.median(walls["slow"]),
                        "round_trips": round(diff / extra_s, 2),
                        "proxy_chain_base": b.median(chains["base"]),
                        "proxy_chain_slow": b.median(chains["slow"])}
            summary_rt = probe[n]["round_trips"]
            print(f"N={n}: no-op plan {probe[n]['wall_base_s']:.2f}s at {a.latency_ms:g} ms, "
                  f"{probe[n]['wall_slow_s']:.2f}s at +{a.probe_extra_ms:g} ms: "
                  f"{summary_rt:.2f} sequential round trips", flush=True)

    keys = ("requests", "sequential_round_trips", "max_in_flight", "wall_s", "max_rss_kib", "cpu_s")
    summary = {}
    rows = []
    for n in ns:
        summary[n] = {}
        for cmd in ("plan", "apply"):
            s = {k: b.median([r[k] for r in raw[n][cmd]]) for k in keys}
            # per-action medians
            actions = sorted({k for r in raw[n][cmd] for k in r["by_action"]})
            s["by_action"] = {k: b.median([r["by_action"].get(k, 0) for r in raw[n][cmd]])
                              for k in actions}
            if cmd == "plan":
                s["request_budget"] = 1.2 * n + 40
                s["requests_ok"] = s["requests"] <= s["request_budget"]
                if n in probe:
                    s["round_trips_differential"] = probe[n]["round_trips"]
                    s["round_trips_ok"] = probe[n]["round_trips"] <= 6.5
                else:
                    s["round_trips_ok"] = None
                s["all_no_changes"] = all(r["no_changes"] for r in raw[n]["plan"])
            summary[n][cmd] = s
            rows.append([n, cmd if cmd == "apply" else "no-op plan", s["requests"],
                         (f"{s['request_budget']:.0f}" + (" ok" if s["requests_ok"] else " OVER"))
                         if cmd == "plan" else "",
                         s["sequential_round_trips"],
                         s.get("round_trips_differential", ""),
                         {True: "ok", False: "OVER", None: "?"}[s["round_trips_ok"]]
                         if cmd == "plan" else "",
                         s["max_in_flight"], s["wall_s"], s["cpu_s"],
                         f"{s['max_rss_kib'] / 1024:.1f}"])
    print(f"\nmedian of {a.runs} runs, {a.latency_ms:g} ms per request, "
          f"ECSFORM_RATE_SCALE={a.rate_scale}, {a.names} service names (binary {exe})\n")
    b.table(["N", "command", "requests", "budget 1.2N+40", "proxy chain",
             "round trips", "RT<=6", "max in flight",
             "wall s", "CPU s", "peak RSS MiB"], rows)

    if probe:
        print(f"\nno-op plan, sequential round trips by latency differential (+{a.probe_extra_ms:g}"
              f" ms, median of {a.probe_runs}); the proxy's chain count at both latencies for "
              "comparison (inflated by moto answering one request at a time)")
        b.table(["N", "wall s base", "wall s slow", "round trips", "proxy chain base",
                 "proxy chain slow"],
                [[n, p["wall_base_s"], p["wall_slow_s"], p["round_trips"], p["proxy_chain_base"],
                  p["proxy_chain_slow"]] for n, p in probe.items()])

    # growth of each action's count with N (per-service slope between the two largest N)
    growth = {}
    if len(ns) >= 2:
        lo, hi = ns[-2], ns[-1]
        for cmd in ("plan", "apply"):
            g = {}
            for k in sorted(set(summary[lo][cmd]["by_action"]) | set(summary[hi][cmd]["by_action"])):
                c = [summary[n][cmd]["by_action"].get(k, 0) for n in ns]
                g[k] = {"counts": dict(zip(ns, c)), "per_service": (c[-1] - c[-2]) / (hi - lo)}
            growth[cmd] = g
        for cmd in ("plan", "apply"):
            print(f"\n{cmd}: requests per AWS action (median) at N = {', '.join(map(str, ns))}"
                  f"; slope = extra calls per extra service between N={lo} and N={hi}")
            b.table(["action"] + [f"N={n}" for n in ns] + ["slope"],
                    [[k] + [v["counts"][n] for n in ns] + [round(v["per_service"], 2)]
                     for k, v in sorted(growth[cmd].items(),
                                        key=lambda kv: -kv[1]["counts"][ns[-1]])])
    name = "scale" if a.names == "numbered" else f"scale_{a.names}"
    b.write_results(f"{name}_paged" if a.paging else name, {
        "names": a.names, "paging": a.paging,
        "latency_ms": a.latency_ms, "runs": a.runs, "binary": exe,
        "ecsform_rate_scale": a.rate_scale, "summary": summary, "growth": growth,
        "probe_noop_plan": probe,
        "raw": raw})
    stack.stop()


if __name__ == "__main__":
    main()
