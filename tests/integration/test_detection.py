"""Detection through the real daemon: the Wazuh test lines for SSH brute force (read in place
from the corpus) sent over TCP raise the brute-force incident, visible through
GET /api/v1/incidents and `mamori incidents`, with evidence seqs that resolve to the sent lines;
SIGHUP and POST /api/v1/rules/reload reload the rules; a missing rules path is a config error."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from harness import CORPORA, MAMORI, Daemon, wait_for  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_PACK = os.path.join(REPO, "rules", "default")
SSHD_INI = os.path.join(CORPORA, "wazuh-ruleset", "ruleset", "testing", "tests", "sshd.ini")


def wazuh_case(section):
    """The `log N pass = ...` lines of one [section] of a Wazuh .ini test file."""
    lines, inside = [], False
    with open(SSHD_INI, encoding="utf-8") as f:
        for raw in f:
            line = raw.rstrip("\n")
            if line.startswith("["):
                inside = line.strip() == f"[{section}]"
                continue
            if inside and line.startswith("log ") and " pass = " in line:
                lines.append(line.split(" pass = ", 1)[1])
    if not lines:
        raise AssertionError(f"no lines in [{section}] of {SSHD_INI}")
    return lines


def incidents_cli(data_dir, *args):
    out = subprocess.run([MAMORI, "incidents", "--data-dir", data_dir, *args],
                         capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise AssertionError(f"mamori incidents exited {out.returncode}: {out.stderr}")
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def post(d, path):
    return d.post(path)


class BruteForceTest(unittest.TestCase):
    def setUp(self):
        self.d = Daemon(extra_args=["--rules", DEFAULT_PACK]).start()

    def tearDown(self):
        self.d.cleanup()

    def api_incidents(self, **params):
        _, body = self.d.curl("/api/v1/incidents", params, expect_status=200)
        return json.loads(body)["incidents"]

    def check_case(self, section):
        # As a syslog relay forwards a log file: PRI (auth.info) + the line, LF-framed over TCP.
        # (A bare line starting with digits, like Wazuh's "2020-03-24 ...", would read as an
        # RFC 6587 octet count.)
        sent = ["<38>" + line for line in wazuh_case(section)]
        self.assertGreaterEqual(len(sent), 5)
        self.d.send_tcp("".join(line + "\n" for line in sent).encode())

        def brute_force():
            return [i for i in self.api_incidents() if i["rule_id"] == "ssh-brute-force"]
        incs = wait_for(brute_force, what="the ssh-brute-force incident")
        self.assertEqual(len(incs), 1, incs)
        inc = incs[0]
        self.assertEqual(inc["status"], "new")
        self.assertEqual(inc["severity"], "high")
        self.assertIn("policy.6.6", inc["tags"])
        self.assertEqual(inc["count"], 1)  # 8 lines: one alert at the 5th, then suppressed
        self.assertEqual(len(inc["evidence_seqs"]), 5)

        # The evidence seqs resolve to the lines we sent, through search.
        stored = self.d.search_cli("--limit", "1000")
        by_seq = {ev["seq"]: ev for ev in stored}
        for seq in inc["evidence_seqs"]:
            self.assertIn(seq, by_seq, f"evidence seq {seq} not in the store")
            self.assertIn(by_seq[seq]["raw"], sent)
        # The offline CLI sees the same incident while the daemon runs.
        cli = [i for i in incidents_cli(self.d.data_dir) if i["rule_id"] == "ssh-brute-force"]
        self.assertEqual([i["id"] for i in cli], [inc["id"]])
        self.assertEqual(cli[0]["evidence_seqs"], inc["evidence_seqs"])
        self.assertEqual(incidents_cli(self.d.data_dir, "--status", "closed"), [])
        # The rule metrics count the alert.
        self.assertEqual(self.d.metric("mamori_incidents_opened_total", severity="high"), 1)
        return inc

    def test_failed_password_case(self):  # Wazuh rule 5763
        self.check_case("sshd brute force rule")

    def test_invalid_user_case(self):  # Wazuh rule 5712
        self.check_case("sshd brute force rule 2")

    def test_incidents_survive_restart(self):
        inc = self.check_case("sshd brute force rule")
        self.assertEqual(self.d.stop(), 0)
        self.assertEqual(incidents_cli(self.d.data_dir)[0]["id"], inc["id"])
        self.d.start()
        _, body = self.d.curl("/api/v1/incidents", {"limit": "5"}, expect_status=200)
        self.assertEqual(json.loads(body)["incidents"][0]["id"], inc["id"])
        status, _ = self.d.curl("/api/v1/incidents", {"status": "bogus"})
        self.assertEqual(status, 400)


class ReloadTest(unittest.TestCase):
    def setUp(self):
        self.rules_dir = tempfile.mkdtemp(prefix="mamori-it-rules-")
        self.write("base.yml", self.rule("it-base", "base-never-sent-" + uuid.uuid4().hex))
        self.d = Daemon(extra_args=["--rules", self.rules_dir]).start()

    def tearDown(self):
        self.d.cleanup()
        shutil.rmtree(self.rules_dir, ignore_errors=True)

    def write(self, name, text):
        with open(os.path.join(self.rules_dir, name), "w") as f:
            f.write(text)

    @staticmethod
    def rule(rule_id, marker):
        return (f"id: {rule_id}\ntitle: integration marker {rule_id}\nseverity: low\n"
                f"match:\n  message: 're:{marker}'\n")

    def incident_for(self, rule_id):
        _, body = self.d.curl("/api/v1/incidents", expect_status=200)
        return [i for i in json.loads(body)["incidents"] if i["rule_id"] == rule_id]

    def test_sighup_loads_a_new_rule(self):
        marker = "reload-marker-" + uuid.uuid4().hex[:10]
        self.write("new.yml", self.rule("it-new", marker))
        self.d.proc.send_signal(signal.SIGHUP)  # the PID we started
        wait_for(lambda: "reloaded: 2 rules" in self.d.log(), what="the reload log line")
        self.d.logger("-t", "itapp", transport="tcp", message=f"{marker} after reload")
        incs = wait_for(lambda: self.incident_for("it-new"), what="the new rule's incident")
        self.assertEqual(incs[0]["severity"], "low")
        self.assertIsNone(self.d.proc.poll(), "SIGHUP must not stop the daemon")

    def test_api_reload_reports_diagnostics(self):
        self.write("bad.yml", "id: it-bad\ntitle: bad\nseverity: hihg\nmatch: {message: x}\n")
        marker = "api-marker-" + uuid.uuid4().hex[:10]
        self.write("good.yml", self.rule("it-good", marker))
        status, body = post(self.d, "/api/v1/rules/reload")
        self.assertEqual(status, 200, body)
        report = json.loads(body)
        self.assertEqual(report["rules"], 2, report)  # base + good; bad is left out
        self.assertGreaterEqual(report["errors"], 1, report)
        bad = [x for x in report["diagnostics"] if x["rule_id"] == "it-bad"]
        self.assertTrue(bad, report)
        self.assertTrue(bad[0]["file"].endswith("bad.yml"))
        self.assertGreater(bad[0]["line"], 0)
        self.assertEqual(report["kept_state"], 1)  # it-base is unchanged
        self.assertIn("bad.yml:", self.d.log())
        self.d.logger("-t", "itapp", transport="tcp", message=f"{marker} via api reload")
        wait_for(lambda: self.incident_for("it-good"), what="the good rule's incident")


class AbsenceTest(unittest.TestCase):
    """A source that stops sending raises an incident: the daemon ticks the engine on wall time."""

    def setUp(self):
        self.rules_dir = tempfile.mkdtemp(prefix="mamori-it-rules-")
        self.app = "silent" + uuid.uuid4().hex[:8]
        with open(os.path.join(self.rules_dir, "absence.yml"), "w") as f:
            f.write(f"id: it-silent\ntitle: source went quiet\nseverity: medium\n"
                    f"match:\n  app: {self.app}\n"
                    f"absence: {{group_by: [app], after: 2s}}\n"
                    f"summary: '{{app}} went quiet'\n")
        self.d = Daemon(extra_args=["--rules", self.rules_dir]).start()

    def tearDown(self):
        self.d.cleanup()
        shutil.rmtree(self.rules_dir, ignore_errors=True)

    def incidents(self):
        _, body = self.d.curl("/api/v1/incidents", expect_status=200)
        return [i for i in json.loads(body)["incidents"] if i["rule_id"] == "it-silent"]

    def test_silent_source_raises_one_incident(self):
        self.d.logger("-t", self.app, transport="tcp", message="still here")
        wait_for(lambda: self.d.metric("mamori_events_stored_total") >= 1, what="stored")
        # Not before `after` has passed...
        self.assertEqual(self.incidents(), [])
        # ...and within a few ticks (every 5 s) after it.
        incs = wait_for(self.incidents, timeout=30, what="the absence incident")
        self.assertEqual(len(incs), 1)
        self.assertEqual(incs[0]["group_key"], f"app={self.app}", incs[0])
        self.assertEqual(incs[0]["fields"]["app"], self.app)
        self.assertEqual(len(incs[0]["evidence_seqs"]), 1)  # the last record it sent


class StartupTest(unittest.TestCase):
    def test_missing_rules_path_exits_2(self):
        d = tempfile.mkdtemp(prefix="mamori-it-")
        try:
            out = subprocess.run([MAMORI, "serve", "--data-dir", d, "--rules",
                                  os.path.join(d, "no-such-rules")],
                                 capture_output=True, text=True, timeout=60)
            self.assertEqual(out.returncode, 2, out.stderr)
            self.assertIn("no-such-rules", out.stderr)
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_bad_rule_does_not_stop_startup(self):
        rules_dir = tempfile.mkdtemp(prefix="mamori-it-rules-")
        try:
            with open(os.path.join(rules_dir, "bad.yml"), "w") as f:
                f.write("id: it-bad\ntitle: bad\nseverity: high\nmatch: {message: 're:('}\n")
            d = Daemon(extra_args=["--rules", rules_dir, "--rules", DEFAULT_PACK]).start()
            try:
                log = d.log()
                self.assertIn("bad.yml:", log)
                self.assertIn("it-bad", log)
            finally:
                d.cleanup()
        finally:
            shutil.rmtree(rules_dir, ignore_errors=True)



COMSVCS_RULE = r"""title: Process memory dump via comsvcs (test)
id: 6ad8f3c0-1b2c-4d3e-8f40-5a6b7c8d9e01
logsource: {product: windows, category: process_creation}
detection:
  sel:
    Image|endswith: '\rundll32.exe'
    CommandLine|contains|all: [comsvcs, MiniDump]
  condition: sel
