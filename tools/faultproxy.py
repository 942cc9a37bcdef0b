#!/usr/bin/env python3
"""faultproxy -- a fault-injecting HTTP reverse proxy in front of moto's server.

moto answers every AWS call at once, never throttles, never says "pending" and
enforces few deletion dependencies (see /work/shared/MOTO.md).  This proxy sits
between the AWS SDK and moto and adds the real-AWS behaviour that ecsform's
retry, wait and destroy-ordering code must survive, and checks every request
against AWS's published API contract (tools/contract.py), which moto does not.
Python 3.11, stdlib only, plus tools/contract.py (imported from this file's
directory; it needs the ``regex`` package and botocore's data files).

Usage
-----
    python3 -m moto.server -H 127.0.0.1 -p 5000 &
    python3 tools/faultproxy.py --upstream http://127.0.0.1:5000 --port 0 \
        [--config faults.json] [--seed 42] [--log requests.jsonl] [--report contract.json]

The first stdout line is always ``LISTENING <port>`` (flushed), also when a
fixed ``--port`` is given; point the SDK at it with
``AWS_ENDPOINT_URL=http://127.0.0.1:<port>``.  From a Rust test: spawn
``python3 tools/faultproxy.py --upstream http://127.0.0.1:<moto> --port 0``
with ``Stdio::piped()`` stdout, read the first line with a BufReader, parse
the port after ``LISTENING ``, keep the Child and kill it on drop.  Change
faults mid-test with ``POST /_proxy/config``; read ``GET /_proxy/stats``.  The upstream must be plain HTTP
on 127.0.0.1; the proxy never connects anywhere else.

Control endpoints (never forwarded, never counted, never faulted):
    GET  /_proxy/health        -> {"ok": true}
    GET  /_proxy/config        -> the effective configuration
    POST /_proxy/config        -> replace the configuration (JSON body; missing
                                  keys take their defaults: faults off,
                                  contract and aws_orders on); token
                                  buckets restart full; a "seed" key reseeds
    GET  /_proxy/stats         -> {"requests", "by_action", "injected",
                                  "max_in_flight", "sequential_round_trips",
                                  "contract": {"validated", "violations",
                                               "violation_count"}}
    POST /_proxy/reset-stats   -> clear the statistics
    POST /_proxy/reset-state   -> forget remembered resources (creation times,
                                  delete attempts); done automatically when
                                  POST /moto-api/reset passes through
``/moto-api/*`` requests are forwarded but never counted nor faulted.

Request identification
----------------------
service: the SigV4 credential scope of the ``Authorization`` header
(``Credential=AKID/20260101/us-east-1/ec2/aws4_request`` -> ``ec2``) or of the
``X-Amz-Credential`` query parameter; ``unknown`` otherwise.
action:  ``X-Amz-Target: Prefix.Action`` (JSON protocols: ecs,
servicediscovery, logs, dynamodb, application-autoscaling), else ``Action=``
in the form body or query string (query protocols: ec2, elasticloadbalancing,
iam, sts, monitoring), else ``/service/S/operation/Op`` (Smithy RPC v2 CBOR),
else a REST label "METHOD /path" with identifiers replaced by ``{}``
(apigateway: ``POST /restapis``, ``POST /restapis/{}/resources/{}``,
``POST /vpclinks`` = CreateVpcLink, ``GET /vpclinks/{}`` = GetVpcLink,
``POST /restapis/{}/deployments`` = CreateDeployment -- these labels are what
``by_action``, ``fault_actions`` and the token buckets see, e.g.
``"apigateway:POST /vpclinks"``; the contract report uses the model's names;
s3: ``PUT /{bucket}/{key}?tagging``).

Configuration keys (JSON; all faults are off by default, the two AWS-fidelity
checks ``contract`` and ``aws_orders`` are on)
------------------------------------------------------------------------------
seed                      int; reseeds the single random.Random behind every
                          random decision (``--seed`` wins at start-up).
latency_ms                fixed delay added to every counted request before
                          it is forwarded or answered (default 0).
latency_jitter_ms         extra uniform random delay in [0, jitter] (0).
throttle_fraction         0..1: answer with the service's throttling error.
token_buckets             {"enabled": false, "scale": 1.0, "overrides": {}}:
                          AWS's documented per-account token buckets (table
                          below); a request finding any of its buckets empty
                          gets the throttling error.  ``scale`` multiplies the
                          refill rates (burst is unchanged); ``overrides`` maps
                          a bucket name to [burst, refill_per_second].
error_5xx_fraction        0..1: HTTP 500 internal error in the service's shape.
drop_fraction             0..1: close the connection without any response,
                          chosen 50/50 before forwarding (nothing happened) or
                          after forwarding (it happened, the client never
                          learns it -- models a lost response).
fault_actions             null or a list of fnmatch patterns on
                          "service:action" (e.g. ["ec2:*", "ecs:CreateService"])
                          limiting throttle_fraction, error_5xx_fraction and
                          drop_fraction to matching requests.
pending_seconds           {"nat_gateway": S, "load_balancer": S,
                          "namespace_operation": S, "db_instance": S}; 0 = off.
                          Real AWS:
                          NAT gateways are ``pending`` for minutes (and
                          ``deleting`` before ``deleted``), ALBs are
                          ``provisioning`` for up to ~5 min, Cloud Map
                          namespace operations run asynchronously.  Here:
                          CreateNatGateway/DescribeNatGateways show
                          ``pending`` for S s after creation and ``deleting``
                          for S s after DeleteNatGateway; DescribeLoadBalancers
                          shows State Code ``provisioning`` for S s after
                          CreateLoadBalancer; GetOperation for an operation
                          from Create{PrivateDns,PublicDns,Http}Namespace or
                          DeleteNamespace shows ``SUBMITTED`` for the first
                          S/2 s, then ``PENDING`` until S s have passed;
                          an RDS instance is ``creating`` for ~5 min with no
                          ``Endpoint`` (moto: ``available`` with one at once):
                          CreateDBInstance / DescribeDBInstances show
                          DBInstanceStatus ``creating`` and no Endpoint for
                          S s after the CreateDBInstance answer.
not_found_after_create_seconds
                          S (0 = off).  Real AWS is eventually consistent:
                          ``InvalidGroup.NotFound`` right after
                          CreateSecurityGroup, ``InvalidNatGatewayID.NotFound``
                          on CreateRoute, ...  Here: for S s after a
                          CreateSecurityGroup / CreateNatGateway / CreateSubnet
                          / CreateRouteTable / CreateInternetGateway response,
                          any EC2 request with a parameter equal to the new id
                          fails with 400 InvalidGroup.NotFound /
                          InvalidNatGatewayID.NotFound / InvalidSubnetID.NotFound
                          / InvalidRouteTableID.NotFound /
                          InvalidInternetGatewayID.NotFound.  Describe* calls
                          naming the id only inside ``Filter.N`` are let
                          through (tag/filter lookups return results).
not_found_fraction        0..1, fraction of those requests failed (1.0).
linger_seconds            null = off; S >= 0 enables AWS's deletion
                          dependencies that moto does not enforce:
                          * EC2 DeleteSecurityGroup / DeleteSubnet -> 400
                            DependencyViolation until S s after the later of
                            the first delete attempt on that id and the last
                            ECS DeleteService / ELBv2 DeleteLoadBalancer seen
                            (task and load-balancer network interfaces linger
                            for minutes after they are stopped / deleted);
                          * ELBv2 DeleteTargetGroup -> 400 ResourceInUse for
                            S s after the last DeleteLoadBalancer /
                            DeleteListener / DeleteRule (a listener or rule
                            still forwards to it);
                          * Cloud Map DeleteNamespace -> 400 ResourceInUse
                            while upstream ListServices (asked by the proxy,
                            filtered client side) lists a service in it;
                          * Cloud Map DeleteService -> 400 ResourceInUse for
                            S s after the last ECS DeleteService (instances
                            are deregistered only as tasks stop);
                          * ECS DeleteCluster -> 400
                            ClusterContainsServicesException while the cluster
                            has ACTIVE/DRAINING services upstream (moto keeps
                            deleted services listed as INACTIVE, so the proxy
                            asks ListServices + DescribeServices) or for S s
                            after the last ECS DeleteService.
linger_from               "first_delete" (default) / "release": whether the
                          linger of security groups and subnets also counts
                          from the first delete attempt on the id (so a first
                          attempt always meets DependencyViolation), or, as on
                          AWS, only from the last DeleteService /
                          DeleteLoadBalancer (timing_profile sets "release").
vpc_link_pending_s        S >= 0 seconds (0 = off).  Real AWS: a new REST VPC
                          link (API Gateway V1, ``POST /vpclinks``) is
                          ``PENDING`` for minutes (8-12 against an NLB) before
                          ``AVAILABLE``; moto says AVAILABLE at once.  Here:
                          for S s after the proxy saw the CreateVpcLink answer
                          of a link id, that answer, ``GET /vpclinks/{id}``
                          and its item in ``GET /vpclinks`` say ``"status":
                          "PENDING"`` (statusMessage removed); then moto's
                          own answer (or FAILED, below).  With aws_orders on,
                          CreateDeployment over such a link is refused (below).
vpc_link_fail             false (default) / true / fraction 0..1: the chance,
                          drawn once per link at its CreateVpcLink answer
                          (seeded), that the link fails: once its
                          vpc_link_pending_s window is over (at once with 0)
                          ``GET /vpclinks/{id}`` and ``GET /vpclinks`` answer
                          ``"status": "FAILED", "statusMessage": "NLB ARN is
                          malformed"`` for good.  CreateVpcLink itself answers
                          ``PENDING``, as AWS's create always does.
vpc_link_delete_s         S >= 0 seconds (0 = off).  Real AWS: a deleted VPC
                          link stays ``DELETING`` for a while; moto forgets it
                          at once.  Here: for S s after the proxy saw the
                          DeleteVpcLink answer of a link it saw created,
                          ``GET /vpclinks/{id}`` answers 200 with ``"status":
                          "DELETING"`` (synthesised from the CreateVpcLink
                          answer -- id, name, description, targetArns, tags --
                          once moto answers 404), the first page of
                          ``GET /vpclinks`` lists it as DELETING too, and
                          (aws_orders) its NLB still cannot be deleted.  Then
                          moto's own answer (404 NotFoundException).
service_start_s           S >= 0 seconds (0 = off).  moto never runs a Fargate
                          task (runningCount stays 0).  Here: DescribeServices
                          answers runningCount 0 and the deployment
                          IN_PROGRESS for S s after the service's
                          CreateService / UpdateService answer, then
                          runningCount = desiredCount and one COMPLETED
                          deployment (what ``apply --wait`` waits for).
timing_profile            {"scale": null}; a number k makes moto behave like AWS
                          in time, k times faster: every key of AWS_SECONDS
                          (below: NAT gateway 90 s, load balancer 150 s,
                          namespace operation 60 s, RDS 300 s, REST VPC link
                          600 s pending and 120 s deleting, interfaces
                          lingering 120 s) not given explicitly in the same
                          configuration is set to AWS's seconds / k.
paging                    false (default) / true.  List operations are paged
                          as AWS pages them when the client asks no page size
                          or a larger one than AWS allows (JSON_PAGES,
                          REST_PAGES below, with their documented sizes): the
                          proxy cuts moto's whole answer to its first page,
                          keeps the rest, and answers the continuation
                          requests for its own tokens itself.  XML lists
                          too (QUERY_PAGES): EC2's filtered describes at
                          MaxResults (the whole list without it), ELBv2's
                          describes at PageSize (400 without it).
page_max                  null (default) / int >= 1, with paging: no page
                          holds more items than this, whatever the client
                          asked (AWS may answer fewer than asked, with a
                          token): every paginated read of a client is made
                          to follow tokens.
quirks                    null (default) / {"rows": "all" | [names], "times": N}.
                          What real AWS answers while it settles, which moto
                          never does: each row of ecsform's retry table
                          (src/cloud/aws/settle.rs; QUIRKS below: a service-
                          linked role not yet usable, IAM propagation, API
                          Gateway's concurrent modification, a busy log group
                          or DB instance, a certificate not yet visible, ...)
                          answered with AWS's code, message and HTTP status in
                          the service's error shape for the first N (default
                          1) calls of each distinct request (same action, path
                          and body: a create and its retries).  Rows marked
                          ``after`` forward first and then answer the error (a
                          detach whose answer was lost: its retry meets "not
                          attached").  Injected as ``quirk:<row>``.
lose_answers              null (default) / list of fnmatch patterns on
                          "service:action".  The first answer to each distinct
                          matching request is lost after moto acted: HTTP 500
                          in the service's shape (the SDK retries into "already
                          exists", or makes a second one where AWS has no way to
                          tell).  Injected as ``lost:<service:action>``.
nat_fail                  false (default) / true: every NAT gateway created
                          while it is on ends ``failed`` (after its
                          pending_seconds, at once without), with failureCode
                          InsufficientFreeAddressesInSubnet and AWS's message,
                          until it is deleted.
                          Always on (AWS's behaviour): a repeated EC2
                          ClientToken, Cloud Map CreatorRequestId or ECS
                          clientToken answers the first create's answer
                          (TOKEN_PARAMETERS), and ELBv2 CreateLoadBalancer /
                          CreateListener with the settings of one that exists
                          answer it (NATURAL_KEYS); moto makes a second one or
                          refuses.  Counted as ``idempotent``.
contract                  true (default) / false.  Every counted request is
                          decoded and checked against AWS's published service
                          model (botocore's service-2.json) plus documented
                          limits the models omit -- see tools/contract.py --
                          before anything else happens to it.  A request that
                          breaks the contract is not forwarded: it gets HTTP
                          400 in the service's error shape with code
                          ``ContractViolation`` and the message(s), e.g.
                          ``contract violation: logs:CreateLogGroup
                          tags.ecsform:lock-holder: pattern
                          ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$ refuses "root@h pid 1
                          (ecsform apply)"`` (several joined by "; "), also
                          printed to stderr.  moto accepts such values; real
                          AWS does not.  Requests of services or protocols the
                          validator does not know (s3, rest-xml) pass
                          unchecked.  Needs the ``regex`` package and
                          botocore's data files: with them missing and this
                          key on, the proxy exits with an error at start-up.
aws_orders                true (default) / false.  Refuse orderings moto lets
                          through, the way real AWS does:
                          * ECS CreateService whose
                            ``loadBalancers[].targetGroupArn`` no listener
                            (default action) or listener rule forwards to ->
                            400 InvalidParameterException "The target group
                            with targetGroupArn ARN does not have an
                            associated load balancer."  Decided by asking moto
                            DescribeTargetGroups, DescribeLoadBalancers (same
                            VPC), DescribeListeners and DescribeRules; moto's
                            own LoadBalancerArns is not trusted (it is filled
                            by CreateListener/CreateRule only, never by
                            Modify*, and never emptied by deletes);
                          * EC2 CreateNatGateway (ConnectivityType absent or
                            public) in a subnet whose VPC has no internet
                            gateway attached (DescribeInternetGateways filter
                            attachment.vpc-id, state available/attached) ->
                            400 Gateway.NotAttached "Network vpc-... has no
                            Internet gateway attached".  Real AWS creates the
                            NAT gateway and it fails with that code; refusing
                            the create is the simplest equivalent;
                          * API Gateway CreateVpcLink (``POST /vpclinks``)
                            naming in ``targetArns`` a load balancer the proxy
                            still shows as ``provisioning``
                            (pending_seconds.load_balancer) -> 400
                            BadRequestException "NLB ARN is not in active
                            state (currently provisioning). ...";
                          * API Gateway CreateDeployment (``POST
                            /restapis/{id}/deployments``) while an integration
                            of that REST API uses a VPC link the proxy answers
                            as PENDING, FAILED or DELETING (vpc_link_* keys)
                            -> 400 BadRequestException "VPC link ID is not in
                            AVAILABLE state (status: PENDING); it is used by
                            the integration of [METHOD:RESOURCE]".  Which link
                            an integration uses is learnt from PutIntegration
                            / UpdateIntegration requests through the proxy
                            (moto drops connectionId from its reads); moto is
                            asked (GetMethod) whether the method still has a
                            VPC_LINK integration.  (AWS's API reference says a
                            deployment "will wait" on PENDING and fail on
                            DELETING; refusing PENDING too is the stricter
                            reading, matching ecsform's wait for AVAILABLE);
                          * ELBv2 DeleteLoadBalancer of a load balancer in the
                            ``targetArns`` of a REST VPC link that exists
                            (upstream ``GET /vpclinks``, asked by the proxy)
                            or is still DELETING (vpc_link_delete_s) -> 400
                            ResourceInUse "Load balancer 'ARN' cannot be
                            deleted because it is currently associated with
                            another service";
                          * API Gateway DeleteVpcLink (``DELETE /vpclinks/ID``
                            or ``/v2/vpclinks/ID``) while an integration of a
                            REST API (put through the proxy, forgotten with its
                            method, resource or API) uses the link, or while a
                            stage serves a deployment taken when one did ->
                            400 BadRequestException "Cannot delete vpc link.
                            Vpc link 'ID', is referenced in [...] in format of
                            [RESTApiId:Method:Resource:Stage]".
                          Side calls that fail never block the request.

Contract statistics and report
------------------------------
``GET /_proxy/stats`` has ``"contract": {"validated": N, "violations": [first
100 messages], "violation_count": N}``; reset-stats clears it.  With
``--report FILE`` (or, without it, ``$ECSFORM_CONTRACT_REPORT_DIR/proxy-<pid>.json``
when that variable is set) the proxy also keeps a cumulative report, never
reset, rewritten atomically (temporary file + rename) at most once a second
when something changed, and on exit (also on SIGTERM / SIGINT; a SIGKILL loses
at most the last second)::

    {"validated": N, "violations": [distinct messages, first 1000],
     "violation_count": N, "by_action": {"logs:CreateLogGroup": 3, ...},
     "violations_by_action": {"logs:CreateLogGroup": 1, ...},
     "not_validated": {"s3:GET /{bucket}": 1, ...}, "started": t, "updated": t}

``by_action`` keys are IAM prefix + model operation name (``cloudwatch:`` for
monitoring, ``elasticloadbalancing:`` for ELBv2, ``apigateway:CreateRestApi``).
``python3 tools/contract.py actions DIR`` lists them by prefix;
``python3 tools/contract.py summary DIR`` prints totals and exits 1 if any
violation was recorded.

Token buckets (AWS documented, per account and region: burst / refill per s)
-----------------------------------------------------------------------------
    bucket name                     burst  refill/s  requests
    ec2:describe                     100     20      EC2 Describe*/Get*/List*/Search*
    ec2:mutating                      50      5      other EC2 actions
    ec2:sg-ingress                    50      5      Authorize/RevokeSecurityGroupIngress
    ec2:nat-gateway                   10      1      Create/DeleteNatGateway
    ecs:service                       50      5      ECS Create/Update/DeleteService
    ecs:register-task-definition      20      1      ECS RegisterTaskDefinition
    ecs:other                         50     20      other ECS actions
    elbv2:account                     40     10      every ELBv2 action, plus:
    elbv2:create-load-balancer        10      0.2    CreateLoadBalancer
    elbv2:mutating                    20      3      other non-Describe ELBv2 actions
    servicediscovery                  50     10      Cloud Map (assumed)
    logs                              50     10      CloudWatch Logs
    iam                               20      5      IAM
    apigateway:account                40     10      every API Gateway call, plus:
    apigateway:resource                5      5      Create/DeleteResource
    apigateway:create-deployment       1      0.2    CreateDeployment (1 per 5 s)
    apigateway:create-rest-api         1      0.333  CreateRestApi (1 per 3 s)

Error shapes (what the real services send; each parses in the SDKs as a
throttling error with the given code)
---------------------------------------------------------------------------
    ec2                 503 XML <Response><Errors><Error><Code>RequestLimitExceeded
    JSON protocols      400 {"__type":"ThrottlingException","message":"Rate exceeded"}
                        + x-amzn-ErrorType, content-type application/x-amz-json-1.1
                        (+ x-amzn-query-error: Throttling;Sender for query-
                        compatible services such as CloudWatch over JSON)
    query (elbv2, iam,  400 XML <ErrorResponse><Error><Type>Sender</Type>
      sts, monitoring)      <Code>Throttling</Code>
    REST JSON (apigw)   429 {"message":"Too Many Requests"}
                        + x-amzn-ErrorType: TooManyRequestsException
    REST XML (s3)       503 <Error><Code>SlowDown</Code>
    RPC v2 CBOR         400 CBOR {"__type":"ThrottlingException",...}
Injected 5xx errors: EC2 500 InternalError, S3 500 InternalError, all others
500 InternalFailure, in the same shapes.

Log lines (``--log FILE``), one JSON object per counted request:
    {"t_start": float, "t_end": float, "service": str, "action": str,
     "status": int|null (null = dropped), "injected": null|"throttle"|"5xx"|
     "drop"|"not_found"|"pending"|"dependency"|"contract"|"order"|
     "quirk:<row>"|"lost:<service:action>"|"idempotent",
     "id": str|null (the subnet or group an EC2 request names, to follow one
     resource's retries through a run)}
``injected`` in the stats counts the same labels (contract refusals as
``"contract"``, aws_orders refusals as ``"order"``).
``sequential_round_trips`` is the longest chain of counted requests each
starting after the previous one ended (a lower bound on wall-clock round trips
the client could not overlap).
"""

