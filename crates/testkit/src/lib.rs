//! Test support for runbook: a private moto server (the AWS emulator) per
//! test, AWS config/credentials files whose profiles map to distinct moto
//! accounts, and moto's request recorder parsed into `(service, action)` calls.
//! [`Proxy`] puts `bench/awsproxy.py` in front of a server: stack operations
//! held in progress for a while, injected faults, and its call log.
//!
//! Everything here panics with a descriptive message on failure: it is only
//! used from tests, where a panic is the failure report.

use std::fs;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

mod proxy;
pub use proxy::{Proxy, ProxyCall, ProxyLog, ProxyOp, ProxyOptions};

/// How long a fresh moto_server may take to answer (Python start-up on a
/// loaded 2-core machine can take several seconds).
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// Static keys of profile `base`; moto accepts any.
pub const ACCESS_KEY: &str = "testing";
/// Secret of profile `base`.
pub const SECRET_KEY: &str = "testing";
/// Region of every profile.
pub const REGION: &str = "us-east-1";
/// Account moto reports for the static keys of profile `base`.
pub const BASE_ACCOUNT: &str = "123456789012";

/// The assume-role profiles written to the config file, with the account moto
/// reports for each (moto takes the account from the role ARN).
pub const PROFILES: &[(&str, &str)] = &[
    ("cicd", "111111111111"),
    ("nonprod", "222222222222"),
    ("prod", "777777777777"),
];

/// A moto server on a free loopback port, killed on drop.
pub struct Moto {
    child: Child,
    endpoint: String,
    port: u16,
    dir: TempDir,
    recording: bool,
}

