//! Differential test: the CI/CD playbook under ansible-playbook and under
//! runbook, each on a fresh moto, gives the same stacks in the same
//! accounts with the same parameters, outputs and tags.

mod common;

use std::process::Command;

use common::{runbook, stacks, with_args, StackFacts, CICD_ARGS};
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
    let normal = |s: &str| {
        unique_id
            .replace_all(&uuid.replace_all(s, "<uuid>"), "<unique-id>")
            .into_owned()
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
