#!/usr/bin/env python3
"""Tests for tools/faultproxy.py: moto's server on a free port, the proxy in
front of it, boto3 (retries disabled) as the client.

    python3 tools/test_faultproxy.py [-v]
"""

import json
import os
import socket
import subprocess
import sys
import threading
import time
import unittest
import urllib.error
import urllib.request

import boto3
import botocore.loaders
import botocore.retryhandler
import botocore.translate
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError
from botocore.retries.standard import RetryContext, ThrottledRetryableChecker

HERE = os.path.dirname(os.path.abspath(__file__))
PROXY = os.path.join(HERE, "faultproxy.py")
sys.path.insert(0, HERE)
import faultproxy  # noqa: E402  (unit tests of pure helpers)

ENV = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
           AWS_DEFAULT_REGION="us-east-1", MOTO_IAM_LOAD_MANAGED_POLICIES="true",
           MOTO_ACM_VALIDATION_WAIT="0")
NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"},
                    connect_timeout=5, read_timeout=30)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_counter = iter(range(1, 1_000_000))


def unique(prefix: str) -> str:
    return f"{prefix}{next(_counter)}"


def wait_for_port(port: int, timeout: float = 20.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"port {port} never opened")


class Servers:
    """One moto server and one proxy in front of it, shared by all tests."""
    moto = proxy = None
    log_path = os.path.join("/tmp", f"faultproxy-test-{os.getpid()}.jsonl")

    @classmethod
    def start(cls):
        cls.moto_port = free_port()
        cls.moto = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(cls.moto_port)],
            env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cls.proxy = subprocess.Popen(
            [sys.executable, PROXY, "--upstream", f"http://127.0.0.1:{cls.moto_port}", "--port", "0",
             "--seed", "1", "--log", cls.log_path],
            env=ENV, stdout=subprocess.PIPE, text=True)
        first = cls.proxy.stdout.readline().split()
        assert first and first[0] == "LISTENING", first
        cls.endpoint = f"http://127.0.0.1:{int(first[1])}"
        wait_for_port(cls.moto_port)

    @classmethod
    def stop(cls):
        for proc in (cls.proxy, cls.moto):
            if proc and proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=10)
        if cls.proxy and cls.proxy.stdout:
            cls.proxy.stdout.close()
        if os.path.exists(cls.log_path):
            os.remove(cls.log_path)


def setUpModule():
    try:
        Servers.start()
    except BaseException:
        Servers.stop()
        raise


def tearDownModule():
    Servers.stop()


class ProxyTestCase(unittest.TestCase):
    @property
    def endpoint(self):
        return Servers.endpoint

    @property
    def log_path(self):
        return Servers.log_path

    def setUp(self):
        # moto's state is kept between tests (a /moto-api/reset costs seconds):
        # tests name their resources uniquely and count relative to a baseline.
        self.configure({})
        self.control("POST", "/_proxy/reset-state")
        self.control("POST", "/_proxy/reset-stats")

    # -- helpers ---------------------------------------------------------------

    def control(self, method, path, doc=None):
        data = json.dumps(doc).encode() if doc is not None else b""
        req = urllib.request.Request(self.endpoint + path, data=data, method=method)
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read() or b"{}")

    def configure(self, doc):
        return self.control("POST", "/_proxy/config", doc)

    def stats(self):
        return self.control("GET", "/_proxy/stats")

    def client(self, service):
        return boto3.client(service, endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id="test", aws_secret_access_key="test", config=NO_RETRIES)

    def assertClientError(self, code, fn, *args, **kwargs) -> ClientError:
        with self.assertRaises(ClientError) as ctx:
            fn(*args, **kwargs)
        self.assertEqual(ctx.exception.response["Error"]["Code"], code)
        return ctx.exception

    def network(self, ec2):
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        # Real AWS fails a public NAT gateway in a VPC without an internet gateway
        # (the proxy's aws_orders check): attach one, as real stacks do.
        igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
        subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24",
                                     AvailabilityZone=f"us-east-1{az}")["Subnet"]["SubnetId"]
                   for i, az in ((1, "a"), (2, "b"))]
        sg = ec2.create_security_group(GroupName=unique("web"), Description="web", VpcId=vpc)["GroupId"]
        return vpc, subnets, sg


# ------------------------------------------------------------------------------
# Pure helpers
# ------------------------------------------------------------------------------


