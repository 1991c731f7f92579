"""Notifications through the real daemon and real receivers (loopback, ephemeral ports):

- webhook: a Python http.server receives the incident JSON with a valid HMAC-SHA256 signature
  and the notification id header; then the receiver is stopped, incidents are raised, mamori is
  stopped (SIGTERM) and restarted on the same data directory, the receiver comes back on the SAME
  port, and every notification arrives exactly once (ids unique, count equal); the
  sent/failures/outbox_depth metrics move as they should, and `mamori notifications list` shows
  the pending entries while the receiver is down;
- syslog: an RFC 5424 message, octet-counted over TCP, to a Python socket receiver;
- smtp: a mail to a Python SMTP server (stdlib smtpd), with the incident in a readable body;
- TLS: an https webhook verified with ca_file (an untrusted certificate fails and stays pending)
  and SMTP with STARTTLS and AUTH PLAIN (password from a file) against a minimal Python server;
- routing: a channel that wants only critical incidents gets nothing for a high one;
- an HTTP 503 is retried with the same notification id; updates of an incident within the
  throttle window are counted, not sent, and the first update after it is sent.

Retry delays are configured short (100 ms to 500 ms) so that the test stays fast."""
import base64
import hashlib
import hmac
import json
import os
import re
import socket
import socketserver
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import asyncore
    import smtpd

sys.path.insert(0, os.path.dirname(__file__))
from harness import MAMORI, Daemon, wait_for  # noqa: E402
from test_detection import DEFAULT_PACK  # noqa: E402
from test_incidents import brute_force_lines as _lines  # noqa: E402


def brute_force_lines(ip=None):
    """The corpus' brute-force lines (one source address), optionally from another address."""
    data = _lines()
    return data if ip is None else data.replace(b"172.18.1.100", ip.encode())

SECRET = "correct horse battery staple"