from __future__ import annotations

import argparse
import bisect
import copy
import fnmatch
import http.client
import json
import os
import random
import re
import signal
import socket
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ElementTree
from collections import Counter
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape as xml_escape

# The contract validator (tools/contract.py) needs the third-party `regex` package and
# botocore's model files; the proxy itself stays stdlib-only and refuses to start with
# contract checking on when they are missing.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import contract
    CONTRACT_IMPORT_ERROR = None
except ImportError as _exc:  # regex missing
    contract = None
    CONTRACT_IMPORT_ERROR = _exc

# --------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------

HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
    "te", "trailer", "trailers", "transfer-encoding", "upgrade", "expect",
    "proxy-connection", "content-length",
}

DEFAULT_CONFIG = {
    "seed": None,
    "latency_ms": 0,
    "latency_jitter_ms": 0,
    "throttle_fraction": 0.0,
    "token_buckets": {"enabled": False, "scale": 1.0, "overrides": {}},
    "error_5xx_fraction": 0.0,
    "drop_fraction": 0.0,
    "fault_actions": None,
    "pending_seconds": {"nat_gateway": 0, "load_balancer": 0, "namespace_operation": 0,
                        "db_instance": 0},
    "not_found_after_create_seconds": 0,
    "not_found_fraction": 1.0,
    "linger_seconds": None,
    "vpc_link_pending_s": 0,
    "vpc_link_fail": False,
    "vpc_link_delete_s": 0,
    "contract": True,
    "aws_orders": True,
    "timing_profile": {"scale": None},
    "service_start_s": 0,
    "linger_from": "first_delete",
    "paging": False,
    "page_max": None,
    "quirks": None,
    "lose_answers": None,
    "nat_fail": False,
}

# How long AWS keeps each slow kind pending, in seconds (the middle of what AWS documents or
# is commonly measured), for ``timing_profile``:
# - NAT gateway ``pending`` → ``available`` "a few minutes", measured 1–2 min
#   (https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-working-with.html); the
#   proxy keeps the same time for ``deleting``;
# - load balancer ``provisioning`` → ``active``, measured 2–3 min for an ALB or NLB
#   (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#load-balancer-state);
# - Cloud Map namespace operation, ~1 min (it creates a Route 53 hosted zone)
#   (https://docs.aws.amazon.com/cloud-map/latest/api/API_GetOperation.html);
# - RDS instance ``creating``, ~5 min for a small instance
#   (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_CreateDBInstance.html);
# - REST VPC link ``PENDING`` → ``AVAILABLE``, 8–12 min against an NLB, and ``DELETING``
#   for a few minutes
#   (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-private-integration.html);
# - an ECS service's tasks running and healthy, ~1 min after its create or update (image
#   pull, start, health checks: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle-explanation.html);
# - task and load balancer network interfaces, released minutes after the tasks stop or
#   the load balancer goes (security groups and subnets refuse deletion meanwhile)
#   (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-task-networking.html).
AWS_SECONDS = {
    "nat_gateway": 90,
    "load_balancer": 150,
    "namespace_operation": 60,
    "db_instance": 300,
    "vpc_link_pending_s": 600,
    "vpc_link_delete_s": 120,
    "linger_seconds": 120,
    "service_start_s": 60,
}

# ``paging``: list operations paged as AWS pages them when the client asks no page size:
# "service:Operation" -> (list key, token key, request page-size key, default, maximum).
# ECS ListServices 10 by default, 100 at most
# (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListServices.html); ListTasks
# 100 (API_ListTasks.html); Cloud Map ListServices / ListNamespaces / ListInstances 100
# (https://docs.aws.amazon.com/cloud-map/latest/api/API_ListServices.html); CloudWatch Logs
# DescribeLogGroups 50 (API_DescribeLogGroups.html); Application Auto Scaling
# DescribeScalableTargets / DescribeScalingPolicies 50 (API_DescribeScalableTargets.html); ECR
# DescribeRepositories 100 of 1000 (API_DescribeRepositories.html); API Gateway's REST lists
# 25 of 500 (``limit`` / ``position``: https://docs.aws.amazon.com/apigateway/latest/api/API_GetResources.html).
# DescribeServices (10 names) and ELBv2 DescribeTags (20 ARNs) are limits on the request,
# which the contract check enforces; ELBv2 describes page at 400, EC2 describes answer
# everything when MaxResults is absent.
JSON_PAGES = {
    "ecs:ListServices": ("serviceArns", "nextToken", "maxResults", 10, 100),
    "ecs:ListTasks": ("taskArns", "nextToken", "maxResults", 100, 100),
    "servicediscovery:ListServices": ("Services", "NextToken", "MaxResults", 100, 100),
    "servicediscovery:ListNamespaces": ("Namespaces", "NextToken", "MaxResults", 100, 100),
    "servicediscovery:ListInstances": ("Instances", "NextToken", "MaxResults", 100, 100),
    "logs:DescribeLogGroups": ("logGroups", "nextToken", "limit", 50, 50),
    "application-autoscaling:DescribeScalableTargets":
        ("ScalableTargets", "NextToken", "MaxResults", 50, 50),
    "application-autoscaling:DescribeScalingPolicies":
        ("ScalingPolicies", "NextToken", "MaxResults", 50, 50),
    "ecr:DescribeRepositories": ("repositories", "nextToken", "maxResults", 100, 1000),
}
REST_PAGES = {  # REST label -> (list key, default, maximum); token: query/answer ``position``
    "apigateway:GET /restapis": ("item", 25, 500),
    "apigateway:GET /restapis/{}/resources": ("item", 25, 500),
    "apigateway:GET /vpclinks": ("item", 25, 500),
}
# Query-protocol (XML) lists: "service:Action" -> (list element, answer token element, request
# token parameter, request page-size parameter, default page (None: the whole list when the
# client asks no size), maximum). EC2's filtered describes answer everything without
# MaxResults and page at MaxResults with it (5-1000; route tables 5-100), following
# ``nextToken`` (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/Query-Requests.html#api-pagination).
# ELBv2's describes page at PageSize (at most 400) with ``Marker`` / ``NextMarker``
# (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeLoadBalancers.html);
# AWS documents no default page, 400 is assumed.
QUERY_PAGES = {
    **{f"ec2:{action}": (element, "nextToken", "NextToken", "MaxResults", None, maximum)
       for action, element, maximum in (
           ("DescribeVpcs", "vpcSet", 1000), ("DescribeSubnets", "subnetSet", 1000),
           ("DescribeInternetGateways", "internetGatewaySet", 1000),
           ("DescribeNatGateways", "natGatewaySet", 1000),
           ("DescribeRouteTables", "routeTableSet", 100),
           ("DescribeSecurityGroups", "securityGroupInfo", 1000),
           ("DescribeSecurityGroupRules", "securityGroupRuleSet", 1000),
           ("DescribeNetworkInterfaces", "networkInterfaceSet", 1000))},
    **{f"elasticloadbalancing:{action}": (element, "NextMarker", "Marker", "PageSize", 400, 400)
       for action, element in (
           ("DescribeLoadBalancers", "LoadBalancers"), ("DescribeTargetGroups", "TargetGroups"),
           ("DescribeListeners", "Listeners"), ("DescribeRules", "Rules"))},
}
PAGE_TOKEN_PREFIX = "fpx-page-"
_XML_TAG = re.compile(r"<(/?)([A-Za-z_][\w.:-]*)[^>]*?(/?)>")


def xml_list_items(text: str, element: str) -> tuple[str, list[str], str] | None:
    """Splits an XML answer at its first ``element``: (everything up to and including its
    opening tag, its child elements as text, everything from its closing tag on). None when
    the answer has no such element, or an empty one written ``<element/>``."""
    depth, start, items, item_start = None, None, [], None
    for m in _XML_TAG.finditer(text):
        closing, name, self_closing = m.group(1) == "/", m.group(2), m.group(3) == "/"
        if depth is None:
            if name == element and not closing and not self_closing:
                depth, start = 0, m.end()
            continue
        if closing:
            depth -= 1
            if depth < 0:
                return text[:start], items, text[m.start():]
            if depth == 0:
                items.append(text[item_start:m.end()])
        elif self_closing:
            if depth == 0:
                items.append(text[m.start():m.end()])
        else:
            if depth == 0:
                item_start = m.start()
            depth += 1
    return None

# Versions of the query-protocol APIs the proxy asks moto itself.
QUERY_VERSIONS = {"ec2": "2016-11-15", "elasticloadbalancing": "2015-12-01"}
CONTRACT_VIOLATIONS_KEPT = 100  # in /_proxy/stats
REPORT_VIOLATIONS_KEPT = 1000  # distinct messages in the --report file

