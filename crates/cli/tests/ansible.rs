//! Differential tests: the CI/CD playbook under ansible-playbook and under
//! runbook, each on a fresh moto, gives the same stacks in the same
//! accounts with the same parameters, outputs and tags; and a local
//! playbook gives the same task statuses, messages and recap.

mod common;

use std::process::Command;

use common::{runbook, scratch, stacks, with_args, StackFacts, CICD_ARGS};
use runbook_testkit::Moto;

const PLAYBOOK: &str = "playbooks/playbook-cicd-01.yaml";
const PROFILES: [&str; 3] = ["cicd", "nonprod", "prod"];

/// Every stack of the three accounts, with the values moto makes up at
/// random (key ids, role ids) replaced by placeholders, so that two
/// deployments can be compared.
fn deployment(moto: &Moto) -> Vec<(String, String, StackFacts)> {
    let uuid =
        regex::Regex::new(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").unwrap();
    let unique_id = regex::Regex::new(r"\bA[A-Z]{3}[A-Z0-9]{17}\b").unwrap();
    let ec2_id = regex::Regex::new(r"\b(vpc|subnet)-[0-9a-f]{8,17}\b").unwrap();
    let normal = |s: &str| {
        let s = uuid.replace_all(s, "<uuid>");
        let s = unique_id.replace_all(&s, "<unique-id>");
        ec2_id.replace_all(&s, "<$1-id>").into_owned()
    };
    let pairs = |list: &[(String, String)]| -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.clone(), normal(v))).collect()
    };
    let mut all = Vec::new();
    for profile in PROFILES {
        for (name, facts) in stacks(moto, profile) {
            let facts = StackFacts {
                status: facts.status.clone(),
                parameters: pairs(&facts.parameters),
                outputs: pairs(&facts.outputs),
                tags: pairs(&facts.tags),
            };
            all.push((profile.to_string(), name, facts));
        }
    }
    all
}

