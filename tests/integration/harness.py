"""Test harness for integration tests: starts the real `mamori` binary and talks to it with real
clients (util-linux `logger`, `curl`, the `mamori search` CLI). Loopback only, ephemeral ports.

Authentication: Daemon.start() makes an admin API token with the real CLI (`mamori token create`)
before starting the daemon (unless Daemon(admin_token=False)), and request() sends it. Pass
token=None to send no Authorization header, or token="..." to send another (make one with
d.create_token(role, name)).

Processes are only ever ended by the PID this harness started.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse

MAMORI = os.environ.get("MAMORI_BIN", "")
CORPORA = os.environ.get("MAMORI_CORPORA", "")
_BOUND = re.compile(r"listening: (\S+) (udp|tcp|tls) (\S+):(\d+)")
_HTTP = re.compile(r"api: listening on (\S+):(\d+)")


DEFAULT = object()  # request(token=DEFAULT): the harness's admin token


def wait_for(pred, timeout=20.0, interval=0.05, what="condition"):
    """Polls pred() until it returns a truthy value; raises AssertionError after timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


class Daemon:
    """A running `mamori serve` on ephemeral loopback ports with its own data directory."""

    def __init__(self, data_dir=None, config_text=None, extra_args=(), https_ca=None,
                 https_client=None, admin_token=True):
        """https_ca: the API serves HTTPS (http.tls in config_text); request() then uses
        https:// and trusts this CA file (curl --cacert). https_client: (cert, key) PEM files
        that request() presents when the API requires client certificates (curl --cert/--key).
        admin_token: make an admin API token before starting (request() sends it)."""
        self.own_dir = data_dir is None
        self.https_ca = https_ca
        self.https_client = https_client
        self.want_admin_token = admin_token
        self.token = None  # the admin token request() sends by default
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="mamori-it-")
        self.config_text = config_text
        self.extra_args = list(extra_args)
        self.proc = None
        self.log_path = None
        self.ports = {}
        self.http_port = None

    def create_token(self, role, name=None):
        """Makes an API token for this data directory with `mamori token create`; returns it."""
        name = name or f"it-{role}-{time.time_ns()}"
        out = subprocess.run([MAMORI, "token", "create", "--data-dir", self.data_dir,
                              "--role", role, "--name", name],
                             capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            raise AssertionError(f"mamori token create exited {out.returncode}: {out.stderr}")
        return out.stdout.strip()

    def revoke_token(self, name):
        out = subprocess.run([MAMORI, "token", "revoke", name, "--data-dir", self.data_dir],
                             capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            raise AssertionError(f"mamori token revoke exited {out.returncode}: {out.stderr}")

    def start(self):
        if self.want_admin_token and self.token is None:
            self.token = self.create_token("admin", f"it-admin-{time.time_ns()}")
        args = [MAMORI, "serve", "--data-dir", self.data_dir,
                "--syslog-udp", "127.0.0.1:0", "--syslog-tcp", "127.0.0.1:0",
                "--http", "127.0.0.1:0"]
        if self.config_text is not None:
            cfg = os.path.join(self.data_dir, "test-config.yaml")
            with open(cfg, "w") as f:
                f.write(self.config_text)
            args += ["--config", cfg]
        args += self.extra_args
        self.log_path = os.path.join(self.data_dir, f"daemon-{time.time_ns()}.log")
        self.log_file = open(self.log_path, "w")
        self.proc = subprocess.Popen(args, stdout=self.log_file, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"mamori exited with {self.proc.returncode}:\n{self.log()}")
            text = self.log()
            ports = {m.group(1): (m.group(2), int(m.group(4))) for m in _BOUND.finditer(text)}
            http = _HTTP.search(text)
            if http and ports and "serving" in text:
                self.ports = ports
                self.http_port = int(http.group(2))
                return True
            return False

        wait_for(ready, timeout=30, what="mamori to start")
        return self

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def port(self, listener):
        return self.ports[listener][1]

    def stop(self, sig=signal.SIGTERM, timeout=60):
        """Sends sig to the PID we started and waits; returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self.log_file.close()
        self.proc = None
        return code

    def cleanup(self):
        self.stop()
        if self.own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    # --- clients -------------------------------------------------------------------------
    def base_url(self):
        scheme = "https" if self.https_ca else "http"
        return f"{scheme}://127.0.0.1:{self.http_port}"

    def request(self, method, path, params=None, body=None, headers=(), expect_status=None,
                curl_args=(), token=DEFAULT):
        """One HTTP request with curl; returns (status, body text). Every API call of every
        integration test goes through here, so that what all requests need (credentials,
        TLS options) is added in one place. body: str, bytes or a JSON-serializable object.
        token: DEFAULT sends the harness's admin token, None no Authorization header, a string
        that token."""
        url = self.base_url() + path
        if params:
            url += "?" + urllib.parse.urlencode(params)
        args = ["curl", "-sS", "-X", method, "-o", "-", "-w", "\n%{http_code}"]
        if self.https_ca:
            args += ["--cacert", self.https_ca]
        if self.https_client:
            args += ["--cert", self.https_client[0], "--key", self.https_client[1]]
        if token is DEFAULT:
            token = self.token
        if token is not None:
            args += ["-H", f"Authorization: Bearer {token}"]
        for h in headers:
            args += ["-H", h]
        data = None
        if body is not None:
            if isinstance(body, (bytes, str)):
                data = body.encode() if isinstance(body, str) else body
            else:
                data = json.dumps(body).encode()
                args += ["-H", "Content-Type: application/json"]
            args += ["--data-binary", "@-"]
        args += list(curl_args) + [url]
        out = subprocess.run(args, input=data, capture_output=True, timeout=60)
        if out.returncode != 0:
            raise AssertionError(f"curl {method} {url} failed: {out.stderr.decode(errors='replace')}")
        text = out.stdout.decode(errors="replace")
        text, _, status = text.rpartition("\n")
        status = int(status)
        if expect_status is not None and status != expect_status:
            raise AssertionError(f"{method} {url}: status {status}, body {text}")
        return status, text

    def curl(self, path, params=None, expect_status=None, token=DEFAULT):
        return self.request("GET", path, params, expect_status=expect_status, token=token)

    def post(self, path, body=None, params=None, expect_status=None, token=DEFAULT):
        return self.request("POST", path, params, body=body, expect_status=expect_status,
                            token=token)

    def metrics(self):
        _, body = self.curl("/metrics", expect_status=200)
        return parse_metrics(body)

    def metric(self, name, **labels):
        return metric_value(self.metrics(), name, **labels)

    def api_events(self, **params):
        _, body = self.curl("/api/v1/events", params, expect_status=200)
        return json.loads(body)

    def search_cli(self, *args):
        out = subprocess.run([MAMORI, "search", "--data-dir", self.data_dir, *args],
                             capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            raise AssertionError(f"mamori search {args} exited {out.returncode}: {out.stderr}")
        return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]

    def logger(self, *args, transport="udp", message):
        """Sends one message with util-linux logger to this daemon."""
        listener = "syslog-udp" if transport == "udp" else "syslog-tcp"
        cmd = ["logger", f"--{transport}", "--server", "127.0.0.1",
               "--port", str(self.port(listener)), *args, "--", message]
        env = dict(os.environ, TZ="UTC")  # RFC 3164 timestamps carry no zone
        subprocess.run(cmd, check=True, timeout=30, env=env)

    def send_tcp(self, data: bytes):
        with socket.create_connection(("127.0.0.1", self.port("syslog-tcp")), timeout=30) as s:
            s.sendall(data)

    def send_udp(self, data: bytes):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(data, ("127.0.0.1", self.port("syslog-udp")))


_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """Prometheus text format → list of (name, {labels}, value)."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if not m:
            continue
        labels = dict(_LABEL.findall(m.group(3) or ""))
        out.append((m.group(1), labels, float(m.group(4))))
    return out


def metric_value(samples, name, **labels):
    """Sum of the samples of `name` whose labels include `labels`."""
    total = 0.0
    found = False
    for n, l, v in samples:
        if n == name and all(l.get(k) == str(val) for k, val in labels.items()):
            total += v
            found = True
    if not found:
        raise AssertionError(f"metric {name}{labels} not exported")
    return total
