#!/usr/bin/env python3
"""contract -- check AWS requests against AWS's published service models.

moto accepts many values real AWS refuses (a CloudWatch Logs tag value with
parentheses, a 40-character target group name, ...).  This module decodes a
raw HTTP request the way the AWS service would, against the operation's input
shape in botocore's ``botocore/data/<service>/<version>/service-2.json(.gz)``
(the JSON files only: botocore's own validator and serializers are not used),
and reports every constraint the model states plus a small table of documented
limits the models leave out (``EXTRA_RULES`` below).  Python 3.11; needs the
``regex`` package (model patterns use ``\\p{L}`` and friends) and an installed
botocore for its data files.

Library use (tools/faultproxy.py does this for every request)::

    import contract
    result = contract.check_request(signing_service, method, target, headers, body)
    # None: not a request this module can check (unknown service or protocol)
    # else result.service ("logs"), result.operation ("CreateLogGroup"),
    #      result.violations: [Violation(service, operation, path, rule, value, message)]

``signing_service`` is the SigV4 credential-scope service (``ec2``,
``elasticloadbalancing``, ``monitoring`` ...); ``target`` is path + query as
received; ``headers`` a list of (name, value) pairs or a mapping.

Protocols decoded: ``ec2`` and ``query`` (form parameters in the POST body or
the query string; ``Action`` names the operation), ``json`` (``X-Amz-Target:
Prefix.Operation``), ``rest-json`` (method + requestUri template) and
Smithy RPC v2 CBOR (``/service/S/operation/Op``).

Rules (``Violation.rule``): required, unknown, type, length, pattern, range,
enum, size, and the extra rules' names (ec2-sg-*, ec2-tag-*, elbv2-*, ecs-*).
Member paths use model member names with 0-based list indexes, map entries as
``.key``: ``TagSpecifications[0].Tags[2].Value``, ``tags.ecsform:lock-holder``.

Command line::

    python3 tools/contract.py actions REPORT...   # service:Operation pairs seen, by IAM prefix
    python3 tools/contract.py summary REPORT_DIR  # totals; exit 1 if any violation

REPORT files are the proxy's ``--report`` JSON files
(``{"validated", "violations", "by_action", ...}``); a directory argument
means every ``*.json`` file in it.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import gzip
import json
import math
import os
import re
import struct
import sys
import threading
import urllib.parse
import zlib

import regex  # third-party: \p{L} etc. in model patterns

# --------------------------------------------------------------------------
# Services
# --------------------------------------------------------------------------

# SigV4 credential-scope service name -> botocore model directory.
SIGNING_TO_MODEL = {
    "ec2": "ec2",
    "ecs": "ecs",
    "servicediscovery": "servicediscovery",
    "elasticloadbalancing": "elbv2",  # Version=2012-06-01 selects "elb" (classic)
    "iam": "iam",
    "logs": "logs",
    "sts": "sts",
    "acm": "acm",
    "apigateway": "apigateway",
    "application-autoscaling": "application-autoscaling",
    "monitoring": "cloudwatch",
    "rds": "rds",
    "ecr": "ecr",
    "secretsmanager": "secretsmanager",
    "ssm": "ssm",
    "servicequotas": "service-quotas",
    "autoscaling": "autoscaling",
    "elasticfilesystem": "efs",
    "events": "events",
    "kms": "kms",
    "dynamodb": "dynamodb",
    "sns": "sns",
    "sqs": "sqs",
    "cloudformation": "cloudformation",
    "lambda": "lambda",
}

# SigV4 service name -> IAM action prefix (used in service:Operation names).
IAM_PREFIX = {"monitoring": "cloudwatch", "elasticfilesystem": "elasticfilesystem"}

SUPPORTED_PROTOCOLS = ("ec2", "query", "json", "rest-json", "smithy-rpc-v2-cbor")

# Parameters of the query protocols that are not input members.
QUERY_META_PARAMS = frozenset({
    "Action", "Version", "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date",
    "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token",
    "AWSAccessKeyId", "Signature", "SignatureMethod", "SignatureVersion", "Timestamp",
    "SecurityToken",
})

VALUE_LIMIT = 200

_data_dir = None
_models: dict[tuple[str, str], "Model"] = {}
_models_lock = threading.Lock()
skipped_patterns: set[str] = set()  # model patterns `regex` could not compile
_pattern_cache: dict[str, object] = {}


def data_dir() -> str:
    global _data_dir
    if _data_dir is None:
        import botocore  # only for the location of its data files
        _data_dir = os.path.join(os.path.dirname(botocore.__file__), "data")
    return _data_dir


def model_for(model_dir: str, version: str | None = None) -> "Model | None":
    """The cached model of botocore/data/<model_dir>/<version> (newest if absent)."""
    key = (model_dir, version or "")
    model = _models.get(key)
    if model is not None:
        return model
    with _models_lock:
        model = _models.get(key)
        if model is None:
            base = os.path.join(data_dir(), model_dir)
            if not os.path.isdir(base):
                return None
            versions = sorted(v for v in os.listdir(base) if os.path.isdir(os.path.join(base, v)))
            chosen = version if version in versions else (versions[-1] if versions else None)
            if chosen is None:
                return None
            if (model_dir, chosen) in _models:
                model = _models[(model_dir, chosen)]
            else:
                model = Model.load(model_dir, os.path.join(base, chosen))
                _models[(model_dir, chosen)] = model
            _models[key] = model
    return model


def preload(signing_services=("ec2", "ecs", "servicediscovery", "elasticloadbalancing", "iam",
                              "logs", "sts")) -> None:
    """Load (and index) the models of these services now rather than on first use."""
    for name in signing_services:
        model = model_for(SIGNING_TO_MODEL.get(name, name))
        if model is not None:
            model.index()


def iam_prefix(signing_service: str) -> str:
    return IAM_PREFIX.get(signing_service, signing_service)


# --------------------------------------------------------------------------
# Models and shapes
# --------------------------------------------------------------------------


def compile_pattern(source: str):
    """The compiled model pattern, or None (and recorded in skipped_patterns)."""
    compiled = _pattern_cache.get(source, False)
    if compiled is not False:
        return compiled
    translated = source
    # Java spells supplementary characters as UTF-16 surrogate pairs
    # (\uD800\uDC00-\uDBFF\uDFFF = U+10000..U+10FFFF); Python regexes use code points.
    translated = re.sub(r"\\u[dD]800\\u[dD][cC]00-\\u[dD][bB][fF][fF]\\u[dD][fF][fF][fF]",
                        r"\\U00010000-\\U0010FFFF", translated)
    try:
        compiled = regex.compile(translated)
    except Exception:  # noqa: BLE001 - any compile failure: skip the rule
        compiled = None
        skipped_patterns.add(source)
    _pattern_cache[source] = compiled
    return compiled


def _cap(name: str) -> str:
    return name[:1].upper() + name[1:]


class Member:
    __slots__ = ("name", "shape_name", "model", "location", "location_name", "query_name",
                 "flattened", "timestamp_format", "_shape")

    def __init__(self, model: "Model", name: str, ref: dict):
        self.name = name
        self.model = model
        self.shape_name = ref["shape"]
        self.location = ref.get("location")
        self.location_name = ref.get("locationName")
        self.query_name = ref.get("queryName")
        self.flattened = bool(ref.get("flattened"))
        self.timestamp_format = ref.get("timestampFormat")
        self._shape = None

    @property
    def shape(self) -> "Shape":
        if self._shape is None:
            self._shape = self.model.shape(self.shape_name)
        return self._shape


class Shape:
    __slots__ = ("model", "name", "type", "min", "max", "pattern", "pattern_source", "enum",
                 "members", "required", "member", "key", "value", "flattened", "document",
                 "union", "sparse", "payload", "_ec2_names", "_query_names", "_json_names",
                 "_json_required")

    def __init__(self, model: "Model", name: str, raw: dict):
        self.model = model
        self.name = name
        self.type = raw.get("type", "structure")
        self.min = raw.get("min")
        self.max = raw.get("max")
        self.pattern_source = raw.get("pattern")
        self.pattern = compile_pattern(self.pattern_source) if self.pattern_source else None
        enum = raw.get("enum")
        self.enum = frozenset(enum) if enum else None
        self.members = {n: Member(model, n, ref) for n, ref in raw.get("members", {}).items()}
        self.required = tuple(raw.get("required", ()))
        self.member = Member(model, "member", raw["member"]) if "member" in raw else None
        self.key = Member(model, "key", raw["key"]) if "key" in raw else None
        self.value = Member(model, "value", raw["value"]) if "value" in raw else None
        self.flattened = bool(raw.get("flattened"))
        self.document = bool(raw.get("document"))
        self.union = bool(raw.get("union"))
        self.sparse = bool(raw.get("sparse"))
        self.payload = raw.get("payload")
        self._ec2_names = self._query_names = self._json_names = self._json_required = None

    # -- wire names of structure members, per protocol ---------------------------

    def ec2_names(self) -> dict[str, str]:
        """EC2 parameter name -> member: queryName, else locationName capitalised,
        else the member name capitalised (botocore's EC2Serializer, Smithy's
        awsEc2 protocol).  Nothing else: EC2 silently ignores a parameter it does
        not know (``TagSpecification.1.Tags.1.Key`` tags nothing)."""
        if self._ec2_names is None:
            names = {}
            for m in self.members.values():
                if m.query_name:
                    names[m.query_name] = m.name
                elif m.location_name:
                    names[_cap(m.location_name)] = m.name
                else:
                    names[_cap(m.name)] = m.name
            self._ec2_names = names
        return self._ec2_names

    def query_names(self) -> dict[str, str]:
        """Query parameter name -> member: locationName or member name; a
        flattened list whose member has a locationName goes by that name."""
        if self._query_names is None:
            names = {}
            for m in self.members.values():
                wire = m.location_name or m.name
                target = m.shape
                if target.type == "list" and (m.flattened or target.flattened) \
                        and target.member.location_name:
                    names[target.member.location_name] = m.name
                names[wire] = m.name
            self._query_names = names
        return self._query_names

    def json_names(self) -> dict[str, str]:
        if self._json_names is None:
            self._json_names = {(m.location_name or m.name): m.name for m in self.members.values()
                                if m.location is None}
        return self._json_names

    def json_required(self) -> tuple[tuple[str, str], ...]:
        """(wire name, member name) of the required members sent in a JSON body."""
        if self._json_required is None:
            out = []
            for name in self.required:
                m = self.members.get(name)
                if m is not None and m.location is None:
                    out.append((m.location_name or m.name, name))
            self._json_required = tuple(out)
        return self._json_required


class Route:
    """A rest-json operation's method + requestUri template."""
    __slots__ = ("operation", "method", "regex", "labels", "literal_query", "score")

    def __init__(self, operation: str, method: str, request_uri: str):
        self.operation = operation
        self.method = method.upper()
        path, _, query = request_uri.partition("?")
        pieces, labels, literal = ["^"], [], 0
        for part in re.split(r"(\{[^}]+\})", path):
            if part.startswith("{") and part.endswith("}"):
                name = part[1:-1]
                greedy = name.endswith("+")
                labels.append(name.rstrip("+"))
                pieces.append("(.+)" if greedy else "([^/]+)")
            elif part:
                literal += len(part)
                pieces.append(re.escape(part))
        pieces.append("/?$" if path != "/" else "$")
        self.regex = re.compile("".join(pieces))
        self.labels = labels
        self.literal_query = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        self.score = (len(self.literal_query), literal, -len(labels))


