#!/usr/bin/env python3
"""Tests for tools/contract.py (the AWS API contract validator) and its use in
tools/faultproxy.py (config keys ``contract`` and ``aws_orders``, ``--report``).

    python3 tools/test_contract.py [-v]

Part 1 needs no server: raw requests of each protocol that real AWS refuses
(one or more per rule), requests boto3 really sends (captured on the wire, no
network), Smithy/Rust-style serialisations, and the validation cost.  Part 2
starts moto's server and the proxy on free loopback ports.
"""

import gzip
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter

import boto3
import botocore.serialize
import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError

HERE = os.path.dirname(os.path.abspath(__file__))
PROXY = os.path.join(HERE, "faultproxy.py")
CONTRACT = os.path.join(HERE, "contract.py")
sys.path.insert(0, HERE)
import contract  # noqa: E402
import faultproxy  # noqa: E402

ENV = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
           AWS_DEFAULT_REGION="us-east-1", MOTO_IAM_LOAD_MANAGED_POLICIES="true")
ENV.pop("ECSFORM_CONTRACT_REPORT_DIR", None)
NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"},
                    connect_timeout=5, read_timeout=30)

# Filled in by the tests, printed at the end.
REJECTED_BY_RULE: Counter = Counter()
BOTO3_PASSED: set = set()

TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api/0123456789abcdef"
LB = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/0123456789abcdef"
LISTENER = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/0123456789abcdef/fedcba9876543210"
ROLE_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
LOCK_VALUE = "root@host pid 12 (ecsform apply)"


# ------------------------------------------------------------------------------
# Raw requests
# ------------------------------------------------------------------------------


def auth(service: str) -> tuple[str, str]:
    return ("Authorization", f"AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/{service}/aws4_request, "
                             "SignedHeaders=host;x-amz-date, Signature=0")


def query_request(service: str, action: str, version: str, params) -> tuple:
    """A query/ec2-protocol POST, as the Rust SDK sends it (Action, Version first)."""
    pairs = [("Action", action), ("Version", version)] + list(params.items() if isinstance(params, dict) else params)
    body = "&".join(f"{urllib.parse.quote(k, safe='.')}={urllib.parse.quote(str(v), safe='')}" for k, v in pairs)
    headers = [auth(service), ("Content-Type", "application/x-www-form-urlencoded")]
    return service, "POST", "/", headers, body.encode()


def ec2(action: str, params) -> tuple:
    return query_request("ec2", action, "2016-11-15", params)


def elb(action: str, params) -> tuple:
    return query_request("elasticloadbalancing", action, "2015-12-01", params)


def iam(action: str, params) -> tuple:
    return query_request("iam", action, "2010-05-08", params)


JSON_PREFIX = {"ecs": "AmazonEC2ContainerServiceV20141113", "logs": "Logs_20140328",
               "servicediscovery": "Route53AutoNaming_v20170314",
               "application-autoscaling": "AnyScaleFrontendService",
               "monitoring": "GraniteServiceVersion20100801"}


def json_request(service: str, operation: str, doc, raw: bytes | None = None) -> tuple:
    headers = [auth(service), ("Content-Type", "application/x-amz-json-1.1"),
               ("X-Amz-Target", f"{JSON_PREFIX[service]}.{operation}")]
    return service, "POST", "/", headers, raw if raw is not None else json.dumps(doc).encode()


def rest_request(method: str, path: str, doc=None) -> tuple:
    headers = [auth("apigateway"), ("Content-Type", "application/json")]
    return "apigateway", method, path, headers, json.dumps(doc).encode() if doc is not None else b""


def check(raw: tuple) -> "contract.Result":
    result = contract.check_request(*raw)
    assert result is not None, f"not checked: {raw[:3]}"
    return result


def tags(prefix: str, n: int, key="Key", value="Value") -> dict:
    out = {}
    for i in range(1, n + 1):
        out[f"{prefix}.{i}.{key}"] = f"k{i}"
        out[f"{prefix}.{i}.{value}"] = f"v{i}"
    return out


