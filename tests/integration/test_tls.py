"""Syslog over TLS (RFC 5425) and HTTPS for the API, with real clients.

The test makes its own PKI with the `openssl` CLI (a CA, server and client certificates, and a
second CA whose certificates must be refused), starts the real `mamori serve` with a syslog_tls
listener, and sends octet-counted RFC 5424 messages with `openssl s_client` and with rsyslog
(omfwd over its ossl stream driver). With verify_client on, a client without a certificate and
one with a certificate from another CA fail the handshake, nothing of theirs is stored and
mamori_tls_handshake_failures_total counts them. SIGHUP swaps in a new certificate; a broken one
is refused and the previous one stays. The API over HTTPS answers curl --cacert; plain HTTP to
the HTTPS port fails.
"""
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import MAMORI, Daemon, wait_for  # noqa: E402


def run(args, **kw):
    out = subprocess.run(args, capture_output=True, timeout=60, **kw)
    if out.returncode != 0:
        raise AssertionError(f"{args[:3]} exited {out.returncode}: {out.stderr.decode()}")
    return out


class Pki:
    """Certificates made with the openssl CLI in a temporary directory (EC P-256 keys)."""

    def __init__(self, root):
        self.dir = root

    def path(self, name):
        return os.path.join(self.dir, name)

    def ca(self, name):
        cert, key = self.path(f"{name}.pem"), self.path(f"{name}.key")
        run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", f"/CN={name}",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        return cert, key

    def leaf(self, ca, name, cn, usage, serial):
        """A certificate signed by `ca` ((cert, key)); usage: serverAuth or clientAuth."""
        cert, key, csr = self.path(f"{name}.pem"), self.path(f"{name}.key"), self.path(f"{name}.csr")
        ext = self.path(f"{name}.ext")
        with open(ext, "w") as f:
            f.write(f"subjectAltName=DNS:{cn},IP:127.0.0.1\nextendedKeyUsage={usage}\n"
                    "basicConstraints=CA:FALSE\n")
        run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", key, "-out", csr, "-subj", f"/CN={cn}"])
        run(["openssl", "x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1], "-set_serial",
             str(serial), "-days", "2", "-out", cert, "-extfile", ext])
        return cert, key


def rfc5424(tag, i):
    msg = f"<134>1 2026-11-27T02:00:00.000Z tls-host tlsapp 42 ID{i} - tls marker-{tag}-{i}"
    return msg.encode()


def octet_counted(*messages):
    return b"".join(str(len(m)).encode() + b" " + m for m in messages)


def s_client(port, ca, cert=None, key=None, data=b"", extra=()):
    """openssl s_client to the listener: verifies the server against `ca`, optionally presents a
    client certificate, sends `data` and closes. Returns the CompletedProcess."""
    args = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-CAfile", ca,
            "-verify_return_error", "-servername", "localhost", "-quiet", "-no_ign_eof",
            *extra]
    if cert:
        args += ["-cert", cert, "-key", key]
    return subprocess.run(args, input=data, capture_output=True, timeout=60)


def server_serial(port, ca):
    """The serial number of the certificate a new handshake sees."""
    out = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-CAfile", ca,
                          "-servername", "localhost", "-showcerts"],
                         input=b"", capture_output=True, timeout=60)
    pem = out.stdout.decode(errors="replace")
    begin = pem.find("-----BEGIN CERTIFICATE-----")
    end = pem.find("-----END CERTIFICATE-----")
    if begin < 0 or end < 0:
        return None
    x = subprocess.run(["openssl", "x509", "-noout", "-serial"],
                       input=pem[begin:end + 25].encode(), capture_output=True, timeout=60)
    return x.stdout.decode().strip()  # "serial=01"


def tls_config(server, ca=None, verify_client=False, extra=""):
    lines = ["listeners:",
             "  - name: syslog-tls",
             "    type: syslog_tls",
             "    address: 127.0.0.1:0",
             "    tls:",
             f"      cert_file: {server[0]}",
             f"      key_file: {server[1]}",
             "      handshake_timeout: 1s"]
    if ca:
        lines.append(f"      ca_file: {ca}")
    if verify_client:
        lines.append("      verify_client: true")
    return "\n".join(lines) + "\n" + extra


