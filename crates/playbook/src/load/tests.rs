//! The loader's own tests, on the real registry.

use super::*;

fn load_str(text: &str) -> Result<Playbook, Vec<PlaybookError>> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("play.yml");
    std::fs::write(&path, text).unwrap();
    load(&path, &IndexMap::new(), &runbook_modules::registry())
}

fn messages(text: &str) -> Vec<String> {
    load_str(text)
        .unwrap_err()
        .into_iter()
        .map(|e| {
            format!(
                "{} {}",
                e.location.map(|l| l.span.to_string()).unwrap_or_default(),
                e.message
            )
        })
        .collect()
}

#[test]
fn loads_a_playbook() {
    let pb = load_str(
        "- name: p\n  hosts: localhost\n  gather_facts: false\n  vars:\n    a: 1\n  module_defaults:\n    group/aws:\n      region: eu-west-1\n  tasks:\n    - name: who\n      amazon.aws.aws_caller_info:\n        profile: x\n      register: me\n    - debug: msg=hi\n",
    )
    .unwrap();
    assert_eq!(pb.tasks.len(), 2);
    let t = &pb.tasks[0];
    assert_eq!(t.module.spec().short, "aws_caller_info");
    assert_eq!(t.args["region"].value, "eu-west-1");
    assert_eq!(t.args["profile"].value, "x");
    assert_eq!(t.register.as_deref(), Some("me"));
    assert_eq!(pb.tasks[1].args["msg"].value, "hi");
    assert_eq!(pb.tasks[1].display_name(), "ansible.builtin.debug");
}

#[test]
fn errors_point_at_the_node() {
    let msgs = messages(
        "- hosts: web\n  strategy: free\n  tasks:\n    - name: t\n      cloudformaton:\n        stack_name: x\n    - name: u\n      debug:\n        mesage: x\n      delegate_to: other\n",
    );
    assert_eq!(
        msgs,
        [
            "2:3 unknown or unsupported play keyword `strategy`",
            "1:10 `hosts: web`: runbook runs plays on localhost only",
            "5:7 unknown module or keyword `cloudformaton`",
            "10:7 task keyword `delegate_to` is not supported by runbook",
            "9:9 unknown option `mesage` for module ansible.builtin.debug",
        ]
    );
}

#[test]
fn yaml_1_1_boolean_keys_are_no_variable_names() {
    let msgs = messages(
        "- hosts: localhost\n  vars:\n    on: 1\n    \"off\": 2\n    3: x\n  tasks:\n    - debug: {msg: hi}\n",
    );
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert!(
        msgs[0].contains("3:5") && msgs[0].contains("is the boolean true in YAML 1.1"),
        "{msgs:?}"
    );
    assert!(
        msgs[1].contains("`3` is not a valid variable name"),
        "{msgs:?}"
    );
}

#[test]
fn option_types_and_required() {
    let msgs = messages(
        "- hosts: localhost\n  tasks:\n    - cloudformation:\n        state: maybe\n        template_parameters: [1]\n",
    );
    assert_eq!(
        msgs,
        [
            "4:9 option `state` must be one of present, absent, found `maybe` (module amazon.aws.cloudformation)",
            "5:9 option `template_parameters` must be a mapping, found a list (module amazon.aws.cloudformation)",
            "3:7 missing required option `stack_name` for module amazon.aws.cloudformation",
            "3:7 state=present needs one of `template`, `template_body` or `template_url`",
        ]
    );
}

#[test]
fn templated_values_are_checked_later() {
    let pb = load_str(
        "- hosts: localhost\n  tasks:\n    - cloudformation:\n        stack_name: s\n        template: t.yml\n        termination_protection: \"{{ tp }}\"\n",
    )
    .unwrap();
    assert_eq!(pb.tasks[0].args["termination_protection"].value, "{{ tp }}");
}

#[test]
fn syntax_errors_have_positions() {
    let errs = load_str("- hosts: localhost\n  tasks: [\n").unwrap_err();
    assert_eq!(errs[0].kind, ErrorKind::Syntax);
    assert!(errs[0].location.is_some());
}

#[test]
fn vars_files_are_relative_to_the_playbook() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("vars")).unwrap();
    std::fs::write(dir.path().join("vars/common.yml"), "region: eu-west-1\n").unwrap();
    let path = dir.path().join("play.yml");
    std::fs::write(&path, "- hosts: localhost\n  vars:\n    env: common\n  vars_files:\n    - \"vars/{{ env }}.yml\"\n  tasks: []\n").unwrap();
    let pb = load(&path, &IndexMap::new(), &runbook_modules::registry()).unwrap();
    assert_eq!(pb.plays[0].vars["region"], "eu-west-1");
}

#[test]
fn unsupported_option_is_named() {
    let msgs = messages("- hosts: localhost\n  tasks:\n    - cloudformation:\n        stack_name: s\n        template: t\n        purge_stacks: false\n");
    assert_eq!(
        msgs,
        ["6:9 option `purge_stacks` of amazon.aws.cloudformation is not supported by runbook"]
    );
}

#[test]
fn role_entries_refuse_what_runbook_cannot_do_in_roles_and_dependencies() {
    let dir = tempfile::tempdir().unwrap();
    let role = dir.path().join("roles/r");
    std::fs::create_dir_all(role.join("tasks")).unwrap();
    std::fs::create_dir_all(role.join("meta")).unwrap();
    std::fs::create_dir_all(dir.path().join("roles/d/tasks")).unwrap();
    std::fs::write(role.join("tasks/main.yml"), "- debug: {msg: r}\n").unwrap();
    std::fs::write(
        dir.path().join("roles/d/tasks/main.yml"),
        "- debug: {msg: d}\n",
    )
    .unwrap();
    std::fs::write(
        role.join("meta/main.yml"),
        "dependencies:\n  - role: d\n    become: true\n  - 7\n  - {x: 1}\n",
    )
    .unwrap();
    let path = dir.path().join("play.yml");
    std::fs::write(
        &path,
        "- hosts: localhost\n  roles:\n    - role: r\n      delegate_to: elsewhere\n    - {vars: {a: 1}}\n",
    )
    .unwrap();
    let errors = load(&path, &IndexMap::new(), &runbook_modules::registry()).unwrap_err();
    let shown: Vec<String> = errors
        .iter()
        .map(|e| {
            let at = e.location.as_ref().expect("a location");
            format!(
                "{}:{} {}",
                at.file.file_name().unwrap().to_string_lossy(),
                at.span,
                e.message
            )
        })
        .collect();
    for expected in [
        "play.yml:4:7 `delegate_to` on a role is not supported by runbook",
        "play.yml:5:7 a `roles` entry needs `role:` (the role's name)",
        "main.yml:3:5 `become` on a role is not supported by runbook",
        "main.yml:4:5 a dependency must be a role name or a mapping, found an integer",
        "main.yml:5:5 a dependency needs `role:` (the role's name)",
    ] {
        assert!(
            shown.iter().any(|s| s == expected),
            "{expected}\n{shown:#?}"
        );
    }
}
