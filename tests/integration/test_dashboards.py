"""Static checks of the monitoring and deployment files (no Prometheus needed):

- dashboards/grafana/*.json: valid JSON, unique uids, unique panel ids, every target has an
  expression and its own refId, every metric named is in docs/metrics.md, and the files are what
  dashboards/generate.py produces;
- the alert rules name only catalogued metrics;
- the Grafana provisioning files point where compose mounts the dashboards;
- deploy/mamori.service passes `systemd-analyze verify` (on a temporary copy whose ExecStart is
  the built binary: verify requires the binary to exist, and /usr/local/bin/mamori is not
  installed here) and `systemd-analyze security --offline` rates it 2.0 or better;
- the container config deploy/container/mamori.yaml starts the real daemon, and every file
  compose.yaml mounts exists.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import monitoring  # noqa: E402
from harness import MAMORI, Daemon  # noqa: E402

DEPLOY = os.path.join(monitoring.ROOT, "deploy")
PROVISIONING = os.path.join(monitoring.ROOT, "dashboards", "provisioning")


class DashboardsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.catalogue = monitoring.load_catalogue()

    def test_catalogue_rows_are_well_formed(self):
        for name, e in self.catalogue.items():
            if e["module"] in monitoring.EXTERNAL:
                continue
            self.assertTrue(name.startswith("mamori_"), name)
            if e["type"] == "counter":
                self.assertTrue(name.endswith("_total"), f"counter {name} must end in _total")
            else:
                self.assertFalse(name.endswith("_total"), f"{e['type']} {name} ends in _total")
            for banned in ("host", "hostname", "ip", "address", "peer"):
                self.assertNotIn(banned, e["labels"], f"{name}: unbounded label {banned}")
        # The required coverage is named, at least as planned.
        for required in ("mamori_source_last_seen_timestamp_seconds",
                         "mamori_pipeline_queue_depth", "mamori_storage_write_latency_seconds",
                         "mamori_storage_size_bytes", "mamori_storage_compaction_pending_bytes",
                         "mamori_evidence_chain_head_sequence",
                         "mamori_evidence_checkpoint_last_timestamp_seconds",
                         "mamori_evidence_verify_last_success", "mamori_rules_matches_total",
                         "mamori_rules_evaluation_seconds_total", "mamori_rules_state_groups",
                         "mamori_incidents_open",
                         "mamori_incidents_time_to_acknowledge_seconds",
                         "mamori_notifications_sent_total"):
            self.assertIn(required, self.catalogue)

    def test_dashboards_are_generated(self):
        out = subprocess.run([sys.executable, os.path.join(monitoring.ROOT, "dashboards",
                                                           "generate.py"), "--check"],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)

    def test_dashboards_are_valid_with_unique_ids_and_catalogued_metrics(self):
        boards = monitoring.dashboards()
        titles = {d["title"] for _, d in boards}
        for want in ("Ingest overview", "Detection and incidents", "Evidence store health",
                     "Sources"):
            self.assertTrue(any(want in t for t in titles), f"no dashboard '{want}': {titles}")
        uids = [d["uid"] for _, d in boards]
        self.assertEqual(len(uids), len(set(uids)), f"duplicate dashboard uids: {uids}")
        for path, d in boards:
            name = os.path.basename(path)
            ids = [p["id"] for p in monitoring.all_panels(d)]
            self.assertTrue(all(isinstance(i, int) for i in ids), f"{name}: non-integer ids")
            dup = sorted({i for i in ids if ids.count(i) > 1})
            self.assertEqual(dup, [], f"{name}: duplicate panel ids")
            variables = {v["name"] for v in d["templating"]["list"]}
            for p in monitoring.all_panels(d):
                where = f"{name} / {p.get('title')}"
                self.assertIn("gridPos", p, where)
                if p["type"] == "row":
                    continue
                self.assertTrue(p.get("targets"), f"{where}: no query")
                refs = [t["refId"] for t in p["targets"]]
                self.assertEqual(len(refs), len(set(refs)), f"{where}: duplicate refIds")
                for t in p["targets"]:
                    self.assertTrue(t.get("expr"), f"{where}: empty expression")
                    for var in re.findall(r"\$(\w+)", t["expr"]):
                        self.assertTrue(var in variables or var.startswith("__"),
                                        f"{where}: unknown variable ${var}")
                    names = monitoring.metric_names(t["expr"], self.catalogue)
                    self.assertTrue(names, f"{where}: no metric in {t['expr']}")
                    unknown = sorted(n for n in names if n not in self.catalogue)
                    self.assertEqual(unknown, [], f"{where}: not in docs/metrics.md")

    def test_alert_rules_name_catalogued_metrics(self):
        with open(monitoring.ALERTS) as f:
            text = f.read()
        # expr: one line, or a folded block (">-") of more indented lines.
        exprs = []
        lines = text.splitlines()
        for i, line in enumerate(lines):
            m = re.match(r"^(\s*)expr:\s*(.*)$", line)
            if not m:
                continue
            if m.group(2).startswith(">"):
                body = []
                for nxt in lines[i + 1:]:
                    if len(nxt) - len(nxt.lstrip()) <= len(m.group(1)):
                        break
                    body.append(nxt.strip())
                exprs.append(" ".join(body))
            else:
                exprs.append(m.group(2))
        self.assertEqual(len(exprs), text.count("- alert:"))
        for want in ("MamoriDown", "MamoriDroppingEvents", "MamoriQueueNearlyFull",
                     "MamoriDiskFillingUp", "MamoriVerifyFailed", "MamoriCheckpointStale",
                     "MamoriSourceSilent", "MamoriIncidentUnacknowledged"):
            self.assertIn(f"alert: {want}\n", text)
        for expr in exprs:
            names = monitoring.metric_names(expr, self.catalogue)
            self.assertTrue(names, expr)
            unknown = sorted(n for n in names if n not in self.catalogue)
            self.assertEqual(unknown, [], f"{expr}: not in docs/metrics.md")

    def test_grafana_provisioning_matches_compose(self):
        with open(os.path.join(PROVISIONING, "dashboards", "mamori.yaml")) as f:
            provider = f.read()
        with open(os.path.join(PROVISIONING, "datasources", "prometheus.yaml")) as f:
            datasource = f.read()
        with open(os.path.join(DEPLOY, "compose.yaml")) as f:
            compose = f.read()
        path = re.search(r"^\s*path:\s*(\S+)", provider, re.M).group(1)
        self.assertIn(f"../dashboards/grafana:{path}:ro", compose)
        self.assertRegex(datasource, r"type:\s*prometheus")
        self.assertIn("${PROMETHEUS_URL}", datasource)
        self.assertIn("PROMETHEUS_URL: http://prometheus:9090", compose)

    def test_compose_mounts_exist(self):
        with open(os.path.join(DEPLOY, "compose.yaml")) as f:
            compose = f.read()
        mounts = re.findall(r"^\s*-\s*(\.\.?/[^:\s]+):", compose, re.M)
        self.assertGreaterEqual(len(mounts), 6)
        for m in mounts:
            self.assertTrue(os.path.exists(os.path.join(DEPLOY, m)), f"compose mounts {m}")
        self.assertTrue(os.path.exists(os.path.join(DEPLOY, "Dockerfile")))
        with open(os.path.join(DEPLOY, "Dockerfile")) as f:
            dockerfile = f.read()
        self.assertIn("FROM debian:12", dockerfile)
        self.assertRegex(dockerfile, r"(?m)^USER 10514")
        self.assertIn("COPY deploy/container/mamori.yaml", dockerfile)

    def test_systemd_unit_verifies(self):
        systemd_analyze = shutil.which("systemd-analyze")
        self.assertIsNotNone(systemd_analyze, "systemd-analyze not installed (package systemd)")
        self.assertTrue(MAMORI and os.access(MAMORI, os.X_OK), "MAMORI_BIN not set")
        with open(os.path.join(DEPLOY, "mamori.service")) as f:
            unit = f.read()
        for directive in ("User=mamori", "NoNewPrivileges=yes", "ProtectSystem=strict",
                          "ReadWritePaths=/var/lib/mamori", "PrivateTmp=yes", "ProtectHome=yes",
                          "AmbientCapabilities=CAP_NET_BIND_SERVICE",
                          "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
                          "RestrictAddressFamilies=", "SystemCallFilter=@system-service",
                          "LimitNOFILE="):
            self.assertRegex(unit, rf"(?m)^{re.escape(directive)}")
        self.assertEqual(unit.count("ExecStart=/usr/local/bin/mamori "), 1)
        with tempfile.TemporaryDirectory(prefix="mamori-unit-") as tmp:
            path = os.path.join(tmp, "mamori.service")
            with open(path, "w") as f:
                f.write(unit.replace("ExecStart=/usr/local/bin/mamori ", f"ExecStart={MAMORI} "))
            out = subprocess.run([systemd_analyze, "verify", path], capture_output=True,
                                 text=True, timeout=120)
            self.assertEqual(out.returncode, 0, f"systemd-analyze verify:\n{out.stderr}")
            self.assertEqual(out.stderr.strip(), "", out.stderr)
            sec = subprocess.run([systemd_analyze, "security", "--offline=yes",
                                  "--threshold=20", path],
                                 capture_output=True, text=True, timeout=120)
            self.assertEqual(sec.returncode, 0, f"exposure above 2.0:\n{sec.stdout[-3000:]}")

    def test_container_config_starts_the_daemon(self):
        with open(os.path.join(DEPLOY, "container", "mamori.yaml")) as f:
            text = f.read()
        # The shipped addresses and data directory are replaced by the harness's flags (the
        # first UDP and TCP listener, the HTTP address, the data directory).
        d = Daemon(config_text=text).start()
        try:
            self.assertEqual(set(d.ports), {"syslog-udp", "syslog-tcp"})
            d.logger("-t", "containercfg", transport="tcp", message="container config works")
            status, body = d.curl("/healthz", expect_status=200)
            self.assertIn('"ok"', body)
        finally:
            d.cleanup()


if __name__ == "__main__":
    unittest.main(verbosity=2)
