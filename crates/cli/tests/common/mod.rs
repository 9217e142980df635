//! Helpers shared by the CLI tests: run the built binary, reach moto.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use runbook_aws::{ClientPool, PoolSettings, Target};
use runbook_testkit::{Moto, Proxy};

pub fn workspace() -> PathBuf {
    runbook_testkit::workspace_root()
}

/// What a run of the binary printed and returned.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code {} (wanted {code})\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }
}

/// `runbook ARGS` from the workspace root, with no colour and no roles of
/// the machine's own; the caller points it at an endpoint.
pub fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_runbook"));
    cmd.current_dir(workspace())
        .args(args)
        .env("NO_COLOR", "1")
        // Role lookups must not depend on the machine's ~/.ansible.
        .env("ANSIBLE_ROLES_PATH", "/nonexistent/runbook-roles");
    cmd
}

/// Runs a command to its end.
pub fn finish(mut cmd: Command) -> Run {
    let out = cmd.output().expect("the runbook binary runs");
    Run::of(out)
}

impl Run {
    pub fn of(out: std::process::Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// Runs `runbook ARGS` from the workspace root, against `moto` if given
/// (with no AWS settings of the developer's own leaking in).
pub fn runbook(moto: Option<&Moto>, args: &[&str]) -> Run {
    let mut cmd = command(args);
    match moto {
        Some(moto) => moto.apply_env(&mut cmd),
        None => {
            for var in Moto::REMOVE_ENV {
                cmd.env_remove(var);
            }
            // No emulator: point the SDK nowhere real.
            cmd.env("AWS_CONFIG_FILE", "/nonexistent/runbook-test-config");
            cmd.env(
                "AWS_SHARED_CREDENTIALS_FILE",
                "/nonexistent/runbook-test-credentials",
            );
        }
    }
    finish(cmd)
}

/// Runs `runbook ARGS` through the proxy in front of a moto server.
pub fn runbook_via(proxy: &Proxy, args: &[&str]) -> Run {
    let mut cmd = command(args);
    proxy.apply_env(&mut cmd);
    finish(cmd)
}

/// The three accounts' -e arguments for the CI/CD playbook.
pub const CICD_ARGS: &[&str] = &[
    "-e",
    "cicd_account_profile=cicd",
    "-e",
    "nonprod_account_profile=nonprod",
    "-e",
    "prod_account_profile=prod",
];

pub fn with_args<'a>(head: &[&'a str], tail: &[&'a str]) -> Vec<&'a str> {
    head.iter().chain(tail).copied().collect()
}

/// A client pool on this moto, for checking what runbook did.
pub fn pool(moto: &Moto) -> ClientPool {
    ClientPool::new(PoolSettings {
        max_attempts: 2,
        env_overrides: Some(moto.env_overrides()),
        ..PoolSettings::default()
    })
}

pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(future)
}

/// A deployed stack's status, parameters, outputs and tags.
#[derive(Debug, Clone, PartialEq)]
pub struct StackFacts {
    pub status: String,
    pub parameters: Vec<(String, String)>,
    pub outputs: Vec<(String, String)>,
    pub tags: Vec<(String, String)>,
}

pub fn stack(moto: &Moto, profile: &str, name: &str) -> Option<StackFacts> {
    let pool = pool(moto);
    block_on(async {
        let client = pool
            .cloudformation(&Target::profile(profile))
            .await
            .expect("client");
        let out = client
            .describe_stacks()
            .stack_name(name)
            .send()
            .await
            .ok()?;
        let s = out.stacks().first()?;
        let parameters = sorted_pairs(
            s.parameters()
                .iter()
                .map(|p| (p.parameter_key(), p.parameter_value())),
        );
        let outputs = sorted_pairs(
            s.outputs()
                .iter()
                .map(|o| (o.output_key(), o.output_value())),
        );
        let tags = sorted_pairs(s.tags().iter().map(|t| (t.key(), t.value())));
        Some(StackFacts {
            status: s
                .stack_status()
                .map(|x| x.as_str().to_string())
                .unwrap_or_default(),
            parameters,
            outputs,
            tags,
        })
    })
}

fn sorted_pairs<'a>(
    pairs: impl Iterator<Item = (Option<&'a str>, Option<&'a str>)>,
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = pairs
        .map(|(k, v)| {
            (
                k.unwrap_or_default().to_string(),
                v.unwrap_or_default().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Every stack of a profile's account, by name.
pub fn stacks(moto: &Moto, profile: &str) -> Vec<(String, StackFacts)> {
    let pool = pool(moto);
    let names: Vec<String> = block_on(async {
        let client = pool
            .cloudformation(&Target::profile(profile))
            .await
            .expect("client");
        let out = client
            .describe_stacks()
            .send()
            .await
            .expect("DescribeStacks");
        out.stacks()
            .iter()
            .filter_map(|s| s.stack_name().map(str::to_string))
            .collect()
    });
    let mut all: Vec<(String, StackFacts)> = names
        .into_iter()
        .filter_map(|n| stack(moto, profile, &n).map(|f| (n, f)))
        .collect();
    all.sort_by(|a, b| a.0.cmp(&b.0));
    all
}

pub fn param<'a>(facts: &'a StackFacts, key: &str) -> &'a str {
    value_in(&facts.parameters, key).unwrap_or_else(|| panic!("no parameter {key} in {facts:?}"))
}

pub fn output<'a>(facts: &'a StackFacts, key: &str) -> &'a str {
    value_in(&facts.outputs, key).unwrap_or_else(|| panic!("no output {key} in {facts:?}"))
}

fn value_in<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The mutating calls moto recorded, as "service Action".
pub fn mutating_calls(moto: &Moto) -> Vec<String> {
    moto.recorded_calls()
        .into_iter()
        .filter(|c| c.is_mutating())
        .map(|c| format!("{} {}", c.service, c.action))
        .collect()
}

/// Writes files into a fresh directory; returns it and the first file.
pub fn scratch(files: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap_or(Path::new("."))).expect("mkdir");
        std::fs::write(&path, text).expect("write");
    }
    let first = dir.path().join(files[0].0);
    (dir, first)
}