# bucket name -> (burst, refill per second)
BUCKETS = {
    "ec2:describe": (100, 20),
    "ec2:mutating": (50, 5),
    "ec2:sg-ingress": (50, 5),
    "ec2:nat-gateway": (10, 1),
    "ecs:service": (50, 5),
    "ecs:register-task-definition": (20, 1),
    "ecs:other": (50, 20),
    "elbv2:account": (40, 10),
    "elbv2:create-load-balancer": (10, 0.2),
    "elbv2:mutating": (20, 3),
    "servicediscovery": (50, 10),
    "logs": (50, 10),
    "iam": (20, 5),
    "apigateway:account": (40, 10),
    "apigateway:resource": (5, 5),
    "apigateway:create-deployment": (1, 0.2),
    "apigateway:create-rest-api": (1, 1 / 3),
}

QUERY_XMLNS = {
    "elasticloadbalancing": "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/",
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
    "monitoring": "http://monitoring.amazonaws.com/doc/2010-08-01/",
}

JSON_TARGET_PREFIX = {
    "ecs": "AmazonEC2ContainerServiceV20141113",
    "servicediscovery": "Route53AutoNaming_v20170314",
}

# EC2 create action -> (response element holding the new id, NotFound code, noun)
EVENTUALLY_CONSISTENT = {
    "CreateSecurityGroup": ("groupId", "InvalidGroup.NotFound", "security group"),
    "CreateNatGateway": ("natGatewayId", "InvalidNatGatewayID.NotFound", "NAT gateway"),
    "CreateSubnet": ("subnetId", "InvalidSubnetID.NotFound", "subnet ID"),
    "CreateRouteTable": ("routeTableId", "InvalidRouteTableID.NotFound", "route table ID"),
    "CreateInternetGateway": ("internetGatewayId", "InvalidInternetGatewayID.NotFound",
                              "internet gateway ID"),
}

# How a REST VPC link that the proxy makes fail explains itself (GetVpcLink statusMessage).
VPC_LINK_FAILURE = "NLB ARN is malformed"

NAMESPACE_OPERATIONS = {
    "CreatePrivateDnsNamespace", "CreatePublicDnsNamespace", "CreateHttpNamespace",
    "DeleteNamespace",
}

# ``quirks``: what real AWS answers while it settles, which moto never does -- the rows of
# ecsform's retry table (src/cloud/aws/settle.rs), each answered exactly as AWS does (code,
# message, HTTP status; the shape is the service's protocol family, ``error_reply``) for the
# first ``times`` calls of each distinct request (same action, path and body: a retry of the
# same create or delete).  ``after``: the request is forwarded first and the error answered
# after it took effect (a detach whose answer was lost: its retry meets "not attached").
# ``body``: the quirk applies only to requests whose body contains this text.
QUIRKS = {
    "ecs_service_linked_role": dict(
        keys=["ecs:CreateCluster"], status=400, code="InvalidParameterException",
        message="Unable to assume the service linked role. Please verify that the ECS service linked role exists."),
    "ecs_service_role": dict(
        keys=["ecs:CreateService", "ecs:UpdateService"], status=400, code="InvalidParameterException",
        message="Unable to assume role and validate the specified targetGroupArn. Please verify that the ECS service role being passed has the proper permissions."),
    "ecs_service_linked_role_service": dict(
        keys=["ecs:CreateService"], status=400, code="InvalidParameterException",
        message="Unable to assume the service linked role. Please verify that the ECS service linked role exists."),
    "ecs_target_group_not_seen": dict(
        keys=["ecs:CreateService", "ecs:UpdateService"], body="targetGroupArn", status=400,
        code="InvalidParameterException",
        message="The target group with targetGroupArn arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/x/1 does not have an associated load balancer."),
    "ecs_cluster_not_visible": dict(
        keys=["ecs:CreateService"], status=400, code="ClusterNotFoundException",
        message="Cluster not found."),
    "ecs_deployments_active": dict(
        keys=["ecs:DeleteService"], status=400, code="InvalidParameterException",
        message="The service cannot be stopped while deployments are active."),
    "ecs_cluster_updating": dict(
        keys=["ecs:DeleteCluster"], status=400, code="UpdateInProgressException",
        message="The cluster is being updated. Wait for the update to complete and try again."),
    "scaling_service_unknown": dict(
        keys=["application-autoscaling:RegisterScalableTarget"], status=400, code="ValidationException",
        message="ECS service doesn't exist: service/cluster/service"),
    "scaling_role_not_assumable": dict(
        keys=["application-autoscaling:RegisterScalableTarget"], status=400, code="ValidationException",
        message="Unable to assume IAM role: arn:aws:iam::123456789012:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService"),
    "scaling_role_unusable": dict(
        keys=["application-autoscaling:PutScalingPolicy", "application-autoscaling:DeleteScalingPolicy"],
        status=400, code="FailedResourceAccessException",
        message="Failed to access the service-linked role AWSServiceRoleForApplicationAutoScaling_ECSService."),
    "scaling_target_unknown": dict(
        keys=["application-autoscaling:PutScalingPolicy"], status=400, code="ObjectNotFoundException",
        message="No scalable target registered for service namespace: ecs"),
    "iam_concurrent": dict(
        keys=["iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:PutRolePolicy", "iam:DeleteRolePolicy"],
        status=409, code="ConcurrentModification",
        message="Rate exceeded: a concurrent modification of this role is in progress."),
    "iam_delete_conflict": dict(
        keys=["iam:DeleteRole"], status=409, code="DeleteConflict",
        message="Cannot delete entity, must detach all policies first."),
    "apigateway_conflict": dict(
        keys=[f"apigateway:{method} /{path}*" for method in ("POST", "PUT", "PATCH", "DELETE")
              for path in ("restapis", "vpclinks")],
        status=409, code="ConflictException",
        message="Unable to complete operation due to concurrent modification. Please try again later."),
    "apigatewayv2_conflict": dict(
        keys=[f"apigateway:{method} /v2/*" for method in ("POST", "PATCH", "DELETE")],
        status=409, code="ConflictException",
        message="Unable to complete operation due to concurrent modification. Please try again later."),
    "logs_aborted": dict(
        keys=["logs:DeleteLogGroup", "logs:PutRetentionPolicy"], status=400, code="OperationAbortedException",
        message="A conflicting operation is currently in progress against this resource. Please try again."),
    "certificate_not_visible": dict(
        keys=["elasticloadbalancing:CreateListener", "elasticloadbalancing:ModifyListener"],
        body="Certificates.member.1.CertificateArn",
        status=400, code="CertificateNotFound",
        message="Certificate 'arn:aws:acm:us-east-1:123456789012:certificate/x' not found"),
    "rds_busy": dict(
        keys=["rds:ModifyDBInstance"], status=400, code="InvalidDBInstanceState",
        message="RDS is configuring Enhanced Monitoring or Performance Insights for this DB instance. Try your request later."),
    "rds_busy_delete": dict(
        keys=["rds:DeleteDBInstance"], status=400, code="InvalidDBInstanceState",
        message="Instance is currently backing-up - a final snapshot cannot be taken. Try your request later."),
    "group_in_use": dict(
        keys=["ec2:DeleteSecurityGroup"], status=400, code="InvalidGroup.InUse",
        message="There are active VPC security group references to this group."),
    "gateway_detached": dict(
        keys=["ec2:DetachInternetGateway"], status=400, code="Gateway.NotAttached", after=True,
        message="resource igw is not attached to network vpc"),
}

# ``nat_fail``: how a NAT gateway the proxy makes fail explains itself (DescribeNatGateways
# failureCode / failureMessage, https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_NatGateway.html).
NAT_FAILURE = ("InsufficientFreeAddressesInSubnet",
               "Subnet has insufficient free addresses to create this NAT gateway")

# --------------------------------------------------------------------------
# Request model and identification
# --------------------------------------------------------------------------


class Request:
    """One incoming HTTP request, with its AWS service, action and protocol."""

    def __init__(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes):
        self.method = method
        self.target = target  # path + query, as received
        self.headers = headers
        self.body = body
        parsed = urllib.parse.urlsplit(target)
        self.path = parsed.path
        self.query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
        self.service = identify_service(self.header("authorization"), self.query)
        self.protocol, self.action = identify_action(self)
        self._params = None
        self._json = None

    def header(self, name: str, default: str = "") -> str:
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return default

    @property
    def key(self) -> str:
        return f"{self.service}:{self.action}"

    def form_params(self) -> dict[str, str]:
        """Query-protocol parameters from the form body and the query string."""
        if self._params is None:
            params = {k: v[0] for k, v in self.query.items()}
            if "x-www-form-urlencoded" in self.header("content-type") or self.protocol in ("ec2", "query"):
                try:
                    text = self.body.decode("utf-8")
                    params.update(urllib.parse.parse_qsl(text, keep_blank_values=True))
                except UnicodeDecodeError:
                    pass
            self._params = params
        return self._params

    def json_body(self) -> dict:
        if self._json is None:
            try:
                self._json = json.loads(self.body or b"{}")
            except ValueError:
                self._json = {}
            if not isinstance(self._json, dict):
                self._json = {}
        return self._json


CREDENTIAL_RE = re.compile(r"Credential=([^,\s]+)")


def identify_service(authorization: str, query: dict) -> str:
    credential = ""
    match = CREDENTIAL_RE.search(authorization or "")
    if match:
        credential = match.group(1)
    elif "X-Amz-Credential" in query:
        credential = query["X-Amz-Credential"][0]
    parts = credential.split("/")
    return parts[3] if len(parts) >= 5 else "unknown"


def identify_action(req: Request) -> tuple[str, str]:
    """Return (protocol, action) where protocol is one of
    ec2, query, json, cbor, rest-json, rest-xml."""
    target = req.header("x-amz-target")
    if target:
        return "json", target.rsplit(".", 1)[-1]
    cbor = re.match(r"^/service/[^/]+/operation/([^/]+)$", req.path)
    if cbor and "rpc-v2-cbor" in req.header("smithy-protocol"):
        return "cbor", cbor.group(1)
    action = req.query.get("Action", [None])[0]
    if action is None and "x-www-form-urlencoded" in req.header("content-type"):
        match = re.search(rb"(?:^|&)Action=([^&]*)", req.body)
        if match:
            action = urllib.parse.unquote_plus(match.group(1).decode("ascii", "replace"))
    if action:
        return ("ec2" if req.service == "ec2" else "query"), action
    if req.service == "s3":
        return "rest-xml", s3_label(req)
    return "rest-json", rest_label(req)


def rest_label(req: Request) -> str:
    """"POST /restapis/abc/resources/xyz" -> "POST /restapis/{}/resources/{}"."""
    segments = [s for s in req.path.split("/") if s]
    start = 1 if segments and segments[0] in ("v2",) else 0
    templated = [seg if (i - start) % 2 == 0 or i < start else "{}" for i, seg in enumerate(segments)]
    return f"{req.method} /" + "/".join(templated)


def s3_label(req: Request) -> str:
    segments = [s for s in req.path.split("/") if s]
    path = "/{bucket}" if segments else "/"
    if len(segments) > 1:
        path += "/{key}"
    subresources = sorted(k for k in req.query if not k.startswith("X-Amz-"))
    return f"{req.method} {path}" + ("?" + "&".join(subresources) if subresources else "")


# --------------------------------------------------------------------------
# Replies and AWS error shapes
# --------------------------------------------------------------------------


class Reply:
    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes, reason: str = ""):
        self.status = status
        self.headers = headers
        self.body = body
        self.reason = reason or http.client.responses.get(status, "Unknown")

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def error_reply(req: Request, status: int, code: str, message: str, query_code: str = "") -> Reply:
    """An error in the shape the request's service really uses."""
    request_id = str(uuid.uuid4())
    base = [("x-amzn-RequestId", request_id)]
    msg = xml_escape(message)
    if req.protocol == "ec2":
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
                f"<Code>{code}</Code><Message>{msg}</Message></Error></Errors>"
                f"<RequestID>{request_id}</RequestID></Response>")
        return Reply(status, base + [("Content-Type", "text/xml;charset=UTF-8")], body.encode())
    if req.protocol == "query":
        xmlns = QUERY_XMLNS.get(req.service, f"https://{req.service}.amazonaws.com/doc/")
        kind = "Receiver" if status >= 500 else "Sender"
        body = (f'<ErrorResponse xmlns="{xmlns}"><Error><Type>{kind}</Type><Code>{code}</Code>'
                f"<Message>{msg}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>")
        return Reply(status, base + [("Content-Type", "text/xml")], body.encode())
    if req.protocol == "rest-xml":
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
                f"<Message>{msg}</Message><RequestId>{request_id}</RequestId></Error>")
        return Reply(status, base + [("Content-Type", "application/xml")], body.encode())
    headers = base + [("x-amzn-ErrorType", code)]
    if query_code and req.service in QUERY_XMLNS:
        # awsQueryCompatible services (e.g. CloudWatch) spoken to in JSON/CBOR
        # also send the query-protocol code, which the SDKs prefer.
        fault = "Receiver" if status >= 500 else "Sender"
        headers.append(("x-amzn-query-error", f"{query_code};{fault}"))
    if req.protocol == "cbor":
        body = cbor_text_map({"__type": code, "message": message})
        return Reply(status, headers + [("Content-Type", "application/cbor"),
                                        ("smithy-protocol", "rpc-v2-cbor")], body)
    if req.protocol == "json":
        content_type = req.header("content-type") or "application/x-amz-json-1.1"
        if "amz-json" not in content_type:
            content_type = "application/x-amz-json-1.1"
        body = json.dumps({"__type": code, "message": message})
        return Reply(status, headers + [("Content-Type", content_type)], body.encode())
    body = json.dumps({"message": message})  # REST JSON
    return Reply(status, headers + [("Content-Type", "application/json")], body.encode())


def cbor_text_map(values: dict[str, str]) -> bytes:
    """Minimal CBOR encoder: a map of text strings to text strings."""
    def head(major: int, n: int) -> bytes:
        if n < 24:
            return bytes([major << 5 | n])
        if n < 256:
            return bytes([major << 5 | 24, n])
        return bytes([major << 5 | 25]) + n.to_bytes(2, "big")

    def text(s: str) -> bytes:
        data = s.encode()
        return head(3, len(data)) + data

    return head(5, len(values)) + b"".join(text(k) + text(v) for k, v in values.items())


def throttle_reply(req: Request) -> Reply:
    if req.protocol == "ec2":
        return error_reply(req, 503, "RequestLimitExceeded", "Request limit exceeded.")
    if req.protocol == "query":
        return error_reply(req, 400, "Throttling", "Rate exceeded")
    if req.protocol == "rest-json":
        return error_reply(req, 429, "TooManyRequestsException", "Too Many Requests")
    if req.protocol == "rest-xml":
        return error_reply(req, 503, "SlowDown", "Please reduce your request rate.")
    return error_reply(req, 400, "ThrottlingException", "Rate exceeded", query_code="Throttling")