# (case name, raw request, expected rule, expected member path or None)
REJECTED = [
    # -- model rules ------------------------------------------------------------
    ("logs lock tag (the ecsform bug)", json_request("logs", "CreateLogGroup", {
        "logGroupName": "/ecsform/demo/lock", "tags": {"ecsform:lock-holder": LOCK_VALUE}}),
     "pattern", "tags.ecsform:lock-holder"),
    ("iam role name with a space", iam("CreateRole", {"RoleName": "demo task", "AssumeRolePolicyDocument": ROLE_TRUST}),
     "pattern", "RoleName"),
    ("ec2 subnet without VpcId", ec2("CreateSubnet", {"CidrBlock": "10.0.1.0/24"}), "required", "VpcId"),
    ("ecs service without serviceName", json_request("ecs", "CreateService", {"cluster": "demo"}),
     "required", "serviceName"),
    ("apigateway rest api without name", rest_request("POST", "/restapis", {"description": "d"}),
     "required", "name"),
    ("ec2 TagSpecification.N.Tags.N (EC2 ignores it)", ec2("CreateVpc", {
        "CidrBlock": "10.0.0.0/16", "TagSpecification.1.ResourceType": "vpc",
        "TagSpecification.1.Tags.1.Key": "Name", "TagSpecification.1.Tags.1.Value": "x"}),
     "unknown", "TagSpecifications[0].Tags"),
    ("iam misspelt parameter", iam("CreateRole", {"RoleName": "r", "AssumeRolePolicyDocument": ROLE_TRUST,
                                                  "MaxSessionDurationSeconds": "3600"}),
     "unknown", "MaxSessionDurationSeconds"),
    ("elbv2 list without .member", elb("CreateLoadBalancer", {"Name": "web", "Subnets.1": "subnet-1"}),
     "unknown", "Subnets.1"),
    ("ecs misspelt member", json_request("ecs", "CreateCluster", {"clusterNmae": "demo"}), "unknown", "clusterNmae"),
    ("apigateway unknown body member", rest_request("PUT", "/restapis/abc/resources/r1/methods/GET", {
        "authorizationType": "NONE", "apiKeyRequire": True}), "unknown", "apiKeyRequire"),
    ("apigateway unknown operation", rest_request("POST", "/restapis/abc/nothing", {}), "unknown", None),
    ("apigateway v2 vpc link without subnets", rest_request("POST", "/v2/vpclinks", {"name": "l"}),
     "required", "SubnetIds"),
    ("json unknown operation", json_request("ecs", "CreateClusterz", {}), "unknown", "X-Amz-Target"),
    ("elbv2 port not a number", elb("CreateTargetGroup", {"Name": "api", "Protocol": "HTTP", "Port": "eighty",
                                                          "VpcId": "vpc-1"}), "type", "Port"),
    ("ec2 boolean spelt yes", ec2("CreateSubnet", {"VpcId": "vpc-1", "CidrBlock": "10.0.1.0/24", "DryRun": "yes"}),
     "type", "DryRun"),
    ("ecs desiredCount as a string", json_request("ecs", "CreateService", {"serviceName": "api", "desiredCount": "2"}),
     "type", "desiredCount"),
    ("ecs tags as an object", json_request("ecs", "CreateCluster", {"clusterName": "c", "tags": {"a": "b"}}),
     "type", "tags"),
    ("apigateway limit not an integer", rest_request("GET", "/restapis/abc/resources?limit=many"), "type", "limit"),
    ("iam role name of 65 characters", iam("CreateRole", {"RoleName": "r" * 65, "AssumeRolePolicyDocument": ROLE_TRUST}),
     "length", "RoleName"),
    ("logs group name of 513 characters", json_request("logs", "CreateLogGroup", {"logGroupName": "g" * 513}),
     "length", "logGroupName"),
    ("elbv2 port 70000", elb("CreateTargetGroup", {"Name": "api", "Protocol": "HTTP", "Port": "70000", "VpcId": "vpc-1"}),
     "range", "Port"),
    ("iam session of 1 minute", iam("CreateRole", {"RoleName": "r", "AssumeRolePolicyDocument": ROLE_TRUST,
                                                   "MaxSessionDuration": "60"}), "range", "MaxSessionDuration"),
    ("autoscaling capacity beyond int32", json_request("application-autoscaling", "RegisterScalableTarget", {
        "ServiceNamespace": "ecs", "ResourceId": "service/c/s", "ScalableDimension": "ecs:service:DesiredCount",
        "MaxCapacity": 2 ** 31}), "range", "MaxCapacity"),
    ("ecs launchType SPOT", json_request("ecs", "CreateService", {"serviceName": "api", "launchType": "SPOT"}),
     "enum", "launchType"),
    ("ec2 tenancy shared", ec2("CreateVpc", {"CidrBlock": "10.0.0.0/16", "InstanceTenancy": "shared"}),
     "enum", "InstanceTenancy"),
    ("elbv2 protocol http (lower case)", elb("CreateTargetGroup", {"Name": "api", "Protocol": "http", "Port": "80",
                                                                    "VpcId": "vpc-1"}), "enum", "Protocol"),
    ("elbv2 empty Tags= (min 1)", elb("CreateTargetGroup", {"Name": "api", "Protocol": "HTTP", "Port": "80",
                                                            "VpcId": "vpc-1", "Tags": ""}), "size", "Tags"),
    ("ecs 51 tags", json_request("ecs", "CreateCluster", {"clusterName": "c", "tags": [
        {"key": f"k{i}", "value": "v"} for i in range(51)]}), "size", "tags"),
    ("iam 51 tags", iam("CreateRole", dict({"RoleName": "r", "AssumeRolePolicyDocument": ROLE_TRUST},
                                           **tags("Tags.member", 51))), "size", "Tags"),
    # -- extra rules -------------------------------------------------------------
    ("security group name of 256 characters", ec2("CreateSecurityGroup", {
        "GroupName": "g" * 256, "GroupDescription": "d", "VpcId": "vpc-1"}), "ec2-sg-length", "GroupName"),
    ("security group description with non-ASCII", ec2("CreateSecurityGroup", {
        "GroupName": "web", "GroupDescription": "Web – ecsform", "VpcId": "vpc-1"}), "ec2-sg-chars", "Description"),
    ("security group description with a quote", ec2("CreateSecurityGroup", {
        "GroupName": "web", "GroupDescription": "the \"web\" tier", "VpcId": "vpc-1"}), "ec2-sg-chars", "Description"),
    ("security group named sg-web", ec2("CreateSecurityGroup", {
        "GroupName": "sg-web", "GroupDescription": "d", "VpcId": "vpc-1"}), "ec2-sg-name-prefix", "GroupName"),
    ("security group rule description with a quote", ec2("AuthorizeSecurityGroupIngress", {
        "GroupId": "sg-1", "IpPermissions.1.IpProtocol": "tcp", "IpPermissions.1.FromPort": "80",
        "IpPermissions.1.ToPort": "80", "IpPermissions.1.Groups.1.GroupId": "sg-2",
        "IpPermissions.1.Groups.1.Description": "the \"alb\" to api"}),
     "ec2-sg-rule-description", "IpPermissions[0].UserIdGroupPairs[0].Description"),
    ("ec2 tag key of 129 characters", ec2("CreateVpc", {
        "CidrBlock": "10.0.0.0/16", "TagSpecification.1.ResourceType": "vpc",
        "TagSpecification.1.Tag.1.Key": "k" * 129, "TagSpecification.1.Tag.1.Value": "v"}),
     "ec2-tag-key-length", "TagSpecifications[0].Tags[0].Key"),
    ("ec2 empty tag key", ec2("CreateTags", {"ResourceId.1": "vpc-1", "Tag.1.Key": "", "Tag.1.Value": "v"}),
     "ec2-tag-key-length", "Tags[0].Key"),
    ("ec2 tag value of 257 characters", ec2("CreateTags", {"ResourceId.1": "vpc-1", "Tag.1.Key": "k",
                                                           "Tag.1.Value": "v" * 257}),
     "ec2-tag-value-length", "Tags[0].Value"),
    ("ec2 tag key aws:", ec2("CreateSubnet", {
        "VpcId": "vpc-1", "CidrBlock": "10.0.1.0/24", "TagSpecification.1.ResourceType": "subnet",
        "TagSpecification.1.Tag.1.Key": "Name", "TagSpecification.1.Tag.1.Value": "a",
        "TagSpecification.1.Tag.2.Key": "owner", "TagSpecification.1.Tag.2.Value": "b",
        "TagSpecification.1.Tag.3.Key": "AWS:cloudformation", "TagSpecification.1.Tag.3.Value": "c"}),
     "ec2-tag-key-prefix", "TagSpecifications[0].Tags[2].Key"),
    ("ec2 51 tags", ec2("CreateTags", dict({"ResourceId.1": "vpc-1"}, **tags("Tag", 51))), "ec2-tag-count", "Tags"),
    ("ec2 duplicate tag key", ec2("CreateTags", {"ResourceId.1": "vpc-1", "Tag.1.Key": "a", "Tag.1.Value": "1",
                                                 "Tag.2.Key": "a", "Tag.2.Value": "2"}),
     "ec2-tag-duplicate", "Tags[1].Key"),
    ("ec2 lock tag value with parentheses", ec2("CreateSecurityGroup", {
        "GroupName": "web", "GroupDescription": "d", "VpcId": "vpc-1", "TagSpecification.1.ResourceType":
        "security-group", "TagSpecification.1.Tag.1.Key": "ecsform:lock-holder",
        "TagSpecification.1.Tag.1.Value": LOCK_VALUE}), "ec2-tag-chars", "TagSpecifications[0].Tags[0].Value"),
    ("target group name of 33 characters", elb("CreateTargetGroup", {"Name": "t" * 33, "Protocol": "HTTP",
                                                                     "Port": "80", "VpcId": "vpc-1"}),
     "elbv2-name-length", "Name"),
    ("load balancer name with an underscore", elb("CreateLoadBalancer", {"Name": "demo_web",
                                                                         "Subnets.member.1": "subnet-1"}),
     "elbv2-name-chars", "Name"),
    ("target group name ending in a hyphen", elb("CreateTargetGroup", {"Name": "api-", "Protocol": "HTTP",
                                                                       "Port": "80", "VpcId": "vpc-1"}),
     "elbv2-name-chars", "Name"),
    ("load balancer named internal-web", elb("CreateLoadBalancer", {"Name": "internal-web",
                                                                    "Subnets.member.1": "subnet-1"}),
     "elbv2-lb-name-internal", "Name"),
    ("path pattern with a space", elb("CreateRule", {
        "ListenerArn": LISTENER, "Priority": "1", "Conditions.member.1.Field": "path-pattern",
        "Conditions.member.1.PathPatternConfig.Values.member.1": "/my api/*",
        "Actions.member.1.Type": "forward", "Actions.member.1.TargetGroupArn": TG}),
     "elbv2-path-pattern", "Conditions[0].PathPatternConfig.Values[0]"),
    ("path pattern of 129 characters (legacy Values)", elb("CreateRule", {
        "ListenerArn": LISTENER, "Priority": "1", "Conditions.member.1.Field": "path-pattern",
        "Conditions.member.1.Values.member.1": "/" + "a" * 128,
        "Actions.member.1.Type": "forward", "Actions.member.1.TargetGroupArn": TG}),
     "elbv2-path-pattern", "Conditions[0].Values[0]"),
    ("host header with an underscore", elb("CreateRule", {
        "ListenerArn": LISTENER, "Priority": "1", "Conditions.member.1.Field": "host-header",
        "Conditions.member.1.HostHeaderConfig.Values.member.1": "api_1.example.com",
        "Actions.member.1.Type": "forward", "Actions.member.1.TargetGroupArn": TG}),
     "elbv2-host-header", "Conditions[0].HostHeaderConfig.Values[0]"),
    ("http method in lower case", elb("CreateRule", {
        "ListenerArn": LISTENER, "Priority": "1", "Conditions.member.1.Field": "http-request-method",
        "Conditions.member.1.HttpRequestMethodConfig.Values.member.1": "get",
        "Actions.member.1.Type": "forward", "Actions.member.1.TargetGroupArn": TG}),
     "elbv2-http-method", "Conditions[0].HttpRequestMethodConfig.Values[0]"),
    ("six condition values in one rule", elb("CreateRule", {
        "ListenerArn": LISTENER, "Priority": "1",
        "Conditions.member.1.Field": "path-pattern",
        **{f"Conditions.member.1.PathPatternConfig.Values.member.{i}": f"/p{i}" for i in (1, 2, 3)},
        "Conditions.member.2.Field": "http-request-method",
        **{f"Conditions.member.2.HttpRequestMethodConfig.Values.member.{i}": m
           for i, m in ((1, "GET"), (2, "POST"), (3, "PUT"))},
        "Actions.member.1.Type": "forward", "Actions.member.1.TargetGroupArn": TG}),
     "elbv2-condition-values", "Conditions"),
    ("four path patterns in one condition", elb("ModifyRule", {
        "RuleArn": LISTENER.replace(":listener/", ":listener-rule/") + "/0011223344556677",
        "Conditions.member.1.Field": "path-pattern",
        **{f"Conditions.member.1.PathPatternConfig.Values.member.{i}": f"/p{i}" for i in (1, 2, 3, 4)}}),
     "elbv2-condition-values", "Conditions[0]"),
    ("ecs cluster name with a dot", json_request("ecs", "CreateCluster", {"clusterName": "demo.prod"}),
     "ecs-name", "clusterName"),
    ("ecs container name with a slash", json_request("ecs", "RegisterTaskDefinition", {
        "family": "api", "containerDefinitions": [{"name": "api/main", "image": "nginx"}]}),
     "ecs-name", "containerDefinitions[0].name"),
    ("ecs service name of 256 characters", json_request("ecs", "CreateService", {"serviceName": "s" * 256}),
     "ecs-name", "serviceName"),
    ("fargate 256 cpu with 4096 memory", json_request("ecs", "RegisterTaskDefinition", {
        "family": "api", "requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc", "cpu": "256",
        "memory": "4096", "containerDefinitions": [{"name": "api", "image": "nginx"}]}),
     "ecs-fargate-cpu-memory", "memory"),
    ("fargate 1 vCPU with 1 GB", json_request("ecs", "RegisterTaskDefinition", {
        "family": "api", "requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc", "cpu": "1 vCPU",
        "memory": "1 GB", "containerDefinitions": [{"name": "api", "image": "nginx"}]}),
     "ecs-fargate-cpu-memory", "memory"),
    ("fargate cpu 300", json_request("ecs", "RegisterTaskDefinition", {
        "family": "api", "requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc", "cpu": "300",
        "memory": "512", "containerDefinitions": [{"name": "api", "image": "nginx"}]}),
     "ecs-fargate-cpu-memory", "cpu"),
    ("fargate without task memory", json_request("ecs", "RegisterTaskDefinition", {
        "family": "api", "requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc", "cpu": "256",
        "containerDefinitions": [{"name": "api", "image": "nginx", "memory": 512}]}),
     "ecs-fargate-cpu-memory", "memory"),
]

