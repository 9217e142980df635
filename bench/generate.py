#!/usr/bin/env python3
"""Synthetic playbooks for runbook: N stacks over M accounts.

    .venv/bin/python bench/generate.py --stacks N --accounts M \
        --shape independent|chains|fanout --out DIR [--chain-length L] [--width W]

Writes into DIR:
    playbook.yaml     one play, one amazon.aws.cloudformation task per stack
    templates/*.yaml  small templates: one AWS::SSM::Parameter per stack
    aws/config        profile `base` plus M assume-role profiles acct000..,
                      accounts 300000000000 + i (moto takes the account from
                      the role ARN of AssumeRole)
    aws/credentials   static keys of `base`

Shapes (stack i lives in account i % M unless said otherwise):
    independent  no dependencies: all N stacks could run at once
    chains       chains of L stacks (default 10); each stack takes its
                 predecessor's output as a parameter (stack_outputs), and
                 consecutive stacks of a chain are in different accounts
    fanout       groups of W + 2 stacks (default W = 8): a root, W middles
                 and a fan-in. Even middles take the root's output through
                 stack_outputs (in other accounts); odd middles import the
                 root's export with Fn::ImportValue (same account) and export
                 their own value; the fan-in takes the even middles' outputs
                 as parameters and imports the odd middles' exports.
A last, partial group or chain is shorter.

Only what runbook supports is used: play keys name/hosts/gather_facts/vars/
tasks; task keys name/register; module options stack_name/state/
template_body (lookup('file')) / template_parameters/profile/region/tags.
The playbook is also valid for ansible-playbook.
"""

import argparse
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in bench/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import motolib  # noqa: E402

ACCOUNT_BASE = 300000000000

LEAF = """\
AWSTemplateFormatVersion: "2010-09-09"
Description: runbook bench - one SSM parameter, no inputs.
Parameters:
  Name:
    Type: String
  Value:
    Type: String
Resources:
  Param:
    Type: AWS::SSM::Parameter
    Properties:
      Name: !Sub "/bench/${Name}"
      Type: String
      Value: !Ref Value
Outputs:
  Value:
    Value: !Ref Value
  ParameterName:
    Value: !Ref Param
"""

# Takes the value of another stack through a parameter (stack_outputs).
LINK = """\
AWSTemplateFormatVersion: "2010-09-09"
Description: runbook bench - one SSM parameter derived from an upstream output.
Parameters:
  Name:
    Type: String
  Upstream:
    Type: String
Resources:
  Param:
    Type: AWS::SSM::Parameter
    Properties:
      Name: !Sub "/bench/${Name}"
      Type: String
      Value: !Sub "${Name}<-${Upstream}"
Outputs:
  Value:
    Value: !Sub "${Name}<-${Upstream}"
  ParameterName:
    Value: !Ref Param
"""

ROOT_T = """\
AWSTemplateFormatVersion: "2010-09-09"
Description: runbook bench - fan-out root; exports its value.
Parameters:
  Name:
    Type: String
  Group:
    Type: String
  Value:
    Type: String
Resources:
  Param:
    Type: AWS::SSM::Parameter
    Properties:
      Name: !Sub "/bench/${Name}"
      Type: String
      Value: !Ref Value
Outputs:
  ParameterName:
    Value: !Ref Param
  Value:
    Value: !Ref Value
    Export:
      Name: !Sub "bench-${Group}-root"
"""

MID_IMPORT = """\
AWSTemplateFormatVersion: "2010-09-09"
Description: runbook bench - fan-out middle that imports the root's export and exports its own.
Parameters:
  Name:
    Type: String
  Group:
    Type: String
  Index:
    Type: String
Resources:
  Param:
    Type: AWS::SSM::Parameter
    Properties:
      Name: !Sub "/bench/${Name}"
      Type: String
      Value: !Join
        - "<-"
        - - !Ref Name
          - Fn::ImportValue: !Sub "bench-${Group}-root"
Outputs:
  ParameterName:
    Value: !Ref Param
  Value:
    Value: !Sub "${Name}:imported"
    Export:
      Name: !Sub "bench-${Group}-mid-${Index}"
"""