class Model:
    def __init__(self, model_dir: str, raw: dict):
        self.model_dir = model_dir
        self.metadata = raw.get("metadata", {})
        protocols = self.metadata.get("protocols") or [self.metadata.get("protocol")]
        self.protocols = [p for p in protocols if p]
        self.protocol = self.metadata.get("protocol")
        self.target_prefix = self.metadata.get("targetPrefix")
        self.api_version = self.metadata.get("apiVersion")
        self.operations = raw.get("operations", {})
        self._raw_shapes = raw.get("shapes", {})
        self._shapes: dict[str, Shape] = {}
        self._routes: list[Route] | None = None
        self._lock = threading.Lock()

    @classmethod
    def load(cls, model_dir: str, version_dir: str) -> "Model":
        plain = os.path.join(version_dir, "service-2.json")
        if os.path.exists(plain):
            with open(plain, "rb") as fh:
                raw = json.load(fh)
        else:
            with gzip.open(plain + ".gz", "rb") as fh:
                raw = json.load(fh)
        return cls(model_dir, raw)

    def shape(self, name: str) -> Shape:
        shape = self._shapes.get(name)
        if shape is None:
            shape = Shape(self, name, self._raw_shapes[name])
            self._shapes[name] = shape
        return shape

    def input_shape(self, operation: str) -> Shape | None:
        ref = self.operations[operation].get("input")
        return self.shape(ref["shape"]) if ref else None

    def routes(self) -> list[Route]:
        if self._routes is None:
            with self._lock:
                if self._routes is None:
                    routes = []
                    for name, op in self.operations.items():
                        http = op.get("http") or {}
                        if "requestUri" in http:
                            routes.append(Route(name, http.get("method", "POST"), http["requestUri"]))
                    self._routes = routes
        return self._routes

    def index(self):
        """Build the lookup tables used on every request (routes)."""
        if self.protocol == "rest-json":
            self.routes()


# --------------------------------------------------------------------------
# Violations
# --------------------------------------------------------------------------


def _show(value) -> str:
    if isinstance(value, str):
        text = value
    elif isinstance(value, (bytes, bytearray)):
        text = repr(bytes(value))
    else:
        try:
            text = json.dumps(value, default=str)
        except (TypeError, ValueError):
            text = repr(value)
    if len(text) > VALUE_LIMIT:
        text = text[:VALUE_LIMIT] + "..."
    return text


class Violation:
    __slots__ = ("service", "operation", "path", "rule", "value", "detail")

    def __init__(self, service: str, operation: str, path: str, rule: str, value, detail: str):
        self.service = service
        self.operation = operation
        self.path = path
        self.rule = rule
        self.value = _show(value) if value is not None else None
        self.detail = detail

    @property
    def message(self) -> str:
        where = f" {self.path}" if self.path else ""
        return f"contract violation: {self.service}:{self.operation}{where}: {self.detail}"

    def to_dict(self) -> dict:
        return {"service": self.service, "operation": self.operation, "path": self.path,
                "rule": self.rule, "value": self.value, "message": self.message}

    def __repr__(self):
        return f"Violation({self.message!r}, rule={self.rule!r})"


class Result:
    __slots__ = ("service", "operation", "protocol", "violations", "value")

    def __init__(self, service: str, operation: str, protocol: str):
        self.service = service
        self.operation = operation
        self.protocol = protocol
        self.violations: list[Violation] = []
        self.value = None  # the decoded input (member names), for the extra rules

    @property
    def key(self) -> str:
        return f"{self.service}:{self.operation}"

    @property
    def ok(self) -> bool:
        return not self.violations

    def message(self) -> str:
        return "; ".join(v.message for v in self.violations)


def _q(value) -> str:
    return f'"{_show(value)}"'


# --------------------------------------------------------------------------
# Scalar parsing (values that arrive as text: query protocols, URI, headers)
# --------------------------------------------------------------------------

_INT_RE = re.compile(r"[+-]?[0-9]+")
_ISO_RE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?"
                     r"(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?)?")
_NUM_RE = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_SPECIAL_FLOATS = ("NaN", "Infinity", "-Infinity")
_FLOAT_WORD_RE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.I)
INT32 = (-2 ** 31, 2 ** 31 - 1)
INT64 = (-2 ** 63, 2 ** 63 - 1)


def _timestamp_text_ok(text: str) -> bool:
    text = text.strip()
    if _ISO_RE.fullmatch(text) or _NUM_RE.fullmatch(text):
        return True
    try:
        return email.utils.parsedate_to_datetime(text) is not None
    except (TypeError, ValueError, IndexError):
        return False


def _b64_len(text: str) -> int | None:
    try:
        return len(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError):
        return None


class CborTimestamp(float):
    """A CBOR tag-1 (epoch seconds) value."""


