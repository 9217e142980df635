"""Expected values for tests/ansible_cases.rs, computed by ansible-core.

Regenerate (from the repository root, with the project's venv):

    ANSIBLE_LOCALHOST_WARNING=False .venv/bin/python \
        crates/template/tests/ansible_cases.py > crates/template/tests/ansible_cases.json

Each case is rendered with ansible's Templar (as a task option is) or, for a
case starting with `?`, evaluated as a `when:` condition. The JSON records the
value ansible gives, or `error` with ansible's message. A case whose error
text runbook must repeat (say, the types named in a comparison error) lists
that text in `error_contains`.
"""

import json
import sys
import warnings

from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import init_plugin_loader
from ansible.template import Templar, trust_as_template

warnings.simplefilter("ignore")

VARS = {
    "count": "1",  # as `-e count=1` gives it
    "n": 20,
    "f": 2.5,
    "yes": True,
    "nothing": None,
    "text": "Hello World",
    "words": ["b", "a", "c", "a"],
    "nested": [1, [2, [3, [4]]], None, "None", "null", [None]],
    "users": [
        {"name": "alice", "groups": ["wheel", "dev"], "auth": {"keys": ["k1"]}},
        {"name": "bob", "groups": [], "auth": {"keys": ["k2", "k3"]}},
    ],
    "byname": {
        "alice": {"name": "alice", "groups": ["wheel"]},
        "bob": {"name": "bob", "groups": ["dev", "ops"]},
    },
    "stacks": {
        "stacks": [
            {"name": "net", "status": "CREATE_COMPLETE", "outputs": {"Vpc": "vpc-1"}},
            {"name": "app", "status": "UPDATE_FAILED", "outputs": {"Url": "u"}},
        ]
    },
    "path": "/etc/ansible/hosts.yml",
    "cfg": {"a": 1, "b": {"x": [1, 2], "y": "y"}},
    "over": {"b": {"x": [3], "z": True}, "c": 3},
    "l1": [1, 2, 3, 2],
    "l2": [2, 3, 4],
}