class UnitTests(unittest.TestCase):
    def test_longest_sequential_chain(self):
        chain = faultproxy.longest_sequential_chain
        self.assertEqual(chain([]), 0)
        self.assertEqual(chain([(0, 1), (1, 2), (2, 3)]), 3)
        self.assertEqual(chain([(0, 1), (0.5, 1.5), (0.2, 1.2)]), 1)
        self.assertEqual(chain([(0, 10), (0, 1), (1, 2), (2, 3), (3, 11)]), 4)

    def test_identification(self):
        auth = "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host"
        req = faultproxy.Request("POST", "/", [("Authorization", auth),
                                               ("Content-Type", "application/x-www-form-urlencoded")],
                                 b"Action=DescribeVpcs&Version=2016-11-15")
        self.assertEqual((req.service, req.action, req.protocol), ("ec2", "DescribeVpcs", "ec2"))
        auth = auth.replace("/ec2/", "/apigateway/")
        req = faultproxy.Request("POST", "/restapis/abc/resources/def", [("Authorization", auth)], b"{}")
        self.assertEqual(req.action, "POST /restapis/{}/resources/{}")
        self.assertEqual(faultproxy.bucket_names("apigateway", req.action),
                         ["apigateway:account", "apigateway:resource"])

    def test_api_gateway_labels_and_buckets(self):
        auth = "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/apigateway/aws4_request"
        cases = {
            ("POST", "/vpclinks"): ["apigateway:account"],
            ("GET", "/vpclinks/abc"): ["apigateway:account"],
            ("POST", "/restapis"): ["apigateway:account", "apigateway:create-rest-api"],
            ("POST", "/restapis/a1/resources/r1"): ["apigateway:account", "apigateway:resource"],
            ("POST", "/restapis/a1/deployments"): ["apigateway:account", "apigateway:create-deployment"],
        }
        for (method, path), buckets in cases.items():
            req = faultproxy.Request(method, path, [("Authorization", auth)], b"{}")
            self.assertEqual(req.protocol, "rest-json")
            self.assertEqual(faultproxy.bucket_names("apigateway", req.action), buckets, path)
        # AWS's documented API Gateway limits: (burst, refill per second).
        self.assertEqual(faultproxy.BUCKETS["apigateway:account"], (40, 10))
        self.assertEqual(faultproxy.BUCKETS["apigateway:resource"], (5, 5))
        self.assertEqual(faultproxy.BUCKETS["apigateway:create-deployment"], (1, 0.2))
        self.assertAlmostEqual(faultproxy.BUCKETS["apigateway:create-rest-api"][1] * 3, 1.0)
        req = faultproxy.Request("PUT", "/restapis/a1/resources/r1/methods/GET/integration",
                                 [("Authorization", auth)], b"{}")
        self.assertEqual(req.action, "PUT /restapis/{}/resources/{}/methods/{}/integration")
        self.assertEqual(faultproxy.path_ids(req), ["a1", "r1", "GET"])

    def test_integration_links_learnt_from_requests(self):
        proxy = faultproxy.FaultProxy(faultproxy.Upstream("http://127.0.0.1:9"), {"contract": False})
        auth = [("Authorization", "AWS4-HMAC-SHA256 Credential=A/20260101/us-east-1/apigateway/aws4_request")]
        path = "/restapis/a1/resources/r1/methods/GET/integration"
        ok = faultproxy.Reply(200, [], b"{}")

        def send(method, doc):
            proxy.observe(faultproxy.Request(method, path, auth, json.dumps(doc).encode()), ok)
            return dict(proxy.world.integration_links)

        key = ("a1", "r1", "GET")
        self.assertEqual(send("PUT", {"type": "HTTP_PROXY", "connectionType": "VPC_LINK",
                                      "connectionId": "l1"}), {key: "l1"})
        self.assertEqual(send("PATCH", {"patchOperations": [
            {"op": "replace", "path": "/connectionId", "value": "l2"}]}), {key: "l2"})
        self.assertEqual(send("PATCH", {"patchOperations": [
            {"op": "replace", "path": "/connectionType", "value": "INTERNET"}]}), {})
        send("PUT", {"type": "HTTP_PROXY", "connectionType": "VPC_LINK", "connectionId": "l3"})
        self.assertEqual(send("PUT", {"type": "HTTP_PROXY"}), {})

    def test_vpc_link_config_validated(self):
        for good in ({"vpc_link_fail": True}, {"vpc_link_fail": 0.25}, {"vpc_link_pending_s": 1.5},
                     {"vpc_link_delete_s": 0}):
            faultproxy.merge_config(good)
        for bad in ({"vpc_link_fail": 2}, {"vpc_link_fail": "yes"}, {"vpc_link_pending_s": -1},
                    {"vpc_link_delete_s": "1"}, {"vpc_link_pending_s": True}):
            with self.assertRaises(ValueError, msg=bad):
                faultproxy.merge_config(bad)

    def test_refuses_non_loopback_upstream(self):
        for url in ("http://10.0.0.1:80", "http://localhost:5000", "https://127.0.0.1:5000"):
            out = subprocess.run([sys.executable, PROXY, "--upstream", url, "--port", "0"],
                                 capture_output=True, text=True, timeout=10)
            self.assertEqual(out.returncode, 2, url)
            self.assertIn("127.0.0.1", out.stderr)


# ------------------------------------------------------------------------------
# Through moto
# ------------------------------------------------------------------------------


def legacy_retryable(client, error: ClientError) -> bool:
    """botocore's legacy (_retry.json) retry handler verdict for this error."""
    model = botocore.loaders.Loader().load_data("_retry")
    prefix = client.meta.service_model.endpoint_prefix
    config = botocore.translate.build_retry_config(prefix, model["retry"], model.get("definitions", {}))
    checker = botocore.retryhandler.create_checker_from_retry_config(config, prefix)

    class HttpResponse:
        status_code = error.response["ResponseMetadata"]["HTTPStatusCode"]

    return bool(checker(1, (HttpResponse, error.response), None, retries_context={}))


class ThrottleTests(ProxyTestCase):
    # service -> (call, expected HTTP status, expected code, error-type header)
    CASES = {
        "ec2": (lambda c: c.describe_vpcs(), 503, "RequestLimitExceeded", None),
        "ecs": (lambda c: c.list_clusters(), 400, "ThrottlingException", "ThrottlingException"),
        "servicediscovery": (lambda c: c.list_namespaces(), 400, "ThrottlingException", "ThrottlingException"),
        "logs": (lambda c: c.describe_log_groups(), 400, "ThrottlingException", "ThrottlingException"),
        "dynamodb": (lambda c: c.list_tables(), 400, "ThrottlingException", "ThrottlingException"),
        "application-autoscaling": (lambda c: c.describe_scalable_targets(ServiceNamespace="ecs"),
                                    400, "ThrottlingException", "ThrottlingException"),
        "elbv2": (lambda c: c.describe_load_balancers(), 400, "Throttling", None),
        "iam": (lambda c: c.list_roles(), 400, "Throttling", None),
        "sts": (lambda c: c.get_caller_identity(), 400, "Throttling", None),
        # boto3 speaks JSON to CloudWatch: ThrottlingException + x-amzn-query-error: Throttling
        "cloudwatch": (lambda c: c.describe_alarms(), 400, "Throttling", "ThrottlingException"),
        "apigateway": (lambda c: c.get_rest_apis(), 429, "TooManyRequestsException", "TooManyRequestsException"),
        "s3": (lambda c: c.list_buckets(), 503, "SlowDown", None),
    }

    def test_throttle_shapes_are_throttling_errors(self):
        self.configure({"throttle_fraction": 1.0})
        for service, (call, status, code, error_type) in self.CASES.items():
            with self.subTest(service=service):
                client = self.client(service)
                error = self.assertClientError(code, call, client)
                meta = error.response["ResponseMetadata"]
                self.assertEqual(meta["HTTPStatusCode"], status)
                if error_type:
                    self.assertEqual(meta["HTTPHeaders"].get("x-amzn-errortype"), error_type)
                context = RetryContext(attempt_number=1, parsed_response=error.response)
                self.assertTrue(ThrottledRetryableChecker().is_retryable(context), "standard mode: throttled")
                self.assertTrue(legacy_retryable(client, error), "legacy mode: retryable")
        stats = self.stats()
        self.assertEqual(stats["injected"], {"throttle": len(self.CASES)})

    def test_json_throttle_body(self):
        self.configure({"throttle_fraction": 1.0})
        ecs = self.client("ecs")
        error = self.assertClientError("ThrottlingException", ecs.list_clusters)
        headers = error.response["ResponseMetadata"]["HTTPHeaders"]
        self.assertEqual(headers["content-type"], "application/x-amz-json-1.1")
        self.assertEqual(error.response["Error"]["Message"], "Rate exceeded")

    def test_token_buckets(self):
        ec2, apigw = self.client("ec2"), self.client("apigateway")
        ec2.describe_vpcs()  # load moto's backends first: no slow calls below
        apigw.get_rest_apis()
        self.configure({"token_buckets": {"enabled": True, "overrides": {"ec2:describe": [3, 1]}}})
        for _ in range(3):
            ec2.describe_vpcs()
        self.assertClientError("RequestLimitExceeded", ec2.describe_vpcs)
        ec2.create_vpc(CidrBlock="10.1.0.0/16")  # another bucket (mutating) is unaffected
        time.sleep(1.05)  # refill 1/s -> one token
        ec2.describe_vpcs()
        # API Gateway's documented CreateRestApi limit: one per 3 seconds.
        apigw.create_rest_api(name="one")
        self.assertClientError("TooManyRequestsException", apigw.create_rest_api, name="two")
        apigw.get_rest_apis()  # other calls only use the account bucket

    def test_seed_reproduces_decisions(self):
        ec2 = self.client("ec2")

        def outcomes():
            self.configure({"seed": 7, "throttle_fraction": 0.5})
            result = []
            for _ in range(12):
                try:
                    ec2.describe_vpcs()
                    result.append("ok")
                except ClientError:
                    result.append("throttled")
            return result

        first = outcomes()
        self.assertEqual(first, outcomes())
        self.assertIn("ok", first)
        self.assertIn("throttled", first)


