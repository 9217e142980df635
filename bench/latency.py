#!/usr/bin/env python3
"""Latency mode: runbook, ansible-playbook and Sceptre when stacks take time.

    .venv/bin/python bench/latency.py [--holds 3s] [--slow] [--scenarios ...]
        [--tools runbook,ansible,sceptre] [--runbook PATH] [--latency 20ms]
    (or scripts/bench-latency.sh [options], which also builds runbook and
    sets up .venv-bench for Sceptre)

On moto every stack operation completes inside the call, so a deploy's
wall time is API overhead only. Here bench/awsproxy.py sits in front of a
private moto_server and holds every stack operation in progress for the
hold duration (fixed, or a distribution such as uniform:2s:5s), as real
CloudFormation does for 30 s to minutes. Each (scenario, hold, tool) is one
fresh deploy: moto reset, a new proxy with its own log.

Per run it reports the wall time; the critical path: the holds along the
longest dependency chain of the playbook (the actual holds, from the
proxy's log) plus runbook's preflight; their ratio (1.0 is the best a tool
can do: it waits for nothing but CloudFormation); and API calls per account
per minute, from the proxy's log (mean over the run for the busiest
account, and the most calls any account made within one sliding minute).

Scenarios:
    baseline            playbooks/playbook-cicd-01.yaml (5 stacks, 4 levels,
                        3 accounts: cicd, nonprod, prod)
    SHAPE:N:M           bench/generate.py (independent | chains | fanout),
                        N stacks over M accounts; e.g. chains:20:5
    loop-orgs:N:M       playbooks/examples/multi-org/site.yml with a generated
                        organisation: a hub stack, then N spokes over M
                        accounts from one include_role loop; e.g. loop-orgs:50:50

--faults RATE (with --fault-kinds, --fault-actions, --max-faults) adds
awsproxy's fault mode to every run, to see how each tool copes.

Sceptre runs from a separate venv (.venv-bench, made by
scripts/bench-latency.sh from bench/requirements-bench.txt; never .venv,
which CI installs). Without it, Sceptre is skipped and the report says so.
Writes bench-results/latency-*.json and a directory with every log.
"""

import argparse
import collections
import json
import os
import re
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in bench/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate  # noqa: E402
import motolib  # noqa: E402
from motolib import ROOT  # noqa: E402

PROXY = os.path.join(ROOT, "bench", "awsproxy.py")
PLAYBOOK = os.path.join(ROOT, "playbooks", "playbook-cicd-01.yaml")
EXTRA = ["-e", "cicd_account_profile=cicd", "-e", "nonprod_account_profile=nonprod",
         "-e", "prod_account_profile=prod"]
PROFILES = [("cicd", "111111111111"), ("nonprod", "222222222222"), ("prod", "777777777777")]
SCEPTRE = os.path.join(ROOT, ".venv-bench", "bin", "sceptre")
TOOLS = ("runbook", "ansible", "sceptre")

# playbook-cicd-01: stack -> stacks it waits for (stack_outputs and imports).
BASELINE_DEPS = {
    "cicd-kms-key": [],
    "cicd-s3-buckets": ["cicd-kms-key"],
    "cicd-iam-roles-nonprod": ["cicd-kms-key", "cicd-s3-buckets"],
    "cicd-iam-roles-prod": ["cicd-kms-key", "cicd-s3-buckets"],
    "cicd-mgmt-settings": ["cicd-iam-roles-nonprod", "cicd-iam-roles-prod",
                           "cicd-kms-key", "cicd-s3-buckets"],
}


# --- scenarios ------------------------------------------------------------------

class Scenario:
    """What to deploy, how each tool runs it, and its dependency graph."""

    def __init__(self, name, playbook, extra, config, credentials, deps, sceptre_dir=None):
        self.name = name
        self.playbook = playbook
        self.extra = extra
        self.config = config
        self.credentials = credentials
        self.deps = deps  # stack name -> [stack names]
        self.sceptre_dir = sceptre_dir

    def levels(self):
        depth = {}

        def d(s):
            if s not in depth:
                depth[s] = 1 + max((d(x) for x in self.deps[s]), default=0)
            return depth[s]
        return max((d(s) for s in self.deps), default=0)

    def critical_path(self, holds):
        """The largest sum of holds along a dependency chain (seconds)."""
        memo = {}

        def longest(s):
            if s not in memo:
                memo[s] = holds.get(s, 0.0) + max((longest(x) for x in self.deps[s]), default=0.0)
            return memo[s]
        return max((longest(s) for s in self.deps), default=0.0)


