//! `bench/awsproxy.py` in front of a [`Moto`]: stack operations held in
//! progress for a while (latency mode) and injected faults (fault mode),
//! with its JSONL log parsed. See docs/proxy.md.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use tempfile::TempDir;

use crate::{workspace_root, Moto};

/// How long the proxy may take to print its port.
const PROXY_READY_TIMEOUT: Duration = Duration::from_secs(30);

/// Options of `bench/awsproxy.py`. Durations are the proxy's own syntax:
/// `"3s"`, `"250ms"`, `"uniform:2s:5s"`, `"lognormal:3s:0.5"`.
#[derive(Debug, Clone)]
pub struct ProxyOptions {
    /// Latency mode: how long each stack operation stays in progress.
    pub hold: Option<String>,
    /// Hold of updates (default: `hold`).
    pub hold_update: Option<String>,
    /// Hold of deletes (default: `hold`).
    pub hold_delete: Option<String>,
    /// Added to every AWS call.
    pub latency: Option<String>,
    /// Fault mode: probability per eligible call, 0..=1.
    pub fault_rate: f64,
    /// Kinds to draw from: `throttle`, `500`, `503`, `reset-before`,
    /// `reset-after`, `latency`. Empty means all.
    pub fault_kinds: Vec<String>,
    /// Eligible calls: services (`cloudformation`, `sts`), actions
    /// (`CreateStack`), `service:Action`, or `*`. Empty means
    /// `cloudformation`.
    pub fault_actions: Vec<String>,
    /// No more faults after this many.
    pub max_faults: u32,
    /// Seed of every random draw (holds, latencies, faults).
    pub seed: u64,
    /// The proxy exits by itself after this long.
    pub max_runtime: Duration,
    /// Answer a retried CreateStack / UpdateStack / DeleteStack /
    /// ExecuteChangeSet that reuses the `ClientRequestToken` of one that
    /// succeeded with that first answer, as CloudFormation does (default).
    /// `false`: forward it, and moto, which ignores tokens, answers
    /// e.g. AlreadyExistsException.
    pub client_request_tokens: bool,
}

impl Default for ProxyOptions {
    fn default() -> Self {
        ProxyOptions {
            hold: None,
            hold_update: None,
            hold_delete: None,
            latency: None,
            fault_rate: 0.0,
            fault_kinds: Vec::new(),
            fault_actions: Vec::new(),
            max_faults: 100,
            seed: 0,
            max_runtime: Duration::from_secs(30 * 60),
            client_request_tokens: true,
        }
    }
}

impl ProxyOptions {
    /// Latency mode only: every stack operation held for `hold`.
    pub fn hold(hold: &str) -> Self {
        ProxyOptions {
            hold: Some(hold.to_string()),
            ..Self::default()
        }
    }

    /// Fault mode only: `kinds` at `rate`, at most `max_faults` of them.
    pub fn faults(rate: f64, kinds: &[&str], max_faults: u32) -> Self {
        ProxyOptions {
            fault_rate: rate,
            fault_kinds: kinds.iter().map(|k| k.to_string()).collect(),
            max_faults,
            ..Self::default()
        }
    }

    fn args(&self) -> Vec<String> {
        let mut args = Vec::new();
        let mut opt = |name: &str, value: &Option<String>| {
            if let Some(v) = value {
                args.push(format!("--{name}"));
                args.push(v.clone());
            }
        };
        opt("hold", &self.hold);
        opt("hold-update", &self.hold_update);
        opt("hold-delete", &self.hold_delete);
        opt("latency", &self.latency);
        args.extend(["--faults".into(), self.fault_rate.to_string()]);
        if !self.fault_kinds.is_empty() {
            args.extend(["--fault-kinds".into(), self.fault_kinds.join(",")]);
        }
        if !self.fault_actions.is_empty() {
            args.extend(["--fault-actions".into(), self.fault_actions.join(",")]);
        }
        args.extend([
            "--max-faults".into(),
            self.max_faults.to_string(),
            "--seed".into(),
            self.seed.to_string(),
            "--max-runtime".into(),
            format!("{}ms", self.max_runtime.as_millis().max(1)),
        ]);
        if !self.client_request_tokens {
            args.push("--no-tokens".into());
        }
        args
    }
}