class ErrorAndDropTests(ProxyTestCase):
    def test_5xx_limited_by_fault_actions(self):
        self.configure({"error_5xx_fraction": 1.0, "fault_actions": ["ec2:*"]})
        error = self.assertClientError("InternalError", self.client("ec2").describe_vpcs)
        self.assertEqual(error.response["ResponseMetadata"]["HTTPStatusCode"], 500)
        self.client("ecs").list_clusters()  # not matched: passes
        self.configure({"error_5xx_fraction": 1.0})
        error = self.assertClientError("InternalFailure", self.client("ecs").list_clusters)
        self.assertEqual(error.response["ResponseMetadata"]["HTTPStatusCode"], 500)
        self.assertClientError("InternalFailure", self.client("elbv2").describe_load_balancers)

    def test_drop_before_and_after_forwarding(self):
        ec2 = self.client("ec2")
        before = len(ec2.describe_vpcs()["Vpcs"])
        self.configure({"seed": 3, "drop_fraction": 1.0, "fault_actions": ["ec2:CreateVpc"]})
        attempts = 10
        for i in range(attempts):
            with self.assertRaises((ConnectionClosedError, EndpointConnectionError)):
                ec2.create_vpc(CidrBlock=f"10.{i}.0.0/16")
        created = len(ec2.describe_vpcs()["Vpcs"]) - before
        # After-forwarding drops took effect although the client saw only failures.
        self.assertGreater(created, 0)
        self.assertLess(created, attempts)
        self.assertEqual(self.stats()["injected"], {"drop": attempts})