def scenario_baseline(work):
    aws = os.path.join(work, "aws")
    os.makedirs(aws, exist_ok=True)
    config, creds = os.path.join(aws, "config"), os.path.join(aws, "credentials")
    with open(config, "w") as f:
        f.write(motolib.aws_config(PROFILES))
    with open(creds, "w") as f:
        f.write(motolib.BASE_CREDENTIALS)
    sc = Scenario("baseline", PLAYBOOK, EXTRA, config, creds, BASELINE_DEPS)
    sc.sceptre_dir = sceptre_baseline(os.path.join(work, "sceptre"))
    return sc


def scenario_generated(work, shape, n, m):
    out = os.path.join(work, "gen")
    g = generate.generate(n, m, shape, out)
    by_reg = {s["reg"]: s for s in g["stacks"]}
    deps = {}
    for s in g["stacks"]:
        refs = set(s["after"])
        for _, v in s["params"]:
            refs.update(re.findall(r"(\w+)\.stack_outputs", v))
        deps[s["name"]] = sorted(by_reg[r]["name"] for r in refs)
    sc = Scenario("%s:%d:%d" % (shape, n, m), g["playbook"], [], g["config"], g["credentials"], deps)
    sc.sceptre_dir = sceptre_generated(os.path.join(work, "sceptre"), out, g["stacks"])
    return sc


MULTI_ORG = os.path.join(ROOT, "playbooks", "examples", "multi-org")
LOOP_ORGS = r"loop-orgs:(\d+):(\d+)"
HUB = ("hub", "299999999999")