def internal_error_reply(req: Request) -> Reply:
    if req.protocol == "ec2":
        return error_reply(req, 500, "InternalError", "An internal error has occurred.")
    if req.protocol == "rest-xml":
        return error_reply(req, 500, "InternalError", "We encountered an internal error. Please try again.")
    return error_reply(req, 500, "InternalFailure",
                       "The request processing has failed because of an unknown error.",
                       query_code="InternalFailure")


# --------------------------------------------------------------------------
# Token buckets
# --------------------------------------------------------------------------


class TokenBucket:
    def __init__(self, burst: float, refill: float, now: float):
        self.burst = float(burst)
        self.refill = float(refill)
        self.tokens = float(burst)
        self.stamp = now

    def available(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.refill)
        self.stamp = now
        return self.tokens >= 1.0

    def take(self) -> None:
        self.tokens -= 1.0


def bucket_names(service: str, action: str) -> list[str]:
    """The documented rate-limit buckets a request draws from."""
    if service == "ec2":
        if action in ("CreateNatGateway", "DeleteNatGateway"):
            return ["ec2:nat-gateway"]
        if action in ("AuthorizeSecurityGroupIngress", "RevokeSecurityGroupIngress"):
            return ["ec2:sg-ingress"]
        if action.startswith(("Describe", "Get", "List", "Search")):
            return ["ec2:describe"]
        return ["ec2:mutating"]
    if service == "ecs":
        if action in ("CreateService", "UpdateService", "DeleteService"):
            return ["ecs:service"]
        if action == "RegisterTaskDefinition":
            return ["ecs:register-task-definition"]
        return ["ecs:other"]
    if service == "elasticloadbalancing":
        if action == "CreateLoadBalancer":
            return ["elbv2:account", "elbv2:create-load-balancer"]
        if action.startswith("Describe"):
            return ["elbv2:account"]
        return ["elbv2:account", "elbv2:mutating"]
    if service in ("servicediscovery", "logs", "iam"):
        return [service]
    if service == "apigateway":
        extra = {
            "POST /restapis": "apigateway:create-rest-api",
            "POST /restapis/{}/resources/{}": "apigateway:resource",
            "DELETE /restapis/{}/resources/{}": "apigateway:resource",
            "POST /restapis/{}/deployments": "apigateway:create-deployment",
        }.get(action)
        return ["apigateway:account"] + ([extra] if extra else [])
    return []


class RateLimiter:
    def __init__(self, settings: dict):
        self.enabled = bool(settings.get("enabled"))
        self.scale = float(settings.get("scale", 1.0))
        self.overrides = settings.get("overrides") or {}
        self.buckets: dict[str, TokenBucket] = {}
        self.lock = threading.Lock()

    def _bucket(self, name: str, now: float) -> TokenBucket:
        if name not in self.buckets:
            burst, refill = self.overrides.get(name, BUCKETS[name])
            self.buckets[name] = TokenBucket(burst, refill * self.scale, now)
        return self.buckets[name]

    def allow(self, service: str, action: str) -> bool:
        """Take one token from every bucket of the request, or none if any is empty."""
        if not self.enabled:
            return True
        names = bucket_names(service, action)
        with self.lock:
            now = time.monotonic()
            buckets = [self._bucket(n, now) for n in names]
            if not all([b.available(now) for b in buckets]):
                return False
            for bucket in buckets:
                bucket.take()
            return True


# --------------------------------------------------------------------------
# XML / JSON response rewriting helpers
# --------------------------------------------------------------------------


def element_spans(xml: str, tag: str, start: int, end: int) -> list[tuple[int, int]]:
    """Spans of the top-level <tag>...</tag> elements within xml[start:end]."""
    spans, depth, open_at = [], 0, 0
    for match in re.finditer(rf"<(/?){tag}(\s[^>]*)?(/?)>", xml[start:end]):
        closing, selfclosing = match.group(1), match.group(3)
        if selfclosing:
            continue
        if not closing:
            if depth == 0:
                open_at = start + match.start()
            depth += 1
        elif depth > 0:
            depth -= 1
            if depth == 0:
                spans.append((open_at, start + match.end()))
    return spans


def rewrite_set_items(xml: str, container: str, item: str, id_tag: str, rewrite) -> tuple[str, bool]:
    """Call rewrite(resource_id, item_xml) -> new item xml | None on every
    top-level <item> inside <container>; return (new xml, changed)."""
    box = re.search(rf"<{container}(?:\s[^>]*)?>(.*)</{container}>", xml, re.S)
    if not box:
        return xml, False
    pieces, last, changed = [], 0, False
    for s, e in element_spans(xml, item, box.start(1), box.end(1)):
        ident = re.search(rf"<{id_tag}>([^<]*)</{id_tag}>", xml[s:e])
        new = rewrite(ident.group(1), xml[s:e]) if ident else None
        if new is not None and new != xml[s:e]:
            pieces += [xml[last:s], new]
            last, changed = e, True
    pieces.append(xml[last:])
    return "".join(pieces), changed


def replace_outside_nested(item_xml: str, nested_tag: str, pattern: str, replacement: str) -> str:
    """Replace the first match of pattern that is not inside a nested <nested_tag>."""
    body_start = item_xml.find(">") + 1
    nested = element_spans(item_xml, nested_tag, body_start, len(item_xml) - 1)
    for match in re.finditer(pattern, item_xml):
        if not any(s <= match.start() < e for s, e in nested):
            return item_xml[:match.start()] + match.expand(replacement) + item_xml[match.end():]
    return item_xml


def first_element(xml: str, tag: str) -> str | None:
    match = re.search(rf"<{tag}>([^<]+)</{tag}>", xml)
    return match.group(1) if match else None


# --------------------------------------------------------------------------
# Remembered resources
# --------------------------------------------------------------------------


class World:
    """What the proxy has learnt from responses (all times are monotonic)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.clear()

    def clear(self):
        self.new_ids: dict[str, tuple[float, str, str]] = {}  # id -> (t, code, noun)
        self.nat_created: dict[str, float] = {}
        self.nat_deleted: dict[str, float] = {}
        self.lb_created: dict[str, float] = {}
        self.db_created: dict[str, float] = {}  # DB instance identifier -> t
        self.service_deployed: dict[str, float] = {}  # ECS service ARN -> last create/update
        self.ops_created: dict[str, float] = {}
        self.first_delete: dict[str, float] = {}
        # API Gateway REST VPC links created through the proxy: id -> {"created": t,
        # "failed": bool, "deleted": t | None, "doc": the CreateVpcLink answer}
        self.vpc_links: dict[str, dict] = {}
        # (rest api id, resource id, http method) -> VPC link id of its integration
        self.integration_links: dict[tuple[str, str, str], str] = {}
        # (rest api id, deployment id) -> the VPC links its integrations used when it was taken
        self.deployment_links: dict[tuple[str, str], set[str]] = {}
        # (rest api id, stage name) -> the deployment it serves
        self.stage_deployments: dict[tuple[str, str], str] = {}
        self.events: dict[str, float] = {}  # event name -> last time seen
        self.nat_failed: set[str] = set()  # NAT gateways answered ``failed`` (nat_fail)
        self.quirk_calls: Counter = Counter()  # (quirk, request identity) -> calls seen
        self.answers_lost: set[str] = set()  # request identities whose answer was lost
        # (action, idempotency token) -> the first answer (moto ignores ClientToken)
        self.token_answers: dict[tuple[str, str], Reply] = {}

    def event_age(self, name: str, now: float) -> float:
        return now - self.events[name] if name in self.events else float("inf")


# --------------------------------------------------------------------------
# Statistics
# --------------------------------------------------------------------------


def longest_sequential_chain(intervals: list[tuple[float, float]]) -> int:
    """Longest chain of intervals each starting at/after the previous one's end."""
    ordered = sorted(intervals, key=lambda iv: iv[1])
    ends = [end for _, end in ordered]
    best_prefix: list[int] = []  # best_prefix[i] = max chain among ordered[:i+1]
    best = 0
    for start, end in ordered:
        k = bisect.bisect_right(ends, start)  # intervals ending at/before start
        chain = 1 + (best_prefix[k - 1] if k > 0 else 0)
        best = max(best, chain)
        best_prefix.append(best)
    return best


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.by_action: Counter = Counter()
            self.injected: Counter = Counter()
            self.intervals: list[tuple[float, float]] = []
            self.in_flight = 0
            self.max_in_flight = 0
            self.contract_validated = 0
            self.contract_violations: list[str] = []
            self.contract_violation_count = 0

    def contract_checked(self, messages: list[str]):
        with self.lock:
            self.contract_validated += 1
            if messages:
                self.contract_violation_count += len(messages)
                room = CONTRACT_VIOLATIONS_KEPT - len(self.contract_violations)
                self.contract_violations += messages[:max(0, room)]

    def enter(self):
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self, key: str, t_start: float, t_end: float, injected: str | None):
        with self.lock:
            self.in_flight = max(0, self.in_flight - 1)
            self.by_action[key] += 1
            if injected:
                self.injected[injected] += 1
            self.intervals.append((t_start, t_end))

    def snapshot(self) -> dict:
        with self.lock:
            return {
                "requests": len(self.intervals),
                "by_action": dict(self.by_action),
                "injected": dict(self.injected),
                "max_in_flight": self.max_in_flight,
                "in_flight": self.in_flight,
                "sequential_round_trips": longest_sequential_chain(self.intervals),
                "contract": {"validated": self.contract_validated,
                             "violations": list(self.contract_violations),
                             "violation_count": self.contract_violation_count},
            }


class ContractReport:
    """The --report file: cumulative contract results since start-up (reset-stats
    does not clear it), rewritten atomically at most once a second when changed."""

    def __init__(self, path: str):
        self.path = os.path.abspath(path)
        self.lock = threading.RLock()  # re-entrant: the SIGTERM handler flushes too
        self.validated = 0
        self.violation_count = 0
        self.violations: list[str] = []
        self._seen: set[str] = set()
        self.by_action: Counter = Counter()
        self.violations_by_action: Counter = Counter()
        self.not_validated: Counter = Counter()
        self.started = time.time()
        self.dirty = True
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        self.flush()
        threading.Thread(target=self._run, name="contract-report", daemon=True).start()

    def record(self, key: str, messages: list[str]):
        with self.lock:
            self.validated += 1
            self.by_action[key] += 1
            self.violation_count += len(messages)
            if messages:
                self.violations_by_action[key] += len(messages)
            for message in messages:
                if message not in self._seen and len(self.violations) < REPORT_VIOLATIONS_KEPT:
                    self._seen.add(message)
                    self.violations.append(message)
            self.dirty = True

    def skipped(self, key: str):
        with self.lock:
            self.not_validated[key] += 1
            self.dirty = True

    def flush(self):
        with self.lock:
            if not self.dirty:
                return
            doc = {"validated": self.validated, "violations": list(self.violations),
                   "violation_count": self.violation_count, "by_action": dict(self.by_action),
                   "violations_by_action": dict(self.violations_by_action),
                   "not_validated": dict(self.not_validated), "started": self.started,
                   "updated": time.time()}
            self.dirty = False
            directory = os.path.dirname(self.path)
            fd, tmp = tempfile.mkstemp(prefix=".proxy-report-", suffix=".tmp", dir=directory)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump(doc, fh, indent=1, sort_keys=True)
                os.replace(tmp, self.path)
            except OSError as exc:
                self.dirty = True
                log_warning(f"cannot write the contract report {self.path}: {exc}")
                try:
                    os.unlink(tmp)
                except OSError:
                    pass

    def _run(self):
        while True:
            time.sleep(1.0)
            self.flush()


# --------------------------------------------------------------------------
# Upstream connection pool (one keep-alive connection per thread)
# --------------------------------------------------------------------------


class Upstream:
    RETRYABLE = (http.client.RemoteDisconnected, http.client.CannotSendRequest,
                 ConnectionResetError, BrokenPipeError)

    def __init__(self, url: str):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "http" or parts.hostname != "127.0.0.1" or not parts.port:
            raise ValueError(f"upstream must be http://127.0.0.1:PORT, got {url!r}")
        self.host, self.port = "127.0.0.1", parts.port
        self.local = threading.local()

    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        conn = getattr(self.local, "conn", None)
        if conn is not None:
            return conn, True
        conn = http.client.HTTPConnection(self.host, self.port, timeout=300)
        self.local.conn = conn
        return conn, False

    def _discard(self):
        conn = getattr(self.local, "conn", None)
        if conn is not None:
            conn.close()
        self.local.conn = None

    def send(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> Reply:
        for attempt in range(2):
            conn, reused = self._connection()
            try:
                conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
                for name, value in headers:
                    conn.putheader(name, value)
                conn.putheader("Content-Length", str(len(body)))
                conn.endheaders(body)
                resp = conn.getresponse()
                data = resp.read()
            except self.RETRYABLE:
                self._discard()
                if reused and attempt == 0:
                    continue  # stale keep-alive connection: the request never arrived
                raise
            except Exception:
                self._discard()
                raise
            if resp.will_close:
                self._discard()
            return Reply(resp.status, list(resp.getheaders()), data, resp.reason)
        raise RuntimeError("unreachable")


# --------------------------------------------------------------------------
# The fault injector
# --------------------------------------------------------------------------


class Outcome:
    def __init__(self, reply: Reply | None, injected: str | None):
        self.reply = reply  # None = drop the connection
        self.injected = injected

    @property
    def status(self):
        return self.reply.status if self.reply else None


def merge_config(raw: dict) -> dict:
    config = copy.deepcopy(DEFAULT_CONFIG)
    unknown = set(raw or {}) - set(DEFAULT_CONFIG)
    if unknown:
        raise ValueError(f"unknown configuration keys: {sorted(unknown)}")
    for key, value in (raw or {}).items():
        if isinstance(config.get(key), dict):
            if not isinstance(value, dict):
                raise ValueError(f"{key} must be an object")
            unknown = set(value) - set(config[key])
            if unknown:
                raise ValueError(f"unknown keys in {key}: {sorted(unknown)}")
            config[key].update(value)
        else:
            config[key] = value
    unknown = set(config["token_buckets"]["overrides"] or {}) - set(BUCKETS)
    if unknown:
        raise ValueError(f"unknown token bucket names: {sorted(unknown)}")
    for key in ("vpc_link_pending_s", "vpc_link_delete_s"):
        value = config[key]
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or value < 0):
            raise ValueError(f"{key} must be a number of seconds >= 0")
    if config["linger_from"] not in ("first_delete", "release"):
        raise ValueError("linger_from must be first_delete or release")
    scale = config["timing_profile"]["scale"]
    if scale is not None:
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or scale <= 0:
            raise ValueError("timing_profile.scale must be a number > 0 (AWS's durations divided by it)")
        given = raw or {}
        if "linger_from" not in given:
            config["linger_from"] = "release"
        for key, seconds in AWS_SECONDS.items():
            if key in config["pending_seconds"]:
                if key not in given.get("pending_seconds", {}):
                    config["pending_seconds"][key] = seconds / scale
            elif key not in given:
                config[key] = seconds / scale
    fail = config["vpc_link_fail"]
    if fail is not None and (not isinstance(fail, (bool, int, float)) or not 0 <= fail <= 1):
        raise ValueError("vpc_link_fail must be true, false or a fraction in [0, 1]")
    quirks = config["quirks"]
    if quirks is not None:
        if not isinstance(quirks, dict) or set(quirks) - {"rows", "times"}:
            raise ValueError('quirks must be {"rows": "all" | [names], "times": N}')
        rows = quirks.get("rows", "all")
        if rows != "all" and (not isinstance(rows, list) or set(rows) - set(QUIRKS)):
            raise ValueError(f"quirks.rows must be \"all\" or names from {sorted(QUIRKS)}")
        times = quirks.get("times", 1)
        if isinstance(times, bool) or not isinstance(times, int) or times < 1:
            raise ValueError("quirks.times must be an integer >= 1")
    lose = config["lose_answers"]
    if lose is not None and (not isinstance(lose, list) or not all(isinstance(p, str) for p in lose)):
        raise ValueError("lose_answers must be null or a list of \"service:Action\" patterns")
    if not isinstance(config["nat_fail"], bool):
        raise ValueError("nat_fail must be true or false")
    page_max = config["page_max"]
    if page_max is not None and (isinstance(page_max, bool) or not isinstance(page_max, int) or page_max < 1):
        raise ValueError("page_max must be null or an integer >= 1")
    return config


