"""Authentication, roles and the audit trail, end to end through the real daemon and curl.

- Every route the daemon serves (`mamori token roles`, the list the daemon itself refuses to
  start without) answers 401 without a token, with an unknown token and with a garbage
  Authorization header, 403 to the role just below the one it needs, and serves that role.
- /metrics and /healthz are open to loopback peers by default and closed with
  http.open_on_loopback: [].
- An analyst's search never returns a class I event (a valid My Number), an investigator's does;
  the analyst's audit record counts what was withheld.
- Searches and evidence exports are audited (actor, query, counts); the exported bundle verifies
  with `mamori verify-bundle`; changing one audit entry on disk makes `mamori audit verify` fail
  naming its seq.
- Every signed checkpoint carries the audit trail's head: `mamori audit verify` reports the
  entries it covers, and deleting the newest entries on disk (a valid but shorter chain) makes
  it fail naming the anchored seq, while `mamori verify` still accepts the v2 checkpoints.
- A revoked token stops working on the next request, without a restart.
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import unittest
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from harness import MAMORI, Daemon, wait_for  # noqa: E402

AUDIT_TAMPER = os.environ.get("AUDIT_TAMPER", "")
ROLES = ["viewer", "analyst", "investigator", "admin"]
# The expected role table. A route added to the daemon without a role fails startup; a route
# added with one fails here until it is listed (and its role agreed on) too.
EXPECTED = {
    ("GET", "/healthz"): "viewer",
    ("GET", "/metrics"): "viewer",
    ("GET", "/api/v1/incidents"): "viewer",
    ("GET", "/api/v1/incident"): "viewer",
    ("GET", "/api/v1/events"): "analyst",
    ("GET", "/api/v1/verify"): "investigator",
    ("GET", "/api/v1/evidence/export"): "investigator",
    ("POST", "/api/v1/rules/reload"): "admin",
    **{("POST", f"/api/v1/incident/{a}"): "analyst"
       for a in ("acknowledge", "start", "resolve", "close", "reopen", "assign", "note")},
}
# Parameters that make each route do real work once authorized.
PARAMS = {"/api/v1/incident": {"id": "1"}, "/api/v1/events": {"limit": "5"},
          "/api/v1/evidence/export": {"seq": "1"}}
# These tests send hundreds of failed authentications from loopback on purpose: the lockout
# (tested in test_auth_lockout.py) is off here. `http:` stays last so that tests append to it.
FAST = """
evidence:
  checkpoint_interval: 200ms
http:
  auth_failure_limit: 0