# Smithy-rs (Rust SDK) style serialisations that real AWS accepts.
ACCEPTED = [
    ("query: Action and Version, empty list as Name=", elb("DescribeLoadBalancers", {"LoadBalancerArns": ""})),
    ("ec2: empty list as Name=, booleans true/false", ec2("DescribeSubnets", {"SubnetId": "", "DryRun": "false"})),
    ("ec2: nested flattened lists", ec2("AuthorizeSecurityGroupIngress", {
        "GroupId": "sg-1", "IpPermissions.1.IpProtocol": "tcp", "IpPermissions.1.FromPort": "443",
        "IpPermissions.1.ToPort": "443", "IpPermissions.1.Groups.1.GroupId": "sg-2",
        "IpPermissions.1.Groups.1.Description": "from the load balancer",
        "IpPermissions.1.IpRanges.1.CidrIp": "10.0.0.0/16"})),
    ("ec2: parameters in the query string of a GET",
     ("ec2", "GET", "/?Action=DescribeVpcs&Version=2016-11-15&VpcId.1=vpc-1&Filter.1.Name=tag%3AName"
                    "&Filter.1.Value.1=demo", [auth("ec2")], b"")),
    ("ec2: absent empty required-less list, ISO8601 timestamp with fraction", ec2("DescribeSpotPriceHistory", {
        "StartTime": "2026-01-02T03:04:05.123Z", "EndTime": "2026-01-02T04:04:05Z"})),
    ("query: map entries (.entry.N.key/.value)", iam("TagRole", dict({"RoleName": "r"}, **tags("Tags.member", 2)))),
    ("query: ISO8601 timestamps, double", query_request("monitoring", "GetMetricStatistics", "2010-08-01", {
        "Namespace": "AWS/ECS", "MetricName": "CPUUtilization", "StartTime": "2026-01-01T00:00:00.000Z",
        "EndTime": "2026-01-01T01:00:00Z", "Period": "60", "Statistics.member.1": "Average"})),
    ("query: NaN and Infinity doubles", query_request("monitoring", "PutMetricData", "2010-08-01", {
        "Namespace": "Demo", "MetricData.member.1.MetricName": "m", "MetricData.member.1.Value": "Infinity",
        "MetricData.member.2.MetricName": "n", "MetricData.member.2.Value": "NaN"})),
    ("json: epoch-seconds float timestamps", json_request("monitoring", "GetMetricStatistics", {
        "Namespace": "AWS/ECS", "MetricName": "CPUUtilization", "StartTime": 1767225600.5,
        "EndTime": 1767229200, "Period": 60, "Statistics": ["Average"]})),
    ("json: integral double, nested structures", json_request("application-autoscaling", "PutScalingPolicy", {
        "PolicyName": "cpu", "ServiceNamespace": "ecs", "ResourceId": "service/demo/api",
        "ScalableDimension": "ecs:service:DesiredCount", "PolicyType": "TargetTrackingScaling",
        "TargetTrackingScalingPolicyConfiguration": {"TargetValue": 60, "PredefinedMetricSpecification": {
            "PredefinedMetricType": "ECSServiceAverageCPUUtilization"}}})),
    ("json: null members are absent, empty lists", json_request("ecs", "CreateService", {
        "serviceName": "api", "cluster": None, "loadBalancers": [], "desiredCount": 0})),
    ("json: empty body", json_request("ecs", "ListClusters", None, raw=b"")),
    ("json: gzip-encoded body", (lambda r: (r[0], r[1], r[2], r[3] + [("Content-Encoding", "gzip")],
                                            gzip.compress(r[4])))(
        json_request("logs", "CreateLogGroup", {"logGroupName": "/ecs/demo", "tags": {"a": "b"}}))),
    ("json: fargate 1 vCPU / 2 GB and 0.25 vCPU / 0.5 GB", json_request("ecs", "RegisterTaskDefinition", {
        "family": "api", "requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc", "cpu": "1 vCPU",
        "memory": "2 GB", "containerDefinitions": [{"name": "api", "image": "nginx"}]})),
    ("json: fargate 16384 / 122880", json_request("ecs", "RegisterTaskDefinition", {
        "family": "api", "requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc", "cpu": "16384",
        "memory": "122880", "containerDefinitions": [{"name": "api", "image": "nginx"}]})),
    ("rest-json: label with an escaped character, repeated query list", rest_request(
        "GET", "/restapis/a%2Db/resources?embed=methods&embed=x&position=abc")),
    ("rest-json: trailing slash", rest_request("GET", "/restapis/")),
    ("rest-json: ImportRestApi by its literal query", ("apigateway", "POST", "/restapis?mode=import&failonwarnings=true",
                                                       [auth("apigateway")], b"openapi: 3.0.0")),
]


