//! The task graph on real playbooks: which edges exist and why.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use runbook_graph::{build, Format, RenderOptions, TaskGraph};
use runbook_playbook::{load, Json, Playbook, PlaybookError};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn extra(pairs: &[(&str, &str)]) -> IndexMap<String, Json> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), Json::String(v.to_string())))
        .collect()
}

fn cicd_vars() -> IndexMap<String, Json> {
    extra(&[
        ("cicd_account_profile", "cicd"),
        ("nonprod_account_profile", "nonprod"),
        ("prod_account_profile", "prod"),
    ])
}

fn graph_of(
    path: &Path,
    vars: &IndexMap<String, Json>,
) -> (Playbook, Result<TaskGraph, Vec<PlaybookError>>) {
    let playbook = load(path, vars, &runbook_modules::registry()).expect("playbook loads");
    let graph = build(&playbook, vars);
    (playbook, graph)
}

/// Writes a playbook (and optional extra files) into a temp dir.
fn fixture(files: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let path = dir.path().join(files[0].0);
    (dir, path)
}

fn edges(graph: &TaskGraph) -> Vec<(usize, usize, String)> {
    graph
        .edges()
        .into_iter()
        .map(|(a, b, r)| (a, b, r.to_string()))
        .collect()
}

fn e(a: usize, b: usize, r: &str) -> (usize, usize, String) {
    (a, b, r.to_string())
}

#[test]
fn cicd_playbook_has_exactly_the_edges_its_data_implies() {
    let path = workspace().join("playbooks/playbook-cicd-01.yaml");
    let (playbook, graph) = graph_of(&path, &cicd_vars());
    let graph = graph.unwrap_or_else(|errs| panic!("{errs:#?}"));
    assert_eq!(playbook.tasks.len(), 8);
    assert_eq!(
        edges(&graph),
        [
            e(0, 5, "register cicd_account"),
            e(0, 6, "register cicd_account"),
            e(1, 3, "register nonprod_account"),
            e(1, 4, "register nonprod_account"),
            e(1, 7, "register nonprod_account"),
            e(2, 3, "register prod_account"),
            e(2, 4, "register prod_account"),
            e(2, 7, "register prod_account"),
            e(3, 4, "register cicd_kms_key"),
            e(3, 5, "register cicd_kms_key"),
            e(3, 6, "register cicd_kms_key"),
            e(3, 7, "export CICD::KMS::Key::Arn"),
            e(4, 5, "register cicd_s3_buckets"),
            e(4, 6, "register cicd_s3_buckets"),
            e(4, 7, "export CICD::S3::Artifacts::Name"),
            e(5, 7, "register nonprod_iam_roles"),
            e(6, 7, "register prod_iam_roles"),
        ]
    );
    assert_eq!(
        graph.waves(),
        vec![vec![0, 1, 2], vec![3], vec![4], vec![5, 6], vec![7]]
    );
    assert!(graph.warnings.is_empty(), "{:#?}", graph.warnings);
}

/// The JSON holds every edge: those the drawings leave out are marked
/// `implied`, with the tasks of a path that orders the pair anyway.
#[test]
fn json_format_is_exact() {
    let (_dir, path) = fixture(&[(
        "p.yml",
        "- hosts: localhost\n  tasks:\n    - name: a\n      set_fact:\n        x: 1\n    - name: b\n      set_fact:\n        y: \"{{ x }}\"\n    - name: c\n      debug:\n        msg: \"{{ x }} {{ y }}\"\n",
    )]);
    let (playbook, graph) = graph_of(&path, &IndexMap::new());
    let text = graph.unwrap().render(&playbook, Format::Json);
    assert_eq!(
        text,
        concat!(
            "{\"nodes\":[",
            "{\"id\":0,\"name\":\"a\",\"module\":\"ansible.builtin.set_fact\",\"accounts\":[],\"owns\":[]},",
            "{\"id\":1,\"name\":\"b\",\"module\":\"ansible.builtin.set_fact\",\"accounts\":[],\"owns\":[]},",
            "{\"id\":2,\"name\":\"c\",\"module\":\"ansible.builtin.debug\",\"accounts\":[],\"owns\":[]}],",
            "\"edges\":[",
            "{\"from\":0,\"to\":1,\"reason\":\"fact x\",\"implied\":false},",
            "{\"from\":0,\"to\":2,\"reason\":\"fact x\",\"implied\":true,\"through\":[1]},",
            "{\"from\":1,\"to\":2,\"reason\":\"fact y\",\"implied\":false}]}\n"
        )
    );
}

