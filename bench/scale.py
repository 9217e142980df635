#!/usr/bin/env python3
"""The cost of scale: runbook on generated playbooks (bench/generate.py).

    .venv/bin/python bench/scale.py [--sizes 10:2,50:5,100:10,250:25,500:50]
                                    [--shapes fanout,independent,chains]
                                    [--ansible-upto N]
    (or scripts/bench-scale.sh [same options])

For every N:M (stacks:accounts) and shape: `runbook validate` (median of
--validate-repeats runs), then against a freshly reset private moto_server
with the recorder on: a fresh `runbook apply` and a no-op `runbook apply`.
For each: wall time, CPU time, peak RSS (GNU time -v, else
getrusage(RUSAGE_CHILDREN)), and API calls (total, per stack, by action,
mutating). With --ansible-upto N, ansible-playbook runs the same generated
playbooks up to N stacks once, for the ratio. Prints a table and how the
cost grows with N; writes
bench-results/scale-*.json. Stdlib only.
"""

import argparse
import math
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in bench/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate  # noqa: E402
import motolib  # noqa: E402
from motolib import ROOT, median  # noqa: E402


def parse_sizes(text):
    out = []
    for part in text.split(","):
        n, _, m = part.partition(":")
        n = int(n)
        m = int(m) if m else max(1, min(50, n // 10))
        out.append((n, m))
    return out


def changed_count(stdout):
    # runbook's recap: one line per account, then "total ... changed=N".
    m = re.search(r"^\s*total\s.*\bchanged=(\d+)", stdout, re.M)
    return int(m.group(1)) if m else None


def preflight_seconds(stdout):
    m = re.search(r"^preflight: .*\(([\d.]+)s\)", stdout, re.M)
    return float(m.group(1)) if m else None


def mib(kib):
    return None if kib is None else kib / 1024.0


def run_apply(moto, argv, env, cwd, log, timeout):
    moto.clear_recording()
    load = os.getloadavg()[0]
    moto_cpu = moto.cpu_seconds()
    r = motolib.run_timed(argv, env=env, cwd=cwd, timeout=timeout)
    moto_cpu_after = moto.cpu_seconds()
    calls = moto.calls()
    with open(log, "w") as f:
        f.write(r["stdout"] + "\n--- stderr ---\n" + r["stderr"])
    summary = motolib.summarize_calls(calls)
    return {
        "rc": r["rc"],
        "wall": r["wall"],
        "cpu": (r["user"] or 0) + (r["sys"] or 0) if r["user"] is not None else None,
        "max_rss_kib": r["max_rss_kib"],
        "load1_before": load,
        "moto_cpu": None if moto_cpu is None or moto_cpu_after is None else moto_cpu_after - moto_cpu,
        "changed": changed_count(r["stdout"]),
        "preflight_s": preflight_seconds(r["stdout"]),
        "calls": summary,
    }


def combine(runs):
    """Median wall/CPU over repeats, worst RSS, calls of the first run (the
    totals of every repeat are kept to show they agree)."""
    out = dict(runs[0])
    out["rc"] = max(r["rc"] for r in runs)
    out["walls"] = [r["wall"] for r in runs]
    for k in ("wall", "cpu", "moto_cpu", "preflight_s"):
        out[k] = median([r[k] for r in runs])
    out["max_rss_kib"] = max(r["max_rss_kib"] or 0 for r in runs) or None
    out["call_totals_seen"] = sorted({r["calls"]["total"] for r in runs})
    out["mutating_max"] = max(r["calls"]["mutating_total"] for r in runs)
    out["changed_seen"] = sorted({r["changed"] for r in runs if r["changed"] is not None})
    return out


def exponent(points):
    """Least-squares slope of log(y) over log(N): 1 = linear, 2 = quadratic."""
    pts = [(math.log(n), math.log(y)) for n, y in points if y and y > 0]
    if len(pts) < 2:
        return None
    mx = sum(p[0] for p in pts) / len(pts)
    my = sum(p[1] for p in pts) / len(pts)
    den = sum((p[0] - mx) ** 2 for p in pts)
    return sum((p[0] - mx) * (p[1] - my) for p in pts) / den if den else None


def marginal(points):
    """(y2 - y1) / (N2 - N1) between consecutive sizes: the cost of one more stack."""
    out = []
    for (n1, y1), (n2, y2) in zip(points, points[1:]):
        if y1 is not None and y2 is not None and n2 != n1:
            out.append((n1, n2, (y2 - y1) / (n2 - n1)))
    return out


def fmt(x, spec="%.2f"):
    return "-" if x is None else spec % x


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10:2,50:5,100:10,250:25,500:50",
                    help="comma-separated N:M (stacks:accounts)")
    ap.add_argument("--shapes", default="fanout,independent,chains")
    ap.add_argument("--validate-repeats", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=3,
                    help="fresh + no-op cycles per size (medians; default 3)")
    ap.add_argument("--runbook", metavar="PATH",
                    help="runbook binary to measure (default target/release/runbook)")
    ap.add_argument("--forks", type=int, default=0, help="runbook --forks (default: runbook's own)")
    ap.add_argument("--ansible-upto", type=int, default=0, metavar="N",
                    help="also run ansible-playbook (once) on sizes up to N stacks (default 0: never)")
    ap.add_argument("--timeout", type=int, default=3600, help="seconds per apply")
    ap.add_argument("--extra-profiles", type=int, default=0, metavar="K",
                    help="append K unused assume-role profiles to each generated AWS config, "
                         "as in a large SSO-generated config (default 0)")
    args = ap.parse_args()
    sizes = parse_sizes(args.sizes)
    shapes = [s.strip() for s in args.shapes.split(",") if s.strip()]

    stamp = motolib.timestamp()
    work = os.path.join(motolib.RESULTS, "scale-%s" % stamp)
    os.makedirs(work, exist_ok=True)
    binary, binary_info = motolib.snapshot_runbook(work, args.runbook)
    info = motolib.machine_info()
    info["runbook_binary"] = binary_info
    moto = motolib.MotoServer(os.path.join(work, "moto")).start()
    print("scale: moto_server pid %d on %s (recorder on); work dir %s"
          % (moto.proc.pid, moto.url, os.path.relpath(work, ROOT)), flush=True)

    rows = []
    failed = False
    try:
        # Warm-up, not measured: moto imports its CloudFormation/SSM/STS
        # code on first use (about 1 s), which would land on the first size.
        wd = os.path.join(work, "warmup")
        gen = generate.generate(4, 2, "fanout", wd)
        r = motolib.run_timed([binary, "apply", gen["playbook"]],
                              env=moto.env(gen["config"], gen["credentials"]), cwd=wd)
        if r["rc"] != 0:
            sys.stderr.write(r["stdout"][-3000:] + r["stderr"][-3000:])
            raise SystemExit("scale: warm-up apply failed")
        for shape in shapes:
            for n, m in sizes:
                d = os.path.join(work, "%s-%d-%d" % (shape, n, m))
                gen = generate.generate(n, m, shape, d)
                if args.extra_profiles:
                    with open(gen["config"], "a") as f:
                        for i in range(args.extra_profiles):
                            f.write("\n[profile unused%05d]\nrole_arn = arn:aws:iam::%d:role/x\n"
                                    "source_profile = base\nregion = us-east-1\n"
                                    % (i, 400000000000 + i))
                env = moto.env(gen["config"], gen["credentials"])
                extra = ["--forks", str(args.forks)] if args.forks else []

                vals = []
                for _ in range(args.validate_repeats):
                    r = motolib.run_timed([binary, "validate", gen["playbook"]], env=env, cwd=d)
                    if r["rc"] != 0:
                        sys.stderr.write(r["stdout"][-3000:] + r["stderr"][-3000:])
                        raise SystemExit("scale: validate failed for %s N=%d" % (shape, n))
                    vals.append(r)
                validate = {
                    "median_wall": median([v["wall"] for v in vals]),
                    "max_rss_kib": max(v["max_rss_kib"] or 0 for v in vals),
                }

                argv = [binary, "apply", gen["playbook"]] + extra
                freshes, noops = [], []
                for rep in range(args.repeats):
                    moto.reset()
                    freshes.append(run_apply(moto, argv, env, d, os.path.join(d, "fresh-%d.log" % rep),
                                             args.timeout))
                    noops.append(run_apply(moto, argv, env, d, os.path.join(d, "noop-%d.log" % rep),
                                           args.timeout))
                fresh, noop = combine(freshes), combine(noops)
                row = {
                    "shape": shape, "stacks": n, "accounts": m,
                    "validate": validate, "fresh": fresh, "noop": noop, "ansible": None,
                    "moto_rss_kib": moto.rss_kib(),
                }
                rows.append(row)
                ok = fresh["rc"] == 0 and noop["rc"] == 0
                failed |= not ok or noop["mutating_max"] > 0
                print("  %-11s N=%-4d M=%-3d validate %.3f s %5.1f MiB | fresh %7.2f s %5.1f MiB %5.1f calls/stack rc=%d"
                      " | noop %6.2f s %5.1f MiB %4.2f calls/stack %d mutating rc=%d changed=%s | load %.2f"
                      % (shape, n, m, validate["median_wall"], mib(validate["max_rss_kib"]),
                         fresh["wall"], mib(fresh["max_rss_kib"]) or 0, fresh["calls"]["total"] / n, fresh["rc"],
                         noop["wall"], mib(noop["max_rss_kib"]) or 0, noop["calls"]["total"] / n,
                         noop["mutating_max"], noop["rc"], noop["changed"], fresh["load1_before"]),
                      flush=True)
                if not ok:
                    print("    run failed; see %s/{fresh,noop}-*.log" % os.path.relpath(d, ROOT), flush=True)
                ansible = None
                if n <= args.ansible_upto:
                    # Same playbook with ansible-playbook, once, for the ratio.
                    ans = [os.path.join(ROOT, "scripts", "ansible-playbook.sh"), gen["playbook"]]
                    moto.reset()
                    ansible = {
                        "fresh": run_apply(moto, ans, env, d, os.path.join(d, "ansible-fresh.log"), args.timeout),
                        "noop": run_apply(moto, ans, env, d, os.path.join(d, "ansible-noop.log"), args.timeout),
                    }
                    for key in ("fresh", "noop"):
                        a = ansible[key]
                        a["ratio"] = a["wall"] / (fresh if key == "fresh" else noop)["wall"]
                        print("    ansible-playbook %-5s %7.2f s (%.0fx runbook) %d calls, %d mutating, rc=%d"
                              % (key, a["wall"], a["ratio"], a["calls"]["total"],
                                 a["calls"]["mutating_total"], a["rc"]), flush=True)
                row["ansible"] = ansible
                failed |= bool(ansible) and (ansible["fresh"]["rc"] != 0 or ansible["noop"]["rc"] != 0)
                for key, x in (("fresh", fresh), ("noop", noop)):
                    if len(x["call_totals_seen"]) > 1:
                        print("    note: %s call totals differ between repeats: %s" % (key, x["call_totals_seen"]))
    finally:
        moto.stop()
        os.unlink(binary)  # the copy; its sha256 is in the results

    # --- report -----------------------------------------------------------------
    print()
    print("machine: %s, %s cores, %s MiB; load at start %.2f %.2f %.2f"
          % (info.get("cpu"), info["nproc"], info.get("mem_total_mib"), *info["loadavg_start"]))
    print()
    print("wall = elapsed; CPU = runbook's user+sys; moto = CPU the moto server used meanwhile")
    print()
    print("| shape | N | M | validate | validate RSS | fresh wall | fresh CPU | fresh moto | fresh RSS "
          "| fresh calls/stack | no-op wall | no-op CPU | no-op moto | no-op RSS | no-op calls/stack "
          "| no-op mutating | no-op preflight |")
    print("| --- |" + " ---: |" * 16)
    for r in rows:
        n = r["stacks"]
        f, o = r["fresh"], r["noop"]
        print("| %s | %d | %d | %s s | %s MiB | %s s | %s s | %s s | %s MiB | %s | %s s | %s s | %s s | %s MiB | %s | %d | %s s |" % (
            r["shape"], n, r["accounts"],
            fmt(r["validate"]["median_wall"], "%.3f"), fmt(mib(r["validate"]["max_rss_kib"]), "%.1f"),
            fmt(f["wall"]), fmt(f["cpu"]), fmt(f["moto_cpu"]), fmt(mib(f["max_rss_kib"]), "%.1f"),
            fmt(f["calls"]["total"] / n),
            fmt(o["wall"]), fmt(o["cpu"]), fmt(o["moto_cpu"]), fmt(mib(o["max_rss_kib"]), "%.1f"),
            fmt(o["calls"]["total"] / n), o["mutating_max"], fmt(o["preflight_s"])))
    print()
    print("calls by action (fresh / no-op):")
    for r in rows:
        print("  %s N=%d M=%d  fresh %s" % (r["shape"], r["stacks"], r["accounts"], r["fresh"]["calls"]["by_action"]))
        print("  %s N=%d M=%d  no-op %s" % (r["shape"], r["stacks"], r["accounts"], r["noop"]["calls"]["by_action"]))

    with_ansible = [r for r in rows if r.get("ansible")]
    if with_ansible:
        print()
        print("| shape | N | M | runbook fresh | ansible fresh | ratio | runbook no-op | ansible no-op | ratio |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for r in with_ansible:
            a = r["ansible"]
            print("| %s | %d | %d | %.2f s | %.2f s | %.0fx | %.2f s | %.2f s | %.0fx |" % (
                r["shape"], r["stacks"], r["accounts"], r["fresh"]["wall"], a["fresh"]["wall"],
                a["fresh"]["ratio"], r["noop"]["wall"], a["noop"]["wall"], a["noop"]["ratio"]))

    growth = {}
    print()
    print("growth with N (log-log slope: 1.0 = linear; marginal = cost of one more stack):")
    for shape in shapes:
        rs = sorted((r for r in rows if r["shape"] == shape), key=lambda r: r["stacks"])
        g = {}
        for label, get in (("validate_s", lambda r: r["validate"]["median_wall"]),
                           ("fresh_s", lambda r: r["fresh"]["wall"]),
                           ("noop_s", lambda r: r["noop"]["wall"]),
                           ("fresh_cpu_s", lambda r: r["fresh"]["cpu"]),
                           ("noop_cpu_s", lambda r: r["noop"]["cpu"]),
                           ("fresh_calls", lambda r: r["fresh"]["calls"]["total"]),
                           ("noop_calls", lambda r: r["noop"]["calls"]["total"]),
                           ("noop_rss_kib", lambda r: r["noop"]["max_rss_kib"])):
            pts = [(r["stacks"], get(r)) for r in rs]
            g[label] = {"slope": exponent(pts), "marginal": marginal(pts)}
            print("  %-11s %-13s slope %s; marginal %s" % (
                shape, label, fmt(g[label]["slope"]),
                ", ".join("%d->%d: %s" % (a, b, fmt(c * 1000, "%.2f ms") if label.endswith("_s")
                                          else fmt(c, "%.2f")) for a, b, c in g[label]["marginal"])))
        growth[shape] = g

    # Per-action calls of the no-op and fresh runs at each size, for the doc.
    path = motolib.write_json("scale-%s.json" % stamp, {
        "machine": info,
        "sizes": sizes,
        "shapes": shapes,
        "forks": args.forks or "default",
        "validate_repeats": args.validate_repeats,
        "repeats": args.repeats,
        "ansible_upto": args.ansible_upto,
        "rows": rows,
        "growth": growth,
        "work": os.path.relpath(work, ROOT),
    })
    print("results: %s" % os.path.relpath(path, ROOT))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
