"""Loads each line of a YAML mapping as Ansible does; prints what it got.

Used by ansible_scalars.rs. Each `key: scalar` line is loaded as its own
document with ansible-core's `from_yaml` (what ansible-playbook uses for
playbooks and vars files), so that a scalar Ansible refuses fails alone.
Prints a JSON object: key -> [type, canonical text], where type is one of
null, bool, int, float, str, timestamp, error, other.
"""

import datetime
import json
import sys

from ansible.parsing.utils.yaml import from_yaml


def describe(value):
    if value is None:
        return ["null", ""]
    if isinstance(value, bool):
        return ["bool", "true" if value else "false"]
    if isinstance(value, int):
        return ["int", str(int(value))]
    if isinstance(value, float):
        return ["float", repr(float(value))]
    if isinstance(value, str):
        return ["str", str(value)]
    if isinstance(value, (datetime.date, datetime.datetime)):
        return ["timestamp", value.isoformat()]
    return ["other", repr(value)]


def main():
    out = {}
    with open(sys.argv[1], encoding="utf-8", newline="") as f:
        lines = f.read().split("\n")
    for line in lines:
        if not line:
            continue
        key = line.split(":", 1)[0]
        try:
            out[key] = describe(from_yaml(line)[key])
        except Exception as e:  # noqa: BLE001 - any refusal is an answer
            first = (str(e).splitlines() or [""])[0]
            out[key] = ["error", f"{type(e).__name__}: {first}"]
    json.dump(out, sys.stdout)


main()