/// The CI/CD baseline's 17 edges say no more than 9: the rest are
/// implied by longer paths, and drawings leave them out by default.
#[test]
fn cicd_playbook_reduces_to_nine_edges() {
    let path = workspace().join("playbooks/playbook-cicd-01.yaml");
    let (playbook, graph) = graph_of(&path, &cicd_vars());
    let graph = graph.unwrap_or_else(|errs| panic!("{errs:#?}"));
    let reduction = graph.reduction();
    assert_eq!(
        reduction.pairs().collect::<Vec<_>>(),
        [
            (0, 5),
            (0, 6),
            (1, 3),
            (2, 3),
            (3, 4),
            (4, 5),
            (4, 6),
            (5, 7),
            (6, 7)
        ]
    );
    // The export edge 3 -> 7 is implied: KMS key -> buckets -> non-prod roles
    // -> settings.
    assert_eq!(reduction.through(3, 7), Some(vec![4, 5]));
    let arrows = |options: RenderOptions| {
        graph
            .render(&playbook, options)
            .lines()
            .filter(|l| l.contains(" -> "))
            .count()
    };
    assert_eq!(arrows(Format::Dot.into()), 9);
    let all = RenderOptions {
        format: Format::Dot,
        all_edges: true,
    };
    assert_eq!(arrows(all), 17);
    let dot = graph.render(&playbook, all);
    assert_eq!(dot.matches("style=dashed").count(), 8, "{dot}");
    // The waves are the same: the reduction keeps the order.
    let text = graph.render(&playbook, Format::Text);
    assert!(
        text.contains("wave 5:\n  - CI/CD account - management settings [cloudformation cicd-mgmt-settings @ cicd] after `Non-prod account - CI/CD IAM roles`, `Prod account - CI/CD IAM roles`\n"),
        "{text}"
    );
}

/// A pair with several reasons is one arrow in the reduced drawing,
/// labelled with all of them, and one arrow per reason with all edges.
#[test]
fn one_arrow_per_pair_with_all_its_reasons() {
    let (_dir, path) = fixture(&[(
        "p.yml",
        "- hosts: localhost\n  tasks:\n    - name: a\n      set_fact: {x: 1}\n      register: r\n    - name: b\n      debug: {msg: \"{{ x }} {{ r }}\"}\n      depends_on: a\n",
    )]);
    let (playbook, graph) = graph_of(&path, &IndexMap::new());
    let graph = graph.unwrap();
    let dot = graph.render(&playbook, Format::Dot);
    assert!(
        dot.contains("  t0 -> t1 [label=\"register r, fact x, depends_on\"];\n"),
        "{dot}"
    );
    let all = graph.render(
        &playbook,
        RenderOptions {
            format: Format::Mermaid,
            all_edges: true,
        },
    );
    assert_eq!(all.matches("t0 -->|").count(), 3, "{all}");
}

