#!/usr/bin/env python3
"""runbook vs ansible-playbook on playbooks/playbook-cicd-01.yaml, against moto.

    .venv/bin/python bench/compare.py [--rounds N] [--warmup N]
    (or scripts/bench.sh [--rounds N], which also builds and sets up .venv)

One private moto_server with the request recorder (bench/motolib.py). Each
round runs, for both tools (the order alternates between rounds):
    fresh   POST /moto-api/reset, then deploy the playbook from nothing
    noop    run it again on the deployed stacks (nothing to change)
Warm-up rounds are run the same way and left out of the figures. Every run
must exit 0; a no-op rerun of runbook must make no mutating call.

Prints medians per tool and scenario, the ansible/runbook ratio, and the API
calls per run by action (moto recorder); writes bench-results/compare-*.json.
Stdlib only.
"""

import argparse
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in bench/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import motolib  # noqa: E402
from motolib import ROOT, median  # noqa: E402

PLAYBOOK = os.path.join(ROOT, "playbooks", "playbook-cicd-01.yaml")
EXTRA = ["-e", "cicd_account_profile=cicd", "-e", "nonprod_account_profile=nonprod",
         "-e", "prod_account_profile=prod"]
PROFILES = [("cicd", "111111111111"), ("nonprod", "222222222222"), ("prod", "777777777777")]
TOOLS = ("runbook", "ansible")
SCENARIOS = ("fresh", "noop")


def commands(binary, forks):
    runbook = [binary, "apply", PLAYBOOK] + EXTRA
    if forks:
        runbook += ["--forks", str(forks)]
    ansible = [os.path.join(ROOT, "scripts", "ansible-playbook.sh"), PLAYBOOK] + EXTRA
    return {"runbook": runbook, "ansible": ansible}


def changed_count(tool, stdout):
    """Tasks reported changed, from the recap of either tool."""
    if tool == "ansible":
        m = re.findall(r"changed=(\d+)", stdout)
        return sum(int(x) for x in m) if m else None
    # runbook's recap: one line per account, then "total ... changed=N".
    m = re.search(r"^\s*total\s.*\bchanged=(\d+)", stdout, re.M)
    return int(m.group(1)) if m else None


def preflight_seconds(stdout):
    m = re.search(r"^preflight: .*\(([\d.]+)s\)", stdout, re.M)
    return float(m.group(1)) if m else None


def one_run(moto, tool, scenario, argv, env, log_dir, label):
    if scenario == "fresh":
        moto.reset()
    moto.clear_recording()
    load = os.getloadavg()[0]
    moto_cpu = moto.cpu_seconds()
    r = motolib.run_timed(argv, env=env, cwd=ROOT, timeout=1800)
    moto_cpu_after = moto.cpu_seconds()
    calls = moto.calls()
    with open(os.path.join(log_dir, "%s-%s-%s.log" % (label, tool, scenario)), "w") as f:
        f.write(r["stdout"])
        f.write("\n--- stderr ---\n")
        f.write(r["stderr"])
    if r["rc"] != 0:
        sys.stderr.write(r["stdout"][-4000:] + r["stderr"][-4000:])
        raise SystemExit("compare: %s %s run failed (exit %d); logs in %s"
                         % (tool, scenario, r["rc"], log_dir))
    summary = motolib.summarize_calls(calls)
    run = {
        "tool": tool,
        "scenario": scenario,
        "wall": r["wall"],
        "user": r["user"],
        "sys": r["sys"],
        "max_rss_kib": r["max_rss_kib"],
        "load1_before": load,
        "moto_cpu": None if moto_cpu is None or moto_cpu_after is None else moto_cpu_after - moto_cpu,
        "changed": changed_count(tool, r["stdout"]),
        "calls": summary,
    }
    if tool == "runbook":
        run["preflight_s"] = preflight_seconds(r["stdout"])
    return run


