#!/usr/bin/env bash
# Latency mode: runbook, ansible-playbook and Sceptre against moto behind
# bench/awsproxy.py, which holds every stack operation in progress (see
# bench/latency.py, docs/proxy.md, docs/benchmarks.md).
#   scripts/bench-latency.sh [--holds 3s] [--slow] [--scenarios baseline,chains:20:5] [--tools ...]
# Sceptre goes into .venv-bench (from bench/requirements-bench.txt, stamped
# like scripts/venv.sh does .venv); if it cannot be installed the bench runs
# without it and says so.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/venv.sh
cargo build --release -p runbook-cli

req=bench/requirements-bench.txt
venv=.venv-bench
stamp="$venv/.requirements-bench.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [[ ! -x "$venv/bin/sceptre" || ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    echo "bench-latency.sh: installing $req into $venv" >&2
    if .venv/bin/python -m venv "$venv" &&
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"; then
        printf '%s\n' "$want" >"$stamp"
    else
        echo "bench-latency.sh: could not install Sceptre into $venv; the bench runs without it" >&2
        rm -rf "$venv"
    fi
fi
exec .venv/bin/python bench/latency.py "$@"