"""
MY_NUMBER = "123456789018"  # valid check digit (parsers classifier tests)


def run(*args, env=None):
    return subprocess.run([MAMORI, *args], capture_output=True, text=True, timeout=120, env=env)


def route_table():
    out = run("token", "roles")
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()]


class AuthTest(unittest.TestCase):
    def setUp(self):
        self.tag = uuid.uuid4().hex[:10]
        self.d = None

    def tearDown(self):
        if self.d:
            self.d.cleanup()

    def start(self, config=FAST):
        self.d = Daemon(config_text=config).start()
        self.tokens = {r: self.d.create_token(r, f"{r}-{self.tag}") for r in ROLES}

    def call(self, method, path, token, params=None, headers=()):
        """(status, body, response headers as a lower-cased dict)."""
        with tempfile.NamedTemporaryFile("r", suffix=".hdr") as hdr:
            status, body = self.d.request(method, path, params or PARAMS.get(path), token=token,
                                          headers=headers, curl_args=["-D", hdr.name])
            fields = {}
            with open(hdr.name, errors="replace") as f:
                lines = f.read().splitlines()[1:]
            for line in lines:
                if ":" in line:
                    k, v = line.split(":", 1)
                    fields[k.strip().lower()] = v.strip()
        return status, body, fields

    def audit(self, *args):
        out = run("audit", "list", "--data-dir", self.d.data_dir, *args)
        self.assertEqual(out.returncode, 0, out.stderr)
        return [json.loads(line) for line in out.stdout.splitlines()]

    def test_every_route_needs_its_role(self):
        routes = route_table()
        self.assertEqual({(r["method"], r["path"]): r["role"] for r in routes}, EXPECTED)
        self.assertEqual(len(routes), len(EXPECTED), "a route is listed twice")
        # Nothing open, not even on loopback: every route is checked.
        self.start(FAST + "  open_on_loopback: []\n")
        self.d.logger("--rfc5424", "-t", "app", transport="tcp", message=f"hello {self.tag}")
        wait_for(lambda: self.d.metric("mamori_events_stored_total") >= 1, what="1 stored")
        unknown = "mmr_" + "A" * 43  # well formed, never issued
        refused = 0
        for r in routes:
            method, path, need = r["method"], r["path"], r["role"]
            where = f"{method} {path}"
            status, body, hdr = self.call(method, path, token=None)
            self.assertEqual(status, 401, f"{where} without a token: {body}")
            self.assertTrue(hdr.get("www-authenticate", "").startswith("Bearer"), f"{where} {hdr}")
            self.assertEqual(json.loads(body)["error"]["code"], 401)
            status, body, hdr = self.call(method, path, token=unknown)
            self.assertEqual(status, 401, f"{where} with an unknown token: {body}")
            self.assertIn("invalid_token", hdr.get("www-authenticate", ""))
            for garbage in ("Basic dXNlcjpwYXNz", "Bearer", "Bearer " + unknown + " x",
                            "Bearer " + "\u00e9" * 10):
                status, body, _ = self.call(method, path, token=None,
                                            headers=[f"Authorization: {garbage}"])
                self.assertEqual(status, 401, f"{where} with {garbage!r}: {body}")
            refused += 6
            idx = ROLES.index(need)
            if idx > 0:
                weaker = ROLES[idx - 1]
                status, body, _ = self.call(method, path, token=self.tokens[weaker])
                self.assertEqual(status, 403, f"{where} as {weaker}: {body}")
                self.assertIn(need, json.loads(body)["error"]["message"])
                refused += 1
            for role in ROLES[idx:]:
                status, body, _ = self.call(method, path, token=self.tokens[role])
                self.assertNotIn(status, (401, 403), f"{where} as {role}: {body}")
                if method == "GET" and path != "/api/v1/incident":
                    self.assertEqual(status, 200, f"{where} as {role}: {body}")
        samples = self.d.metrics()
        total = sum(v for n, _, v in samples if n == "mamori_api_auth_failures_total")
        self.assertEqual(total, refused)
        self.assertGreater(self.d.metric("mamori_api_auth_failures_total", reason="forbidden"), 0)
        self.assertGreater(self.d.metric("mamori_api_auth_failures_total", reason="malformed"), 0)

    def test_metrics_and_healthz_open_on_loopback_by_default(self):
        self.start()
        for path in ("/metrics", "/healthz"):
            status, _, _ = self.call("GET", path, token=None)
            self.assertEqual(status, 200, path)
        status, _, _ = self.call("GET", "/api/v1/incidents", token=None)
        self.assertEqual(status, 401)
        # The daemon refuses a config that would open anything else.
        bad = Daemon(config_text="http:\n  open_on_loopback: [/api/v1/events]\n")
        with self.assertRaises(AssertionError) as ctx:
            bad.start()
        self.assertIn("open_on_loopback", str(ctx.exception))
        bad.cleanup()

    def test_class_i_withheld_from_analysts_and_audited(self):
        self.start()
        for i in range(3):
            self.d.logger("--rfc5424", "-t", "hr", transport="tcp", message=f"{self.tag} ordinary {i}")
        for i in range(2):
            self.d.logger("--rfc5424", "-t", "hr", transport="tcp",
                          message=f"{self.tag} mynumber={MY_NUMBER} registered {i}")
        wait_for(lambda: self.d.metric("mamori_events_stored_total") >= 5, what="5 stored")

        def search(role, **params):
            status, body, _ = self.call("GET", "/api/v1/events", token=self.tokens[role],
                                        params={"q": self.tag, **params})
            self.assertEqual(status, 200, body)
            return json.loads(body)

        page = search("analyst")
        self.assertEqual(len(page["events"]), 3, page)
        self.assertEqual({e["info_class"] for e in page["events"]}, {"III"})
        self.assertNotIn(MY_NUMBER, json.dumps(page))
        self.assertEqual(page["withheld"], 2)
        # Paging one event at a time: the cursor walks past withheld events; nothing class I.
        seen, cursor, pages = [], None, 0
        for _ in range(20):
            pages += 1
            p = search("analyst", limit="1", **({"cursor": cursor} if cursor else {}))
            seen += p["events"]
            cursor = p["next"]
            if not cursor:
                break
        self.assertEqual(len(seen), 3)
        self.assertNotIn(MY_NUMBER, json.dumps(seen))
        inv = search("investigator")
        self.assertEqual(len(inv["events"]), 5)
        self.assertEqual(sorted(e["info_class"] for e in inv["events"]), ["I", "I", "III", "III", "III"])
        self.assertEqual(inv["withheld"], 0)
        self.assertIn(MY_NUMBER, json.dumps(inv))

        entries = [e for e in self.audit() if e["path"] == "/api/v1/events"]
        first = entries[0]
        self.assertEqual((first["actor"], first["role"], first["status"]),
                         (f"analyst-{self.tag}", "analyst", 200))
        self.assertEqual((first["returned"], first["withheld"]), (3, 2))
        self.assertIn(["q", self.tag], first["params"])
        self.assertTrue(first["peer"].startswith("127.0.0.1:"))
        last = entries[-1]
        self.assertEqual((last["actor"], last["returned"], last["withheld"]),
                         (f"investigator-{self.tag}", 5, 0))
        self.assertEqual(len(entries), 1 + pages + 1)  # every search, page by page
        self.assertEqual(sum(e["withheld"] for e in entries[1:-1]), 2)
        self.assertEqual(self.d.metric("mamori_audit_records_total"), len(self.audit()))

    def test_export_audited_and_tampering_detected(self):
        self.start()
        for i in range(4):
            self.d.logger("--rfc5424", "-t", "ev", transport="tcp", message=f"{self.tag} ev {i}")
        wait_for(lambda: self.d.metric("mamori_events_stored_total") >= 4, what="4 stored")
        # An analyst may not export: refused and audited.
        status, _, _ = self.call("GET", "/api/v1/evidence/export", token=self.tokens["analyst"],
                                 params={"q": self.tag})
        self.assertEqual(status, 403)

        def export():
            status, body, _ = self.call("GET", "/api/v1/evidence/export",
                                        token=self.tokens["investigator"], params={"q": self.tag})
            return (status, body) if status != 503 else None  # 503: wait for a checkpoint
        status, body = wait_for(export, what="an export covered by a checkpoint")
        self.assertEqual(status, 200, body)
        bundle = json.loads(body)
        self.assertEqual(bundle["records"], 4)
        with tempfile.TemporaryDirectory() as tmp:
            out_dir = os.path.join(tmp, "bundle")
            os.mkdir(out_dir)
            for name, content in bundle["files"].items():
                self.assertNotIn("/", name)
                with open(os.path.join(out_dir, name), "w") as f:
                    f.write(content)
            v = run("verify-bundle", out_dir)
            self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        # Bad selection: 400, audited too.
        status, _, _ = self.call("GET", "/api/v1/evidence/export",
                                 token=self.tokens["investigator"], params={"seq": "x"})
        self.assertEqual(status, 400)

        entries = [e for e in self.audit() if e["path"] == "/api/v1/evidence/export"]
        self.assertEqual(entries[0]["status"], 403)
        self.assertEqual(entries[0]["actor"], f"analyst-{self.tag}")
        ok = [e for e in entries if e["status"] == 200]
        self.assertEqual(len(ok), 1)
        self.assertEqual((ok[0]["actor"], ok[0]["returned"]), (f"investigator-{self.tag}", 4))
        self.assertIn(["q", self.tag], ok[0]["params"])
        self.assertEqual(entries[-1]["status"], 400)

        # Verify works while the daemon runs; then tamper with entry 2 on disk.
        out = run("audit", "verify", "--data-dir", self.d.data_dir)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("intact", out.stdout)
        n = len(self.audit())
        self.assertGreaterEqual(n, 3)
        self.assertEqual(self.d.stop(), 0)
        self.assertTrue(AUDIT_TAMPER, "AUDIT_TAMPER (the audit_tamper test tool) is not set")
        t = subprocess.run([AUDIT_TAMPER, os.path.join(self.d.data_dir, "audit"), "2"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(t.returncode, 0, t.stderr)
        out = run("audit", "verify", "--data-dir", self.d.data_dir)
        self.assertEqual(out.returncode, 3, out.stdout + out.stderr)
        self.assertIn("seq 2", out.stdout)
        self.assertEqual(self.audit()[1]["actor"], "mallory")

    def test_audit_head_anchored_in_checkpoints_and_truncation_detected(self):
        self.start()
        self.d.logger("--rfc5424", "-t", "ev", transport="tcp", message=f"{self.tag} anchor")
        wait_for(lambda: self.d.metric("mamori_events_stored_total") >= 1, what="1 stored")
        for _ in range(4):
            status, _, _ = self.call("GET", "/api/v1/events", token=self.tokens["analyst"],
                                     params={"q": self.tag})
            self.assertEqual(status, 200)
        n = len(self.audit())
        self.assertGreaterEqual(n, 4)
        cp_file = os.path.join(self.d.data_dir, "checkpoints.log")

        def anchored_seq():
            with open(cp_file) as f:
                seqs = [int(m.group(1)) for m in re.finditer(
                    r"^mamori-checkpoint v2 .* audit_seq=(\d+) audit_head=[0-9a-f]{64} sig=",
                    f.read(), re.M)]
            return max(seqs, default=0) >= n or None
        wait_for(anchored_seq, what=f"a checkpoint anchoring audit seq {n}")
        # While the daemon runs: intact and anchored.
        out = run("audit", "verify", "--data-dir", self.d.data_dir)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("anchored: ", out.stdout)

        self.assertEqual(self.d.stop(), 0)  # the final checkpoint anchors every entry
        n = len(self.audit())
        out = run("audit", "verify", "--data-dir", self.d.data_dir)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn(f"audit trail intact: {n} entries", out.stdout)
        self.assertIn(f"anchored: {n} entries covered by signed checkpoint", out.stdout)
        self.assertIn("(store, checkpoint file); 0 newer entries unanchored", out.stdout)
        v = run("verify", "--data-dir", self.d.data_dir)
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)

        # Rewrite the newest entry and recompute its hash: the chain is valid (nothing links to
        # it), but its hash is not the one the checkpoints signed.
        self.assertTrue(AUDIT_TAMPER, "AUDIT_TAMPER (the audit_tamper test tool) is not set")
        t = subprocess.run([AUDIT_TAMPER, os.path.join(self.d.data_dir, "audit"), str(n),
                            "--rehash"], capture_output=True, text=True, timeout=60)
        self.assertEqual(t.returncode, 0, t.stderr)
        out = run("audit", "verify", "--data-dir", self.d.data_dir)
        self.assertEqual(out.returncode, 4, out.stdout + out.stderr)
        self.assertRegex(out.stdout, rf"audit trail REWRITTEN: entry {n} has hash [0-9a-f]{{64}} "
                         rf"but checkpoint id \d+ \(store\) at \S+ anchored seq {n} hash ")

        # Delete the two newest entries behind its back: the shorter chain is valid, but the
        # signed checkpoints anchored seq n.
        t = subprocess.run([AUDIT_TAMPER, os.path.join(self.d.data_dir, "audit"), str(n - 1),
                            "--truncate"], capture_output=True, text=True, timeout=60)
        self.assertEqual(t.returncode, 0, t.stderr)
        self.assertEqual(len(self.audit()), n - 2)
        out = run("audit", "verify", "--data-dir", self.d.data_dir)
        self.assertEqual(out.returncode, 4, out.stdout + out.stderr)
        self.assertRegex(out.stdout, rf"audit trail ends at seq {n - 2} but checkpoint id \d+ "
                         rf"\(store\) at \S+ anchored seq {n} hash [0-9a-f]{{64}}")
        # The evidence store itself is untouched.
        v = run("verify", "--data-dir", self.d.data_dir)
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)

    def test_audit_trail_without_an_anchoring_checkpoint_is_reported_unanchored(self):
        # No checkpoint before the crash (hour-long interval, SIGKILL: no final checkpoint).
        self.start(config="evidence:\n  checkpoint_interval: 1h\n")
        self.d.logger("--rfc5424", "-t", "ev", transport="tcp", message=f"{self.tag} x")
        wait_for(lambda: self.d.metric("mamori_events_stored_total") >= 1, what="1 stored")
        status, _, _ = self.call("GET", "/api/v1/events", token=self.tokens["analyst"],
                                 params={"q": self.tag})
        self.assertEqual(status, 200)
        self.d.stop(sig=signal.SIGKILL)
        n = len(self.audit())
        self.assertGreaterEqual(n, 1)
        out = run("audit", "verify", "--data-dir", self.d.data_dir)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn(f"audit trail intact: {n} entries", out.stdout)
        self.assertIn(f"not anchored: no signed checkpoint carries the audit head", out.stdout)
        self.assertIn(f"{n} entries unanchored", out.stdout)

    def test_revoked_token_refused_without_restart(self):
        self.start()
        name = f"temp-{self.tag}"
        tok = self.d.create_token("viewer", name)
        status, _, _ = self.call("GET", "/api/v1/incidents", token=tok)
        self.assertEqual(status, 200)
        listed = run("token", "list", "--data-dir", self.d.data_dir)
        self.assertEqual(listed.returncode, 0)
        self.assertNotIn(tok, listed.stdout)  # never printed again
        with open(os.path.join(self.d.data_dir, "tokens")) as f:
            self.assertNotIn(tok, f.read())
        self.assertEqual(os.stat(os.path.join(self.d.data_dir, "tokens")).st_mode & 0o777, 0o600)
        self.d.revoke_token(name)
        status, body, hdr = self.call("GET", "/api/v1/incidents", token=tok)
        self.assertEqual(status, 401, body)
        self.assertIn("revoked", body)
        self.assertEqual(self.d.metric("mamori_api_auth_failures_total", reason="revoked"), 1)
        revoked = [json.loads(x) for x in run("token", "list", "--data-dir",
                                              self.d.data_dir).stdout.splitlines()
                   if json.loads(x)["name"] == name]
        self.assertIsNotNone(revoked[0]["revoked"])
        # A new token works at once, also without a restart.
        tok2 = self.d.create_token("viewer", name)
        status, _, _ = self.call("GET", "/api/v1/incidents", token=tok2)
        self.assertEqual(status, 200)
        # The CLI refuses bad input.
        self.assertEqual(run("token", "create", "--data-dir", self.d.data_dir, "--role", "root",
                             "--name", "x").returncode, 2)
        self.assertEqual(run("token", "create", "--data-dir", self.d.data_dir, "--role",
                             "viewer", "--name", "bad name").returncode, 2)
        self.assertEqual(run("token", "revoke", "nobody", "--data-dir",
                             self.d.data_dir).returncode, 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