# ------------------------------------------------------------------------------
# boto3 on the wire (no network: the request is captured before it is sent)
# ------------------------------------------------------------------------------


class Captured(Exception):
    pass


def boto3_request(service: str, operation: str, **params) -> tuple:
    client = boto3.client(service, endpoint_url="http://127.0.0.1:9", region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test", config=NO_RETRIES)
    box = {}

    def capture(request, **_):
        box["request"] = request
        raise Captured()

    client.meta.events.register("before-send", capture)
    try:
        getattr(client, operation)(**params)
    except Captured:
        pass
    request = box["request"]
    split = urllib.parse.urlsplit(request.url)
    target = split.path + (f"?{split.query}" if split.query else "")
    headers = [(k, v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()]
    body = request.body or b""
    if hasattr(body, "read"):
        body = body.read()
    if isinstance(body, str):
        body = body.encode()
    signing = faultproxy.identify_service(dict((k.lower(), v) for k, v in headers).get("authorization", ""), {})
    return signing, request.method, target, headers, body


POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"}]})

BOTO3_CASES = [
    ("ec2", "create_vpc", dict(CidrBlock="10.0.0.0/16", TagSpecifications=[{"ResourceType": "vpc", "Tags": [
        {"Key": "Name", "Value": "demo"}, {"Key": "ecsform:stack", "Value": "demo"}]}])),
    ("ec2", "create_subnet", dict(VpcId="vpc-1", CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1a",
                                  TagSpecifications=[{"ResourceType": "subnet", "Tags": [{"Key": "Name", "Value": "a"}]}])),
    ("ec2", "create_security_group", dict(GroupName="demo-web", Description="web tier (ecsform)", VpcId="vpc-1",
                                          TagSpecifications=[{"ResourceType": "security-group",
                                                              "Tags": [{"Key": "Name", "Value": "web"}]}])),
    ("ec2", "authorize_security_group_ingress", dict(GroupId="sg-1", IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "http"}]},
        {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080,
         "UserIdGroupPairs": [{"GroupId": "sg-2", "Description": "from the load balancer"}]}])),
    ("ec2", "describe_subnets", dict(Filters=[{"Name": "vpc-id", "Values": ["vpc-1"]},
                                              {"Name": "tag:ecsform:stack", "Values": ["demo", "other"]}])),
    ("ec2", "create_nat_gateway", dict(SubnetId="subnet-1", AllocationId="eipalloc-1", TagSpecifications=[
        {"ResourceType": "natgateway", "Tags": [{"Key": "Name", "Value": "nat"}]}])),
    ("ec2", "create_route_table", dict(VpcId="vpc-1", TagSpecifications=[
        {"ResourceType": "route-table", "Tags": [{"Key": "Name", "Value": "private"}]}])),
    ("ec2", "create_route", dict(RouteTableId="rtb-1", DestinationCidrBlock="0.0.0.0/0", NatGatewayId="nat-1")),
    ("ecs", "create_cluster", dict(clusterName="demo", tags=[{"key": "ecsform:stack", "value": "demo"}],
                                   settings=[{"name": "containerInsights", "value": "enabled"}])),
    ("ecs", "register_task_definition", dict(
        family="demo-api", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        executionRoleArn="arn:aws:iam::123456789012:role/demo-exec",
        containerDefinitions=[{"name": "api", "image": "nginx:1.27", "essential": True,
                               "portMappings": [{"containerPort": 80, "protocol": "tcp"}],
                               "environment": [{"name": "PORT", "value": "80"}],
                               "logConfiguration": {"logDriver": "awslogs", "options": {
                                   "awslogs-group": "/ecs/demo", "awslogs-region": "us-east-1",
                                   "awslogs-stream-prefix": "api"}}}])),
    ("ecs", "create_service", dict(
        cluster="demo", serviceName="api", taskDefinition="demo-api:1", desiredCount=2, launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": ["subnet-1", "subnet-2"],
                                                      "securityGroups": ["sg-1"], "assignPublicIp": "DISABLED"}},
        loadBalancers=[{"targetGroupArn": TG, "containerName": "api", "containerPort": 80}],
        serviceRegistries=[{"registryArn": "arn:aws:servicediscovery:us-east-1:123456789012:service/srv-1"}],
        deploymentConfiguration={"maximumPercent": 200, "minimumHealthyPercent": 50,
                                 "deploymentCircuitBreaker": {"enable": True, "rollback": True}},
        healthCheckGracePeriodSeconds=30, tags=[{"key": "a", "value": "b"}])),
    ("servicediscovery", "create_private_dns_namespace", dict(Name="demo.local", Vpc="vpc-1", Description="demo")),
    ("servicediscovery", "create_service", dict(
        Name="api", NamespaceId="ns-1", DnsConfig={"DnsRecords": [{"Type": "A", "TTL": 10}],
                                                   "RoutingPolicy": "MULTIVALUE"},
        HealthCheckCustomConfig={"FailureThreshold": 1})),
    ("elbv2", "create_load_balancer", dict(Name="demo-web", Subnets=["subnet-1", "subnet-2"],
                                           SecurityGroups=["sg-1"], Scheme="internet-facing", Type="application",
                                           Tags=[{"Key": "ecsform:stack", "Value": "demo"}])),
    ("elbv2", "create_target_group", dict(Name="demo-api", Protocol="HTTP", Port=80, VpcId="vpc-1", TargetType="ip",
                                          HealthCheckPath="/health", HealthCheckIntervalSeconds=10,
                                          Matcher={"HttpCode": "200-399"})),
    ("elbv2", "create_listener", dict(LoadBalancerArn=LB, Protocol="HTTP", Port=80,
                                      DefaultActions=[{"Type": "forward", "TargetGroupArn": TG}])),
    ("elbv2", "create_rule", dict(
        ListenerArn=LISTENER, Priority=10,
        Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/*", "/v1/*"]}},
                    {"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": ["GET", "POST"]}}],
        Actions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": TG, "Weight": 1}]}}])),
    ("iam", "create_role", dict(RoleName="demo-task", AssumeRolePolicyDocument=ROLE_TRUST,
                                Tags=[{"Key": "ecsform:stack", "Value": "demo"}])),
    ("iam", "put_role_policy", dict(RoleName="demo-task", PolicyName="logs", PolicyDocument=POLICY)),
    ("iam", "attach_role_policy", dict(
        RoleName="demo-task", PolicyArn="arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy")),
    ("logs", "create_log_group", dict(logGroupName="/ecs/demo", tags={"ecsform:stack": "demo",
                                                                     "ecsform:lock-holder": "root@host pid 12"})),
    ("logs", "put_retention_policy", dict(logGroupName="/ecs/demo", retentionInDays=30)),
    ("apigateway", "create_rest_api", dict(name="demo", endpointConfiguration={"types": ["REGIONAL"]},
                                           tags={"ecsform:stack": "demo"})),
    ("apigateway", "get_resources", dict(restApiId="a1b2c3", embed=["methods"], limit=500)),
    ("apigateway", "create_resource", dict(restApiId="a1b2c3", parentId="root1", pathPart="{proxy+}")),
    ("apigateway", "put_method", dict(restApiId="a1b2c3", resourceId="res1", httpMethod="ANY",
                                      authorizationType="NONE",
                                      requestParameters={"method.request.path.proxy": True})),
    ("apigateway", "put_integration", dict(restApiId="a1b2c3", resourceId="res1", httpMethod="ANY",
                                           type="HTTP_PROXY", integrationHttpMethod="ANY",
                                           uri="http://internal.example.com/{proxy}", connectionType="VPC_LINK",
                                           connectionId="vl1234",
                                           requestParameters={"integration.request.path.proxy":
                                                              "method.request.path.proxy"})),
    ("apigateway", "create_deployment", dict(restApiId="a1b2c3", stageName="prod", description="demo")),
    ("apigateway", "create_stage", dict(restApiId="a1b2c3", stageName="v1", deploymentId="dep1",
                                        variables={"backend": "api"})),
    ("application-autoscaling", "register_scalable_target", dict(
        ServiceNamespace="ecs", ResourceId="service/demo/api", ScalableDimension="ecs:service:DesiredCount",
        MinCapacity=1, MaxCapacity=4)),
    ("application-autoscaling", "put_scaling_policy", dict(
        PolicyName="cpu60", ServiceNamespace="ecs", ResourceId="service/demo/api",
        ScalableDimension="ecs:service:DesiredCount", PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 60.0, "ScaleInCooldown": 60, "ScaleOutCooldown": 60,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}})),
    ("rds", "create_db_subnet_group", dict(DBSubnetGroupName="demo", DBSubnetGroupDescription="demo",
                                           SubnetIds=["subnet-1", "subnet-2"], Tags=[{"Key": "a", "Value": "b"}])),
    ("ecr", "create_repository", dict(repositoryName="demo/api", imageScanningConfiguration={"scanOnPush": True},
                                      tags=[{"Key": "a", "Value": "b"}])),
    # and a few more the suite touches
    ("ec2", "create_internet_gateway", dict()),
    ("ec2", "attach_internet_gateway", dict(InternetGatewayId="igw-1", VpcId="vpc-1")),
    ("ec2", "allocate_address", dict(Domain="vpc")),
    ("ec2", "create_tags", dict(Resources=["vpc-1", "subnet-1"], Tags=[{"Key": "a", "Value": "b"}])),
    ("ec2", "describe_vpcs", dict(VpcIds=["vpc-1"])),
    ("elbv2", "describe_target_groups", dict(TargetGroupArns=[TG])),
    ("elbv2", "add_tags", dict(ResourceArns=[TG], Tags=[{"Key": "a", "Value": "b"}])),
    ("sts", "get_caller_identity", dict()),
    ("logs", "list_tags_for_resource", dict(resourceArn="arn:aws:logs:us-east-1:123456789012:log-group:/ecs/demo")),
    ("acm", "request_certificate", dict(DomainName="demo.example.com", ValidationMethod="DNS")),
    ("cloudwatch", "put_metric_data", dict(Namespace="Demo", MetricData=[
        {"MetricName": "m", "Value": 1.5, "Unit": "Count", "Dimensions": [{"Name": "a", "Value": "b"}]}])),
    ("secretsmanager", "create_secret", dict(Name="demo/db", SecretString="x")),
    ("ssm", "get_parameter", dict(Name="/demo/x", WithDecryption=True)),
]


class ValidatorRejects(unittest.TestCase):
    def test_every_rule_kind_rejects(self):
        for name, raw, rule, path in REJECTED:
            with self.subTest(name):
                result = check(raw)
                rules = [(v.rule, v.path) for v in result.violations]
                self.assertTrue(result.violations, f"{name}: no violation")
                if path is None:
                    self.assertIn(rule, [r for r, _ in rules], rules)
                else:
                    self.assertIn((rule, path), rules)
                REJECTED_BY_RULE[rule] += 1
        kinds = {"required", "unknown", "type", "length", "pattern", "range", "enum", "size"}
        missing = (kinds | set(contract.EXTRA_RULE_NAMES)) - set(REJECTED_BY_RULE)
        self.assertEqual(missing, set(), "rules without a rejecting case")

    def test_lock_tag_violation_shape(self):
        result = check(json_request("logs", "CreateLogGroup", {
            "logGroupName": "/ecsform/lock", "tags": {"ecsform:lock-holder": LOCK_VALUE}}))
        self.assertEqual(len(result.violations), 1)
        v = result.violations[0]
        self.assertEqual((v.service, v.operation, v.path, v.rule, v.value),
                         ("logs", "CreateLogGroup", "tags.ecsform:lock-holder", "pattern", LOCK_VALUE))
        self.assertEqual(v.message, 'contract violation: logs:CreateLogGroup tags.ecsform:lock-holder: pattern '
                                    '^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$ refuses "root@host pid 12 (ecsform apply)"')
        self.assertEqual(set(v.to_dict()), {"service", "operation", "path", "rule", "value", "message"})

    def test_long_values_are_truncated(self):
        result = check(json_request("logs", "CreateLogGroup", {"logGroupName": "g" * 1000}))
        self.assertLessEqual(len(result.violations[0].value), contract.VALUE_LIMIT + 3)

    def test_cbor_request(self):
        """CloudWatch's Smithy RPC v2 CBOR, serialised by botocore."""
        model = botocore.session.get_session().get_service_model("cloudwatch")
        serializer = botocore.serialize.create_serializer("smithy-rpc-v2-cbor", include_validation=False)
        op = model.operation_model("PutMetricData")
        for unit, expect in (("Count", []), ("Pieces", ["enum"])):
            request = serializer.serialize_to_request({"Namespace": "Demo", "MetricData": [
                {"MetricName": "m", "Value": 2.5, "Unit": unit, "Timestamp": 1767225600,
                 "Dimensions": [{"Name": "a", "Value": "b"}]}]}, op)
            headers = [auth("monitoring"), ("smithy-protocol", "rpc-v2-cbor"),
                       ("Content-Type", "application/cbor")]
            result = check(("monitoring", "POST", request["url_path"], headers, request["body"]))
            self.assertEqual(result.key, "cloudwatch:PutMetricData")
            self.assertEqual([v.rule for v in result.violations], expect)

    def test_unknown_service_and_undecodable_bodies_are_not_checked(self):
        self.assertIsNone(contract.check_request("unknown", "POST", "/", [], b"{}"))
        self.assertIsNone(contract.check_request("s3", "PUT", "/bucket/key", [auth("s3")], b"data"))
        garbage = json_request("logs", "CreateLogGroup", {})
        headers = garbage[3] + [("Content-Encoding", "gzip")]
        self.assertIsNone(contract.check_request("logs", "POST", "/", headers, b"not gzip"))
        self.assertEqual([v.rule for v in check(json_request("logs", "CreateLogGroup", None, raw=b"{nope")).violations],
                         ["type"])


class ValidatorAccepts(unittest.TestCase):
    def test_boto3_requests_pass(self):
        for service, operation, params in BOTO3_CASES:
            with self.subTest(f"{service}.{operation}"):
                result = check(boto3_request(service, operation, **params))
                self.assertEqual([v.message for v in result.violations], [])
                BOTO3_PASSED.add(result.key)

    def test_rust_style_serialisations_pass(self):
        for name, raw in ACCEPTED:
            with self.subTest(name):
                result = check(raw)
                self.assertEqual([v.message for v in result.violations], [], name)

    def test_every_operation_decodes(self):
        """Full inputs for every operation of every service, serialised by botocore in
        each protocol the model lists: no unknown/type/required findings (the values are
        arbitrary, so patterns, lengths and enums may complain)."""
        session = botocore.session.get_session()
        signing = {"elbv2": "elasticloadbalancing", "cloudwatch": "monitoring"}
        failures, total = [], 0
        for service in ("ec2", "ecs", "servicediscovery", "elbv2", "iam", "logs", "sts", "acm", "apigateway",
                        "application-autoscaling", "cloudwatch", "rds", "ecr", "secretsmanager", "ssm"):
            model = session.get_service_model(service)
            for protocol in model.metadata.get("protocols") or [model.protocol]:
                serializer = botocore.serialize.create_serializer(protocol, include_validation=False)
                for name in model.operation_names:
                    op = model.operation_model(name)
                    params = generate(op.input_shape) if op.input_shape else {}
                    request = serializer.serialize_to_request(params, op)
                    raw = serialized_to_raw(signing.get(service, service), protocol, request)
                    result = check(raw)
                    total += 1
                    bad = [v.message for v in result.violations if v.rule in ("unknown", "type", "required")]
                    if result.operation != name or bad:
                        failures.append((service, protocol, name, result.operation, bad[:2]))
        print(f"\n  every-operation sweep: {total} operation x protocol requests decoded", file=sys.stderr)
        self.assertEqual(failures, [])
        self.assertGreater(total, 1800)


def generate(shape, depth=0):
    """A full input for shape (every member; past depth 5 only required ones)."""
    kind = shape.type_name
    if kind == "structure":
        if shape.is_document_type:
            return {"a": 1}
        items = list(shape.members.items())
        if shape.metadata.get("union"):
            items = items[:1]
        if depth > 5:
            items = [(n, m) for n, m in items if n in shape.required_members]
        # SourceRegion: a botocore-only (sdk-extras) member, dropped before sending
        return {n: generate(m, depth + 1) for n, m in items if n != "SourceRegion" or n in shape.required_members}
    if kind == "list":
        return [generate(shape.member, depth + 1) for _ in range(2)]
    if kind == "map":
        return {generate(shape.key, depth + 1): generate(shape.value, depth + 1)}
    if kind == "string":
        return shape.enum[0] if shape.enum else "abc"
    return {"integer": 3, "long": 3, "boolean": True, "double": 1.5, "float": 1.5, "timestamp": 1767225600,
            "blob": b"xyz"}.get(kind, "x")


def serialized_to_raw(signing: str, protocol: str, request: dict) -> tuple:
    headers = dict(request.get("headers") or {})
    headers["Authorization"] = auth(signing)[1]
    if protocol == "smithy-rpc-v2-cbor":
        headers["smithy-protocol"] = "rpc-v2-cbor"
    body = request.get("body") or b""
    if isinstance(body, dict):
        body = urllib.parse.urlencode(body).encode()
    if isinstance(body, str):
        body = body.encode()
    target = request.get("url_path") or "/"
    query = request.get("query_string")
    if query:
        target += ("&" if "?" in target else "?") + (urllib.parse.urlencode(query, doseq=True)
                                                     if isinstance(query, dict) else query)
    return signing, request.get("method", "POST"), target, list(headers.items()), body


class ValidatorCost(unittest.TestCase):
    def test_median_cost_per_request(self):
        mix = [boto3_request(s, o, **p) for s, o, p in BOTO3_CASES] + [raw for _, raw, _, _ in REJECTED[:8]]
        for raw in mix:
            contract.check_request(*raw)  # warm the caches
        times = []
        for i in range(2000):
            raw = mix[i % len(mix)]
            start = time.perf_counter()
            contract.check_request(*raw)
            times.append(time.perf_counter() - start)
        median = statistics.median(times) * 1e6
        print(f"\n  validation cost: median {median:.0f} us per request, p95 "
              f"{sorted(times)[int(len(times) * 0.95)] * 1e6:.0f} us (N=2000, {len(mix)} request mix)",
              file=sys.stderr)
        self.assertLess(median, 1000)


# ------------------------------------------------------------------------------
# Through the proxy in front of moto
# ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"port {port} never opened")


def start_proxy(moto_port: int, *args, env=None) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, PROXY, "--upstream", f"http://127.0.0.1:{moto_port}", "--port", "0",
                             *args], env=env or ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stdout.readline().split()
    if not first or first[0] != "LISTENING":
        proc.kill()
        raise RuntimeError(f"proxy did not start: {first} {proc.stderr.read()}")
    return proc, f"http://127.0.0.1:{int(first[1])}"


def stop(proc: subprocess.Popen):
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for stream in (proc.stdout, proc.stderr):
        if stream:
            stream.close()


class Servers:
    moto = proxy = None

    @classmethod
    def start(cls):
        cls.moto_port = free_port()
        cls.moto = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(cls.moto_port)],
                                    env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(cls.moto_port)
        cls.proxy, cls.endpoint = start_proxy(cls.moto_port)

    @classmethod
    def stop(cls):
        for proc in (cls.proxy, cls.moto):
            if proc:
                stop(proc)


_counter = iter(range(1, 1_000_000))


def unique(prefix: str) -> str:
    return f"{prefix}{next(_counter)}"


class ProxyCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if Servers.moto is None:
            Servers.start()

    def setUp(self):
        self.control("POST", "/_proxy/config", {})
        self.control("POST", "/_proxy/reset-stats")

    def control(self, method, path, doc=None, endpoint=None):
        data = json.dumps(doc).encode() if doc is not None else b""
        req = urllib.request.Request((endpoint or Servers.endpoint) + path, data=data, method=method)
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read() or b"{}")

    def client(self, service, endpoint=None):
        return boto3.client(service, endpoint_url=endpoint or Servers.endpoint, region_name="us-east-1",
                            aws_access_key_id="test", aws_secret_access_key="test", config=NO_RETRIES)

    def moto(self, service):
        return self.client(service, f"http://127.0.0.1:{Servers.moto_port}")

    def assertClientError(self, code, fn, *args, **kwargs) -> ClientError:
        with self.assertRaises(ClientError) as ctx:
            fn(*args, **kwargs)
        self.assertEqual(ctx.exception.response["Error"]["Code"], code, ctx.exception.response["Error"])
        return ctx.exception

    def vpc(self, ec2, igw=True):
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24",
                                     AvailabilityZone=f"us-east-1{az}")["Subnet"]["SubnetId"]
                   for i, az in ((1, "a"), (2, "b"))]
        if igw:
            gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
            ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc)
        return vpc, subnets


class ProxyContract(ProxyCase):
    def test_violation_refused_in_each_error_shape_and_not_forwarded(self):
        logs, ec2, elb = self.client("logs"), self.client("ec2"), self.client("elbv2")
        group = unique("/ecsform/lock")
        error = self.assertClientError("ContractViolation", logs.create_log_group, logGroupName=group,
                                       tags={"ecsform:lock-holder": LOCK_VALUE})
        self.assertEqual(error.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        message = error.response["Error"]["Message"]
        self.assertIn("contract violation: logs:CreateLogGroup tags.ecsform:lock-holder: pattern", message)
        # Not forwarded: moto never saw the group.
        self.assertEqual(self.moto("logs").describe_log_groups(logGroupNamePrefix=group)["logGroups"], [])
        error = self.assertClientError("ContractViolation", ec2.create_security_group, GroupName="sg-web",
                                       Description="web")
        self.assertIn("cannot start with sg-", error.response["Error"]["Message"])
        error = self.assertClientError("ContractViolation", elb.create_target_group, Name="x" * 33,
                                       Protocol="HTTP", Port=80, VpcId="vpc-1")
        self.assertIn("1..32 characters", error.response["Error"]["Message"])
        # Two violations in one request, joined by "; ".
        error = self.assertClientError("ContractViolation", logs.create_log_group, logGroupName="bad name!",
                                       tags={"a": "(b)"})
        self.assertEqual(error.response["Error"]["Message"].count("contract violation:"), 2)
        self.assertIn("; contract violation:", error.response["Error"]["Message"])
        logs.create_log_group(logGroupName=group, tags={"ecsform:lock-holder": "root@host pid 12"})
        stats = self.control("GET", "/_proxy/stats")
        self.assertEqual(stats["contract"]["validated"], 5)
        self.assertEqual(stats["contract"]["violation_count"], 5)
        self.assertEqual(len(stats["contract"]["violations"]), 5)
        self.assertEqual(stats["injected"], {"contract": 4})
        self.control("POST", "/_proxy/reset-stats")
        self.assertEqual(self.control("GET", "/_proxy/stats")["contract"],
                         {"validated": 0, "violations": [], "violation_count": 0})
        # contract: false lets it through to moto.
        self.control("POST", "/_proxy/config", {"contract": False})
        logs.create_log_group(logGroupName=unique("/ecsform/lock"), tags={"ecsform:lock-holder": LOCK_VALUE})
        self.assertEqual(self.control("GET", "/_proxy/stats")["contract"]["validated"], 0)

    def test_real_stack_through_the_proxy_has_no_violations(self):
        ec2, elb, ecs, sd, iam_client, logs, apigw = (self.client(s) for s in (
            "ec2", "elbv2", "ecs", "servicediscovery", "iam", "logs", "apigateway"))
        vpc, subnets = self.vpc(ec2)
        sg = ec2.create_security_group(GroupName=unique("demo-web"), Description="web tier (ecsform)", VpcId=vpc,
                                       TagSpecifications=[{"ResourceType": "security-group",
                                                           "Tags": [{"Key": "Name", "Value": "web"}]}])["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
        nat = ec2.create_nat_gateway(SubnetId=subnets[0], AllocationId=eip)["NatGateway"]["NatGatewayId"]
        rtb = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
        ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])
        lb = elb.create_load_balancer(Name=unique("demo-web"), Subnets=subnets, SecurityGroups=[sg])[
            "LoadBalancers"][0]["LoadBalancerArn"]
        tg = elb.create_target_group(Name=unique("demo-api"), Protocol="HTTP", Port=80, VpcId=vpc,
                                     TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
        listener = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[
            {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}])["Listeners"][0]["ListenerArn"]
        elb.create_rule(ListenerArn=listener, Priority=10, Conditions=[
            {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/*"]}},
            {"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": ["GET", "POST"]}}],
            Actions=[{"Type": "forward", "TargetGroupArn": tg}])
        role = unique("demo-task")
        iam_client.create_role(RoleName=role, AssumeRolePolicyDocument=ROLE_TRUST)
        iam_client.put_role_policy(RoleName=role, PolicyName="logs", PolicyDocument=POLICY)
        iam_client.attach_role_policy(RoleName=role, PolicyArn=(
            "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"))
        group = unique("/ecs/demo")
        logs.create_log_group(logGroupName=group, tags={"ecsform:stack": "demo"})
        logs.put_retention_policy(logGroupName=group, retentionInDays=30)
        cluster = unique("demo")
        ecs.create_cluster(clusterName=cluster)
        ecs.register_task_definition(family="demo-api", networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
                                     cpu="256", memory="512",
                                     containerDefinitions=[{"name": "api", "image": "nginx",
                                                            "portMappings": [{"containerPort": 80}]}])
        op = sd.create_private_dns_namespace(Name=unique("demo") + ".local", Vpc=vpc)["OperationId"]
        ns = sd.get_operation(OperationId=op)["Operation"]["Targets"]["NAMESPACE"]
        registry = sd.create_service(Name="api", NamespaceId=ns, DnsConfig={
            "DnsRecords": [{"Type": "A", "TTL": 10}]})["Service"]["Arn"]
        ecs.create_service(cluster=cluster, serviceName="api", taskDefinition="demo-api", desiredCount=1,
                           launchType="FARGATE", loadBalancers=[{"targetGroupArn": tg, "containerName": "api",
                                                                 "containerPort": 80}],
                           serviceRegistries=[{"registryArn": registry}],
                           networkConfiguration={"awsvpcConfiguration": {"subnets": subnets,
                                                                         "securityGroups": [sg]}})
        api = apigw.create_rest_api(name=unique("demo"))["id"]
        root = apigw.get_resources(restApiId=api)["items"][0]["id"]
        resource = apigw.create_resource(restApiId=api, parentId=root, pathPart="{proxy+}")["id"]
        apigw.put_method(restApiId=api, resourceId=resource, httpMethod="ANY", authorizationType="NONE")
        apigw.put_integration(restApiId=api, resourceId=resource, httpMethod="ANY", type="HTTP_PROXY",
                              integrationHttpMethod="ANY", uri="http://example.com/{proxy}")
        deployment = apigw.create_deployment(restApiId=api)["id"]
        apigw.create_stage(restApiId=api, stageName="prod", deploymentId=deployment)
        stats = self.control("GET", "/_proxy/stats")
        self.assertEqual(stats["contract"]["violations"], [])
        self.assertEqual(stats["contract"]["validated"], stats["requests"])
        self.assertGreaterEqual(stats["requests"], 30)
        self.assertEqual(stats["injected"], {})


class ProxyOrders(ProxyCase):
    def test_create_service_needs_an_associated_target_group(self):
        ec2, elb, ecs = self.client("ec2"), self.client("elbv2"), self.client("ecs")
        vpc, subnets = self.vpc(ec2)
        sg = ec2.create_security_group(GroupName=unique("svc"), Description="service", VpcId=vpc)["GroupId"]
        lb = elb.create_load_balancer(Name=unique("web"), Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
        tg1, tg2 = (elb.create_target_group(Name=unique("tg"), Protocol="HTTP", Port=80, VpcId=vpc,
                                            TargetType="ip")["TargetGroups"][0]["TargetGroupArn"] for _ in range(2))
        cluster = unique("c")
        ecs.create_cluster(clusterName=cluster)
        ecs.register_task_definition(family="f", requiresCompatibilities=["FARGATE"], networkMode="awsvpc",
                                     cpu="256", memory="512", containerDefinitions=[{"name": "a", "image": "x"}])

        def create(name, tg):
            return ecs.create_service(cluster=cluster, serviceName=name, taskDefinition="f", desiredCount=0,
                                      launchType="FARGATE",
                                      loadBalancers=[{"targetGroupArn": tg, "containerName": "a", "containerPort": 80}],
                                      # moto fails with a KeyError without securityGroups
                                      networkConfiguration={"awsvpcConfiguration": {"subnets": subnets,
                                                                                    "securityGroups": [sg]}})

        error = self.assertClientError("InvalidParameterException", create, "s1", tg1)
        self.assertEqual(error.response["Error"]["Message"],
                         f"The target group with targetGroupArn {tg1} does not have an associated load balancer.")
        self.assertEqual(self.moto("ecs").list_services(cluster=cluster)["serviceArns"], [])  # not forwarded
        listener = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[
            {"Type": "forward", "TargetGroupArn": tg1}])["Listeners"][0]["ListenerArn"]
        create("s1", tg1)
        # A group reached only through a rule, by ModifyRule (moto's LoadBalancerArns misses it).
        self.assertClientError("InvalidParameterException", create, "s2", tg2)
        rule = elb.create_rule(ListenerArn=listener, Priority=5, Conditions=[
            {"Field": "path-pattern", "Values": ["/x"]}], Actions=[
            {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}])["Rules"][0]["RuleArn"]
        self.assertClientError("InvalidParameterException", create, "s2", tg2)
        elb.modify_rule(RuleArn=rule, Actions=[{"Type": "forward", "ForwardConfig": {
            "TargetGroups": [{"TargetGroupArn": tg2, "Weight": 1}]}}])
        create("s2", tg2)
        self.assertEqual(self.control("GET", "/_proxy/stats")["injected"], {"order": 3})
        # aws_orders: false restores moto's behaviour.
        self.control("POST", "/_proxy/config", {"aws_orders": False})
        tg3 = elb.create_target_group(Name=unique("tg"), Protocol="HTTP", Port=80, VpcId=vpc,
                                      TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
        create("s3", tg3)

    def test_nat_gateway_needs_an_attached_internet_gateway(self):
        ec2 = self.client("ec2")
        vpc, subnets = self.vpc(ec2, igw=False)
        eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
        before = len(self.moto("ec2").describe_nat_gateways()["NatGateways"])
        error = self.assertClientError("Gateway.NotAttached", ec2.create_nat_gateway, SubnetId=subnets[0],
                                       AllocationId=eip)
        self.assertEqual(error.response["Error"]["Message"], f"Network {vpc} has no Internet gateway attached")
        self.assertEqual(len(self.moto("ec2").describe_nat_gateways()["NatGateways"]), before)
        # A private NAT gateway needs none.
        ec2.create_nat_gateway(SubnetId=subnets[1], ConnectivityType="private")
        igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        self.assertClientError("Gateway.NotAttached", ec2.create_nat_gateway, SubnetId=subnets[0], AllocationId=eip)
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
        ec2.create_nat_gateway(SubnetId=subnets[0], AllocationId=eip)
        self.assertEqual(self.control("GET", "/_proxy/stats")["injected"], {"order": 2})


class ProxyReport(ProxyCase):
    def test_report_file_sigterm_and_cli(self):
        with tempfile.TemporaryDirectory() as tmp:
            env = dict(ENV, ECSFORM_CONTRACT_REPORT_DIR=os.path.join(tmp, "reports"))
            proc, endpoint = start_proxy(Servers.moto_port, env=env)
            try:
                logs, ec2 = self.client("logs", endpoint), self.client("ec2", endpoint)
                self.assertClientError("ContractViolation", logs.create_log_group, logGroupName=unique("/g"),
                                       tags={"ecsform:lock-holder": LOCK_VALUE})
                logs.create_log_group(logGroupName=unique("/g"))
                ec2.describe_vpcs()
                self.client("s3", endpoint).list_buckets()  # rest-xml: not validated
                path = os.path.join(tmp, "reports", f"proxy-{proc.pid}.json")
                deadline = time.time() + 5
                while time.time() < deadline:  # the background writer, at most once a second
                    with open(path, encoding="utf-8") as fh:
                        doc = json.load(fh)
                    if doc["validated"] == 3:
                        break
                    time.sleep(0.2)
                self.assertEqual(doc["validated"], 3)
                ec2.describe_vpcs()
                proc.send_signal(signal.SIGTERM)  # flushes on the way out
                self.assertEqual(proc.wait(timeout=10), 0)
            finally:
                stop(proc)
            with open(path, encoding="utf-8") as fh:
                doc = json.load(fh)
            self.assertEqual(doc["validated"], 4)
            self.assertEqual(doc["violation_count"], 1)
            self.assertEqual(doc["by_action"], {"logs:CreateLogGroup": 2, "ec2:DescribeVpcs": 2})
            self.assertEqual(doc["violations_by_action"], {"logs:CreateLogGroup": 1})
            self.assertEqual(doc["not_validated"], {"s3:GET /": 1})
            self.assertLessEqual(doc["started"], doc["updated"])
            self.assertIn("tags.ecsform:lock-holder: pattern", doc["violations"][0])
            self.assertFalse([f for f in os.listdir(os.path.join(tmp, "reports")) if f.endswith(".tmp")])
            # --report FILE wins over the directory; a clean run.
            explicit = os.path.join(tmp, "clean", "proxy.json")
            proc, endpoint = start_proxy(Servers.moto_port, "--report", explicit, env=env)
            try:
                self.client("ecs", endpoint).list_clusters()
            finally:
                stop(proc)
            with open(explicit, encoding="utf-8") as fh:
                self.assertEqual(json.load(fh)["by_action"], {"ecs:ListClusters": 1})

            summary = subprocess.run([sys.executable, CONTRACT, "summary", os.path.join(tmp, "reports")],
                                     capture_output=True, text=True, timeout=30)
            self.assertEqual(summary.returncode, 1, summary.stdout + summary.stderr)
            self.assertIn("requests validated: 4", summary.stdout)
            self.assertIn("violations: 1", summary.stdout)
            self.assertIn("logs: 2 requests, 1 violations", summary.stdout)
            clean = subprocess.run([sys.executable, CONTRACT, "summary", os.path.join(tmp, "clean")],
                                   capture_output=True, text=True, timeout=30)
            self.assertEqual(clean.returncode, 0, clean.stdout)
            actions = subprocess.run([sys.executable, CONTRACT, "actions", os.path.join(tmp, "reports"), explicit],
                                     capture_output=True, text=True, timeout=30)
            self.assertEqual(actions.returncode, 0)
            self.assertEqual(re.findall(r"^\s+(\S+)", actions.stdout, re.M),
                             ["ec2:DescribeVpcs", "ecs:ListClusters", "logs:CreateLogGroup"])
            self.assertIn("ec2 (1 actions)", actions.stdout)

    def test_missing_validator_dependencies(self):
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, "regex.py"), "w", encoding="utf-8") as fh:
                fh.write("raise ImportError('No module named regex (simulated)')\n")
            env = dict(ENV, PYTHONPATH=tmp)
            out = subprocess.run([sys.executable, PROXY, "--upstream", f"http://127.0.0.1:{Servers.moto_port}",
                                  "--port", "0"], env=env, capture_output=True, text=True, timeout=30)
            self.assertEqual(out.returncode, 2)
            self.assertIn("contract checking", out.stderr)
            self.assertIn("regex", out.stderr)
            config = os.path.join(tmp, "off.json")
            with open(config, "w", encoding="utf-8") as fh:
                json.dump({"contract": False}, fh)
            proc, endpoint = start_proxy(Servers.moto_port, "--config", config, env=env)
            try:
                self.client("ecs", endpoint).list_clusters()
                with self.assertRaises(urllib.error.HTTPError) as ctx:
                    self.control("POST", "/_proxy/config", {"contract": True}, endpoint=endpoint)
                self.assertEqual(ctx.exception.code, 400)
            finally:
                stop(proc)


def tearDownModule():
    Servers.stop()
    print(f"\n  rejected requests by rule: {dict(sorted(REJECTED_BY_RULE.items()))} "
          f"({sum(REJECTED_BY_RULE.values())} cases, {len(REJECTED_BY_RULE)} rules)", file=sys.stderr)
    print(f"  boto3 operations passing with 0 violations: {len(BOTO3_PASSED)}", file=sys.stderr)
    print(f"  model patterns that did not compile: {sorted(contract.skipped_patterns) or 'none'}", file=sys.stderr)


if __name__ == "__main__":
    unittest.main()