class Pages:
    """AWS's paging of list answers (``paging``): moto answers a whole list at once; the proxy
    keeps all but the first page and hands the rest out for its own tokens."""

    def __init__(self):
        self.lock = threading.Lock()
        self.pending: dict[str, tuple[list, int]] = {}  # token -> (remaining items, page size)
        self.counter = 0
        # ``page_max``: no page holds more than this, whatever the client asked (AWS may answer
        # fewer items than asked and a token: a client must follow it).
        self.page_max: int | None = None

    def clear(self):
        with self.lock:
            self.pending.clear()

    def _store(self, items: list, size: int) -> str:
        with self.lock:
            self.counter += 1
            token = f"{PAGE_TOKEN_PREFIX}{self.counter}"
            self.pending[token] = (items, size)
            return token

    def _take(self, token: str):
        with self.lock:
            return self.pending.pop(token, None)

    @staticmethod
    def _size(asked, default: int, maximum: int) -> int:
        try:
            asked = int(asked)
        except (TypeError, ValueError):
            return default
        return max(1, min(asked, maximum))

    def _rest(self, req: Request):
        page = REST_PAGES.get(f"{req.service}:{rest_label(req)}")
        if page is None:
            return None
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(req.target).query)
        return page, query

    def continuation(self, req: Request) -> Reply | None:
        """The next page for a token of ours, without asking moto."""
        json_page = JSON_PAGES.get(req.key)
        if json_page:
            list_key, token_key = json_page[0], json_page[1]
            token = req.json_body().get(token_key)
            if not (isinstance(token, str) and token.startswith(PAGE_TOKEN_PREFIX)):
                return None
            kept = self._take(token)
            items, size = kept if kept else ([], 1)
            answer = {list_key: items[:size]}
            if len(items) > size:
                answer[token_key] = self._store(items[size:], size)
            return Reply(200, [("Content-Type", "application/x-amz-json-1.1")],
                         json.dumps(answer).encode())
        query_page = QUERY_PAGES.get(req.key)
        if query_page:
            token = req.form_params().get(query_page[2]) or ""
            if not token.startswith(PAGE_TOKEN_PREFIX):
                return None
            kept = self._take(token)
            if not kept:
                return error_reply(req, 400, "InvalidParameterValue", f"Invalid token {token}")
            (head, items_and_tail, token_element), size = kept
            return self._query_reply(head, items_and_tail, token_element, size)
        rest = self._rest(req)
        if rest is None:
            return None
        (list_key, _, _), query = rest
        token = (query.get("position") or [""])[0]
        if not token.startswith(PAGE_TOKEN_PREFIX):
            return None
        kept = self._take(token)
        items, size = kept if kept else ([], 1)
        answer = {list_key: items[:size]}
        if len(items) > size:
            answer["position"] = self._store(items[size:], size)
        return Reply(200, [("Content-Type", "application/json")], json.dumps(answer).encode())

    def _query_reply(self, head: str, items_and_tail, token_element: str, size: int) -> Reply:
        """One page of an XML list: the first ``size`` items, a token for the rest."""
        items, tail = items_and_tail
        token = ""
        if len(items) > size:
            kept = self._store((head, (items[size:], tail), token_element), size)
            token = f"<{token_element}>{kept}</{token_element}>"
        # The token goes right after the list, where both EC2 and ELBv2 put it.
        close = tail.index(">") + 1
        body = head + "".join(items[:size]) + tail[:close] + token + tail[close:]
        return Reply(200, [("Content-Type", "text/xml;charset=UTF-8")], body.encode())

    def _first_query_page(self, req: Request, reply: Reply, query_page) -> None:
        element, token_element, _, size_param, default, maximum = query_page
        asked = req.form_params().get(size_param)
        if asked is None and default is None:
            return  # EC2 without MaxResults: the whole list
        size = self._size(asked, default or maximum, maximum)
        if self.page_max:
            size = min(size, self.page_max)
        try:
            text = reply.body.decode("utf-8")
        except UnicodeDecodeError:
            return
        split = xml_list_items(text, element)
        if split is None:
            return
        head, items, tail = split
        # moto's own token (it pages some lists itself), or nothing to cut: its answer stands.
        if re.search(rf"<{token_element}>[^<]+</{token_element}>", tail) or len(items) <= size:
            return
        tail = re.sub(rf"<{token_element}\s*/>|<{token_element}></{token_element}>", "", tail)
        reply.body = self._query_reply(head, (items, tail), token_element, size).body

    def first_page(self, req: Request, reply: Reply):
        """Cuts a whole-list answer of moto's to its first page, keeping the rest."""
        if reply.status != 200:
            return
        query_page = QUERY_PAGES.get(req.key)
        if query_page:
            self._first_query_page(req, reply, query_page)
            return
        json_page = JSON_PAGES.get(req.key)
        rest = None if json_page else self._rest(req)
        if json_page:
            list_key, token_key, size_key, default, maximum = json_page
            size = self._size(req.json_body().get(size_key), default, maximum)
        elif rest:
            (list_key, default, maximum), query = rest
            token_key = "position"
            size = self._size((query.get("limit") or [None])[0], default, maximum)
        else:
            return
        if self.page_max:
            size = min(size, self.page_max)
        try:
            answer = json.loads(reply.body or b"{}")
        except ValueError:
            return
        items = answer.get(list_key) if isinstance(answer, dict) else None
        if not isinstance(items, list) or answer.get(token_key) or len(items) <= size:
            return
        answer[list_key] = items[:size]
        answer[token_key] = self._store(items[size:], size)
        reply.body = json.dumps(answer).encode()