impl Moto {
    /// Variables a child process must not inherit, since they would override
    /// the profiles or keys of the files written here.
    pub const REMOVE_ENV: &'static [&'static str] = &[
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    ];

    /// Starts a server and waits until it answers. Panics (saying to run
    /// scripts/venv.sh) if moto_server is missing.
    pub fn start() -> Moto {
        Self::launch(false)
    }

    /// Like [`Moto::start`], with moto's recorder enabled and started, and
    /// the start-up probes cleared from the recording.
    pub fn start_recording() -> Moto {
        let moto = Self::launch(true);
        moto.post("/moto-api/recorder/start-recording");
        moto.clear_recording();
        moto
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The AWS config file (profiles base, cicd, nonprod, prod).
    pub fn config_file(&self) -> PathBuf {
        self.dir.path().join("config")
    }

    /// The AWS shared credentials file (keys of profile base).
    pub fn credentials_file(&self) -> PathBuf {
        self.dir.path().join("credentials")
    }

    /// A scratch directory that lives as long as the server.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Variables a child process (the runbook binary) needs to use this
    /// server; combine with removing [`Moto::REMOVE_ENV`].
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            (
                "AWS_CONFIG_FILE".into(),
                self.config_file().display().to_string(),
            ),
            (
                "AWS_SHARED_CREDENTIALS_FILE".into(),
                self.credentials_file().display().to_string(),
            ),
            ("AWS_ENDPOINT_URL".into(), self.endpoint.clone()),
            // Without this the SDKs may probe the EC2 metadata address.
            ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
        ]
    }

    /// The same variables as [`Moto::env`], for `PoolSettings::env_overrides`
    /// (which replace the whole process environment, so nothing to remove).
    pub fn env_overrides(&self) -> Vec<(String, String)> {
        self.env()
    }

    /// [`Moto::env`] without `AWS_ENDPOINT_URL`, for tests of per-target
    /// endpoints.
    pub fn env_overrides_without_endpoint(&self) -> Vec<(String, String)> {
        self.env()
            .into_iter()
            .filter(|(k, _)| k != "AWS_ENDPOINT_URL")
            .collect()
    }

    /// Applies [`Moto::env`] to a command and removes [`Moto::REMOVE_ENV`].
    pub fn apply_env(&self, cmd: &mut Command) {
        for var in Self::REMOVE_ENV {
            cmd.env_remove(var);
        }
        cmd.envs(self.env());
    }

    /// Wipes all emulated state (`POST /moto-api/reset`).
    pub fn reset(&self) {
        self.post("/moto-api/reset");
    }

    /// Empties the recording.
    pub fn clear_recording(&self) {
        self.assert_recording();
        self.post("/moto-api/recorder/reset-recording");
    }

    /// The recorded AWS requests (moto-api calls left out), oldest first.
    pub fn recorded_calls(&self) -> Vec<RecordedCall> {
        self.recorded().into_iter().map(|(call, _)| call).collect()
    }

    /// The value of one form parameter (query protocol) in each recorded
    /// call of an action, oldest first; `None` where the call lacks it.
    pub fn recorded_parameter(
        &self,
        service: &str,
        action: &str,
        key: &str,
    ) -> Vec<Option<String>> {
        self.recorded()
            .into_iter()
            .filter(|(call, _)| call.service == service && call.action == action)
            .map(|(_, body)| form_value(&body, key))
            .collect()
    }

    /// Each recorded AWS request with its decoded body.
    fn recorded(&self) -> Vec<(RecordedCall, String)> {
        self.assert_recording();
        let text = fs::read_to_string(self.recording_file()).unwrap_or_default();
        text.lines()
            .filter(|line| !line.trim().is_empty())
            .filter_map(|line| {
                let entry: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| {
                    panic!("moto recording has a line that is not JSON ({e}): {line}")
                });
                RecordedCall::from_entry(&entry)
            })
            .collect()
    }

    /// Recorded calls of one action, e.g. `("sts", "AssumeRole")`.
    pub fn count_calls(&self, service: &str, action: &str) -> usize {
        self.recorded_calls()
            .iter()
            .filter(|c| c.service == service && c.action == action)
            .count()
    }

    fn recording_file(&self) -> PathBuf {
        self.dir.path().join("recording.jsonl")
    }

    fn assert_recording(&self) {
        assert!(
            self.recording,
            "this moto server was started without the recorder; use Moto::start_recording()"
        );
    }

    fn launch(recording: bool) -> Moto {
        let server = server_path();
        if !server.is_file() {
            panic!(
                "moto_server not found at {}: run scripts/venv.sh in the workspace root \
                 (or set RUNBOOK_MOTO_SERVER to a moto_server executable)",
                server.display()
            );
        }
        // A free port can be taken by someone else before moto binds it; a
        // server that exits at once is retried on another port.
        let mut logs = Vec::new();
        for _ in 0..3 {
            match Self::spawn(&server, recording) {
                Ok(moto) => return moto,
                Err(log) => logs.push(log),
            }
        }
        panic!(
            "moto_server ({}) exited at start-up three times; logs:\n{}",
            server.display(),
            logs.join("\n---\n")
        );
    }

    /// One start attempt: `Err(log)` if the server exited before answering.
    fn spawn(server: &Path, recording: bool) -> Result<Moto, String> {
        let dir = tempfile::Builder::new()
            .prefix("runbook-moto-")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temporary directory: {e}"));
        let port = free_port();
        let log_path = dir.path().join("server.log");
        let log = fs::File::create(&log_path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", log_path.display()));
        let log_err = log
            .try_clone()
            .unwrap_or_else(|e| panic!("cannot duplicate a file handle: {e}"));
        let mut cmd = server_command(server);
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err);
        if recording {
            cmd.env("MOTO_ENABLE_RECORDING", "True")
                .env("MOTO_RECORDER_FILEPATH", dir.path().join("recording.jsonl"));
        } else {
            cmd.env_remove("MOTO_ENABLE_RECORDING");
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", server.display()));
        let mut moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            port,
            dir,
            recording,
        };
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            // Exit first: if the port was taken, whoever took it may answer.
            if let Ok(Some(_)) = moto.child.try_wait() {
                return Err(fs::read_to_string(&log_path).unwrap_or_default());
            }
            if http(port, "GET", "/moto-api/").is_ok() {
                // Still ours? A server that lost the port exits just after.
                thread::sleep(Duration::from_millis(50));
                if let Ok(Some(_)) = moto.child.try_wait() {
                    return Err(fs::read_to_string(&log_path).unwrap_or_default());
                }
                break;
            }
            if Instant::now() >= deadline {
                // Drop kills the server.
                let log = fs::read_to_string(&log_path).unwrap_or_default();
                drop(moto);
                panic!("moto_server on port {port} did not answer within {READY_TIMEOUT:?}; log:\n{log}");
            }
            thread::sleep(Duration::from_millis(100));
        }
        moto.write_aws_files();
        Ok(moto)
    }

    /// Adds an assume-role profile into `account` (12 digits) to the config
    /// file, for tests that need more accounts than [`PROFILES`].
    pub fn add_profile(&self, profile: &str, account: &str) {
        use std::io::Write;
        let mut file = fs::OpenOptions::new()
            .append(true)
            .open(self.config_file())
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", self.config_file().display()));
        write!(
            file,
            "\n[profile {profile}]\nrole_arn = arn:aws:iam::{account}:role/runbook-moto\n\
             source_profile = base\nregion = {REGION}\n"
        )
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", self.config_file().display()));
    }

    fn write_aws_files(&self) {
        let credentials = format!(
            "[base]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n"
        );
        let mut config = format!("[profile base]\nregion = {REGION}\n");
        for (profile, account) in PROFILES {
            config.push_str(&format!(
                "\n[profile {profile}]\nrole_arn = arn:aws:iam::{account}:role/runbook-moto\n\
                 source_profile = base\nregion = {REGION}\n"
            ));
        }
        for (path, text) in [
            (self.config_file(), config),
            (self.credentials_file(), credentials),
        ] {
            fs::write(&path, text)
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        }
    }

    fn post(&self, path: &str) -> String {
        match http(self.port, "POST", path) {
            Ok((status, body)) if (200..300).contains(&status) => body,
            Ok((status, body)) => panic!("moto POST {path} answered HTTP {status}: {body}"),
            Err(e) => panic!("moto POST {path} on port {} failed: {e}", self.port),
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        // Our own child only; errors mean it is already gone.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How to run the server: `$RUNBOOK_MOTO_SERVER` as is, or the venv's
/// moto through `scripts/moto_server.py`, which serializes the recorder's
/// writes (moto's own can tear a long line when requests overlap).
fn server_command(server: &Path) -> Command {
    if std::env::var_os("RUNBOOK_MOTO_SERVER").is_some_and(|p| !p.is_empty()) {
        return Command::new(server);
    }
    let root = workspace_root();
    let mut cmd = Command::new(root.join(".venv").join("bin").join("python"));
    cmd.arg(root.join("scripts").join("moto_server.py"));
    cmd
}

/// `$RUNBOOK_MOTO_SERVER`, else `<workspace root>/.venv/bin/moto_server`.
pub fn server_path() -> PathBuf {
    if let Some(path) = std::env::var_os("RUNBOOK_MOTO_SERVER").filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    workspace_root()
        .join(".venv")
        .join("bin")
        .join("moto_server")
}

/// The workspace root: this crate lives in `<root>/crates/testkit`.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("..")
        .canonicalize()
        .unwrap_or_else(|e| panic!("cannot resolve the workspace root: {e}"))
}

fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap_or_else(|e| panic!("cannot bind a loopback port: {e}"));
    match listener.local_addr() {
        Ok(addr) => addr.port(),
        Err(e) => panic!("cannot read the bound port: {e}"),
    }
}

