#!/usr/bin/env python3
"""Soak test (not in CI): many seeds of the fault mix and many random SIGKILL points.

Starts its own moto server and fault proxy on loopback, then
  1. for each seed: apply the example under the fault mix (throttling, 5xx, dropped
     connections, eventual consistency, pending states), re-running until it succeeds (at most
     5 runs); count duplicates made by creates whose answer was lost; apply once more without
     faults (that run deletes duplicates) and check the plan is then empty and the tagged
     resources per type equal a reference stack's; destroy under lingering dependencies; check
     nothing tagged is left (no leaks);
  2. for each kill point: start an apply (latency on), SIGKILL it at a random moment,
     force-unlock, re-run, and check the same three things.

Usage: python3 tools/soak.py [--seeds 20] [--kills 20] [--binary target/debug/ecsform]
(every request through the proxy is checked against AWS's service models: tools/contract.py)
Prints one line per run and a summary; writes tools/soak-results.json.
"""
import argparse, json, os, random, re, signal, socket, subprocess, sys, tempfile, time, urllib.request

import boto3

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = open(os.path.join(ROOT, "topology.example.yaml")).read()


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def wait_port(port, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close(); return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def start_moto():
    port = free_port()
    env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true", AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test")
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    return proc, f"http://127.0.0.1:{port}"


def start_proxy(upstream):
    proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "tools/faultproxy.py"), "--upstream", upstream, "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    port = int(proc.stdout.readline().split()[1])
    return proc, f"http://127.0.0.1:{port}"


def stats(proxy):
    return json.loads(urllib.request.urlopen(proxy + "/_proxy/stats").read())


def configure(proxy, config):
    req = urllib.request.Request(proxy + "/_proxy/config", data=json.dumps(config).encode(), method="POST")
    urllib.request.urlopen(req).read()


