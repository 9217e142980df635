"""Shared helpers for bench/compare.py and bench/scale.py (stdlib only).

- MotoServer: a private moto_server with the request recorder on, on a free
  loopback port, with its own AWS config/credentials files. It deliberately
  does not use scripts/moto.sh or .moto/: that server may be someone else's
  (moto.sh reuses a running one and `stop` would kill it).
- parse_recording(): moto recorder lines -> Call(service, action, method,
  account), the same rules as crates/testkit (RecordedCall::from_entry).
- run_timed(): wall time and peak RSS of a command (GNU time -v when present,
  else getrusage(RUSAGE_CHILDREN)).
"""

import base64
import collections
import json
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, ".venv")
RESULTS = os.path.join(ROOT, "bench-results")
GNU_TIME = "/usr/bin/time"

# The static keys of profile `base`; moto maps them to account 123456789012.
BASE_CREDENTIALS = "[base]\naws_access_key_id = testing\naws_secret_access_key = testing\n"


def aws_config(profiles, region="us-east-1"):
    """AWS config text: `base` plus one assume-role profile per (name, account)."""
    out = ["[profile base]", "region = %s" % region, ""]
    for name, account in profiles:
        out += [
            "[profile %s]" % name,
            "role_arn = arn:aws:iam::%s:role/runbook-bench" % account,
            "source_profile = base",
            "region = %s" % region,
            "",
        ]
    return "\n".join(out)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class MotoServer:
    """moto_server with MOTO_ENABLE_RECORDING=True in a private directory."""

    def __init__(self, workdir):
        self.dir = workdir
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.recording = os.path.join(self.dir, "recording.jsonl")
        self.log = os.path.join(self.dir, "moto-server.log")
        self.proc = None

    def start(self):
        server = os.path.join(VENV, "bin", "moto_server")
        if not os.access(server, os.X_OK):
            sys.exit("bench: %s not found; run scripts/venv.sh" % server)
        # moto_server, with the recorder's writes serialized (see the file).
        launcher = [os.path.join(VENV, "bin", "python"),
                    os.path.join(ROOT, "scripts", "moto_server.py")]
        env = dict(os.environ)
        env["MOTO_ENABLE_RECORDING"] = "True"
        env["MOTO_RECORDER_FILEPATH"] = self.recording
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                launcher + ["-H", "127.0.0.1", "-p", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                start_new_session=True,
            )
        for _ in range(300):
            if self.proc.poll() is not None:
                break
            try:
                urllib.request.urlopen(self.url + "/moto-api/", timeout=1).read()
                return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        sys.exit("bench: moto_server did not start; see %s" % self.log)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def rss_kib(self):
        """Current RSS of the moto server process (KiB), for the notes."""
        try:
            with open("/proc/%d/status" % self.proc.pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except (OSError, AttributeError):
            pass
        return None

    def cpu_seconds(self):
        """CPU time (user + system) the moto server has used so far."""
        try:
            with open("/proc/%d/stat" % self.proc.pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, AttributeError, IndexError, ValueError):
            return None

    def _post(self, path):
        req = urllib.request.Request(self.url + path, data=b"", method="POST")
        return urllib.request.urlopen(req, timeout=60).read()

    def reset(self):
        """Wipe all emulated state (all accounts, all regions)."""
        self._post("/moto-api/reset")

    def clear_recording(self):
        # moto 5.2.5 names it reset-recording (there is no clear-recording).
        self._post("/moto-api/recorder/reset-recording")

    def start_recording(self):
        self._post("/moto-api/recorder/start-recording")

    def stop_recording(self):
        self._post("/moto-api/recorder/stop-recording")

    def download_recording(self):
        with urllib.request.urlopen(self.url + "/moto-api/recorder/download-recording", timeout=120) as r:
            return r.read().decode("utf-8", "replace")

    def calls(self):
        return parse_recording(self.download_recording())

    def env(self, config_file, credentials_file):
        """Environment for a tool run against this server."""
        env = dict(os.environ)
        for k in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID",
                  "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION",
                  "AWS_DEFAULT_REGION"):
            env.pop(k, None)
        for k in list(env):
            if k.startswith("AWS_ENDPOINT_URL_"):
                env.pop(k)
        env.update({
            "AWS_ENDPOINT_URL": self.url,
            "AWS_CONFIG_FILE": config_file,
            "AWS_SHARED_CREDENTIALS_FILE": credentials_file,
            "AWS_EC2_METADATA_DISABLED": "true",
        })
        return env


# --- recorder parsing -------------------------------------------------------

Call = collections.namedtuple("Call", "service action method key")

READ_ONLY_PREFIXES = ("Describe", "Get", "List", "Validate", "Estimate", "Detect",
                      "BatchDescribe", "BatchGet", "Lookup", "Search", "Head")
READ_ONLY = {"AssumeRole", "AssumeRoleWithWebIdentity", "AssumeRoleWithSAML", "AssumeRoot",
             "DecodeAuthorizationMessage", "GetCallerIdentity", "GetSessionToken"}


