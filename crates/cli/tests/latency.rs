//! Waiting well on stacks that take time: `bench/awsproxy.py` in latency
//! mode holds each stack operation in progress, as CloudFormation does, and
//! logs every call and operation, so overlap and call counts are read from
//! its log rather than from timings.

mod common;

use common::{command, finish, scratch, Run};
use runbook_testkit::{Moto, Proxy, ProxyOptions};

const TOPIC: &str = "Parameters:\n  Name:\n    Type: String\nResources:\n  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: !Ref Name\nOutputs:\n  TopicArn:\n    Value: !Ref Topic\n";

fn apply_via(proxy: &Proxy, playbook: &std::path::Path, extra: &[&str]) -> Run {
    let path = playbook.to_str().expect("utf-8 path");
    let mut args = vec!["apply", path];
    args.extend(extra);
    let mut cmd = command(&args);
    proxy.apply_env(&mut cmd);
    finish(cmd)
}

#[test]
fn a_loop_over_20_accounts_creates_its_stacks_at_once() {
    let moto = Moto::start();
    let profiles: Vec<String> = (1..=20).map(|n| format!("spoke{n:02}")).collect();
    for (n, profile) in profiles.iter().enumerate() {
        moto.add_profile(profile, &format!("3000000000{:02}", n + 1));
    }
    let proxy = Proxy::start(&moto, &ProxyOptions::hold("2s"));
    let play = format!(
        "- hosts: localhost\n  gather_facts: false\n  vars:\n    spokes: [{}]\n  tasks:\n    - name: spoke\n      amazon.aws.cloudformation:\n        stack_name: spoke\n        profile: \"{{{{ item }}}}\"\n        template: topic.yml\n        template_parameters: {{Name: \"spoke-{{{{ item }}}}\"}}\n      loop: \"{{{{ spokes }}}}\"\n",
        profiles.join(", ")
    );
    let (_dir, playbook) = scratch(&[("play.yml", &play), ("topic.yml", TOPIC)]);
    // The default --forks 10: each item gives its fork back while it waits.
    apply_via(&proxy, &playbook, &[]).assert_code(0);

    let log = proxy.log();
    let creates: Vec<_> = log.ops.iter().filter(|op| op.op == "CREATE").collect();
    assert_eq!(creates.len(), 20, "{:?}", log.ops);
    let accounts: std::collections::BTreeSet<_> = creates.iter().map(|op| &op.account).collect();
    assert_eq!(accounts.len(), 20, "one stack per account: {accounts:?}");
    // Every create began before any had finished: they ran at once.
    let last_start = creates.iter().map(|op| op.time).fold(f64::MIN, f64::max);
    let first_end = creates
        .iter()
        .map(|op| op.time + op.hold.as_secs_f64())
        .fold(f64::MAX, f64::min);
    assert!(
        last_start < first_end,
        "the last create began {:.2}s after the first ended",
        last_start - first_end
    );
}

#[test]
fn the_stacks_waited_on_in_one_account_share_one_poll() {
    let moto = Moto::start();
    let proxy = Proxy::start(&moto, &ProxyOptions::hold("3s"));
    let mut play = String::from("- hosts: localhost\n  gather_facts: false\n  tasks:\n");
    for n in 1..=10 {
        play.push_str(&format!(
            "    - name: stack {n}\n      amazon.aws.cloudformation:\n        stack_name: s{n}\n        profile: cicd\n        template: topic.yml\n        template_parameters: {{Name: t{n}}}\n"
        ));
    }
    let (_dir, playbook) = scratch(&[("play.yml", &play), ("topic.yml", TOPIC)]);
    apply_via(&proxy, &playbook, &[]).assert_code(0);

    let log = proxy.log();
    assert_eq!(
        log.ops.iter().filter(|op| op.op == "CREATE").count(),
        10,
        "{:?}",
        log.ops
    );
    // Ten stacks held 3 s each, polled every 0.5 s: one ListStacks per poll
    // for all of them instead of a DescribeStacks per stack per poll.
    let lists = log.count("cloudformation", "ListStacks");
    let describes = log.count("cloudformation", "DescribeStacks");
    eprintln!(
        "{lists} ListStacks, {describes} DescribeStacks, {:?}",
        log.calls_per_action()
    );
    assert!((1..=12).contains(&lists), "{lists} ListStacks");
    // The listing before the run, and per stack one look when its create
    // began and one when it left the list.
    assert!(describes <= 1 + 2 * 10 + 4, "{describes} DescribeStacks");
    // Events for the progress display: at most two reads a second in the
    // account, however many stacks are in flight.
    let mut reads: Vec<f64> = log
        .calls
        .iter()
        .filter(|c| c.action == "DescribeStackEvents")
        .map(|c| c.time)
        .collect();
    reads.sort_by(f64::total_cmp);
    let busiest = (0..reads.len())
        .map(|i| {
            reads[i..]
                .iter()
                .take_while(|t| **t - reads[i] < 1.0)
                .count()
        })
        .max()
        .unwrap_or(0);
    assert!(
        busiest <= 2,
        "{busiest} event reads within one second: {reads:?}"
    );
}

/// A task that only waits for CloudFormation gives its fork back: six
/// stacks with `--forks 2` are all in progress at once, not in three waves.
#[test]
fn waiting_stacks_do_not_hold_forks() {
    let moto = Moto::start();
    let proxy = Proxy::start(&moto, &ProxyOptions::hold("2s"));
    let mut play = String::from("- hosts: localhost\n  gather_facts: false\n  tasks:\n");
    for n in 1..=6 {
        play.push_str(&format!(
            "    - name: stack {n}\n      amazon.aws.cloudformation:\n        stack_name: w{n}\n        profile: cicd\n        template: topic.yml\n        template_parameters: {{Name: w{n}}}\n"
        ));
    }
    let (_dir, playbook) = scratch(&[("play.yml", &play), ("topic.yml", TOPIC)]);
    apply_via(&proxy, &playbook, &["--forks", "2"]).assert_code(0);

    let log = proxy.log();
    let creates: Vec<_> = log.ops.iter().filter(|op| op.op == "CREATE").collect();
    assert_eq!(creates.len(), 6, "{:?}", log.ops);
    let last_start = creates.iter().map(|op| op.time).fold(f64::MIN, f64::max);
    let first_end = creates
        .iter()
        .map(|op| op.time + op.hold.as_secs_f64())
        .fold(f64::MAX, f64::min);
    assert!(
        last_start < first_end,
        "the last create began {:.2}s after the first ended",
        last_start - first_end
    );
}
