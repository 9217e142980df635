#!/usr/bin/env bash
# Benchmark runbook against ansible-playbook on playbooks/playbook-cicd-01.yaml
# (fresh deploy and no-op rerun on a private moto with the recorder): see
# bench/compare.py and docs/benchmarks.md.   scripts/bench.sh [--rounds N]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/venv.sh && cargo build --release -p runbook-cli && exec .venv/bin/python bench/compare.py "$@"