/// A minimal HTTP/1.1 exchange with `Connection: close`; returns the status
/// and body. Enough for moto-api calls, which answer small bodies.
fn http(port: u16, method: &str, path: &str) -> std::io::Result<(u16, String)> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\n\
         Connection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("not an HTTP response: {head:?}"),
            )
        })?;
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_string()
    };
    Ok((status, body))
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// One recorded AWS request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RecordedCall {
    /// Signing name from the credential scope, e.g. `cloudformation`, `sts`.
    pub service: String,
    /// Operation, e.g. `CreateStack`; for REST-style services without one,
    /// the HTTP method and path.
    pub action: String,
    /// HTTP method.
    pub method: String,
}

impl RecordedCall {
    /// Parses one recorder entry; `None` for moto-api calls.
    fn from_entry(entry: &serde_json::Value) -> Option<(RecordedCall, String)> {
        let url = entry.get("url").and_then(|v| v.as_str()).unwrap_or("");
        let path = path_of(url);
        if path.starts_with("/moto-api") {
            return None;
        }
        let method = entry
            .get("method")
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_ascii_uppercase();
        let header = |name: &str| -> Option<String> {
            entry
                .get("headers")
                .and_then(|h| h.as_object())?
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .and_then(|(_, v)| v.as_str().map(str::to_string))
        };
        let raw_body = entry.get("body").and_then(|v| v.as_str()).unwrap_or("");
        let encoded = entry
            .get("body_encoded")
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        let body = if encoded {
            String::from_utf8_lossy(&base64_decode(raw_body)).into_owned()
        } else {
            raw_body.to_string()
        };

        let rpc = rpc_v2_path(path);
        let service = header("authorization")
            .and_then(|auth| scope_service(&auth))
            .or_else(|| rpc.as_ref().map(|(s, _)| s.to_ascii_lowercase()))
            .unwrap_or_else(|| "unknown".into());
        let action = form_value(&body, "Action")
            .or_else(|| {
                url.split_once('?')
                    .and_then(|(_, q)| form_value(q, "Action"))
            })
            .or_else(|| {
                header("x-amz-target")
                    .and_then(|t| t.rsplit('.').next().map(str::to_string))
                    .filter(|a| !a.is_empty())
            })
            .or_else(|| rpc.map(|(_, op)| op))
            .unwrap_or_else(|| format!("{method} {path}"));
        Some((
            RecordedCall {
                service,
                action,
                method,
            },
            body,
        ))
    }