def fmt_s(x):
    return "-" if x is None else "%.2f s" % x


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5, help="measured rounds (default 5)")
    ap.add_argument("--warmup", type=int, default=1, help="warm-up rounds, not counted (default 1)")
    ap.add_argument("--runbook", metavar="PATH",
                    help="runbook binary to measure (default target/release/runbook)")
    ap.add_argument("--forks", type=int, default=0, help="runbook --forks (default: runbook's own)")
    args = ap.parse_args()
    if args.rounds < 1:
        ap.error("--rounds must be at least 1")

    stamp = motolib.timestamp()
    work = os.path.join(motolib.RESULTS, "compare-%s" % stamp)
    os.makedirs(work, exist_ok=True)
    binary, binary_info = motolib.snapshot_runbook(work, args.runbook)
    aws_dir = os.path.join(work, "aws")
    os.makedirs(aws_dir, exist_ok=True)
    config = os.path.join(aws_dir, "config")
    creds = os.path.join(aws_dir, "credentials")
    with open(config, "w") as f:
        f.write(motolib.aws_config(PROFILES))
    with open(creds, "w") as f:
        f.write(motolib.BASE_CREDENTIALS)

    info = motolib.machine_info()
    info["runbook_binary"] = binary_info
    moto = motolib.MotoServer(os.path.join(work, "moto")).start()
    print("compare: moto_server pid %d on %s (recorder on); logs in %s"
          % (moto.proc.pid, moto.url, os.path.relpath(work, ROOT)))
    env = moto.env(config, creds)
    argv = commands(binary, args.forks)
    runs = []
    try:
        # Startup / offline cost of runbook: --version and validate.
        startup = {}
        for name, cmd in (("version", [binary, "--version"]),
                          ("validate", [binary, "validate", PLAYBOOK] + EXTRA)):
            walls, rss = [], []
            for _ in range(7):
                r = motolib.run_timed(cmd, env=env, cwd=ROOT)
                if r["rc"] != 0:
                    sys.exit("compare: runbook %s failed:\n%s%s" % (name, r["stdout"], r["stderr"]))
                walls.append(r["wall"])
                rss.append(r["max_rss_kib"])
            startup[name] = {"median_wall": median(walls), "max_rss_kib": max(x or 0 for x in rss)}

        total = args.warmup + args.rounds
        for i in range(total):
            warm = i < args.warmup
            label = "warmup%d" % (i + 1) if warm else "round%d" % (i - args.warmup + 1)
            order = TOOLS if i % 2 == 0 else TOOLS[::-1]
            for tool in order:
                for scenario in SCENARIOS:
                    run = one_run(moto, tool, scenario, argv[tool], env, work, label)
                    run["round"] = label
                    run["warmup"] = warm
                    runs.append(run)
                    print("  %-8s %-8s %-6s %7.2f s  %4d calls (%d mutating)  changed=%s  load %.2f"
                          % (label, tool, scenario, run["wall"], run["calls"]["total"],
                             run["calls"]["mutating_total"], run["changed"], run["load1_before"]),
                          flush=True)
    finally:
        moto.stop()
        os.unlink(binary)  # the copy; its sha256 is in the results

    measured = [r for r in runs if not r["warmup"]]
    stats = {}
    for tool in TOOLS:
        for sc in SCENARIOS:
            rs = [r for r in measured if r["tool"] == tool and r["scenario"] == sc]
            totals = sorted({r["calls"]["total"] for r in rs})
            stats["%s/%s" % (tool, sc)] = {
                "median_wall": median([r["wall"] for r in rs]),
                "min_wall": min(r["wall"] for r in rs),
                "max_wall": max(r["wall"] for r in rs),
                "median_user_sys": median([(r["user"] or 0) + (r["sys"] or 0) for r in rs]),
                "median_moto_cpu": median([r["moto_cpu"] for r in rs]),
                "max_rss_kib": max(r["max_rss_kib"] or 0 for r in rs),
                "median_preflight_s": median([r.get("preflight_s") for r in rs]),
                "call_totals_seen": totals,
                "calls": rs[0]["calls"],
                "changed": sorted({r["changed"] for r in rs if r["changed"] is not None}),
            }
    ratios = {sc: stats["ansible/%s" % sc]["median_wall"] / stats["runbook/%s" % sc]["median_wall"]
              for sc in SCENARIOS}

    # --- report ---------------------------------------------------------------
    print()
    print("machine: %s, %s cores, %s MiB; load at start %.2f %.2f %.2f"
          % (info.get("cpu"), info["nproc"], info.get("mem_total_mib"), *info["loadavg_start"]))
    print("runbook startup: --version %s, validate %s (max RSS %d KiB)"
          % (fmt_s(startup["version"]["median_wall"]), fmt_s(startup["validate"]["median_wall"]),
             startup["validate"]["max_rss_kib"]))
    print()
    print("%d measured rounds (+%d warm-up), median wall time:" % (args.rounds, args.warmup))
    print("| scenario | runbook | ansible-playbook | ansible/runbook | runbook min-max | ansible min-max |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for sc in SCENARIOS:
        a, b = stats["runbook/%s" % sc], stats["ansible/%s" % sc]
        print("| %s | %s | %s | %.1fx | %.2f-%.2f s | %.2f-%.2f s |" % (
            sc, fmt_s(a["median_wall"]), fmt_s(b["median_wall"]), ratios[sc],
            a["min_wall"], a["max_wall"], b["min_wall"], b["max_wall"]))
    print()
    print("CPU (median user+sys of the tool's processes / of the moto server meanwhile), peak RSS:")
    for key in ("runbook/fresh", "runbook/noop", "ansible/fresh", "ansible/noop"):
        st = stats[key]
        print("  %-14s tool CPU %s, moto CPU %s, peak RSS %.1f MiB%s" % (
            key, fmt_s(st["median_user_sys"]), fmt_s(st["median_moto_cpu"]), st["max_rss_kib"] / 1024.0,
            "" if st["median_preflight_s"] is None else ", preflight %s" % fmt_s(st["median_preflight_s"])))
    print()
    print("API calls per run (moto recorder), by action:")
    keys = sorted({k for s in stats.values() for k in s["calls"]["by_action"]})
    cols = ["runbook/fresh", "ansible/fresh", "runbook/noop", "ansible/noop"]
    print("| action | " + " | ".join(cols) + " |")
    print("| --- |" + " ---: |" * len(cols))
    for k in keys:
        mark = " (mutating)" if motolib.is_mutating(motolib.Call(k.split(":")[0], k.split(":", 1)[1], "POST", None)) else ""
        print("| %s%s | " % (k, mark) + " | ".join(str(stats[c]["calls"]["by_action"].get(k, 0)) for c in cols) + " |")
    print("| **total** | " + " | ".join(str(stats[c]["calls"]["total"]) for c in cols) + " |")
    print("| mutating | " + " | ".join(str(stats[c]["calls"]["mutating_total"]) for c in cols) + " |")
    for c in cols:
        if len(stats[c]["call_totals_seen"]) > 1:
            print("note: %s call totals varied between rounds: %s" % (c, stats[c]["call_totals_seen"]))
    noop_mut = stats["runbook/noop"]["calls"]["mutating_total"]
    print()
    print("runbook no-op rerun: %d mutating call(s) %s" % (noop_mut, "OK" if noop_mut == 0 else "-- FAIL"))

    path = motolib.write_json("compare-%s.json" % stamp, {
        "machine": info,
        "commands": {k: [os.path.relpath(a, ROOT) if a.startswith(ROOT) else a for a in v]
                     for k, v in argv.items()},
        "note": "runbook ran from a copy of target/release/runbook taken at the start",
        "rounds": args.rounds,
        "warmup": args.warmup,
        "runbook_startup": startup,
        "stats": stats,
        "ratios_ansible_over_runbook": ratios,
        "runs": runs,
        "logs": os.path.relpath(work, ROOT),
    })
    print("results: %s" % os.path.relpath(path, ROOT))
    if any(r["tool"] == "runbook" and r["scenario"] == "noop" and r["calls"]["mutating_total"]
           for r in runs):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