class WebhookReceiver:
    """A real HTTP server (http.server) that records every POST and answers 200."""

    def __init__(self, port=0, fail_first=0):
        self.received = []  # answered 200
        self.refused = []   # answered 503 (the first fail_first requests)
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                with receiver.lock:
                    refuse = len(receiver.refused) < fail_first
                    (receiver.refused if refuse else receiver.received).append(
                        (self.path, dict(self.headers.items()), body))
                self.send_response(503 if refuse else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    def bodies(self):
        with self.lock:
            return list(self.received)


class SyslogTcpReceiver:
    """Accepts TCP connections and splits RFC 6587 octet-counted frames."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.frames = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.accept, daemon=True)
        self.thread.start()

    def accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.read, args=(conn,), daemon=True).start()

    def read(self, conn):
        buf = b""
        with conn:
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                buf += data
                while True:
                    m = re.match(rb"(\d+) ", buf)
                    if not m or len(buf) < m.end() + int(m.group(1)):
                        break
                    n = int(m.group(1))
                    with self.lock:
                        self.frames.append(buf[m.end():m.end() + n].decode())
                    buf = buf[m.end() + n:]

    def stop(self):
        self.sock.close()

    def got(self):
        with self.lock:
            return list(self.frames)


class SmtpReceiver:
    """The stdlib SMTP server (smtpd + asyncore) on its own socket map, in a thread."""

    def __init__(self):
        self.messages = []
        self.map = {}
        receiver = self

        class Sink(smtpd.SMTPServer):
            def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):
                receiver.messages.append((mailfrom, rcpttos, data))

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            self.server = Sink(("127.0.0.1", 0), None, decode_data=False, map=self.map)
        self.port = self.server.socket.getsockname()[1]
        self.running = True
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while self.running:
            asyncore.loop(timeout=0.05, count=1, map=self.map)

    def stop(self):
        self.running = False
        self.thread.join()
        self.server.close()


class StartTlsSmtpReceiver:
    """A minimal SMTP server (socketserver + ssl) that offers STARTTLS and AUTH PLAIN, refuses
    AUTH before TLS, checks the credentials and records (auth, mail from, rcpt to, data)."""

    def __init__(self, cert, key, user, password):
        self.messages = []
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        receiver = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                tls, auth, mail, rcpts = False, None, None, []
                self.wfile.write(b"220 test ESMTP\r\n")
                while True:
                    line = self.rfile.readline(4096).decode().rstrip("\r\n")
                    if not line:
                        return
                    verb = line.split(" ", 1)[0].upper()
                    if verb == "EHLO":
                        self.wfile.write(b"250-test\r\n" + (b"250 AUTH PLAIN\r\n" if tls else
                                                             b"250 STARTTLS\r\n"))
                    elif verb == "STARTTLS":
                        self.wfile.write(b"220 go ahead\r\n")
                        self.wfile.flush()
                        conn = ctx.wrap_socket(self.connection, server_side=True)
                        self.connection = conn
                        self.rfile = conn.makefile("rb")
                        self.wfile = conn.makefile("wb", buffering=0)
                        tls = True
                    elif verb == "AUTH":
                        _, mech, blob = line.split(" ", 2)
                        creds = base64.b64decode(blob).split(b"\0")
                        ok = tls and mech == "PLAIN" and creds[1:] == [user.encode(),
                                                                      password.encode()]
                        auth = creds[1].decode() if ok else None
                        self.wfile.write(b"235 ok\r\n" if ok else b"535 no\r\n")
                    elif verb == "MAIL":
                        mail = line[len("MAIL FROM:"):]
                        self.wfile.write(b"250 ok\r\n")
                    elif verb == "RCPT":
                        rcpts.append(line[len("RCPT TO:"):])
                        self.wfile.write(b"250 ok\r\n")
                    elif verb == "DATA":
                        self.wfile.write(b"354 go\r\n")
                        data = b""
                        while not data.endswith(b"\r\n.\r\n"):
                            chunk = self.rfile.readline(65536)
                            if not chunk:
                                return
                            data += chunk
                        receiver.messages.append((tls, auth, mail, rcpts, data))
                        self.wfile.write(b"250 queued\r\n")
                    elif verb == "QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    else:
                        self.wfile.write(b"500 what\r\n")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def self_signed(directory):
    """A certificate for 127.0.0.1 and localhost, made with the openssl CLI."""
    cert, key = os.path.join(directory, "rx.pem"), os.path.join(directory, "rx.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def config(channels, extra=""):
    return ("notifications:\n"
            "  retry_initial: 100ms\n"
            "  retry_max: 500ms\n"
            "  base_url: http://mamori.example:8514\n" + extra +
            "  channels:\n" + channels)


class NotificationsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mamori-notify-")
        self.daemons, self.receivers = [], []

    def tearDown(self):
        for d in self.daemons:
            d.cleanup()
        for r in self.receivers:
            try:
                r.stop()
            except Exception:  # noqa: BLE001 already stopped
                pass

    def daemon(self, config_text, data_dir=None):
        d = Daemon(data_dir=data_dir, config_text=config_text,
                   extra_args=["--rules", DEFAULT_PACK]).start()
        self.daemons.append(d)
        return d

    def incidents(self, d):
        _, body = d.curl("/api/v1/incidents", {"rule": "ssh-brute-force"}, expect_status=200)
        return json.loads(body)["incidents"]

    def check_webhook(self, path, headers, body):
        self.assertEqual(path, "/hook")
        self.assertEqual(headers.get("Content-Type"), "application/json")
        want = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        self.assertEqual(headers.get("X-Mamori-Signature"), want)
        doc = json.loads(body)
        self.assertEqual(headers.get("X-Mamori-Notification-Id"), doc["id"])
        self.assertRegex(doc["id"], r"^[0-9a-f]{16}-[0-9]+$")
        self.assertEqual(headers.get("X-Mamori-Event"), "incident." + doc["kind"])
        self.assertEqual(doc["kind"], "created")
        inc = doc["incident"]
        self.assertEqual(inc["rule_id"], "ssh-brute-force")
        self.assertEqual(inc["severity"], "high")
        self.assertNotIn("timeline", inc)
        self.assertTrue(inc["evidence_seqs"])
        self.assertEqual(doc["link"], f"http://mamori.example:8514/api/v1/incident?id={inc['id']}")
        return doc

    def test_webhook_survives_receiver_outage_and_restart(self):
        secret_file = os.path.join(self.tmp, "hook.secret")
        with open(secret_file, "w") as f:
            f.write(SECRET + "\n")
        rx = WebhookReceiver()
        self.receivers.append(rx)
        port = rx.port
        cfg = config(f"""    - name: csirt-hook
      type: webhook
      url: http://127.0.0.1:{port}/hook
      secret_file: {secret_file}
      min_severity: high
""")
        d = self.daemon(cfg)
        d.send_tcp(brute_force_lines())
        wait_for(lambda: len(rx.bodies()) == 1, what="the first webhook")
        path, headers, body = rx.bodies()[0]
        first = self.check_webhook(path, headers, body)
        wait_for(lambda: d.metric("mamori_notifications_sent_total", channel="csirt-hook") == 1,
                 what="sent == 1")
        self.assertEqual(d.metric("mamori_notifications_outbox_depth", channel="csirt-hook"), 0)
        self.assertEqual(d.metric("mamori_notifications_failures_total", channel="csirt-hook"), 0)

        # The receiver goes down; three more incidents (three source addresses) are raised.
        rx.stop()
        ips = ["10.9.0.1", "10.9.0.2", "10.9.0.3"]
        for ip in ips:
            d.send_tcp(brute_force_lines(ip))
        wait_for(lambda: len(self.incidents(d)) == 4, what="four incidents")
        wait_for(lambda: d.metric("mamori_notifications_outbox_depth", channel="csirt-hook") == 3,
                 what="three notifications pending")
        wait_for(lambda: d.metric("mamori_notifications_failures_total",
                                  channel="csirt-hook") >= 3, what="failed attempts counted")
        self.assertEqual(d.metric("mamori_notifications_sent_total", channel="csirt-hook"), 1)
        self.assertEqual(d.stop(), 0, d.log())

        # Offline: the three entries are pending in the outbox, with their errors.
        out = subprocess.run([MAMORI, "notifications", "list", "--data-dir", d.data_dir],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        pending = [json.loads(line) for line in out.stdout.splitlines()]
        self.assertEqual([p["state"] for p in pending], ["pending"] * 3, pending)
        self.assertTrue(all(p["attempts"] >= 1 and p["last_error"] for p in pending), pending)

        # Restart on the same data directory, receiver still down: the entries are resumed.
        d2 = self.daemon(cfg, data_dir=d.data_dir)
        self.assertIn("3 pending notifications resumed", d2.log())
        self.assertEqual(d2.metric("mamori_notifications_outbox_depth", channel="csirt-hook"), 3)
        time.sleep(0.5)  # a few more failed attempts while the receiver is down
        # The receiver comes back on the same port: everything arrives, exactly once.
        rx2 = WebhookReceiver(port)
        self.receivers.append(rx2)
        wait_for(lambda: len(rx2.bodies()) == 3, what="three webhooks after the restart")
        wait_for(lambda: d2.metric("mamori_notifications_outbox_depth",
                                   channel="csirt-hook") == 0, what="outbox empty")
        time.sleep(1.0)  # retries would show up as duplicates by now
        got = rx2.bodies()
        self.assertEqual(len(got), 3)
        docs = [self.check_webhook(*g) for g in got]
        ids = [doc["id"] for doc in docs] + [first["id"]]
        self.assertEqual(len(set(ids)), 4, ids)
        # The group key names the rule's group-by ("src_ip=10.9.0.1"): one incident per address.
        self.assertEqual(sorted(doc["incident"]["group_key"].split("=", 1)[1] for doc in docs),
                         ips)
        self.assertEqual(d2.metric("mamori_notifications_sent_total", channel="csirt-hook"), 3)
        self.assertGreater(d2.metric("mamori_notifications_failures_total",
                                     channel="csirt-hook"), 0)
        out = subprocess.run([MAMORI, "notifications", "list", "--data-dir", d2.data_dir],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.strip(), "")

    def test_syslog_smtp_and_routing(self):
        sl = SyslogTcpReceiver()
        mail = SmtpReceiver()
        hook = WebhookReceiver()
        self.receivers += [sl, mail, hook]
        cfg = config(f"""    - name: siem
      type: syslog
      url: tcp://127.0.0.1:{sl.port}
      tags: [policy.6.6, not.this.one]
    - name: csirt-mail
      type: smtp
      url: smtp://127.0.0.1:{mail.port}
      from: mamori@city.example
      to: [csirt@city.example, soc@city.example]
    - name: critical-only
      type: webhook
      url: http://127.0.0.1:{hook.port}/hook
      min_severity: critical
    - name: other-tags
      type: webhook
      url: http://127.0.0.1:{hook.port}/hook
      tags: [policy.9.9]
""")
        d = self.daemon(cfg)
        d.send_tcp(brute_force_lines())
        inc = wait_for(lambda: self.incidents(d), what="the incident")[0]
        wait_for(lambda: sl.got(), what="the syslog message")
        wait_for(lambda: mail.messages, what="the mail")

        line = sl.got()[0]
        m = re.match(r"<(\d+)>1 (\S+) (\S+) mamori - incident \[mamori@32473 ([^\]]*)\] (.*)$",
                     line)
        self.assertIsNotNone(m, line)
        self.assertEqual(int(m.group(1)), 16 * 8 + 3)  # local0, err (high)
        self.assertIn(f'incident="{inc["id"]}"', m.group(4))
        self.assertIn('rule="ssh-brute-force"', m.group(4))
        self.assertIn('kind="created"', m.group(4))
        self.assertTrue(m.group(5).startswith("SSH password brute force: "), m.group(5))

        mailfrom, rcpts, data = mail.messages[0]
        self.assertEqual(mailfrom, "mamori@city.example")
        self.assertEqual(rcpts, ["csirt@city.example", "soc@city.example"])
        text = data.decode()
        self.assertIn(f"Subject: [mamori] HIGH incident {inc['id']} created: "
                      "SSH password brute force", text)
        self.assertIn("Rule:        ssh-brute-force", text)
        self.assertIn("Severity:    high", text)
        self.assertIn(f"Group:       {inc['group_key']}", text)
        self.assertIn(", ".join(str(s) for s in inc["evidence_seqs"][:3]), text)
        self.assertIn(f"http://mamori.example:8514/api/v1/incident?id={inc['id']}", text)

        for ch in ("siem", "csirt-mail"):
            wait_for(lambda ch=ch: d.metric("mamori_notifications_sent_total", channel=ch) == 1,
                     what=f"{ch} sent")
        # Routing: neither the critical-only nor the other-tags channel got the high incident.
        time.sleep(0.3)
        self.assertEqual(hook.bodies(), [])
        for ch in ("critical-only", "other-tags"):
            self.assertEqual(d.metric("mamori_notifications_sent_total", channel=ch), 0)
            self.assertEqual(d.metric("mamori_notifications_outbox_depth", channel=ch), 0)

    def test_https_webhook_and_smtp_starttls_auth(self):
        cert, key = self_signed(self.tmp)
        hook = WebhookReceiver()
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        hook.server.socket = ctx.wrap_socket(hook.server.socket, server_side=True)
        mail = StartTlsSmtpReceiver(cert, key, "mamori", "pw-123")
        self.receivers += [hook, mail]
        pw_file = os.path.join(self.tmp, "smtp.password")
        with open(pw_file, "w") as f:
            f.write("pw-123\n")
        # A second https channel whose receiver's certificate is not trusted (no ca_file: the
        # system store) must fail, not deliver.
        cfg = config(f"""    - name: tls-hook
      type: webhook
      url: https://127.0.0.1:{hook.port}/hook
      ca_file: {cert}
      secret: {SECRET}
    - name: untrusted-hook
      type: webhook
      url: https://127.0.0.1:{hook.port}/hook
    - name: tls-mail
      type: smtp
      url: smtp://127.0.0.1:{mail.port}
      starttls: true
      ca_file: {cert}
      username: mamori
      password_file: {pw_file}
      from: mamori@city.example
      to: csirt@city.example
""")
        d = self.daemon(cfg)
        d.send_tcp(brute_force_lines())
        wait_for(lambda: hook.bodies(), what="the https webhook")
        wait_for(lambda: mail.messages, what="the mail over STARTTLS")
        self.check_webhook(*hook.bodies()[0])
        tls, auth, mailfrom, rcpts, data = mail.messages[0]
        self.assertTrue(tls)
        self.assertEqual(auth, "mamori")
        self.assertEqual((mailfrom, rcpts), ("<mamori@city.example>", ["<csirt@city.example>"]))
        self.assertIn(b"Rule:        ssh-brute-force", data)
        wait_for(lambda: d.metric("mamori_notifications_failures_total",
                                  channel="untrusted-hook") >= 1, what="untrusted: failure")
        self.assertEqual(d.metric("mamori_notifications_sent_total", channel="untrusted-hook"), 0)
        self.assertEqual(d.metric("mamori_notifications_outbox_depth", channel="untrusted-hook"),
                         1)
        self.assertEqual(len(hook.bodies()), 1)
        self.assertIn("certificate verify failed", d.log())

    def test_http_errors_are_retried_and_updates_throttled(self):
        rules_dir = os.path.join(self.tmp, "rules")
        os.makedirs(rules_dir)
        with open(os.path.join(rules_dir, "marker.yml"), "w") as f:
            f.write("""rules:
  - id: notify-marker
    title: Notification marker
    severity: medium
    tags: [test.marker]
    match:
      message: 're:notify-marker'
    group_by: [host]
    summary: 'marker on {host}'
""")
        hook = WebhookReceiver(fail_first=2)
        self.receivers.append(hook)
        cfg = config(f"""    - name: hook
      type: webhook
      url: http://127.0.0.1:{hook.port}/hook
      tags: [test.marker]
""", extra="  throttle: 3s\n")
        d = Daemon(config_text=cfg, extra_args=["--rules", rules_dir]).start()
        self.daemons.append(d)

        def marker_count():
            _, body = d.curl("/api/v1/incidents", {"rule": "notify-marker"}, expect_status=200)
            incs = json.loads(body)["incidents"]
            return incs[0]["count"] if incs else 0

        def send(i):
            d.send_tcp(f"<13>1 2026-01-01T00:00:0{i}Z h1 app - - - notify-marker {i}\n".encode())
            wait_for(lambda: marker_count() == i, what=f"alert {i} in the incident")

        send(1)
        # 503 twice, then 200: three requests with one notification id; one delivery.
        wait_for(lambda: hook.bodies(), what="the notification after two 503s")
        self.assertEqual(len(hook.refused), 2)
        ids = {h["X-Mamori-Notification-Id"] for _, h, _ in hook.refused + hook.bodies()}
        self.assertEqual(len(ids), 1, ids)
        wait_for(lambda: d.metric("mamori_notifications_sent_total", channel="hook") == 1,
                 what="sent == 1")
        self.assertEqual(d.metric("mamori_notifications_failures_total", channel="hook"), 2)
        self.assertIn("receiver answered HTTP 503", d.log())
        # Four more alerts join the incident within the throttle window: no notification.
        for i in range(2, 6):
            send(i)
        self.assertEqual(d.metric("mamori_notifications_throttled_total"), 4)
        # After the window, the next update is notified (kind "updated").
        time.sleep(3.1)
        send(6)
        wait_for(lambda: len(hook.bodies()) == 2, what="the update after the window")
        doc = json.loads(hook.bodies()[1][2])
        self.assertEqual(doc["kind"], "updated")
        self.assertEqual(doc["incident"]["count"], 6)
        self.assertEqual(d.metric("mamori_notifications_throttled_total"), 4)

    def test_bad_notification_config_is_refused(self):
        d = Daemon(config_text=config("    - name: x\n      type: webhook\n      url: ftp://a:1/\n"),
                   extra_args=["--rules", DEFAULT_PACK])
        self.daemons.append(d)
        with self.assertRaises(AssertionError) as ctx:
            d.start()
        self.assertIn("notifications.channels[0].url", str(ctx.exception))


if __name__ == "__main__":
    unittest.main(verbosity=2)