    /// Whether the call may change state. Unknown operations count as
    /// mutating, so a "made no changes" assertion errs on the strict side.
    pub fn is_mutating(&self) -> bool {
        const READ_ONLY_PREFIXES: &[&str] = &[
            "Describe",
            "Get",
            "List",
            "Validate",
            "Estimate",
            "Detect",
            "BatchDescribe",
            "BatchGet",
            "Lookup",
            "Search",
            "Head",
        ];
        const READ_ONLY: &[&str] = &[
            "AssumeRole",
            "AssumeRoleWithWebIdentity",
            "AssumeRoleWithSAML",
            "AssumeRoot",
            "DecodeAuthorizationMessage",
            "GetCallerIdentity",
            "GetSessionToken",
        ];
        if READ_ONLY.contains(&self.action.as_str())
            || READ_ONLY_PREFIXES
                .iter()
                .any(|p| starts_with_word(&self.action, p))
        {
            return false;
        }
        // REST calls without an operation name: judge by the method.
        if self.action.contains(' ') {
            return !matches!(self.method.as_str(), "GET" | "HEAD" | "OPTIONS");
        }
        true
    }
}

/// `prefix` not followed by a lower-case letter, so that `Get`
/// matches `GetTemplate` but not `Getaway`.
fn starts_with_word(action: &str, prefix: &str) -> bool {
    action
        .strip_prefix(prefix)
        .is_some_and(|rest| !rest.starts_with(|c: char| c.is_ascii_lowercase()))
}

fn path_of(url: &str) -> &str {
    let without_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = without_scheme
        .find('/')
        .map_or("/", |i| &without_scheme[i..]);
    path.split('?').next().unwrap_or(path)
}

/// `/service/{service}/operation/{operation}` (Smithy RPC v2 CBOR).
fn rpc_v2_path(path: &str) -> Option<(String, String)> {
    let mut parts = path.trim_start_matches('/').split('/');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("service"), Some(service), Some("operation"), Some(op)) => {
            Some((service.to_string(), op.to_string()))
        }
        _ => None,
    }
}