# --------------------------------------------------------------------------
# The checker: decoded value x shape -> violations
# --------------------------------------------------------------------------


class Checker:
    def __init__(self, result: Result):
        self.result = result
        self.out = result.violations

    def add(self, path: str, rule: str, value, detail: str):
        self.out.append(Violation(self.result.service, self.result.operation, path, rule,
                                  value, detail))

    # -- structures ---------------------------------------------------------------

    def structure(self, shape: Shape, value, path: str, wire: str | None):
        """wire: None = keys are member names (decoded query input), "json" =
        keys are JSON names, "cbor" = member names as sent in CBOR."""
        if shape.document:
            return
        if not isinstance(value, dict):
            self.add(path, "type", value, f"expected a structure ({shape.name}), got {_type_name(value)}")
            return
        members = shape.members
        if wire == "json":
            names = shape.json_names()
            for wire_name, name in shape.json_required():
                if value.get(wire_name) is None:
                    self.add(_join(path, name), "required", None,
                             f"required member {name} of {shape.name} is missing")
        else:
            names = None
            for name in shape.required:
                m = members.get(name)
                if m is not None and m.location is not None and wire is not None:
                    continue  # bound to the URI/headers: checked by the rest decoder
                if value.get(name) is None:
                    self.add(_join(path, name), "required", None,
                             f"required member {name} of {shape.name} is missing")
        set_members = 0
        for key, item in value.items():
            name = names.get(key) if names is not None else (key if key in members else None)
            if name is None:
                self.add(_join(path, key), "unknown", None, f"{key} is not a member of {shape.name}")
                continue
            if item is None:
                continue
            set_members += 1
            member = members[name]
            self.value(member.shape, item, _join(path, name), wire, member)
        if shape.union and set_members > 1:
            self.add(path, "type", None, f"{shape.name} is a union: set exactly one member, not {set_members}")

    # -- any value ------------------------------------------------------------------

    def value(self, shape: Shape, value, path: str, wire: str | None, member: Member | None = None):
        """wire None = scalars arrive as text (query, URI, header)."""
        kind = shape.type
        if kind == "structure":
            self.structure(shape, value, path, wire)
        elif kind == "list":
            if not isinstance(value, list):
                self.add(path, "type", value, f"expected a list ({shape.name}), got {_type_name(value)}")
                return
            self.size(shape, len(value), path)
            item_shape = shape.member.shape
            for i, item in enumerate(value):
                if item is None:
                    if not shape.sparse:
                        self.add(f"{path}[{i}]", "type", None, f"null in the non-sparse list {shape.name}")
                    continue
                self.value(item_shape, item, f"{path}[{i}]", wire)
        elif kind == "map":
            if not isinstance(value, dict):
                self.add(path, "type", value, f"expected a map ({shape.name}), got {_type_name(value)}")
                return
            self.size(shape, len(value), path)
            key_shape, value_shape = shape.key.shape, shape.value.shape
            for key, item in value.items():
                item_path = f"{path}.{key}" if path else str(key)
                self.scalar(key_shape, key, item_path + " (key)", wire, what="key ")
                if item is None:
                    if not shape.sparse:
                        self.add(item_path, "type", None, f"null in the non-sparse map {shape.name}")
                    continue
                self.value(value_shape, item, item_path, wire)
        else:
            self.scalar(shape, value, path, wire)

    def size(self, shape: Shape, n: int, path: str):
        lo, hi = shape.min, shape.max
        if (lo is not None and n < lo) or (hi is not None and n > hi):
            self.add(path, "size", None, f"{n} entries, {shape.name} allows {_bounds(lo, hi)}")

    def scalar(self, shape: Shape, value, path: str, wire: str | None, what: str = ""):
        kind = shape.type
        textual = wire is None
        if kind == "string":
            if not isinstance(value, str):
                self.add(path, "type", value, f"expected a string, got {_type_name(value)}")
                return
            self.string(shape, value, path, what)
        elif kind in ("integer", "long", "short", "byte", "bigInteger"):
            if textual:
                if not isinstance(value, str) or not _INT_RE.fullmatch(value):
                    self.add(path, "type", value, f"{_q(value)} is not an {kind}")
                    return
                number = int(value)
            elif isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or (isinstance(value, float) and not value.is_integer()):
                self.add(path, "type", value, f"expected an {kind}, got {_type_name(value)}")
                return
            else:
                number = int(value)
            bounds = INT32 if kind == "integer" else INT64 if kind == "long" else None
            if bounds and not bounds[0] <= number <= bounds[1]:
                self.add(path, "range", number, f"{number} does not fit in an {kind}")
            self.number(shape, number, path)
        elif kind in ("double", "float", "bigDecimal"):
            if textual:
                if not isinstance(value, str) or not (_NUM_RE.fullmatch(value) or _FLOAT_WORD_RE.fullmatch(value)):
                    self.add(path, "type", value, f"{_q(value)} is not a {kind}")
                    return
                number = float(value)
            elif isinstance(value, str) and value in _SPECIAL_FLOATS:
                return
            elif isinstance(value, bool) or not isinstance(value, (int, float)):
                self.add(path, "type", value, f"expected a {kind}, got {_type_name(value)}")
                return
            else:
                number = float(value)
            if not math.isnan(number):
                self.number(shape, number, path)
        elif kind == "boolean":
            if textual:
                if not isinstance(value, str) or value.lower() not in ("true", "false"):
                    self.add(path, "type", value, f"{_q(value)} is not a boolean (true/false)")
            elif not isinstance(value, bool):
                self.add(path, "type", value, f"expected a boolean, got {_type_name(value)}")
        elif kind == "timestamp":
            if isinstance(value, str):
                if not _timestamp_text_ok(value):
                    self.add(path, "type", value, f"{_q(value)} is not a timestamp")
            elif isinstance(value, bool) or not isinstance(value, (int, float)):
                self.add(path, "type", value, f"expected a timestamp, got {_type_name(value)}")
        elif kind == "blob":
            if isinstance(value, (bytes, bytearray)) and wire == "cbor":
                n = len(value)
            elif isinstance(value, str):
                n = _b64_len(value)
                if n is None:
                    self.add(path, "type", value, "blob is not valid base64")
                    return
            else:
                self.add(path, "type", value, f"expected a base64 blob, got {_type_name(value)}")
                return
            lo, hi = shape.min, shape.max
            if (lo is not None and n < lo) or (hi is not None and n > hi):
                self.add(path, "length", None, f"blob of {n} bytes, {shape.name} allows {_bounds(lo, hi)}")
        # unknown kinds: nothing to check

    def string(self, shape: Shape, value: str, path: str, what: str = ""):
        lo, hi = shape.min, shape.max
        if lo is not None or hi is not None:
            n = len(value)
            if (lo is not None and n < lo) or (hi is not None and n > hi):
                self.add(path, "length", value,
                         f"{what}length {n} outside {_bounds(lo, hi)} ({shape.name}): {_q(value)}")
        if shape.pattern is not None and shape.pattern.fullmatch(value) is None:
            self.add(path, "pattern", value,
                     f"{what}pattern {shape.pattern_source} refuses {_q(value)}")
        if shape.enum is not None and value not in shape.enum:
            allowed = sorted(shape.enum)
            listed = ", ".join(allowed[:12]) + (", ..." if len(allowed) > 12 else "")
            self.add(path, "enum", value, f"{what}{_q(value)} is not one of {shape.name}: {listed}")

    def number(self, shape: Shape, number, path: str):
        lo, hi = shape.min, shape.max
        if (lo is not None and number < lo) or (hi is not None and number > hi):
            self.add(path, "range", number, f"{_fmt_num(number)} outside {_bounds(lo, hi)} ({shape.name})")


def _fmt_num(n) -> str:
    return str(int(n)) if isinstance(n, float) and n.is_integer() else str(n)