class SettlingTests(ProxyTestCase):
    """quirks, lose_answers, nat_fail and the idempotency AWS honours (moto does not)."""

    def test_each_quirk_row_answers_as_aws_for_the_first_calls_of_each_request(self):
        self.configure({"quirks": {"rows": ["ecs_service_linked_role", "logs_aborted"], "times": 2}})
        ecs, logs = self.client("ecs"), self.client("logs")
        name = unique("slr")
        for _ in range(2):
            error = self.assertClientError("InvalidParameterException", ecs.create_cluster, clusterName=name)
            self.assertIn("Unable to assume the service linked role", error.response["Error"]["Message"])
            self.assertEqual(error.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        ecs.create_cluster(clusterName=name)  # the third call of that request goes through
        # Another request (another cluster) meets the row anew; other actions never.
        self.assertClientError("InvalidParameterException", ecs.create_cluster, clusterName=unique("slr"))
        group = unique("/g")
        logs.create_log_group(logGroupName=group)
        self.assertClientError("OperationAbortedException", logs.delete_log_group, logGroupName=group)
        self.assertEqual(self.stats()["injected"],
                         {"quirk:ecs_service_linked_role": 3, "quirk:logs_aborted": 1})

    def test_a_quirk_after_forwarding_took_effect(self):
        self.configure({"quirks": {"rows": ["gateway_detached"]}})
        ec2 = self.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
        igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
        self.assertClientError("Gateway.NotAttached", ec2.detach_internet_gateway,
                               InternetGatewayId=igw, VpcId=vpc)
        gateway = ec2.describe_internet_gateways(InternetGatewayIds=[igw])["InternetGateways"][0]
        self.assertEqual(gateway["Attachments"], [])

    def test_a_lost_answer_acted_and_its_retry_meets_what_it_made(self):
        self.configure({"lose_answers": ["logs:CreateLogGroup"]})
        logs = self.client("logs")
        group = unique("/lost")
        with self.assertRaises(ClientError) as lost:
            logs.create_log_group(logGroupName=group)
        self.assertEqual(lost.exception.response["ResponseMetadata"]["HTTPStatusCode"], 500)
        self.assertClientError("ResourceAlreadyExistsException", logs.create_log_group, logGroupName=group)
        self.assertEqual(self.stats()["injected"], {"lost:logs:CreateLogGroup": 1})

    def test_client_tokens_and_same_settings_creates_answer_the_first(self):
        ec2, elbv2 = self.client("ec2"), self.client("elbv2")
        vpc, subnets, sg = self.network(ec2)
        first = ec2.create_route_table(VpcId=vpc, ClientToken="token-1")["RouteTable"]["RouteTableId"]
        again = ec2.create_route_table(VpcId=vpc, ClientToken="token-1")["RouteTable"]["RouteTableId"]
        other = ec2.create_route_table(VpcId=vpc, ClientToken="token-2")["RouteTable"]["RouteTableId"]
        self.assertEqual(first, again)
        self.assertNotEqual(first, other)
        name = unique("lb")[:32]
        lb = elbv2.create_load_balancer(Name=name, Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
        self.assertEqual(lb, elbv2.create_load_balancer(Name=name, Subnets=subnets)
                         ["LoadBalancers"][0]["LoadBalancerArn"])
        # Deleted, the name makes a new one.
        elbv2.delete_load_balancer(LoadBalancerArn=lb)
        self.assertNotEqual(lb, elbv2.create_load_balancer(Name=name, Subnets=subnets)
                            ["LoadBalancers"][0]["LoadBalancerArn"])

    def test_a_failed_nat_gateway_says_why(self):
        self.configure({"nat_fail": True})
        ec2 = self.client("ec2")
        _, subnets, _ = self.network(ec2)
        eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
        nat = ec2.create_nat_gateway(SubnetId=subnets[0], AllocationId=eip)["NatGateway"]["NatGatewayId"]
        self.configure({})  # decided at its create: it stays failed
        described = ec2.describe_nat_gateways(NatGatewayIds=[nat])["NatGateways"][0]
        self.assertEqual(described["State"], "failed")
        self.assertEqual(described["FailureCode"], "InsufficientFreeAddressesInSubnet")
        self.assertIn("insufficient free addresses", described["FailureMessage"])

    def test_settling_config_validated(self):
        for bad in ({"quirks": {"rows": ["no_such_row"]}}, {"quirks": {"times": 0}},
                    {"lose_answers": "ec2:*"}, {"nat_fail": "yes"}):
            with self.assertRaises(urllib.error.HTTPError):
                self.configure(bad)


class PendingTests(ProxyTestCase):
    def test_nat_gateway_pending_then_available_then_deleting(self):
        self.configure({"pending_seconds": {"nat_gateway": 1.0}})
        ec2 = self.client("ec2")
        _, subnets, _ = self.network(ec2)
        eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
        nat = ec2.create_nat_gateway(SubnetId=subnets[0], AllocationId=eip)["NatGateway"]
        self.assertEqual(nat["State"], "pending")
        nat_id = nat["NatGatewayId"]

        def state():
            return ec2.describe_nat_gateways(NatGatewayIds=[nat_id])["NatGateways"][0]["State"]

        self.assertEqual(state(), "pending")
        time.sleep(1.05)
        self.assertEqual(state(), "available")
        ec2.delete_nat_gateway(NatGatewayId=nat_id)
        self.assertEqual(state(), "deleting")
        time.sleep(1.05)
        self.assertEqual(state(), "deleted")

    def test_db_instance_creating_without_endpoint_then_available(self):
        self.configure({"pending_seconds": {"db_instance": 1.0}})
        rds = self.client("rds")
        ident = unique("db")
        created = rds.create_db_instance(
            DBInstanceIdentifier=ident, Engine="mysql", DBInstanceClass="db.t3.micro",
            AllocatedStorage=20, MasterUsername="admin", ManageMasterUserPassword=True)["DBInstance"]
        self.assertEqual(created["DBInstanceStatus"], "creating")
        self.assertNotIn("Endpoint", created)

        def instance():
            return rds.describe_db_instances(DBInstanceIdentifier=ident)["DBInstances"][0]

        self.assertEqual(instance()["DBInstanceStatus"], "creating")
        self.assertNotIn("Endpoint", instance())
        time.sleep(1.05)
        self.assertEqual(instance()["DBInstanceStatus"], "available")
        self.assertIn("Address", instance()["Endpoint"])
        rds.delete_db_instance(DBInstanceIdentifier=ident, SkipFinalSnapshot=True)

    def test_load_balancer_provisioning_and_namespace_operation(self):
        self.configure({"pending_seconds": {"load_balancer": 1.0, "namespace_operation": 2.0}})
        ec2, elb, sd = self.client("ec2"), self.client("elbv2"), self.client("servicediscovery")
        vpc, subnets, sg = self.network(ec2)
        arn = elb.create_load_balancer(Name=unique("lb"), Subnets=subnets, SecurityGroups=[sg])[
            "LoadBalancers"][0]["LoadBalancerArn"]
        op = sd.create_private_dns_namespace(Name=unique("svc") + ".local", Vpc=vpc)["OperationId"]

        def lb_state():
            return elb.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"][0]["State"]["Code"]

        def op_status():
            return sd.get_operation(OperationId=op)["Operation"]["Status"]

        self.assertEqual(lb_state(), "provisioning")
        self.assertEqual(op_status(), "SUBMITTED")  # first half of 2 s
        time.sleep(1.1)
        self.assertEqual(lb_state(), "active")
        self.assertEqual(op_status(), "PENDING")  # second half
        time.sleep(0.95)
        self.assertEqual(op_status(), "SUCCESS")
        self.assertGreaterEqual(self.stats()["injected"]["pending"], 3)


class NotFoundTests(ProxyTestCase):
    def test_not_found_after_create(self):
        ec2 = self.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)  # for the NAT gateway
        self.configure({"not_found_after_create_seconds": 1.0})
        sg = ec2.create_security_group(GroupName=unique("x"), Description="x", VpcId=vpc)["GroupId"]
        rule = dict(GroupId=sg, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
                                                 "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        self.assertClientError("InvalidGroup.NotFound", ec2.authorize_security_group_ingress, **rule)
        self.assertClientError("InvalidGroup.NotFound", ec2.describe_security_groups, GroupIds=[sg])
        # A filter-only describe is let through.
        found = ec2.describe_security_groups(Filters=[{"Name": "group-id", "Values": [sg]}])
        self.assertEqual([g["GroupId"] for g in found["SecurityGroups"]], [sg])

        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
        eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
        time.sleep(1.05)  # subnet visible now
        nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=eip)["NatGateway"]["NatGatewayId"]
        rtb = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])[
            "RouteTables"][0]["RouteTableId"]
        route = dict(RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
        self.assertClientError("InvalidNatGatewayID.NotFound", ec2.create_route, **route)
        ec2.authorize_security_group_ingress(**rule)  # the group is old enough now
        time.sleep(1.05)
        ec2.create_route(**route)
        self.assertEqual(self.stats()["injected"]["not_found"], 3)


class DependencyTests(ProxyTestCase):
    def test_security_group_and_subnet_linger(self):
        self.configure({"linger_seconds": 1.0})
        ec2 = self.client("ec2")
        _, subnets, sg = self.network(ec2)
        error = self.assertClientError("DependencyViolation", ec2.delete_security_group, GroupId=sg)
        self.assertIn(sg, error.response["Error"]["Message"])
        self.assertClientError("DependencyViolation", ec2.delete_subnet, SubnetId=subnets[0])
        time.sleep(0.5)
        self.assertClientError("DependencyViolation", ec2.delete_security_group, GroupId=sg)
        time.sleep(0.55)
        ec2.delete_security_group(GroupId=sg)
        ec2.delete_subnet(SubnetId=subnets[0])

    def test_ecs_cloud_map_and_target_group_dependencies(self):
        self.configure({"linger_seconds": 1.0})
        ec2, ecs, sd, elb = (self.client(s) for s in ("ec2", "ecs", "servicediscovery", "elbv2"))
        vpc, subnets, sg = self.network(ec2)
        op = sd.create_private_dns_namespace(Name=unique("app") + ".local", Vpc=vpc)["OperationId"]
        ns = sd.get_operation(OperationId=op)["Operation"]["Targets"]["NAMESPACE"]
        discovery = sd.create_service(Name="api", NamespaceId=ns)["Service"]["Id"]
        lb = elb.create_load_balancer(Name=unique("lb"), Subnets=subnets, SecurityGroups=[sg])[
            "LoadBalancers"][0]["LoadBalancerArn"]
        tg = elb.create_target_group(Name=unique("tg"), Protocol="HTTP", Port=80, VpcId=vpc,
                                     TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
        listener = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[
            {"Type": "forward", "TargetGroupArn": tg}])["Listeners"][0]["ListenerArn"]
        ecs.create_cluster(clusterName="c")
        ecs.register_task_definition(family="f", containerDefinitions=[{"name": "a", "image": "x"}],
                                     requiresCompatibilities=["FARGATE"], networkMode="awsvpc",
                                     cpu="256", memory="512")
        ecs.create_service(cluster="c", serviceName="s", taskDefinition="f", desiredCount=0,
                           launchType="FARGATE", networkConfiguration={"awsvpcConfiguration": {
                               "subnets": subnets, "securityGroups": [sg]}})

        # Live service upstream: the cluster cannot go.
        self.assertClientError("ClusterContainsServicesException", ecs.delete_cluster, cluster="c")
        # Namespace still holds a discovery service (checked upstream).
        self.assertClientError("ResourceInUse", sd.delete_namespace, Id=ns)

        ecs.delete_service(cluster="c", service="s")
        elb.delete_listener(ListenerArn=listener)
        # Draining tasks / lingering listener state.
        self.assertClientError("ClusterContainsServicesException", ecs.delete_cluster, cluster="c")
        self.assertClientError("ResourceInUse", sd.delete_service, Id=discovery)
        self.assertClientError("ResourceInUse", elb.delete_target_group, TargetGroupArn=tg)
        time.sleep(1.05)
        ecs.delete_cluster(cluster="c")
        sd.delete_service(Id=discovery)
        elb.delete_target_group(TargetGroupArn=tg)
        sd.delete_namespace(Id=ns)
        self.assertEqual(self.stats()["injected"]["dependency"], 5)


class VpcLinkTests(ProxyTestCase):
    """API Gateway REST VPC links (V1) to an internal NLB, as AWS runs them."""

    def nlb(self) -> str:
        ec2, elb = self.client("ec2"), self.client("elbv2")
        _, subnets, _ = self.network(ec2)
        return elb.create_load_balancer(Name=unique("nlb"), Subnets=subnets, Type="network",
                                        Scheme="internal")["LoadBalancers"][0]["LoadBalancerArn"]

    def api_over(self, apigw, link_id: str | None) -> str:
        """A REST API with GET / integrated over the VPC link (or over the internet)."""
        api = apigw.create_rest_api(name=unique("api"))["id"]
        root = apigw.get_resources(restApiId=api)["items"][0]["id"]
        apigw.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
        over = {"connectionType": "VPC_LINK", "connectionId": link_id} if link_id else {}
        apigw.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="HTTP_PROXY",
                              integrationHttpMethod="GET", uri="http://svc.internal/", **over)
        return api

    def test_pending_then_available(self):
        self.configure({"vpc_link_pending_s": 1.0})
        apigw = self.client("apigateway")
        nlb = self.nlb()
        link = apigw.create_vpc_link(name=unique("link"), targetArns=[nlb])
        self.assertEqual(link["status"], "PENDING")

        def listed():
            return {item["id"]: item["status"] for item in apigw.get_vpc_links(limit=500)["items"]}

        self.assertEqual(apigw.get_vpc_link(vpcLinkId=link["id"])["status"], "PENDING")
        self.assertEqual(listed()[link["id"]], "PENDING")
        time.sleep(1.05)
        self.assertEqual(apigw.get_vpc_link(vpcLinkId=link["id"])["status"], "AVAILABLE")
        self.assertEqual(listed()[link["id"]], "AVAILABLE")
        self.assertEqual(self.stats()["injected"]["pending"], 3)

    def test_fail_after_pending_and_fraction(self):
        self.configure({"vpc_link_pending_s": 0.5, "vpc_link_fail": True})
        apigw = self.client("apigateway")
        nlb = self.nlb()
        link = apigw.create_vpc_link(name=unique("link"), targetArns=[nlb])
        self.assertEqual(link["status"], "PENDING")
        self.assertEqual(apigw.get_vpc_link(vpcLinkId=link["id"])["status"], "PENDING")
        time.sleep(0.55)
        for _ in range(2):  # for good
            got = apigw.get_vpc_link(vpcLinkId=link["id"])
            self.assertEqual((got["status"], got["statusMessage"]), ("FAILED", "NLB ARN is malformed"))
        item = next(i for i in apigw.get_vpc_links()["items"] if i["id"] == link["id"])
        self.assertEqual(item["status"], "FAILED")

        # A fraction: decided once per link, seeded.
        self.configure({"seed": 5, "vpc_link_fail": 0.5})
        ids = [apigw.create_vpc_link(name=unique("link"), targetArns=[nlb])["id"] for _ in range(8)]
        first = [apigw.get_vpc_link(vpcLinkId=i)["status"] for i in ids]
        self.assertEqual(set(first), {"FAILED", "AVAILABLE"})
        self.assertEqual(first, [apigw.get_vpc_link(vpcLinkId=i)["status"] for i in ids])

    def test_deployment_refused_while_its_link_is_not_available(self):
        self.configure({"vpc_link_pending_s": 2.0})
        apigw = self.client("apigateway")
        nlb = self.nlb()
        link = apigw.create_vpc_link(name=unique("link"), targetArns=[nlb])["id"]
        api = self.api_over(apigw, link)
        error = self.assertClientError("BadRequestException", apigw.create_deployment,
                                       restApiId=api, stageName="prod")
        self.assertEqual(error.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        self.assertIn(f"VPC link {link} is not in AVAILABLE state", error.response["Error"]["Message"])
        # An API without an integration over the link deploys.
        apigw.create_deployment(restApiId=self.api_over(apigw, None), stageName="prod")
        # aws_orders off: moto's behaviour.
        self.configure({"vpc_link_pending_s": 2.0, "aws_orders": False})
        apigw.create_deployment(restApiId=api, stageName="prod")
        self.configure({"vpc_link_pending_s": 2.0})
        time.sleep(2.05)
        apigw.create_deployment(restApiId=api, stageName="prod")  # AVAILABLE now

        # A FAILED link refuses for good; moving the integration to another link mends it.
        # (moto's UpdateIntegration cannot patch /connectionId: PutIntegration replaces it.)
        self.configure({"vpc_link_fail": True})
        failed = apigw.create_vpc_link(name=unique("link"), targetArns=[nlb])["id"]
        root = apigw.get_resources(restApiId=api)["items"][0]["id"]
        integration = dict(restApiId=api, resourceId=root, httpMethod="GET", type="HTTP_PROXY",
                           integrationHttpMethod="GET", uri="http://svc.internal/",
                           connectionType="VPC_LINK")
        apigw.put_integration(**integration, connectionId=failed)
        error = self.assertClientError("BadRequestException", apigw.create_deployment,
                                       restApiId=api, stageName="prod")
        self.assertIn("FAILED", error.response["Error"]["Message"])
        apigw.put_integration(**integration, connectionId=link)
        apigw.create_deployment(restApiId=api, stageName="prod")
        # The integration deleted (moto is asked): nothing uses the failed link any more.
        apigw.put_integration(**integration, connectionId=failed)
        apigw.delete_method(restApiId=api, resourceId=root, httpMethod="GET")
        apigw.put_method(restApiId=api, resourceId=root, httpMethod="POST", authorizationType="NONE")
        apigw.put_integration(restApiId=api, resourceId=root, httpMethod="POST", type="MOCK")
        apigw.create_deployment(restApiId=api, stageName="prod")
        self.assertEqual(self.stats()["injected"]["order"], 2)

    def test_link_delete_refused_while_a_method_or_a_stage_uses_it(self):
        apigw = self.client("apigateway")
        link = apigw.create_vpc_link(name=unique("link"), targetArns=[self.nlb()])["id"]
        api = self.api_over(apigw, link)
        root = apigw.get_resources(restApiId=api)["items"][0]["id"]
        error = self.assertClientError("BadRequestException", apigw.delete_vpc_link, vpcLinkId=link)
        self.assertEqual(error.response["Error"]["Message"],
                         f"Cannot delete vpc link. Vpc link '{link}', is referenced in "
                         f"[{api}:GET:{root}:-] in format of [RESTApiId:Method:Resource:Stage].")
        # Deployed to a stage, the method deleted: the stage's deployment still uses the link.
        apigw.create_deployment(restApiId=api, stageName="prod")
        apigw.delete_method(restApiId=api, resourceId=root, httpMethod="GET")
        error = self.assertClientError("BadRequestException", apigw.delete_vpc_link, vpcLinkId=link)
        self.assertIn(f"[{api}:-:-:prod]", error.response["Error"]["Message"])
        # The stage gone: nothing uses it. (And DeleteRestApi forgets everything of the API.)
        apigw.delete_stage(restApiId=api, stageName="prod")
        apigw.delete_vpc_link(vpcLinkId=link)
        other = apigw.create_vpc_link(name=unique("link"), targetArns=[self.nlb()])["id"]
        api = self.api_over(apigw, other)
        apigw.create_deployment(restApiId=api, stageName="prod")
        self.assertClientError("BadRequestException", apigw.delete_vpc_link, vpcLinkId=other)
        apigw.delete_rest_api(restApiId=api)
        apigw.delete_vpc_link(vpcLinkId=other)
        self.assertEqual(self.stats()["injected"]["order"], 3)

    def test_create_vpc_link_refused_while_nlb_provisioning(self):
        self.configure({"pending_seconds": {"load_balancer": 1.0}})
        apigw, elb = self.client("apigateway"), self.client("elbv2")
        nlb = self.nlb()
        self.assertEqual(elb.describe_load_balancers(LoadBalancerArns=[nlb])["LoadBalancers"][0][
            "State"]["Code"], "provisioning")
        error = self.assertClientError("BadRequestException", apigw.create_vpc_link,
                                       name=unique("link"), targetArns=[nlb])
        self.assertIn(nlb, error.response["Error"]["Message"])
        self.assertIn("provisioning", error.response["Error"]["Message"])
        self.configure({"pending_seconds": {"load_balancer": 1.0}, "aws_orders": False})
        apigw.create_vpc_link(name=unique("link"), targetArns=[nlb])
        self.configure({"pending_seconds": {"load_balancer": 1.0}})
        time.sleep(1.05)
        self.assertEqual(elb.describe_load_balancers(LoadBalancerArns=[nlb])["LoadBalancers"][0][
            "State"]["Code"], "active")
        apigw.create_vpc_link(name=unique("link"), targetArns=[nlb])
        self.assertEqual(self.stats()["injected"]["order"], 1)

    def test_nlb_delete_refused_while_a_link_uses_it_and_link_lingers_deleting(self):
        self.configure({"vpc_link_delete_s": 2.0})
        apigw, elb = self.client("apigateway"), self.client("elbv2")
        nlb = self.nlb()
        link = apigw.create_vpc_link(name=unique("link"), description="d", targetArns=[nlb],
                                     tags={"owner": "t"})["id"]
        error = self.assertClientError("ResourceInUse", elb.delete_load_balancer, LoadBalancerArn=nlb)
        self.assertEqual(error.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        self.assertEqual(error.response["Error"]["Message"],
                         f"Load balancer '{nlb}' cannot be deleted because it is currently "
                         "associated with another service")
        apigw.delete_vpc_link(vpcLinkId=link)
        got = apigw.get_vpc_link(vpcLinkId=link)  # moto has forgotten it: synthesised
        self.assertEqual({k: got[k] for k in ("id", "description", "targetArns", "tags", "status")},
                         {"id": link, "description": "d", "targetArns": [nlb], "tags": {"owner": "t"},
                          "status": "DELETING"})
        self.assertEqual([i["status"] for i in apigw.get_vpc_links()["items"] if i["id"] == link],
                         ["DELETING"])
        self.assertClientError("ResourceInUse", elb.delete_load_balancer, LoadBalancerArn=nlb)
        time.sleep(2.05)
        self.assertClientError("NotFoundException", apigw.get_vpc_link, vpcLinkId=link)
        self.assertNotIn(link, [i["id"] for i in apigw.get_vpc_links()["items"]])
        elb.delete_load_balancer(LoadBalancerArn=nlb)

        # A link the proxy never saw (made straight in moto) is found by asking moto.
        nlb = self.nlb()
        direct = boto3.client("apigateway", endpoint_url=f"http://127.0.0.1:{Servers.moto_port}",
                              region_name="us-east-1", aws_access_key_id="test",
                              aws_secret_access_key="test", config=NO_RETRIES)
        other = direct.create_vpc_link(name=unique("link"), targetArns=[nlb])["id"]
        self.assertClientError("ResourceInUse", elb.delete_load_balancer, LoadBalancerArn=nlb)
        direct.delete_vpc_link(vpcLinkId=other)
        self.configure({"aws_orders": False, "vpc_link_delete_s": 1.0})
        elb.delete_load_balancer(LoadBalancerArn=nlb)
        self.assertEqual(self.stats()["injected"]["order"], 3)

    def test_throttled_rest_call_shape_and_token_buckets(self):
        apigw = self.client("apigateway")
        api = self.api_over(apigw, None)
        root = apigw.get_resources(restApiId=api)["items"][0]["id"]
        self.configure({"throttle_fraction": 1.0})
        # Raw: 429, x-amzn-ErrorType, {"message": "Too Many Requests"}.
        auth = ("AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/apigateway/aws4_request, "
                "SignedHeaders=host, Signature=0")
        req = urllib.request.Request(self.endpoint + "/restapis", headers={"Authorization": auth})
        with self.assertRaises(urllib.error.HTTPError) as ctx:
            urllib.request.urlopen(req, timeout=10)
        self.assertEqual(ctx.exception.code, 429)
        self.assertEqual(ctx.exception.headers["x-amzn-ErrorType"], "TooManyRequestsException")
        self.assertEqual(ctx.exception.headers["Content-Type"], "application/json")
        self.assertEqual(json.loads(ctx.exception.read()), {"message": "Too Many Requests"})
        error = self.assertClientError("TooManyRequestsException", apigw.create_vpc_link,
                                       name="x", targetArns=["arn:aws:elasticloadbalancing:x"])
        self.assertEqual(error.response["Error"]["Message"], "Too Many Requests")

        # The documented buckets: CreateDeployment 1 per 5 s, CreateResource 5/s.
        self.configure({"token_buckets": {"enabled": True}})
        apigw.create_deployment(restApiId=api, stageName="prod")
        error = self.assertClientError("TooManyRequestsException", apigw.create_deployment,
                                       restApiId=api, stageName="prod")
        self.assertEqual(error.response["ResponseMetadata"]["HTTPStatusCode"], 429)
        for i in range(5):
            apigw.create_resource(restApiId=api, parentId=root, pathPart=f"p{i}")
        self.assertClientError("TooManyRequestsException", apigw.create_resource,
                               restApiId=api, parentId=root, pathPart="p5")
        apigw.get_rest_api(restApiId=api)  # only the account bucket: not empty
        # The account-wide bucket (burst 40, 10/s) throttles every call once empty.
        self.configure({"token_buckets": {"enabled": True, "overrides": {"apigateway:account": [3, 0.01]}}})
        for _ in range(3):
            apigw.get_rest_api(restApiId=api)
        self.assertClientError("TooManyRequestsException", apigw.get_vpc_links)
        self.assertClientError("TooManyRequestsException", apigw.get_rest_api, restApiId=api)


class TimingProfileTests(ProxyTestCase):
    def test_the_profile_divides_aws_durations_and_explicit_keys_win(self):
        cfg = self.configure({"timing_profile": {"scale": 30}, "pending_seconds": {"db_instance": 1}})
        self.assertEqual(cfg["pending_seconds"]["nat_gateway"], 3.0)
        self.assertEqual(cfg["pending_seconds"]["load_balancer"], 5.0)
        self.assertEqual(cfg["pending_seconds"]["namespace_operation"], 2.0)
        self.assertEqual(cfg["pending_seconds"]["db_instance"], 1)
        self.assertEqual(cfg["vpc_link_pending_s"], 20.0)
        self.assertEqual(cfg["linger_seconds"], 4.0)
        with self.assertRaises(urllib.error.HTTPError):
            self.configure({"timing_profile": {"scale": 0}})


class PagingTests(ProxyTestCase):
    def test_ecs_list_services_comes_ten_at_a_time_and_the_paginator_gets_them_all(self):
        self.configure({"paging": True})
        ecs = self.client("ecs")
        cluster = unique("paged")
        ecs.create_cluster(clusterName=cluster)
        ecs.register_task_definition(family=unique("td"), containerDefinitions=[
            {"name": "c", "image": "x", "memory": 512}])
        family = ecs.list_task_definitions()["taskDefinitionArns"][-1]
        for i in range(23):
            ecs.create_service(cluster=cluster, serviceName=f"s{i}", taskDefinition=family,
                               desiredCount=0)
        first = ecs.list_services(cluster=cluster)
        self.assertEqual(len(first["serviceArns"]), 10)
        self.assertTrue(first["nextToken"].startswith("fpx-page-"))
        asked = ecs.list_services(cluster=cluster, maxResults=100)
        self.assertEqual(len(asked["serviceArns"]), 23)
        self.assertNotIn("nextToken", asked)
        before = self.stats()["requests"]
        every = [arn for page in ecs.get_paginator("list_services").paginate(cluster=cluster)
                 for arn in page["serviceArns"]]
        self.assertEqual(sorted(every), sorted(asked["serviceArns"]))
        self.assertEqual(self.stats()["requests"] - before, 3, "10 + 10 + 3")

    def test_ec2_describes_page_at_max_results_and_elbv2_at_page_size(self):
        self.configure({"paging": True})
        ec2, elb = self.client("ec2"), self.client("elbv2")
        vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
        tag = unique("paged")
        for i in range(12):
            ec2.create_security_group(GroupName=f"{tag}-{i}", Description="d", VpcId=vpc,
                                      TagSpecifications=[{"ResourceType": "security-group",
                                                          "Tags": [{"Key": "t", "Value": tag}]}])
        mine = [{"Name": "tag:t", "Values": [tag]}]
        # Without MaxResults EC2 answers everything; with it, pages of that size.
        whole = ec2.describe_security_groups(Filters=mine)
        self.assertEqual(len(whole["SecurityGroups"]), 12)
        self.assertNotIn("NextToken", whole)
        first = ec2.describe_security_groups(Filters=mine, MaxResults=5)
        self.assertEqual(len(first["SecurityGroups"]), 5)
        self.assertTrue(first["NextToken"].startswith("fpx-page-"))
        before = self.stats()["requests"]
        every = [g["GroupId"] for page in ec2.get_paginator("describe_security_groups").paginate(
            Filters=mine, PaginationConfig={"PageSize": 5}) for g in page["SecurityGroups"]]
        self.assertEqual(sorted(every), sorted(g["GroupId"] for g in whole["SecurityGroups"]))
        self.assertEqual(self.stats()["requests"] - before, 3, "5 + 5 + 2")
        # page_max: fewer than asked, and a token, as AWS may answer.
        self.configure({"paging": True, "page_max": 2})
        capped = ec2.describe_security_groups(Filters=mine, MaxResults=1000)
        self.assertEqual((len(capped["SecurityGroups"]), "NextToken" in capped), (2, True))
        # ELBv2: PageSize, Marker / NextMarker.
        self.configure({"paging": True})
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
        arns = [elb.create_target_group(Name=f"{tag[:20]}-{i}", Protocol="HTTP", Port=80, VpcId=vpc,
                                        TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
                for i in range(3)]
        del subnet
        page = elb.describe_target_groups(PageSize=2)
        self.assertEqual(len(page["TargetGroups"]), 2)
        rest = elb.describe_target_groups(PageSize=2, Marker=page["NextMarker"])
        self.assertNotIn("NextMarker", rest)
        got = [g["TargetGroupArn"] for g in page["TargetGroups"] + rest["TargetGroups"]]
        self.assertTrue(set(arns) <= set(got), got)
        self.assertEqual(len(got), len(set(got)))

    def test_rest_lists_come_25_at_a_time(self):
        self.configure({"paging": True})
        apigw = self.client("apigateway")
        api = apigw.create_rest_api(name=unique("paged"))["id"]
        root = apigw.get_resources(restApiId=api, limit=500)["items"][0]["id"]
        for i in range(30):
            apigw.create_resource(restApiId=api, parentId=root, pathPart=f"r{i}")
        first = apigw.get_resources(restApiId=api)
        self.assertEqual(len(first["items"]), 25)
        rest = apigw.get_resources(restApiId=api, position=first["position"])
        self.assertEqual(len(rest["items"]), 6)
        self.assertNotIn("position", rest)


class StatsTests(ProxyTestCase):
    def test_sequential_and_parallel_round_trips(self):
        ec2 = self.client("ec2")
        clients = [self.client("ec2") for _ in range(3)]
        for client in [ec2] + clients:
            client.describe_vpcs()  # warm up connections and moto's backend
        self.configure({"latency_ms": 300})
        self.control("POST", "/_proxy/reset-stats")
        for _ in range(3):
            ec2.describe_vpcs()
        stats = self.stats()
        self.assertEqual(stats["requests"], 3)
        self.assertEqual(stats["by_action"], {"ec2:DescribeVpcs": 3})
        self.assertEqual(stats["sequential_round_trips"], 3)
        self.assertEqual(stats["max_in_flight"], 1)

        self.control("POST", "/_proxy/reset-stats")
        barrier = threading.Barrier(3)

        def call(client):
            barrier.wait()
            client.describe_vpcs()

        threads = [threading.Thread(target=call, args=(c,)) for c in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stats = self.stats()
        self.assertEqual(stats["requests"], 3)
        self.assertEqual(stats["sequential_round_trips"], 1)
        self.assertEqual(stats["max_in_flight"], 3)

    def test_control_and_moto_api_not_counted_and_log_written(self):
        self.control("GET", "/_proxy/config")
        self.control("POST", "/moto-api/reset")
        self.client("ecs").list_clusters()
        self.assertEqual(self.stats()["by_action"], {"ecs:ListClusters": 1})
        with open(self.log_path, encoding="utf-8") as fh:
            last = json.loads(fh.readlines()[-1])
        self.assertEqual((last["service"], last["action"], last["status"], last["injected"]),
                         ("ecs", "ListClusters", 200, None))
        self.assertLessEqual(last["t_start"], last["t_end"])

    def test_bad_config_rejected(self):
        for bad in ({"throttle_fractoin": 1}, {"pending_seconds": {"nat_gatway": 1}},
                    {"token_buckets": {"enabled": True, "overrides": {"ec2:describes": [1, 1]}}}):
            with self.assertRaises(urllib.error.HTTPError) as ctx:
                self.configure(bad)
            self.assertEqual(ctx.exception.code, 400)


if __name__ == "__main__":
    unittest.main()