class TlsTestBase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="mamori-tls-")
        pki = cls.pki = Pki(cls.tmp)
        cls.ca = pki.ca("ca")
        cls.other_ca = pki.ca("other-ca")
        cls.server = pki.leaf(cls.ca, "server", "localhost", "serverAuth", 1)
        cls.client = pki.leaf(cls.ca, "client", "client.example", "clientAuth", 2)
        cls.rogue = pki.leaf(cls.other_ca, "rogue", "client.example", "clientAuth", 3)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def tearDown(self):
        if getattr(self, "d", None):
            self.d.cleanup()

    def stored(self, tag):
        return self.d.api_events(q=f"marker-{tag}-", limit=100)["events"]

    def failures(self, reason):
        return self.d.metric("mamori_tls_handshake_failures_total", listener="syslog-tls",
                             reason=reason)


class SyslogTlsTest(TlsTestBase):
    def test_octet_counted_messages_are_stored_and_searchable(self):
        self.d = Daemon(config_text=tls_config(self.server)).start()
        self.assertEqual(self.d.ports["syslog-tls"][0], "tls")
        port = self.d.port("syslog-tls")
        tag = f"plain{time.time_ns()}"
        # Three octet-counted frames and, on the same connection, one LF-framed (the fallback).
        data = octet_counted(*(rfc5424(tag, i) for i in range(3))) + rfc5424(tag, 3) + b"\n"
        out = s_client(port, self.ca[0], data=data)
        self.assertEqual(out.returncode, 0, out.stderr.decode())
        events = wait_for(lambda: len(self.stored(tag)) == 4 and self.stored(tag),
                          what="4 TLS messages stored")
        by_msgid = {e["msgid"]: e for e in events}
        self.assertEqual(sorted(by_msgid), ["ID0", "ID1", "ID2", "ID3"])
        for e in events:
            self.assertEqual(e["transport"], "tls")
            self.assertEqual(e["listener"], "syslog-tls")
            self.assertEqual(e["host"], "tls-host")
            self.assertEqual(e["app"], "tlsapp")
            self.assertEqual(e["format"], "rfc5424")
        self.assertEqual(by_msgid["ID1"]["raw"], rfc5424(tag, 1).decode())
        self.assertEqual(self.d.metric("mamori_events_received_total", listener="syslog-tls",
                                       transport="tls"), 4)
        # The mamori CLI searches the same store.
        self.assertEqual(len(self.d.search_cli("--pattern", f"marker-{tag}-")), 4)

    def test_sender_that_never_reads_loses_nothing(self):
        """A syslog sender writes and closes without ever reading. Had the server sent TLS 1.3
        session tickets, the sender's close (with the tickets unread) would be a RST, and the
        RST would discard the tail still unread in mamori's receive buffer."""
        self.d = Daemon(config_text=tls_config(self.server)).start()
        tag = f"burst{time.time_ns()}"
        n = 50000
        payload = octet_counted(*(rfc5424(tag, i) + b" " + b"x" * 120 for i in range(n)))
        ctx = ssl.create_default_context(cafile=self.ca[0])
        with socket.create_connection(("127.0.0.1", self.d.port("syslog-tls")), timeout=60) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                self.assertIn(s.version(), ("TLSv1.2", "TLSv1.3"))
                s.sendall(payload)
        wait_for(lambda: self.d.metric("mamori_events_received_total",
                                       listener="syslog-tls") == n,
                 timeout=60, what=f"all {n} messages of a sender that never reads")
        self.assertEqual(self.d.metric("mamori_collector_connections_closed_total",
                                       listener="syslog-tls", reason="error"), 0)

    def test_mutual_tls_refuses_clients_without_a_valid_certificate(self):
        self.d = Daemon(config_text=tls_config(self.server, ca=self.ca[0],
                                               verify_client=True)).start()
        port = self.d.port("syslog-tls")
        tag = f"mtls{time.time_ns()}"

        # No client certificate: refused in the handshake.
        s_client(port, self.ca[0], data=octet_counted(rfc5424(tag + "-anon", 0)))
        wait_for(lambda: self.failures("no_client_cert") == 1, what="no_client_cert counted")
        # A certificate from another CA: refused too.
        s_client(port, self.ca[0], cert=self.rogue[0], key=self.rogue[1],
                 data=octet_counted(rfc5424(tag + "-rogue", 0)))
        wait_for(lambda: self.failures("bad_client_cert") == 1, what="bad_client_cert counted")
        # A client with a certificate of our CA gets through.
        out = s_client(port, self.ca[0], cert=self.client[0], key=self.client[1],
                       data=octet_counted(rfc5424(tag + "-good", 0), rfc5424(tag + "-good", 1)))
        self.assertEqual(out.returncode, 0, out.stderr.decode())
        wait_for(lambda: len(self.stored(tag + "-good")) == 2, what="good client's messages")
        # Nothing of the refused clients was stored (the good ones are, so the pipeline ran).
        self.assertEqual(self.stored(tag + "-anon"), [])
        self.assertEqual(self.stored(tag + "-rogue"), [])
        self.assertEqual(self.d.metric("mamori_events_received_total", listener="syslog-tls"), 2)
        self.assertEqual(self.d.metric("mamori_collector_connections_closed_total",
                                       listener="syslog-tls", reason="handshake_failed"), 2)

    def test_garbage_plain_tcp_and_silence_are_counted_handshake_failures(self):
        self.d = Daemon(config_text=tls_config(self.server)).start()
        port = self.d.port("syslog-tls")
        # Plain syslog (not TLS) and random bytes: a protocol failure each, no crash.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"<13>Nov 27 02:00:00 host app: not tls\n")
            s.recv(1024)  # the server answers with an alert or closes
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(os.urandom(4096))
            try:
                s.recv(1024)
            except ConnectionResetError:
                pass
        wait_for(lambda: self.failures("protocol") == 2, what="2 protocol failures")
        # A client that connects and says nothing is closed after handshake_timeout (1s).
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            start = time.monotonic()
            self.assertEqual(s.recv(1024), b"")  # closed by the server
            self.assertLess(time.monotonic() - start, 8)
        wait_for(lambda: self.failures("timeout") == 1, what="timeout counted")
        self.assertEqual(self.d.metric("mamori_events_received_total", listener="syslog-tls"), 0)
        # Still serving.
        tag = f"after{time.time_ns()}"
        s_client(port, self.ca[0], data=octet_counted(rfc5424(tag, 0)))
        wait_for(lambda: len(self.stored(tag)) == 1, what="message after the bad input")

    def test_serve_flags_configure_the_tls_listener(self):
        self.d = Daemon(extra_args=["--syslog-tls", "127.0.0.1:0", "--tls-cert", self.server[0],
                                    "--tls-key", self.server[1], "--tls-ca", self.ca[0],
                                    "--tls-verify-client"]).start()
        port = self.d.port("syslog-tls")
        tag = f"flags{time.time_ns()}"
        s_client(port, self.ca[0], data=octet_counted(rfc5424(tag + "-anon", 0)))
        wait_for(lambda: self.failures("no_client_cert") == 1, what="no_client_cert counted")
        s_client(port, self.ca[0], cert=self.client[0], key=self.client[1],
                 data=octet_counted(rfc5424(tag, 0)))
        wait_for(lambda: len(self.stored(tag)) == 1, what="message over flag-configured TLS")

    def test_syslog_tls_flag_without_certificate_is_a_usage_error(self):
        with tempfile.TemporaryDirectory(prefix="mamori-tls-flag-") as data:
            out = subprocess.run([MAMORI, "serve", "--data-dir", data, "--syslog-tls",
                                  "127.0.0.1:0"], capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 2)
        self.assertIn("--tls-cert FILE --tls-key FILE", out.stderr)

    def test_config_errors_name_the_key(self):
        missing = os.path.join(self.tmp, "missing.pem")
        garbage = os.path.join(self.tmp, "garbage.pem")
        with open(garbage, "w") as f:
            f.write("this is not PEM\n")
        cases = [
            ((missing, self.server[1]), "listeners[0].tls.cert_file"),
            ((garbage, self.server[1]), "listeners[0].tls.cert_file"),
            ((self.server[0], garbage), "listeners[0].tls.key_file"),
            ((self.server[0], self.client[1]), "does not match"),
        ]
        for server, expected in cases:
            with tempfile.TemporaryDirectory(prefix="mamori-tls-cfg-") as data:
                cfg = os.path.join(data, "c.yaml")
                with open(cfg, "w") as f:
                    f.write(tls_config(server))
                out = subprocess.run([MAMORI, "serve", "--config", cfg, "--data-dir", data,
                                      "--http", "127.0.0.1:0"],
                                     capture_output=True, text=True, timeout=60)
                self.assertNotEqual(out.returncode, 0)
                self.assertIn(expected, out.stdout + out.stderr)