/// `bench/awsproxy.py` on a free loopback port in front of a moto server,
/// killed on drop. Point clients at [`Proxy::endpoint`] instead of the
/// server's.
pub struct Proxy {
    child: Child,
    endpoint: String,
    port: u16,
    moto_env: Vec<(String, String)>,
    dir: TempDir,
}

impl Moto {
    /// A moto server with the proxy in front of it. Drop order does not
    /// matter.
    pub fn start_with_proxy(options: &ProxyOptions) -> (Moto, Proxy) {
        let moto = Moto::start();
        let proxy = Proxy::start(&moto, options);
        (moto, proxy)
    }
}

impl Proxy {
    /// Starts the proxy in front of `moto` and waits for its port. Panics
    /// (saying to run scripts/venv.sh) if the venv's python is missing, or
    /// with the proxy's output if it does not start.
    pub fn start(moto: &Moto, options: &ProxyOptions) -> Proxy {
        let root = workspace_root();
        let python = root.join(".venv").join("bin").join("python");
        if !python.is_file() {
            panic!(
                "python not found at {}: run scripts/venv.sh in the workspace root",
                python.display()
            );
        }
        let script = root.join("bench").join("awsproxy.py");
        assert!(
            script.is_file(),
            "{} is missing from the checkout",
            script.display()
        );
        let dir = tempfile::Builder::new()
            .prefix("runbook-proxy-")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temporary directory: {e}"));
        let log = dir.path().join("proxy.jsonl");
        let stderr_path = dir.path().join("proxy.stderr");
        let stderr = fs::File::create(&stderr_path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", stderr_path.display()));
        let mut child = Command::new(&python)
            .arg(&script)
            .args(["--upstream", moto.endpoint(), "--port", "0", "--log"])
            .arg(&log)
            .args(options.args())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", script.display()));
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let port = rx
            .recv_timeout(PROXY_READY_TIMEOUT)
            .ok()
            .and_then(|line| line.trim().parse::<u16>().ok());
        let Some(port) = port else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "bench/awsproxy.py did not print its port within {PROXY_READY_TIMEOUT:?}; stderr:\n{}",
                fs::read_to_string(&stderr_path).unwrap_or_default()
            );
        };
        Proxy {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            port,
            moto_env: moto.env(),
            dir,
        }
    }

    /// `http://127.0.0.1:PORT`: the endpoint to give clients.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The port the proxy listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The JSONL log the proxy writes.
    pub fn log_file(&self) -> PathBuf {
        self.dir.path().join("proxy.jsonl")
    }

    /// The log so far, parsed. Panics on a line that is not the proxy's.
    pub fn log(&self) -> ProxyLog {
        ProxyLog::read(&self.log_file())
    }

    /// [`Moto::env`] with `AWS_ENDPOINT_URL` pointing at the proxy.
    pub fn env(&self) -> Vec<(String, String)> {
        self.moto_env
            .iter()
            .map(|(k, v)| {
                if k == "AWS_ENDPOINT_URL" {
                    (k.clone(), self.endpoint.clone())
                } else {
                    (k.clone(), v.clone())
                }
            })
            .collect()
    }

    /// Applies [`Proxy::env`] to a command and removes [`Moto::REMOVE_ENV`].
    pub fn apply_env(&self, cmd: &mut Command) {
        for var in Moto::REMOVE_ENV {
            cmd.env_remove(var);
        }
        cmd.envs(self.env());
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        // Our own child only; errors mean it is already gone.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One AWS call as the proxy logged it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProxyCall {
    /// Seconds since the epoch when the call arrived.
    pub time: f64,
    /// Signing name, e.g. `cloudformation`, `sts`.
    pub service: String,
    /// Operation, e.g. `CreateStack`.
    pub action: String,
    /// The account the call was made as (keys from AssumeRole map to the
    /// role's account; other keys to moto's default account).
    pub account: String,
    /// Region of the credential scope.
    pub region: Option<String>,
    /// `StackName` of a CloudFormation call (name, even if given as an ARN).
    pub stack: Option<String>,
    /// HTTP status answered; `None` when the connection was reset.
    pub status: Option<u16>,
    /// The injected fault, if any: `throttle`, `500`, `503`,
    /// `reset-before`, `reset-after`, `latency`.
    pub fault: Option<String>,
    /// What the proxy did instead of passing moto's answer on: the
    /// in-progress status shown, `refused` (answered as CloudFormation
    /// would refuse it), `exports-hidden`, or `token-replay` (a retry with
    /// the token of a call that succeeded, answered with its answer).
    pub held: Option<String>,
    /// Whether moto saw the call.
    pub forwarded: bool,
}

