"""The incident workflow through the real daemon: SSH brute-force lines (the Wazuh test corpus)
raise an incident with the default pack; it is acknowledged, assigned, annotated and resolved
through the HTTP API (curl) and through `mamori incidents --server`; an invalid move is 409; the
timeline and the incident metrics follow; a restart keeps the state; an alert after resolve opens
a new incident."""
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import MAMORI, Daemon, wait_for  # noqa: E402
from test_detection import DEFAULT_PACK, wazuh_case  # noqa: E402


def brute_force_lines(ip=None):
    lines = ["<38>" + line for line in wazuh_case("sshd brute force rule")]
    if ip is not None:
        lines = [line.replace("192.168.0.1", ip) for line in lines]
    return "".join(line + "\n" for line in lines).encode()


class IncidentWorkflowTest(unittest.TestCase):
    def setUp(self):
        self.d = Daemon(extra_args=["--rules", DEFAULT_PACK]).start()
        self.tokens = {}

    def tearDown(self):
        self.d.cleanup()

    def server(self):
        return f"http://127.0.0.1:{self.d.http_port}"

    def token(self, name):
        """An analyst token named `name`: the incident timeline records that name."""
        if name not in self.tokens:
            self.tokens[name] = self.d.create_token("analyst", name)
        return self.tokens[name]

    def post(self, path, body=None, actor="alice"):
        return self.d.post(path, body, token=self.token(actor))

    def get(self, inc_id):
        _, body = self.d.curl("/api/v1/incident", {"id": str(inc_id)}, expect_status=200)
        return json.loads(body)

    def cli(self, *args, expect=0, actor="alice"):
        """mamori incidents ARGS; the token of `actor` in MAMORI_TOKEN (the CLI's default)."""
        env = dict(os.environ, MAMORI_TOKEN=self.token(actor))
        out = subprocess.run([MAMORI, "incidents", *args], capture_output=True, text=True,
                             timeout=60, env=env)
        self.assertEqual(out.returncode, expect, f"{args}: {out.stdout} {out.stderr}")
        return out

    def raise_incident(self):
        self.d.send_tcp(brute_force_lines())

        def brute_force():
            _, body = self.d.curl("/api/v1/incidents", {"rule": "ssh-brute-force"},
                                  expect_status=200)
            return json.loads(body)["incidents"]
        incs = wait_for(brute_force, what="the ssh-brute-force incident")
        self.assertEqual(len(incs), 1, incs)
        return incs[0]

    def test_workflow_api_cli_metrics_restart(self):
        inc = self.raise_incident()
        iid = inc["id"]
        self.assertEqual(inc["status"], "new")
        self.assertEqual(inc["timeline"][0]["kind"], "created")
        self.assertGreater(self.d.metric(
            "mamori_incidents_unacknowledged_oldest_timestamp_seconds", severity="high"), 0)
        self.assertEqual(self.d.metric("mamori_incidents_open", severity="high"), 1)

        # Acknowledge through the API (curl) with alice's token: she is the actor.
        status, body = self.post(f"/api/v1/incident/acknowledge?id={iid}", {})
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["status"], "acknowledged")
        # Acknowledging again is an invalid move: 409 with a message naming the state.
        status, body = self.post(f"/api/v1/incident/acknowledge?id={iid}", {})
        self.assertEqual(status, 409, body)
        self.assertIn("acknowledged", json.loads(body)["error"]["message"])
        # Bad input: 400 naming the field; unknown incident: 404.
        status, body = self.post(f"/api/v1/incident/assign?id={iid}", {"owner": 5})
        self.assertEqual(status, 400, body)
        self.assertIn("owner", body)
        status, body = self.post(f"/api/v1/incident/note?id={iid}", "not json")
        self.assertEqual(status, 400, body)
        status, body = self.post(f"/api/v1/incident/note?id={iid}", {"txt": "x"})
        self.assertEqual(status, 400, body)
        self.assertIn("txt", body)
        # The actor comes from the token: an "actor" field is refused.
        status, body = self.post(f"/api/v1/incident/note?id={iid}", {"text": "x", "actor": "eve"})
        self.assertEqual(status, 400, body)
        self.assertIn("actor", body)
        status, _ = self.post("/api/v1/incident/start?id=9999", {})
        self.assertEqual(status, 404)
        status, _ = self.post("/api/v1/incident/start?id=abc", {})
        self.assertEqual(status, 400)
        status, _ = self.d.curl("/api/v1/incident", {"id": "9999"})
        self.assertEqual(status, 404)

        # Assign and note through the API.
        status, body = self.post(f"/api/v1/incident/assign?id={iid}", {"owner": "bob"})
        self.assertEqual(status, 200, body)
        status, body = self.post(f"/api/v1/incident/note?id={iid}",
                                 {"text": "source blocked at the edge"}, actor="bob")
        self.assertEqual(status, 200, body)

        # Through the CLI (which talks to the daemon's API): --token, or MAMORI_TOKEN.
        self.cli("start", str(iid), "--server", self.server(), "--token", self.token("bob"),
                 actor="nobody-else")
        self.cli("note", str(iid), "--text", "password reset for the targeted account",
                 "--server", self.server(), actor="bob")
        # Without a token the daemon refuses (401) and the CLI says so.
        out = subprocess.run([MAMORI, "incidents", "ack", str(iid), "--server", self.server()],
                             capture_output=True, text=True, timeout=60,
                             env={k: v for k, v in os.environ.items() if k != "MAMORI_TOKEN"})
        self.assertEqual(out.returncode, 1, out.stderr)
        self.assertIn("401", out.stderr)
        out = self.cli("ack", str(iid), "--server", self.server(), expect=1)
        self.assertIn("409", out.stderr)
        self.cli("resolve", str(iid), "--server", self.server(), "--text", "no further attempts",
                 actor="bob")
        # Changes offline are refused (the daemon is the only writer).
        self.cli("close", str(iid), "--data-dir", self.d.data_dir, expect=2)

        shown = json.loads(self.cli("show", str(iid), "--server", self.server()).stdout)
        self.assertEqual(shown["status"], "resolved")
        self.assertEqual(shown["owner"], "bob")
        self.assertIsNotNone(shown["acknowledged"])
        tl = shown["timeline"]
        self.assertEqual([e["kind"] for e in tl],
                         ["created", "state", "assign", "note", "state", "note", "state"])
        self.assertEqual((tl[1]["from"], tl[1]["to"], tl[1]["actor"]),
                         ("new", "acknowledged", "alice"))
        self.assertEqual((tl[2]["text"], tl[2]["actor"]), ("bob", "alice"))
        self.assertEqual((tl[3]["text"], tl[3]["actor"]), ("source blocked at the edge", "bob"))
        self.assertEqual((tl[4]["to"], tl[4]["actor"]), ("in_progress", "bob"))
        self.assertEqual(tl[5]["actor"], "bob")
        self.assertEqual((tl[6]["to"], tl[6]["text"], tl[6]["actor"]),
                         ("resolved", "no further attempts", "bob"))
        self.assertEqual(shown["evidence_seqs"], inc["evidence_seqs"])

        # Metrics: nothing open or unacknowledged; one acknowledgement timed.
        self.assertEqual(self.d.metric("mamori_incidents_open", severity="high"), 0)
        self.assertEqual(self.d.metric(
            "mamori_incidents_unacknowledged_oldest_timestamp_seconds", severity="high"), 0)
        self.assertEqual(self.d.metric(
            "mamori_incidents_time_to_acknowledge_seconds_count", severity="high"), 1)

        # Listing with filters, through the API and the CLI (both ways).
        _, body = self.d.curl("/api/v1/incidents", {"status": "resolved", "severity": "high"},
                              expect_status=200)
        self.assertEqual([i["id"] for i in json.loads(body)["incidents"]], [iid])
        listed = [json.loads(x) for x in self.cli("list", "--status", "resolved", "--server",
                                                   self.server()).stdout.splitlines()]
        self.assertEqual([i["id"] for i in listed], [iid])
        offline = [json.loads(x) for x in self.cli("list", "--data-dir", self.d.data_dir,
                                                    "--status", "resolved").stdout.splitlines()]
        self.assertEqual([i["id"] for i in offline], [iid])
        status, _ = self.d.curl("/api/v1/incidents", {"severity": "urgent"})
        self.assertEqual(status, 400)

        # Restart: the state, owner and timeline persist.
        self.assertEqual(self.d.stop(), 0)
        offline = json.loads(self.cli("show", str(iid), "--data-dir", self.d.data_dir).stdout)
        self.assertEqual(offline["status"], "resolved")
        self.d.start()
        after = self.get(iid)
        self.assertEqual(after["status"], "resolved")
        self.assertEqual(after["owner"], "bob")
        self.assertEqual(len(after["timeline"]), 7)
        self.assertEqual(self.d.metric("mamori_incidents_open", severity="high"), 0)

        # A new brute force from the same address after resolve opens a new incident...
        self.d.send_tcp(brute_force_lines())

        def second():
            _, body = self.d.curl("/api/v1/incidents", {"rule": "ssh-brute-force"},
                                  expect_status=200)
            return [i for i in json.loads(body)["incidents"] if i["id"] != iid]
        new = wait_for(second, what="a second ssh-brute-force incident")
        self.assertEqual(len(new), 1)
        self.assertEqual(new[0]["status"], "new")
        self.assertEqual(new[0]["group_key"], inc["group_key"])
        self.assertEqual(self.get(iid)["count"], inc["count"])
        # ...so the old one cannot be reopened while the new one is open; close the new one
        # (a duplicate) and reopen the old one through the CLI.
        out = self.cli("reopen", str(iid), "--server", self.server(), expect=1)
        self.assertIn("409", out.stderr)
        self.cli("close", str(new[0]["id"]), "--server", self.server(), "--text", "duplicate")
        reopened = json.loads(self.cli("reopen", str(iid), "--server", self.server(),
                                       actor="carol").stdout)
        self.assertEqual(reopened["status"], "reopened")
        self.assertEqual(reopened["timeline"][-1]["actor"], "carol")
        self.assertEqual(self.d.metric("mamori_incidents_open", severity="high"), 1)
        self.assertGreater(self.d.metric(
            "mamori_incidents_unacknowledged_oldest_timestamp_seconds", severity="high"), 0)


