#!/usr/bin/env bash
# Create/refresh the repo-local Python virtualenv (.venv/) from
# requirements-dev.txt. Idempotent: a stamp file inside .venv records the
# sha256 of requirements-dev.txt and the install is skipped when it matches.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

req=requirements-dev.txt
venv=.venv
stamp="$venv/.requirements-dev.sha256"

want="$(sha256sum "$req" | cut -d' ' -f1)"

if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    exit 0
fi

if [[ ! -x "$venv/bin/python" ]]; then
    echo "venv.sh: creating $venv" >&2
    python3 -m venv "$venv"
fi

echo "venv.sh: installing $req into $venv" >&2
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
printf '%s\n' "$want" >"$stamp"
echo "venv.sh: $venv is up to date" >&2