def scenario_loop_orgs(work, n, m):
    """The multi-organisation loop: playbooks/examples/multi-org/site.yml
    itself (copied with its roles), with a generated organisation `bench`: a
    hub stack in a hub account, then N spokes over M accounts from one
    include_role loop over `environments` (spoke i in account i % M), each
    needing only the hub's outputs."""
    d = os.path.join(work, "multi-org")
    shutil.copytree(MULTI_ORG, d, ignore=shutil.ignore_patterns("orgs"))
    os.makedirs(os.path.join(d, "orgs"))
    accounts = [HUB] + [(generate.profile(a), str(generate.ACCOUNT_BASE + a)) for a in range(m)]
    envs = [{"name": "e%03d" % i, "profile": generate.profile(i % m),
             "cidr": "10.%d.%d.0/24" % (1 + i // 256, i % 256),
             "subnet_cidr": "10.%d.%d.0/26" % (1 + i // 256, i % 256)} for i in range(n)]
    org = {"org_name": "bench", "aws_region": "us-east-1", "hub_profile": HUB[0],
           "hub_cidr": "172.16.0.0/16", "environments": envs}
    with open(os.path.join(d, "orgs", "bench.yml"), "w") as f:
        json.dump(org, f, indent=1)  # JSON is YAML
    aws = os.path.join(work, "aws")
    os.makedirs(aws)
    config, creds = os.path.join(aws, "config"), os.path.join(aws, "credentials")
    with open(config, "w") as f:
        f.write(motolib.aws_config(accounts))
    with open(creds, "w") as f:
        f.write(motolib.BASE_CREDENTIALS)
    hub = "bench-network-hub"
    deps = {hub: []}
    deps.update({"bench-network-%s" % e["name"]: [hub] for e in envs})
    sc = Scenario("loop-orgs:%d:%d" % (n, m), os.path.join(d, "site.yml"), ["-e", "org=bench"],
                  config, creds, deps)
    sc.sceptre_dir = sceptre_loop_orgs(os.path.join(work, "sceptre"), d, org)
    return sc


def check_scenario(spec):
    """Why a scenario cannot run, or None: checked before anything starts."""
    if spec == "baseline" or re.fullmatch(r"(independent|chains|fanout):\d+:\d+", spec):
        return None
    m = re.fullmatch(LOOP_ORGS, spec)
    if m:
        n, accounts = int(m.group(1)), int(m.group(2))
        if not 1 <= n <= 1000 or not 1 <= accounts <= 1000:
            return "scenario %s: 1 to 1000 spokes over 1 to 1000 accounts" % spec
        return None
    return "unknown scenario %r (baseline, SHAPE:N:M, loop-orgs:N:M)" % spec


def make_scenario(spec, work):
    if spec == "baseline":
        return scenario_baseline(work)
    m = re.fullmatch(LOOP_ORGS, spec)
    if m:
        return scenario_loop_orgs(work, int(m.group(1)), int(m.group(2)))
    m = re.fullmatch(r"(independent|chains|fanout):(\d+):(\d+)", spec)
    if not m:
        raise SystemExit("latency: unknown scenario %r (baseline, SHAPE:N:M, loop-orgs:N:M)" % spec)
    return scenario_generated(work, m.group(1), int(m.group(2)), int(m.group(3)))


# --- Sceptre projects --------------------------------------------------------------

def _yaml_str(v):
    return json.dumps(str(v))  # a JSON string is a valid YAML scalar


def sceptre_baseline(d):
    """playbook-cicd-01 as a Sceptre project: the same templates, stack names,
    parameters and tags. The account ids are written in (the playbook reads
    them with aws_caller_info). Termination protection is not set: Sceptre
    has no per-stack option for it (its `protect` is Sceptre's own lock)."""
    acct = dict(PROFILES)
    tags = {"Project": "cicd-baseline", "ManagedBy": "runbook"}
    # path -> (profile, template, parameters, tags, extra dependencies);
    # a parameter (path, output) is that stack's output.
    stacks = {
        "kms-key": ("cicd", "cicd_kms_key.template", {
            "NonProdAccountId": acct["nonprod"], "ProdAccountId": acct["prod"],
            "KeyAliasName": "alias/cicd/artifacts"}, tags, []),
        "s3-buckets": ("cicd", "cicd_s3_buckets.template", {
            "BucketNamePrefix": "cicd", "NonProdAccountId": acct["nonprod"],
            "ProdAccountId": acct["prod"], "KmsKeyArn": ("kms-key", "KmsKeyArn"),
            "NonProdRoleIds": "", "ProdRoleIds": ""}, tags, []),
    }
    for env in ("nonprod", "prod"):
        stacks["iam-roles-" + env] = (env, "cicd_iam_roles.template", {
            "EnvironmentName": env, "CicdAccountId": acct["cicd"],
            "KmsKeyArn": ("kms-key", "KmsKeyArn"),
            "ArtifactsBucketName": ("s3-buckets", "ArtifactsBucketName"),
            "TemplatesBucketName": ("s3-buckets", "TemplatesBucketName"),
            "PermissionsBoundary": "none"}, dict(tags, Environment=env), [])
    mgmt = {"SettingsPrefix": "/cicd/settings", "NonProdAccountId": acct["nonprod"],
            "ProdAccountId": acct["prod"]}
    for env, cap in (("nonprod", "NonProd"), ("prod", "Prod")):
        for out in ("CrossAccountRoleArn", "CrossAccountRoleId", "CloudFormationRoleArn",
                    "CloudFormationRoleId"):
            mgmt[cap + out] = ("iam-roles-" + env, out)
    # Its template imports the KMS and S3 stacks' exports.
    stacks["mgmt-settings"] = ("cicd", "cicd_mgmt_settings.template", mgmt, tags,
                               ["kms-key", "s3-buckets"])
    write_sceptre_project(d, "cicd", os.path.join(ROOT, "templates"),
                          {p: ("cicd-" + p,) + v for p, v in stacks.items()})
    return d


def sceptre_generated(d, gen_dir, stacks):
    """A generated playbook as a Sceptre project (stack_outputs become
    stack outputs, Fn::ImportValue waits become dependencies)."""
    out = {}
    for s in stacks:
        params = {}
        for k, v in s["params"]:
            m = re.search(r"(\w+)\.stack_outputs\.(\w+)", v)
            params[k] = (m.group(1), m.group(2)) if m else v.strip('"')
        out[s["reg"]] = (s["name"], s["profile"], s["template"], params,
                         {"Project": "runbook-bench"}, list(s["after"]))
    write_sceptre_project(d, "bench", os.path.join(gen_dir, "templates"), out)
    return d


def sceptre_loop_orgs(d, playbook_dir, org):
    """The multi-organisation loop as a Sceptre project: the hub, and one
    spoke per environment depending on it (its outputs through
    !stack_output_external; the hub's account id written in, where the
    playbook reads it with aws_caller_info)."""
    templates = os.path.join(d, "templates-src")
    os.makedirs(templates)
    for role, t in (("network_hub", "hub.template"), ("network_spoke", "spoke.template")):
        shutil.copy(os.path.join(playbook_dir, "roles", role, "files", t), templates)
    name = org["org_name"]
    stacks = {"hub": ("%s-network-hub" % name, org["hub_profile"], "hub.template",
                      {"OrgName": name, "HubCidr": org["hub_cidr"]},
                      {"org": name, "layer": "network"}, [])}
    for e in org["environments"]:
        stacks["spoke-" + e["name"]] = (
            "%s-network-%s" % (name, e["name"]), e["profile"], "spoke.template", {
                "OrgName": name, "EnvName": e["name"], "SpokeCidr": e["cidr"],
                "SubnetCidr": e["subnet_cidr"], "HubVpcId": ("hub", "HubVpcId"),
                "HubCidr": ("hub", "HubCidr"), "HubAccountId": HUB[1]},
            {"org": name, "env": e["name"], "layer": "network"}, [])
    write_sceptre_project(d, "bench", templates, stacks)
    return d


def write_sceptre_project(d, group, templates, stacks):
    """config/config.yaml and config/GROUP/PATH.yaml per stack. Stack names
    are set with stack_name, so outputs are read with !stack_output_external
    (with the producing stack's profile: another account) and the order is
    given with dependencies: Sceptre 4.7's !stack_output looks for
    PROJECT-GROUP-PATH, ignoring stack_name, and stacks at the top of
    config/ break its dependency graph."""
    cfg = os.path.join(d, "config", group)
    os.makedirs(cfg, exist_ok=True)
    if not os.path.exists(os.path.join(d, "templates")):
        os.symlink(templates, os.path.join(d, "templates"))
    with open(os.path.join(d, "config", "config.yaml"), "w") as f:
        f.write("project_code: %s\nregion: us-east-1\n" % group)
    for path, (name, profile, template, params, tags, after) in stacks.items():
        deps = list(after)
        lines = ["stack_name: %s" % name, "profile: %s" % profile,
                 "template:", "  type: file", "  path: %s" % template, "parameters:"]
        for k, v in params.items():
            if isinstance(v, tuple):
                src, key = v
                lines.append("  %s: !stack_output_external %s::%s %s"
                             % (k, stacks[src][0], key, stacks[src][1]))
                deps.append(src)
            else:
                lines.append("  %s: %s" % (k, _yaml_str(v)))
        lines.append("stack_tags:")
        lines += ["  %s: %s" % (k, _yaml_str(v)) for k, v in tags.items()]
        if deps:
            lines.append("dependencies:")
            lines += ["  - %s/%s.yaml" % (group, x) for x in sorted(set(deps))]
        with open(os.path.join(cfg, path + ".yaml"), "w") as f:
            f.write("\n".join(lines) + "\n")


# --- one run ----------------------------------------------------------------------

class ProxyProcess:
    def __init__(self, upstream, hold, latency, seed, log, faults=()):
        argv = [os.path.join(ROOT, ".venv", "bin", "python"), PROXY, "--upstream", upstream,
                "--port", "0", "--hold", hold, "--seed", str(seed), "--log", log,
                "--max-runtime", "2h"] + list(faults)
        if latency:
            argv += ["--latency", latency]
        self.err = open(log + ".stderr", "w")
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.err,
                                     stdin=subprocess.DEVNULL)
        line = self.proc.stdout.readline()
        if not line.strip().isdigit():
            self.stop()
            raise SystemExit("latency: awsproxy did not start; see %s.stderr" % log)
        self.url = "http://127.0.0.1:%d" % int(line)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.err.close()


def read_log(path):
    calls, ops = [], []
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            if r["type"] == "call":
                calls.append(r)
            elif r["type"] == "op":
                ops.append(r)
    return calls, ops


def per_account_rates(calls, wall):
    by = collections.defaultdict(list)
    for c in calls:
        by[c["account"]].append(c["t"])
    mean, peak = {}, {}
    for acct, ts in by.items():
        ts.sort()
        mean[acct] = len(ts) / (wall / 60.0) if wall > 0 else None
        best, i = 0, 0
        for j in range(len(ts)):
            while ts[j] - ts[i] >= 60.0:
                i += 1
            best = max(best, j - i + 1)
        peak[acct] = best
    return mean, peak


def notice_lags(calls, ops, deps):
    """How long after each held create ended the tool looked again, and how
    long after a stack's last dependency ended its CreateStack came.

    notice: from the op's end (start + hold) to the first call after it in
    the stack's account that could show the end: a ListStacks, or a
    DescribeStacks of that stack or of all. start: for each stack with
    dependencies, its first CreateStack minus the latest end among them.
    Returns ({stack: notice s}, {stack: start s}, {stack: allowed s}), where
    allowed is max(0.5 s, 5 % of the hold)."""
    by_acct = collections.defaultdict(list)
    creates = {}
    for c in calls:
        if c["service"] != "cloudformation":
            continue
        if c["action"] == "ListStacks" or c["action"] == "DescribeStacks":
            by_acct[c["account"]].append(c)
        elif c["action"] == "CreateStack" and c["status"] == 200:
            creates.setdefault(c["stack"], c["t"])
    notice, allowed, end = {}, {}, {}
    for o in ops:
        if o["op"] != "CREATE":
            continue
        end[o["stack"]] = e = o["t"] + o["hold_s"]
        allowed[o["stack"]] = max(0.5, 0.05 * o["hold_s"])
        for c in by_acct[o["account"]]:
            if c["t"] >= e and (c["action"] == "ListStacks" or c["stack"] in (None, o["stack"])):
                notice[o["stack"]] = c["t"] - e
                break
    start = {s: creates[s] - max(end[d] for d in ds)
             for s, ds in deps.items() if ds and s in creates and all(d in end for d in ds)}
    return notice, start, allowed


def _median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if xs else None


def preflight_seconds(stdout):
    m = re.search(r"^preflight: .*\(([\d.]+)s\)", stdout, re.M)
    return float(m.group(1)) if m else None


def command(tool, sc, binary, runbook_args=()):
    if tool == "runbook":
        return [binary, "apply", sc.playbook] + sc.extra + list(runbook_args), ROOT
    if tool == "ansible":
        return [os.path.join(ROOT, "scripts", "ansible-playbook.sh"), sc.playbook] + sc.extra, ROOT
    group = "cicd" if sc.name == "baseline" else "bench"
    return [SCEPTRE, "--dir", sc.sceptre_dir, "--no-colour", "launch", "--yes", group], sc.sceptre_dir


def one_run(moto, sc, tool, hold, args, binary, work):
    label = "%s-%s-%s" % (sc.name.replace(":", "_"), hold.replace(":", "_"), tool)
    log = os.path.join(work, label + ".proxy.jsonl")
    moto.reset()
    proxy = ProxyProcess(moto.url, hold, args.latency, args.seed, log, fault_args(args))
    try:
        env = moto.env(sc.config, sc.credentials)
        env["AWS_ENDPOINT_URL"] = proxy.url
        argv, cwd = command(tool, sc, binary, args.runbook_arg)
        load = os.getloadavg()[0]
        r = motolib.run_timed(argv, env=env, cwd=cwd, timeout=args.timeout)
    finally:
        proxy.stop()
    with open(os.path.join(work, label + ".log"), "w") as f:
        f.write(r["stdout"] + "\n--- stderr ---\n" + r["stderr"])
    calls, ops = read_log(log)
    holds = {o["stack"]: o["hold_s"] for o in ops if o["op"] == "CREATE"}
    missing = sorted(set(sc.deps) - set(holds))
    chain = sc.critical_path(holds)
    preflight = preflight_seconds(r["stdout"]) if tool == "runbook" else None
    critical = chain + (preflight or 0.0)
    mean, peak = per_account_rates(calls, r["wall"])
    by_action = collections.Counter("%s:%s" % (c["service"], c["action"]) for c in calls)
    notice, start, allowed = notice_lags(calls, ops, sc.deps)
    late = sorted(s for s in notice if notice[s] > allowed[s])
    run = {
        "scenario": sc.name, "hold": hold, "tool": tool, "rc": r["rc"], "wall": r["wall"],
        "chain_holds": chain, "preflight": preflight, "critical_path": critical,
        "ratio": r["wall"] / critical if critical else None,
        "calls": len(calls), "calls_by_action": dict(sorted(by_action.items())),
        "calls_per_account_minute_mean": mean, "calls_per_account_minute_peak": peak,
        "stacks_created": len(holds), "stacks_expected": len(sc.deps), "missing": missing,
        "describe_stacks_per_stack": by_action.get("cloudformation:DescribeStacks", 0) / max(1, len(sc.deps)),
        "list_stacks": by_action.get("cloudformation:ListStacks", 0),
        "describe_stack_events": by_action.get("cloudformation:DescribeStackEvents", 0),
        "accounts": len(mean),
        "notice_median": _median(notice.values()), "notice_max": max(notice.values(), default=None),
        "notice_late": len(late), "notice_late_worst": max((notice[s] - allowed[s] for s in late), default=None),
        "start_lag_median": _median(start.values()), "start_lag_max": max(start.values(), default=None),
        "notice_by_stack": notice, "start_lag_by_stack": start,
        "faults": sum(1 for c in calls if c.get("fault")),
        "faults_by_kind": dict(collections.Counter(c["fault"] for c in calls if c.get("fault"))),
        "errors_4xx_5xx": sum(1 for c in calls if (c.get("status") or 0) >= 400),
        "load1_before": load, "log": os.path.relpath(log, ROOT),
    }
    ok = r["rc"] == 0 and not missing
    print("  %-16s %-6s %-8s %s %8.2f s  critical %7.2f s  ratio %5.2f  %4d calls  busiest acct %5.1f/min (peak %d in 60 s)  noticed %s / %s%s"
          % (sc.name, hold, tool, "ok  " if ok else "FAIL", r["wall"], critical,
             run["ratio"] or 0, len(calls), max(mean.values() or [0]), max(peak.values() or [0]),
             fmt(run["notice_median"]), fmt(run["notice_max"]),
             "  faults %s" % run["faults_by_kind"] if run["faults"] else ""),
          flush=True)
    if not ok:
        sys.stderr.write("latency: %s failed (rc %d, missing %s); log %s\n%s\n"
                         % (label, r["rc"], missing, os.path.join(work, label + ".log"),
                            (r["stdout"] + r["stderr"])[-2500:]))
    return run


def fault_args(args):
    if not args.faults:
        return []
    out = ["--faults", str(args.faults), "--max-faults", str(args.max_faults)]
    if args.fault_kinds:
        out += ["--fault-kinds", args.fault_kinds]
    if args.fault_actions:
        out += ["--fault-actions", args.fault_actions]
    return out


def fmt(x, unit=" s"):
    return "-" if x is None else "%.2f%s" % (x, unit)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--holds", default="3s",
                    help="comma list of hold durations/distributions (default 3s; e.g. 3s,uniform:2s:5s)")
    ap.add_argument("--slow", action="store_true", help="also hold 30 s (minutes per run)")
    ap.add_argument("--scenarios", default="baseline,chains:20:5,fanout:20:5,loop-orgs:20:20",
                    help="comma list (default baseline,chains:20:5,fanout:20:5,loop-orgs:20:20)")
    ap.add_argument("--tools", default=",".join(TOOLS), help="comma list among runbook, ansible, sceptre")
    ap.add_argument("--runbook", metavar="PATH", help="runbook binary (default target/release/runbook)")
    ap.add_argument("--runbook-arg", action="append", default=[], metavar="ARG",
                    help="extra argument for runbook apply, repeatable (e.g. --runbook-arg=--forks=50)")
    ap.add_argument("--latency", help="per-call latency added by the proxy (e.g. 20ms)")
    ap.add_argument("--seed", default="7", help="proxy seed (default 7)")
    ap.add_argument("--faults", type=float, default=0.0, metavar="RATE",
                    help="also inject faults (awsproxy fault mode) at this rate per call")
    ap.add_argument("--fault-kinds", help="awsproxy --fault-kinds (default all)")
    ap.add_argument("--fault-actions", help="awsproxy --fault-actions (default cloudformation)")
    ap.add_argument("--max-faults", type=int, default=100, help="awsproxy --max-faults (default 100)")
    ap.add_argument("--timeout", type=int, default=3600, help="seconds per run")
    args = ap.parse_args()
    holds = [h.strip() for h in args.holds.split(",") if h.strip()]
    if args.slow and "30s" not in holds:
        holds.append("30s")
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    for spec in scenarios:
        if check_scenario(spec):
            ap.error(check_scenario(spec))
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    for t in tools:
        if t not in TOOLS:
            ap.error("unknown tool %r" % t)
    notes = []
    if "sceptre" in tools and not os.access(SCEPTRE, os.X_OK):
        notes.append("Sceptre skipped: %s not found (scripts/bench-latency.sh makes .venv-bench "
                     "from bench/requirements-bench.txt)" % os.path.relpath(SCEPTRE, ROOT))
        tools.remove("sceptre")
        print("latency: " + notes[-1])

    stamp = motolib.timestamp()
    work = os.path.join(motolib.RESULTS, "latency-%s" % stamp)
    os.makedirs(work, exist_ok=True)
    binary, binary_info = (None, None)
    if "runbook" in tools:
        binary, binary_info = motolib.snapshot_runbook(work, args.runbook)
    info = motolib.machine_info()
    info["runbook_binary"] = binary_info
    versions = {}
    if "sceptre" in tools:
        versions["sceptre"] = subprocess.run([SCEPTRE, "--version"], capture_output=True,
                                             text=True).stdout.strip()
    moto = motolib.MotoServer(os.path.join(work, "moto")).start()
    print("latency: moto_server pid %d on %s; logs in %s"
          % (moto.proc.pid, moto.url, os.path.relpath(work, ROOT)), flush=True)
    runs = []
    try:
        # moto's first CloudFormation request imports its modules (about 1 s).
        warm = ProxyProcess(moto.url, "0s", None, 0, os.path.join(work, "warmup.jsonl"))
        env = moto.env(*_baseline_files(work))
        env["AWS_ENDPOINT_URL"] = warm.url
        if binary:
            motolib.run_timed([binary, "apply", PLAYBOOK] + EXTRA, env=env, cwd=ROOT, timeout=600)
        warm.stop()
        for spec in scenarios:
            sc = make_scenario(spec, os.path.join(work, spec.replace(":", "_")))
            print("scenario %s: %d stacks, %d levels" % (sc.name, len(sc.deps), sc.levels()), flush=True)
            for hold in holds:
                for tool in tools:
                    runs.append(one_run(moto, sc, tool, hold, args, binary, work))
    finally:
        moto.stop()
        if binary:
            os.unlink(binary)

    print()
    print("machine: %s, %s cores, %s MiB; load at start %.2f; runbook %s"
          % (info.get("cpu"), info["nproc"], info.get("mem_total_mib"), info["loadavg_start"][0],
             info.get("git_head")))
    print()
    if args.faults:
        print("faults: %s" % " ".join(fault_args(args)))
    print("| scenario | hold | tool | wall | critical path (holds + preflight) | wall / critical | "
          "API calls | DescribeStacks per stack | ListStacks | DescribeStackEvents | "
          "busiest account, calls/min | peak calls in 60 s | end noticed after (median / max) | "
          "late | dependent started after (max) |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in runs:
        print("| %s | %s | %s | %s | %s (%s + %s) | %s | %d | %.1f | %d | %d | %.0f | %d | %s / %s | %d | %s |%s" % (
            r["scenario"], r["hold"], r["tool"], fmt(r["wall"]), fmt(r["critical_path"]),
            fmt(r["chain_holds"]), fmt(r["preflight"]), fmt(r["ratio"], "x"), r["calls"],
            r["describe_stacks_per_stack"], r["list_stacks"], r["describe_stack_events"],
            max(r["calls_per_account_minute_mean"].values() or [0]),
            max(r["calls_per_account_minute_peak"].values() or [0]),
            fmt(r["notice_median"]), fmt(r["notice_max"]), r["notice_late"], fmt(r["start_lag_max"]),
            ("" if r["rc"] == 0 and not r["missing"] else " **failed**")
            + (" faults: %s" % r["faults_by_kind"] if r["faults"] else "")))
    for n in notes:
        print("note: " + n)
    path = motolib.write_json("latency-%s.json" % stamp, {
        "machine": info, "versions": versions, "holds": holds, "latency": args.latency,
        "seed": args.seed, "faults": fault_args(args), "runbook_args": args.runbook_arg,
        "notes": notes, "runs": runs, "logs": os.path.relpath(work, ROOT),
    })
    print("results: %s" % os.path.relpath(path, ROOT))
    return 0 if all(r["rc"] == 0 and not r["missing"] for r in runs) else 1


def _baseline_files(work):
    aws = os.path.join(work, "aws")
    os.makedirs(aws, exist_ok=True)
    config, creds = os.path.join(aws, "config"), os.path.join(aws, "credentials")
    with open(config, "w") as f:
        f.write(motolib.aws_config(PROFILES))
    with open(creds, "w") as f:
        f.write(motolib.BASE_CREDENTIALS)
    return config, creds


if __name__ == "__main__":
    sys.exit(main())