/// Loops: a task whose items manage several stacks is one node that names
/// them (up to three, then a count) in its account's cluster; a loop over
/// several accounts is drawn outside the clusters, naming them; a loop
/// that expands at run time says so. Edges to and from looped tasks are
/// reduced as any other.
#[test]
fn loops_in_clusters_and_labels() {
    let play = "- hosts: localhost\n  vars:\n    envs: [a, b, c, d]\n  tasks:\n    - name: start\n      set_fact: {x: 1}\n    - name: stacks\n      cloudformation: {stack_name: \"s-{{ item }}\", profile: p, region: eu-west-1, template: e.yml, tags: {x: \"{{ x }}\"}}\n      loop: \"{{ envs }}\"\n      register: made\n    - name: per account\n      cloudformation: {stack_name: one, profile: \"{{ item }}\", region: eu-west-1, template: e.yml, tags: {x: \"{{ x }}\", n: \"{{ made }}\"}}\n      loop: [p, q]\n    - name: later\n      debug: {msg: \"{{ item.stack_id }} {{ x }}\"}\n      loop: \"{{ made.results }}\"\n    - name: same stack as item b\n      cloudformation: {stack_name: s-b, profile: p, region: eu-west-1, state: absent}\n";
    let (_dir, path) = fixture(&[("p.yml", play), ("e.yml", "Resources: {}\n")]);
    let (playbook, graph) = graph_of(&path, &IndexMap::new());
    let graph = graph.unwrap();
    assert_eq!(
        edges(&graph),
        [
            e(0, 1, "fact x"),
            e(0, 2, "fact x"),
            e(0, 3, "fact x"),
            e(1, 2, "register made"),
            e(1, 3, "register made"),
            e(1, 4, "same stack"),
        ]
    );
    assert_eq!(
        graph.reduction().pairs().collect::<Vec<_>>(),
        [(0, 1), (1, 2), (1, 3), (1, 4)]
    );
    let dot = graph.render(&playbook, Format::Dot);
    assert_eq!(
        dot,
        concat!(
            "digraph runbook {\n",
            "  rankdir=TB;\n",
            "  newrank=true;\n",
            "  node [shape=box];\n",
            "  subgraph cluster_0 {\n",
            "    label=\"profile p, eu-west-1\";\n",
            "    t1 [label=\"stacks (loop: 4 items)\\ns-a, s-b, s-c, +1 more @ p\"];\n",
            "    t4 [label=\"same stack as item b\\ns-b @ p\"];\n",
            "  }\n",
            "  t0 [label=\"start\"];\n",
            "  t2 [label=\"per account (loop: 2 items)\\none @ p, q\"];\n",
            "  t3 [label=\"later (loop: expands at run time)\"];\n",
            "  t0 -> t1 [label=\"fact x\"];\n",
            "  t1 -> t2 [label=\"register made\"];\n",
            "  t1 -> t3 [label=\"register made\"];\n",
            "  t1 -> t4 [label=\"same stack\"];\n",
            "}\n",
        )
    );
    let json: serde_json::Value =
        serde_json::from_str(&graph.render(&playbook, Format::Json)).unwrap();
    assert_eq!(json["nodes"][1]["owns"].as_array().unwrap().len(), 4);
    assert_eq!(json["nodes"][2]["accounts"].as_array().unwrap().len(), 2);
    assert_eq!(json["nodes"][2]["accounts"][1]["profile"], "q");
    assert_eq!(json["edges"][1]["through"], serde_json::json!([1]));
}

/// A task name can hold anything YAML can: quotes, newlines, angle
/// brackets, Graphviz and Mermaid escapes, control characters. Each node
/// stays one line of valid syntax, and no name can add a line that would
/// pass for the account line under it.
#[test]
fn hostile_task_names_stay_inside_their_labels() {
    let hostile = r#""He said \"hi\"\n@ prod <br/> <b>x</b> \\N \\l #quot; &amp; `md` | ; ] } %% end\r\t\u001b[2K\u007f\u202e\u2028""#;
    let play = format!(
        "- hosts: localhost\n  tasks:\n    - name: {hostile}\n      set_fact: {{x: 1}}\n    - name: second\n      debug: {{msg: \"{{{{ x }}}}\"}}\n"
    );
    let (_dir, path) = fixture(&[("p.yml", &play)]);
    let (playbook, graph) = graph_of(&path, &IndexMap::new());
    let graph = graph.unwrap();
    assert!(playbook.tasks[0].display_name().contains('\n'));

    let dot = graph.render(&playbook, Format::Dot);
    let node = dot.lines().find(|l| l.starts_with("  t0 ")).unwrap();
    assert_eq!(
        node,
        r#"  t0 [label="He said \"hi\"\\n@ prod <br/> <b>x</b> \\N \\l #quot; &amp; `md` | ; ] } %% end\\r\\t\\x1b[2K\\x7f\\u{202e}\\u{2028}"];"#
    );
    assert_dot_structure(&dot);

    let mermaid = graph.render(&playbook, Format::Mermaid);
    let node = mermaid.lines().find(|l| l.starts_with("  t0[")).unwrap();
    assert_eq!(
        node,
        "  t0[\"He said #quot;hi#quot;#92;n@ prod #lt;br/#gt; #lt;b#gt;x#lt;/b#gt; #92;N #92;l #35;quot#59; #amp;amp#59; #96;md#96; #124; #59; ] } #37;#37; end#92;r#92;t#92;x1b[2K#92;x7f#92;u{202e}#92;u{2028}\"]"
    );
    for line in mermaid.lines().skip(1) {
        let inner = line
            .split_once("[\"")
            .or_else(|| line.split_once("|\""))
            .map(|(_, rest)| rest)
            .unwrap_or("");
        let label = inner
            .rsplit_once("\"]")
            .or_else(|| inner.rsplit_once("\"|"))
            .map_or("", |(label, _)| label);
        assert!(
            !label.contains(['"', '<', '>', '`', '\\', '|', '&', '%']),
            "{line}"
        );
        assert!(!line.chars().any(char::is_control), "{line:?}");
    }
}