/// One stack operation the proxy held in progress.
#[derive(Debug, Clone, PartialEq)]
pub struct ProxyOp {
    /// Seconds since the epoch when it started.
    pub time: f64,
    pub account: String,
    pub region: String,
    pub stack: String,
    /// `CREATE`, `UPDATE` or `DELETE`.
    pub op: String,
    /// How long it was shown in progress.
    pub hold: Duration,
}

/// The proxy's JSONL log.
#[derive(Debug, Clone, Default)]
pub struct ProxyLog {
    pub calls: Vec<ProxyCall>,
    pub ops: Vec<ProxyOp>,
}

impl ProxyLog {
    /// Reads and parses a log file; panics on a malformed one.
    pub fn read(path: &Path) -> ProxyLog {
        let text = fs::read_to_string(path).unwrap_or_default();
        Self::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// Parses the log's lines (`start`, `call`, `op`, `stop` records).
    pub fn parse(text: &str) -> Result<ProxyLog, String> {
        let mut log = ProxyLog::default();
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let v: serde_json::Value = serde_json::from_str(line)
                .map_err(|e| format!("line {}: not JSON ({e}): {line}", n + 1))?;
            let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
            let need = |k: &str| s(k).ok_or_else(|| format!("line {}: no {k}: {line}", n + 1));
            let time = v.get("t").and_then(|x| x.as_f64()).unwrap_or(0.0);
            match v.get("type").and_then(|x| x.as_str()) {
                Some("call") => log.calls.push(ProxyCall {
                    time,
                    service: need("service")?,
                    action: need("action")?,
                    account: need("account")?,
                    region: s("region"),
                    stack: s("stack"),
                    status: v
                        .get("status")
                        .and_then(|x| x.as_u64())
                        .and_then(|x| u16::try_from(x).ok()),
                    fault: s("fault"),
                    held: s("held"),
                    forwarded: v
                        .get("forwarded")
                        .and_then(|x| x.as_bool())
                        .unwrap_or(false),
                }),
                Some("op") => log.ops.push(ProxyOp {
                    time,
                    account: need("account")?,
                    region: need("region")?,
                    stack: need("stack")?,
                    op: need("op")?,
                    hold: Duration::from_secs_f64(
                        v.get("hold_s").and_then(|x| x.as_f64()).unwrap_or(0.0),
                    ),
                }),
                Some("start") | Some("stop") => {}
                other => return Err(format!("line {}: unknown record type {other:?}", n + 1)),
            }
        }
        Ok(log)
    }

    /// The calls that had a fault injected.
    pub fn faults(&self) -> Vec<&ProxyCall> {
        self.calls.iter().filter(|c| c.fault.is_some()).collect()
    }

    /// Faults injected, per kind.
    pub fn faults_by_kind(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for kind in self.calls.iter().filter_map(|c| c.fault.as_ref()) {
            *out.entry(kind.clone()).or_insert(0) += 1;
        }
        out
    }

    /// Calls per `service:Action`.
    pub fn calls_per_action(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for c in &self.calls {
            *out.entry(format!("{}:{}", c.service, c.action))
                .or_insert(0) += 1;
        }
        out
    }

    /// Calls of one action, e.g. `("cloudformation", "DescribeStacks")`.
    pub fn count(&self, service: &str, action: &str) -> usize {
        self.calls
            .iter()
            .filter(|c| c.service == service && c.action == action)
            .count()
    }

    /// Calls per account.
    pub fn calls_per_account(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for c in &self.calls {
            *out.entry(c.account.clone()).or_insert(0) += 1;
        }
        out
    }