def fanin_template(param_middles, import_middles):
    lines = [
        'AWSTemplateFormatVersion: "2010-09-09"',
        "Description: runbook bench - fan-in of %d outputs and %d imports."
        % (len(param_middles), len(import_middles)),
        "Parameters:",
        "  Name:",
        "    Type: String",
    ]
    if import_middles:
        lines += ["  Group:", "    Type: String"]
    for j in param_middles:
        lines += ["  In%d:" % j, "    Type: String"]
    # Block style: moto's YAML loader does not take a tag on a flow mapping
    # (`!ImportValue {"Fn::Sub": ...}`).
    parts = ["          - !Ref In%d" % j for j in param_middles]
    parts += ['          - Fn::ImportValue: !Sub "bench-${Group}-mid-%d"' % j for j in import_middles]
    if not parts:
        parts = ["          - !Ref Name"]
    lines += [
        "Resources:",
        "  Param:",
        "    Type: AWS::SSM::Parameter",
        "    Properties:",
        '      Name: !Sub "/bench/${Name}"',
        "      Type: String",
        "      Value: !Join",
        '        - ","',
        "        -",
    ] + parts + [
        "Outputs:",
        "  Value:",
        '    Value: !Sub "${Name}:%d-in"' % len(parts),
        "  ParameterName:",
        "    Value: !Ref Param",
        "",
    ]
    return "\n".join(lines)


def profile(i):
    return "acct%03d" % i


class Playbook:
    def __init__(self, shape, n, m):
        self.lines = [
            "---",
            "# Generated by bench/generate.py: %d stacks over %d accounts, shape %s." % (n, m, shape),
            "- name: runbook bench - %s, %d stacks, %d accounts" % (shape, n, m),
            "  hosts: localhost",
            "  gather_facts: false",
            "  vars:",
            "    aws_region: us-east-1",
            "  tasks:",
        ]
        self.count = 0
        # The same stacks as data, for tools other than runbook/ansible
        # (bench/latency.py writes Sceptre configs from it) and for the
        # dependency graph: `after` lists registers this stack waits for
        # through Fn::ImportValue (stack_outputs references are in params).
        self.stacks = []

    def stack(self, reg, name, account, template, params, after=()):
        self.count += 1
        self.stacks.append({"reg": reg, "name": name, "account": account, "profile": profile(account),
                            "template": template, "params": list(params), "after": list(after)})
        self.lines += [
            "    - name: Stack %s" % name,
            "      amazon.aws.cloudformation:",
            "        stack_name: %s" % name,
            "        state: present",
            "        profile: %s" % profile(account),
            '        region: "{{ aws_region }}"',
            "        template_body: \"{{ lookup('file', 'templates/%s') }}\"" % template,
            "        template_parameters:",
        ]
        for k, v in params:
            self.lines.append("          %s: %s" % (k, v))
        self.lines += [
            "        tags:",
            "          Project: runbook-bench",
            "      register: %s" % reg,
        ]

    def text(self):
        return "\n".join(self.lines) + "\n"


def out_ref(reg):
    return '"{{ %s.stack_outputs.Value }}"' % reg