class SighupReloadTest(TlsTestBase):
    def test_sighup_swaps_the_certificate_and_keeps_it_when_the_new_one_is_broken(self):
        live = (os.path.join(self.tmp, "live.pem"), os.path.join(self.tmp, "live.key"))
        shutil.copy(self.server[0], live[0])
        shutil.copy(self.server[1], live[1])
        self.d = Daemon(config_text=tls_config(live)).start()
        port = self.d.port("syslog-tls")
        self.assertEqual(server_serial(port, self.ca[0]), "serial=01")

        renewed = self.pki.leaf(self.ca, "renewed", "localhost", "serverAuth", 0x77)
        shutil.copy(renewed[0], live[0])
        shutil.copy(renewed[1], live[1])
        self.d.proc.send_signal(signal.SIGHUP)  # the PID this test started
        wait_for(lambda: server_serial(port, self.ca[0]) == "serial=77",
                 what="new certificate after SIGHUP")
        self.assertEqual(self.d.metric("mamori_tls_reloads_total", listener="syslog-tls",
                                       result="ok"), 1)

        # A broken certificate: the reload fails, is logged and counted; the old one stays.
        with open(live[0], "w") as f:
            f.write("-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n")
        self.d.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: self.d.metric("mamori_tls_reloads_total", listener="syslog-tls",
                                       result="error") == 1, what="failed reload counted")
        self.assertIn("TLS reload of syslog-tls failed", self.d.log())
        self.assertEqual(server_serial(port, self.ca[0]), "serial=77")
        tag = f"reload{time.time_ns()}"
        s_client(port, self.ca[0], data=octet_counted(rfc5424(tag, 0)))
        wait_for(lambda: len(self.stored(tag)) == 1, what="message after the failed reload")