/// What `dot` would refuse, checked without Graphviz: every line one
/// statement, every string closed on its line, no raw control character.
fn assert_dot_structure(dot: &str) {
    assert!(dot.starts_with("digraph runbook {\n") && dot.ends_with("}\n"));
    let mut depth = 0i32;
    for line in dot.lines() {
        assert!(!line.chars().any(char::is_control), "{line:?}");
        let mut in_string = false;
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match (in_string, c) {
                (true, '\\') => {
                    chars.next();
                }
                (_, '"') => in_string = !in_string,
                (false, '{') => depth += 1,
                (false, '}') => depth -= 1,
                _ => {}
            }
        }
        assert!(!in_string, "unclosed string: {line}");
        let trimmed = line.trim();
        assert!(
            trimmed.ends_with(';') || trimmed.ends_with('{') || trimmed == "}",
            "{line}"
        );
    }
    assert_eq!(depth, 0);
}

#[test]
fn play_vars_carry_dependencies() {
    let (_dir, path) = fixture(&[(
        "p.yml",
        "- hosts: localhost\n  vars:\n    arn: \"{{ kms.stack_outputs.Arn }}\"\n    label: \"key {{ arn }}\"\n  tasks:\n    - name: make\n      set_fact:\n        kms: {stack_outputs: {Arn: x}}\n    - name: unrelated\n      debug: msg=hi\n    - name: use\n      debug:\n        msg: \"{{ label }}\"\n",
    )]);
    let (_, graph) = graph_of(&path, &IndexMap::new());
    assert_eq!(edges(&graph.unwrap()), [e(0, 2, "fact kms")]);
}

/// A reader waits for the nearest producer before it; a later producer of
/// the same name need not wait for earlier readers (the executor gives
/// each task the value file order implies).
#[test]
fn nearest_producer_and_no_waiting_for_overwrites() {
    let (_dir, path) = fixture(&[(
        "p.yml",
        "- hosts: localhost\n  tasks:\n    - name: first\n      set_fact: {v: 1}\n    - name: read1\n      debug: {msg: \"{{ v }}\"}\n    - name: second\n      set_fact: {v: 2}\n    - name: read2\n      debug: {msg: \"{{ v }}\"}\n",
    )]);
    let (_, graph) = graph_of(&path, &IndexMap::new());
    assert_eq!(
        edges(&graph.unwrap()),
        [e(0, 1, "fact v"), e(2, 3, "fact v")]
    );
}

const EXPORTER: &str = "Resources:\n  T:\n    Type: AWS::SNS::Topic\nOutputs:\n  Arn:\n    Value: !Ref T\n    Export:\n      Name: !Sub \"${AWS::StackName}-topic\"\n";
const IMPORTER: &str = "Parameters:\n  Source:\n    Type: String\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName:\n        Fn::ImportValue: !Sub \"${Source}-topic\"\n";