def generate(n, m, shape, out, chain_length=10, width=8):
    if n < 1 or m < 1:
        raise ValueError("need at least one stack and one account")
    tdir = os.path.join(out, "templates")
    os.makedirs(tdir, exist_ok=True)
    templates = {}
    pb = Playbook(shape, n, m)

    def tpl(name, text):
        templates[name] = text
        return name

    if shape == "independent":
        tpl("leaf.yaml", LEAF)
        for i in range(n):
            name = "bench-s%04d" % i
            pb.stack("s%04d" % i, name, i % m, "leaf.yaml", [("Name", name), ("Value", "v%d" % i)])
    elif shape == "chains":
        tpl("leaf.yaml", LEAF)
        tpl("link.yaml", LINK)
        i = 0
        c = 0
        while i < n:
            prev = None
            for k in range(min(chain_length, n - i)):
                name = "bench-c%03d-%02d" % (c, k)
                reg = "c%03d_%02d" % (c, k)
                account = (c + k) % m
                if prev is None:
                    pb.stack(reg, name, account, "leaf.yaml", [("Name", name), ("Value", "c%d" % c)])
                else:
                    pb.stack(reg, name, account, "link.yaml", [("Name", name), ("Upstream", out_ref(prev))])
                prev = reg
                i += 1
            c += 1
    elif shape == "fanout":
        tpl("root.yaml", ROOT_T)
        tpl("link.yaml", LINK)
        tpl("mid_import.yaml", MID_IMPORT)
        i = 0
        g = 0
        while i < n:
            size = min(width + 2, n - i)
            home = g % m
            group = "g%03d" % g
            root_reg = "g%03d_root" % g
            pb.stack(root_reg, "bench-%s-root" % group, home, "root.yaml",
                     [("Name", "bench-%s-root" % group), ("Group", group), ("Value", "g%d" % g)])
            middles = max(0, size - 2)
            param_mids, import_mids = [], []
            for j in range(middles):
                name = "bench-%s-m%02d" % (group, j)
                reg = "g%03d_m%02d" % (g, j)
                if j % 2 == 0:
                    # Through stack_outputs, from another account when there is one.
                    account = (home + 1 + j // 2) % m
                    pb.stack(reg, name, account, "link.yaml",
                             [("Name", name), ("Upstream", out_ref(root_reg))])
                    param_mids.append(j)
                else:
                    # Through Fn::ImportValue: same account and region.
                    pb.stack(reg, name, home, "mid_import.yaml",
                             [("Name", name), ("Group", group), ("Index", '"%d"' % j)],
                             after=[root_reg])
                    import_mids.append(j)
            if size >= 2:
                tname = tpl("fanin_%d_%d.yaml" % (len(param_mids), len(import_mids)),
                            fanin_template(param_mids, import_mids))
                name = "bench-%s-fanin" % group
                params = [("Name", name)] + ([("Group", group)] if import_mids else [])
                params += [("In%d" % j, out_ref("g%03d_m%02d" % (g, j))) for j in param_mids]
                pb.stack("g%03d_fanin" % g, name, home, tname, params,
                         after=["g%03d_m%02d" % (g, j) for j in import_mids])
            i += size
            g += 1
    else:
        raise ValueError("unknown shape %r" % shape)
    assert pb.count == n, (pb.count, n)

    for name, text in templates.items():
        with open(os.path.join(tdir, name), "w") as f:
            f.write(text)
    with open(os.path.join(out, "playbook.yaml"), "w") as f:
        f.write(pb.text())
    aws = os.path.join(out, "aws")
    os.makedirs(aws, exist_ok=True)
    with open(os.path.join(aws, "config"), "w") as f:
        f.write(motolib.aws_config([(profile(a), str(ACCOUNT_BASE + a)) for a in range(m)]))
    with open(os.path.join(aws, "credentials"), "w") as f:
        f.write(motolib.BASE_CREDENTIALS)
    return {
        "playbook": os.path.join(out, "playbook.yaml"),
        "config": os.path.join(aws, "config"),
        "credentials": os.path.join(aws, "credentials"),
        "templates": sorted(templates),
        "stacks": pb.stacks,
        "accounts": [(profile(a), str(ACCOUNT_BASE + a)) for a in range(m)],
    }


def main():
    ap = argparse.ArgumentParser(description="Generate a synthetic runbook playbook.")
    ap.add_argument("--stacks", "-n", type=int, required=True)
    ap.add_argument("--accounts", "-m", type=int, required=True)
    ap.add_argument("--shape", choices=("independent", "chains", "fanout"), default="fanout")
    ap.add_argument("--chain-length", type=int, default=10)
    ap.add_argument("--width", type=int, default=8, help="fan-out width (middles per group)")
    ap.add_argument("--out", required=True, help="output directory")
    a = ap.parse_args()
    if a.accounts > 1000:
        ap.error("at most 1000 accounts")
    r = generate(a.stacks, a.accounts, a.shape, a.out, a.chain_length, a.width)
    print("wrote %s (%d stacks, %d accounts, shape %s), templates %s, AWS config %s"
          % (r["playbook"], a.stacks, a.accounts, a.shape, ", ".join(r["templates"]), r["config"]))


if __name__ == "__main__":
    main()
