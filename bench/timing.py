#!/usr/bin/env python3
"""Benchmark 5 (issue #14): apply and destroy against AWS's timings, compared with the lower
bound AWS imposes and with the "wait for every resource to be ready before its dependents"
strategy (how Terraform and CloudFormation proceed).

moto runs behind the fault proxy with ``timing_profile`` (AWS's durations of the slow kinds
divided by ``--scale``, and ecsform's pacing of AWS's rate limits sped up as much: NAT gateway 90 s, load balancer 150 s, namespace 60 s, RDS 300 s, REST
VPC link 600 s pending / 120 s deleting, interfaces lingering 120 s after their tasks or load
balancer) and ``paging`` (lists paged as AWS pages them).

The bounds come from the resource DAG (`ecsform graph --resources --format dot`) and the tables
below: the longest chain of waits, where an edge carries the dependency's pending time only if
AWS refuses the dependent while the dependency is pending (APPLY_REFUSES), and on destroy only
where AWS refuses to delete the dependency while the dependent is still going (DESTROY_HOLDS).
"Wait for everything" puts every slow kind's time on every edge out of it, on both ways.

    python3 bench/timing.py [--runs 5] [--scale 30] [--topology FILE ...]
"""

import argparse
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402

fp = b.load_proxy_module()
AWS = fp.AWS_SECONDS

# How long each slow kind stays pending after its create (seconds on AWS).
CREATE_PENDING = {
    "nat_gateway": AWS["nat_gateway"],
    "load_balancer": AWS["load_balancer"],
    "dns_namespace": AWS["namespace_operation"],
    "db_instance": AWS["db_instance"],
    "vpc_link": AWS["vpc_link_pending_s"],
}

# (dependency kind, dependent kind): AWS refuses the dependent while the dependency is pending,
# so the dependent waits for it. Every other edge may proceed at once.
# - a Cloud Map service needs its namespace's id, known once the namespace's operation succeeds
#   (https://docs.aws.amazon.com/cloud-map/latest/api/API_CreatePrivateDnsNamespace.html);
# - CreateVpcLink refuses an NLB that is not active
#   (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-private-integration.html);
# - a deployment over a VPC link needs it AVAILABLE (same page); ecsform waits for it before
#   the integrations, which take well under a second, so the edge is drawn to them;
# - a task definition takes the database's endpoint, which RDS gives once it is available
#   (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_CreateDBInstance.html).
# Not here, because AWS accepts them on a pending resource: listeners and rules on a
# provisioning load balancer, target groups, ECS services behind it; a route to a pending NAT
# gateway (https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-working-with.html).
APPLY_REFUSES = {
    ("dns_namespace", "discovery_service"),
    ("load_balancer", "vpc_link"),
    ("vpc_link", "api_method"),
    ("db_instance", "task_definition"),
}

# On destroy, (dependent kind deleted first, dependency kind): AWS refuses to delete the
# dependency for this long after the dependent's delete (seconds on AWS).
# - a REST VPC link is DELETING for minutes, and its NLB cannot go meanwhile;
# - task and load balancer interfaces linger after the service or load balancer, holding the
#   security groups and subnets they are in
#   (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-task-networking.html);
# - a Cloud Map service keeps its instances until the tasks stop;
# - a NAT gateway is `deleting` for a while; its address and subnet are held until `deleted`
#   (https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-working-with.html).
DESTROY_HOLDS = {
    ("vpc_link", "load_balancer"): AWS["vpc_link_delete_s"],
    ("ecs_service", "security_group"): AWS["linger_seconds"],
    ("ecs_service", "subnet"): AWS["linger_seconds"],
    ("ecs_service", "discovery_service"): AWS["linger_seconds"],
    ("load_balancer", "security_group"): AWS["linger_seconds"],
    ("load_balancer", "subnet"): AWS["linger_seconds"],
    ("nat_gateway", "elastic_ip"): AWS["nat_gateway"],
    ("nat_gateway", "subnet"): AWS["nat_gateway"],
    # A namespace's delete is an operation that runs on (its private hosted zone stays
    # associated with the VPC meanwhile); ecsform deletes the VPC once it succeeded
    # (https://docs.aws.amazon.com/cloud-map/latest/api/API_DeleteNamespace.html).
    ("dns_namespace", "vpc"): AWS["namespace_operation"],
}
# The kinds whose own delete takes long ("wait for everything" waits them out on every edge).
DELETE_PENDING = {
    "vpc_link": AWS["vpc_link_delete_s"],
    "ecs_service": AWS["linger_seconds"],
    "load_balancer": AWS["linger_seconds"],
    "nat_gateway": AWS["nat_gateway"],
    "dns_namespace": AWS["namespace_operation"],
}


def resource_graph(exe: str, path: str) -> tuple[dict, list]:
    """{id: kind}, [(dependency, dependent)] from the dot rendering of the resource DAG."""
    out = b.run_timed([exe, "graph", "--resources", "--format", "dot", "-f", path],
                      env=dict(os.environ, NO_COLOR="1"))["stdout"]
    kinds = {m.group(1): m.group(2)
             for m in re.finditer(r'^\s*"([^"]+)" \[label="[^"\\]*\\n([a-z_0-9]+)"\];', out, re.M)}
    edges = re.findall(r'^\s*"([^"]+)" -> "([^"]+)";', out, re.M)
    return kinds, edges