class HttpsApiTest(TlsTestBase):
    """The HTTP API over HTTPS (http.tls): every harness request goes through curl --cacert."""

    def start_https(self, cert):
        config = f"""http:
  tls:
    cert_file: {cert[0]}
    key_file: {cert[1]}
    handshake_timeout: 1s
"""
        self.d = Daemon(config_text=config, https_ca=self.ca[0]).start()
        self.assertIn(f"api: listening on 127.0.0.1:{self.d.http_port} (https)", self.d.log())

    def test_https_healthz_metrics_and_search(self):
        self.start_https(self.server)
        status, body = self.d.curl("/healthz", expect_status=200)
        self.assertIn('"status":"ok"', body)
        # Events sent over plain TCP are searchable over HTTPS.
        tag = f"https{time.time_ns()}"
        self.d.send_tcp(f"<13>Nov 27 02:00:00 host app: marker-{tag}-0\n".encode())
        wait_for(lambda: len(self.stored(tag)) == 1, what="event searchable over HTTPS")

        url = f"127.0.0.1:{self.d.http_port}/healthz"
        # Plain HTTP to the HTTPS port fails (the server sees no TLS handshake and closes).
        plain = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                                "--max-time", "10", "http://" + url],
                               capture_output=True, text=True, timeout=60)
        self.assertNotEqual(plain.returncode, 0, plain.stdout)
        # HTTPS without trusting our CA fails too (curl verifies the certificate).
        untrusted = subprocess.run(["curl", "-sS", "-o", "/dev/null", "--max-time", "10",
                                    "https://" + url], capture_output=True, text=True,
                                   timeout=60)
        self.assertNotEqual(untrusted.returncode, 0)
        wait_for(lambda: self.d.metric("mamori_tls_handshake_failures_total", listener="api",
                                       reason="protocol") >= 1,
                 what="plain HTTP counted as a handshake failure")

    def test_https_with_client_certificates(self):
        config = f"""http:
  tls:
    cert_file: {self.server[0]}
    key_file: {self.server[1]}
    ca_file: {self.ca[0]}
    verify_client: true
"""
        self.d = Daemon(config_text=config, https_ca=self.ca[0],
                        https_client=self.client).start()
        self.d.curl("/healthz", expect_status=200)
        url = f"https://127.0.0.1:{self.d.http_port}/healthz"
        for extra in ([], ["--cert", self.rogue[0], "--key", self.rogue[1]]):
            out = subprocess.run(["curl", "-sS", "-o", "/dev/null", "--max-time", "10",
                                  "--cacert", self.ca[0], *extra, url],
                                 capture_output=True, text=True, timeout=60)
            self.assertNotEqual(out.returncode, 0, f"curl {extra} must be refused")
        wait_for(lambda: self.d.metric("mamori_tls_handshake_failures_total", listener="api",
                                       reason="no_client_cert") == 1
                 and self.d.metric("mamori_tls_handshake_failures_total", listener="api",
                                   reason="bad_client_cert") == 1,
                 what="refused API clients counted")

    def test_sighup_reloads_the_api_certificate(self):
        live = (os.path.join(self.tmp, "api-live.pem"), os.path.join(self.tmp, "api-live.key"))
        shutil.copy(self.server[0], live[0])
        shutil.copy(self.server[1], live[1])
        self.start_https(live)
        self.assertEqual(server_serial(self.d.http_port, self.ca[0]), "serial=01")
        renewed = self.pki.leaf(self.ca, "api-renewed", "localhost", "serverAuth", 0x99)
        shutil.copy(renewed[0], live[0])
        shutil.copy(renewed[1], live[1])
        self.d.proc.send_signal(signal.SIGHUP)  # the PID this test started
        wait_for(lambda: server_serial(self.d.http_port, self.ca[0]) == "serial=99",
                 what="new API certificate after SIGHUP")
        self.d.curl("/healthz", expect_status=200)
        self.assertEqual(self.d.metric("mamori_tls_reloads_total", listener="api", result="ok"), 1)