class Runner:
    def __init__(self, binary, moto, proxy):
        self.binary, self.moto, self.proxy = binary, moto, proxy

    def env(self, via_proxy):
        return dict(os.environ, AWS_ENDPOINT_URL=self.proxy if via_proxy else self.moto, AWS_ACCESS_KEY_ID="test",
                    AWS_SECRET_ACCESS_KEY="test", AWS_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true")

    def run(self, args, via_proxy=True):
        return subprocess.run([self.binary] + args, env=self.env(via_proxy), capture_output=True, text=True, timeout=600)

    def spawn(self, args):
        return subprocess.Popen([self.binary] + args, env=self.env(True), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def topology(stack):
    path = os.path.join(tempfile.mkdtemp(), "topology.yaml")
    with open(path, "w") as f:
        f.write(EXAMPLE.replace("\nname: shop\n", f"\nname: {stack}\n"))
    return path


def tagged(moto, stack):
    """Resources carrying ecsform:stack=<stack>, counted per type straight from the API."""
    kw = dict(endpoint_url=moto, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
    ec2, ecs, elb = boto3.client("ec2", **kw), boto3.client("ecs", **kw), boto3.client("elbv2", **kw)
    logs, iam, sd = boto3.client("logs", **kw), boto3.client("iam", **kw), boto3.client("servicediscovery", **kw)
    ours = lambda tags: any(t["Key"] == "ecsform:stack" and t["Value"] == stack for t in tags or [])
    n = {
        "vpc": sum(ours(v.get("Tags")) for v in ec2.describe_vpcs()["Vpcs"]),
        "subnet": sum(ours(v.get("Tags")) for v in ec2.describe_subnets()["Subnets"]),
        "igw": sum(ours(v.get("Tags")) for v in ec2.describe_internet_gateways()["InternetGateways"]),
        "eip": sum(ours(v.get("Tags")) for v in ec2.describe_addresses()["Addresses"]),
        "nat": sum(ours(v.get("Tags")) and v["State"] not in ("deleted", "deleting") for v in ec2.describe_nat_gateways()["NatGateways"]),
        "route_table": sum(ours(v.get("Tags")) for v in ec2.describe_route_tables()["RouteTables"]),
        "security_group": sum(ours(v.get("Tags")) for v in ec2.describe_security_groups()["SecurityGroups"]),
        "log_group": len(logs.describe_log_groups(logGroupNamePrefix=f"/ecs/{stack}-")["logGroups"]),
        "role": len(iam.list_roles(PathPrefix=f"/ecsform/{stack}/")["Roles"]),
        "discovery_service": sum(s.get("Description") == f"ecsform stack {stack}" for s in sd.list_services()["Services"]),
        "namespace": sum(ours(sd.list_tags_for_resource(ResourceARN=ns["Arn"]).get("Tags")) for ns in sd.list_namespaces()["Namespaces"]),
    }
    try:
        arns = ecs.list_services(cluster=stack)["serviceArns"]
        n["ecs_service"] = sum(s["status"] == "ACTIVE" for s in ecs.describe_services(cluster=stack, services=arns)["services"]) if arns else 0
    except Exception:
        n["ecs_service"] = 0
    n["cluster"] = sum(c["status"] == "ACTIVE" for c in ecs.describe_clusters(clusters=[stack])["clusters"])
    tgs = [t["TargetGroupArn"] for t in elb.describe_target_groups()["TargetGroups"]]
    n["target_group"] = sum(ours(d["Tags"]) for a in tgs for d in elb.describe_tags(ResourceArns=[a])["TagDescriptions"])
    n["lock"] = len(logs.describe_log_groups(logGroupNamePrefix=f"/ecsform/locks/{stack}")["logGroups"])
    return n


def surplus(r, stack, reference):
    counts = tagged(r.moto, stack)
    return {k: v - reference.get(k, 0) for k, v in counts.items() if v > reference.get(k, 0)}


def check(r, stack, path, reference):
    """(duplicates right after the faulty run, converged after one fault-free apply, duplicates left)."""
    first = surplus(r, stack, reference)
    r.run(["apply", "-f", path, "--auto-approve"], via_proxy=False)
    plan = r.run(["plan", "-f", path, "--detailed-exitcode"], via_proxy=False)
    return first, plan.returncode == 0, surplus(r, stack, reference)


def destroy_and_count_leaks(r, stack, path, proxy_config):
    configure(r.proxy, proxy_config)
    for _ in range(3):
        if r.run(["destroy", "-f", path, "--auto-approve"]).returncode == 0:
            break
    return {k: v for k, v in tagged(r.moto, stack).items() if v}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--binary", default=os.path.join(ROOT, "target/debug/ecsform"))
    args = ap.parse_args()
    moto, moto_url = start_moto()
    proxy, proxy_url = start_proxy(moto_url)
    r = Runner(args.binary, moto_url, proxy_url)
    results = {"fault_runs": [], "kill_runs": []}
    try:
        configure(proxy_url, {})
        ref = "soak-ref"
        path = topology(ref)
        assert r.run(["apply", "-f", path, "--auto-approve"]).returncode == 0
        reference = tagged(moto_url, ref)
        reference["lock"] = 0
        print("reference counts:", reference, flush=True)
        linger = {"linger_seconds": 2, "throttle_fraction": 0.05, "pending_seconds": {"nat_gateway": 1}}
        for seed in range(1, args.seeds + 1):
            stack, t0 = f"soak-f{seed}", time.time()
            path = topology(stack)
            configure(proxy_url, {"seed": seed, "throttle_fraction": 0.10, "error_5xx_fraction": 0.02, "drop_fraction": 0.02,
                                  "not_found_after_create_seconds": 1,
                                  "pending_seconds": {"nat_gateway": 2, "load_balancer": 2, "namespace_operation": 2}})
            runs = 0
            for runs in range(1, 6):
                if r.run(["apply", "-f", path, "--auto-approve"]).returncode == 0:
                    break
            configure(proxy_url, {})
            first, converged, duplicates = check(r, stack, path, reference)
            leaks = destroy_and_count_leaks(r, stack, path, dict(linger, seed=seed))
            row = dict(seed=seed, apply_runs=runs, duplicates_after_faulty_run=first, converged=converged, duplicates=duplicates,
                       leaks=leaks, seconds=round(time.time() - t0, 1))
            results["fault_runs"].append(row); print(json.dumps(row), flush=True)
        rng = random.Random(7)
        configure(proxy_url, {"latency_ms": 30})
        probe = topology("soak-probe"); t = time.time()
        r.run(["apply", "-f", probe, "--auto-approve"]); whole = time.time() - t
        for k in range(1, args.kills + 1):
            stack, at = f"soak-k{k}", rng.uniform(0.05, 0.95) * whole
            path = topology(stack)
            configure(proxy_url, {"latency_ms": 30})
            child = r.spawn(["apply", "-f", path, "--auto-approve"])
            time.sleep(at)
            alive = child.poll() is None
            child.send_signal(signal.SIGKILL); child.wait()
            # No force-unlock: a killed run's lock is stale (its process is gone from this host)
            # and the rerun takes it over by itself.
            rerun = r.run(["apply", "-f", path, "--auto-approve", "--lock-timeout", "150"])
            _, converged, duplicates = check(r, stack, path, reference)
            leaks = destroy_and_count_leaks(r, stack, path, dict(linger, seed=k))
            row = dict(kill=k, at_seconds=round(at, 2), killed_midway=alive, rerun_ok=rerun.returncode == 0, converged=converged,
                       took_over_lock="Took over the lock" in rerun.stderr, duplicates=duplicates, leaks=leaks)
            if rerun.returncode != 0:
                row["rerun_error"] = (rerun.stdout + rerun.stderr)[-800:]
            results["kill_runs"].append(row); print(json.dumps(row), flush=True)
        contract = stats(proxy_url).get("contract", {})
    finally:
        proxy.kill(); moto.kill()
    f, k = results["fault_runs"], results["kill_runs"]
    summary = {
        "fault_converged": f"{sum(x['converged'] for x in f)}/{len(f)}",
        "fault_duplicates_after_faulty_run": sum(bool(x["duplicates_after_faulty_run"]) for x in f),
        "fault_duplicates": sum(bool(x["duplicates"]) for x in f),
        "fault_leaks": sum(bool(x["leaks"]) for x in f),
        "kills_midway": sum(x["killed_midway"] for x in k),
        "kill_converged": f"{sum(x['converged'] for x in k)}/{len(k)}",
        "kill_duplicates": sum(bool(x["duplicates"]) for x in k),
        "kill_leaks": sum(bool(x["leaks"]) for x in k),
        "kill_locks_taken_over": sum(x.get("took_over_lock", False) for x in k),
        # Every request of the soak through the proxy, checked against AWS's service models.
        "contract_validated": contract.get("validated"),
        "contract_violations": contract.get("violation_count"),
    }
    results["summary"] = summary
    print("SUMMARY", json.dumps(summary), flush=True)
    with open(os.path.join(ROOT, "tools/soak-results.json"), "w") as out:
        json.dump(results, out, indent=1)


if __name__ == "__main__":
    main()
