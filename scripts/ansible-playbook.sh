#!/usr/bin/env bash
# Run the repo's ansible-playbook (.venv, from requirements-dev.txt) quietly
# and reproducibly against the implicit localhost:
#   scripts/ansible-playbook.sh playbooks/playbook-cicd-01.yaml \
#       -e cicd_account_profile=cicd -e nonprod_account_profile=nonprod \
#       -e prod_account_profile=prod
# For the moto emulator, first: scripts/moto.sh start && . .moto/env
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
[[ -x "$venv/bin/ansible-playbook" ]] || {
    echo "ansible-playbook.sh: $venv/bin/ansible-playbook not found; run scripts/venv.sh first" >&2
    exit 1
}

# No inventory: plays target the implicit localhost; silence the two warnings
# ansible prints about that.
export ANSIBLE_LOCALHOST_WARNING=False
export ANSIBLE_INVENTORY_UNPARSED_WARNING=False
# Modules run with the venv's python, where boto3/botocore are installed.
export ANSIBLE_PYTHON_INTERPRETER="$venv/bin/python"
# Use only the collections bundled with the pinned ansible package (amazon.aws
# 10.1.2), not whatever is in ~/.ansible/collections.
export ANSIBLE_COLLECTIONS_PATH="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=False
export ANSIBLE_RETRY_FILES_ENABLED=False
export ANSIBLE_DEPRECATION_WARNINGS=False

exec "$venv/bin/ansible-playbook" "$@"