#[test]
fn exports_order_importers_in_the_same_account_only() {
    let play = "- hosts: localhost\n  tasks:\n    - name: importer other account\n      cloudformation:\n        stack_name: q2\n        profile: other\n        template: t/importer.yml\n        template_parameters: {Source: topics}\n      depends_on: exporter\n    - name: importer\n      cloudformation:\n        stack_name: q\n        profile: main\n        template: t/importer.yml\n        template_parameters: {Source: topics}\n    - name: exporter\n      cloudformation:\n        stack_name: topics\n        profile: main\n        template_body: \"{{ lookup('file', 't/exporter.yml') }}\"\n";
    let (_dir, path) = fixture(&[
        ("p.yml", play),
        ("t/exporter.yml", EXPORTER),
        ("t/importer.yml", IMPORTER),
    ]);
    let (_, graph) = graph_of(&path, &IndexMap::new());
    let graph = graph.unwrap();
    assert_eq!(
        edges(&graph),
        [e(2, 0, "depends_on"), e(2, 1, "export topics-topic")]
    );
    // The other account's import has no exporter in the playbook: a warning.
    assert_eq!(graph.warnings.len(), 1, "{:#?}", graph.warnings);
    assert_eq!(
        graph.warnings[0].message,
        "imports `topics-topic`, which no task in this playbook exports in profile other"
    );
}

#[test]
fn same_stack_keeps_file_order() {
    let play = "- hosts: localhost\n  tasks:\n    - name: create\n      cloudformation: {stack_name: s, profile: p, template: e.yml}\n    - name: info\n      cloudformation_info: {stack_name: s, profile: p}\n    - name: elsewhere\n      cloudformation: {stack_name: s, profile: q, template: e.yml}\n    - name: delete\n      cloudformation: {stack_name: s, profile: p, state: absent}\n";
    let (_dir, path) = fixture(&[("p.yml", play), ("e.yml", "Resources: {}\n")]);
    let (_, graph) = graph_of(&path, &IndexMap::new());
    assert_eq!(
        edges(&graph.unwrap()),
        [e(0, 1, "same stack"), e(1, 3, "same stack")]
    );
}

fn errors_of(files: &[(&str, &str)], vars: &IndexMap<String, Json>) -> Vec<String> {
    let (_dir, path) = fixture(files);
    let (_, graph) = graph_of(&path, vars);
    graph
        .unwrap_err()
        .into_iter()
        .map(|e| {
            format!(
                "{}: {} [{}]{}",
                e.location.map(|l| l.span.to_string()).unwrap_or_default(),
                e.message,
                e.task.unwrap_or_default(),
                e.help.map(|h| format!(" help: {h}")).unwrap_or_default()
            )
        })
        .collect()
}

#[test]
fn cycles_list_their_tasks_in_order() {
    let play = "- hosts: localhost\n  tasks:\n    - name: a\n      set_fact: {x: 1}\n      depends_on: c\n    - name: b\n      set_fact: {y: \"{{ x }}\"}\n    - name: c\n      set_fact: {z: \"{{ y }}\"}\n";
    let errs = errors_of(&[("p.yml", play)], &IndexMap::new());
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert!(
        errs[0].starts_with("3:7: dependency cycle: `a` -> `b` -> `c` -> `a`"),
        "{}",
        errs[0]
    );
    assert!(
        errs[0].contains("`b` (") && errs[0].contains("waits for `a` (fact x)"),
        "{}",
        errs[0]
    );
}

