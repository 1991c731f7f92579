"""A real Prometheus (Debian package `prometheus`) scrapes a real `mamori serve` and node exporter
with the shipped scrape config (deploy/prometheus/prometheus.yml, targets and intervals rewritten
for the test) and the shipped alert rules; traffic is sent with `logger` and raw UDP.

Then, through Prometheus's HTTP API:
  - every PromQL expression of the dashboards returns data;
  - every alert rule is loaded and evaluates without error, every vector selector in it returns
    data, and MamoriDown really goes pending when mamori stops;
  - source liveness: the configured sources are matched as configured, a silent one is visible.
Expressions over metrics marked `planned` in docs/metrics.md are skipped, with the reason
printed; a metric missing from the catalogue fails.

Also: `promtool check metrics` on the live /metrics (curl | promtool), `promtool check rules`,
`promtool test rules` (alert unit tests) and `promtool check config`, and the live /metrics
names against the catalogue in both directions.

Only processes this test started are ended, by their PID.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import monitoring  # noqa: E402
from harness import Daemon, wait_for  # noqa: E402

HOST = socket.gethostname()
PROMETHEUS = shutil.which("prometheus")
PROMTOOL = shutil.which("promtool")
NODE_EXPORTER = shutil.which("prometheus-node-exporter")

CONFIG = f"""
sources:
  - name: this-host           # logger sends this machine's host name
    host: {HOST}
  - name: loopback-2          # raw datagrams sent from 127.0.0.2 with an unlisted host name
    network: 127.0.0.2/32
  - name: silent-net          # configured, never sends
    network: 192.0.2.0/24
evidence:
  checkpoint_interval: 1s     # the checkpoint tick also refreshes the store gauges