# (template, substrings of ansible's error message runbook must repeat)
CASES = [
    # --- minijinja 3 semantics that must stay as ansible's ---
    ("{{ 7 // 2 }}", None),
    ("{{ -7 // 2 }}", None),
    ("{{ -7.5 // 2 }}", None),
    ("{{ -7 % 3 }}", None),
    ("{{ 7 % -3 }}", None),
    ("{{ 5.5 % 2 }}", None),
    ("{{ 7 / 2 }}", None),
    ("{{ 4 / 2 }}", None),
    ("{{ 1 / 0 }}", None),
    ("{{ 1 // 0 }}", None),
    ("{{ 1 % 0 }}", None),
    ("{{ 1.5 / 0 }}", None),
    ("{{ 2 ** 10 }}", None),
    ("{{ 2 ** -1 }}", None),
    ("{{ true + 1 }}", None),
    ("{{ true + true }}", None),
    ("{{ 'a' * 3 }}", None),
    ("{{ 1 + 1.5 }}", None),
    ("{{ 'a' + 'b' }}", None),
    ("{{ [1] + [2] }}", None),
    ("{{ 2.5 | round }}", None),
    ("{{ 3.5 | round }}", None),
    ("{{ 0.5 | round }}", None),
    ("{{ -2.5 | round }}", None),
    ("{{ 2.675 | round(2) }}", None),
    ("{{ 2.5 | round(0, 'floor') }}", None),
    ("{{ 2.1 | round(0, 'ceil') }}", None),
    ("{{ 3 | round }}", None),
    ("{{ 1.0 }}", None),
    ("x{{ 1.0 }}", None),
    ("x{{ 2.5e20 }}", None),
    ("x{{ 1e-7 }}", None),
    ("x{{ 0.1 + 0.2 }}", None),
    ("{{ {'a': 'b'} ~ '' }}", None),
    ("x {{ {'a': 'b', 'n': none, 't': true} }}", None),
    ("x {{ ['a', none, true, 1.0] }}", None),
    ("x {{ none }} {{ true }} {{ false }}", None),
    ("x {{ nothing }}", None),
    ("{{ nothing }}", None),
    ("x {{ ('a', 1) }}", None),
    ("{{ 'it''s' if false else \"it's\" }}", None),
    ("x {{ [\"it's\"] }}", None),
    ("{{ 10 | string }}", None),
    ("{{ 1.5 | int }}", None),
    ("{{ '0x1A' | int(base=16) }}", None),
    ("{{ '3.7' | float }}", None),
    ("{{ [3, 1, 2] | max }}", None),
    ("{{ [3, 1, 2] | sum }}", None),
    ("{{ 'abc' | length }}", None),
    ("{{ 'a,b' | split(',') }}", None),
    ("{{ {'b': 1, 'a': 2} | dictsort }}", None),
    ("{{ ['x', 'y'] | zip([1, 2]) }}", None),
    ("{{ words | unique }}", None),
    ("{{ [1, 2] | tojson }}", None),
    # --- what keeps its type, and whitespace ---
    ("{{ 1 }}{{ 2 }}", None),
    ("{% if true %}{{ [1] }}{% endif %}", None),
    ("{% if true %}{{ 5 }}{% endif %}", None),
    ("{% set x = 3 %}{{ x }}", None),
    ("{# note #}{{ 5 }}", None),
    (" {{ 5 }}", None),
    ("{{ 5 }} ", None),
    ("{{ '5' }}", None),
    ("{% if true %}[1, 2]{% endif %}", None),
    ("{% if false %}{{ 5 }}{% endif %}", None),
    ("{{ {'a': {'b': 1}} }}", None),
    ("{{ 1 }}\n", None),
    ("x{{ 1 }}\n", None),
    ("{{ 'a' }}\n\n", None),
    ("{% if true %}a{% endif %}\n", None),
    ("{% if true %}\nx\n{% endif %}\ny", None),
    ("  {% if true %}z{% endif %}", None),
    ("{{- 5 -}}", None),
    # --- comparisons: Python 3 refuses to order different types ---
    ("{{ count > 20 }}", ["'>' not supported between instances of 'str' and 'int'"]),
    ("?count > 20", ["'>' not supported between instances of 'str' and 'int'"]),
    ("?count | int > 20", None),
    ("?n >= '1'", ["'>=' not supported between instances of 'int' and 'str'"]),
    ("?n < nothing", ["'<' not supported between instances of 'int' and 'NoneType'"]),
    ("?nothing <= nothing", ["'<=' not supported between instances of 'NoneType' and 'NoneType'"]),
    ("?cfg < over", ["'<' not supported between instances of 'dict' and 'dict'"]),
    ("?[1] < ['a']", ["'<' not supported between instances of 'int' and 'str'"]),
    ("?(1, 2) < [1, 3]", ["'<' not supported between instances of 'tuple' and 'list'"]),
    ("?yes > 'a'", ["'>' not supported between instances of 'bool' and 'str'"]),
    ("?f > count", ["'>' not supported between instances of 'float' and 'str'"]),
    ("?1 < n < 30", None),
    ("?1 < n < '30'", ["'<' not supported between instances of 'int' and 'str'"]),
    ("?30 < n < '30'", None),
    ("?n == '20'", None),
    ("?n != '20'", None),
    ("?1 == 1.0", None),
    ("?true == 1", None),
    ("?false < 1", None),
    ("?yes >= 1.0", None),
    ("?1 < 2.5", None),
    ("?f > 2", None),
    ("?'B' < 'a'", None),
    ("?'abc' < 'abd'", None),
    ("?[1, 2] < [1, 3]", None),
    ("?[1] < [1, 'x']", None),
    ("?[1, 'a'] < [1, 'b']", None),
    ("?[[1]] < [[1, 0]]", None),
    ("?(1, 2) < (1, 3)", None),
    ("?nothing == nothing", None),
    ("?nothing == 0", None),
    ("?'a' in 'abc'", None),
    ("?count in ['1']", None),
    ("{{ [3, 'a'] | sort }}", None),
    ("{{ [3, 'a'] | max }}", None),
    # --- flatten ---
    ("{{ nested | flatten }}", None),
    ("{{ nested | flatten(levels=1) }}", None),
    ("{{ nested | flatten(1) }}", None),
    ("{{ nested | flatten(levels=2) }}", None),
    ("{{ nested | flatten(levels=0) }}", None),
    ("{{ nested | flatten(skip_nulls=false) }}", None),
    ("{{ nested | flatten(1, skip_nulls=false) }}", None),
    ("{{ [[1, 2], 'ab', {'k': [3]}] | flatten }}", None),
    ("{{ [] | flatten }}", None),
    # --- regex_search / regex_findall / regex_replace ---
    # Written as YAML would hand them over: "\\1" in a double-quoted YAML
    # string is \1 here. Ansible keeps backslashes in string literals inside
    # {{ }} as they are (no Jinja escapes).
    (r"{{ 'server1/database42' | regex_search('database[0-9]+') }}", None),
    (r"{{ 'ansible' | regex_search('foo') }}", None),
    (r"{{ 'ansible' | regex_search('foo') is none }}", None),
    (r"{{ 'server1/database42' | regex_search('server([0-9]+)/database([0-9]+)', '\1', '\2') }}", None),
    (r"{{ 'server1/database42' | regex_search('(?P<srv>[0-9]+)/database(?P<db>[0-9]+)', '\g<db>', '\g<srv>') }}", None),
    (r"{{ 'server1/database42' | regex_search('(?P<srv>[0-9]+)/database', '\g<srv>', '\0') }}", None),
    (r"{{ 'a-b' | regex_search('(x)?-', '\1') }}", None),
    (r"{{ 'ab' | regex_search('x(b)', '\1') }}", None),
    (r"{{ 'ABC' | regex_search('b', ignorecase=true) }}", None),
    (r"{{ 'ABC' | regex_search('b') }}", None),
    ("{{ 'one\ntwo' | regex_search('^two', multiline=true) }}", None),
    ("{{ 'one\ntwo' | regex_search('^two') }}", None),
    (r"{{ 'x' | regex_search('x', 'bad') }}", ["Unknown argument"]),
    (r"{{ 'ab' | regex_search('a(b)', '\2') }}", ["no such group"]),
    (r"{{ 42 | regex_search('4') }}", None),
    (r"{{ 'a\d' | length }}", None),
    (r"{{ 'c:\new\table' }}", None),
    (r"{% set p = 'a\tb' %}{{ p | length }}", None),
    (r"?'a\tb' | length == 3", None),
    (r"{{ 'DNS 10.0.0.1 and 10.0.0.2' | regex_findall('\d+\.\d+\.\d+\.\d+') }}", None),
    (r"{{ 'k1=v1 k2=v2' | regex_findall('(\w+)=(\w+)') }}", None),
    (r"{{ 'k1=v1 k2=v2' | regex_findall('\w+=(\w+)') }}", None),
    (r"{{ 'k1=v1 k2=' | regex_findall('(\w+)=(\w*)') }}", None),
    (r"{{ 'Aa' | regex_findall('a', ignorecase=true) }}", None),
    ("{{ 'a\nb' | regex_findall('^.', multiline=true) }}", None),
    (r"{{ 'abc' | regex_findall('x') }}", None),
    (r"{{ 'ab12' | regex_replace('([a-z]+)(\d+)', '\2-\1') }}", None),
    (r"{{ 'ab12' | regex_replace('([a-z]+)(\\d+)', '\\2-\\1') }}", None),
    (r"{{ 'aaa' | regex_replace('a', 'b', count=2) }}", None),
    (r"{{ 'Hello' | regex_replace('(?P<first>H)', '\g<first>\g<first>') }}", None),
    (r"{{ 'ABC' | regex_replace('b', 'x', ignorecase=true) }}", None),
    (r"{{ 'a.b' | regex_replace('\.', '$') }}", None),
    (r"{{ 'abc' | regex_replace('(x)?b', '[\1]') }}", None),
    (r"{{ 'abc' | regex_replace('b', '\n') | length }}", None),
    (r"{{ 'abc' | regex_replace('') }}", None),
    (r"{{ 'a b.c' | regex_escape }}", None),
    # --- basename / dirname ---
    ("{{ path | basename }}", None),
    ("{{ path | dirname }}", None),
    ("{{ '/etc/' | basename }}", None),
    ("{{ '/etc/' | dirname }}", None),
    ("{{ 'file' | dirname }}", None),
    ("{{ '/' | dirname }}", None),
    ("{{ '//a//b' | dirname }}", None),
    ("{{ '' | basename }}", None),
    ("{{ 'a/b/' | basename }}", None),
    # --- hash ---
    ("{{ 'test' | hash }}", None),
    ("{{ 'test' | hash('md5') }}", None),
    ("{{ 'test' | hash('sha1') }}", None),
    ("{{ 'test' | hash('sha256') }}", None),
    ("{{ 'test' | hash('sha224') }}", None),
    ("{{ 'test' | hash('sha384') }}", None),
    ("{{ 'test' | hash('sha512') }}", None),
    ("{{ 'héllo' | hash('sha256') }}", None),
    ("{{ '' | hash('md5') }}", None),
    ("{{ 'test' | hash('nope') }}", ["nope"]),
    ("{{ 'test' | md5 }}", None),
    ("{{ 'test' | sha1 }}", None),
    ("{{ 'test' | checksum }}", None),
    ("{{ 42 | hash('md5') }}", None),
    # --- product / zip / zip_longest ---
    ("{{ [1, 2] | product(['a', 'b']) }}", None),
    ("{{ [1, 2] | product(['a'], ['x', 'y']) }}", None),
    ("{{ [1, 2] | product(repeat=2) }}", None),
    ("{{ [1, 2] | product }}", None),
    ("{{ [] | product([1]) }}", None),
    ("{{ [1, 2, 3] | zip(['a', 'b']) }}", None),
    ("{{ [1, 2] | zip(['a', 'b'], ['x', 'y']) }}", None),
    ("{{ [1, 2, 3] | zip_longest(['a']) }}", None),
    ("{{ [1, 2, 3] | zip_longest(['a'], fillvalue='-') }}", None),
    ("{{ [1] | zip_longest(['a', 'b'], [true]) }}", None),
    ("{{ dict(['a', 'b'] | zip([1, 2])) }}", None),
    # --- subelements ---
    ("{{ users | subelements('groups') }}", None),
    ("{{ users | subelements('auth.keys') }}", None),
    ("{{ byname | subelements('groups') }}", None),
    ("{{ users | subelements('missing') }}", ["could not find 'missing' key"]),
    ("{{ users | subelements('missing', skip_missing=true) }}", None),
    ("{{ users | subelements('name') }}", ["should point to a list"]),
    # --- dict (global function) ---
    ("{{ dict(a=1, b='x') }}", None),
    ("{{ dict([['a', 1], ['b', 2]]) }}", None),
    ("{{ dict([('a', 1)], b=2) }}", None),
    ("{{ dict() }}", None),
    ("{{ dict({'a': 1}) }}", None),
    # --- combine ---
    ("{{ cfg | combine(over) }}", None),
    ("{{ cfg | combine(over, recursive=true) }}", None),
    ("{{ cfg | combine(over, recursive=true, list_merge='append') }}", None),
    ("{{ cfg | combine(over, recursive=true, list_merge='prepend') }}", None),
    ("{{ cfg | combine(over, recursive=true, list_merge='keep') }}", None),
    ("{{ {'a': [1, 1, 2]} | combine({'a': [2, 3]}, list_merge='append_rp') }}", None),
    ("{{ {'a': [1, 1, 2]} | combine({'a': [2, 3]}, list_merge='prepend_rp') }}", None),
    ("{{ {'a': [1, 2]} | combine({'a': 'x'}, list_merge='append') }}", None),
    ("{{ [cfg, over] | combine }}", None),
    ("{{ [cfg, [over, {'d': 4}]] | combine }}", None),
    ("{{ {} | combine({'a': 1}, {'a': 2}) }}", None),
    ("{{ cfg | combine(over, list_merge='bogus') }}", ["list_merge"]),
    ("{{ cfg | combine(over, bogus=1) }}", ["only valid keyword"]),
    ("{{ {'a': {'b': 1}} | combine({'a': none}, recursive=true) }}", None),
    ("{{ {'a': {'x': [1]}} | combine({'a': {'x': [2]}}, recursive=false, list_merge='append') }}", None),
    # --- unique / union / intersect / difference / symmetric_difference ---
    ("{{ l1 | unique }}", None),
    ("{{ ['A', 'a'] | unique }}", None),
    ("{{ [{'a': 1}, {'a': 1}] | unique }}", None),
    ("{{ l1 | union(l2) }}", None),
    ("{{ l1 | intersect(l2) }}", None),
    ("{{ l1 | difference(l2) }}", None),
    ("{{ l1 | symmetric_difference(l2) }}", None),
    ("{{ ['b', 'a'] | union(['c', 'a']) }}", None),
    ("{{ [[1], [2]] | union([[2], [3]]) }}", None),
    ("{{ [[1], [2], [1]] | difference([[2]]) }}", None),
    ("{{ [[1], [2], [1]] | intersect([[1]]) }}", None),
    # --- json_query (community.general) ---
    ("{{ stacks | json_query('stacks[*].name') }}", None),
    ("{{ stacks | json_query('stacks[?name==`\"net\"`].status') }}", None),
    ("{{ stacks | json_query('stacks[?name==` app`].status') }}", None),
    ("{{ stacks | json_query('stacks[?outputs==`{\"Url\": \"u\"}`].name') }}", None),
    ("{{ stacks | json_query(\"stacks[?name=='a`b'].name\") }}", None),
    ("{{ stacks | json_query(\"stacks[?status=='UPDATE_FAILED'].name | [0]\") }}", None),
    ("{{ stacks | json_query('stacks[].outputs') }}", None),
    ("{{ stacks | json_query('stacks[?name==`net`].outputs.Vpc') }}", None),
    ("{{ stacks | json_query('missing') }}", None),
    ("{{ stacks | json_query('length(stacks)') }}", None),
    ("{{ stacks | json_query('stacks[*].{n: name, s: status}') }}", None),
    ("{{ users | json_query('[].auth.keys[]') }}", None),
    ("{{ stacks | json_query('stacks[') }}", ["JMESPath"]),
    # --- lookups ---
    ("{{ lookup('vars', 'n') }}", None),
    ("{{ lookup('vars', 'n', 'text') }}", None),
    ("{{ query('vars', 'n', 'text') }}", None),
    ("{{ lookup('vars', 'missing') }}", ["missing"]),
    ("{{ lookup('vars', 'missing', default='d') }}", None),
    ("{{ lookup('vars', 'cfg') }}", None),
    ("{{ lookup('items', [1, 2], [3]) }}", None),
    ("{{ query('items', [1, [2]], 3) }}", None),
    ("{{ lookup('items', 'a') }}", None),
    ("{{ query('list', [1, 2], 3) }}", None),
    ("{{ lookup('list', 'a', 'b') }}", None),
    ("{{ query('dict', cfg) }}", None),
    ("{{ lookup('dict', cfg) }}", None),
    ("{{ query('dict', [1]) }}", ["dict"]),
    ("{{ query('indexed_items', ['a', 'b']) }}", None),
    ("{{ query('sequence', 'start=1 end=3') }}", None),
    ("{{ query('sequence', 'start=0 end=10 stride=4') }}", None),
    ("{{ query('sequence', 'count=3 format=host%02d') }}", None),
    ("{{ query('sequence', 'start=5 end=1 stride=-2') }}", None),
    ("{{ query('sequence', '4') }}", None),
    ("{{ query('sequence', '0x0a-0x0c') }}", None),
    ("{{ query('sequence', '2-4/2') }}", None),
    ("{{ query('sequence', start=1, end=2) }}", None),
    ("{{ query('sequence', 'start=3 end=1') }}", ["to count backwards make stride negative"]),
    ("{{ lookup('sequence', 'start=1 end=3') }}", None),
]


def main():
    init_plugin_loader()
    out = []
    for case, must in CASES:
        templar = Templar(loader=DataLoader(), variables=VARS)
        entry = {"case": case}
        try:
            if case.startswith("?"):
                value = templar.evaluate_conditional(trust_as_template(case[1:]))
            else:
                value = templar.template(trust_as_template(case))
            entry["ok"] = json.loads(json.dumps(value))
        except Exception as ex:  # noqa: BLE001 - any failure is the expectation
            entry["error"] = str(ex).splitlines()[0]
            if must:
                entry["error_contains"] = must
        out.append(entry)
    json.dump({"vars": VARS, "cases": out}, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