#[test]
fn undefined_variables_are_named_with_their_task_and_place() {
    let play = "- hosts: localhost\n  vars:\n    via: \"{{ nowhere }}\"\n  tasks:\n    - name: t\n      debug:\n        msg: \"{{ missing }} {{ optional | default('') }} {{ via }}\"\n    - name: facts\n      debug:\n        msg: \"{{ ansible_hostname }}\"\n    - name: early\n      debug: {msg: \"{{ later }}\"}\n    - name: late\n      set_fact: {later: 1}\n";
    let errs = errors_of(&[("p.yml", play)], &IndexMap::new());
    assert_eq!(errs.len(), 4, "{errs:#?}");
    assert_eq!(
        errs[..3],
        [
            "3:5: undefined variable `nowhere` (through `via`) [t] help: define it with -e nowhere=..., in vars or vars_files, or guard it with `| default(...)`",
            "7:9: undefined variable `missing` [t] help: define it with -e missing=..., in vars or vars_files, or guard it with `| default(...)`",
            "10:9: `ansible_hostname` is a host fact, and runbook gathers no host facts [facts] help: pass the value with -e or set it in vars",
        ]
    );
    assert!(
        errs[3].starts_with("12:15: undefined variable `later` [early] help: `later` is only set by a later task, `late` (")
            && errs[3].ends_with("p.yml:13:7); move that task earlier or add `| default(...)`"),
        "{}",
        errs[3]
    );
}

#[test]
fn missing_template_files_and_bad_depends_on() {
    let play = "- hosts: localhost\n  tasks:\n    - name: stack\n      cloudformation: {stack_name: s, template: nope.yml}\n    - name: broken\n      cloudformation: {stack_name: b, template: bad.yml}\n      depends_on: stak\n";
    let errs = errors_of(
        &[("p.yml", play), ("bad.yml", "Resources:\n  X: [1\n")],
        &IndexMap::new(),
    );
    assert_eq!(errs.len(), 3, "{errs:#?}");
    assert!(
        errs[0].contains("template file `nope.yml` cannot be read"),
        "{}",
        errs[0]
    );
    assert!(
        errs[1].contains("CloudFormation template error"),
        "{}",
        errs[1]
    );
    assert!(
        errs[2].contains("`depends_on: stak` names no task")
            && errs[2].contains("did you mean `stack`?"),
        "{}",
        errs[2]
    );
}

#[test]
fn plays_run_in_file_order() {
    let play = "- hosts: localhost\n  tasks:\n    - name: a\n      debug: msg=a\n    - name: b\n      debug: msg=b\n- hosts: localhost\n  tasks:\n    - name: c\n      debug: msg=c\n    - name: d\n      set_fact: {x: 1}\n    - name: e\n      debug: {msg: \"{{ x }}\"}\n";
    let (_dir, path) = fixture(&[("p.yml", play)]);
    let (_, graph) = graph_of(&path, &IndexMap::new());
    let graph = graph.unwrap();
    assert_eq!(
        edges(&graph),
        [
            e(0, 2, "play order"),
            e(0, 3, "play order"),
            e(1, 2, "play order"),
            e(1, 3, "play order"),
            e(3, 4, "fact x"),
        ]
    );
    assert_eq!(graph.waves(), vec![vec![0, 1], vec![2, 3], vec![4]]);
}

#[test]
fn teardown_reverses_the_order_through_other_tasks() {
    let path = workspace().join("playbooks/playbook-cicd-01.yaml");
    let (_, graph) = graph_of(&path, &cicd_vars());
    let graph = graph.unwrap();
    // The five stacks: KMS (3), buckets (4), roles (5, 6), settings (7).
    let teardown = graph.teardown(&[3, 4, 5, 6, 7]);
    let waves: Vec<Vec<usize>> = teardown.waves();
    assert_eq!(waves, vec![vec![4], vec![2, 3], vec![1], vec![0]]);
}