#[test]
fn ansible_playbook_and_runbook_deploy_the_same_stacks() {
    let ansible_moto = Moto::start();
    let mut cmd = Command::new(common::workspace().join("scripts/ansible-playbook.sh"));
    cmd.current_dir(common::workspace())
        .arg(PLAYBOOK)
        .args(CICD_ARGS);
    ansible_moto.apply_env(&mut cmd);
    let out = cmd
        .output()
        .expect("scripts/ansible-playbook.sh runs (scripts/venv.sh installs it)");
    assert!(
        out.status.success(),
        "ansible-playbook failed\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let by_ansible = deployment(&ansible_moto);

    let runbook_moto = Moto::start();
    runbook(
        Some(&runbook_moto),
        &with_args(&["apply", PLAYBOOK], CICD_ARGS),
    )
    .assert_code(0);
    let by_runbook = deployment(&runbook_moto);

    assert_eq!(by_ansible.len(), 5, "{by_ansible:#?}");
    let names: Vec<(&str, &str)> = by_runbook
        .iter()
        .map(|(p, n, _)| (p.as_str(), n.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("cicd", "cicd-kms-key"),
            ("cicd", "cicd-mgmt-settings"),
            ("cicd", "cicd-s3-buckets"),
            ("nonprod", "cicd-iam-roles-nonprod"),
            ("prod", "cicd-iam-roles-prod"),
        ]
    );
    for ((a_profile, a_name, a), (r_profile, r_name, r)) in by_ansible.iter().zip(&by_runbook) {
        assert_eq!((a_profile, a_name), (r_profile, r_name));
        assert_eq!(
            a, r,
            "stack {a_name} in {a_profile} differs between ansible-playbook and runbook"
        );
    }
}

/// Task statuses, messages and the recap's counts, on a playbook with no AWS
/// task: templating, conditions, ignored failures, set_fact, assert.
#[test]
fn ansible_playbook_and_runbook_agree_on_statuses_and_recap() {
    let play = r#"- hosts: localhost
  gather_facts: false
  vars:
    n: 1
    greeting: "hello {{ who | default('world') }}"
  tasks:
    - name: bad option
      debug:
        msg: "{{ n.a.b }}"
      ignore_errors: true
    - name: bad condition
      debug:
        msg: hi
      when: n.a.b
      ignore_errors: true
    - name: not this time
      debug:
        msg: never
      when: n == 2
    - name: count
      set_fact:
        m: "{{ n + 1 }}"
    - name: greet
      debug:
        msg: "{{ greeting }} {{ m }}"
    - name: wrong guess
      assert:
        that: "m | int == 3"
        fail_msg: "m is {{ m }}"
      ignore_errors: true
    - name: forced change
      debug:
        msg: "{{ [n, m | int] | sum }}"
      changed_when: true
    - name: filters
      debug:
        msg: "{{ {'a': n, 'b': [m]} | dict2items | items2dict | to_json }} {{ (n == 1) | ternary('one', 'other') }} {{ greeting | b64encode }} {{ 'aMOpbGxv' | b64decode }}"
"#;
    let (_dir, playbook) = scratch(&[("play.yml", play)]);

    let out = Command::new(common::workspace().join("scripts/ansible-playbook.sh"))
        .current_dir(common::workspace())
        .arg(&playbook)
        .env("ANSIBLE_STDOUT_CALLBACK", "ansible.posix.json")
        .output()
        .expect("scripts/ansible-playbook.sh runs (scripts/venv.sh installs it)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "ansible-playbook failed\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("json callback output");
    let by_ansible: Vec<(String, String, String)> = report["plays"][0]["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .map(|t| {
            let result = &t["hosts"]["localhost"];
            let flag = |k: &str| result[k].as_bool().unwrap_or(false);
            let status = if flag("skipped") {
                "skipped"
            } else if flag("failed") {
                "failed"
            } else if flag("changed") {
                "changed"
            } else {
                "ok"
            };
            let message = match &result["msg"] {
                serde_json::Value::String(text) => text.clone(),
                serde_json::Value::Null => String::new(),
                other => other.to_string(),
            };
            (
                t["task"]["name"].as_str().unwrap_or("").to_string(),
                status.to_string(),
                message,
            )
        })
        .collect();
    let stats = &report["stats"]["localhost"];
    let ansible_recap = format!(
        "ok={} changed={} failed={} skipped={} ignored={}",
        stats["ok"], stats["changed"], stats["failures"], stats["skipped"], stats["ignored"]
    );

    let run = runbook(None, &["apply", playbook.to_str().unwrap(), "--forks", "1"]);
    run.assert_code(0);
    let by_runbook: Vec<(String, String, String)> = run
        .stdout
        .lines()
        .filter_map(|line| {
            let line = line.trim_start();
            let (status, rest) = line.split_once(' ')?;
            let status = match status {
                "ok" | "changed" | "skipped" | "failed" => status,
                // ansible reports an ignored failure as failed, then goes on.
                "ignored" => "failed",
                _ => return None,
            };
            let rest = rest.trim_start();
            // NAME 0.00s: MESSAGE (the message may be absent).
            let (name, message) = match rest.split_once("s: ") {
                Some((head, message)) => (head, message.to_string()),
                None => (rest, String::new()),
            };
            let name = name.rsplit_once(' ').map_or(name, |(n, _)| n);
            Some((name.to_string(), status.to_string(), message))
        })
        .collect();
    let names: Vec<_> = by_ansible
        .iter()
        .map(|(n, s, _)| (n.clone(), s.clone()))
        .collect();
    let ours: Vec<_> = by_runbook
        .iter()
        .map(|(n, s, _)| (n.clone(), s.clone()))
        .collect();
    assert_eq!(ours, names, "{}", run.stdout);
    // Messages of the tasks that succeed are the same text.
    for (theirs, ours) in by_ansible.iter().zip(&by_runbook) {
        if ["greet", "forced change", "wrong guess", "filters"].contains(&theirs.0.as_str()) {
            assert_eq!(ours.2, theirs.2, "message of {}", theirs.0);
        }
    }
    assert!(
        run.stdout.contains(&format!("total      {ansible_recap}")),
        "{ansible_recap}\n{}",
        run.stdout
    );
}

const MULTI_ORG: &str = "playbooks/examples/multi-org/site.yml";

/// The multi-organization example (roles, a looped include_role, vars per
/// organization) deploys the same stacks under both tools, says the same
/// summary, and a rerun changes nothing.
#[test]
fn multi_org_example_deploys_the_same_under_both_tools() {
    let ansible_moto = Moto::start();
    let mut cmd = Command::new(common::workspace().join("scripts/ansible-playbook.sh"));
    cmd.current_dir(common::workspace())
        .args([MULTI_ORG, "-e", "org=acme"]);
    ansible_moto.apply_env(&mut cmd);
    let out = cmd
        .output()
        .expect("scripts/ansible-playbook.sh runs (scripts/venv.sh installs it)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "ansible-playbook failed\n{stdout}");
    let summary = "acme: 3 spokes (dev, staging, prod) linked to hub 10.0.0.0/16";
    assert!(stdout.contains(summary), "{stdout}");
    let by_ansible = deployment(&ansible_moto);

    let runbook_moto = Moto::start_recording();
    let run = runbook(Some(&runbook_moto), &["apply", MULTI_ORG, "-e", "org=acme"]);
    run.assert_code(0);
    assert!(run.stdout.contains(summary), "{}", run.stdout);
    let by_runbook = deployment(&runbook_moto);
    let names: Vec<(&str, &str)> = by_runbook
        .iter()
        .map(|(p, n, _)| (p.as_str(), n.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("cicd", "acme-network-hub"),
            ("nonprod", "acme-network-dev"),
            ("nonprod", "acme-network-staging"),
            ("prod", "acme-network-prod"),
        ]
    );
    assert_eq!(by_ansible, by_runbook);

    // Rerun: nothing to change, no mutating call.
    runbook_moto.clear_recording();
    runbook(Some(&runbook_moto), &["apply", MULTI_ORG, "-e", "org=acme"]).assert_code(0);
    assert_eq!(common::mutating_calls(&runbook_moto), Vec::<String>::new());

    // Another organization is only another vars file.
    runbook(
        Some(&runbook_moto),
        &["apply", MULTI_ORG, "-e", "org=globex"],
    )
    .assert_code(0);
    let names: Vec<String> = deployment(&runbook_moto)
        .into_iter()
        .map(|(_, n, _)| n)
        .filter(|n| n.starts_with("globex"))
        .collect();
    assert_eq!(
        names,
        [
            "globex-network-hub",
            "globex-network-test",
            "globex-network-live"
        ]
    );
}
