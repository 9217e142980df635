#!/usr/bin/env bash
# The cost of scale: runbook validate / fresh apply / no-op apply on generated
# playbooks (bench/generate.py) of 10..500 stacks: see bench/scale.py and
# docs/benchmarks.md.   scripts/bench-scale.sh [--sizes 10:2,...,500:50] [--shapes fanout,...]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/venv.sh && cargo build --release -p runbook-cli && exec .venv/bin/python bench/scale.py "$@"
