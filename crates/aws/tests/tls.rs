//! The pool's HTTPS client (rustls with ring, the system's root
//! certificates) against moto behind a TLS front (tls_front.py): the other
//! tests talk plain HTTP to moto, AWS is only ever HTTPS. Fails if the venv
//! is missing (scripts/venv.sh).
//!
//! One test in this binary: it points SSL_CERT_FILE (read once per process
//! by rustls-native-certs) at the front's throwaway authority.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use runbook_aws::{ClientPool, PoolSettings, Target};
use runbook_testkit::{workspace_root, Moto};

struct Front(Child);

impl Drop for Front {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts tls_front.py in front of moto; its authority is `dir/ca.pem`.
fn front(moto: &Moto) -> (Front, u16) {
    let root = workspace_root();
    let mut child = Command::new(root.join(".venv").join("bin").join("python"))
        .arg(root.join("crates/aws/tests/tls_front.py"))
        .arg(moto.port().to_string())
        .arg(moto.dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start .venv/bin/python crates/aws/tests/tls_front.py (run scripts/venv.sh)");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read the front's port");
    let front = Front(child);
    let port = line.trim().parse().unwrap_or_else(|_| {
        panic!("tls_front.py printed {line:?}, not a port");
    });
    (front, port)
}

fn pool(moto: &Moto, endpoint: &str) -> ClientPool {
    let env = moto
        .env_overrides()
        .into_iter()
        .map(|(k, v)| match k.as_str() {
            "AWS_ENDPOINT_URL" => (k, endpoint.to_string()),
            _ => (k, v),
        })
        .collect();
    ClientPool::new(PoolSettings {
        max_attempts: 1,
        env_overrides: Some(env),
        connect_timeout: Duration::from_secs(5),
        operation_attempt_timeout: Duration::from_secs(30),
        operation_timeout: Duration::from_secs(60),
    })
}

#[test]
fn https_verifies_the_server_against_the_system_roots() {
    let moto = Moto::start();
    let (_front, port) = front(&moto);
    std::env::set_var("SSL_CERT_FILE", moto.dir().join("ca.pem"));
    let runtime = tokio::runtime::Runtime::new().expect("runtime");

    // The certificate names localhost: AssumeRole and the account over TLS.
    let good = pool(&moto, &format!("https://localhost:{port}"));
    let target = Target::profile("nonprod");
    let account = runtime
        .block_on(good.preflight(std::slice::from_ref(&target)))
        .remove(0)
        .1
        .unwrap_or_else(|e| panic!("preflight over https: {e}"));
    assert_eq!(account, "222222222222");
    let identity = runtime
        .block_on(good.identity(&target))
        .expect("GetCallerIdentity over https");
    assert_eq!(identity.account, "222222222222");

    // Not for 127.0.0.1: the client must refuse it.
    let bad = pool(&moto, &format!("https://127.0.0.1:{port}"));
    let err = runtime
        .block_on(bad.preflight(std::slice::from_ref(&target)))
        .remove(0)
        .1
        .expect_err("a certificate for another name was accepted");
    assert!(err.to_string().contains("certificate"), "{err}");
}
