#!/usr/bin/env python3
"""A loopback HTTP proxy in front of moto_server: CloudFormation's slowness
(latency mode) and a hostile network (fault mode), seeded and bounded.

    .venv/bin/python bench/awsproxy.py --upstream http://127.0.0.1:PORT [--port 0]
        [--hold 3s] [--latency 20ms] [--faults 0.1] [--seed 7] [--log FILE] ...

The first line on stdout is the bound port (then a human line on stderr).
Point AWS_ENDPOINT_URL at http://127.0.0.1:PORT. Stdlib only; see
docs/proxy.md for what it models and what it does not.

Latency mode (--hold): after a CreateStack / UpdateStack / DeleteStack /
ExecuteChangeSet succeeds at moto (which finishes the work inside the call),
the stack is shown in progress for the hold duration: DescribeStacks and
ListStacks answer CREATE_IN_PROGRESS / UPDATE_IN_PROGRESS (then
UPDATE_COMPLETE_CLEANUP_IN_PROGRESS for the last fifth) / DELETE_IN_PROGRESS,
without Outputs; a deleted stack is still described until its time is up;
DescribeStackEvents shows per-resource *_IN_PROGRESS / *_COMPLETE events
spread over the hold, newest first; ListExports hides a creating stack's
exports; an UpdateStack on a stack in progress is refused as CloudFormation
refuses it. --latency adds a delay to every AWS call.

Fault mode (--faults RATE): per AWS call, with a seeded probability, one of
throttle (400 Throttling), 500 (InternalFailure), 503 (ServiceUnavailable),
reset-before (TCP reset, moto never sees the call), reset-after (moto did
the work, the answer is lost) or latency (50-500 ms more).

In both modes the mutating calls of one stack (CreateStack, UpdateStack,
DeleteStack, ExecuteChangeSet, CreateChangeSet) reach moto one at a time:
CloudFormation takes one operation per stack name, moto's check-then-create
is not atomic, and two CreateStack of one name at once would both create
the stack's resources.

In both modes a retried CreateStack / UpdateStack / DeleteStack /
ExecuteChangeSet that reuses the ClientRequestToken of one that succeeded
gets that first answer, as from CloudFormation (moto ignores tokens and
would answer AlreadyExistsException); --no-tokens turns this off.

Every AWS call is logged as one JSON line (--log): time, account (from the
access key; keys issued by AssumeRole map to the role's account), region,
service, action, stack, HTTP status, fault, and the status shown if held.

Importable: AwsProxy(ProxyConfig(...)) for asyncio, or start_in_thread().
"""

import argparse
import asyncio
import datetime
import hashlib
import ipaddress
import json
import math
import os
import random
import re
import signal
import socket
import struct
import sys
import threading
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET

CFN_NS = "http://cloudformation.amazonaws.com/doc/2010-05-15/"
ET.register_namespace("", CFN_NS)
DEFAULT_ACCOUNT = "123456789012"  # moto's account for keys it did not issue
FAULT_KINDS = ("throttle", "500", "503", "reset-before", "reset-after", "latency")
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
              "trailer", "upgrade", "content-length", "expect"}
# Calls whose ClientRequestToken CloudFormation honours (the ones here).
TOKEN_ACTIONS = {"CreateStack", "UpdateStack", "DeleteStack", "ExecuteChangeSet"}
# Share of an update's hold shown as UPDATE_COMPLETE_CLEANUP_IN_PROGRESS.
CLEANUP_SHARE = 0.2
MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 64 * 1024 * 1024
IDLE_TIMEOUT = 120.0  # longer than hyper's 90 s pool idle timeout
UPSTREAM_TIMEOUT = 300.0


# --- durations and distributions ---------------------------------------------

def parse_duration(text):
    """'3s', '250ms', '2m', '1.5' (seconds) -> seconds (float)."""
    t = str(text).strip().lower()
    m = re.fullmatch(r"([0-9]*\.?[0-9]+)\s*(ms|s|m|min|h)?", t)
    if not m:
        raise ValueError("not a duration: %r (use e.g. 3s, 250ms, 2m)" % text)
    value = float(m.group(1))
    unit = m.group(2) or "s"
    return value * {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}[unit]


class Dist:
    """A duration: fixed ('3s'), 'uniform:LOW:HIGH' or 'lognormal:MEDIAN:SIGMA'
    (SIGMA of the underlying normal, e.g. 0.5)."""

    def __init__(self, spec):
        self.spec = str(spec)
        parts = self.spec.split(":")
        if len(parts) == 1:
            self.kind, self.a, self.b = "fixed", parse_duration(parts[0]), 0.0
        elif parts[0] == "uniform" and len(parts) == 3:
            self.kind, self.a, self.b = "uniform", parse_duration(parts[1]), parse_duration(parts[2])
            if self.b < self.a:
                raise ValueError("uniform: HIGH < LOW in %r" % spec)
        elif parts[0] == "lognormal" and len(parts) == 3:
            self.kind, self.a, self.b = "lognormal", parse_duration(parts[1]), float(parts[2])
            if self.a <= 0 or self.b < 0:
                raise ValueError("lognormal: MEDIAN must be > 0 and SIGMA >= 0 in %r" % spec)
        else:
            raise ValueError("not a duration or distribution: %r "
                             "(use 3s, uniform:2s:5s or lognormal:3s:0.5)" % spec)

    def sample(self, rng):
        if self.kind == "fixed":
            return self.a
        if self.kind == "uniform":
            return rng.uniform(self.a, self.b)
        return self.a * math.exp(self.b * rng.gauss(0.0, 1.0))

    def __repr__(self):
        return self.spec


def _dist(value):
    if value is None or isinstance(value, Dist):
        return value
    if isinstance(value, (int, float)):
        return Dist("%rs" % float(value))
    return Dist(value)