class ReopenWindowTest(unittest.TestCase):
    """incidents.reopen_window: an alert soon after a resolve reopens the resolved incident."""
    tearDown = IncidentWorkflowTest.tearDown
    token = IncidentWorkflowTest.token
    post = IncidentWorkflowTest.post
    get = IncidentWorkflowTest.get
    raise_incident = IncidentWorkflowTest.raise_incident

    def setUp(self):
        self.d = Daemon(config_text="incidents: {reopen_window: 1h}\n",
                        extra_args=["--rules", DEFAULT_PACK]).start()
        self.tokens = {}

    def test_alert_within_window_reopens(self):
        inc = self.raise_incident()
        iid = inc["id"]
        status, body = self.post(f"/api/v1/incident/resolve?id={iid}", {"text": "blocked"})
        self.assertEqual(status, 200, body)
        # The rule fired once for these lines' time window; a restart clears its correlation
        # state (not the incidents), so the same lines alert again — after a restart, which the
        # reopen window must survive.
        self.assertEqual(self.d.stop(), 0)
        self.d.start()
        self.d.send_tcp(brute_force_lines())

        def reopened():
            got = self.get(iid)
            return got if got["status"] == "reopened" else None
        got = wait_for(reopened, what="the resolved incident to be reopened by the alert")
        self.assertGreater(got["count"], inc["count"])
        last_state = [t for t in got["timeline"] if t["kind"] == "state"][-1]
        self.assertEqual((last_state["from"], last_state["to"], last_state["actor"]),
                         ("resolved", "reopened", "mamori"))
        _, body = self.d.curl("/api/v1/incidents", {"rule": "ssh-brute-force"}, expect_status=200)
        self.assertEqual([i["id"] for i in json.loads(body)["incidents"]], [iid])


if __name__ == "__main__":
    unittest.main()
