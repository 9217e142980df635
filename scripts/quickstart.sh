#!/usr/bin/env bash
# The quick start: build runbook, start a local AWS emulator (moto) with
# three accounts, and lay down the CI/CD baseline across them.
#
#   scripts/quickstart.sh           deploy (run it again: everything unchanged)
#   scripts/quickstart.sh --check   show the plan only
#
# Accounts on the emulator: profile cicd = 111111111111 (CI/CD management),
# nonprod = 222222222222, prod = 777777777777. The emulator keeps running so
# that reruns see the stacks; stop it with scripts/moto.sh stop.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# runbook is built with the dev profile (no optimisation): its own CPU is
# nothing next to the time AWS or the emulator takes, the first build takes
# about 2 minutes on 2 cores, well under a --release build, and scripts/test.sh
# reuses it for the tests (docs/benchmarks.md, "Quick start from a fresh
# clone"). Benchmarks build --release.
bin="${CARGO_TARGET_DIR:-target}/debug/runbook"
if [[ ! -x .venv/bin/python || ! -x "$bin" ]]; then
    echo "quickstart: first run: about 1 minute for the Python venv (moto) and 2-3 minutes" \
        "to build runbook on 2 cores; later runs take seconds" >&2
fi
scripts/venv.sh
echo "quickstart: cargo build -p runbook-cli" >&2
cargo build -p runbook-cli
scripts/moto.sh start
# shellcheck disable=SC1091
. .moto/env

exec "$bin" apply playbooks/playbook-cicd-01.yaml \
    -e cicd_account_profile=cicd \
    -e nonprod_account_profile=nonprod \
    -e prod_account_profile=prod \
    "$@"