class FaultProxy:
    def __init__(self, upstream: Upstream, config: dict, log_path: str | None = None,
                 report: ContractReport | None = None):
        self.upstream = upstream
        self.pages = Pages()
        self.report = report
        self.rng = random.Random()
        self.rng_lock = threading.Lock()
        self.world = World()
        self.stats = Stats()
        self.log_lock = threading.Lock()
        self.log_file = open(log_path, "a", encoding="utf-8") if log_path else None
        self.set_config(config)

    # -- configuration -----------------------------------------------------

    def set_config(self, raw: dict):
        """Replace the configuration; token buckets restart full; "seed" reseeds."""
        config = merge_config(raw)
        if config["contract"] and contract_unavailable():
            raise ValueError("contract checking needs tools/contract.py's dependencies: "
                             f"{contract_unavailable()}")
        if config.get("seed") is not None:
            with self.rng_lock:
                self.rng.seed(config["seed"])
        self.limiter = RateLimiter(config["token_buckets"])
        self.pages.page_max = config["page_max"] if config["paging"] else None
        self.config = config

    # -- randomness --------------------------------------------------------

    def chance(self, fraction) -> bool:
        fraction = float(fraction or 0)
        if fraction <= 0:
            return False
        with self.rng_lock:
            return self.rng.random() < fraction

    def uniform(self, high: float) -> float:
        with self.rng_lock:
            return self.rng.uniform(0, high)

    # -- main pipeline -----------------------------------------------------

    def process(self, req: Request) -> Outcome:
        cfg = self.config
        self.add_latency(cfg)
        if cfg["contract"]:
            reply = self.contract_error(req)
            if reply:
                return Outcome(reply, "contract")
        faultable = self.matches_fault_actions(req, cfg)
        drop = faultable and self.chance(cfg["drop_fraction"])
        drop_after = drop and self.chance(0.5)
        if drop and not drop_after:
            return Outcome(None, "drop")
        injected = self.inject_before(req, cfg, faultable)
        if injected:
            return injected
        quirk = self.quirk(req, cfg)
        if quirk and not quirk.get("after"):
            return Outcome(error_reply(req, quirk["status"], quirk["code"], quirk["message"]),
                           f"quirk:{quirk['name']}")
        if cfg["paging"]:
            continued = self.pages.continuation(req)
            if continued:
                return Outcome(continued, "paged")
        token = idempotency_token(req)
        if token:
            with self.world.lock:
                earlier = self.world.token_answers.get(token)
            if earlier:
                return Outcome(earlier, "idempotent")
        reply = self.forward(req)
        self.observe(req, reply)
        if token and reply.status < 300:
            with self.world.lock:
                self.world.token_answers.setdefault(token, reply)
        if quirk and reply.status < 300:
            return Outcome(error_reply(req, quirk["status"], quirk["code"], quirk["message"]),
                           f"quirk:{quirk['name']}")
        if reply.status < 300 and self.answer_lost(req, cfg):
            return Outcome(internal_error_reply(req), f"lost:{req.key}")
        pending = (self.rewrite_pending(req, reply, cfg) or self.rewrite_vpc_links(req, reply, cfg)
                   or self.rewrite_service_tasks(req, reply, cfg))
        if cfg["paging"]:
            self.pages.first_page(req, reply)
        if drop_after:
            return Outcome(None, "drop")
        return Outcome(reply, "pending" if pending else None)

    def quirk(self, req: Request, cfg: dict) -> dict | None:
        """The ``quirks`` row this request is answered with, if any: each row for the first
        ``times`` calls of each distinct request."""
        settings = cfg["quirks"]
        if not settings:
            return None
        rows = settings.get("rows", "all")
        times = settings.get("times", 1)
        identity = request_identity(req)
        for name, row in QUIRKS.items():
            if rows != "all" and name not in rows:
                continue
            if not any(fnmatch.fnmatchcase(req.key, k) for k in row["keys"]):
                continue
            if row.get("body") and row["body"].encode() not in req.body:
                continue
            with self.world.lock:
                seen = self.world.quirk_calls[(name, identity)]
                if seen >= times:
                    continue
                self.world.quirk_calls[(name, identity)] = seen + 1
            return dict(row, name=name)
        return None

    def answer_lost(self, req: Request, cfg: dict) -> bool:
        """``lose_answers``: the first answer to each distinct matching request is lost after
        AWS acted (a 500 in the service's shape): the SDK's retry meets what the first made."""
        patterns = cfg["lose_answers"]
        if not patterns or not any(fnmatch.fnmatchcase(req.key, p) for p in patterns):
            return False
        identity = request_identity(req)
        with self.world.lock:
            if identity in self.world.answers_lost:
                return False
            self.world.answers_lost.add(identity)
        return True

    def add_latency(self, cfg: dict):
        delay = float(cfg["latency_ms"] or 0)
        if cfg["latency_jitter_ms"]:
            delay += self.uniform(float(cfg["latency_jitter_ms"]))
        if delay > 0:
            time.sleep(delay / 1000.0)

    @staticmethod
    def matches_fault_actions(req: Request, cfg: dict) -> bool:
        patterns = cfg.get("fault_actions")
        if not patterns:
            return True
        return any(fnmatch.fnmatchcase(req.key, p) for p in patterns)

    def inject_before(self, req: Request, cfg: dict, faultable: bool) -> Outcome | None:
        if not self.limiter.allow(req.service, req.action):
            return Outcome(throttle_reply(req), "throttle")
        if faultable and self.chance(cfg["throttle_fraction"]):
            return Outcome(throttle_reply(req), "throttle")
        if faultable and self.chance(cfg["error_5xx_fraction"]):
            return Outcome(internal_error_reply(req), "5xx")
        reply = self.not_found_error(req, cfg)
        if reply:
            return Outcome(reply, "not_found")
        reply = self.dependency_error(req, cfg)
        if reply:
            return Outcome(reply, "dependency")
        if cfg["aws_orders"]:
            reply = self.order_error(req)
            if reply:
                return Outcome(reply, "order")
        return None

    # -- contract: the request against AWS's service models --------------------

    def contract_error(self, req: Request) -> Reply | None:
        try:
            result = contract.check_request(req.service, req.method, req.target, req.headers, req.body)
        except Exception as exc:  # a validator bug must not take requests down
            log_warning(f"contract check of {req.key} failed: {exc!r}")
            return None
        if result is None:  # a service or protocol the validator does not know
            if self.report:
                self.report.skipped(req.key)
            return None
        messages = [v.message for v in result.violations]
        self.stats.contract_checked(messages)
        if self.report:
            self.report.record(result.key, messages)
        if not messages:
            return None
        message = "; ".join(messages)
        log_warning(message)
        return error_reply(req, 400, "ContractViolation", message)

    # -- orderings real AWS refuses and moto lets through ------------------------

    def order_error(self, req: Request) -> Reply | None:
        check = {
            "ecs:CreateService": self.unassociated_target_group,
            "ec2:CreateNatGateway": self.nat_without_internet_gateway,
            "apigateway:POST /vpclinks": self.vpc_link_to_provisioning_nlb,
            "apigateway:POST /restapis/{}/deployments": self.deployment_over_unavailable_link,
            "elasticloadbalancing:DeleteLoadBalancer": self.load_balancer_used_by_vpc_link,
            "apigateway:DELETE /vpclinks/{}": self.vpc_link_in_use,
            "apigateway:DELETE /v2/vpclinks/{}": self.vpc_link_in_use,
            "apigateway:POST /restapis/{}/resources/{}": self.resource_exists,
        }.get(req.key)
        if check is None:
            return None
        try:
            return check(req)
        except Exception as exc:  # never block on a failed side call
            log_warning(f"{req.key} ordering side call failed: {exc!r}")
            return None

    def resource_exists(self, req: Request) -> Reply | None:
        """API Gateway refuses a second resource with the same path part under one parent
        (moto makes it): 409 ConflictException."""
        api, parent = path_ids(req)[:2]
        part = req.json_body().get("pathPart")
        if not part:
            return None
        listed = self.upstream_rest(req, "GET", f"/restapis/{api}/resources?limit=500")
        doc = json_doc(listed.body) or {}
        items = doc.get("item") or doc.get("items") or []
        if any(i.get("parentId") == parent and i.get("pathPart") == part for i in items):
            return error_reply(req, 409, "ConflictException",
                               f"Another resource with the same parent already has this name: {part}")
        return None

    def unassociated_target_group(self, req: Request) -> Reply | None:
        """Real ECS refuses a service whose target group no listener or rule forwards to."""
        balancers = req.json_body().get("loadBalancers") or []
        arns = [lb.get("targetGroupArn") for lb in balancers
                if isinstance(lb, dict) and isinstance(lb.get("targetGroupArn"), str)]
        for arn in arns:
            if self.target_group_associated(req, arn) is False:
                return error_reply(req, 400, "InvalidParameterException",
                                   f"The target group with targetGroupArn {arn} does not have an "
                                   "associated load balancer.")
        return None

    def target_group_associated(self, req: Request, arn: str) -> bool | None:
        """Whether a listener default action or a listener rule of some load balancer
        forwards to the target group (None: moto does not know the group).

        moto's own TargetGroup.LoadBalancerArns is filled by CreateListener and
        CreateRule only, never by ModifyListener/ModifyRule, and never emptied by
        DeleteRule/DeleteListener/DeleteLoadBalancer; so the listeners and rules
        themselves are read (those of moto's hint first)."""
        try:
            doc = self.upstream_query(req, "elasticloadbalancing", "DescribeTargetGroups",
                                      {"TargetGroupArns.member.1": arn})
        except UpstreamError:
            return None  # unknown group: let the service answer
        groups = xml_children(doc, "TargetGroups")
        if not groups:
            return None
        vpc = xml_text(groups[0], "VpcId")
        hinted = [m.text for box in groups[0].iter("LoadBalancerArns") for m in box]
        balancers = []
        for page in self.upstream_query_pages(req, "elasticloadbalancing", "DescribeLoadBalancers", {}):
            for lb in xml_children(page, "LoadBalancers"):
                if not vpc or xml_text(lb, "VpcId") in (vpc, None):
                    balancers.append(xml_text(lb, "LoadBalancerArn"))
        balancers.sort(key=lambda b: b not in hinted)
        for lb_arn in filter(None, balancers):
            for page in self.upstream_query_pages(req, "elasticloadbalancing", "DescribeListeners",
                                                  {"LoadBalancerArn": lb_arn}):
                for listener in xml_children(page, "Listeners"):
                    if forwards_to(listener, arn):
                        return True
                    listener_arn = xml_text(listener, "ListenerArn")
                    for rules in self.upstream_query_pages(req, "elasticloadbalancing", "DescribeRules",
                                                           {"ListenerArn": listener_arn}):
                        if forwards_to(rules, arn):
                            return True
        return False

    def nat_without_internet_gateway(self, req: Request) -> Reply | None:
        """A public NAT gateway needs an internet gateway attached to its VPC.  Real AWS
        accepts CreateNatGateway and the gateway then goes to state "failed" with
        FailureCode Gateway.NotAttached; refusing the create with that code is the
        simplest equivalent the client can observe."""
        params = req.form_params()
        if params.get("ConnectivityType", "public") != "public":
            return None
        subnet = params.get("SubnetId")
        if not subnet:
            return None
        try:
            doc = self.upstream_query(req, "ec2", "DescribeSubnets", {"SubnetId.1": subnet})
        except UpstreamError:
            return None  # unknown subnet: let EC2 answer
        vpc = next((e.text for e in xml_iter(doc, "vpcId") if e.text), None)
        if not vpc:
            return None
        doc = self.upstream_query(req, "ec2", "DescribeInternetGateways",
                                  {"Filter.1.Name": "attachment.vpc-id", "Filter.1.Value.1": vpc})
        for attachment in xml_iter(doc, "attachmentSet"):
            for item in xml_children(attachment):
                if xml_text(item, "vpcId") == vpc and xml_text(item, "state") in ("available", "attached"):
                    return None
        return error_reply(req, 400, "Gateway.NotAttached", f"Network {vpc} has no Internet gateway attached")

    def vpc_link_to_provisioning_nlb(self, req: Request) -> Reply | None:
        """A REST VPC link needs an active network load balancer: refuse CreateVpcLink for
        a target the proxy still shows as ``provisioning`` (pending_seconds.load_balancer)."""
        seconds = float((self.config["pending_seconds"] or {}).get("load_balancer") or 0)
        if seconds <= 0:
            return None
        now = time.monotonic()
        for arn in string_list(req.json_body().get("targetArns")):
            with self.world.lock:
                created = self.world.lb_created.get(arn)
            if created is not None and now - created < seconds:
                return error_reply(req, 400, "BadRequestException",
                                   f"NLB {arn} is not in active state (currently provisioning). "
                                   "A VPC link needs an active network load balancer.")
        return None

    def deployment_over_unavailable_link(self, req: Request) -> Reply | None:
        """CreateDeployment of a REST API one of whose integrations (as put through the
        proxy, PutIntegration / UpdateIntegration) uses a VPC link that is not AVAILABLE
        (PENDING, FAILED or DELETING as the proxy answers it) -> 400 BadRequestException.
        moto drops connectionId from its reads, so the link is what the client sent; moto
        is only asked (GetMethod: moto's GetIntegration answers 200 even for a missing
        one) whether the method still has a VPC_LINK integration."""
        api = path_ids(req)[0]
        now = time.monotonic()
        with self.world.lock:
            uses = sorted((key, link) for key, link in self.world.integration_links.items()
                          if key[0] == api)
        for key, link_id in uses:
            state = self.vpc_link_state(link_id, self.config, now)
            if state is None:
                continue
            path = "/restapis/{}/resources/{}/methods/{}".format(
                *(urllib.parse.quote(part, safe="") for part in key))
            reply = self.upstream_rest(req, "GET", path)
            integration = (json_doc(reply.body) or {}).get("methodIntegration") if reply.status == 200 else None
            if not isinstance(integration, dict) or not integration or \
                    integration.get("connectionType", "VPC_LINK") != "VPC_LINK":
                continue  # the integration (or its method, resource, API) is gone
            return error_reply(req, 400, "BadRequestException",
                               f"VPC link {link_id} is not in AVAILABLE state (status: {state[0]}); "
                               f"it is used by the integration of [{key[2]}:{key[1]}]")
        return None

    def vpc_link_in_use(self, req: Request) -> Reply | None:
        """DeleteVpcLink (REST, or V2) of a link that an integration of a REST API still
        uses, or that the deployment a stage serves used when it was taken -> 400
        BadRequestException, as AWS answers ("Cannot delete vpc link. Vpc link 'x', is
        referenced in [...] in format of [RESTApiId:Method:Resource:Stage]"). Integrations are
        the ones put through the proxy (moto drops connectionId), forgotten with their method,
        resource or API."""
        link_id = path_ids(req)[-1]
        with self.world.lock:
            users = [f"{api}:{verb}:{resource}:-"
                     for (api, resource, verb), link in self.world.integration_links.items()
                     if link == link_id]
            users += [f"{api}:-:-:{stage}"
                      for (api, stage), deployment in self.world.stage_deployments.items()
                      if link_id in self.world.deployment_links.get((api, deployment), ())]
        if not users:
            return None
        return error_reply(req, 400, "BadRequestException",
                           f"Cannot delete vpc link. Vpc link '{link_id}', is referenced in "
                           f"[{', '.join(sorted(users))}] in format of "
                           "[RESTApiId:Method:Resource:Stage].")

    def load_balancer_used_by_vpc_link(self, req: Request) -> Reply | None:
        """ELBv2 DeleteLoadBalancer of a load balancer in the targetArns of a REST VPC link
        that still exists (listed by moto, or DELETING as the proxy answers it) -> 400
        ResourceInUse, as AWS does."""
        arn = req.form_params().get("LoadBalancerArn")
        if not arn:
            return None
        message = (f"Load balancer '{arn}' cannot be deleted because it is currently "
                   "associated with another service")
        now = time.monotonic()
        with self.world.lock:
            recorded = [(link_id, string_list(link["doc"].get("targetArns")))
                        for link_id, link in self.world.vpc_links.items()]
        for link_id, targets in recorded:
            if arn in targets and (self.vpc_link_state(link_id, self.config, now) or ("",))[0] == "DELETING":
                return error_reply(req, 400, "ResourceInUse", message)
        for link in self.upstream_vpc_links(req):
            if arn in string_list(link.get("targetArns")):
                return error_reply(req, 400, "ResourceInUse", message)
        return None

    def forward(self, req: Request) -> Reply:
        headers = forwardable_headers(req.headers)
        if not any(k.lower() == "host" for k, _ in headers):
            headers.append(("Host", f"{self.upstream.host}:{self.upstream.port}"))
        return self.upstream.send(req.method, req.target, headers, aws_defaults(req))

    # -- eventual consistency ----------------------------------------------

    def not_found_error(self, req: Request, cfg: dict) -> Reply | None:
        window = float(cfg["not_found_after_create_seconds"] or 0)
        if window <= 0 or req.protocol != "ec2":
            return None
        describe = req.action.startswith("Describe")
        values = {v for k, v in req.form_params().items()
                  if not (describe and k.startswith("Filter."))}
        now = time.monotonic()
        with self.world.lock:
            hits = [(rid, info) for rid, info in self.world.new_ids.items()
                    if rid in values and now - info[0] < window]
        if not hits or not self.chance(cfg["not_found_fraction"]):
            return None
        rid, (_, code, noun) = hits[0]
        return error_reply(req, 400, code, f"The {noun} '{rid}' does not exist")

    # -- deletion dependencies ---------------------------------------------

    def dependency_error(self, req: Request, cfg: dict) -> Reply | None:
        if cfg["linger_seconds"] is None:
            return None
        linger = float(cfg["linger_seconds"])
        check = {
            ("ec2", "DeleteSecurityGroup"): self.ec2_interface_dependency,
            ("ec2", "DeleteSubnet"): self.ec2_interface_dependency,
            ("elasticloadbalancing", "DeleteTargetGroup"): self.target_group_dependency,
            ("servicediscovery", "DeleteNamespace"): self.namespace_dependency,
            ("servicediscovery", "DeleteService"): self.discovery_service_dependency,
            ("ecs", "DeleteCluster"): self.cluster_dependency,
        }.get((req.service, req.action))
        return check(req, linger) if check else None

    def ec2_interface_dependency(self, req: Request, linger: float) -> Reply | None:
        params = req.form_params()
        if req.action == "DeleteSecurityGroup":
            rid = params.get("GroupId") or params.get("GroupName", "")
            message = f"resource {rid} has a dependent object"
        else:
            rid = params.get("SubnetId", "")
            message = f"The subnet '{rid}' has dependencies and cannot be deleted."
        now = time.monotonic()
        with self.world.lock:
            first = self.world.first_delete.setdefault(rid, now)
            lingering = ("ecs:DeleteService", "elb:DeleteLoadBalancer")
            released = [self.world.events[e] for e in lingering if e in self.world.events]
            # "release": as AWS, the interfaces go S s after their tasks or load balancer,
            # whenever the group or subnet is first asked to go; "first_delete": a first
            # attempt always meets them (to exercise the retry).
            counted = released if self.config["linger_from"] == "release" else [first] + released
            since = max(counted, default=float("-inf"))
        if now - since < linger:
            return error_reply(req, 400, "DependencyViolation", message)
        return None

    def target_group_dependency(self, req: Request, linger: float) -> Reply | None:
        now = time.monotonic()
        with self.world.lock:
            age = self.world.event_age("elb:ListenerChange", now)
        if age < linger:
            arn = req.form_params().get("TargetGroupArn", "")
            return error_reply(req, 400, "ResourceInUse",
                               f"Target group '{arn}' is currently in use by a listener or a rule")
        return None

    def discovery_service_dependency(self, req: Request, linger: float) -> Reply | None:
        now = time.monotonic()
        with self.world.lock:
            age = self.world.event_age("ecs:DeleteService", now)
        if age < linger:
            return error_reply(req, 400, "ResourceInUse",
                               "The specified resource can't be deleted because it contains "
                               "other resources (registered instances).")
        return None

    def namespace_dependency(self, req: Request, linger: float) -> Reply | None:
        namespace = req.json_body().get("Id")
        try:
            services = self.upstream_pages(req, "servicediscovery", "ListServices", {},
                                           "Services", "NextToken")
        except Exception as exc:  # never block on a failed side call
            log_warning(f"ListServices side call failed: {exc}")
            return None
        if any(s.get("NamespaceId") == namespace for s in services):
            return error_reply(req, 400, "ResourceInUse",
                               "The specified resource can't be deleted because it contains "
                               "other resources (services).")
        return None

    def cluster_dependency(self, req: Request, linger: float) -> Reply | None:
        now = time.monotonic()
        with self.world.lock:
            age = self.world.event_age("ecs:DeleteService", now)
        blocked = age < linger
        if not blocked:
            blocked = self.cluster_has_live_services(req)
        if blocked:
            return error_reply(req, 400, "ClusterContainsServicesException",
                               "The Cluster cannot be deleted while Services are active.")
        return None

    def cluster_has_live_services(self, req: Request) -> bool:
        cluster = req.json_body().get("cluster", "default")
        try:
            arns = self.upstream_pages(req, "ecs", "ListServices", {"cluster": cluster},
                                       "serviceArns", "nextToken")
            for i in range(0, len(arns), 10):
                described = self.upstream_json(req, "ecs", "DescribeServices",
                                               {"cluster": cluster, "services": arns[i:i + 10]})
                if any(s.get("status") in ("ACTIVE", "DRAINING") for s in described.get("services", [])):
                    return True
        except Exception as exc:
            log_warning(f"ECS side call failed: {exc}")
        return False

    def upstream_json(self, req: Request, service: str, action: str, payload: dict) -> dict:
        """Call upstream as the client, reusing its (unverified) signature headers."""
        headers = [(k, v) for k, v in req.headers
                   if k.lower() in ("host", "authorization", "x-amz-date", "x-amz-security-token",
                                    "user-agent")]
        headers += [("Content-Type", "application/x-amz-json-1.1"),
                    ("X-Amz-Target", f"{JSON_TARGET_PREFIX[service]}.{action}")]
        reply = self.upstream.send("POST", "/", headers, json.dumps(payload).encode())
        if reply.status != 200:
            raise RuntimeError(f"{service}:{action} -> HTTP {reply.status}")
        return json.loads(reply.body or b"{}")

    def upstream_query(self, req: Request, service: str, action: str, params: dict) -> ElementTree.Element:
        """Call upstream in the query protocol (ec2 / elasticloadbalancing) as the
        client: its (unverified) signature headers with the credential scope's service
        swapped, since moto routes a request by that service name."""
        headers = scoped_headers(req, service)
        headers.append(("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"))
        form = dict(params, Action=action, Version=QUERY_VERSIONS[service])
        reply = self.upstream.send("POST", "/", headers, urllib.parse.urlencode(form).encode())
        if reply.status != 200:
            raise UpstreamError(f"{service}:{action} -> HTTP {reply.status}")
        return strip_namespaces(ElementTree.fromstring(reply.body))

    def upstream_query_pages(self, req: Request, service: str, action: str, params: dict):
        marker = None
        for _ in range(1000):
            page = self.upstream_query(req, service, action, dict(params, Marker=marker) if marker else params)
            yield page
            marker = next((e.text for e in xml_iter(page, "NextMarker") if e.text), None)
            if not marker:
                return

    def upstream_pages(self, req, service, action, payload, items_key, token_key) -> list:
        items, token = [], None
        for _ in range(1000):
            page_payload = dict(payload, **{token_key: token}) if token else payload
            page = self.upstream_json(req, service, action, page_payload)
            items += page.get(items_key) or []
            token = page.get(token_key)
            if not token:
                break
        return items

    def upstream_rest(self, req: Request, method: str, path: str) -> Reply:
        """Call API Gateway's REST API upstream as the client (its unverified signature
        headers re-scoped to apigateway, which moto routes by)."""
        headers = scoped_headers(req, "apigateway") + [("Accept", "application/json")]
        return self.upstream.send(method, path, headers, b"")

    def upstream_vpc_links(self, req: Request) -> list[dict]:
        links, position = [], None
        for _ in range(1000):
            query = {"limit": "500"} | ({"position": position} if position else {})
            reply = self.upstream_rest(req, "GET", "/vpclinks?" + urllib.parse.urlencode(query))
            if reply.status != 200:
                raise UpstreamError(f"apigateway:GetVpcLinks -> HTTP {reply.status}")
            page = json_doc(reply.body) or {}
            links += [item for item in page.get("item") or [] if isinstance(item, dict)]
            position = page.get("position")
            if not position:
                break
        return links

    # -- learning from responses --------------------------------------------

    def observe(self, req: Request, reply: Reply):
        if reply.status >= 300:
            return
        now = time.monotonic()
        world = self.world
        # Decided once per link, outside the world lock (the random generator has its own).
        link_fails = req.key == "apigateway:POST /vpclinks" and self.chance(self.config["vpc_link_fail"])
        with world.lock:
            if req.service == "apigateway":
                self.observe_apigateway(req, reply, now, link_fails)
            if req.service == "ec2" and req.action in EVENTUALLY_CONSISTENT:
                tag, code, noun = EVENTUALLY_CONSISTENT[req.action]
                rid = first_element(reply.text(), tag)
                if rid:
                    world.new_ids[rid] = (now, code, noun)
                    if req.action == "CreateNatGateway":
                        world.nat_created[rid] = now
                        if self.config["nat_fail"]:
                            world.nat_failed.add(rid)
            elif req.key == "ec2:DeleteNatGateway":
                rid = first_element(reply.text(), "natGatewayId")
                if rid:
                    world.nat_deleted.setdefault(rid, now)
            elif req.key == "elasticloadbalancing:CreateLoadBalancer":
                arn = first_element(reply.text(), "LoadBalancerArn")
                if arn:
                    world.lb_created.setdefault(arn, now)
            elif req.key == "rds:CreateDBInstance":
                ident = first_element(reply.text(), "DBInstanceIdentifier")
                if ident:
                    # A replacement keeps the identifier: each new instance creates anew.
                    world.db_created[ident] = now
            elif req.service == "servicediscovery" and req.action in NAMESPACE_OPERATIONS:
                op = json_field(reply.body, "OperationId")
                if op:
                    world.ops_created[op] = now
            if req.key in ("ecs:CreateService", "ecs:UpdateService"):
                service = json_doc(reply.body) or {}
                arn = (service.get("service") or {}).get("serviceArn")
                if isinstance(arn, str):
                    world.service_deployed[arn] = now
            if req.key == "ecs:DeleteService":
                world.events["ecs:DeleteService"] = now
            if req.key == "elasticloadbalancing:DeleteLoadBalancer":
                world.events["elb:DeleteLoadBalancer"] = now
            if req.key in ("elasticloadbalancing:DeleteLoadBalancer", "elasticloadbalancing:DeleteListener"):
                # What is gone no longer answers a create of the same settings.
                gone = req.form_params().get("LoadBalancerArn") or req.form_params().get("ListenerArn")
                if gone:
                    for key in [k for k, r in world.token_answers.items()
                                if k[0] in NATURAL_KEYS and (gone in r.text() or gone in k[1])]:
                        del world.token_answers[key]
            if req.key in ("elasticloadbalancing:DeleteLoadBalancer", "elasticloadbalancing:DeleteListener",
                           "elasticloadbalancing:DeleteRule"):
                world.events["elb:ListenerChange"] = now

    def observe_apigateway(self, req: Request, reply: Reply, now: float, link_fails: bool):
        """Remember REST VPC links and which integrations use them (world.lock held)."""
        world, action = self.world, req.action
        if action == "POST /vpclinks":
            doc = json_doc(reply.body)
            if doc and isinstance(doc.get("id"), str):
                world.vpc_links[doc["id"]] = {"created": now, "failed": link_fails,
                                              "deleted": None, "doc": doc}
        elif action == "DELETE /vpclinks/{}":
            link = world.vpc_links.get(path_ids(req)[0])
            if link and link["deleted"] is None:
                link["deleted"] = now
        elif action == "PUT /restapis/{}/resources/{}/methods/{}/integration":
            key, body = tuple(path_ids(req)), req.json_body()
            if body.get("connectionType") == "VPC_LINK" and isinstance(body.get("connectionId"), str):
                world.integration_links[key] = body["connectionId"]
            else:
                world.integration_links.pop(key, None)
        elif action in ("DELETE /restapis/{}/resources/{}/methods/{}",
                        "DELETE /restapis/{}/resources/{}/methods/{}/integration"):
            world.integration_links.pop(tuple(path_ids(req)[:3]), None)
        elif action == "DELETE /restapis/{}/resources/{}":
            api, resource = path_ids(req)[:2]
            for key in [k for k in world.integration_links if k[:2] == (api, resource)]:
                del world.integration_links[key]
        elif action == "DELETE /restapis/{}":
            api = path_ids(req)[0]
            for table in (world.integration_links, world.deployment_links, world.stage_deployments):
                for key in [k for k in table if k[0] == api]:
                    del table[key]
        elif action == "POST /restapis/{}/deployments":
            api, doc = path_ids(req)[0], json_doc(reply.body) or {}
            if isinstance(doc.get("id"), str):
                world.deployment_links[(api, doc["id"])] = {
                    link for key, link in world.integration_links.items() if key[0] == api}
                stage = req.json_body().get("stageName")
                if isinstance(stage, str):
                    world.stage_deployments[(api, stage)] = doc["id"]
        elif action == "POST /restapis/{}/stages":
            body = req.json_body()
            if isinstance(body.get("stageName"), str) and isinstance(body.get("deploymentId"), str):
                world.stage_deployments[(path_ids(req)[0], body["stageName"])] = body["deploymentId"]
        elif action == "PATCH /restapis/{}/stages/{}":
            for op in req.json_body().get("patchOperations") or []:
                if isinstance(op, dict) and op.get("path") == "/deploymentId" \
                        and isinstance(op.get("value"), str):
                    world.stage_deployments[tuple(path_ids(req)[:2])] = op["value"]
        elif action == "DELETE /restapis/{}/stages/{}":
            world.stage_deployments.pop(tuple(path_ids(req)[:2]), None)
        elif action == "PATCH /restapis/{}/resources/{}/methods/{}/integration":
            key = tuple(path_ids(req))
            for op in req.json_body().get("patchOperations") or []:
                if not isinstance(op, dict):
                    continue
                if op.get("path") == "/connectionId" and isinstance(op.get("value"), str):
                    world.integration_links[key] = op["value"]
                elif op.get("path") == "/connectionType" and op.get("value") != "VPC_LINK":
                    world.integration_links.pop(key, None)

    # -- pending states -----------------------------------------------------

    def rewrite_pending(self, req: Request, reply: Reply, cfg: dict) -> bool:
        if reply.status != 200 or is_encoded(reply):
            return False
        pending = cfg["pending_seconds"] or {}
        rewriter = {
            "ec2:CreateNatGateway": (self.rewrite_nat, "nat_gateway"),
            "ec2:DescribeNatGateways": (self.rewrite_nat, "nat_gateway"),
            "elasticloadbalancing:CreateLoadBalancer": (self.rewrite_lb, "load_balancer"),
            "elasticloadbalancing:DescribeLoadBalancers": (self.rewrite_lb, "load_balancer"),
            "servicediscovery:GetOperation": (self.rewrite_operation, "namespace_operation"),
            "rds:CreateDBInstance": (self.rewrite_db_instance, "db_instance"),
            "rds:DescribeDBInstances": (self.rewrite_db_instance, "db_instance"),
        }.get(req.key)
        if not rewriter:
            return False
        seconds = float(pending.get(rewriter[1]) or 0)
        if not seconds > 0 and not (rewriter[1] == "nat_gateway" and self.world.nat_failed):
            return False
        new_body = rewriter[0](reply.body, seconds, time.monotonic())
        if new_body is None:
            return False
        reply.body = new_body
        return True

    def rewrite_service_tasks(self, req: Request, reply: Reply, cfg: dict) -> bool:
        """``service_start_s``: a service's tasks run that long after its create or update."""
        seconds = float(cfg["service_start_s"] or 0)
        if req.key != "ecs:DescribeServices" or reply.status != 200 or seconds <= 0:
            return False
        doc = json_doc(reply.body)
        if not isinstance(doc, dict):
            return False
        now = time.monotonic()
        with self.world.lock:
            deployed = dict(self.world.service_deployed)
        for service in doc.get("services") or []:
            at = deployed.get(service.get("serviceArn"))
            if at is None or service.get("status") != "ACTIVE":
                continue
            started = now - at >= seconds
            running = service.get("desiredCount", 0) if started else 0
            service["runningCount"] = running
            service["pendingCount"] = service.get("desiredCount", 0) - running
            deployments = service.get("deployments") or []
            # Started: the new deployment alone, complete; before: still rolling out.
            if deployments:
                first = deployments[0]
                first["runningCount"] = running
                first["rolloutState"] = "COMPLETED" if started else "IN_PROGRESS"
                service["deployments"] = [first] if started else deployments
        reply.body = json.dumps(doc).encode()
        return True

    def rewrite_nat(self, body: bytes, seconds: float, now: float) -> bytes | None:
        def rewrite(nat_id: str, item: str) -> str | None:
            state = self.nat_state(nat_id, seconds, now)
            if state is None:
                return None
            item = replace_outside_nested(item, "item", r"<state>[^<]*</state>", f"<state>{state}</state>")
            if state == "failed" and "<failureCode>" not in item:
                code, message = NAT_FAILURE
                item = item.replace(f"<state>{state}</state>", f"<state>{state}</state>"
                                    f"<failureCode>{code}</failureCode><failureMessage>{message}</failureMessage>", 1)
            return item

        text = body.decode("utf-8")
        if "<natGatewaySet>" in text:
            text, changed = rewrite_set_items(text, "natGatewaySet", "item", "natGatewayId", rewrite)
        else:
            text, changed = rewrite_set_items(text, "CreateNatGatewayResponse", "natGateway",
                                              "natGatewayId", rewrite)
        return text.encode() if changed else None

    def nat_state(self, nat_id: str, seconds: float, now: float) -> str | None:
        with self.world.lock:
            deleted = self.world.nat_deleted.get(nat_id)
            created = self.world.nat_created.get(nat_id)
            failed = nat_id in self.world.nat_failed
        if deleted is not None:
            return "deleting" if now - deleted < seconds else None
        if created is not None and now - created < seconds:
            return "pending"
        return "failed" if failed else None

    def rewrite_lb(self, body: bytes, seconds: float, now: float) -> bytes | None:
        def rewrite(arn: str, member: str) -> str | None:
            with self.world.lock:
                created = self.world.lb_created.get(arn)
            if created is None or now - created >= seconds:
                return None
            return re.sub(r"(<State>\s*<Code>)[^<]*(</Code>)", r"\1provisioning\2", member, count=1)

        text, changed = rewrite_set_items(body.decode("utf-8"), "LoadBalancers", "member",
                                          "LoadBalancerArn", rewrite)
        return text.encode() if changed else None

    def rewrite_db_instance(self, body: bytes, seconds: float, now: float) -> bytes | None:
        def rewrite(ident: str, member: str) -> str | None:
            with self.world.lock:
                created = self.world.db_created.get(ident)
            if created is None or now - created >= seconds:
                return None
            status = first_element(member, "DBInstanceStatus")
            if status not in ("creating", "available", "backing-up"):
                return None  # deleting, modifying, ...: moto's own answer
            member = re.sub(r"<DBInstanceStatus>[^<]*</DBInstanceStatus>",
                            "<DBInstanceStatus>creating</DBInstanceStatus>", member, count=1)
            return re.sub(r"<Endpoint>.*?</Endpoint>", "", member, count=1, flags=re.S)

        text = body.decode("utf-8")
        container = "DBInstances" if "<DBInstances>" in text else "CreateDBInstanceResult"
        text, changed = rewrite_set_items(text, container, "DBInstance", "DBInstanceIdentifier",
                                          rewrite)
        return text.encode() if changed else None

    def rewrite_operation(self, body: bytes, seconds: float, now: float) -> bytes | None:
        try:
            doc = json.loads(body)
            operation = doc["Operation"]
        except (ValueError, KeyError, TypeError):
            return None
        with self.world.lock:
            created = self.world.ops_created.get(operation.get("Id"))
        if created is None or operation.get("Status") != "SUCCESS":
            return None
        age = now - created
        if age >= seconds:
            return None
        operation["Status"] = "SUBMITTED" if age < seconds / 2 else "PENDING"
        return json.dumps(doc).encode()

    # -- REST VPC link states ------------------------------------------------

    def vpc_link_state(self, link_id, cfg: dict, now: float) -> tuple[str, str | None] | None:
        """(status, statusMessage) the proxy answers for a VPC link it saw created, or
        None for moto's own answer."""
        with self.world.lock:
            link = self.world.vpc_links.get(link_id)
            link = dict(link) if link else None
        if link is None:
            return None
        if link["deleted"] is not None:
            if now - link["deleted"] < float(cfg["vpc_link_delete_s"] or 0):
                return "DELETING", None
            return None
        if now - link["created"] < float(cfg["vpc_link_pending_s"] or 0):
            return "PENDING", None
        if link["failed"]:
            return "FAILED", VPC_LINK_FAILURE
        return None

    def rewrite_vpc_links(self, req: Request, reply: Reply, cfg: dict) -> bool:
        """CreateVpcLink / GetVpcLink / GetVpcLinks (/ UpdateVpcLink) answers with the
        status the proxy simulates; a DELETING link moto already forgot is synthesised."""
        if req.service != "apigateway" or is_encoded(reply):
            return False
        action, now = req.action, time.monotonic()
        if action == "POST /vpclinks" and 200 <= reply.status < 300:
            doc = json_doc(reply.body)
            state = self.vpc_link_state(doc.get("id"), cfg, now) if doc else None
            if state is None:
                return False
            set_link_status(doc, ("PENDING", None))  # AWS answers every create with PENDING
            reply.body = json.dumps(doc).encode()
            return True
        if action in ("GET /vpclinks/{}", "PATCH /vpclinks/{}"):
            link_id = path_ids(req)[0]
            state = self.vpc_link_state(link_id, cfg, now)
            if state is None:
                return False
            if reply.status == 200:
                doc = json_doc(reply.body)
                if doc is None:
                    return False
                set_link_status(doc, state)
                reply.body = json.dumps(doc).encode()
                return True
            if reply.status == 404 and action.startswith("GET") and state[0] == "DELETING":
                reply.status, reply.reason = 200, "OK"
                reply.headers = [("x-amzn-RequestId", str(uuid.uuid4())),
                                 ("Content-Type", "application/json")]
                reply.body = json.dumps(self.deleting_link_doc(link_id)).encode()
                return True
            return False
        if action == "GET /vpclinks" and reply.status == 200:
            doc = json_doc(reply.body)
            if doc is None or not isinstance(doc.get("item", []), list):
                return False
            items, changed = doc.setdefault("item", []), False
            for item in items:
                state = self.vpc_link_state(item.get("id"), cfg, now) if isinstance(item, dict) else None
                if state:
                    set_link_status(item, state)
                    changed = True
            if "position" not in req.query:  # first page: links moto already forgot
                listed = {item.get("id") for item in items if isinstance(item, dict)}
                with self.world.lock:
                    deleted = [i for i, link in self.world.vpc_links.items()
                               if link["deleted"] is not None and i not in listed]
                for link_id in deleted:
                    if (self.vpc_link_state(link_id, cfg, now) or ("",))[0] == "DELETING":
                        items.append(self.deleting_link_doc(link_id))
                        changed = True
            if changed:
                reply.body = json.dumps(doc).encode()
            return changed
        return False

    def deleting_link_doc(self, link_id: str) -> dict:
        with self.world.lock:
            doc = copy.deepcopy(self.world.vpc_links[link_id]["doc"])
        set_link_status(doc, ("DELETING", None))
        return doc

    # -- bookkeeping ----------------------------------------------------------

    def record(self, req: Request, t_start: float, t_end: float, outcome: Outcome):
        self.stats.leave(req.key, t_start, t_end, outcome.injected)
        if self.log_file:
            line = json.dumps({"t_start": t_start, "t_end": t_end, "service": req.service,
                               "action": req.action, "status": outcome.status,
                               "injected": outcome.injected, "id": logged_id(req)})
            with self.log_lock:
                self.log_file.write(line + "\n")
                self.log_file.flush()