/// The service of a SigV4 `Credential=KEY/DATE/REGION/SERVICE/aws4_request`.
fn scope_service(authorization: &str) -> Option<String> {
    let scope = authorization.split("Credential=").nth(1)?;
    let scope = scope.split([',', ' ']).next()?;
    let parts: Vec<&str> = scope.split('/').collect();
    (parts.len() >= 5).then(|| parts[parts.len() - 2].to_string())
}

/// The value of `key` in a form-encoded string (names of actions need no
/// percent-decoding).
fn form_value(form: &str, key: &str) -> Option<String> {
    form.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key && !v.is_empty()).then(|| v.to_string())
    })
}

/// Standard base64 (moto stores request bodies that way); bad input yields
/// what could be decoded.
fn base64_decode(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for byte in text.bytes() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => continue,
        };
        acc = (acc << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trip() {
        assert_eq!(
            base64_decode("QWN0aW9uPUNyZWF0ZVN0YWNr"),
            b"Action=CreateStack"
        );
        assert_eq!(base64_decode("YQ=="), b"a");
        assert_eq!(base64_decode("YWI="), b"ab");
    }

    #[test]
    fn parses_query_protocol_entry() {
        let entry = serde_json::json!({
            "headers": {
                "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/cloudformation/aws4_request, SignedHeaders=host, Signature=abc",
                "Content-Type": "application/x-www-form-urlencoded"
            },
            "method": "POST",
            "url": "http://127.0.0.1:5000/",
            "body": "QWN0aW9uPUNyZWF0ZVN0YWNrJlZlcnNpb249MjAxMC0wNS0xNQ==",
            "body_encoded": true
        });
        let call = RecordedCall::from_entry(&entry).expect("an AWS call").0;
        assert_eq!(call.service, "cloudformation");
        assert_eq!(call.action, "CreateStack");
        assert!(call.is_mutating());
    }

    #[test]
    fn parses_json_protocol_and_rest_entries() {
        let json = serde_json::json!({
            "headers": {"X-Amz-Target": "AmazonSSM.GetParameter",
                        "authorization": "AWS4-HMAC-SHA256 Credential=a/b/us-east-1/ssm/aws4_request"},
            "method": "POST", "url": "http://h/", "body": "{}", "body_encoded": false
        });
        let call = RecordedCall::from_entry(&json).expect("an AWS call").0;
        assert_eq!(
            (call.service.as_str(), call.action.as_str()),
            ("ssm", "GetParameter")
        );
        assert!(!call.is_mutating());

        let rest = serde_json::json!({
            "headers": {"Authorization": "AWS4-HMAC-SHA256 Credential=a/b/us-east-1/s3/aws4_request"},
            "method": "PUT", "url": "http://h/bucket?x=1", "body": "", "body_encoded": false
        });
        let call = RecordedCall::from_entry(&rest).expect("an AWS call").0;
        assert_eq!(call.action, "PUT /bucket");
        assert!(call.is_mutating());

        let api =
            serde_json::json!({"headers": {}, "method": "POST", "url": "http://h/moto-api/reset"});
        assert!(RecordedCall::from_entry(&api).is_none());
    }

    #[test]
    fn classifies_mutations() {
        let call = |action: &str| RecordedCall {
            service: "x".into(),
            action: action.into(),
            method: "POST".into(),
        };
        for read in [
            "DescribeStacks",
            "GetTemplate",
            "ListExports",
            "ValidateTemplate",
            "EstimateTemplateCost",
            "GetCallerIdentity",
            "AssumeRole",
        ] {
            assert!(!call(read).is_mutating(), "{read}");
        }
        for write in [
            "CreateStack",
            "UpdateStack",
            "DeleteStack",
            "ExecuteChangeSet",
            "PutParameter",
            "SetStackPolicy",
            "TagResource",
            "UntagResource",
            "CancelUpdateStack",
            "ContinueUpdateRollback",
            "SignalResource",
            "UpdateTerminationProtection",
            "Getaway",
        ] {
            assert!(call(write).is_mutating(), "{write}");
        }
    }

    #[test]
    fn dechunks() {
        assert_eq!(dechunk("3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"), "abcde");
    }
}