"""
# The shipped rule pack: every loaded rule has its mamori_rules_* series.
RULES = os.path.join(monitoring.ROOT, "rules", "default")


def planned_in(names, catalogue):
    return sorted(n for n in names if catalogue.get(n, {}).get("status") == "planned")


class Process:
    """A child process with its output in a file; ended by its PID only."""

    def __init__(self, args, log_path):
        self.log_path = log_path
        self.log_file = open(log_path, "w")
        self.proc = subprocess.Popen(args, stdout=self.log_file, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def alive(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"{self.proc.args[0]} exited {self.proc.returncode}:\n"
                                 f"{self.log()[-4000:]}")
        return True

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log_file.close()


def http_get(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode("utf-8", "replace")


class PrometheusTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for tool, name in ((PROMETHEUS, "prometheus"), (PROMTOOL, "promtool"),
                           (NODE_EXPORTER, "prometheus-node-exporter")):
            if tool is None:
                raise AssertionError(f"{name} is not installed (scripts/deps.sh installs it)")
        cls.catalogue = monitoring.load_catalogue()
        cls.tmp = tempfile.mkdtemp(prefix="mamori-prom-")
        cls.procs = []
        # A syslog-over-TLS listener too, so that its metrics (mamori_tls_*) are live.
        cert, key = os.path.join(cls.tmp, "tls.pem"), os.path.join(cls.tmp, "tls.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "2", "-subj", "/CN=localhost"],
                       check=True, capture_output=True, timeout=60)
        # A real syslog receiver for the incident notification (mamori_notifications_*).
        cls.syslog_rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        cls.syslog_rx.bind(("127.0.0.1", 0))
        notifications = ("notifications:\n  channels:\n    - name: csirt-syslog\n"
                         "      type: syslog\n"
                         f"      url: udp://127.0.0.1:{cls.syslog_rx.getsockname()[1]}\n")
        cls.daemon = Daemon(config_text=CONFIG + notifications,
                            extra_args=["--rules", RULES, "--syslog-tls", "127.0.0.1:0",
                                        "--tls-cert", cert, "--tls-key", key])
        try:
            cls.daemon.start()
            cls.start_node_exporter()
            cls.start_prometheus()
            cls.send_traffic()
            cls.wait_for_scrapes()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for p in reversed(cls.procs):
            p.stop()
        cls.daemon.cleanup()
        cls.syslog_rx.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # --- setup -------------------------------------------------------------------------
    @classmethod
    def start_node_exporter(cls):
        cls.node_port = monitoring.free_port()
        p = Process([NODE_EXPORTER, f"--web.listen-address=127.0.0.1:{cls.node_port}",
                     "--collector.disable-defaults", "--collector.filesystem",
                     # keep overlay: the root of a container
                     "--collector.filesystem.fs-types-exclude=^(proc|sysfs|tmpfs|devtmpfs)$"],
                    os.path.join(cls.tmp, "node-exporter.log"))
        cls.procs.append(p)
        url = f"http://127.0.0.1:{cls.node_port}/metrics"

        def up():
            p.alive()
            try:
                return "node_filesystem_avail_bytes" in http_get(url)[1]
            except OSError:
                return False

        wait_for(up, timeout=30, interval=0.1, what="node exporter")

    @classmethod
    def start_prometheus(cls):
        # The shipped files, with the targets and intervals of this test.
        with open(monitoring.SCRAPE_CONFIG) as f:
            cfg = f.read()
        for old, new in (("scrape_interval: 15s", "scrape_interval: 1s"),
                         ("evaluation_interval: 15s", "evaluation_interval: 1s"),
                         ('"127.0.0.1:8514"', f'"127.0.0.1:{cls.daemon.http_port}"'),
                         ('"127.0.0.1:9100"', f'"127.0.0.1:{cls.node_port}"'),
                         ('"127.0.0.1:9093"', f'"127.0.0.1:{monitoring.free_port()}"')):
            if old not in cfg:
                raise AssertionError(f"{monitoring.SCRAPE_CONFIG}: expected {old!r}")
            cfg = cfg.replace(old, new)
        with open(os.path.join(cls.tmp, "prometheus.yml"), "w") as f:
            f.write(cfg)
        shutil.copy(monitoring.ALERTS, os.path.join(cls.tmp, "alerts.yml"))
        # Prometheus cannot bind port 0 and report it: take a port that was free a moment
        # ago, and retry with another if someone took it in between.
        for attempt in range(3):
            cls.prom_port = monitoring.free_port()
            p = Process([PROMETHEUS, f"--config.file={cls.tmp}/prometheus.yml",
                         f"--storage.tsdb.path={cls.tmp}/tsdb-{attempt}",
                         f"--web.listen-address=127.0.0.1:{cls.prom_port}",
                         "--log.level=warn"], os.path.join(cls.tmp, f"prometheus-{attempt}.log"))
            cls.procs.append(p)

            def ready():
                if p.proc.poll() is not None:
                    return "exited"
                try:
                    return http_get(f"http://127.0.0.1:{cls.prom_port}/-/ready")[0] == 200
                except OSError:
                    return False

            state = wait_for(ready, timeout=60, interval=0.1, what="prometheus ready")
            if state is True:
                cls.prometheus = p
                return
            if "address already in use" not in p.log():
                p.alive()
        raise AssertionError("prometheus: no free port after 3 attempts")

    @classmethod
    def send_traffic(cls):
        d = cls.daemon
        cls.sent_at = time.time()
        cls.n_host = 0
        for transport in ("udp", "tcp"):
            for fmt in ("--rfc5424", "--rfc3164"):
                d.logger(fmt, "-t", "promtest", transport=transport, message="prometheus test")
                cls.n_host += 1
        # From 127.0.0.2 with a host name no source lists: matched by network (loopback-2).
        cls.n_lo2 = 3
        cls.n_unknown = 2
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.2", 0))
            for i in range(cls.n_lo2):
                s.sendto(f"<13>1 2026-01-01T00:00:00Z otherhost app - - - lo2 {i}".encode(),
                         ("127.0.0.1", d.port("syslog-udp")))
        # From 127.0.0.1 with an unlisted host name: no source.
        for i in range(2):
            d.send_udp(f"<13>1 2026-01-01T00:00:00Z stranger app - - - unknown {i}".encode())
        # An SSH brute force (host "LabSZ": no source either) that the default pack turns into
        # a high incident, left unacknowledged: the incident panels and alerts have real data.
        d.send_tcp("".join(f"<38>Dec 10 07:08:0{i} LabSZ sshd[2420{i}]: Failed password for "
                           f"root from 203.0.113.7 port 3606{i} ssh2\n"
                           for i in range(5)).encode())
        cls.n_unknown += 5
        d.curl("/api/v1/events", {"q": "prometheus", "limit": 5}, expect_status=200)
        d.curl("/healthz", expect_status=200)
        total = cls.n_host + cls.n_lo2 + cls.n_unknown
        wait_for(lambda: d.metric("mamori_events_stored_total") >= total, timeout=30,
                 what=f"{total} records stored")
        wait_for(lambda: d.metric("mamori_incidents_opened_total", severity="high") >= 1,
                 timeout=30, what="the ssh-brute-force incident")
        # ...and its notification, delivered to the syslog receiver.
        wait_for(lambda: d.metric("mamori_notifications_sent_total", channel="csirt-syslog") >= 1,
                 timeout=30, what="the incident notification")
        cls.syslog_rx.settimeout(10)
        cls.notification = cls.syslog_rx.recv(65536).decode("utf-8", "replace")
        # A verification, so that the verify gauges (and MamoriVerifyFailed) have data; after a
        # checkpoint, so that it covers the traffic.
        wait_for(lambda: d.metric("mamori_evidence_checkpoint_sequence") >= total, timeout=30,
                 what="a checkpoint over the traffic")
        _, body = d.curl("/api/v1/verify", expect_status=200)
        cls.verify_report = json.loads(body)
        cls.sent_until = time.time()

    @classmethod
    def wait_for_scrapes(cls):
        # Enough scrapes after the traffic for rate() over the dashboards' windows.
        def scraped():
            r = cls.query("count_over_time(mamori_events_stored_total[30s]) >= 5 and "
                          f"mamori_events_stored_total >= {cls.n_host + cls.n_lo2 + cls.n_unknown}")
            n = cls.query('up{job="node"} == 1')
            return bool(r) and bool(n)

        wait_for(scraped, timeout=90, interval=0.5, what="prometheus to scrape the traffic")

    # --- Prometheus API ----------------------------------------------------------------
    @classmethod
    def api(cls, path, **params):
        url = f"http://127.0.0.1:{cls.prom_port}{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        try:
            _, body = http_get(url)
        except urllib.error.HTTPError as e:
            body = e.read().decode("utf-8", "replace")
        out = json.loads(body)
        return out

    @classmethod
    def query(cls, expr):
        """Instant query; returns the result list; raises on a PromQL error."""
        out = cls.api("/api/v1/query", query=expr)
        if out.get("status") != "success":
            raise AssertionError(f"query {expr!r}: {out.get('errorType')}: {out.get('error')}")
        return out["data"]["result"]

    def check_names(self, names, where):
        """Fails for metrics missing from the catalogue; returns the planned ones."""
        unknown = sorted(n for n in names if n not in self.catalogue)
        self.assertEqual(unknown, [], f"{where}: metrics not in docs/metrics.md")
        return planned_in(names, self.catalogue)

    # --- tests ---------------------------------------------------------------------------
    def test_catalogue_matches_live_metrics(self):
        _, text = self.daemon.curl("/metrics", expect_status=200)
        live = {}
        for line in text.splitlines():
            if line.startswith("# TYPE "):
                _, _, name, kind = line.split(None, 3)
                live[name] = kind
        self.assertIn("mamori_source_last_seen_timestamp_seconds", live)
        missing = sorted(n for n in live if n not in self.catalogue)
        self.assertEqual(missing, [], "exported by mamori but not in docs/metrics.md")
        wrong_type = sorted(f"{n}: live {k}, catalogue {self.catalogue[n]['type']}"
                            for n, k in live.items() if self.catalogue[n]["type"] != k)
        self.assertEqual(wrong_type, [])
        not_exported = sorted(n for n, e in self.catalogue.items()
                              if e["status"] == "exported" and e["module"] not in
                              monitoring.EXTERNAL and n not in live)
        self.assertEqual(not_exported, [],
                         "marked exported in docs/metrics.md but not exported by mamori")
        for n in sorted(n for n in live if self.catalogue[n]["status"] == "planned"):
            print(f"\nNOTE: {n} is exported now: change its status in docs/metrics.md from "
                  "planned to exported so that the tests enforce its panels and alerts",
                  file=sys.stderr)

    def test_promtool_check_metrics_on_live_output(self):
        _, text = self.daemon.curl("/metrics", expect_status=200)
        check = subprocess.run([PROMTOOL, "check", "metrics"], input=text,
                               capture_output=True, text=True, timeout=60)
        self.assertEqual(check.returncode, 0,
                         f"promtool check metrics:\n{check.stdout}{check.stderr}")

    def test_promtool_rules_and_config(self):
        # The compose variant expects alerts.yml beside it, as compose mounts it.
        compose_dir = os.path.join(self.tmp, "compose-prometheus")
        os.makedirs(compose_dir, exist_ok=True)
        shutil.copy(os.path.join(monitoring.ROOT, "deploy", "container", "prometheus.yml"),
                    compose_dir)
        shutil.copy(monitoring.ALERTS, compose_dir)
        os.makedirs(os.path.join(compose_dir, "secrets"), exist_ok=True)  # the operator's token
        with open(os.path.join(compose_dir, "secrets", "mamori.token"), "w") as f:
            f.write(self.daemon.token + "\n")
        for args in (["check", "rules", monitoring.ALERTS],
                     ["test", "rules", monitoring.ALERTS_TEST],
                     ["check", "config", monitoring.SCRAPE_CONFIG],
                     ["check", "config", os.path.join(compose_dir, "prometheus.yml")]):
            out = subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=120,
                                 cwd=os.path.dirname(args[-1]))
            self.assertEqual(out.returncode, 0, f"promtool {' '.join(args)}:\n"
                                                f"{out.stdout}{out.stderr}")
            self.assertIn("SUCCESS", out.stdout + out.stderr)

    def test_dashboard_expressions_return_data(self):
        exprs = monitoring.dashboard_exprs()
        self.assertGreater(len(exprs), 20)
        failures, checked, skipped = [], 0, 0
        for dash, title, expr in exprs:
            names = monitoring.metric_names(expr, self.catalogue)
            planned = self.check_names(names, f"{dash} / {title}")
            if planned:
                skipped += 1
                print(f"\nSKIP {dash} / {title}: planned metrics {', '.join(planned)}: {expr}",
                      file=sys.stderr)
                continue
            q = monitoring.substitute(expr)
            try:
                result = self.query(q)
            except AssertionError as e:
                failures.append(f"{dash} / {title}: {e}")
                continue
            checked += 1
            if not result:
                failures.append(f"{dash} / {title}: no data for {q}")
        print(f"\ndashboards: {checked} expressions returned data, {skipped} skipped (planned)",
              file=sys.stderr)
        self.assertEqual(failures, [])
        self.assertGreater(checked, 20)

    def test_alert_rules_load_evaluate_and_have_data(self):
        def evaluated():
            groups = self.api("/api/v1/rules")["data"]["groups"]
            rules = [r for g in groups for r in g["rules"]]
            return rules if rules and all(r.get("lastEvaluation", "").startswith("2") and
                                          not r["lastEvaluation"].startswith("0001")
                                          for r in rules) else None

        rules = wait_for(evaluated, timeout=30, interval=0.5, what="every rule evaluated")
        with open(monitoring.ALERTS) as f:
            shipped = f.read().count("- alert:")
        self.assertEqual(len(rules), shipped, "every shipped rule is loaded")
        failures, checked, skipped = [], 0, 0
        for r in rules:
            name, expr = r["name"], r["query"]
            if r["health"] != "ok":
                failures.append(f"{name}: health {r['health']}: {r.get('lastError')}")
            names = monitoring.metric_names(expr, self.catalogue)
            planned = self.check_names(names, f"alert {name}")
            if planned:
                skipped += 1
                print(f"\nSKIP alert {name}: planned metrics {', '.join(planned)}: {expr}",
                      file=sys.stderr)
                continue
            try:
                self.query(expr)  # the whole rule evaluates (empty while healthy)
            except AssertionError as e:
                failures.append(f"{name}: {e}")
                continue
            # Every selector in it has data: absent() of a selector with data is empty, any
            # other alert stays empty while healthy, so data is checked per selector.
            for sel in monitoring.selectors(expr):
                if not self.query(sel):
                    failures.append(f"{name}: no data for {sel}")
            checked += 1
        print(f"\nalerts: {checked} rules evaluated with data, {skipped} skipped (planned)",
              file=sys.stderr)
        self.assertEqual(failures, [])
        self.assertGreaterEqual(checked, 6)

    def test_incident_notification_delivered(self):
        self.assertIn('rule="ssh-brute-force"', self.notification)
        self.assertEqual(self.daemon.metric("mamori_notifications_outbox_depth",
                                            channel="csirt-syslog"), 0)

    def test_sources_liveness(self):
        d = self.daemon
        self.assertEqual(d.metric("mamori_source_events_total", source="this-host"), self.n_host)
        self.assertEqual(d.metric("mamori_source_events_total", source="loopback-2"), self.n_lo2)
        self.assertEqual(d.metric("mamori_source_events_total", source="silent-net"), 0)
        self.assertEqual(d.metric("mamori_source_unknown_events_total"), self.n_unknown)
        seen = d.metric("mamori_source_last_seen_timestamp_seconds", source="this-host")
        self.assertGreaterEqual(seen, self.sent_at - 1)
        self.assertLessEqual(seen, self.sent_until + 1)
        self.assertEqual(d.metric("mamori_source_last_seen_timestamp_seconds",
                                  source="silent-net"), 0)
        # Through Prometheus, as the Sources dashboard asks it.
        never = self.query("mamori_source_last_seen_timestamp_seconds == 0")
        self.assertEqual([r["metric"]["source"] for r in never], ["silent-net"])
        fresh = self.query("time() - mamori_source_last_seen_timestamp_seconds < 300")
        self.assertEqual(sorted(r["metric"]["source"] for r in fresh),
                         ["loopback-2", "this-host"])

    def test_evidence_gauges(self):
        """The store and evidence gauges, through Prometheus, on real data; the alerts for a
        failed verification and a stale checkpoint evaluate to nothing on a healthy store."""
        self.assertTrue(self.verify_report["ok"], self.verify_report)
        total = self.n_host + self.n_lo2 + self.n_unknown
        d = self.daemon
        self.assertEqual(d.metric("mamori_evidence_verify_last_success"), 1)
        verified = d.metric("mamori_evidence_verify_last_timestamp_seconds")
        self.assertGreaterEqual(verified, self.sent_at - 1)
        self.assertLessEqual(verified, time.time() + 1)
        wait_for(lambda: d.metric("mamori_evidence_chain_head_sequence") >= total, timeout=30,
                 what="the chain head gauge")
        self.assertEqual(d.metric("mamori_evidence_chain_head_sequence"),
                         d.metric("mamori_storage_next_sequence") - 1)
        self.assertGreater(d.metric("mamori_storage_size_bytes"), 0)
        self.assertGreaterEqual(d.metric("mamori_storage_compaction_pending_bytes"), 0)
        self.assertGreaterEqual(d.metric("mamori_evidence_checkpoints_total"), 1)
        self.assertEqual(d.metric("mamori_retention_last_run_timestamp_seconds"), 0)  # off
        for expr in ("mamori_evidence_verify_last_success == 1",
                     "time() - mamori_evidence_verify_last_timestamp_seconds < 600",
                     "time() - mamori_evidence_checkpoint_last_timestamp_seconds < 30",
                     f"mamori_evidence_chain_head_sequence >= {total}",
                     "mamori_storage_size_bytes > 0"):
            wait_for(lambda: self.query(expr), timeout=30, interval=0.5, what=expr)
        with open(monitoring.ALERTS) as f:
            text = f.read()
        for name, expr in (("MamoriVerifyFailed", "mamori_evidence_verify_last_success == 0"),
                           ("MamoriCheckpointStale", "time() - mamori_evidence_checkpoint_"
                                                     "last_timestamp_seconds > 300")):
            self.assertIn(expr, text, f"{name}: the test checks the shipped expression")
            self.assertEqual(self.query(expr), [], f"{name} would fire on a healthy store")

    def test_zz_mamori_down_alert_goes_pending(self):
        """Runs last (alphabetical order): stops mamori by its PID."""
        self.assertEqual(self.daemon.stop(), 0)

        def pending():
            alerts = self.api("/api/v1/alerts")["data"]["alerts"]
            return [a for a in alerts if a["labels"].get("alertname") == "MamoriDown"]

        alerts = wait_for(pending, timeout=60, interval=0.5, what="MamoriDown pending")
        self.assertEqual(alerts[0]["state"], "pending")  # for: 1m
        self.assertEqual(alerts[0]["labels"]["instance"], f"127.0.0.1:{self.daemon.http_port}")
        self.assertEqual(alerts[0]["labels"]["severity"], "critical")


if __name__ == "__main__":
    unittest.main(verbosity=2)
