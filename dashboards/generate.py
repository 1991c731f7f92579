#!/usr/bin/env python3
"""Writes the Grafana dashboards in dashboards/grafana/ from the compact definitions below.

    python3 dashboards/generate.py           # rewrite the JSON files
    python3 dashboards/generate.py --check   # exit 1 if a JSON file differs from its definition

Edit the definitions here, not the JSON (tests/integration/test_dashboards.py runs --check).
Every metric named must be in docs/metrics.md. Expressions may use two variables: $instance
(the mamori instances chosen at the top of the dashboard) and $__rate_interval (Grafana's).
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "grafana")
DS = {"type": "prometheus", "uid": "${datasource}"}
I = 'instance=~"$instance"'
RI = "[$__rate_interval]"


def ts(title, targets, unit="short", desc="", w=12, h=8, stack=False):
    """A time series panel. targets: [(expr, legend)]."""
    return dict(type="timeseries", title=title, description=desc, w=w, h=h, unit=unit,
                targets=targets, stack=stack)


def stat(title, targets, unit="short", desc="", w=6, h=4, thresholds=None, mappings=None):
    return dict(type="stat", title=title, description=desc, w=w, h=h, unit=unit,
                targets=targets, thresholds=thresholds, mappings=mappings)


def table(title, targets, unit="short", desc="", w=24, h=8):
    return dict(type="table", title=title, description=desc, w=w, h=h, unit=unit,
                targets=targets)


def row(title):
    return dict(type="row", title=title)


GREEN_RED = [(None, "green"), (1, "red")]
RED_GREEN = [(None, "red"), (1, "green")]

DASHBOARDS = {
    "mamori-ingest": dict(
        title="mamori / Ingest overview",
        description="Is mamori up, what does it receive, parse, store and drop (POLICY 7.1, 8.1).",
        panels=[
            row("Process"),
            stat("Up", [(f'up{{job="mamori",{I}}}', "{{instance}}")], thresholds=RED_GREEN,
                 mappings={"0": "DOWN", "1": "UP"}, desc="Prometheus reaches /metrics."),
            stat("Version", [(f"mamori_build_info{{{I}}}", "{{version}}")],
                 desc="Running build (value always 1; the version is the legend)."),
            stat("Uptime", [(f"time() - mamori_start_time_seconds{{{I}}}", "{{instance}}")],
                 unit="s"),
            stat("Queue fill", [(f"mamori_pipeline_queue_depth{{{I}}} / "
                                 f"mamori_pipeline_queue_capacity{{{I}}}", "{{instance}}")],
                 unit="percentunit", thresholds=[(None, "green"), (0.5, "orange"), (0.8, "red")],
                 desc="Above 80% the MamoriQueueNearlyFull alert fires; at 100% UDP drops."),
            row("Throughput"),
            ts("Messages received / s", [(
                f"sum by (listener, transport) (rate(mamori_events_received_total{{{I}}}{RI}))",
                "{{listener}} {{transport}}")], unit="ops"),
            ts("Stored / s vs received / s", [
                (f"sum(rate(mamori_events_stored_total{{{I}}}{RI}))", "stored"),
                (f"sum(rate(mamori_events_received_total{{{I}}}{RI}))", "received"),
            ], unit="ops", desc="Stored follows received; a gap that grows is the queue filling."),
            ts("Bytes received / s", [(
                f"sum by (listener) (rate(mamori_bytes_received_total{{{I}}}{RI}))",
                "{{listener}}")], unit="Bps"),
            ts("Dropped / s", [(
                f"sum by (listener, reason) (rate(mamori_events_dropped_total{{{I}}}{RI}))",
                "{{listener}} {{reason}}")], unit="ops",
               desc="Received but not stored. Anything above 0 fires MamoriDroppingEvents."),
            row("Parsing"),
            ts("Parsed / s by format", [(
                f"sum by (format) (rate(mamori_events_parsed_total{{{I}}}{RI}))", "{{format}}")],
               unit="ops", stack=True),
            ts("Unparsed share", [(
                f"sum(rate(mamori_events_unparsed_total{{{I}}}{RI})) / "
                f"clamp_min(sum(rate(mamori_events_parsed_total{{{I}}}{RI})), 1e-9)",
                "unparsed")], unit="percentunit",
               desc="Stored as format unparsed: a sender with a format mamori does not know."),
            ts("Truncated / s", [(
                f"sum by (listener) (rate(mamori_events_truncated_total{{{I}}}{RI}))",
                "{{listener}}")], unit="ops", desc="Longer than max_message_size."),
            row("Queue and connections"),
            ts("Pipeline queue depth", [
                (f"sum(mamori_pipeline_queue_depth{{{I}}})", "depth"),
                (f"sum(mamori_pipeline_queue_capacity{{{I}}})", "capacity"),
            ]),
            ts("TCP connections", [(
                f"sum by (listener) (mamori_collector_connections{{{I}}})", "{{listener}}")]),
            ts("TCP connections closed / rejected", [
                (f"sum by (listener, reason) "
                 f"(rate(mamori_collector_connections_closed_total{{{I}}}{RI}))",
                 "closed {{listener}} {{reason}}"),
                (f"sum by (listener) "
                 f"(rate(mamori_collector_connections_rejected_total{{{I}}}{RI}))",
                 "rejected {{listener}}"),
                (f"sum by (listener) (rate(mamori_collector_framing_errors_total{{{I}}}{RI}))",
                 "framing error {{listener}}"),
            ], unit="ops"),
            row("HTTP API"),
            ts("API requests / s", [(
                f"sum by (route, code) (rate(mamori_api_requests_total{{{I}}}{RI}))",
                "{{route}} {{code}}")], unit="reqps"),
            ts("API latency p99", [(
                f"histogram_quantile(0.99, sum by (le, route) "
                f"(rate(mamori_api_request_duration_seconds_bucket{{{I}}}{RI})))",
                "{{route}}")], unit="s"),
            ts("API connections", [(f"sum(mamori_api_connections{{{I}}})", "open")], w=24),
        ]),
    "mamori-evidence": dict(
        title="mamori / Evidence store health",
        description="Writes, hash chain, checkpoints, verification, retention and disk "
                    "(POLICY 3.3.8, 7.1, 8.3).",
        panels=[
            row("Integrity"),
            stat("Last verification", [(f"mamori_evidence_verify_last_success{{{I}}}",
                                         "{{instance}}")],
                 thresholds=RED_GREEN, mappings={"0": "FAILED", "1": "OK"},
                 desc="Result of the last chain verification (GET /api/v1/verify; schedule "
                      "one, e.g. daily). FAILED: preserve the data and call the CSIRT. No data: "
                      "no verification since mamori started."),
            stat("Verified ago", [(f"time() - mamori_evidence_verify_last_timestamp_seconds"
                                   f"{{{I}}}", "{{instance}}")], unit="s",
                 desc="Decades: no verification since mamori started."),
            stat("Last checkpoint age", [(
                f"time() - mamori_evidence_checkpoint_last_timestamp_seconds{{{I}}}",
                "{{instance}}")], unit="s",
                 thresholds=[(None, "green"), (60, "orange"), (300, "red")],
                 desc="Signed checkpoints are made every evidence.checkpoint_interval; the "
                      "time is refreshed when the chain head had not moved either (an idle store "
                      "is not stale). Above 300 s fires MamoriCheckpointStale."),
            stat("Unchained records", [(
                f"mamori_storage_next_sequence{{{I}}} - 1 - "
                f"mamori_evidence_chain_head_sequence{{{I}}}", "{{instance}}")],
                 desc="Stored records not yet bound into the hash chain (should stay near 0)."),
            ts("Chain head and next sequence", [
                (f"mamori_evidence_chain_head_sequence{{{I}}}", "chain head {{instance}}"),
                (f"mamori_storage_next_sequence{{{I}}}", "next sequence {{instance}}"),
            ]),
            ts("Checkpoints / min and maintenance errors", [
                (f"sum(rate(mamori_evidence_checkpoints_total{{{I}}}{RI})) * 60", "checkpoints"),
                (f"sum by (op) (rate(mamori_evidence_errors_total{{{I}}}{RI})) * 60",
                 "errors {{op}}"),
            ], unit="short"),
            ts("Checkpointed sequence", [
                (f"mamori_evidence_checkpoint_sequence{{{I}}}", "checkpoint {{instance}}"),
            ]),
            row("Writes"),
            ts("Stored / s", [(f"sum(rate(mamori_events_stored_total{{{I}}}{RI}))", "stored")],
               unit="ops"),
            ts("Write latency (one batch)", [
                (f"histogram_quantile(0.5, sum by (le) "
                 f"(rate(mamori_storage_write_latency_seconds_bucket{{{I}}}{RI})))", "p50"),
                (f"histogram_quantile(0.99, sum by (le) "
                 f"(rate(mamori_storage_write_latency_seconds_bucket{{{I}}}{RI})))", "p99"),
            ], unit="s"),
            ts("Records per batch (mean)", [(
                f"sum(rate(mamori_storage_batch_records_sum{{{I}}}{RI})) / "
                f"sum(rate(mamori_storage_batch_records_count{{{I}}}{RI}))", "mean")]),
            ts("Write errors / s", [(
                f"sum(rate(mamori_storage_write_errors_total{{{I}}}{RI}))", "errors")],
               unit="ops", desc="Failed appends (retried). Above 0 fires "
                                "MamoriStorageWriteErrors."),
            row("Space and retention"),
            ts("Store size and compaction backlog", [
                (f"mamori_storage_size_bytes{{{I}}}", "store {{instance}}"),
                (f"mamori_storage_compaction_pending_bytes{{{I}}}",
                 "compaction pending {{instance}}"),
            ], unit="bytes"),
            ts("Free space on the data filesystem (node exporter)", [(
                'node_filesystem_avail_bytes{job="node",mountpoint="/"} / '
                'node_filesystem_size_bytes{job="node",mountpoint="/"}', "{{instance}}")],
               unit="percentunit",
               desc="Adjust the mountpoint when /var/lib/mamori is on its own filesystem."),
            ts("Disposed records / h", [(
                f"sum(increase(mamori_retention_disposed_records_total{{{I}}}[1h]))",
                "disposed")], desc="Retention per information class (POLICY 3.3.8)."),
            ts("Events by information class / s", [(
                f"sum by (class) (rate(mamori_events_classified_total{{{I}}}{RI}))",
                "class {{class}}")], unit="ops", stack=True,
               desc="Class I is personal information (POLICY 3.1)."),
            ts("My Numbers found / h", [(
                f"sum(increase(mamori_classification_my_number_total{{{I}}}[1h]))",
                "My Number")], desc="POLICY 1.2, 4: specific personal information in logs."),
            stat("Retention last ran", [(
                f"time() - mamori_retention_last_run_timestamp_seconds{{{I}}}",
                "{{instance}}")], unit="s", w=12, h=8,
                 desc="Decades: not run since mamori started, or no retention.class_* set."),
        ]),
    "mamori-detection": dict(
        title="mamori / Detection and incidents",
        description="Rules, incidents and notifications to the CSIRT (POLICY 6.5, 8.1, 8.2).",
        panels=[
            row("Incidents"),
            stat("Open incidents", [(
                f"sum by (severity) (mamori_incidents_open{{{I}}})", "{{severity}}")], w=8,
                 thresholds=[(None, "green"), (1, "orange")]),
            stat("Oldest unacknowledged", [(
                f"max by (severity) (time() - "
                f"mamori_incidents_unacknowledged_oldest_timestamp_seconds{{{I}}} "
                f"and mamori_incidents_unacknowledged_oldest_timestamp_seconds{{{I}}} > 0)",
                "{{severity}}")], unit="s", w=8,
                 thresholds=[(None, "green"), (900, "red")],
                 desc="Above 15 min for critical/high fires MamoriIncidentUnacknowledged."),
            stat("Notification outbox", [(
                f"sum(mamori_notifications_outbox_depth{{{I}}})", "pending")], w=8,
                 desc="Notifications stored and not yet delivered (all channels).",
                 thresholds=[(None, "green"), (10, "orange")]),
            ts("Incidents opened / h by severity", [(
                f"sum by (severity) (increase(mamori_incidents_opened_total{{{I}}}[1h]))",
                "{{severity}}")]),
            ts("Time to acknowledge", [
                (f"histogram_quantile(0.5, sum by (le, severity) "
                 f"(rate(mamori_incidents_time_to_acknowledge_seconds_bucket{{{I}}}[1d])))",
                 "p50 {{severity}}"),
                (f"histogram_quantile(0.9, sum by (le, severity) "
                 f"(rate(mamori_incidents_time_to_acknowledge_seconds_bucket{{{I}}}[1d])))",
                 "p90 {{severity}}"),
            ], unit="s", desc="POLICY 8.2: incident handling times."),
            ts("Alerts into incidents / s", [(
                f"sum(rate(mamori_incidents_alerts_total{{{I}}}{RI}))", "alerts")], unit="ops",
               w=18),
            stat("Incident write errors (1 h)", [(
                f"sum(increase(mamori_incidents_write_errors_total{{{I}}}[1h]))", "errors")],
                 w=6, h=8, thresholds=GREEN_RED,
                 desc="Failed incident writes: those changes were lost."),
            ts("Notifications / s", [
                (f"sum by (channel) (rate(mamori_notifications_sent_total{{{I}}}{RI}))",
                 "sent {{channel}}"),
                (f"sum by (channel) (rate(mamori_notifications_failures_total{{{I}}}{RI}))",
                 "failed {{channel}}"),
            ], unit="ops", w=24),
            row("Rules"),
            ts("Events evaluated / s", [(
                f"sum(rate(mamori_rules_events_total{{{I}}}{RI}))", "events")], unit="ops"),
            ts("Alerts / s by rule (top 10)", [(
                f"topk(10, sum by (rule) (rate(mamori_rules_alerts_total{{{I}}}{RI})))",
                "{{rule}}")], unit="ops"),
            ts("Matches / s by rule (top 10)", [(
                f"topk(10, sum by (rule) (rate(mamori_rules_matches_total{{{I}}}{RI})))",
                "{{rule}}")], unit="ops"),
            ts("Evaluation time share by rule (top 10)", [(
                f"topk(10, sum by (rule) "
                f"(rate(mamori_rules_evaluation_seconds_total{{{I}}}{RI})))", "{{rule}}")],
               unit="percentunit", desc="Seconds of evaluation per second: the rules that cost."),
            ts("Correlation state groups (top 10)", [(
                f"topk(10, sum by (rule) (mamori_rules_state_groups{{{I}}}))", "{{rule}}")]),
            ts("State evictions / s", [(
                f"sum by (rule) (rate(mamori_rules_state_evictions_total{{{I}}}{RI}))",
                "{{rule}}")], unit="ops",
               desc="Above 0: a rule hits rules.max_groups_per_rule and forgets groups."),
        ]),
    "mamori-sources": dict(
        title="mamori / Sources",
        description="Which configured sources send, and which went silent (POLICY 7.1, 8.1, "
                    "8.2). A source that goes quiet is as alarming as one that screams.",
        panels=[
            stat("Silent sources (> 15 min)", [(
                f"count(time() - mamori_source_last_seen_timestamp_seconds{{{I}}} > 900) "
                f"or vector(0)", "silent")], w=8, thresholds=GREEN_RED),
            stat("Sources never seen since start", [(
                f"count(mamori_source_last_seen_timestamp_seconds{{{I}}} == 0) or vector(0)",
                "never seen")], w=8, thresholds=GREEN_RED),
            stat("Records from unknown senders / s", [(
                f"sum(rate(mamori_source_unknown_events_total{{{I}}}{RI}))", "unknown")],
                 unit="ops", w=8,
                 desc="Records that match no configured source: add the sender to sources:."),
            table("Seconds since last record, per source", [(
                f"sort_desc(time() - mamori_source_last_seen_timestamp_seconds{{{I}}})",
                "{{source}}")], unit="s",
                  desc="Never seen since mamori started shows as the age of the Unix epoch."),
            ts("Records / s per source", [(
                f"sum by (source) (rate(mamori_source_events_total{{{I}}}{RI}))",
                "{{source}}")], unit="ops", w=24),
            ts("Last seen per source", [(
                f"mamori_source_last_seen_timestamp_seconds{{{I}}} * 1000", "{{source}}")],
               unit="dateTimeAsIso", w=24),
        ]),
}


def thresholds_json(steps):
    steps = steps or [(None, "green")]
    return {"mode": "absolute",
            "steps": [{"color": c, "value": v} for v, c in steps]}


def panel_json(p, pid, x, y):
    if p["type"] == "row":
        return {"id": pid, "type": "row", "title": p["title"], "collapsed": False,
                "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}, "panels": []}
    out = {
        "id": pid,
        "type": p["type"],
        "title": p["title"],
        "description": p["description"],
        "datasource": DS,
        "gridPos": {"h": p["h"], "w": p["w"], "x": x, "y": y},
        "targets": [{"refId": chr(ord("A") + i), "datasource": DS, "expr": e,
                     "legendFormat": lg, "range": p["type"] != "table",
                     "instant": p["type"] == "table"}
                    for i, (e, lg) in enumerate(p["targets"])],
        "fieldConfig": {"defaults": {"unit": p["unit"],
                                     "thresholds": thresholds_json(p.get("thresholds"))},
                        "overrides": []},
    }
    if p.get("mappings"):
        out["fieldConfig"]["defaults"]["mappings"] = [{
            "type": "value",
            "options": {k: {"text": v, "index": i}
                        for i, (k, v) in enumerate(p["mappings"].items())}}]
    if p["type"] == "timeseries":
        out["fieldConfig"]["defaults"]["custom"] = {
            "drawStyle": "line", "lineWidth": 1, "fillOpacity": 10,
            "stacking": {"mode": "normal" if p["stack"] else "none", "group": "A"}}
        out["options"] = {"legend": {"displayMode": "list", "placement": "bottom"},
                          "tooltip": {"mode": "multi", "sort": "desc"}}
    elif p["type"] == "stat":
        out["options"] = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "",
                                            "values": False},
                          "colorMode": "background", "graphMode": "area",
                          "textMode": "auto", "justifyMode": "auto", "orientation": "auto"}
    elif p["type"] == "table":
        out["transformations"] = [{"id": "labelsToFields", "options": {}}]
        out["options"] = {"showHeader": True,
                          "sortBy": [{"displayName": "Value", "desc": True}]}
    return out


def dashboard_json(uid, d):
    panels, x, y, rowh = [], 0, 0, 0
    for pid, p in enumerate(d["panels"], start=1):
        if p["type"] == "row":
            if x:
                y, x = y + rowh, 0
            panels.append(panel_json(p, pid, 0, y))
            y, rowh = y + 1, 0
            continue
        if x + p["w"] > 24:
            y, x, rowh = y + rowh, 0, 0
        panels.append(panel_json(p, pid, x, y))
        x, rowh = x + p["w"], max(rowh, p["h"])
    return {
        "uid": uid,
        "title": d["title"],
        "description": d["description"],
        "tags": ["mamori"],
        "editable": False,
        "schemaVersion": 38,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "timezone": "browser",
        "graphTooltip": 1,
        "links": [{"type": "dashboards", "tags": ["mamori"], "asDropdown": True,
                   "title": "mamori", "includeVars": True, "keepTime": True}],
        "templating": {"list": [
            {"name": "datasource", "label": "Prometheus", "type": "datasource",
             "query": "prometheus", "current": {}, "hide": 0},
            {"name": "instance", "label": "mamori", "type": "query", "datasource": DS,
             "query": {"query": "label_values(mamori_build_info, instance)",
                       "refId": "instance"},
             "definition": "label_values(mamori_build_info, instance)",
             "refresh": 2, "multi": True, "includeAll": True, "allValue": ".+",
             "current": {}, "hide": 0, "sort": 1},
        ]},
        "annotations": {"list": []},
        "panels": panels,
    }


def render():
    return {f"{uid}.json": json.dumps(dashboard_json(uid, d), indent=2, ensure_ascii=False) + "\n"
            for uid, d in DASHBOARDS.items()}


def main():
    check = "--check" in sys.argv[1:]
    stale = []
    os.makedirs(OUT, exist_ok=True)
    for name, text in render().items():
        path = os.path.join(OUT, name)
        try:
            with open(path, encoding="utf-8") as f:
                current = f.read()
        except FileNotFoundError:
            current = None
        if current == text:
            continue
        if check:
            stale.append(name)
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            print(f"wrote {path}")
    if stale:
        print("out of date (run dashboards/generate.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