# Idempotency tokens AWS honours and moto ignores: a repeated create with the same token
# answers what the first one made
# (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html;
# Cloud Map's CreatorRequestId, https://docs.aws.amazon.com/cloud-map/latest/api/API_CreatePrivateDnsNamespace.html;
# ECS CreateService's clientToken, https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html).
TOKEN_PARAMETERS = {
    "ec2:CreateNatGateway": "ClientToken",
    "ec2:CreateRouteTable": "ClientToken",
    "servicediscovery:CreatePrivateDnsNamespace": "CreatorRequestId",
    "servicediscovery:CreateService": "CreatorRequestId",
    "ecs:CreateService": "clientToken",
}


# ELBv2 creates are idempotent by their settings, for as long as what they made exists: "If
# you attempt to create multiple load balancers [listeners] with the same settings, each call
# succeeds" (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html,
# API_CreateListener.html); moto makes a second one.  Forgotten when it is deleted.
NATURAL_KEYS = {
    "elasticloadbalancing:CreateLoadBalancer": ("Name",),
    "elasticloadbalancing:CreateListener": ("LoadBalancerArn", "Port"),
}


def idempotency_token(req: Request) -> tuple[str, str] | None:
    if req.key in NATURAL_KEYS:
        params = req.form_params()
        values = [params.get(p) or "" for p in NATURAL_KEYS[req.key]]
        return (req.key, "/".join(values)) if all(values) else None
    name = TOKEN_PARAMETERS.get(req.key)
    if not name:
        return None
    value = req.form_params().get(name) if req.protocol == "ec2" else req.json_body().get(name)
    return (req.key, value) if isinstance(value, str) and value else None


