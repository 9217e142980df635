#!/usr/bin/env bash
# The whole test suite: formatting and lints, cfn-lint on the templates, the
# quick start twice (the second run must change nothing), then every Rust
# test: unit, integration against moto (each test starts its own server
# from .venv), and the differential test against ansible-playbook.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s\n' "$*"; }

step "python tools (.venv: moto, ansible, cfn-lint)"
scripts/venv.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "cfn-lint templates"
.venv/bin/cfn-lint templates/*.template playbooks/examples/*/roles/*/files/*.template

step "quick start on a fresh emulator, twice"
scripts/moto.sh stop >/dev/null 2>&1 || true
trap 'scripts/moto.sh stop >/dev/null 2>&1 || true' EXIT
scripts/quickstart.sh
second=$(scripts/quickstart.sh)
echo "$second" | tail -6
if ! grep -q "total .*changed=0 failed=0" <<<"$second"; then
    echo "test.sh: the second quick start run changed something" >&2
    exit 1
fi
scripts/moto.sh stop

step "rust tests (unit, moto integration, ansible differential)"
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --no-fail-fast
else
    # Without nextest, cargo test's last line is a doc-test count of zero:
    # close with the totals instead.
    log=$(mktemp)
    status=0
    cargo test --workspace --no-fail-fast 2>&1 | tee "$log" || status=$?
    awk '/^test result:/ { p += $4; f += $6 } END { printf "%d passed, %d failed\n", p, f }' "$log"
    rm -f "$log"
    exit "$status"
fi