level: high
"""

IMAGE = "C:\\Windows\\System32\\rundll32.exe"
CMDLINE = "rundll32.exe C:\\windows\\System32\\comsvcs.dll MiniDump 756 C:\\t\\l.dmp full"
SYSMON = "Microsoft-Windows-Sysmon/Operational"


class WindowsShippersTest(unittest.TestCase):
    """A Sigma rule on Windows fields fires on the JSON of every common shipper, as received
    over TCP: the XML-to-JSON layout, NXLog's flat keys, Winlogbeat and Wazuh, and on Security
    4688 as well as Sysmon 1; and on the OTRF (Mordor) attack datasets, read in place from the
    corpus."""

    def setUp(self):
        self.rules_dir = tempfile.mkdtemp(prefix="mamori-it-rules-")
        self.d = None

    def tearDown(self):
        if self.d:
            self.d.cleanup()
        shutil.rmtree(self.rules_dir, ignore_errors=True)

    def incidents(self, rule_id):
        _, body = self.d.curl("/api/v1/incidents", {"rule": rule_id}, expect_status=200)
        return [i for i in json.loads(body)["incidents"] if i["rule_id"] == rule_id]

    def test_every_shipper_layout(self):
        with open(os.path.join(self.rules_dir, "comsvcs.yml"), "w") as f:
            f.write(COMSVCS_RULE)
        self.d = Daemon(extra_args=["--rules", self.rules_dir]).start()
        image, cmd = IMAGE, CMDLINE
        hits = {
            "nested": {"Event": {"System": {"EventID": 1, "Channel": SYSMON, "Computer": "ws1"},
                                 "EventData": {"Image": image, "CommandLine": cmd}}},
            "nxlog": {"EventID": 1, "Channel": SYSMON, "Hostname": "ws2", "Image": image,
                      "CommandLine": cmd},
            "winlogbeat": {"winlog": {"event_id": 1, "channel": SYSMON, "computer_name": "ws3",
                                      "event_data": {"Image": image, "CommandLine": cmd}}},
            "wazuh": {"win": {"system": {"eventID": "1", "channel": SYSMON, "computer": "ws4"},
                              "eventdata": {"image": image, "commandLine": cmd}}},
            # Security 4688 names the process NewProcessName (Sigma's Image).
            "security-4688": {"EventID": 4688, "Channel": "Security", "Hostname": "ws6",
                              "NewProcessName": image, "CommandLine": cmd},
        }
        misses = [
            # A network connection (Sysmon 3) is not a process creation.
            {"EventID": 3, "Channel": SYSMON, "Hostname": "ws5", "Image": image,
             "CommandLine": cmd},
            # An application's JSON with the same field names is not a Windows event.
            {"app": "builder", "Image": image, "CommandLine": cmd},
        ]
        lines = {name: json.dumps(ev) for name, ev in hits.items()}
        payload = list(lines.values()) + [json.dumps(ev) for ev in misses]
        self.d.send_tcp("".join(line + "\n" for line in payload).encode())
        rule = "6ad8f3c0-1b2c-4d3e-8f40-5a6b7c8d9e01"
        wait_for(lambda: self.d.metric("mamori_rules_events_total") >= len(payload),
                 what="the rule engine to see every line")
        incs = wait_for(lambda: [i for i in self.incidents(rule) if i["count"] >= len(hits)],
                        what="an alert of the rule per layout")
        self.assertEqual(len(incs), 1, incs)
        self.assertEqual(incs[0]["count"], len(hits), incs[0])
        stored = {ev["seq"]: ev["raw"] for ev in self.d.search_cli("--limit", "100")}
        fired = sorted(stored[seq] for seq in incs[0]["evidence_seqs"])
        self.assertEqual(fired, sorted(lines.values()))

    def test_otrf_lsass_dump_dataset(self):
        dataset = os.path.join(CORPORA, "otrf-security-datasets", "atomic", "windows",
                               "credential_access", "host",
                               "psh_lsass_memory_dump_comsvcs_2020-10-18T19500924.json")
        sigma_windows = os.path.join(CORPORA, "sigma", "rules", "windows")
        if not os.path.exists(dataset) or not os.path.isdir(sigma_windows):
            self.skipTest("corpus not found")
        self.d = Daemon(extra_args=["--rules", sigma_windows]).start()
        with open(dataset, "rb") as f:
            data = f.read()
        n = data.count(b"\n")
        self.d.send_tcp(data)
        wait_for(lambda: self.d.metric("mamori_rules_events_total") >= n, timeout=60,
                 what="the rule engine to see the dataset")
        # The dataset's LSASS access (Security 4656/4663 with a read mask, by a user account).
        for rule in ("4a1b6da0-d94f-4fc3-98fc-2d9cb9e5ee76",   # suspicious AccessMask on LSASS
                     "962fe167-e48d-4fd6-9974-11e5b9a5d6d1"):  # LSASS access, non-system
            incs = wait_for(lambda: self.incidents(rule), what=f"an incident of {rule}")
            self.assertGreaterEqual(incs[0]["count"], 1)

if __name__ == "__main__":
    unittest.main()