def longest_chain(kinds: dict, edges: list, weight) -> float:
    """The longest path where edge (u, v) costs weight(u, v) (a DAG: topological order)."""
    preds: dict[str, list[str]] = {k: [] for k in kinds}
    succs: dict[str, list[str]] = {k: [] for k in kinds}
    for u, v in edges:
        preds.setdefault(v, []).append(u)
        succs.setdefault(u, []).append(v)
        preds.setdefault(u, [])
    order, indegree = [], {k: len(p) for k, p in preds.items()}
    ready = [k for k, n in indegree.items() if n == 0]
    while ready:
        k = ready.pop()
        order.append(k)
        for v in succs.get(k, []):
            indegree[v] -= 1
            if indegree[v] == 0:
                ready.append(v)
    finish: dict[str, float] = {}
    for k in order:
        finish[k] = max((finish[u] + weight(u, k) for u in preds[k]), default=0.0)
    return max(finish.values(), default=0.0)


def bounds(kinds: dict, edges: list, scale: float) -> dict:
    kind = kinds.get
    apply_needed = longest_chain(kinds, edges, lambda u, v: CREATE_PENDING.get(kind(u), 0)
                                 if (kind(u), kind(v)) in APPLY_REFUSES else 0)
    apply_everything = longest_chain(kinds, edges, lambda u, v: CREATE_PENDING.get(kind(u), 0))
    # Destroy runs the DAG backwards: the dependent goes first.
    backwards = [(v, u) for u, v in edges]
    destroy_needed = longest_chain(kinds, backwards,
                                   lambda v, u: DESTROY_HOLDS.get((kind(v), kind(u)), 0))
    destroy_everything = longest_chain(kinds, backwards,
                                       lambda v, u: DELETE_PENDING.get(kind(v), 0))
    # Each slow resource's own readiness also bounds "apply until everything is ready".
    return {name: seconds / scale for name, seconds in {
        "apply": apply_needed, "apply_wait_for_everything": apply_everything,
        "destroy": destroy_needed, "destroy_wait_for_everything": destroy_everything}.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--scale", type=float, default=30)
    ap.add_argument("--latency-ms", type=float, default=20)
    ap.add_argument("--topology", action="append",
                    help="topology files (default: topology.example.yaml)")
    ap.add_argument("--generated", type=int, action="append", default=[],
                    help="also bench/gen_topology.py N (ALB, NAT gateway, namespace; no API Gateway)")
    a = ap.parse_args()
    exe = b.ecsform_bin()
    files = a.topology or ([] if a.generated else [os.path.join(b.ROOT, "topology.example.yaml")])
    for n in a.generated:
        path = os.path.join(tempfile.mkdtemp(prefix="ecsform-bench-"), f"topology.generated-{n}.yaml")
        out = b.run_timed([sys.executable, os.path.join(b.ROOT, "bench", "gen_topology.py"), str(n)])
        with open(path, "w") as f:
            f.write(out["stdout"])
        files.append(path)
    stack = b.Stack(a.latency_ms, {"timing_profile": {"scale": a.scale}, "paging": True})
    results = {}
    for src in files:
        tmp = tempfile.mkdtemp(prefix="ecsform-bench-")
        path = os.path.join(tmp, "topology.yaml")
        shutil.copy(src, path)
        # A benchmark destroys what it applies: a protected database would refuse.
        with open(path) as f:
            text = f.read().replace("deletion_protection: true", "deletion_protection: false")
        with open(path, "w") as f:
            f.write(text)
        kinds, edges = resource_graph(exe, path)
        bound = bounds(kinds, edges, a.scale)
        runs = {"apply": [], "destroy": []}
        for i in range(a.runs):
            stack.reset_moto()
            for name in runs:
                stack.reset_stats()
                cmd = [exe, name, "-f", path, "--auto-approve"]
                # AWS's rate limits scaled like its durations (ecsform's pacing mirrors them).
                r = b.run_timed(cmd, env=stack.env(ECSFORM_RATE_SCALE=a.scale), cwd=tmp)
                runs[name].append({"wall_s": r["wall_s"], "requests": stack.stats()["requests"]})
            print(f"{os.path.basename(src)} run {i + 1}/{a.runs}: " + ", ".join(
                f"{k} {v[-1]['wall_s']:.2f}s" for k, v in runs.items()), flush=True)
        summary = {}
        for name, xs in runs.items():
            wall = b.median([x["wall_s"] for x in xs])
            summary[name] = {
                "wall_s": wall, "requests": b.median([x["requests"] for x in xs]),
                "lower_bound_s": bound[name],
                "ratio_to_bound": wall / bound[name] if bound[name] else None,
                "wait_for_everything_s": bound[f"{name}_wait_for_everything"],
                "ratio_to_wait_for_everything": (wall / bound[f"{name}_wait_for_everything"]
                                                 if bound[f"{name}_wait_for_everything"] else None),
            }
        results[os.path.basename(src)] = {"resources": len(kinds), "summary": summary,
                                          "raw": runs}
        print(f"\n{os.path.basename(src)} ({len(kinds)} resources), median of {a.runs} runs, "
              f"AWS's durations / {a.scale:g}, {a.latency_ms:g} ms per request, paged lists\n")
        b.table(["command", "wall s", "requests", "lower bound s", "wall / bound",
                 "wait-for-everything s", "wall / that"],
                [[k, s["wall_s"], s["requests"], s["lower_bound_s"], s["ratio_to_bound"],
                  s["wait_for_everything_s"], s["ratio_to_wait_for_everything"]]
                 for k, s in summary.items()])
        print()
    # The default scale keeps the name earlier results have; another scale gets its own file.
    name = "timing" if a.scale == 30 else f"timing_scale{a.scale:g}"
    b.write_results(name, {"runs": a.runs, "scale": a.scale, "latency_ms": a.latency_ms,
                               "binary": exe, "aws_seconds": AWS, "results": results,
                               "machine": b.machine()})
    stack.stop()


if __name__ == "__main__":
    main()