def seeded(seed, *parts):
    """A random.Random drawn from the seed and a key: the same key gets the
    same draws whatever the order in which concurrent requests arrive."""
    digest = hashlib.sha256(("%s|" % seed + "|".join(str(p) for p in parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def is_loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


# --- configuration -------------------------------------------------------------

class ProxyConfig:
    """Options of the proxy; durations as seconds, strings ('3s') or Dist."""

    def __init__(self, upstream, host="127.0.0.1", port=0, hold=None, hold_update=None,
                 hold_delete=None, latency=None, fault_rate=0.0, fault_kinds=FAULT_KINDS,
                 fault_actions=("cloudformation",), max_faults=100, seed=0, log=None,
                 max_runtime=3600.0, default_account=DEFAULT_ACCOUNT, tokens=True):
        self.upstream = upstream
        self.host = host
        self.port = int(port)
        self.hold = _dist(hold)
        self.hold_update = _dist(hold_update) or self.hold
        self.hold_delete = _dist(hold_delete) or self.hold
        self.latency = _dist(latency)
        self.fault_rate = float(fault_rate)
        self.fault_kinds = tuple(fault_kinds)
        self.fault_actions = tuple(fault_actions)
        self.max_faults = int(max_faults)
        self.seed = seed
        self.log = log
        self.max_runtime = float(max_runtime) if max_runtime else None
        self.default_account = default_account
        self.tokens = bool(tokens)
        self.validate()

    def validate(self):
        if not is_loopback(self.host):
            raise ValueError("awsproxy listens on loopback only (127.0.0.0/8, ::1, localhost), "
                             "not %r" % self.host)
        u = urllib.parse.urlsplit(self.upstream)
        if u.scheme != "http" or not u.hostname or not u.port:
            raise ValueError("--upstream must be http://HOST:PORT, not %r" % self.upstream)
        if not is_loopback(u.hostname):
            raise ValueError("--upstream must be a loopback address (a local moto_server), not %r"
                             % u.hostname)
        if not 0.0 <= self.fault_rate <= 1.0:
            raise ValueError("fault rate must be within 0..1, not %r" % self.fault_rate)
        bad = [k for k in self.fault_kinds if k not in FAULT_KINDS]
        if bad or not self.fault_kinds:
            raise ValueError("fault kinds must be among %s, not %r" % (", ".join(FAULT_KINDS), bad))
        if self.max_faults < 0:
            raise ValueError("max faults must be >= 0")
        if self.max_runtime is not None and self.max_runtime <= 0:
            raise ValueError("max runtime must be > 0")

    def summary(self):
        return {
            "upstream": self.upstream,
            "hold": repr(self.hold) if self.hold else None,
            "hold_update": repr(self.hold_update) if self.hold_update else None,
            "hold_delete": repr(self.hold_delete) if self.hold_delete else None,
            "latency": repr(self.latency) if self.latency else None,
            "fault_rate": self.fault_rate,
            "fault_kinds": list(self.fault_kinds),
            "fault_actions": list(self.fault_actions),
            "max_faults": self.max_faults,
            "seed": self.seed,
            "max_runtime": self.max_runtime,
            "tokens": self.tokens,
        }


# --- HTTP/1.1 ---------------------------------------------------------------------

class HttpError(Exception):
    pass


class Message:
    """A request (method, target) or response (status, reason), with headers
    as a list of (name, value) and the whole body."""

    def __init__(self, start, headers, body=b""):
        self.start = start
        self.headers = headers
        self.body = body

    def header(self, name):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    @property
    def status(self):
        """The status code of a response (0 if unreadable)."""
        try:
            return int(self.start.split()[1])
        except (IndexError, ValueError):
            return 0


async def _read_headers(reader):
    lines = []
    size = 0
    while True:
        line = await reader.readline()
        if not line:
            if lines:
                raise HttpError("connection closed inside the headers")
            return None
        size += len(line)
        if size > MAX_HEADER_BYTES:
            raise HttpError("headers too large")
        if line in (b"\r\n", b"\n"):
            if not lines:  # tolerate blank lines between messages
                continue
            break
        lines.append(line.decode("latin-1").rstrip("\r\n"))
    start = lines[0]
    headers = []
    for line in lines[1:]:
        if ":" not in line:
            raise HttpError("bad header line %r" % line)
        k, v = line.split(":", 1)
        headers.append((k.strip(), v.strip()))
    return start, headers


async def _read_chunked(reader):
    body = bytearray()
    while True:
        line = await reader.readline()
        if not line:
            raise HttpError("connection closed inside a chunked body")
        size = int(line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while True:  # trailers
                t = await reader.readline()
                if t in (b"\r\n", b"\n", b""):
                    return bytes(body)
        if len(body) + size > MAX_BODY_BYTES:
            raise HttpError("body too large")
        body += await reader.readexactly(size)
        await reader.readline()


async def read_request(reader, writer):
    head = await _read_headers(reader)
    if head is None:
        return None
    start, headers = head
    msg = Message(start, headers)
    if (msg.header("expect") or "").lower() == "100-continue":
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        await writer.drain()
    if "chunked" in (msg.header("transfer-encoding") or "").lower():
        msg.body = await _read_chunked(reader)
    elif msg.header("content-length"):
        n = int(msg.header("content-length"))
        if n > MAX_BODY_BYTES:
            raise HttpError("body too large")
        msg.body = await reader.readexactly(n)
    return msg


async def read_response(reader, method):
    head = await _read_headers(reader)
    if head is None:
        raise HttpError("upstream closed the connection without answering")
    start, headers = head
    msg = Message(start, headers)
    code = msg.status
    if method == "HEAD" or code in (204, 304) or 100 <= code < 200:
        return msg
    if "chunked" in (msg.header("transfer-encoding") or "").lower():
        msg.body = await _read_chunked(reader)
    elif msg.header("content-length") is not None:
        msg.body = await reader.readexactly(int(msg.header("content-length")))
    else:
        msg.body = await reader.read()
    return msg


def serialize(start, headers, body, connection):
    out = [start]
    for k, v in headers:
        if k.lower() not in HOP_BY_HOP:
            out.append("%s: %s" % (k, v))
    out.append("Content-Length: %d" % len(body))
    out.append("Connection: %s" % connection)
    return ("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + body


def xml_response(code, reason, body, request_id):
    return Message("HTTP/1.1 %d %s" % (code, reason),
                   [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id),
                    ("Server", "awsproxy")],
                   body.encode("utf-8"))


def error_response(code, reason, err_type, err_code, message, request_id, ns=CFN_NS):
    body = ('<ErrorResponse xmlns="%s"><Error><Type>%s</Type><Code>%s</Code>'
            "<Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>"
            % (ns, err_type, err_code, _esc(message), request_id))
    return xml_response(code, reason, body, request_id)


def _esc(text):
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


# --- requests as AWS calls ---------------------------------------------------------

class Call:
    """What a request is, as far as the proxy cares."""

    def __init__(self, req):
        self.method = req.start.split(" ", 1)[0].upper()
        target = req.start.split(" ")[1] if len(req.start.split(" ")) > 1 else "/"
        split = urllib.parse.urlsplit(target)
        self.path = split.path or "/"
        self.query = split.query
        self.params = {}
        ctype = (req.header("content-type") or "").lower()
        if "x-www-form-urlencoded" in ctype or (req.body[:7] == b"Action="):
            try:
                self.params = dict(urllib.parse.parse_qsl(req.body.decode("utf-8"),
                                                          keep_blank_values=True))
            except UnicodeDecodeError:
                self.params = {}
        query = dict(urllib.parse.parse_qsl(self.query, keep_blank_values=True))
        auth = req.header("authorization") or ""
        m = re.search(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/([^/]+)/aws4_request", auth)
        if not m and query.get("X-Amz-Credential"):
            m = re.match(r"([^/]+)/[^/]+/([^/]+)/([^/]+)/aws4_request", query["X-Amz-Credential"])
        self.access_key = m.group(1) if m else None
        self.region = m.group(2) if m else None
        self.service = m.group(3) if m else None
        target_hdr = req.header("x-amz-target") or ""
        self.action = (self.params.get("Action") or query.get("Action")
                       or (target_hdr.rsplit(".", 1)[-1] if target_hdr else None)
                       or "%s %s" % (self.method, self.path))
        if self.service is None:
            self.service = "unknown"
        self.stack = stack_name_of(self.params.get("StackName"))
        self.moto_api = self.path.startswith("/moto-api")


def stack_name_of(value):
    """A stack name from a name or a stack ARN."""
    if not value:
        return None
    m = re.match(r"arn:[^:]+:cloudformation:[^:]*:\d*:stack/([^/]+)/", value)
    return m.group(1) if m else value


def account_of_arn(arn):
    m = re.match(r"arn:[^:]+:[^:]+:[^:]*:(\d{12}):", arn or "")
    return m.group(1) if m else None


# --- templates: which resources a stack has ------------------------------------------

def template_resources(body):
    """[(logical id, type)] from a JSON or YAML template; [] if unreadable.
    YAML is read by indentation only (stdlib has no YAML parser): the keys
    one level under a top-level `Resources:` and their `Type:` lines."""
    if not body:
        return []
    text = body.strip()
    if text.startswith("{"):
        try:
            resources = json.loads(text).get("Resources") or {}
            return [(k, str((v or {}).get("Type", "AWS::CloudFormation::CustomResource")))
                    for k, v in resources.items() if isinstance(v, dict)]
        except (ValueError, AttributeError):
            return []
    out = []
    inside = False
    indent = None
    current = None
    for line in body.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        lead = len(line) - len(line.lstrip(" "))
        if lead == 0:
            inside = re.match(r"Resources\s*:\s*$", line) is not None
            current = None
            continue
        if not inside:
            continue
        if indent is None:
            indent = lead
        if lead == indent:
            m = re.match(r"\s*['\"]?([A-Za-z0-9]+)['\"]?\s*:", line)
            current = m.group(1) if m else None
            if current:
                out.append([current, None])
        elif current and out and out[-1][1] is None:
            m = re.match(r"\s*Type\s*:\s*['\"]?([A-Za-z0-9:]+)", line)
            if m:
                out[-1][1] = m.group(1)
    return [(k, t or "AWS::CloudFormation::CustomResource") for k, t in out]


# --- latency mode: stacks held in progress -----------------------------------------

def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text):
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except (ValueError, AttributeError):
        return None


class Op:
    """One stack operation held in progress."""

    def __init__(self, kind, stack_id, name, hold, sent_wall, resources, token, rng):
        self.kind = kind  # CREATE | UPDATE | DELETE
        self.stack_id = stack_id
        self.name = name
        self.hold = hold
        # The hold starts when moto has answered: the client sees the call
        # return, then the stack takes its time (moto may be slow to answer,
        # e.g. its first CloudFormation call after start-up).
        self.start_mono = time.monotonic()
        self.start_wall = time.time()
        # moto's own events for the operation fall between these two.
        self.sent_wall = sent_wall
        self.token = token
        self.events = self._schedule(resources, rng)

    def remaining(self, now_mono):
        return self.start_mono + self.hold - now_mono

    def active(self, now_mono):
        return self.remaining(now_mono) > 0

    def status(self, now_mono):
        if self.kind == "UPDATE" and now_mono - self.start_mono >= self.hold * (1 - CLEANUP_SHARE):
            return "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"
        return self.kind + "_IN_PROGRESS"

    def _schedule(self, resources, rng):
        """[(offset s, logical id, type, status, reason)] over the hold."""
        k = self.kind
        stack_type = "AWS::CloudFormation::Stack"
        events = [(0.0, self.name, stack_type, k + "_IN_PROGRESS", "User Initiated")]
        span = self.hold * ((1 - CLEANUP_SHARE) if k == "UPDATE" else 1.0)
        order = list(reversed(resources)) if k == "DELETE" else list(resources)
        n = len(order)
        for i, (lid, rtype) in enumerate(order):
            begin = span * (2 * i + 1) / (2 * n + 2)
            end = span * (2 * i + 2) / (2 * n + 2)
            events.append((begin, lid, rtype, k + "_IN_PROGRESS", None))
            events.append((end, lid, rtype, k + "_COMPLETE", None))
        if k == "UPDATE":
            events.append((span, self.name, stack_type, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", None))
        events.append((self.hold, self.name, stack_type, k + "_COMPLETE", None))
        return [(off, lid, t, st, why, str(uuid.UUID(int=rng.getrandbits(128), version=4)))
                for off, lid, t, st, why in events]

    def visible_events(self, now_wall):
        """Synthetic events that have happened by now, as (time, fields)."""
        return [(self.start_wall + off, lid, t, st, why, eid)
                for off, lid, t, st, why, eid in self.events
                if self.start_wall + off <= now_wall]


class StackRec:
    def __init__(self, account, region, name):
        self.account, self.region, self.name = account, region, name
        self.stack_id = None
        self.ops = []
        self.member = None  # last DescribeStacks member seen (XML text)
        self.resources = []
        self.created_wall = time.time()

    def active(self, now_mono):
        if self.ops and self.ops[-1].active(now_mono):
            return self.ops[-1]
        return None


def _q(tag):
    return "{%s}%s" % (CFN_NS, tag)


def _text(el, tag):
    child = el.find(_q(tag))
    return child.text if child is not None and child.text is not None else None


def _set_text(el, tag, value):
    child = el.find(_q(tag))
    if child is None:
        child = ET.SubElement(el, _q(tag))
    child.text = value


def _remove(el, tag):
    for child in el.findall(_q(tag)):
        el.remove(child)


class Holds:
    """Stack operations held in progress, per (account, region, stack name)."""

    def __init__(self, proxy):
        self.proxy = proxy
        self.cfg = proxy.cfg
        self.stacks = {}
        self.by_id = {}
        self.changesets = {}  # change set id or (key, name) -> (type, resources)
        self.op_counts = {}

    def rec(self, account, region, name, create=True):
        key = (account, region, name)
        r = self.stacks.get(key)
        if r is None and create:
            r = self.stacks[key] = StackRec(account, region, name)
        return r

    def _hold_for(self, kind, rec):
        dist = {"CREATE": self.cfg.hold, "UPDATE": self.cfg.hold_update,
                "DELETE": self.cfg.hold_delete}[kind]
        key = (rec.account, rec.region, rec.name, kind)
        n = self.op_counts[key] = self.op_counts.get(key, 0) + 1
        rng = seeded(self.cfg.seed, "hold", *key, n)
        return max(0.0, dist.sample(rng)), seeded(self.cfg.seed, "events", *key, n)

    def start_op(self, kind, rec, sent_wall, token):
        hold, rng = self._hold_for(kind, rec)
        op = Op(kind, rec.stack_id, rec.name, hold, sent_wall, rec.resources, token, rng)
        rec.ops.append(op)
        self.proxy.log_record({
            "type": "op", "t": round(op.start_wall, 6), "account": rec.account, "region": rec.region,
            "stack": rec.name, "stack_id": rec.stack_id, "op": kind, "hold_s": round(hold, 6),
            "resources": len(rec.resources)})
        return op

    # -- before forwarding: CloudFormation's refusals while a stack is busy --

    def before(self, call, account, rid):
        a = call.action
        if a not in ("CreateStack", "UpdateStack", "DeleteStack", "CreateChangeSet",
                     "ExecuteChangeSet"):
            return None
        name = call.stack
        if a == "ExecuteChangeSet" and not name:
            known = self.changesets.get(call.params.get("ChangeSetName"))
            name = known[1] if known else None
        if not name:
            return None
        rec = self.rec(account, call.region, name, create=False)
        op = rec.active(time.monotonic()) if rec else None
        if op is None:
            return None
        status = op.status(time.monotonic())
        if a == "CreateStack":
            return error_response(400, "Bad Request", "Sender", "AlreadyExistsException",
                                  "Stack [%s] already exists" % name, rid)
        if a == "DeleteStack":
            if op.kind == "DELETE":  # CloudFormation: a repeated delete is accepted
                return xml_response(200, "OK",
                                    '<DeleteStackResponse xmlns="%s"><ResponseMetadata>'
                                    "<RequestId>%s</RequestId></ResponseMetadata>"
                                    "</DeleteStackResponse>" % (CFN_NS, rid), rid)
            return None
        return error_response(400, "Bad Request", "Sender", "ValidationError",
                              "Stack:%s is in %s state and can not be updated."
                              % (rec.stack_id or name, status), rid)

    # -- after forwarding -------------------------------------------------------

    def after(self, call, account, resp, sent_wall):
        a = call.action
        code = resp.status
        if code == 200 and a in ("CreateStack", "UpdateStack", "DeleteStack", "ExecuteChangeSet"):
            self._started(call, account, resp, sent_wall)
            return resp, None
        if code == 200 and a == "CreateChangeSet":
            self._changeset(call, account, resp)
            return resp, None
        if a == "DescribeStacks":
            return self._describe_stacks(call, account, resp)
        if a == "ListStacks" and code == 200:
            return self._list_stacks(call, account, resp)
        if a == "DescribeStackEvents":
            return self._events(call, account, resp)
        if a == "ListExports" and code == 200:
            return self._exports(resp)
        return resp, None

    def _started(self, call, account, resp, sent_wall):
        a = call.action
        body = resp.body.decode("utf-8", "replace")
        m = re.search(r"<StackId>([^<]+)</StackId>", body)
        stack_id = m.group(1) if m else None
        name = call.stack
        kind = {"CreateStack": "CREATE", "UpdateStack": "UPDATE", "DeleteStack": "DELETE"}.get(a)
        resources = None
        if a == "ExecuteChangeSet":
            known = self.changesets.get(call.params.get("ChangeSetName"))
            if not name and known:
                name = known[1]
            if not name:
                return
            key = (account, call.region, name, call.params.get("ChangeSetName"))
            known = known or self.changesets.get(key)
            kind = "CREATE" if known and known[0] == "CREATE" else "UPDATE"
            resources = known[2] if known else None
        acct = account_of_arn(stack_id) or account
        rec = self.rec(acct, call.region, name)
        if kind == "CREATE":
            if a == "CreateStack" or rec.stack_id is None or (stack_id and stack_id != rec.stack_id):
                old = rec
                rec = self.stacks[(acct, call.region, name)] = StackRec(acct, call.region, name)
                if old.stack_id:
                    self.by_id.pop(old.stack_id, None)
        elif kind == "DELETE":
            if rec.stack_id is None and rec.member is None:
                return  # a stack the proxy never saw: nothing known to hold
        if stack_id:
            rec.stack_id = stack_id
        if rec.stack_id:
            self.by_id[rec.stack_id] = rec
        if resources is None and kind != "DELETE":
            if call.params.get("UsePreviousTemplate", "").lower() == "true":
                resources = rec.resources
            else:
                resources = template_resources(call.params.get("TemplateBody"))
        if resources is not None:
            rec.resources = resources
        self.start_op(kind, rec, sent_wall, call.params.get("ClientRequestToken"))

    def _changeset(self, call, account, resp):
        body = resp.body.decode("utf-8", "replace")
        cs_id = re.search(r"<Id>([^<]+)</Id>", body)
        stack_id = re.search(r"<StackId>([^<]+)</StackId>", body)
        if not call.stack:
            return
        entry = (call.params.get("ChangeSetType", "UPDATE").upper(), call.stack,
                 template_resources(call.params.get("TemplateBody")) or None)
        self.changesets[(account, call.region, call.stack, call.params.get("ChangeSetName"))] = entry
        if cs_id:
            self.changesets[cs_id.group(1)] = entry
        if stack_id:
            rec = self.rec(account_of_arn(stack_id.group(1)) or account, call.region, call.stack)
            if rec.stack_id is None:
                rec.stack_id = stack_id.group(1)
                self.by_id[rec.stack_id] = rec

    def _parse(self, resp):
        try:
            return ET.fromstring(resp.body)
        except ET.ParseError:
            return None

    def _emit(self, resp, root, held):
        body = ET.tostring(root, encoding="unicode").encode("utf-8")
        return Message(resp.start, resp.headers, body), held

    def _member_rec(self, member, region, account):
        stack_id = _text(member, "StackId")
        rec = self.by_id.get(stack_id) if stack_id else None
        if rec is None:
            name = _text(member, "StackName")
            rec = self.stacks.get((account_of_arn(stack_id) or account, region, name))
            if rec is not None and rec.stack_id and stack_id and rec.stack_id != stack_id:
                rec = None
        return rec

    def _deleting(self, account, region, now):
        return [r for r in self.stacks.values()
                if r.account == account and r.region == region
                and r.active(now) is not None and r.active(now).kind == "DELETE"]

    def _synth_member(self, rec, op, now):
        if rec.member:
            member = ET.fromstring(rec.member)
        else:
            member = ET.Element(_q("member"))
            _set_text(member, "StackId", rec.stack_id or "")
            _set_text(member, "StackName", rec.name)
            _set_text(member, "CreationTime", iso(rec.created_wall))
        _set_text(member, "StackStatus", op.status(now))
        _remove(member, "Outputs")
        _remove(member, "DeletionTime")
        _remove(member, "StackStatusReason")
        return member

    def _describe_stacks(self, call, account, resp):
        now = time.monotonic()
        if resp.status != 200:
            # moto forgot a deleted stack at once; CloudFormation still
            # describes it until the deletion is over.
            rec = self.rec(account, call.region, call.stack, create=False) if call.stack else None
            op = rec.active(now) if rec else None
            if rec is None or op is None or op.kind != "DELETE" \
                    or b"does not exist" not in resp.body:
                return resp, None
            rid = _request_id(resp) or str(uuid.uuid4())
            root = ET.Element(_q("DescribeStacksResponse"))
            result = ET.SubElement(root, _q("DescribeStacksResult"))
            stacks = ET.SubElement(result, _q("Stacks"))
            stacks.append(self._synth_member(rec, op, now))
            meta = ET.SubElement(root, _q("ResponseMetadata"))
            ET.SubElement(meta, _q("RequestId")).text = rid
            body = ET.tostring(root, encoding="unicode").encode("utf-8")
            return Message("HTTP/1.1 200 OK", [("Content-Type", "text/xml"),
                                               ("x-amzn-RequestId", rid)], body), op.status(now)
        root = self._parse(resp)
        if root is None:
            return resp, None
        stacks = root.find(_q("DescribeStacksResult") + "/" + _q("Stacks"))
        if stacks is None:
            return resp, None
        held = []
        present = set()
        for member in stacks.findall(_q("member")):
            rec = self._member_rec(member, call.region, account)
            if rec is None:
                continue
            present.add(id(rec))
            op = rec.active(now)
            if op is None:
                rec.member = ET.tostring(member, encoding="unicode")
                continue
            if op.kind != "DELETE" and rec.member is None:
                rec.member = ET.tostring(member, encoding="unicode")
            _set_text(member, "StackStatus", op.status(now))
            _remove(member, "Outputs")
            _remove(member, "DeletionTime")
            held.append(op.status(now))
        if not call.stack and not call.params.get("NextToken"):
            for rec in self._deleting(account, call.region, now):
                if id(rec) not in present:
                    op = rec.active(now)
                    stacks.append(self._synth_member(rec, op, now))
                    held.append(op.status(now))
        if not held:
            return resp, None
        return self._emit(resp, root, ",".join(sorted(set(held))))

    def _list_stacks(self, call, account, resp):
        # Forwarded without StackStatusFilter (see forward_params); filtered here.
        now = time.monotonic()
        root = self._parse(resp)
        if root is None:
            return resp, None
        summaries = root.find(_q("ListStacksResult") + "/" + _q("StackSummaries"))
        if summaries is None:
            return resp, None
        wanted = {v for k, v in call.params.items() if k.startswith("StackStatusFilter.member.")}
        held = []
        present = set()
        for member in list(summaries.findall(_q("member"))):
            rec = self._member_rec(member, call.region, account)
            op = rec.active(now) if rec else None
            if op is not None:
                present.add(id(rec))
                _set_text(member, "StackStatus", op.status(now))
                _remove(member, "DeletionTime")
                held.append(op.status(now))
            if wanted and _text(member, "StackStatus") not in wanted:
                summaries.remove(member)
        for rec in self._deleting(account, call.region, now):
            op = rec.active(now)
            if id(rec) in present or (wanted and op.status(now) not in wanted):
                continue
            m = ET.SubElement(summaries, _q("member"))
            _set_text(m, "StackId", rec.stack_id or "")
            _set_text(m, "StackName", rec.name)
            _set_text(m, "CreationTime", iso(rec.created_wall))
            _set_text(m, "StackStatus", op.status(now))
            held.append(op.status(now))
        return self._emit(resp, root, ",".join(sorted(set(held))) or None)

    def _events(self, call, account, resp):
        now = time.monotonic()
        wall = time.time()
        rec = self.rec(account, call.region, call.stack, create=False) if call.stack else None
        if call.params.get("StackName", "").startswith("arn:"):
            rec = self.by_id.get(call.params["StackName"]) or rec
        if rec is None or not rec.ops:
            return resp, None
        if resp.status != 200:
            op = rec.active(now)
            if op is None or op.kind != "DELETE" or b"does not exist" not in resp.body:
                return resp, None
            rid = _request_id(resp) or str(uuid.uuid4())
            root = ET.Element(_q("DescribeStackEventsResponse"))
            result = ET.SubElement(root, _q("DescribeStackEventsResult"))
            ET.SubElement(result, _q("StackEvents"))
            meta = ET.SubElement(root, _q("ResponseMetadata"))
            ET.SubElement(meta, _q("RequestId")).text = rid
            resp = Message("HTTP/1.1 200 OK", [("Content-Type", "text/xml"),
                                               ("x-amzn-RequestId", rid)], b"")
            ops = [op]
        else:
            root = self._parse(resp)
            if root is None:
                return resp, None
            ops = [op for op in rec.ops if op.stack_id == rec.stack_id or op.stack_id is None]
        events = root.find(_q("DescribeStackEventsResult") + "/" + _q("StackEvents"))
        if events is None:
            return resp, None
        merged = []
        for member in list(events.findall(_q("member"))):
            events.remove(member)
            ts = parse_iso(_text(member, "Timestamp") or "")
            # moto's own stack events of a held operation are replaced by ours.
            if ts is not None and _text(member, "ResourceType") == "AWS::CloudFormation::Stack" \
                    and any(op.sent_wall - 0.05 <= ts <= op.start_wall + 0.05 for op in ops):
                continue
            merged.append((ts or 0.0, 1, member))
        for op in ops:
            for t, lid, rtype, status, why, eid in op.visible_events(wall):
                m = ET.Element(_q("member"))
                _set_text(m, "StackId", rec.stack_id or "")
                _set_text(m, "EventId", eid)
                _set_text(m, "StackName", rec.name)
                _set_text(m, "LogicalResourceId", lid)
                if rtype == "AWS::CloudFormation::Stack":
                    _set_text(m, "PhysicalResourceId", rec.stack_id or "")
                _set_text(m, "ResourceType", rtype)
                _set_text(m, "Timestamp", iso(t))
                _set_text(m, "ResourceStatus", status)
                if why:
                    _set_text(m, "ResourceStatusReason", why)
                if op.token:
                    _set_text(m, "ClientRequestToken", op.token)
                merged.append((t, 0, m))
        merged.sort(key=lambda x: (x[0], -x[1]), reverse=True)
        for _, _, m in merged:
            events.append(m)
        op = rec.active(now)
        return self._emit(resp, root, op.status(now) if op else None)

    def _exports(self, resp):
        now = time.monotonic()
        root = self._parse(resp)
        if root is None:
            return resp, None
        exports = root.find(_q("ListExportsResult") + "/" + _q("Exports"))
        if exports is None:
            return resp, None
        hidden = False
        for member in list(exports.findall(_q("member"))):
            rec = self.by_id.get(_text(member, "ExportingStackId") or "")
            op = rec.active(now) if rec else None
            if op is not None and op.kind == "CREATE":
                exports.remove(member)
                hidden = True
        return self._emit(resp, root, "exports-hidden") if hidden else (resp, None)


def _request_id(resp):
    m = re.search(rb"<RequestId>([^<]+)</RequestId>", resp.body)
    return m.group(1).decode() if m else resp.header("x-amzn-requestid")


# --- the proxy -----------------------------------------------------------------------

RESET = object()


class AwsProxy:
    """The proxy. `await start()` binds and returns the port; `await
    serve()` runs until stop() or the max runtime; or `async with`."""

    def __init__(self, cfg):
        self.cfg = cfg
        u = urllib.parse.urlsplit(cfg.upstream)
        self.up_host, self.up_port = u.hostname, u.port
        self.holds = Holds(self)
        self.keys = {}  # access key -> account
        self.tokens = {}  # (account, region, action, stack, token) -> first answer
        # CloudFormation takes one operation per stack name at a time; moto's
        # check-then-create is not atomic, so two CreateStack of one name at
        # once both create resources. Such calls are forwarded one by one.
        self.stack_locks = {}  # (account, region, stack) -> asyncio.Lock
        self.counters = {}
        self.calls = 0
        self.faults = 0
        self.started = time.time()
        self.server = None
        self.port = None
        self._stopped = None
        self._conns = set()  # tasks serving client connections
        self._log = open(cfg.log, "a", buffering=1) if cfg.log else None
        self._log_lock = threading.Lock()
        self.stop_reason = None

    # -- lifecycle --

    async def start(self):
        self._stopped = asyncio.Event()
        self.server = await asyncio.start_server(self._client, self.cfg.host, self.cfg.port,
                                                 limit=MAX_HEADER_BYTES)
        self.port = self.server.sockets[0].getsockname()[1]
        self.log_record({"type": "start", "t": round(time.time(), 6), "pid": os.getpid(),
                         "port": self.port, "config": self.cfg.summary()})
        return self.port

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    async def serve(self):
        if self.server is None:
            await self.start()
        timeout = self.cfg.max_runtime
        try:
            await asyncio.wait_for(self._stopped.wait(), timeout)
        except asyncio.TimeoutError:
            self.stop_reason = "max-runtime"
        await self.close()

    def stop(self, reason="stopped"):
        self.stop_reason = self.stop_reason or reason
        if self._stopped is not None:
            self._stopped.set()

    async def close(self):
        if self.server is not None:
            self.server.close()
            try:
                await asyncio.wait_for(self.server.wait_closed(), 2)
            except asyncio.TimeoutError:
                pass
            self.server = None
            # Idle keep-alive connections: end them before the loop goes.
            for task in list(self._conns):
                task.cancel()
            if self._conns:
                await asyncio.gather(*self._conns, return_exceptions=True)
            self.log_record({"type": "stop", "t": round(time.time(), 6), "calls": self.calls,
                             "faults": self.faults, "reason": self.stop_reason or "stopped"})
            if self._log:
                self._log.close()
                self._log = None

    async def __aenter__(self):
        await self.start()
        return self

    async def __aexit__(self, *exc):
        self.stop()
        await self.close()

    def log_record(self, record):
        if self._log is None:
            return
        with self._log_lock:
            self._log.write(json.dumps(record, sort_keys=False) + "\n")

    # -- connections --

    async def _client(self, reader, writer):
        task = asyncio.current_task()
        self._conns.add(task)
        try:
            while True:
                try:
                    req = await asyncio.wait_for(read_request(reader, writer), IDLE_TIMEOUT)
                except (asyncio.TimeoutError, asyncio.IncompleteReadError, ConnectionError):
                    return
                except (HttpError, ValueError) as e:
                    writer.write(serialize("HTTP/1.1 400 Bad Request", [], str(e).encode(), "close"))
                    await writer.drain()
                    return
                if req is None:
                    return
                version = req.start.rsplit(" ", 1)[-1].upper()
                conn = (req.header("connection") or "").lower()
                keep = conn != "close" if version == "HTTP/1.1" else conn == "keep-alive"
                try:
                    resp = await self._handle(req)
                except Exception as e:  # a bug here must not hang the client
                    sys.stderr.write("awsproxy: internal error: %r\n" % e)
                    resp = error_response(500, "Internal Server Error", "Receiver",
                                          "ProxyInternalError", "awsproxy: %r" % e,
                                          str(uuid.uuid4()))
                if resp is RESET:
                    _reset(writer)
                    return
                writer.write(serialize(resp.start, resp.headers, resp.body,
                                       "keep-alive" if keep else "close"))
                await writer.drain()
                if not keep:
                    return
        except (ConnectionError, asyncio.CancelledError):
            return
        finally:
            self._conns.discard(task)
            if not writer.transport.is_closing():
                writer.close()

    async def _forward(self, req, body=None):
        body = req.body if body is None else body
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(self.up_host, self.up_port, limit=MAX_HEADER_BYTES), 10)
        try:
            method = req.start.split(" ", 1)[0].upper()
            writer.write(serialize(req.start, req.headers, body, "close"))
            await writer.drain()
            return await asyncio.wait_for(read_response(reader, method), UPSTREAM_TIMEOUT)
        finally:
            writer.close()

    def account_of(self, call):
        if call.access_key and call.access_key in self.keys:
            return self.keys[call.access_key]
        return self.cfg.default_account

    def _fault(self, call, account):
        if self.cfg.fault_rate <= 0 or self.faults >= self.cfg.max_faults:
            return None, 0.0
        acts = self.cfg.fault_actions
        eligible = ("*" in acts or call.service in acts or call.action in acts
                    or "%s:%s" % (call.service, call.action) in acts)
        if not eligible:
            return None, 0.0
        key = ("fault", call.service, call.action, account, call.stack or "")
        n = self.counters[key] = self.counters.get(key, 0) + 1
        rng = seeded(self.cfg.seed, *key, n)
        if rng.random() >= self.cfg.fault_rate:
            return None, 0.0
        self.faults += 1
        return rng.choice(self.cfg.fault_kinds), rng.uniform(0.05, 0.5)

    def _latency(self, call, account):
        if not self.cfg.latency:
            return 0.0
        key = ("latency", call.service, call.action, account, call.stack or "")
        n = self.counters[key] = self.counters.get(key, 0) + 1
        return max(0.0, self.cfg.latency.sample(seeded(self.cfg.seed, *key, n)))

    def _learn(self, call, resp):
        """Access keys issued by STS belong to the role's account."""
        if resp.status != 200:
            return
        if call.service == "sts" and call.action.startswith("AssumeRole"):
            body = resp.body.decode("utf-8", "replace")
            key = re.search(r"<AccessKeyId>([^<]+)</AccessKeyId>", body)
            arn = re.search(r"<Arn>arn:[^:]+:sts::(\d{12}):assumed-role/", body)
            if key and arn:
                self.keys[key.group(1)] = arn.group(1)
        elif call.access_key and call.access_key not in self.keys and call.service == "cloudformation":
            m = re.search(rb"arn:[^:]+:cloudformation:[^:]*:(\d{12}):stack/", resp.body)
            if m:
                self.keys[call.access_key] = m.group(1).decode()

    async def _handle(self, req):
        call = Call(req)
        if call.moto_api:
            try:
                return await self._forward(req)
            except (OSError, HttpError, asyncio.TimeoutError, asyncio.IncompleteReadError) as e:
                return error_response(502, "Bad Gateway", "Receiver", "ProxyUpstreamError",
                                      str(e), str(uuid.uuid4()))
        self.calls += 1
        t0_wall, t0 = time.time(), time.monotonic()
        account = self.account_of(call)
        record = {"type": "call", "t": round(t0_wall, 6), "service": call.service,
                  "action": call.action, "account": account, "region": call.region,
                  "stack": call.stack, "status": None, "fault": None, "held": None,
                  "forwarded": False}
        if call.service == "sts" and call.params.get("RoleArn"):
            record["role_account"] = account_of_arn(call.params["RoleArn"])
        rid = "awsproxy-" + str(uuid.UUID(int=seeded(self.cfg.seed, "rid", self.calls).getrandbits(128),
                                          version=4))
        delay = self._latency(call, account)
        fault, extra = self._fault(call, account)
        record["fault"] = fault
        if fault == "latency":
            delay += extra
            record["fault_latency_ms"] = round(extra * 1000, 1)
        if delay:
            await asyncio.sleep(delay)
        resp = None
        if fault == "throttle":
            resp = error_response(400, "Bad Request", "Sender", "Throttling", "Rate exceeded", rid)
        elif fault == "500":
            resp = error_response(500, "Internal Server Error", "Receiver", "InternalFailure",
                                  "We encountered an internal error. Please try again.", rid)
        elif fault == "503":
            resp = error_response(503, "Service Unavailable", "Receiver", "ServiceUnavailable",
                                  "Service is unable to handle request.", rid)
        elif fault == "reset-before":
            resp = RESET
        token = None
        if self.cfg.tokens and call.service == "cloudformation" and call.action in TOKEN_ACTIONS \
                and call.params.get("ClientRequestToken"):
            # CloudFormation answers a retry of a request it already took
            # (same ClientRequestToken) as that request; moto ignores tokens.
            token = (account, call.region, call.action, call.stack,
                     call.params["ClientRequestToken"])
            if resp is None and token in self.tokens:
                first = self.tokens[token]
                resp = Message(first.start, list(first.headers), first.body)
                record["held"] = "token-replay"
        hold = self.cfg.hold is not None and call.service == "cloudformation"
        if resp is None and hold:
            resp = self.holds.before(call, account, rid)
            if resp is not None:
                record["held"] = "refused"
        if resp is None:
            body = None
            if hold and call.action == "ListStacks" and any(
                    k.startswith("StackStatusFilter.") for k in call.params):
                # Filter after the statuses are rewritten, not before.
                body = urllib.parse.urlencode(
                    [(k, v) for k, v in call.params.items()
                     if not k.startswith("StackStatusFilter.")]).encode()
            lock = None
            if call.service == "cloudformation" and call.stack and \
                    call.action in TOKEN_ACTIONS | {"CreateChangeSet"}:
                lock = self.stack_locks.setdefault((account, call.region, call.stack),
                                                   asyncio.Lock())
            t_fwd, sent_wall = time.monotonic(), time.time()
            try:
                if lock is None:
                    resp = await self._forward(req, body)
                else:
                    async with lock:
                        resp = await self._forward(req, body)
            except (OSError, HttpError, asyncio.TimeoutError, asyncio.IncompleteReadError) as e:
                resp = error_response(502, "Bad Gateway", "Receiver", "ProxyUpstreamError",
                                      "awsproxy: upstream failed: %s" % e, rid)
            record["forwarded"] = True
            record["upstream_ms"] = round((time.monotonic() - t_fwd) * 1000, 2)
            self._learn(call, resp)
            if token and resp.status == 200:
                self.tokens[token] = resp
            if hold:
                try:
                    resp, held = self.holds.after(call, account, resp, sent_wall)
                except Exception as e:  # never lose a call to a rewrite bug
                    held = "rewrite-error: %s" % e
                record["held"] = held
        if fault == "reset-after":
            resp = RESET  # also when the proxy answered (a replay, a refusal)
        record["status"] = None if resp is RESET else resp.status
        record["ms"] = round((time.monotonic() - t0) * 1000, 2)
        self.log_record(record)
        return resp


def _reset(writer):
    """Close with a TCP RST (SO_LINGER 0), as a dropped connection looks."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    writer.transport.abort()


# --- running it --------------------------------------------------------------------

class ProxyThread:
    """A proxy on its own event loop in a daemon thread (for Python callers
    that are not asyncio): .port, .url, .stop(); also a context manager."""

    def __init__(self, cfg):
        self.proxy = AwsProxy(cfg)
        self._ready = threading.Event()
        self._error = None
        self._loop = None
        self._thread = threading.Thread(target=self._run, name="awsproxy", daemon=True)
        self._thread.start()
        self._ready.wait(30)
        if self._error:
            raise self._error
        if self.proxy.port is None:
            raise RuntimeError("awsproxy did not start within 30 s")

    def _run(self):
        self._loop = asyncio.new_event_loop()
        try:
            self._loop.run_until_complete(self._main())
        finally:
            self._loop.close()

    async def _main(self):
        try:
            await self.proxy.start()
        except Exception as e:  # reported to the starting thread
            self._error = e
            self._ready.set()
            return
        self._ready.set()
        await self.proxy.serve()

    @property
    def port(self):
        return self.proxy.port

    @property
    def url(self):
        return self.proxy.url

    def stop(self):
        if self._loop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self.proxy.stop)
            self._thread.join(10)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def start_in_thread(upstream, **options):
    """ProxyThread(ProxyConfig(upstream, **options))."""
    return ProxyThread(ProxyConfig(upstream, **options))


def parse_args(argv=None):
    ap = argparse.ArgumentParser(
        description="Loopback proxy in front of moto_server: CloudFormation latency and faults.",
        epilog="Durations: 3s, 250ms, 2m; distributions: uniform:2s:5s, lognormal:3s:0.5 "
               "(median, sigma). The first line on stdout is the bound port.")
    ap.add_argument("--upstream", required=True, help="moto_server URL, http://127.0.0.1:PORT")
    ap.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=0, help="port to bind (default 0: a free one)")
    ap.add_argument("--hold", help="latency mode: hold each stack operation in progress this long")
    ap.add_argument("--hold-update", help="hold for updates (default --hold)")
    ap.add_argument("--hold-delete", help="hold for deletes (default --hold)")
    ap.add_argument("--latency", help="added to every AWS call (e.g. 20ms, uniform:10ms:30ms)")
    ap.add_argument("--faults", type=float, default=0.0, metavar="RATE",
                    help="fault mode: probability per eligible call (0..1)")
    ap.add_argument("--fault-kinds", default=",".join(FAULT_KINDS),
                    help="comma list among %s (default all)" % ", ".join(FAULT_KINDS))
    ap.add_argument("--fault-actions", default="cloudformation",
                    help="eligible calls: services (cloudformation, sts), actions (CreateStack), "
                         "service:Action, or * (default cloudformation)")
    ap.add_argument("--max-faults", type=int, default=100, help="stop injecting after N (default 100)")
    ap.add_argument("--seed", default="0", help="seed of every random draw (default 0)")
    ap.add_argument("--log", help="append one JSON line per call / stack operation here")
    ap.add_argument("--max-runtime", default="1h", help="exit after this long (default 1h)")
    ap.add_argument("--no-tokens", action="store_true",
                    help="forward retries that reuse a ClientRequestToken as moto gets them "
                         "(default: answer them with the first answer, as CloudFormation does)")
    ap.add_argument("--default-account", default=DEFAULT_ACCOUNT,
                    help="account of access keys not issued by AssumeRole (moto's default)")
    a = ap.parse_args(argv)
    try:
        cfg = ProxyConfig(
            a.upstream, host=a.host, port=a.port, hold=a.hold, hold_update=a.hold_update,
            hold_delete=a.hold_delete, latency=a.latency, fault_rate=a.faults,
            fault_kinds=[k.strip() for k in a.fault_kinds.split(",") if k.strip()],
            fault_actions=[k.strip() for k in a.fault_actions.split(",") if k.strip()],
            max_faults=a.max_faults, seed=a.seed, log=a.log,
            max_runtime=parse_duration(a.max_runtime), default_account=a.default_account,
            tokens=not a.no_tokens)
    except ValueError as e:
        ap.error(str(e))
    return cfg


def main(argv=None):
    cfg = parse_args(argv)

    async def run():
        proxy = AwsProxy(cfg)
        try:
            port = await proxy.start()
        except OSError as e:
            sys.exit("awsproxy: cannot listen on %s:%d: %s" % (cfg.host, cfg.port, e))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, proxy.stop, "signal")
        sys.stdout.write("%d\n" % port)
        sys.stdout.flush()
        sys.stderr.write("awsproxy: http://%s:%d -> %s (%s)\n"
                         % (cfg.host, port, cfg.upstream, json.dumps(cfg.summary())))
        sys.stderr.flush()
        await proxy.serve()

    asyncio.run(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
