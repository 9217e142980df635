//! SIGTERM and Ctrl-C (SIGINT) while `apply` runs: no task starts any
//! more, the one in flight is reported as interrupted, the recap and the
//! JSON report say what did not run, and the exit code names the signal.
//!
//! A task is kept in flight by an endpoint that accepts connections and
//! never answers.

#![cfg(unix)]

mod common;

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use runbook_testkit::Moto;

/// A loopback port that accepts connections and never answers; returns
/// its endpoint. The listener lives (on its thread) until the test ends.
fn silent_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let port = listener.local_addr().expect("port").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    format!("http://127.0.0.1:{port}")
}

/// The task that hangs has its endpoint from another task's result, so
/// preflight does not reach it; `after` waits for it, `other` does not.
fn playbook(endpoint: &str) -> String {
    format!(
        "- hosts: localhost\n  tasks:\n    - name: endpoint\n      set_fact: {{ep: \"{endpoint}\"}}\n    - name: slow stack\n      amazon.aws.cloudformation:\n        stack_name: slow\n        profile: base\n        endpoint_url: \"{{{{ ep }}}}\"\n        template_body: \"Resources: {{}}\"\n      register: slow\n    - name: after\n      debug: {{msg: \"{{{{ slow.stack_id }}}}\"}}\n    - name: other\n      debug: {{msg: hi}}\n"
    )
}

struct Ended {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Starts `runbook ARGS`, waits until a line of stdout holds `ready` (or,
/// without one, for `settle`), sends `signal`, and collects what it
/// printed.
fn signalled(moto: &Moto, args: &[&str], ready: Option<&str>, signal: &str) -> Ended {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_runbook"));
    cmd.args(args)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    moto.apply_env(&mut cmd);
    let mut child = cmd.spawn().expect("runbook starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let (lines, seen) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            text.push_str(&line);
            text.push('\n');
            let _ = lines.send(line);
        }
        text
    });
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    match ready {
        Some(ready) => loop {
            let line = seen
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| panic!("runbook never printed `{ready}`"));
            if line.contains(ready) {
                break;
            }
        },
        // Long enough to be inside preflight, which hangs.
        None => std::thread::sleep(Duration::from_secs(3)),
    }
    let pid = child.id().to_string();
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &pid])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -{signal} {pid}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let code = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("runbook did not stop within 30 s of SIG{signal}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Ended {
        code,
        stdout: reader.join().unwrap_or_default(),
        stderr: errors.join().unwrap_or_default(),
    }
}

#[test]
fn sigterm_stops_the_walk_reports_what_ran_and_exits_143() {
    let moto = Moto::start();
    let (dir, path) = common::scratch(&[("play.yml", &playbook(&silent_endpoint()))]);
    let report = dir.path().join("report.json");
    let ended = signalled(
        &moto,
        &[
            "apply",
            path.to_str().unwrap(),
            "--report",
            report.to_str().unwrap(),
        ],
        Some("start    slow stack"),
        "TERM",
    );
    assert_eq!(ended.code, Some(143), "{}\n{}", ended.stdout, ended.stderr);
    let out = &ended.stdout;
    assert!(out.contains("interrupted slow stack [base]"), "{out}");
    assert!(out.contains("ok       other"), "{out}");
    assert!(!out.contains("start    after"), "{out}");
    assert!(out.contains("RECAP"), "{out}");
    assert!(out.contains("interrupted=1 not_run=1"), "{out}");
    assert!(
        ended
            .stderr
            .contains("interrupted by SIGTERM: stack operations already started keep going in AWS"),
        "{}",
        ended.stderr
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("report written"))
            .expect("JSON");
    assert_eq!(report["interrupted"], true);
    assert_eq!(report["tasks"][1]["status"], "interrupted");
    assert_eq!(report["tasks"][2]["status"], "not_run");
    assert_eq!(report["totals"]["interrupted"], 1);
    // One report: the run's, not an error report after it.
    assert!(report.get("exit_code").is_none(), "{report}");
}