#[test]
fn what_is_read_of_registered_results() {
    let path = workspace().join("playbooks/playbook-cicd-01.yaml");
    let (_, graph) = graph_of(&path, &cicd_vars());
    let graph = graph.unwrap();
    // The five stacks' results are only read as `.stack_outputs.X`.
    for task in 3..8 {
        assert!(
            !graph.result_reads[task].may_read("events"),
            "{:?}",
            graph.result_reads[task]
        );
        assert_eq!(
            graph.result_reads[task].may_read("stack_outputs"),
            task != 7
        );
    }
    assert!(
        graph.result_reads[0].may_read("account")
            && !graph.result_reads[0].may_read("account_alias")
    );
    let (_dir, path) = fixture(&[(
        "p.yml",
        "- hosts: localhost\n  tasks:\n    - name: s\n      cloudformation: {stack_name: s, template: t.yml}\n      register: s\n    - name: show\n      debug: {var: s}\n    - name: t\n      cloudformation: {stack_name: t, template: t.yml}\n      register: t\n    - name: resources\n      debug: {msg: \"{{ t.stack_resources | length }}\"}\n",
    ), ("t.yml", "Resources: {}\n")]);
    let (_, graph) = graph_of(&path, &IndexMap::new());
    let reads = graph.unwrap().result_reads;
    let events_read: Vec<bool> = reads.iter().map(|r| r.may_read("events")).collect();
    let resources_read: Vec<bool> = reads
        .iter()
        .map(|r| r.may_read("stack_resources"))
        .collect();
    assert_eq!(events_read, [true, false, false, false]);
    assert_eq!(resources_read, [true, false, true, false]);
}

#[test]
fn variables_that_read_themselves_are_errors() {
    let (_dir, path) = fixture(&[(
        "p.yml",
        "- hosts: localhost\n  vars:\n    p: \"{{ q }}-1\"\n    q: \"{{ p }}-2\"\n  tasks:\n    - name: show\n      debug:\n        msg: \"{{ p }}\"\n",
    )]);
    let (_, graph) = graph_of(&path, &IndexMap::new());
    let errors = graph.expect_err("a loop");
    assert_eq!(errors.len(), 1, "{errors:?}");
    // `q` is also a global function (query); the variable shadows it.
    assert_eq!(
        errors[0].message,
        "variable `p` refers to itself: p -> q -> p"
    );
    assert_eq!(errors[0].task.as_deref(), Some("show"));
}

#[test]
fn a_variable_named_like_a_global_function_orders_tasks() {
    let (_dir, path) = fixture(&[(
        "p.yml",
        "- hosts: localhost\n  tasks:\n    - name: decide\n      set_fact:\n        debug: true\n    - name: use\n      debug:\n        msg: verbose\n      when: debug\n",
    )]);
    let (_, graph) = graph_of(&path, &IndexMap::new());
    let graph = graph.expect("graph");
    assert_eq!(edges(&graph), [e(0, 1, "fact debug")]);
}

/// A loop whose list comes from a registered result is one node that
/// expands at run time; a loop over a known list is analysed per item, so
/// each item's stack orders its own readers.
#[test]
fn loops_known_and_known_only_at_run_time() {
    let play = "- hosts: localhost\n  vars:\n    envs: [a, b]\n  tasks:\n    - name: stacks\n      cloudformation: {stack_name: \"s-{{ item }}\", profile: p, template: e.yml}\n      loop: \"{{ envs }}\"\n      register: made\n    - name: later\n      debug: {msg: \"{{ item.stack_id }}\"}\n      loop: \"{{ made.results }}\"\n    - name: same stack as item b\n      cloudformation: {stack_name: s-b, profile: p, state: absent}\n";
    let (_dir, path) = fixture(&[("p.yml", play), ("e.yml", "Resources: {}\n")]);
    let (playbook, graph) = graph_of(&path, &IndexMap::new());
    let graph = graph.unwrap();
    assert_eq!(graph.facts[0].items.len(), 2);
    assert!(!graph.facts[0].expands_at_run_time);
    assert!(graph.facts[1].expands_at_run_time);
    assert_eq!(
        edges(&graph),
        [e(0, 1, "register made"), e(0, 2, "same stack")]
    );
    let text = graph.render(&playbook, Format::Text);
    assert!(text.contains("stacks (loop: 2 items)"), "{text}");
    assert!(text.contains("later (loop: expands at run time)"), "{text}");
}

/// `vars: {runbook_depends_on: ...}` orders as `depends_on` does, in a
/// form ansible-playbook accepts.
#[test]
fn portable_depends_on() {
    let play = "- hosts: localhost\n  tasks:\n    - name: first\n      debug: {msg: a}\n    - name: second\n      debug: {msg: b}\n      vars:\n        runbook_depends_on: [first]\n";
    let (_dir, path) = fixture(&[("p.yml", play)]);
    let (_, graph) = graph_of(&path, &IndexMap::new());
    assert_eq!(edges(&graph.unwrap()), [e(0, 1, "depends_on")]);
}