def request_identity(req: Request) -> str:
    """One request and its retries: action, path and body (the SDK resends the same body)."""
    path = req.target.split("?", 1)[0]
    return f"{req.key} {path} {hash(req.body)}"


def logged_id(req: Request) -> str | None:
    """The subnet or security group an EC2 request names (DeleteSubnet, DeleteSecurityGroup...)."""
    if req.service != "ec2":
        return None
    params = req.form_params()
    return params.get("SubnetId") or params.get("GroupId")


def aws_defaults(req: Request) -> bytes:
    """The body moto should see: members AWS defaults when absent, written out where moto
    reads absence differently.  The SDKs omit a boolean member at its default (false), so
    PutImageScanningConfiguration turning scanning off sends ``{}``, which AWS reads as
    ``scanOnPush: false`` and moto ignores (scanning stays on)."""
    if req.key == "ecr:PutImageScanningConfiguration":
        doc = req.json_body()
        config = doc.get("imageScanningConfiguration")
        if isinstance(config, dict) and "scanOnPush" not in config:
            config["scanOnPush"] = False
            return json.dumps(doc).encode()
    return req.body


def forwardable_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    listed = set()
    for name, value in headers:
        if name.lower() == "connection":
            listed |= {v.strip().lower() for v in value.split(",")}
    return [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP and k.lower() not in listed]


def is_encoded(reply: Reply) -> bool:
    return any(k.lower() == "content-encoding" and v.lower() not in ("", "identity")
               for k, v in reply.headers)


def json_doc(body: bytes) -> dict | None:
    try:
        doc = json.loads(body or b"null")
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def string_list(value) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def path_ids(req: Request) -> list[str]:
    """The identifiers of a REST path, the segments rest_label templates as {}."""
    segments = [s for s in req.path.split("/") if s]
    start = 1 if segments and segments[0] in ("v2",) else 0
    return [urllib.parse.unquote(seg) for i, seg in enumerate(segments)
            if i >= start and (i - start) % 2 == 1]


def set_link_status(doc: dict, state: tuple[str, str | None]):
    doc["status"] = state[0]
    if state[1]:
        doc["statusMessage"] = state[1]
    else:
        doc.pop("statusMessage", None)


def json_field(body: bytes, field: str):
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    return doc.get(field) if isinstance(doc, dict) else None


class UpstreamError(RuntimeError):
    pass


def scoped_headers(req: Request, service: str) -> list[tuple[str, str]]:
    """The client's signature headers, re-scoped to another service."""
    headers = []
    for name, value in req.headers:
        low = name.lower()
        if low == "authorization":
            value = re.sub(r"(Credential=[^/,\s]+/[^/]+/[^/]+/)[^/]+(/aws4_request)",
                           lambda m: m.group(1) + service + m.group(2), value)
        if low in ("host", "authorization", "x-amz-date", "x-amz-security-token", "user-agent"):
            headers.append((name, value))
    if not any(k.lower() == "authorization" for k, _ in headers):
        headers.append(("Authorization", f"AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/{service}"
                                         "/aws4_request, SignedHeaders=host, Signature=0"))
    return headers


def strip_namespaces(root: ElementTree.Element) -> ElementTree.Element:
    for element in root.iter():
        if isinstance(element.tag, str) and "}" in element.tag:
            element.tag = element.tag.rsplit("}", 1)[1]
    return root


def xml_iter(root: ElementTree.Element, tag: str):
    return root.iter(tag)


def xml_children(root: ElementTree.Element, container: str | None = None) -> list:
    """The <member>/<item> children of the first <container> (or of root itself)."""
    if container is not None:
        root = next(root.iter(container), None)
        if root is None:
            return []
    return list(root)


def xml_text(root: ElementTree.Element, tag: str) -> str | None:
    element = root.find(tag)
    return element.text if element is not None else None


def forwards_to(root: ElementTree.Element, target_group_arn: str) -> bool:
    """Whether any action under root (a listener or a DescribeRules page) names the group."""
    return any(e.text == target_group_arn for e in root.iter("TargetGroupArn"))


def log_warning(message: str):
    print(f"faultproxy: {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# HTTP front end
# --------------------------------------------------------------------------


class ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "faultproxy"
    proxy: FaultProxy  # set on the class by make_server

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format, *args):  # silence per-request logging
        pass

    def do_ANY(self):
        try:
            body = self.read_body()
        except (ValueError, OSError):
            self.close_connection = True
            return
        if self.path.startswith("/_proxy/"):
            self.write_reply(self.control(body))
        elif self.path.startswith("/moto-api/"):
            self.passthrough(body)
        else:
            self.handle_aws(Request(self.command, self.path, list(self.headers.items()), body))

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_ANY

    # -- request body ---------------------------------------------------------

    def read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self.read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def read_chunked(self) -> bytes:
        chunks = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline().strip():  # trailers
                    pass
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    # -- the three kinds of request --------------------------------------------

    def handle_aws(self, req: Request):
        proxy = self.proxy
        t_start = time.time()
        proxy.stats.enter()
        try:
            outcome = proxy.process(req)
        except Exception as exc:  # upstream unreachable or a bug: answer 502
            log_warning(f"{req.key}: {exc!r}")
            outcome = Outcome(Reply(502, [("Content-Type", "text/plain")], str(exc).encode()), None)
        # Recorded before the client gets its answer, so stats read right after a request
        # include it.
        proxy.record(req, t_start, time.time(), outcome)
        try:
            if outcome.reply is None:
                self.drop()
            else:
                self.write_reply(outcome.reply)
        except OSError:  # the client went away
            self.close_connection = True

    def passthrough(self, body: bytes):
        headers = forwardable_headers(list(self.headers.items()))
        try:
            reply = self.proxy.upstream.send(self.command, self.path, headers, body)
        except Exception as exc:
            reply = Reply(502, [("Content-Type", "text/plain")], str(exc).encode())
        if self.command == "POST" and self.path.rstrip("/") == "/moto-api/reset" and reply.status == 200:
            with self.proxy.world.lock:
                self.proxy.world.clear()
                self.proxy.pages.clear()
        self.write_reply(reply)

    def control(self, body: bytes) -> Reply:
        proxy, route = self.proxy, (self.command, self.path.split("?")[0].rstrip("/"))
        if route == ("GET", "/_proxy/health"):
            return json_reply({"ok": True})
        if route == ("GET", "/_proxy/config"):
            return json_reply(proxy.config)
        if route == ("POST", "/_proxy/config"):
            try:
                raw = json.loads(body or b"{}")
                if not isinstance(raw, dict):
                    raise ValueError("config must be a JSON object")
                proxy.set_config(raw)
            except (ValueError, KeyError, TypeError) as exc:
                return json_reply({"error": str(exc)}, 400)
            return json_reply(proxy.config)
        if route == ("GET", "/_proxy/stats"):
            return json_reply(proxy.stats.snapshot())
        if route == ("POST", "/_proxy/reset-stats"):
            proxy.stats.reset()
            return json_reply({"ok": True})
        if route == ("POST", "/_proxy/reset-state"):
            with proxy.world.lock:
                proxy.world.clear()
                proxy.pages.clear()
            return json_reply({"ok": True})
        return json_reply({"error": f"unknown control endpoint {route}"}, 404)

    # -- responses --------------------------------------------------------------

    def write_reply(self, reply: Reply):
        lines = [f"HTTP/1.1 {reply.status} {reply.reason}"]
        headers = [(k, v) for k, v in reply.headers if k.lower() not in HOP_BY_HOP]
        if not any(k.lower() == "date" for k, _ in headers):
            headers.append(("Date", formatdate(usegmt=True)))
        if self.command == "HEAD":
            length = next((v for k, v in reply.headers if k.lower() == "content-length"), "0")
            payload = b""
        else:
            length, payload = str(len(reply.body)), reply.body
        headers.append(("Content-Length", length))
        if self.close_connection:
            headers.append(("Connection", "close"))
        lines += [f"{k}: {v}" for k, v in headers]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
        self.wfile.write(head + payload)
        self.wfile.flush()

    def drop(self):
        """Close the connection without answering."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def json_reply(doc, status: int = 200) -> Reply:
    return Reply(status, [("Content-Type", "application/json")], json.dumps(doc).encode())


class ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


def make_server(port: int, proxy: FaultProxy) -> ProxyServer:
    handler = type("BoundProxyHandler", (ProxyHandler,), {"proxy": proxy})
    return ProxyServer(("127.0.0.1", port), handler)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Fault-injecting reverse proxy for moto (see the module docstring).")
    parser.add_argument("--upstream", required=True, help="http://127.0.0.1:MOTOPORT")
    parser.add_argument("--port", type=int, default=0, help="listen port on 127.0.0.1 (0 = any free port)")
    parser.add_argument("--config", help="JSON configuration file")
    parser.add_argument("--seed", type=int, help="seed for the random decisions (overrides the config's)")
    parser.add_argument("--log", help="append one JSON line per request to this file")
    parser.add_argument("--report", help="contract report JSON file (default: "
                        "$ECSFORM_CONTRACT_REPORT_DIR/proxy-<pid>.json when that is set)")
    return parser.parse_args(argv)


def contract_unavailable() -> str | None:
    """Why contract checking cannot run here, or None."""
    if contract is None:
        return f"{CONTRACT_IMPORT_ERROR}"
    try:
        contract.data_dir()
    except ImportError as exc:
        return f"{exc}"
    return None


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        upstream = Upstream(args.upstream)
    except ValueError as exc:
        print(f"faultproxy: {exc}", file=sys.stderr)
        return 2
    config = {}
    if args.config:
        with open(args.config, encoding="utf-8") as fh:
            config = json.load(fh)
    if args.seed is not None:
        config["seed"] = args.seed
    if (config.get("contract", DEFAULT_CONFIG["contract"])) and contract_unavailable():
        print("faultproxy: contract checking (config key \"contract\", on by default) needs the "
              "`regex` package and botocore's service models (pip install -r "
              f"requirements-emulator.txt): {contract_unavailable()}", file=sys.stderr)
        return 2
    report_path = args.report
    if not report_path and os.environ.get("ECSFORM_CONTRACT_REPORT_DIR"):
        report_path = os.path.join(os.environ["ECSFORM_CONTRACT_REPORT_DIR"], f"proxy-{os.getpid()}.json")
    try:
        report = ContractReport(report_path) if report_path else None
        proxy = FaultProxy(upstream, config, args.log, report)
    except ValueError as exc:
        print(f"faultproxy: bad configuration: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"faultproxy: cannot write the report: {exc}", file=sys.stderr)
        return 2
    if contract is not None:
        # Load the usual models now rather than on the first request (~0.1 s in all).
        threading.Thread(target=preload_models, name="contract-preload", daemon=True).start()

    def stop(signum, frame):
        if report:
            report.flush()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server = make_server(args.port, proxy)
    print(f"LISTENING {server.server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if report:
            report.flush()
    return 0


def preload_models():
    try:
        contract.preload()
    except Exception as exc:  # only an optimisation
        log_warning(f"preloading service models failed: {exc!r}")


if __name__ == "__main__":
    sys.exit(main())