    /// The most calls any account made within one minute (a sliding
    /// 60-second window), per account: what an API rate limit sees.
    pub fn peak_calls_per_account_minute(&self) -> BTreeMap<String, usize> {
        let mut times: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for c in &self.calls {
            times.entry(c.account.clone()).or_default().push(c.time);
        }
        times
            .into_iter()
            .map(|(account, mut ts)| {
                ts.sort_by(f64::total_cmp);
                let mut peak = 0;
                let mut start = 0;
                for end in 0..ts.len() {
                    while ts[end] - ts[start] >= 60.0 {
                        start += 1;
                    }
                    peak = peak.max(end - start + 1);
                }
                (account, peak)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = r#"{"type": "start", "t": 1.0, "pid": 1, "port": 2, "config": {}}
{"type": "call", "t": 10.0, "service": "sts", "action": "AssumeRole", "account": "123456789012", "region": "us-east-1", "stack": null, "status": 200, "fault": null, "held": null, "forwarded": true, "role_account": "111111111111"}
{"type": "call", "t": 11.0, "service": "cloudformation", "action": "CreateStack", "account": "111111111111", "region": "us-east-1", "stack": "a", "status": null, "fault": "reset-after", "held": null, "forwarded": true}
{"type": "op", "t": 11.0, "account": "111111111111", "region": "us-east-1", "stack": "a", "stack_id": "arn:x", "op": "CREATE", "hold_s": 2.5, "resources": 1}
{"type": "call", "t": 12.0, "service": "cloudformation", "action": "DescribeStacks", "account": "111111111111", "region": "us-east-1", "stack": "a", "status": 400, "fault": "throttle", "held": null, "forwarded": false}
{"type": "call", "t": 80.0, "service": "cloudformation", "action": "DescribeStacks", "account": "111111111111", "region": "us-east-1", "stack": "a", "status": 200, "fault": null, "held": "CREATE_IN_PROGRESS", "forwarded": true}
{"type": "stop", "t": 90.0, "calls": 4, "faults": 2, "reason": "signal"}
"#;

    #[test]
    fn parses_the_log() {
        let log = ProxyLog::parse(LOG).expect("a valid log");
        assert_eq!(log.calls.len(), 4);
        assert_eq!(log.ops.len(), 1);
        assert_eq!(log.ops[0].hold, Duration::from_millis(2500));
        assert_eq!(log.faults().len(), 2);
        assert_eq!(log.faults_by_kind().get("reset-after"), Some(&1));
        assert_eq!(log.calls[1].status, None);
        assert_eq!(log.calls[3].held.as_deref(), Some("CREATE_IN_PROGRESS"));
        assert_eq!(log.count("cloudformation", "DescribeStacks"), 2);
        assert_eq!(log.calls_per_action().get("sts:AssumeRole"), Some(&1));
        assert_eq!(log.calls_per_account().get("111111111111"), Some(&3));
        // 11 and 12 fall in one minute, 80 in another.
        assert_eq!(
            log.peak_calls_per_account_minute().get("111111111111"),
            Some(&2)
        );
        assert!(ProxyLog::parse("{\"type\": \"nope\"}").is_err());
        assert!(ProxyLog::parse("not json").is_err());
    }

    #[test]
    fn options_become_arguments() {
        let mut o = ProxyOptions::hold("3s");
        o.latency = Some("20ms".into());
        o.fault_actions = vec!["cloudformation".into(), "sts".into()];
        let args = o.args().join(" ");
        assert!(args.contains("--hold 3s"), "{args}");
        assert!(args.contains("--latency 20ms"), "{args}");
        assert!(
            args.contains("--fault-actions cloudformation,sts"),
            "{args}"
        );
        assert!(args.contains("--max-runtime 1800000ms"), "{args}");
        assert!(!args.contains("--no-tokens"), "{args}");
        o.client_request_tokens = false;
        assert!(o.args().join(" ").ends_with("--no-tokens"));
        let f = ProxyOptions::faults(0.5, &["throttle"], 3).args().join(" ");
        assert!(
            f.contains("--faults 0.5 --fault-kinds throttle --max-faults 3"),
            "{f}"
        );
    }
}