/// A rescue waits for its block, always for block and rescue, and the
/// tasks of a block with a rescue keep their order.
#[test]
fn block_edges() {
    let play = "- hosts: localhost\n  tasks:\n    - block:\n        - {name: a, debug: {msg: a}}\n        - {name: b, debug: {msg: b}}\n      rescue:\n        - {name: r, debug: {msg: r}}\n      always:\n        - {name: w, debug: {msg: w}}\n";
    let (_dir, path) = fixture(&[("p.yml", play)]);
    let (_, graph) = graph_of(&path, &IndexMap::new());
    assert_eq!(
        edges(&graph.unwrap()),
        [
            e(0, 1, "block order"),
            e(0, 2, "rescue"),
            e(0, 3, "always"),
            e(1, 2, "rescue"),
            e(1, 3, "always"),
            e(2, 3, "always"),
        ]
    );
}

#[test]
fn a_read_of_an_output_the_template_does_not_declare_is_an_error() {
    let template = "Resources: {}\nOutputs:\n  Arn: {Value: x}\n  KeyId: {Value: y}\n";
    let play = "- hosts: localhost\n  vars:\n    via_var: \"{{ kms.stack_outputs.Nope }}\"\n  tasks:\n    - name: kms\n      cloudformation: {stack_name: kms, template: t.yml}\n      register: kms\n    - name: typo\n      debug: {msg: \"{{ kms.stack_outputs.Arm }}\"}\n    - name: through a var\n      debug: {msg: \"{{ via_var }}\"}\n    - name: fine\n      debug: {msg: \"{{ kms.stack_outputs.KeyId }} {{ kms.stack_id }}\"}\n    - name: guarded\n      debug: {msg: \"{{ kms.stack_outputs.Other | default('') }}\"}\n";
    let (_dir, path) = fixture(&[("p.yml", play), ("t.yml", template)]);
    let (_, graph) = graph_of(&path, &IndexMap::new());
    let errors = graph.expect_err("unknown outputs");
    let messages: Vec<String> = errors
        .iter()
        .map(|e| format!("{} @{}", e.message, e.location.as_ref().unwrap().span))
        .collect();
    assert_eq!(
        messages,
        [
            "`kms.stack_outputs.Arm` does not exist: task `kms` registers `kms`, and its template t.yml declares no output `Arm` (outputs: Arn, KeyId) @9:15",
            "`kms.stack_outputs.Nope` does not exist: task `kms` registers `kms`, and its template t.yml declares no output `Nope` (outputs: Arn, KeyId) @3:5",
        ]
    );
    let help = errors[0].help.as_deref().unwrap_or_default();
    assert!(
        help.starts_with("did you mean `kms.stack_outputs.Arn`? (task `kms` is at "),
        "{help}"
    );

    // Guarded, it is only a warning; with a transform the outputs are not
    // known, and a template without `Outputs` declares none.
    let guarded = play.replace("Arm", "Arn").replace("Nope", "KeyId");
    let (_dir, path) = fixture(&[("p.yml", &guarded), ("t.yml", template)]);
    let (_, graph) = graph_of(&path, &IndexMap::new());
    let graph = graph.expect("only a warning");
    assert_eq!(graph.warnings.len(), 1, "{:?}", graph.warnings);
    assert!(graph.warnings[0].message.contains("no output `Other`"));
    let transformed = format!("Transform: AWS::Serverless-2016-10-31\n{template}");
    let (_dir, path) = fixture(&[("p.yml", play), ("t.yml", &transformed)]);
    assert!(graph_of(&path, &IndexMap::new()).1.is_ok());
    let (_dir, path) = fixture(&[("p.yml", play), ("t.yml", "Resources: {}\n")]);
    let errors = graph_of(&path, &IndexMap::new()).1.expect_err("no outputs");
    assert!(
        errors[0].message.contains("(it declares no outputs)"),
        "{}",
        errors[0].message
    );
}
