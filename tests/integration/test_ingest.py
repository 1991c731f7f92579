"""End to end: logger → mamori serve → RocksDB → search (CLI and API) → restart → search again,
and /metrics counting exactly what was sent."""
import datetime
import os
import socket
import sys
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from harness import Daemon, wait_for  # noqa: E402

HOST = socket.gethostname()


def rfc3339_to_epoch(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


class IngestTest(unittest.TestCase):
    def setUp(self):
        self.d = Daemon().start()
        self.tag = uuid.uuid4().hex[:10]

    def tearDown(self):
        self.d.cleanup()

    def send_all(self):
        """Sends one message per logger mode; returns {marker: expectation}."""
        cases = [
            ("udp", ["--rfc5424", "--msgid", "M1"], "app5424u", 4, "rfc5424"),
            ("udp", ["--rfc3164"], "app3164u", 3, "rfc3164"),
            ("tcp", ["--rfc5424"], "app5424t", 6, "rfc5424"),
            ("tcp", ["--rfc3164"], "app3164t", 2, "rfc3164"),
            ("tcp", ["--rfc5424", "--octet-count", "--sd-id", "ex@32473", "--sd-param",
                     'k="v w"'], "appoctet", 5, "rfc5424"),
            ("tcp", ["--rfc3164", "--octet-count"], "appoct3164", 1, "rfc3164"),
        ]
        names = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"]
        expect = {}
        for i, (transport, args, app, sev, fmt) in enumerate(cases):
            marker = f"marker-{self.tag}-{i}"
            sent_at = time.time()
            self.d.logger(*args, "-t", app, "-p", f"local3.{names[sev]}",
                          transport=transport, message=f"{marker} payload ünïcode")
            expect[marker] = dict(app=app, severity=sev, format=fmt, sent_at=sent_at,
                                  transport=transport)
        return expect

    def check_found(self, events_by_marker, expect):
        for marker, e in expect.items():
            self.assertIn(marker, events_by_marker, f"{marker} not found")
            ev = events_by_marker[marker]
            self.assertEqual(ev["app"], e["app"], ev)
            self.assertEqual(ev["host"], HOST, ev)
            self.assertEqual(ev["severity"], e["severity"], ev)
            self.assertEqual(ev["facility"], 19, ev)  # local3
            self.assertEqual(ev["format"], e["format"], ev)
            self.assertEqual(ev["transport"], e["transport"], ev)
            self.assertIn(f"{marker} payload ünïcode", ev["message"])
            self.assertIn(marker.encode().decode(), ev["raw"])
            # logger's RFC 3164 timestamp has whole seconds and no year or zone.
            self.assertLess(abs(rfc3339_to_epoch(ev["event_time"]) - e["sent_at"]), 5.0, ev)
            self.assertLess(abs(rfc3339_to_epoch(ev["received_at"]) - e["sent_at"]), 5.0, ev)
            self.assertEqual(ev["time_inferred"], e["format"] == "rfc3164", ev)
            self.assertGreater(ev["seq"], 0)

    def search_markers(self):
        cli = self.d.search_cli("--pattern", f"marker-{self.tag}-", "--limit", "100")
        api = self.d.api_events(q=f"marker-{self.tag}-", limit=100)["events"]
        def by_marker(events):
            out = {}
            for ev in events:
                for tok in ev["message"].split():
                    if tok.startswith(f"marker-{self.tag}-"):
                        out[tok] = ev
            return out
        return by_marker(cli), by_marker(api), cli, api

    def test_logger_to_search_restart_and_metrics(self):
        expect = self.send_all()
        n = len(expect)
        wait_for(lambda: self.d.metric("mamori_events_stored_total") >= n,
                 what=f"{n} events stored")
        cli, api, cli_list, api_list = self.search_markers()
        self.check_found(cli, expect)
        self.check_found(api, expect)
        self.assertEqual(len(cli_list), n)
        self.assertEqual(len(api_list), n)
        # Newest first by event time (ties broken by sequence number).
        keys = [(rfc3339_to_epoch(e["event_time"]), e["seq"]) for e in cli_list]
        self.assertEqual(keys, sorted(keys, reverse=True))
        self.assertEqual([e["seq"] for e in api_list], [e["seq"] for e in cli_list])

        m = self.d.metrics()
        from harness import metric_value
        self.assertEqual(metric_value(m, "mamori_events_received_total", transport="udp"), 2)
        self.assertEqual(metric_value(m, "mamori_events_received_total", transport="tcp"), 4)
        self.assertEqual(metric_value(m, "mamori_events_stored_total"), n)
        self.assertEqual(metric_value(m, "mamori_events_parsed_total", format="rfc5424"), 3)
        self.assertEqual(metric_value(m, "mamori_events_parsed_total", format="rfc3164"), 3)
        self.assertEqual(metric_value(m, "mamori_events_unparsed_total"), 0)
        self.assertEqual(metric_value(m, "mamori_events_dropped_total"), 0)
        self.assertGreater(metric_value(m, "mamori_bytes_received_total"), 6 * 40)

        # Restart on the same data directory: everything is still there, seq continues.
        max_seq = max(e["seq"] for e in cli.values())
        self.assertEqual(self.d.stop(), 0)
        self.d.start()
        cli2, api2, _, _ = self.search_markers()
        self.check_found(cli2, expect)
        self.check_found(api2, expect)
        self.d.logger("--rfc5424", "-t", "after", transport="tcp",
                      message=f"marker-{self.tag}-after")
        wait_for(lambda: self.d.metric("mamori_events_stored_total") >= 1, what="one more")
        after = self.d.search_cli("--pattern", f"marker-{self.tag}-after")
        self.assertEqual(len(after), 1)
        self.assertEqual(after[0]["seq"], max_seq + 1)

    def test_filters_and_paging(self):
        for i in range(25):
            self.d.logger("--rfc5424", "-t", "pager" if i % 2 else "other", "-p",
                          "user.err" if i % 5 == 0 else "user.info", transport="tcp",
                          message=f"page-{self.tag} {i}")
        wait_for(lambda: self.d.metric("mamori_events_stored_total") >= 25, what="25 stored")
        self.assertEqual(len(self.d.search_cli("--app", "pager", "--pattern", self.tag)), 12)
        self.assertEqual(len(self.d.search_cli("--severity", "err", "--pattern", self.tag)), 5)
        self.assertEqual(len(self.d.search_cli("--host", HOST, "--pattern", self.tag)), 25)
        self.assertEqual(len(self.d.search_cli("--host", "no-such-host")), 0)
        self.assertEqual(len(self.d.search_cli("--to", "2000-01-01")), 0)
        self.assertEqual(len(self.d.search_cli("--from", "2000-01-01", "--pattern", self.tag)), 25)
        # API paging with cursor visits each event exactly once.
        seen, keys, cursor = [], [], None
        while True:
            params = {"q": f"page-{self.tag}", "limit": 7}
            if cursor:
                params["cursor"] = cursor
            page = self.d.api_events(**params)
            seen += [e["seq"] for e in page["events"]]
            keys += [(rfc3339_to_epoch(e["event_time"]), e["seq"]) for e in page["events"]]
            cursor = page["next"]
            if not cursor:
                break
        self.assertEqual(len(seen), 25)
        self.assertEqual(len(set(seen)), 25)
        # Newest event time first, ties by seq. Not simply by seq: each logger run is its own TCP
        # connection, and two I/O threads may store a message before the one sent just before it.
        self.assertEqual(keys, sorted(keys, reverse=True))
        # Bad requests get clear errors, not crashes.
        status, body = self.d.curl("/api/v1/events", {"q": "(unclosed"})
        self.assertEqual(status, 400, body)
        self.assertIn("error", body)
        status, body = self.d.curl("/api/v1/events", {"from": "yesterday-ish"})
        self.assertEqual(status, 400, body)
        self.assertIn("from", body)
        status, _ = self.d.curl("/api/v1/nope")
        self.assertEqual(status, 404)
        status, body = self.d.curl("/healthz")
        self.assertEqual(status, 200)


if __name__ == "__main__":
    unittest.main(verbosity=2)