#[test]
fn ctrl_c_does_the_same_with_exit_code_99() {
    let moto = Moto::start();
    let (_dir, path) = common::scratch(&[("play.yml", &playbook(&silent_endpoint()))]);
    let ended = signalled(
        &moto,
        &["apply", path.to_str().unwrap()],
        Some("start    slow stack"),
        "INT",
    );
    assert_eq!(ended.code, Some(99), "{}\n{}", ended.stdout, ended.stderr);
    assert!(
        ended.stdout.contains("interrupted slow stack"),
        "{}",
        ended.stdout
    );
    assert!(
        ended.stderr.contains("interrupted by SIGINT"),
        "{}",
        ended.stderr
    );
}

#[test]
fn a_signal_in_preflight_ends_before_anything_runs() {
    let moto = Moto::start();
    // The endpoint is known before running: preflight hangs on it.
    let endpoint = silent_endpoint();
    let play = format!(
        "- hosts: localhost\n  tasks:\n    - name: who\n      amazon.aws.aws_caller_info: {{profile: base, endpoint_url: \"{endpoint}\"}}\n"
    );
    let (dir, path) = common::scratch(&[("play.yml", &play)]);
    let report = dir.path().join("report.json");
    let ended = signalled(
        &moto,
        &[
            "apply",
            path.to_str().unwrap(),
            "--report",
            report.to_str().unwrap(),
        ],
        None,
        "TERM",
    );
    assert_eq!(ended.code, Some(143), "{}\n{}", ended.stdout, ended.stderr);
    assert!(!ended.stdout.contains("start"), "{}", ended.stdout);
    assert!(
        ended.stderr.contains("interrupted by SIGTERM"),
        "{}",
        ended.stderr
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("report written"))
            .expect("JSON");
    assert_eq!(report["exit_code"], 143);
}

/// On a terminal, Ctrl-C's message comes after the live display is gone:
/// no spinner redraw erases it.
#[test]
fn on_a_terminal_the_interruption_message_stays_visible() {
    use std::io::Write;
    let moto = Moto::start();
    let (_dir, path) = common::scratch(&[("play.yml", &playbook(&silent_endpoint()))]);
    // `exec`: script runs the line with $SHELL -c, and a shell that stays
    // (dash does) would take the terminal's SIGINT itself and exit 130.
    let line = format!(
        "exec '{}' apply '{}'",
        env!("CARGO_BIN_EXE_runbook"),
        path.display()
    );
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &line, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    moto.apply_env(&mut cmd);
    cmd.env_remove("NO_COLOR").env("TERM", "xterm");
    let mut child = cmd.spawn().expect("util-linux `script` runs");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut stdout = child.stdout.take().expect("stdout");
    let (chunks, seen) = std::sync::mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buffer = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buffer) {
            if n == 0 || chunks.send(buffer[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut shown = Vec::new();
    let begun = Instant::now();
    while !String::from_utf8_lossy(&shown).contains("start    slow stack") {
        assert!(begun.elapsed() < Duration::from_secs(60), "never started");
        if let Ok(chunk) = seen.recv_timeout(Duration::from_millis(200)) {
            shown.extend(chunk);
        }
    }
    // Let the spinner turn a few times, then Ctrl-C through the terminal.
    std::thread::sleep(Duration::from_millis(600));
    stdin.write_all(b"\x03").expect("write ^C");
    stdin.flush().expect("flush");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        while let Ok(chunk) = seen.try_recv() {
            shown.extend(chunk);
        }
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "runbook did not stop");
        std::thread::sleep(Duration::from_millis(50));
    };
    while let Ok(chunk) = seen.recv_timeout(Duration::from_millis(500)) {
        shown.extend(chunk);
    }
    drop(stdin);
    let shown = String::from_utf8_lossy(&shown).into_owned();
    assert_eq!(status.code(), Some(99), "{shown:?}");
    let message = shown
        .rfind("interrupted by SIGINT")
        .unwrap_or_else(|| panic!("no message: {shown:?}"));
    let after = &shown[message..];
    // Nothing after it moves the cursor up or erases a line.
    assert!(
        !after.contains("\x1b[2K") && !after.contains("\x1b[1A"),
        "{after:?}"
    );
    assert!(shown.contains("interrupted"), "{shown:?}");
}
