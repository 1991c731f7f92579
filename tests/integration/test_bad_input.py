"""Bad input is normal input: garbage on every listener, oversized messages, bad config and
flags. Every case ends in a clear error or a counted outcome, never a crash or a lost record."""
import base64
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from harness import MAMORI, Daemon, metric_value, wait_for  # noqa: E402


def raw_bytes(ev):
    if ev.get("raw_encoding") == "base64":
        return base64.b64decode(ev["raw"])
    return ev["raw"].encode()


class GarbageTest(unittest.TestCase):
    def setUp(self):
        self.d = Daemon(config_text="""
listeners:
  - {name: syslog-udp, type: syslog_udp, address: "127.0.0.1:0", max_message_size: 64KiB}
  - {name: syslog-tcp, type: syslog_tcp, address: "127.0.0.1:0", max_message_size: 64KiB}
""").start()

    def tearDown(self):
        self.d.cleanup()

    def test_garbage_is_stored_exactly_and_counted(self):
        rng = random.Random(42)
        tag = uuid.uuid4().hex[:8].encode()
        binary = b"BIN" + tag + bytes(rng.randrange(256) for _ in range(300)).replace(b"\n", b"")
        invalid_utf8 = b"<13>Nov  3 10:00:00 host app: bad \xff\xfe\xc3\x28 " + tag
        nul = b"<14>1 2026-01-01T00:00:00Z h a - - - with\x00nul " + tag
        self.d.send_udp(binary)
        self.d.send_udp(invalid_utf8)
        self.d.send_tcp(nul + b"\n" + b"\n" + invalid_utf8 + b"\n")  # an empty line is no message
        sent = 4
        wait_for(lambda: self.d.metric("mamori_events_stored_total") >= sent, what="4 stored")
        events = self.d.api_events(limit=100)["events"]
        raws = [raw_bytes(e) for e in events]
        self.assertIn(binary, raws)
        self.assertIn(invalid_utf8, raws)
        self.assertIn(nul, raws)
        self.assertNotIn(b"", raws)
        unparsed = [e for e in events if raw_bytes(e) == binary]
        self.assertEqual(unparsed[0]["format"], "unparsed")
        self.assertGreaterEqual(self.d.metric("mamori_events_unparsed_total"), 1)
        self.assertEqual(self.d.metric("mamori_events_stored_total"), sent)

    def test_oversized_messages_are_truncated_flagged_and_stream_stays_in_sync(self):
        big = b"<13>big " + b"x" * (1024 * 1024)
        after = b"<13>after-" + uuid.uuid4().hex.encode()
        self.d.send_tcp(big + b"\n" + after + b"\n")
        octet = b"<13>octet " + b"y" * (200 * 1024)
        after2 = b"<13>after2-" + uuid.uuid4().hex.encode()
        self.d.send_tcp(str(len(octet)).encode() + b" " + octet +
                        str(len(after2)).encode() + b" " + after2)
        wait_for(lambda: self.d.metric("mamori_events_stored_total") >= 4, what="4 stored")
        events = self.d.api_events(limit=10)["events"]
        by_raw = {raw_bytes(e)[:12]: e for e in events}
        trunc = [e for e in events if e["truncated"]]
        self.assertEqual(len(trunc), 2)
        for e in trunc:
            self.assertEqual(len(raw_bytes(e)), 64 * 1024)
        self.assertEqual({e["original_size"] for e in trunc}, {len(big), len(octet)})
        raws = [raw_bytes(e) for e in events]
        self.assertIn(after, raws)
        self.assertIn(after2, raws)
        self.assertEqual(self.d.metric("mamori_events_truncated_total"), 2)
        del by_raw

    def test_random_tcp_garbage_never_kills_the_daemon(self):
        rng = random.Random(7)
        for i in range(30):
            blob = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 5000)))
            try:
                self.d.send_tcp(blob)
            except OSError:
                pass  # the daemon may close a connection with an absurd octet count
        for i in range(30):
            self.d.send_udp(bytes(rng.randrange(256) for _ in range(rng.randrange(0, 2000))))
        status, _ = self.d.curl("/healthz")
        self.assertEqual(status, 200)
        marker = "alive-" + uuid.uuid4().hex
        self.d.logger("--rfc5424", transport="tcp", message=marker)
        wait_for(lambda: self.d.api_events(q=marker)["events"], what="message after garbage")
        self.assertIsNone(self.d.proc.poll())


class ConfigErrorTest(unittest.TestCase):
    def run_mamori(self, *args, timeout=30):
        return subprocess.run([MAMORI, *args], capture_output=True, text=True, timeout=timeout)

    def write_config(self, text):
        f = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
        f.write(text)
        f.close()
        self.addCleanup(os.unlink, f.name)
        return f.name

    def test_unknown_key_names_the_key(self):
        path = self.write_config("listeners:\n  - {type: syslog_udp, address: '127.0.0.1:0', "
                                 "colour: blue}\n")
        r = self.run_mamori("serve", "--config", path)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("listeners[0].colour", r.stderr)

    def test_bad_value_names_the_key(self):
        path = self.write_config("storage:\n  write_batch_max: lots\n")
        r = self.run_mamori("serve", "--config", path)
        self.assertEqual(r.returncode, 2)
        self.assertIn("storage.write_batch_max", r.stderr)

    def test_bad_flags(self):
        for args in (["serve", "--syslog-udp", "nowhere"], ["serve", "--bogus"],
                     ["serve", "--config", "/nonexistent.yaml"], ["frobnicate"],
                     ["search"], ["search", "--data-dir", "/tmp", "--limit", "0"]):
            r = self.run_mamori(*args)
            self.assertEqual(r.returncode, 2, f"{args}: {r.stderr}")
            self.assertTrue(r.stderr.strip(), args)

    def test_port_in_use_fails_startup_clearly(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen()
            port = s.getsockname()[1]
            d = tempfile.mkdtemp()
            r = self.run_mamori("serve", "--data-dir", d, "--syslog-tcp", f"127.0.0.1:{port}",
                                "--syslog-udp", "127.0.0.1:0", "--http", "127.0.0.1:0")
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn(str(port), r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