def is_mutating(call):
    """Same rule as runbook_testkit::RecordedCall::is_mutating: unknown = mutating."""
    a = call.action
    if a in READ_ONLY:
        return False
    for p in READ_ONLY_PREFIXES:
        if a.startswith(p) and not a[len(p):len(p) + 1].islower():
            return False
    if " " in a:
        return call.method not in ("GET", "HEAD", "OPTIONS")
    return True


def _form_value(form, key):
    for pair in form.split("&"):
        k, _, v = pair.partition("=")
        if k == key and v:
            return urllib.parse.unquote_plus(v)
    return None


def parse_recording(text):
    calls = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            # A torn line (see scripts/moto_server.py): count it, visibly.
            calls.append(Call("unparsed", "UnparsedRecorderLine", "POST", None))
            continue
        url = entry.get("url", "")
        parsed = urllib.parse.urlsplit(url)
        path = parsed.path or "/"
        if path.startswith("/moto-api"):
            continue
        method = (entry.get("method") or "").upper()
        headers = {k.lower(): v for k, v in (entry.get("headers") or {}).items()}
        body = entry.get("body") or ""
        if entry.get("body_encoded"):
            body = base64.b64decode(body).decode("utf-8", "replace")
        rpc = re.match(r"^/service/([^/]+)/operation/([^/]+)", path)
        auth = headers.get("authorization", "")
        m = re.search(r"Credential=([^/,\s]+)/[^/]+/[^/]+/([^/]+)/aws4_request", auth)
        service = m.group(2) if m else (rpc.group(1).lower() if rpc else "unknown")
        key = m.group(1) if m else None
        action = (_form_value(body, "Action") if "=" in body else None) \
            or _form_value(parsed.query, "Action") \
            or ((headers.get("x-amz-target") or "").rsplit(".", 1)[-1] or None) \
            or (rpc.group(2) if rpc else None) \
            or "%s %s" % (method, path)
        calls.append(Call(service, action, method, key))
    return calls


def summarize_calls(calls):
    by_action = collections.Counter("%s:%s" % (c.service, c.action) for c in calls)
    mutating = collections.Counter("%s:%s" % (c.service, c.action) for c in calls if is_mutating(c))
    return {
        "total": len(calls),
        "by_action": dict(sorted(by_action.items())),
        "mutating": dict(sorted(mutating.items())),
        "mutating_total": sum(mutating.values()),
    }


# --- timing -----------------------------------------------------------------

def run_timed(argv, env=None, cwd=None, timeout=None):
    """Runs argv; returns dict(rc, wall, max_rss_kib, stdout, stderr)."""
    use_gnu = os.access(GNU_TIME, os.X_OK)
    tfile = None
    cmd = list(argv)
    if use_gnu:
        fd, tfile = tempfile.mkstemp(prefix="bench-time-")
        os.close(fd)
        cmd = [GNU_TIME, "-v", "-o", tfile] + cmd
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    wall = time.perf_counter() - t0
    rss = None
    user = sys_ = None
    if tfile:
        with open(tfile) as f:
            text = f.read()
        os.unlink(tfile)
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
        rss = int(m.group(1)) if m else None
        m = re.search(r"User time \(seconds\): ([\d.]+)", text)
        user = float(m.group(1)) if m else None
        m = re.search(r"System time \(seconds\): ([\d.]+)", text)
        sys_ = float(m.group(1)) if m else None
    if rss is None:
        # Only exact if this process has not waited for a bigger child before.
        after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        rss = after if after > before else None
    return {
        "rc": p.returncode,
        "wall": wall,
        "max_rss_kib": rss,
        "user": user,
        "sys": sys_,
        "stdout": p.stdout.decode("utf-8", "replace"),
        "stderr": p.stderr.decode("utf-8", "replace"),
    }


def machine_info():
    info = {"nproc": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    info["mem_total_mib"] = int(line.split()[1]) // 1024
    except OSError:
        pass
    info["loadavg_start"] = os.getloadavg()
    try:
        info["git_head"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                          capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "crates", "Cargo.lock"],
                               cwd=ROOT, capture_output=True, text=True).stdout.splitlines()
        info["git_dirty_files"] = [line[3:] for line in dirty]
    except OSError:
        pass
    return info


def median(xs):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def runbook_binary():
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
    return os.path.join(target, "release", "runbook")


def snapshot_runbook(work, src=None):
    """Copies the runbook binary (default target/release/runbook) into the
    run's directory and returns the copy: a build started by someone else
    during the run cannot swap the binary under the benchmark."""
    import hashlib
    src = src or runbook_binary()
    if not os.access(src, os.X_OK):
        sys.exit("bench: %s missing; run cargo build --release -p runbook-cli" % src)
    dst = os.path.join(work, "runbook")
    shutil.copy2(src, dst)
    with open(dst, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    return dst, {
        "built": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(os.path.getmtime(src))),
        "sha256": digest[:16],
        "size_bytes": os.path.getsize(dst),
    }


def write_json(name, data):
    os.makedirs(RESULTS, exist_ok=True)
    path = os.path.join(RESULTS, name)
    with open(path, "w") as f:
        json.dump(data, f, indent=2, sort_keys=False)
        f.write("\n")
    return path


def timestamp():
    return time.strftime("%Y%m%d-%H%M%S")


def rmtree(path):
    shutil.rmtree(path, ignore_errors=True)
