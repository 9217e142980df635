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

scripts/venv.sh
echo "quickstart: building runbook (release)"
cargo build --release --quiet -p runbook-cli
scripts/moto.sh start
# shellcheck disable=SC1091
. .moto/env

exec "${CARGO_TARGET_DIR:-target}/release/runbook" apply playbooks/playbook-cicd-01.yaml \
    -e cicd_account_profile=cicd \
    -e nonprod_account_profile=nonprod \
    -e prod_account_profile=prod \
    "$@"
