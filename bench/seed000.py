#!/usr/bin/env python3
"""Benchmark 1: seed-000 -- `ecsform apply topology.example.yaml` versus the article's own AWS CLI
steps (bench/seed000/article_steps.sh), same moto, same fault proxy (20 ms per request).

Each round: reset moto, import the self-signed ACM certificate (untimed), run the article
script (timed); reset moto, run `ecsform apply` (timed). Order alternates between rounds.
Reports median wall time, requests, sequential round trips and resources created per side,
and the ratio article/ecsform.

    python3 bench/seed000.py [--runs 5] [--latency-ms 20]
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402

ARTICLE = os.path.join(b.BENCH, "seed000", "article_steps.sh")
TOPOLOGY = os.path.join(b.ROOT, "topology.example.yaml")


def make_cert(tmp: str) -> tuple[str, str]:
    key, crt = os.path.join(tmp, "key.pem"), os.path.join(tmp, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", crt, "-days", "30", "-subj", "/CN=shop.example.com"],
                   check=True, capture_output=True)
    return key, crt


def import_cert(stack: b.Stack, key: str, crt: str) -> str:
    env = stack.env()
    env["AWS_ENDPOINT_URL"] = stack.moto  # untimed and uncounted: straight to moto
    out = subprocess.run(["aws", "acm", "import-certificate", "--certificate", f"fileb://{crt}",
                          "--private-key", f"fileb://{key}", "--query", "CertificateArn",
                          "--output", "text"], env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def count_article_resources(by_action: dict) -> int:
    # every successful Create*/Register*/Authorize* call of the article makes one resource
    return sum(v for k, v in by_action.items()
               if re.match(r"[^:]+:(Create|Register|Authorize)", k))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--latency-ms", type=float, default=20)
    a = ap.parse_args()
    exe = b.ecsform_bin()
    stack = b.Stack(a.latency_ms)
    tmp = tempfile.mkdtemp(prefix="ecsform-bench-")
    key, crt = make_cert(tmp)
    runs = {"article": [], "ecsform": []}

    def article():
        stack.reset_moto()
        cert = import_cert(stack, key, crt)
        stack.reset_stats()
        r = b.run_timed(["bash", ARTICLE], env=stack.env(CERT_ARN=cert), check=False)
        st = stack.stats()
        if r["rc"] != 0:
            raise RuntimeError(f"article script failed:\n{r['stderr'][-3000:]}")
        cmds = sum(1 for _ in open(ARTICLE))  # informational only
        runs["article"].append({
            "wall_s": r["wall_s"], "requests": st["requests"],
            "sequential_round_trips": st["sequential_round_trips"],
            "max_in_flight": st["max_in_flight"], "by_action": st["by_action"],
            "resources": count_article_resources(st["by_action"]), "script_lines": cmds,
            "cpu_s": r["user_s"] + r["sys_s"]})

    def ecsform():
        stack.reset_moto()
        stack.reset_stats()
        r = b.run_timed([exe, "apply", "-f", TOPOLOGY, "--auto-approve"],
                        env=stack.env(), cwd=tmp)
        st = stack.stats()
        m = re.search(r"Done in [\d.]+s: (\d+) to add", r["stdout"] + r["stderr"])
        runs["ecsform"].append({
            "wall_s": r["wall_s"], "requests": st["requests"],
            "sequential_round_trips": st["sequential_round_trips"],
            "max_in_flight": st["max_in_flight"], "by_action": st["by_action"],
            "resources": int(m.group(1)) if m else None, "max_rss_kib": r["max_rss_kib"],
            "cpu_s": r["user_s"] + r["sys_s"]})

    for i in range(a.runs):
        order = (article, ecsform) if i % 2 == 0 else (ecsform, article)
        for f in order:
            f()
        print(f"round {i + 1}/{a.runs}: article {runs['article'][-1]['wall_s']:.2f}s, "
              f"ecsform {runs['ecsform'][-1]['wall_s']:.3f}s", flush=True)

    def med(side, key):
        return b.median([r[key] for r in runs[side]])

    summary = {side: {k: med(side, k) for k in
                      ("wall_s", "requests", "sequential_round_trips", "resources", "cpu_s")}
               for side in runs}
    ratio = summary["article"]["wall_s"] / summary["ecsform"]["wall_s"]
    print(f"\nseed-000, {a.latency_ms:g} ms per request, median of {a.runs} runs "
          f"(binary {exe})\n")
    b.table(["side", "wall s", "requests", "seq. round trips", "resources", "CPU s"],
            [[s, summary[s]["wall_s"], summary[s]["requests"],
              summary[s]["sequential_round_trips"], summary[s]["resources"], summary[s]["cpu_s"]]
             for s in ("article", "ecsform")])
    print(f"\nratio article / ecsform wall time: {ratio:.1f}x  (goal >= 20x: "
          f"{'met' if ratio >= 20 else 'NOT met'})")
    b.write_results("seed000", {
        "latency_ms": a.latency_ms, "runs": a.runs, "binary": exe, "summary": summary,
        "ratio": ratio, "goal_ratio": 20, "goal_met": ratio >= 20, "raw": runs})
    stack.stop()


if __name__ == "__main__":
    main()
