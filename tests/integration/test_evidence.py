"""Tamper evidence end to end: logger → mamori serve → verify (CLI and API) → export →
verify-bundle; retention purges every copy of disposed records; kill -9 during ingest and a
restart leave a chain that verifies and goes on."""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import unittest
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from harness import MAMORI, Daemon, wait_for  # noqa: E402

FAST = """
evidence:
  checkpoint_interval: 200ms
"""


def run(*args):
    return subprocess.run([MAMORI, *args], capture_output=True, text=True, timeout=120)


def files_containing(root, needle: bytes, skip=()):
    """Files under root holding needle; directories named in skip (relative to root) are
    left out."""
    hits = []
    for dirpath, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if os.path.relpath(os.path.join(dirpath, d), root) not in skip]
        for n in names:
            p = os.path.join(dirpath, n)
            try:
                with open(p, "rb") as f:
                    if needle in f.read():
                        hits.append(p)
            except FileNotFoundError:  # RocksDB deleted it meanwhile
                pass
    return hits


class EvidenceTest(unittest.TestCase):
    def setUp(self):
        self.tag = uuid.uuid4().hex[:10]
        self.d = None
        self.tmp = tempfile.mkdtemp(prefix="mamori-ev-")

    def tearDown(self):
        if self.d:
            self.d.cleanup()
        subprocess.run(["rm", "-rf", self.tmp])

    def api_verify(self, **params):
        status, body = self.d.curl("/api/v1/verify", params)
        self.assertEqual(status, 200, body)
        return json.loads(body)

    def stored(self):
        return self.d.metric("mamori_events_stored_total")

    def test_verify_export_and_bundle(self):
        self.d = Daemon(config_text=FAST).start()
        for i in range(12):
            self.d.logger("--rfc5424", "-t", "evapp", transport="tcp" if i % 2 else "udp",
                          message=f"ev-{self.tag}-{i} login ok")
        wait_for(lambda: self.stored() >= 12, what="12 stored")
        # The API verifies the live store; wait until a checkpoint covers everything.
        report = wait_for(lambda: (lambda r: r if r["unanchored"] == 0 and r["records"] == 12
                                   else None)(self.api_verify()), what="a covering checkpoint")
        self.assertTrue(report["ok"], report)
        self.assertGreaterEqual(report["checkpoints"], 1)
        self.assertGreaterEqual(report["file_checkpoints"], 1)
        ranged = self.api_verify(**{"from": 3, "to": 5})
        self.assertTrue(ranged["ok"], ranged)
        self.assertEqual(ranged["records"], 3)
        status, _ = self.d.curl("/api/v1/verify", {"from": "x"})
        self.assertEqual(status, 400)

        # Offline verify while the daemon runs (read-only secondary instance).
        out = run("verify", "--data-dir", self.d.data_dir)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertTrue(out.stdout.startswith("OK: 12 records"), out.stdout)
        js = json.loads(run("verify", "--data-dir", self.d.data_dir, "--json").stdout)
        self.assertEqual(js["records"], 12)

        # The public key, pinned by verifiers.
        key = run("key", "export", "--data-dir", self.d.data_dir)
        self.assertEqual(key.returncode, 0, key.stderr)
        self.assertIn("BEGIN PUBLIC KEY", key.stdout)
        key_path = os.path.join(self.tmp, "mamori.pub")
        with open(key_path, "w") as f:
            f.write(key.stdout)
        out = run("verify", "--data-dir", self.d.data_dir, "--public-key", key_path)
        self.assertEqual(out.returncode, 0, out.stdout)

        # Export by pattern and by seq list; verify-bundle without the database.
        bundle = os.path.join(self.tmp, "bundle")
        out = run("export", "--data-dir", self.d.data_dir, "--out", bundle,
                  "--pattern", f"ev-{self.tag}-(3|7) ")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(sorted(os.listdir(bundle)), ["MANIFEST", "checkpoints.log",
                                                      "proofs.jsonl", "public_key.pem",
                                                      "records.jsonl"])
        with open(os.path.join(bundle, "records.jsonl")) as f:
            self.assertEqual(len(f.readlines()), 2)
        out = run("verify-bundle", bundle, "--public-key", key_path)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertTrue(out.stdout.startswith("OK: 2 records"), out.stdout)
        # sha256sum(1) can check the manifest too.
        self.assertEqual(subprocess.run(["sha256sum", "--quiet", "-c", "MANIFEST"], cwd=bundle,
                                        capture_output=True).returncode, 0)
        # One changed byte anywhere fails (a sample of positions in every file).
        for name in sorted(os.listdir(bundle)):
            path = os.path.join(bundle, name)
            with open(path, "rb") as f:
                original = f.read()
            for pos in sorted({0, len(original) // 3, len(original) // 2, len(original) - 1}):
                changed = bytearray(original)
                changed[pos] ^= 0x20
                with open(path, "wb") as f:
                    f.write(changed)
                out = run("verify-bundle", bundle)
                self.assertIn(out.returncode, (3, 4), f"{name}@{pos}: {out.stdout}")
            with open(path, "wb") as f:
                f.write(original)
        self.assertEqual(run("verify-bundle", bundle).returncode, 0)
        seq_bundle = os.path.join(self.tmp, "by-seq")
        out = run("export", "--data-dir", self.d.data_dir, "--out", seq_bundle, "--seq", "1,4-6")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(run("verify-bundle", seq_bundle).returncode, 0)
        self.assertEqual(run("export", "--data-dir", self.d.data_dir).returncode, 2)

        # A checkpoint file that disagrees with the store: exit code 4.
        self.assertEqual(self.d.stop(), 0)
        cp = os.path.join(self.d.data_dir, "checkpoints.log")
        with open(cp) as f:
            lines = f.readlines()
        forged = os.path.join(self.tmp, "forged.log")
        line = lines[0]
        i = line.index("head=") + 5
        with open(forged, "w") as f:
            f.write(line[:i] + ("0" if line[i] != "0" else "1") + line[i + 1:])
        out = run("verify", "--data-dir", self.d.data_dir, "--checkpoints", forged)
        self.assertEqual(out.returncode, 4, out.stdout)
        self.assertIn("FAILED (checkpoint)", out.stdout)
        self.assertEqual(run("verify", "--data-dir", self.d.data_dir).returncode, 0)
        self.assertEqual(run("verify").returncode, 2)

    def test_retention_purges_every_copy(self):
        config = FAST + """
retention:
  class_III: 2s
  check_interval: 500ms
"""
        self.d = Daemon(config_text=config).start()
        marker = f"DISPOSE-ME-{self.tag}"
        for i in range(10):
            self.d.logger("--rfc5424", "-t", "hr", transport="tcp", message=f"{marker} {i}")
        wait_for(lambda: self.stored() >= 10, what="10 stored")
        # Positive control: the bytes are on disk (the WAL at least).
        wait_for(lambda: files_containing(self.d.data_dir, marker.encode()), what="marker on disk")
        # The counter moves once the disposal is complete: deleted, flushed, compacted, purged.
        wait_for(lambda: self.d.metric("mamori_retention_disposed_records_total") >= 10,
                 timeout=30, what="disposal")
        report = self.api_verify()
        self.assertTrue(report["ok"], report)
        self.assertEqual(report["records"], 0)
        self.assertGreaterEqual(len(report["disposals"]), 1)
        self.assertEqual(sum(d["class_III"] for d in report["disposals"]), 10)
        self.assertEqual(files_containing(self.d.data_dir, marker.encode()), [])
        self.assertEqual(self.d.api_events(q=marker)["events"], [])
        # The chain goes on after the disposal, and verify reports the disposal.
        self.d.logger("--rfc5424", "-t", "hr", transport="tcp", message=f"after-{self.tag}")
        wait_for(lambda: self.stored() >= 11, what="one more")
        self.assertEqual(self.d.stop(), 0)
        # The audit trail keeps who searched for what (the search above for the marker): the
        # query text, not a copy of the records (docs/security.md, "Audit trail").
        self.assertEqual(files_containing(self.d.data_dir, marker.encode(), skip=("audit",)), [])
        out = run("verify", "--data-dir", self.d.data_dir)
        self.assertEqual(out.returncode, 0, out.stdout)
        # The 10 records may expire in one retention pass or, when the sends straddle a check,
        # in several: together the disposals cover seq 1..10, all class III.
        lines = re.findall(r"disposal \d+ at \S+: (\d+) records in seq (\d+)\.\.(\d+) "
                           r"\(class I (\d+), II (\d+), III (\d+)\)", out.stdout)
        self.assertTrue(lines, out.stdout)
        self.assertEqual(sum(int(m[0]) for m in lines), 10, out.stdout)
        self.assertEqual(sum(int(m[5]) for m in lines), 10, out.stdout)
        self.assertEqual(min(int(m[1]) for m in lines), 1, out.stdout)
        self.assertEqual(max(int(m[2]) for m in lines), 10, out.stdout)

    def test_kill9_during_ingest_then_restart(self):
        self.d = Daemon(config_text=FAST).start()
        stop = threading.Event()
        sent = [0]

        def sender(port):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                    while not stop.is_set():
                        lines = b"".join(f"<13>1 - h app - - - crash-{self.tag} {sent[0] + i}\n"
                                         .encode() for i in range(100))
                        s.sendall(lines)
                        sent[0] += 100
            except OSError:
                pass  # the daemon died under us: expected

        t = threading.Thread(target=sender, args=(self.d.port("syslog-tcp"),), daemon=True)
        t.start()
        wait_for(lambda: self.stored() >= 5000, timeout=60, what="ingest under way")
        self.d.stop(sig=signal.SIGKILL)
        stop.set()
        t.join(timeout=10)

        self.d.start()
        _, body = self.d.curl("/healthz", expect_status=200)
        next_seq = json.loads(body)["next_seq"]
        self.assertGreater(next_seq, 5000)
        report = self.api_verify()
        self.assertTrue(report["ok"], report)
        # Every record that reached the store is there: no gap, none after the end.
        self.assertEqual(report["records"], next_seq - 1)
        self.d.send_tcp(f"<13>1 - h app - - - after-{self.tag}\n".encode())
        wait_for(lambda: self.stored() >= 1, what="one more after restart")
        report = wait_for(lambda: (lambda r: r if r["records"] == next_seq else None)(
            self.api_verify()), what="the chain to go on")
        self.assertTrue(report["ok"], report)
        self.assertEqual(self.d.stop(), 0)
        out = run("verify", "--data-dir", self.d.data_dir)
        self.assertEqual(out.returncode, 0, out.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
