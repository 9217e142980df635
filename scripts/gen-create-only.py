#!/usr/bin/env python3
"""Reduce the CloudFormation resource provider schemas that cfn-lint ships
into crates/cfn/data/create_only.tsv: for each resource type, the properties
whose change makes CloudFormation replace the resource.

cfn-lint keeps one JSON schema per type and version under
cfnlint/data/schemas/resources/<hash>.json, and per region a map from type
name to that hash under cfnlint/data/schemas/providers/<region>.json. We take
the union over all regions (a type that differs between regions gets the
union of its create-only paths: predicting a replacement that does not happen
is the safer mistake).

Usage (from the repository root, with the venv of scripts/venv.sh):
    .venv/bin/python scripts/gen-create-only.py            # rewrite the table
    .venv/bin/python scripts/gen-create-only.py --stdout   # print it instead

Output format (tab separated, one line per type, sorted by type):
    TYPE <TAB> CREATE_ONLY <TAB> CONDITIONAL
where CREATE_ONLY and CONDITIONAL are space-separated JSON pointers relative
to /properties/ ("*" stands for every item of a list), or "-" for none.
CONDITIONAL lists `conditionalCreateOnlyProperties`: changing them may or may
not replace the resource. Lines starting with "#" are comments; the
"# generated:" line is the only one that changes between two runs on the same
cfn-lint, and the test comparing the committed table ignores it.
"""

import argparse
import datetime
import glob
import json
import os
import sys

OUT = os.path.join(os.path.dirname(__file__), "..", "crates", "cfn", "data", "create_only.tsv")


def schema_dir():
    import cfnlint

    return os.path.join(os.path.dirname(cfnlint.__file__), "data", "schemas")


def cfn_lint_version():
    from importlib.metadata import version

    return version("cfn-lint")


def relative(pointer, type_name):
    prefix = "/properties/"
    if not pointer.startswith(prefix):
        sys.exit(f"{type_name}: create-only path {pointer!r} is not under /properties/")
    rest = pointer[len(prefix):]
    if not rest or any(c.isspace() for c in rest):
        sys.exit(f"{type_name}: create-only path {pointer!r} cannot be written in the table")
    return rest


def table():
    root = schema_dir()
    with open(os.path.join(root, "version.json")) as f:
        schema_date = json.load(f).get("schema_date", "unknown")
    create_only = {}
    conditional = {}
    seen = set()
    for provider in sorted(glob.glob(os.path.join(root, "providers", "*.json"))):
        with open(provider) as f:
            types = json.load(f)
        for type_name, digest in types.items():
            # Most regions share a schema file: read each one once.
            if digest in seen:
                continue
            seen.add(digest)
            with open(os.path.join(root, "resources", digest + ".json")) as f:
                schema = json.load(f)
            always = create_only.setdefault(type_name, set())
            maybe = conditional.setdefault(type_name, set())
            always.update(relative(p, type_name) for p in schema.get("createOnlyProperties", []))
            maybe.update(
                relative(p, type_name) for p in schema.get("conditionalCreateOnlyProperties", [])
            )
    lines = [
        "# Create-only properties of CloudFormation resource types: changing one replaces the resource.",
        f"# source: cfn-lint {cfn_lint_version()} resource provider schemas"
        f" (schema_date {schema_date}), union over all regions",
        f"# generated: {datetime.date.today().isoformat()} by scripts/gen-create-only.py; do not edit by hand",
        "# columns: type, create-only paths, conditionally create-only paths"
        " (space separated, relative to /properties/, '-' for none)",
    ]
    for type_name in sorted(create_only):
        always = create_only[type_name]
        # A path that is always create-only is not also "conditional".
        maybe = conditional[type_name] - always
        lines.append(
            "\t".join(
                [
                    type_name,
                    " ".join(sorted(always)) or "-",
                    " ".join(sorted(maybe)) or "-",
                ]
            )
        )
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stdout", action="store_true", help="print the table instead of writing it")
    args = parser.parse_args()
    text = table()
    if args.stdout:
        sys.stdout.write(text)
    else:
        with open(OUT, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