def _bounds(lo, hi) -> str:
    if lo is not None and hi is not None:
        return f"{_fmt_num(lo)}..{_fmt_num(hi)}"
    if lo is not None:
        return f">= {_fmt_num(lo)}"
    return f"<= {_fmt_num(hi)}"


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _type_name(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {json.dumps(value)}"
    if isinstance(value, (int, float)):
        return f"number {value}"
    if isinstance(value, str):
        return f"string {_q(value)}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


# --------------------------------------------------------------------------
# Query / EC2 decoding: flat form parameters -> nested value
# --------------------------------------------------------------------------


class _Node:
    __slots__ = ("value", "children")

    def __init__(self):
        self.value = None
        self.children = None


def _param_tree(params) -> _Node:
    root = _Node()
    for key, value in params:
        node = root
        for part in key.split("."):
            children = node.children
            if children is None:
                children = node.children = {}
            child = children.get(part)
            if child is None:
                child = children[part] = _Node()
            node = child
        node.value = value
    return root


class QueryDecoder:
    """Decodes a parameter tree against a shape (member-named dicts, text scalars)."""

    def __init__(self, checker: Checker, ec2: bool):
        self.checker = checker
        self.ec2 = ec2

    def unknown(self, path: str, key: str, shape: Shape):
        self.checker.add(_join(path, key), "unknown", None, f"{key} is not a member of {shape.name}")

    def structure(self, shape: Shape, node: _Node, path: str, top: bool = False) -> dict:
        out = {}
        if node.children is None:
            if node.value not in (None, "") and not top:
                self.checker.add(path, "type", node.value,
                                 f"expected a structure ({shape.name}), got {_q(node.value)}")
            return out
        names = shape.ec2_names() if self.ec2 else shape.query_names()
        members = shape.members
        for key, child in node.children.items():
            name = names.get(key)
            if name is None:
                if top and key in QUERY_META_PARAMS:
                    continue
                self.unknown(path, key, shape)
                continue
            member = members[name]
            out[name] = self.value(member.shape, child, _join(path, name), member)
        return out

    def value(self, shape: Shape, node: _Node, path: str, member: Member | None = None):
        kind = shape.type
        if kind == "structure":
            return self.structure(shape, node, path)
        if kind == "list":
            return self.list(shape, node, path, member)
        if kind == "map":
            return self.map(shape, node, path, member)
        if node.children:
            for key in node.children:
                self.checker.add(_join(path, key), "unknown", None,
                                 f"{path} is a {kind} ({shape.name}) and has no member {key}")
        return node.value if node.value is not None else ""

    def _indexed(self, node: _Node, path: str, shape: Shape, what: str) -> list[tuple[int, _Node]]:
        items = []
        for key, child in (node.children or {}).items():
            if key.isdigit() and int(key) >= 1:
                items.append((int(key), child))
            else:
                self.checker.add(_join(path, key), "unknown", None,
                                 f"{key} is not a {what} index of {shape.name} (expected 1, 2, ...)")
        items.sort(key=lambda kv: kv[0])
        return items

    def list(self, shape: Shape, node: _Node, path: str, member: Member | None) -> list:
        if not node.children:
            if node.value not in (None, ""):
                self.checker.add(path, "type", node.value,
                                 f"expected a list ({shape.name}), got {_q(node.value)}")
            return []  # "Name=" is the query protocols' empty list
        item_shape = shape.member.shape
        flattened = self.ec2 or shape.flattened or (member is not None and member.flattened)
        container = node
        if not flattened:
            wrapper = shape.member.location_name or "member"
            inner = node.children.get(wrapper)
            for key in node.children:
                if key != wrapper:
                    self.checker.add(_join(path, key), "unknown", None,
                                     f"{shape.name} entries are {path}.{wrapper}.N, not {key}")
            if inner is None:
                return []
            container = inner
        return [self.value(item_shape, child, f"{path}[{i - 1}]")
                for i, child in self._indexed(container, path, shape, "list")]

    def map(self, shape: Shape, node: _Node, path: str, member: Member | None) -> dict:
        if not node.children:
            if node.value not in (None, ""):
                self.checker.add(path, "type", node.value,
                                 f"expected a map ({shape.name}), got {_q(node.value)}")
            return {}
        flattened = shape.flattened or (member is not None and member.flattened)
        container = node
        if not flattened and "entry" in node.children:
            container = node.children["entry"]
            for key in node.children:
                if key != "entry":
                    self.checker.add(_join(path, key), "unknown", None,
                                     f"{shape.name} entries are {path}.entry.N, not {key}")
        key_name = shape.key.location_name or "key"
        value_name = shape.value.location_name or "value"
        out = {}
        for i, entry in self._indexed(container, path, shape, "map entry"):
            children = entry.children or {}
            key_node, value_node = children.get(key_name), children.get(value_name)
            for extra in set(children) - {key_name, value_name}:
                self.checker.add(f"{path}.entry.{i}.{extra}", "unknown", None,
                                 f"map entries have {key_name} and {value_name}, not {extra}")
            if key_node is None or key_node.value is None:
                self.checker.add(f"{path}.entry.{i}", "required", None, f"map entry {i} has no {key_name}")
                continue
            key = key_node.value
            out[key] = (self.value(shape.value.shape, value_node, f"{path}.{key}")
                        if value_node is not None else None)
        return out


# --------------------------------------------------------------------------
# A minimal CBOR decoder (Smithy RPC v2 CBOR requests)
# --------------------------------------------------------------------------


class _CborError(ValueError):
    pass


def cbor_decode(data: bytes):
    value, end = _cbor_item(data, 0)
    if end != len(data):
        raise _CborError("trailing bytes")
    return value


_BREAK = object()


def _cbor_item(data: bytes, i: int):
    if i >= len(data):
        raise _CborError("truncated")
    initial = data[i]
    major, info = initial >> 5, initial & 31
    i += 1
    if major == 7:
        if info == 20:
            return False, i
        if info == 21:
            return True, i
        if info in (22, 23):
            return None, i
        if info == 25:
            return _half(data[i:i + 2]), i + 2
        if info == 26:
            return struct.unpack(">f", data[i:i + 4])[0], i + 4
        if info == 27:
            return struct.unpack(">d", data[i:i + 8])[0], i + 8
        if info == 31:
            return _BREAK, i
        raise _CborError("unsupported simple value")
    if info < 24:
        arg = info
    elif info in (24, 25, 26, 27):
        n = 1 << (info - 24)
        if i + n > len(data):
            raise _CborError("truncated")
        arg = int.from_bytes(data[i:i + n], "big")
        i += n
    elif info == 31 and major in (2, 3, 4, 5):
        arg = None  # indefinite length
    else:
        raise _CborError("bad additional info")
    if major == 0:
        return arg, i
    if major == 1:
        return -1 - arg, i
    if major in (2, 3):
        if arg is None:
            chunks = []
            while True:
                chunk, i = _cbor_item(data, i)
                if chunk is _BREAK:
                    break
                chunks.append(chunk)
            joined = (b"" if major == 2 else "").join(chunks)
            return joined, i
        raw = data[i:i + arg]
        if len(raw) != arg:
            raise _CborError("truncated")
        return (bytes(raw) if major == 2 else raw.decode("utf-8")), i + arg
    if major == 4:
        out = []
        while arg is None or len(out) < arg:
            item, i = _cbor_item(data, i)
            if item is _BREAK:
                if arg is None:
                    break
                raise _CborError("unexpected break")
            out.append(item)
        return out, i
    if major == 5:
        out = {}
        n = 0
        while arg is None or n < arg:
            key, i = _cbor_item(data, i)
            if key is _BREAK:
                if arg is None:
                    break
                raise _CborError("unexpected break")
            out[key], i = _cbor_item(data, i)
            n += 1
        return out, i
    if major == 6:
        item, i = _cbor_item(data, i)
        if arg == 1 and isinstance(item, (int, float)):
            return CborTimestamp(item), i
        return item, i
    raise _CborError("unreachable")


def _half(b: bytes) -> float:
    h = int.from_bytes(b, "big")
    exp, frac = (h >> 10) & 0x1F, h & 0x3FF
    sign = -1.0 if h & 0x8000 else 1.0
    if exp == 0:
        return sign * frac * 2.0 ** -24
    if exp == 31:
        return sign * math.inf if frac == 0 else math.nan
    return sign * (1 + frac / 1024.0) * 2.0 ** (exp - 15)


# --------------------------------------------------------------------------
# Entry point: one HTTP request
# --------------------------------------------------------------------------


def _header_map(headers) -> dict[str, str]:
    out: dict[str, str] = {}
    items = headers.items() if hasattr(headers, "items") else headers
    for name, value in items:
        key = name.lower()
        out[key] = f"{out[key]},{value}" if key in out else value
    return out


def _form_params(query: str, body: bytes, content_type: str) -> list[tuple[str, str]] | None:
    params = urllib.parse.parse_qsl(query, keep_blank_values=True) if query else []
    if body and ("x-www-form-urlencoded" in content_type or not content_type):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return None
        params += urllib.parse.parse_qsl(text, keep_blank_values=True)
    return params


def _decode_body(body: bytes, headers: dict[str, str]) -> bytes | None:
    encoding = headers.get("content-encoding", "").lower().strip()
    if encoding in ("gzip", "x-gzip"):
        try:
            return gzip.decompress(body)
        except (OSError, EOFError, ValueError, zlib.error):
            return None
    if encoding not in ("", "identity", "aws-chunked"):
        return None
    return body


def check_request(signing_service: str, method: str, target: str, headers, body: bytes) -> Result | None:
    """Decode and check one request; None when it cannot be checked."""
    hdrs = _header_map(headers)
    body = _decode_body(body or b"", hdrs)
    if body is None:
        return None
    model_dir = SIGNING_TO_MODEL.get(signing_service, signing_service)
    if not model_dir or "/" in model_dir or model_dir.startswith("."):
        return None
    split = urllib.parse.urlsplit(target)
    # API Gateway's V2 API (HTTP/WebSocket APIs, VPC links V2) signs as `apigateway` too; its
    # operations live under /v2/ in their own model.
    if model_dir == "apigateway" and split.path.startswith("/v2/"):
        model_dir = "apigatewayv2"
    service = iam_prefix(signing_service)
    amz_target = hdrs.get("x-amz-target")
    if amz_target:
        model = model_for(model_dir)
        if model is None or "json" not in model.protocols:
            return None
        return _check_json(model, service, amz_target, body)
    cbor = re.match(r"^/service/([^/]+)/operation/([^/]+)$", split.path)
    if cbor and "rpc-v2-cbor" in hdrs.get("smithy-protocol", ""):
        model = model_for(model_dir)
        if model is None or "smithy-rpc-v2-cbor" not in model.protocols:
            return None
        return _check_cbor(model, service, cbor.group(2), body)
    params = _form_params(split.query, body if method.upper() == "POST" else b"",
                          hdrs.get("content-type", ""))
    action = None
    version = None
    if params is not None:
        for key, value in params:
            if key == "Action":
                action = value
            elif key == "Version":
                version = value
    if action:
        if signing_service == "elasticloadbalancing" and version == "2012-06-01":
            model_dir = "elb"
        model = model_for(model_dir, version)
        if model is None or not ({"query", "ec2"} & set(model.protocols)):
            return None
        return _check_query(model, service, action, params, ec2=(model.protocol == "ec2"))
    model = model_for(model_dir)
    if model is None or model.protocol != "rest-json":
        return None
    return _check_rest_json(model, service, method, split, hdrs, body)


def _finish(model: Model, result: Result, shape: Shape | None) -> Result:
    rules = EXTRA_RULES.get((model.model_dir, result.operation))
    if rules and isinstance(result.value, dict):
        checker = Checker(result)
        for rule in rules:
            rule(checker, result.value, model)
    return result


def _check_query(model: Model, service: str, action: str, params, ec2: bool) -> Result:
    result = Result(service, action, "ec2" if ec2 else "query")
    checker = Checker(result)
    if action not in model.operations:
        checker.add("Action", "unknown", action, f"{_q(action)} is not an operation of {service}")
        return result
    shape = model.input_shape(action)
    tree = _param_tree(params)
    if shape is None:
        for key in tree.children or {}:
            if key not in QUERY_META_PARAMS:
                checker.add(key, "unknown", None, f"{action} takes no input, got {key}")
        result.value = {}
        return result
    decoder = QueryDecoder(checker, ec2)
    value = decoder.structure(shape, tree, "", top=True)
    # The query protocols send an empty list as "Name=" -- or not at all: an
    # absent required list is only a violation if the list may not be empty.
    for name in shape.required:
        if name not in value:
            target = shape.members[name].shape
            if target.type in ("list", "map") and not (target.min or 0):
                value[name] = [] if target.type == "list" else {}
    checker.structure(shape, value, "", None)
    result.value = value
    return _finish(model, result, shape)


def _check_json(model: Model, service: str, amz_target: str, body: bytes) -> Result:
    prefix, _, operation = amz_target.rpartition(".")
    result = Result(service, operation, "json")
    checker = Checker(result)
    if operation not in model.operations:
        checker.add("X-Amz-Target", "unknown", amz_target,
                    f"{_q(amz_target)} is not an operation of {service}")
        return result
    if model.target_prefix and prefix != model.target_prefix:
        checker.add("X-Amz-Target", "unknown", amz_target,
                    f"target prefix {_q(prefix)} is not {model.target_prefix}")
    try:
        doc = json.loads(body) if body.strip() else {}
    except (ValueError, UnicodeDecodeError, RecursionError):
        checker.add("", "type", None, "the body is not valid JSON")
        return result
    shape = model.input_shape(operation)
    if shape is None:
        if doc:
            checker.add("", "unknown", None, f"{operation} takes no input")
        result.value = {}
        return result
    checker.structure(shape, doc, "", "json")
    result.value = doc if isinstance(doc, dict) else None
    return _finish(model, result, shape)


def _check_cbor(model: Model, service: str, operation: str, body: bytes) -> Result:
    result = Result(service, operation, "cbor")
    checker = Checker(result)
    if operation not in model.operations:
        checker.add("", "unknown", operation, f"{_q(operation)} is not an operation of {service}")
        return result
    try:
        doc = cbor_decode(body) if body else {}
    except (ValueError, UnicodeDecodeError, struct.error, RecursionError):
        checker.add("", "type", None, "the body is not valid CBOR")
        return result
    shape = model.input_shape(operation)
    if shape is None:
        result.value = {}
        return result
    checker.structure(shape, doc, "", "cbor")
    result.value = doc if isinstance(doc, dict) else None
    return _finish(model, result, shape)


def _match_route(model: Model, method: str, path: str, query: dict[str, list[str]]):
    best = None
    for route in model.routes():
        if route.method != method:
            continue
        match = route.regex.match(path)
        if match is None:
            continue
        if any(query.get(k, [None])[0] != v and not (v == "" and k in query)
               for k, v in route.literal_query.items()):
            continue
        if best is None or route.score > best[0].score:
            best = (route, match)
    return best


def _check_rest_json(model: Model, service: str, method: str, split, hdrs: dict, body: bytes) -> Result | None:
    query = urllib.parse.parse_qs(split.query, keep_blank_values=True)
    found = _match_route(model, method.upper(), split.path, query)
    if found is None:
        result = Result(service, f"{method.upper()} {split.path}", "rest-json")
        Checker(result).add("", "unknown", None, f"no {service} operation is {method.upper()} {split.path}")
        return result
    route, match = found
    result = Result(service, route.operation, "rest-json")
    checker = Checker(result)
    shape = model.input_shape(route.operation)
    members = shape.members if shape else {}
    bound: dict[str, object] = {}
    labels = dict(zip(route.labels, (urllib.parse.unquote(g) for g in match.groups())))
    used_query = set(route.literal_query)
    query_map_member = None
    for name, m in members.items():
        loc = m.location
        if loc is None:
            continue
        wire = m.location_name or name
        if loc == "uri":
            if wire in labels:
                bound[name] = labels[wire]
        elif loc == "querystring":
            if m.shape.type == "map":
                query_map_member = m
            elif wire in query:
                used_query.add(wire)
                values = query[wire]
                if m.shape.type == "list":
                    bound[name] = values  # repeated key=value pairs
                else:
                    bound[name] = values[-1]
        elif loc == "header":
            value = hdrs.get(wire.lower())
            if value is not None:
                if m.shape.type == "list":
                    bound[name] = [v.strip() for v in value.split(",")] if value else []
                else:
                    bound[name] = value
        elif loc == "headers":
            prefix = wire.lower()
            entries = {k[len(prefix):]: v for k, v in hdrs.items() if k.startswith(prefix)}
            if entries:
                bound[name] = entries
    if query_map_member is not None:
        rest = {k: v[-1] for k, v in query.items() if k not in used_query}
        if rest:
            bound[query_map_member.name] = rest
            used_query |= set(rest)
    for key in query:
        if key not in used_query and not key.startswith("X-Amz-"):
            checker.add(key, "unknown", None, f"query parameter {key} is not a member of "
                        f"{shape.name if shape else route.operation}")
    # Body
    payload = shape.payload if shape else None
    doc = None
    if payload:
        pm = members[payload]
        if pm.shape.type == "structure":
            doc = _json_body(checker, body)
            if doc is not None and doc != {}:
                checker.value(pm.shape, doc, payload, "json")
                bound[payload] = doc
        elif body:
            bound[payload] = body
    else:
        doc = _json_body(checker, body)
        if isinstance(doc, dict) and shape is not None:
            names = shape.json_names()
            for key, item in doc.items():
                name = names.get(key)
                if name is None:
                    checker.add(key, "unknown", None, f"{key} is not a body member of {shape.name}")
                elif item is not None:
                    bound[name] = item
                    checker.value(members[name].shape, item, name, "json", members[name])
        elif doc not in (None, {}):
            checker.add("", "type", None, "the body is not a JSON object")
    if shape is not None:
        for name in shape.required:
            if bound.get(name) is None:
                checker.add(name, "required", None, f"required member {name} of {shape.name} is missing")
        for name, value in bound.items():
            m = members[name]
            if m.location is not None:
                checker.value(m.shape, value, name, None, m)
    result.value = bound
    return _finish(model, result, shape)


def _json_body(checker: Checker, body: bytes):
    if not body or not body.strip():
        return {}
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        checker.add("", "type", None, "the body is not valid JSON")
        return None


# --------------------------------------------------------------------------
# Documented limits the models leave out (one function per rule)
# --------------------------------------------------------------------------
# Each function gets (checker, decoded input keyed by member names, model) and
# calls checker.add(path, rule, value, detail) for every breach.

# https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html
# https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html (VPC groups:
# "a-z, A-Z, 0-9, spaces, and ._-:/()#,@[]+=&;{}!$*", up to 255 characters, name not "sg-...")
SG_TEXT_RE = re.compile(r"[a-zA-Z0-9 ._\-:/()#,@\[\]+=&;{}!$*]*")


def rule_ec2_sg_length(checker, value, model):
    for member in ("GroupName", "Description"):
        text = value.get(member)
        if isinstance(text, str) and not 1 <= len(text) <= 255:
            checker.add(member, "ec2-sg-length", text,
                        f"security group {member} must be 1..255 characters, is {len(text)}: {_q(text)}")


def rule_ec2_sg_chars(checker, value, model):
    for member in ("GroupName", "Description"):
        text = value.get(member)
        if isinstance(text, str) and not SG_TEXT_RE.fullmatch(text):
            bad = "".join(sorted({c for c in text if not SG_TEXT_RE.fullmatch(c)}))
            checker.add(member, "ec2-sg-chars", text,
                        f"security group {member} may only use a-z A-Z 0-9 spaces ._-:/()#,@[]+=&;{{}}!$* "
                        f"(refused: {bad!r}): {_q(text)}")


def rule_ec2_sg_name_prefix(checker, value, model):
    name = value.get("GroupName")
    if isinstance(name, str) and name.startswith("sg-"):
        checker.add("GroupName", "ec2-sg-name-prefix", name,
                    f"a security group name cannot start with sg-: {_q(name)}")


# https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_IpRange.html (and API_Ipv6Range,
# API_PrefixListId, API_UserIdGroupPair): a rule's Description "Constraints: Up to 255
# characters in length. Allowed characters are a-z, A-Z, 0-9, spaces, and ._-:/()#,@[]+=&;{}!$*"
def rule_ec2_sg_rule_description(checker, value, model):
    for i, perm in enumerate(value.get("IpPermissions") or []):
        if not isinstance(perm, dict):
            continue
        for member in ("IpRanges", "Ipv6Ranges", "PrefixListIds", "UserIdGroupPairs"):
            for j, entry in enumerate(perm.get(member) or []):
                text = entry.get("Description") if isinstance(entry, dict) else None
                if isinstance(text, str) and (len(text) > 255 or not SG_TEXT_RE.fullmatch(text)):
                    checker.add(f"IpPermissions[{i}].{member}[{j}].Description", "ec2-sg-rule-description", text,
                                "a security group rule description is up to 255 characters of a-z A-Z 0-9 "
                                f"spaces ._-:/()#,@[]+=&;{{}}!$*: {_q(text)}")


# https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_Tags.html#tag-restrictions
# Key 1..128 characters, value 0..256, no "aws:" prefix (any case), at most 50 tags per
# resource, keys unique per resource; and the cross-service character guidance: "letters,
# numbers, and spaces representable in UTF-8, and the following characters: + - = . _ : / @"
# (EC2 itself is more lenient, but the other services ecsform tags are not).
EC2_TAG_CHARS_RE = regex.compile(r"[\p{L}\p{Z}\p{N}+\-=._:/@]*")


def _ec2_tag_lists(value, model, operation):
    """(path, tags) for every tag list the request applies to one resource."""
    if operation == "CreateTags":
        tags = value.get("Tags")
        if isinstance(tags, list):
            yield "Tags", tags
    specs = value.get("TagSpecifications")
    if isinstance(specs, list):
        for i, spec in enumerate(specs):
            if isinstance(spec, dict) and isinstance(spec.get("Tags"), list):
                yield f"TagSpecifications[{i}].Tags", spec["Tags"]


def _ec2_tags(value, model, operation):
    for path, tags in _ec2_tag_lists(value, model, operation):
        for j, tag in enumerate(tags):
            if isinstance(tag, dict):
                yield f"{path}[{j}]", tag


def rule_ec2_tag_key_length(checker, value, model):
    for path, tag in _ec2_tags(value, model, checker.result.operation):
        key = tag.get("Key") or ""
        if isinstance(key, str) and not 1 <= len(key) <= 128:
            checker.add(f"{path}.Key", "ec2-tag-key-length", key,
                        f"an EC2 tag key must be 1..128 characters, is {len(key)}: {_q(key)}")


def rule_ec2_tag_value_length(checker, value, model):
    for path, tag in _ec2_tags(value, model, checker.result.operation):
        text = tag.get("Value")
        if isinstance(text, str) and len(text) > 256:
            checker.add(f"{path}.Value", "ec2-tag-value-length", text,
                        f"an EC2 tag value must be at most 256 characters, is {len(text)}: {_q(text)}")


def rule_ec2_tag_key_prefix(checker, value, model):
    for path, tag in _ec2_tags(value, model, checker.result.operation):
        key = tag.get("Key")
        if isinstance(key, str) and key.lower().startswith("aws:"):
            checker.add(f"{path}.Key", "ec2-tag-key-prefix", key,
                        f"tag keys starting with aws: are reserved for AWS: {_q(key)}")


def rule_ec2_tag_count(checker, value, model):
    for path, tags in _ec2_tag_lists(value, model, checker.result.operation):
        if len(tags) > 50:
            checker.add(path, "ec2-tag-count", None, f"{len(tags)} tags, at most 50 per resource")


def rule_ec2_tag_duplicate(checker, value, model):
    for path, tags in _ec2_tag_lists(value, model, checker.result.operation):
        seen = set()
        for j, tag in enumerate(tags):
            key = tag.get("Key") if isinstance(tag, dict) else None
            if key in seen:
                checker.add(f"{path}[{j}].Key", "ec2-tag-duplicate", key,
                            f"duplicate tag key {_q(key)} for one resource")
            seen.add(key)


def rule_ec2_tag_chars(checker, value, model):
    for path, tag in _ec2_tags(value, model, checker.result.operation):
        for member in ("Key", "Value"):
            text = tag.get(member)
            if isinstance(text, str) and not EC2_TAG_CHARS_RE.fullmatch(text):
                checker.add(f"{path}.{member}", "ec2-tag-chars", text,
                            f"tag {member.lower()}s may use letters, numbers, spaces and + - = . _ : / @ "
                            f"only: {_q(text)}")


# https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html
# https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html
# "This name must be unique per region per account, can have a maximum of 32 characters, must
# contain only alphanumeric characters or hyphens, must not begin or end with a hyphen" (and a
# load balancer name "must not begin with internal-").
ELB_NAME_RE = re.compile(r"[A-Za-z0-9-]*")


def rule_elbv2_name_length(checker, value, model):
    name = value.get("Name")
    if isinstance(name, str) and not 1 <= len(name) <= 32:
        checker.add("Name", "elbv2-name-length", name,
                    f"a load balancer or target group name must be 1..32 characters, is {len(name)}: {_q(name)}")


def rule_elbv2_name_chars(checker, value, model):
    name = value.get("Name")
    if isinstance(name, str):
        if not ELB_NAME_RE.fullmatch(name):
            checker.add("Name", "elbv2-name-chars", name,
                        f"a load balancer or target group name may only contain alphanumerics and hyphens: {_q(name)}")
        elif name.startswith("-") or name.endswith("-"):
            checker.add("Name", "elbv2-name-chars", name,
                        f"a load balancer or target group name must not begin or end with a hyphen: {_q(name)}")


def rule_elbv2_lb_name_internal(checker, value, model):
    name = value.get("Name")
    if isinstance(name, str) and name.startswith("internal-"):
        checker.add("Name", "elbv2-lb-name-internal", name,
                    f"a load balancer name must not begin with internal-: {_q(name)}")


# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-condition-types.html
# path-pattern: up to 128 characters, A-Z a-z 0-9 _ - . $ / ~ " ' @ : + & * ?
# host-header: up to 128 characters, A-Z a-z 0-9 - . * ?, at least one ".", only letters
#              after the last "."
# http-request-method: up to 40 characters, A-Z _ - (no wildcards)
# "You can specify up to three match evaluations per condition. You can specify up to five
# match evaluations per rule."  A condition value cannot be empty.
PATH_PATTERN_RE = re.compile(r"[A-Za-z0-9_\-.$/~\"'@:+&*?]*")
HOST_HEADER_RE = re.compile(r"[A-Za-z0-9\-.*?]*")
HOST_TAIL_RE = re.compile(r".*\.[A-Za-z*?]+")
HTTP_METHOD_RE = re.compile(r"[A-Z_-]*")
CONDITION_CONFIGS = ("HostHeaderConfig", "PathPatternConfig", "HttpHeaderConfig",
                     "QueryStringConfig", "HttpRequestMethodConfig", "SourceIpConfig")


def _condition_values(cond: dict, field: str, config: str):
    """(path, value) of the plain string values of a condition of this field."""
    if cond.get("Field") != field:
        return
    for i, v in enumerate(cond.get("Values") or []):
        yield f"Values[{i}]", v
    for i, v in enumerate((cond.get(config) or {}).get("Values") or []):
        yield f"{config}.Values[{i}]", v


def _conditions(value):
    conds = value.get("Conditions")
    if isinstance(conds, list):
        for i, cond in enumerate(conds):
            if isinstance(cond, dict):
                yield f"Conditions[{i}]", cond


def rule_elbv2_path_pattern(checker, value, model):
    for cpath, cond in _conditions(value):
        for vpath, v in _condition_values(cond, "path-pattern", "PathPatternConfig"):
            if not isinstance(v, str):
                continue
            if not 1 <= len(v) <= 128:
                checker.add(f"{cpath}.{vpath}", "elbv2-path-pattern", v,
                            f"a path pattern must be 1..128 characters, is {len(v)}: {_q(v)}")
            elif not PATH_PATTERN_RE.fullmatch(v):
                checker.add(f"{cpath}.{vpath}", "elbv2-path-pattern", v,
                            "a path pattern may only use A-Z a-z 0-9 _ - . $ / ~ \" ' @ : + & * ?: "
                            f"{_q(v)}")


def rule_elbv2_host_header(checker, value, model):
    for cpath, cond in _conditions(value):
        for vpath, v in _condition_values(cond, "host-header", "HostHeaderConfig"):
            if not isinstance(v, str):
                continue
            if not 1 <= len(v) <= 128:
                detail = f"a host header value must be 1..128 characters, is {len(v)}: {_q(v)}"
            elif not HOST_HEADER_RE.fullmatch(v):
                detail = f"a host header value may only use A-Z a-z 0-9 - . * ?: {_q(v)}"
            elif not HOST_TAIL_RE.fullmatch(v):
                detail = f"a host header value needs a \".\" and only letters after the last one: {_q(v)}"
            else:
                continue
            checker.add(f"{cpath}.{vpath}", "elbv2-host-header", v, detail)


def rule_elbv2_http_method(checker, value, model):
    for cpath, cond in _conditions(value):
        for vpath, v in _condition_values(cond, "http-request-method", "HttpRequestMethodConfig"):
            if isinstance(v, str) and (not 1 <= len(v) <= 40 or not HTTP_METHOD_RE.fullmatch(v)):
                checker.add(f"{cpath}.{vpath}", "elbv2-http-method", v,
                            f"an HTTP request method must be 1..40 characters of A-Z _ -: {_q(v)}")


def rule_elbv2_condition_values(checker, value, model):
    total = 0
    for cpath, cond in _conditions(value):
        n = len(cond.get("Values") or [])
        for config in CONDITION_CONFIGS:
            sub = cond.get(config)
            if isinstance(sub, dict):
                n += len(sub.get("Values") or [])
        n += len(cond.get("RegexValues") or [])
        for config in ("HostHeaderConfig", "PathPatternConfig", "HttpHeaderConfig"):
            sub = cond.get(config)
            if isinstance(sub, dict):
                n += len(sub.get("RegexValues") or [])
        if n > 3:
            checker.add(cpath, "elbv2-condition-values", None,
                        f"{n} match evaluations in one condition, at most 3")
        total += n
    if total > 5:
        checker.add("Conditions", "elbv2-condition-values", None,
                    f"{total} match evaluations in one rule, at most 5")


# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateCluster.html (clusterName),
# .../API_CreateService.html (serviceName), .../API_RegisterTaskDefinition.html (family),
# .../API_ContainerDefinition.html (name): "Up to 255 letters (uppercase and lowercase),
# numbers, underscores, and hyphens are allowed."
ECS_NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,255}")


