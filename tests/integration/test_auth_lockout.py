"""Lockout after failed authentications, end to end through the real daemon and curl.

With http.auth_failure_limit 3, auth_failure_window 60s, auth_lockout 2s:
- 403 (authenticated, role too weak) never counts; a success clears the failure count.
- The 3rd failed authentication (401) within the window locks 127.0.0.1 out: every request to a
  token-checked route then gets 429 with Retry-After, even with a valid admin token, and the
  refusals of audited routes are in the audit trail with status 429.
- /metrics (open on loopback, no token checked) still answers and counts the lockout; after the
  lockout the valid token works again.
- Bad values of the keys are refused at startup, naming the key.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import MAMORI, Daemon, metric_value, wait_for  # noqa: E402

CONFIG = """
http:
  auth_failure_limit: 3
  auth_failure_window: 60s
  auth_lockout: 2s
"""
BAD_TOKEN = "mmr_" + "B" * 43  # well formed, never issued


class AuthLockoutTest(unittest.TestCase):
    def setUp(self):
        self.d = None

    def tearDown(self):
        if self.d:
            self.d.cleanup()

    def call(self, method, path, token, params=None):
        """(status, body, response headers as a lower-cased dict)."""
        with tempfile.NamedTemporaryFile("r", suffix=".hdr") as hdr:
            status, body = self.d.request(method, path, params, token=token,
                                          curl_args=["-D", hdr.name])
            with open(hdr.name, errors="replace") as f:
                lines = f.read().splitlines()[1:]
        fields = {}
        for line in lines:
            if ":" in line:
                k, v = line.split(":", 1)
                fields[k.strip().lower()] = v.strip()
        return status, body, fields

    def audit(self):
        out = subprocess.run([MAMORI, "audit", "list", "--data-dir", self.d.data_dir],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        return [json.loads(line) for line in out.stdout.splitlines()]

    def test_lockout_refuses_even_a_valid_token_then_ends(self):
        self.d = Daemon(config_text=CONFIG).start()
        admin = self.d.token
        viewer = self.d.create_token("viewer", "lockout-viewer")

        # 403 is an authenticated caller: any number of them never locks out.
        for _ in range(6):
            status, body, _ = self.call("POST", "/api/v1/rules/reload", viewer)
            self.assertEqual(status, 403, body)
        self.assertEqual(self.call("GET", "/api/v1/incidents", viewer)[0], 200)

        # Two failures, then a success: the count starts again.
        for _ in range(2):
            self.assertEqual(self.call("GET", "/api/v1/incidents", BAD_TOKEN)[0], 401)
        self.assertEqual(self.call("GET", "/api/v1/incidents", admin)[0], 200)
        self.assertEqual(self.d.metric("mamori_api_auth_lockouts_total"), 0)

        # Three failures within the window: the third is still answered 401, and locks out.
        for i in range(3):
            status, body, _ = self.call("GET", "/api/v1/incidents", BAD_TOKEN if i else None)
            self.assertEqual(status, 401, body)
        locked_at = time.monotonic()

        status, body, hdrs = self.call("GET", "/api/v1/incidents", BAD_TOKEN)
        self.assertEqual(status, 429, body)
        self.assertEqual(json.loads(body)["error"]["code"], 429)
        self.assertIn(hdrs.get("retry-after"), ("1", "2"), hdrs)
        # A valid token gains nothing during the lockout: it is not even looked at.
        status, body, hdrs = self.call("GET", "/api/v1/incidents", admin)
        self.assertEqual(status, 429, body)
        self.assertIn(hdrs.get("retry-after"), ("1", "2"), hdrs)
        # An audited route: refused, and the refusal is in the audit trail.
        status, body, _ = self.call("GET", "/api/v1/events", admin, params={"limit": "1"})
        self.assertEqual(status, 429, body)
        refused = [e for e in self.audit() if e["status"] == 429]
        self.assertEqual(len(refused), 1, refused)
        self.assertEqual(refused[0]["path"], "/api/v1/events")
        self.assertTrue(refused[0]["peer"].startswith("127.0.0.1:"), refused[0])
        self.assertEqual(refused[0]["actor"], "")

        # /metrics is open on loopback (no token checked): it still answers, and counts.
        samples = self.d.metrics()
        self.assertEqual(metric_value(samples, "mamori_api_auth_lockouts_total"), 1)
        self.assertEqual(metric_value(samples, "mamori_api_auth_lockout_refusals_total"), 3)
        self.assertEqual(metric_value(samples, "mamori_api_auth_locked_out_addresses"), 1)
        self.assertEqual(metric_value(samples, "mamori_api_auth_lockout_evictions_total"), 0)
        self.assertEqual(metric_value(samples, "mamori_api_auth_failures_total",
                                      reason="unknown"), 4)
        self.assertEqual(metric_value(samples, "mamori_api_auth_failures_total",
                                      reason="forbidden"), 6)

        # After the lockout, the valid token works again (and not much before its end).
        wait_for(lambda: self.call("GET", "/api/v1/incidents", admin)[0] == 200, timeout=10,
                 interval=0.2, what="the lockout to end")
        self.assertGreaterEqual(time.monotonic() - locked_at, 1.5)
        self.assertEqual(self.d.metric("mamori_api_auth_locked_out_addresses"), 0)
        refusals = self.d.metric("mamori_api_auth_lockout_refusals_total")
        self.assertGreaterEqual(refusals, 3)
        # The count started afresh: one failure does not lock out again.
        self.assertEqual(self.call("GET", "/api/v1/incidents", BAD_TOKEN)[0], 401)
        self.assertEqual(self.call("GET", "/api/v1/incidents", admin)[0], 200)
        self.assertEqual(self.d.metric("mamori_api_auth_lockouts_total"), 1)

    def test_bad_values_refused_at_startup(self):
        for text, key in (("http:\n  auth_failure_limit: -1\n", "http.auth_failure_limit"),
                          ("http:\n  auth_failure_window: soon\n", "http.auth_failure_window"),
                          ("http:\n  auth_lockout: -2s\n", "http.auth_lockout"),
                          ("http:\n  auth_lockout: 0s\n", "http.auth_lockout")):
            bad = Daemon(config_text=text, admin_token=False)
            try:
                with self.assertRaises(AssertionError) as ctx:
                    bad.start()
                self.assertIn(key, str(ctx.exception), text)
            finally:
                bad.cleanup()


if __name__ == "__main__":
    unittest.main()