class RsyslogTlsTest(TlsTestBase):
    """rsyslog (the city's senders) forwarding over TLS with its ossl driver, mutual TLS."""

    def test_rsyslog_forwards_over_mutual_tls(self):
        rsyslogd = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"
        driver = "/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_ossl.so"
        if not os.path.exists(rsyslogd) or not any(
                os.path.exists(os.path.join(d, "lmnsd_ossl.so"))
                for d in ("/usr/lib/x86_64-linux-gnu/rsyslog", "/usr/lib/rsyslog",
                          os.path.dirname(driver))):
            print("SKIP: rsyslog or rsyslog-openssl is not installed (scripts/deps.sh test)")
            self.skipTest("rsyslog-openssl not installed")
        self.d = Daemon(config_text=tls_config(self.server, ca=self.ca[0],
                                               verify_client=True)).start()
        port = self.d.port("syslog-tls")
        work = tempfile.mkdtemp(prefix="rsyslog-", dir=self.tmp)
        sock = os.path.join(work, "log.sock")
        conf = os.path.join(work, "rsyslog.conf")
        with open(conf, "w") as f:
            f.write(f"""
global(workDirectory="{work}"
       DefaultNetstreamDriver="ossl"
       DefaultNetstreamDriverCAFile="{self.ca[0]}"
       DefaultNetstreamDriverCertFile="{self.client[0]}"
       DefaultNetstreamDriverKeyFile="{self.client[1]}")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="{sock}")
action(type="omfwd" target="127.0.0.1" port="{port}" protocol="tcp"
       TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format"
       StreamDriver="ossl" StreamDriverMode="1" StreamDriverAuthMode="x509/name"
       StreamDriverPermittedPeers="localhost")
""")
        log = open(os.path.join(work, "rsyslogd.log"), "w")
        proc = subprocess.Popen([rsyslogd, "-n", "-f", conf, "-i", os.path.join(work, "pid")],
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            wait_for(lambda: os.path.exists(sock) or proc.poll() is not None,
                     what="rsyslogd socket")
            if proc.poll() is not None:
                with open(log.name) as f:
                    self.fail(f"rsyslogd exited {proc.returncode}: {f.read()}")
            tag = f"rsyslog{time.time_ns()}"
            for i in range(3):
                run(["logger", "-u", sock, "-t", "citysvc", f"marker-{tag}-{i}"])
            events = wait_for(lambda: len(self.stored(tag)) == 3 and self.stored(tag),
                              what="rsyslog messages over TLS")
            for e in events:
                self.assertEqual(e["transport"], "tls")
                self.assertEqual(e["format"], "rfc5424")
                self.assertEqual(e["app"], "citysvc")
            self.assertEqual(self.failures("no_client_cert") + self.failures("bad_client_cert"), 0)
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)  # the PID this test started
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            log.close()


if __name__ == "__main__":
    unittest.main()