def rule_ecs_name(checker, value, model):
    operation = checker.result.operation
    names = []
    if operation == "CreateCluster" and "clusterName" in value:
        names.append(("clusterName", value["clusterName"]))
    elif operation == "CreateService":
        names.append(("serviceName", value.get("serviceName")))
    elif operation == "RegisterTaskDefinition":
        names.append(("family", value.get("family")))
        for i, container in enumerate(value.get("containerDefinitions") or []):
            if isinstance(container, dict) and "name" in container:
                names.append((f"containerDefinitions[{i}].name", container["name"]))
    for path, name in names:
        if isinstance(name, str) and not ECS_NAME_RE.fullmatch(name):
            checker.add(path, "ecs-name", name,
                        f"ECS names are 1..255 letters, numbers, hyphens and underscores: {_q(name)}")


# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html
# (cpu "1024" or "1 vCPU", memory "1024" or "1 GB"; Fargate requires both at task level)
def _fargate_memory_options(cpu: int) -> set[int] | None:
    table = {
        256: {512, 1024, 2048},
        512: set(range(1024, 4096 + 1, 1024)),
        1024: set(range(2048, 8192 + 1, 1024)),
        2048: set(range(4096, 16384 + 1, 1024)),
        4096: set(range(8192, 30720 + 1, 1024)),
        8192: set(range(16384, 61440 + 1, 4096)),
        16384: set(range(32768, 122880 + 1, 8192)),
    }
    return table.get(cpu)


