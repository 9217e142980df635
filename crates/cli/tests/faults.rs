//! Races and faults: two runs of one playbook at once, and the CI/CD
//! baseline through `bench/awsproxy.py` injecting throttling, 500/503,
//! connection resets before and after the call reached moto, and latency.
//!
//! The proxy answers a retried mutation that reuses the ClientRequestToken
//! of one that got through with that first answer, as CloudFormation does
//! (moto ignores tokens). `RUNBOOK_FAULT_TRIALS` raises the number of
//! seeded trials for the figures in docs/reliability.md.

mod common;

use std::collections::BTreeMap;

use common::{command, mutating_calls, runbook, runbook_via, stacks, with_args, Run, CICD_ARGS};
use runbook_testkit::{Moto, Proxy, ProxyOptions};

const PLAYBOOK: &str = "playbooks/playbook-cicd-01.yaml";
const ACCOUNTS: [&str; 3] = ["cicd", "nonprod", "prod"];
const BASELINE_STACKS: usize = 5;

fn baseline_args() -> Vec<&'static str> {
    with_args(&["apply", PLAYBOOK], CICD_ARGS)
}

/// Every account holds each stack once, settled, and the baseline's five
/// in all; a rerun without faults changes nothing.
fn assert_converged(moto: &Moto, trial: &str) {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for profile in ACCOUNTS {
        for (name, facts) in stacks(moto, profile) {
            assert!(
                matches!(facts.status.as_str(), "CREATE_COMPLETE" | "UPDATE_COMPLETE"),
                "{trial}: stack {name} in {profile} is {}",
                facts.status
            );
            *seen.entry(format!("{profile}/{name}")).or_insert(0) += 1;
        }
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "{trial}: duplicate stacks {twice:?}");
    assert_eq!(seen.len(), BASELINE_STACKS, "{trial}: stacks {seen:?}");
    moto.clear_recording();
    let rerun = runbook(Some(moto), &baseline_args());
    rerun.assert_code(0);
    assert_eq!(
        mutating_calls(moto),
        Vec::<String>::new(),
        "{trial}: a clean rerun still changed something\n{}",
        rerun.stdout
    );
}

fn trials(default: u64) -> u64 {
    std::env::var("RUNBOOK_FAULT_TRIALS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

/// Faults on every AWS call, STS included.
fn faults(rate: f64, seed: u64) -> ProxyOptions {
    ProxyOptions {
        fault_actions: vec!["*".into()],
        seed,
        max_faults: 1000,
        ..ProxyOptions::faults(rate, &[], 1000)
    }
}

fn summary(run: &Run) -> String {
    run.stdout
        .lines()
        .filter(|l| l.contains("failed ") || l.contains("total"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn two_applies_started_together_both_succeed_with_one_set_of_stacks() {
    let moto = Moto::start_recording();
    // Stacks stay in progress for a while, so each run finds the other's
    // stacks being created.
    let proxy = Proxy::start(&moto, &ProxyOptions::hold("1s"));
    let spawn = || {
        // A wait that never ends fails the test instead of hanging it.
        let mut args = baseline_args();
        args.extend(["-v", "--wait-timeout", "60"]);
        let mut cmd = command(&args);
        proxy.apply_env(&mut cmd);
        cmd.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("runbook starts")
    };
    let (first, second) = (spawn(), spawn());
    for child in [first, second] {
        let run = Run::of(child.wait_with_output().expect("runbook ends"));
        run.assert_code(0);
    }
    assert_converged(&moto, "concurrent pair");
}

#[test]
fn at_10_percent_faults_fresh_and_unchanged_runs_of_the_baseline_succeed() {
    let mut injected = 0;
    for seed in 1..=trials(5) {
        let moto = Moto::start_recording();
        let proxy = Proxy::start(&moto, &faults(0.10, seed));
        let fresh = runbook_via(&proxy, &baseline_args());
        fresh.assert_code(0);
        let unchanged = runbook_via(&proxy, &baseline_args());
        unchanged.assert_code(0);
        assert!(
            unchanged.stdout.contains("changed=0 failed=0"),
            "seed {seed}: {}",
            unchanged.stdout
        );
        let log = proxy.log();
        injected += log.faults().len();
        eprintln!(
            "seed {seed}: {} calls, faults {:?}",
            log.calls.len(),
            log.faults_by_kind()
        );
        assert_converged(&moto, &format!("seed {seed}"));
    }
    assert!(injected > 0, "no fault was injected");
}

#[test]
fn at_30_percent_faults_runs_succeed_and_every_trial_converges_within_two_runs() {
    let count = trials(3);
    let mut first_time = 0;
    let mut injected = 0;
    for seed in 1..=count {
        let moto = Moto::start_recording();
        let proxy = Proxy::start(&moto, &faults(0.30, 100 + seed));
        let first = runbook_via(&proxy, &baseline_args());
        // A run that gives up fails its tasks (2); it never crashes.
        assert!(
            matches!(first.code, 0 | 2),
            "seed {seed}: exit {}\n{}\n{}",
            first.code,
            first.stdout,
            first.stderr
        );
        if first.code == 0 {
            first_time += 1;
        } else {
            eprintln!("seed {seed}: first run failed:\n{}", summary(&first));
            runbook_via(&proxy, &baseline_args()).assert_code(0);
        }
        let log = proxy.log();
        injected += log.faults().len();
        eprintln!(
            "seed {}: first run exit {}, {} calls, faults {:?}",
            100 + seed,
            first.code,
            log.calls.len(),
            log.faults_by_kind()
        );
        assert_converged(&moto, &format!("seed {}", 100 + seed));
    }
    eprintln!("{first_time}/{count} first runs succeeded, {injected} faults injected");
    assert!(injected > 0);
    assert!(
        first_time * 100 >= count * 95,
        "{first_time} of {count} first runs succeeded"
    );
}
