"""Helpers shared by test_prometheus.py and test_dashboards.py: the metrics catalogue
(docs/metrics.md), the PromQL expressions of the dashboards, and the metric names in PromQL."""
import glob
import json
import os
import re
import socket

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CATALOGUE = os.path.join(ROOT, "docs", "metrics.md")
DASHBOARDS = os.path.join(ROOT, "dashboards", "grafana")
ALERTS = os.path.join(ROOT, "deploy", "prometheus", "alerts.yml")
ALERTS_TEST = os.path.join(ROOT, "deploy", "prometheus", "alerts_test.yml")
SCRAPE_CONFIG = os.path.join(ROOT, "deploy", "prometheus", "prometheus.yml")
# Modules of rows that describe metrics mamori does not export itself.
EXTERNAL = {"prometheus", "node_exporter"}

_ROW = re.compile(r"^\|\s*`([a-zA-Z_:][a-zA-Z0-9_:]*)`\s*\|\s*(counter|gauge|histogram|summary)\s*"
                  r"\|([^|]*)\|\s*(exported|planned)\s*\|\s*([a-z_]+)\s*\|")


def load_catalogue():
    """docs/metrics.md → {name: {"type", "labels", "status", "module"}}."""
    out = {}
    with open(CATALOGUE, encoding="utf-8") as f:
        for line in f:
            m = _ROW.match(line)
            if not m:
                continue
            name = m.group(1)
            if name in out:
                raise AssertionError(f"{CATALOGUE}: {name} is listed twice")
            labels = re.findall(r"`([a-zA-Z_][a-zA-Z0-9_]*)`", m.group(3))
            out[name] = {"type": m.group(2), "labels": labels, "status": m.group(4),
                         "module": m.group(5)}
    if not out:
        raise AssertionError(f"{CATALOGUE}: no metric rows found")
    return out


def dashboards():
    """[(path, parsed JSON)] of every dashboard."""
    out = []
    for path in sorted(glob.glob(os.path.join(DASHBOARDS, "*.json"))):
        with open(path, encoding="utf-8") as f:
            out.append((path, json.load(f)))
    return out


def all_panels(dashboard):
    """Every panel, rows' nested panels included."""
    for p in dashboard.get("panels", []):
        yield p
        for q in p.get("panels", []):
            yield q


def dashboard_exprs():
    """[(dashboard file name, panel title, expr)] for every query target of every dashboard."""
    out = []
    for path, d in dashboards():
        for p in all_panels(d):
            for t in p.get("targets", []):
                if t.get("expr"):
                    out.append((os.path.basename(path), p.get("title", ""), t["expr"]))
    return out


_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or",
             "unless", "bool", "offset", "inf", "nan", "atan2",
             # aggregation operators (may be followed by a by/without clause, not "(")
             "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
             "bottomk", "topk", "quantile"}
_IDENT = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_LABEL_LIST = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")


def _selector_matches(expr):
    """(name, matchers) for every vector selector; windows, label lists and literals skipped."""
    strings = []

    def hide(m):
        strings.append(m.group(0))
        return f"\x00{len(strings) - 1}\x00"

    text = _STRING.sub(hide, expr)
    text = re.sub(r"\[[^\]]*\]", "", text)  # range and subquery windows
    text = _LABEL_LIST.sub(r"\1", text)
    out = []
    for m in re.finditer(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?", text):
        word, matchers = m.group(1), m.group(2) or ""
        if m.start() > 0 and (text[m.start() - 1].isdigit() or text[m.start() - 1] == "."):
            continue  # the exponent or suffix of a number (1e-9)
        if word in _KEYWORDS or text[m.end():].lstrip().startswith("("):
            continue  # a keyword or a function call
        matchers = re.sub(r"\x00(\d+)\x00", lambda s: strings[int(s.group(1))], matchers)
        out.append((word, matchers))
    return out


def metric_names(expr, catalogue=None):
    """Metric names a PromQL expression reads. A histogram's _bucket/_sum/_count series map to
    the catalogue's base name when the catalogue lists that base as a histogram."""
    names = set()
    for word, _ in _selector_matches(expr):
        if catalogue is not None:
            for suffix in ("_bucket", "_sum", "_count"):
                base = word[: -len(suffix)]
                if word.endswith(suffix) and catalogue.get(base, {}).get("type") in (
                        "histogram", "summary"):
                    word = base
        names.add(word)
    return names


def selectors(expr):
    """Vector selectors of an expression: ['up{job="mamori"}', 'mamori_x', ...]."""
    return [word + matchers for word, matchers in _selector_matches(expr)]


def substitute(expr, rate_interval="30s"):
    """Replaces the Grafana variables the dashboards use with values for a direct query."""
    return expr.replace("$__rate_interval", rate_interval).replace('"$instance"', '".+"')


def free_port():
    """A TCP port that was free a moment ago (for programs that cannot bind port 0 and report
    the port, like Prometheus)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