_UNIT_RE = re.compile(r"\s*(\d+(?:\.\d+)?|\.\d+)\s*([A-Za-z]*)\s*")


def _units(text, unit: str) -> int | None:
    """ "1024" -> 1024; "1 vCPU" / "1vcpu" -> 1024 (unit "vcpu"); "2 GB" -> 2048 (unit "gb")."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        text = str(text)
    if not isinstance(text, str):
        return None
    match = _UNIT_RE.fullmatch(text)
    if not match:
        return None
    number, suffix = float(match.group(1)), match.group(2).lower()
    if suffix == unit:
        number *= 1024
    elif suffix:
        return None
    return int(number) if number.is_integer() else None


def rule_ecs_fargate_cpu_memory(checker, value, model):
    if "FARGATE" not in (value.get("requiresCompatibilities") or []):
        return
    cpu_text, memory_text = value.get("cpu"), value.get("memory")
    if cpu_text is None or memory_text is None:
        missing = "cpu" if cpu_text is None else "memory"
        checker.add(missing, "ecs-fargate-cpu-memory", None,
                    f"Fargate requires that '{missing}' be defined at the task level")
        return
    cpu, memory = _units(cpu_text, "vcpu"), _units(memory_text, "gb")
    options = _fargate_memory_options(cpu) if cpu is not None else None
    if options is None:
        checker.add("cpu", "ecs-fargate-cpu-memory", cpu_text,
                    f"Fargate task cpu {_q(cpu_text)} is not one of 256, 512, 1024, 2048, 4096, 8192, 16384")
    elif memory not in options:
        checker.add("memory", "ecs-fargate-cpu-memory", memory_text,
                    f"Fargate task memory {_q(memory_text)} is not valid with cpu {_q(cpu_text)} "
                    f"(allowed MiB: {min(options)}..{max(options)}, {len(options)} values)")


EC2_TAG_RULES = (rule_ec2_tag_key_length, rule_ec2_tag_value_length, rule_ec2_tag_key_prefix,
                 rule_ec2_tag_count, rule_ec2_tag_duplicate, rule_ec2_tag_chars)
ELB_NAME_RULES = (rule_elbv2_name_length, rule_elbv2_name_chars)
ELB_CONDITION_RULES = (rule_elbv2_path_pattern, rule_elbv2_host_header, rule_elbv2_http_method,
                       rule_elbv2_condition_values)

SG_RULE_RULES = (rule_ec2_sg_rule_description,)

# (model dir, operation) -> rules; EC2 operations with TagSpecifications are added on load.
EXTRA_RULES: dict[tuple[str, str], tuple] = {
    ("ec2", "AuthorizeSecurityGroupIngress"): SG_RULE_RULES + EC2_TAG_RULES,
    ("ec2", "AuthorizeSecurityGroupEgress"): SG_RULE_RULES + EC2_TAG_RULES,
    ("ec2", "RevokeSecurityGroupIngress"): SG_RULE_RULES,
    ("ec2", "RevokeSecurityGroupEgress"): SG_RULE_RULES,
    ("ec2", "UpdateSecurityGroupRuleDescriptionsIngress"): SG_RULE_RULES,
    ("ec2", "UpdateSecurityGroupRuleDescriptionsEgress"): SG_RULE_RULES,
    ("ec2", "CreateSecurityGroup"): (rule_ec2_sg_length, rule_ec2_sg_chars, rule_ec2_sg_name_prefix)
    + EC2_TAG_RULES,
    ("ec2", "CreateTags"): EC2_TAG_RULES,
    ("elbv2", "CreateLoadBalancer"): ELB_NAME_RULES + (rule_elbv2_lb_name_internal,),
    ("elbv2", "CreateTargetGroup"): ELB_NAME_RULES,
    ("elbv2", "CreateRule"): ELB_CONDITION_RULES,
    ("elbv2", "ModifyRule"): ELB_CONDITION_RULES,
    ("ecs", "CreateCluster"): (rule_ecs_name,),
    ("ecs", "CreateService"): (rule_ecs_name,),
    ("ecs", "RegisterTaskDefinition"): (rule_ecs_name, rule_ecs_fargate_cpu_memory),
}

# The names of every extra rule, for documentation and tests.
EXTRA_RULE_NAMES = (
    "ec2-sg-length", "ec2-sg-chars", "ec2-sg-name-prefix", "ec2-sg-rule-description",
    "ec2-tag-key-length", "ec2-tag-value-length", "ec2-tag-key-prefix", "ec2-tag-count",
    "ec2-tag-duplicate", "ec2-tag-chars",
    "elbv2-name-length", "elbv2-name-chars", "elbv2-lb-name-internal",
    "elbv2-path-pattern", "elbv2-host-header", "elbv2-http-method", "elbv2-condition-values",
    "ecs-name", "ecs-fargate-cpu-memory",
)


class _Ec2TagRules(dict):
    """EXTRA_RULES view adding the EC2 tag rules to every EC2 operation that takes
    TagSpecifications."""

    def __init__(self, base):
        super().__init__(base)
        self._tagged: dict[str, bool] = {}

    def get(self, key, default=None):
        rules = super().get(key)
        if rules is not None or key[0] != "ec2":
            return rules if rules is not None else default
        tagged = self._tagged.get(key[1])
        if tagged is None:
            model = model_for("ec2")
            shape = model.input_shape(key[1]) if model and key[1] in model.operations else None
            tagged = bool(shape and "TagSpecifications" in shape.members)
            self._tagged[key[1]] = tagged
        return EC2_TAG_RULES if tagged else default


EXTRA_RULES = _Ec2TagRules(EXTRA_RULES)


# --------------------------------------------------------------------------
# Report files and the command line
# --------------------------------------------------------------------------


def _report_files(args) -> list[str]:
    files = []
    for arg in args:
        if os.path.isdir(arg):
            files += sorted(os.path.join(arg, f) for f in os.listdir(arg) if f.endswith(".json"))
        else:
            files.append(arg)
    return files


def _load_reports(args) -> list[dict]:
    reports = []
    for path in _report_files(args):
        try:
            with open(path, encoding="utf-8") as fh:
                doc = json.load(fh)
        except (OSError, ValueError) as exc:
            print(f"contract: cannot read {path}: {exc}", file=sys.stderr)
            continue
        if isinstance(doc, dict):
            reports.append(doc)
    return reports


def cmd_actions(args) -> int:
    by_prefix: dict[str, dict[str, int]] = {}
    for report in _load_reports(args):
        for key, count in (report.get("by_action") or {}).items():
            prefix, _, op = key.partition(":")
            ops = by_prefix.setdefault(prefix, {})
            ops[op] = ops.get(op, 0) + int(count)
    for prefix in sorted(by_prefix):
        ops = by_prefix[prefix]
        print(f"{prefix} ({len(ops)} actions)")
        for op in sorted(ops):
            print(f"  {prefix}:{op}  {ops[op]}")
    return 0


def cmd_summary(args) -> int:
    reports = _load_reports(args)
    validated = sum(int(r.get("validated") or 0) for r in reports)
    count = sum(int(r.get("violation_count", len(r.get("violations") or []))) for r in reports)
    per_service: dict[str, list[int]] = {}
    for report in reports:
        for key, n in (report.get("by_action") or {}).items():
            per_service.setdefault(key.partition(":")[0], [0, 0])[0] += int(n)
        if "violations_by_action" in report:
            for key, n in report["violations_by_action"].items():
                per_service.setdefault(key.partition(":")[0], [0, 0])[1] += int(n)
        else:  # older reports: count the distinct messages
            for message in report.get("violations") or []:
                match = re.match(r"contract violation: ([^:\s]+):", message)
                per_service.setdefault(match.group(1) if match else "?", [0, 0])[1] += 1
    print(f"reports: {len(reports)}")
    print(f"requests validated: {validated}")
    print(f"violations: {count}")
    for service in sorted(per_service):
        requests, violations = per_service[service]
        print(f"  {service}: {requests} requests, {violations} violations")
    shown = set()
    for report in reports:
        for message in report.get("violations") or []:
            if message not in shown:
                shown.add(message)
                print(message)
    return 1 if count else 0


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) < 2 or argv[0] not in ("actions", "summary"):
        print("usage: contract.py actions REPORT...\n       contract.py summary REPORT_DIR",
              file=sys.stderr)
        return 2
    return cmd_actions(argv[1:]) if argv[0] == "actions" else cmd_summary(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
