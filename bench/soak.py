#!/usr/bin/env python3
"""Soak: the real daemon under overload with garbage on every input, then the accounting.

For N seconds, at the same time:
  - mamori-loadgen over TCP (2 connections, as fast as the daemon takes them) and over UDP
    (30,000 datagrams/s) replaying loghub lines;
  - TCP connections carrying garbage: random bytes, a bad octet count, a 300 KB line, NULs and
    0xFF, a frame cut in the middle;
  - random UDP datagrams (0-1,500 bytes);
  - HTTP requests with broken bodies and parameters (ingest, search, incidents, unknown routes).
Every 5 s it samples the daemon's RSS. Then it waits for the queue to drain, reads /metrics and
checks: the daemon is alive, received = stored + dropped (every drop counted by reason), no 5xx,
and `mamori verify` passes on the store after a clean stop.

  bench/soak.py --mamori build/app/mamori --loadgen build/bench/mamori-loadgen \
      --config FILE --seconds 300 [--corpus ../shared/corpora/loghub] [--keep]

Exit status 0 when every check holds, 1 otherwise. Loopback only; the daemon is started here
and stopped by its PID. The store goes to a temporary directory (removed unless --keep).
"""
import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request


def free_port(kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mamori", default=os.path.join(here, "..", "build", "app", "mamori"))
    ap.add_argument("--loadgen", default=os.path.join(here, "..", "build", "bench", "mamori-loadgen"))
    ap.add_argument("--config", help="daemon configuration (default: the embedded one)")
    ap.add_argument("--seconds", type=int, default=120)
    ap.add_argument("--corpus", default=os.path.join(here, "..", "..", "shared", "corpora", "loghub"))
    ap.add_argument("--keep", action="store_true", help="keep the store directory")
    a = ap.parse_args()

    tcp, udp, http = free_port(), free_port(socket.SOCK_DGRAM), free_port()
    work = tempfile.mkdtemp(prefix="mamori-soak-")
    data = os.path.join(work, "data")
    log = open(os.path.join(work, "mamori.log"), "w")
    cmd = [a.mamori, "serve", "--data-dir", data, "--syslog-tcp", f"127.0.0.1:{tcp}",
           "--syslog-udp", f"127.0.0.1:{udp}", "--http", f"127.0.0.1:{http}", "--log-level", "warn"]
    if a.config:
        cmd += ["--config", a.config]
    daemon = subprocess.Popen(cmd, stdout=log, stderr=log)
    failures = []

    def metrics():
        with urllib.request.urlopen(f"http://127.0.0.1:{http}/metrics", timeout=5) as r:
            return r.read().decode()

    try:
        for _ in range(150):
            try:
                metrics()
                break
            except OSError:
                if daemon.poll() is not None:
                    sys.exit(f"soak: the daemon exited at start; see {work}/mamori.log")
                time.sleep(0.2)
        stop = time.time() + a.seconds
        rnd = random.Random(7)
        sent = {"tcp_garbage_connections": 0, "udp_garbage": 0, "http_garbage": 0}

        def tcp_garbage():
            frames = [lambda: os.urandom(rnd.randrange(1, 70000)),
                      lambda: b"99999999999 " + os.urandom(100),
                      lambda: b"<13>" + b"A" * 300000 + b"\n",
                      lambda: b"57 <13>1 - - - - - -" + b"\x00\xff" * 40 + b"\n",
                      lambda: b"<34>Oct 11 22:14:15 h su: half a line"]
            while time.time() < stop:
                try:
                    with socket.create_connection(("127.0.0.1", tcp), timeout=2) as s:
                        s.sendall(rnd.choice(frames)())
                    sent["tcp_garbage_connections"] += 1
                except OSError:
                    pass

        def udp_garbage():
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                while time.time() < stop:
                    u.sendto(os.urandom(rnd.randrange(0, 1500)), ("127.0.0.1", udp))
                    sent["udp_garbage"] += 1
                    time.sleep(0.0005)

        def http_garbage():
            bodies = [b"{", b"\xff\xfe", b'{"a":' * 1000, b"[" * 5000, os.urandom(5000),
                      b'{"message":"ok"}\n' * 10]
            paths = ["/api/v1/ingest", "/api/v1/events?q=%ff%fe&limit=-1",
                     "/api/v1/incidents?limit=abc", "/api/v1/nope"]
            while time.time() < stop:
                body = rnd.choice(bodies)
                for path in paths:
                    try:
                        req = urllib.request.Request(f"http://127.0.0.1:{http}{path}",
                                                     data=body if "ingest" in path else None)
                        urllib.request.urlopen(req, timeout=5).read()
                    except Exception:  # 4xx answers raise too; keep sending
                        pass
                sent["http_garbage"] += 1

        threads = [threading.Thread(target=f) for f in (tcp_garbage, udp_garbage, http_garbage)]
        for t in threads:
            t.start()
        duration = str(max(1, a.seconds - 5))
        loads = [subprocess.Popen([a.loadgen, "--port", str(tcp), "--connections", "2", "--count",
                                   "1000000000", "--duration", duration, "--corpus", a.corpus,
                                   "--quiet"], stdout=subprocess.PIPE),
                 subprocess.Popen([a.loadgen, "--mode", "udp", "--port", str(udp), "--rate", "30000",
                                   "--count", "1000000000", "--duration", duration, "--corpus",
                                   a.corpus, "--quiet"], stdout=subprocess.PIPE)]
        rss = []
        while time.time() < stop and daemon.poll() is None:
            time.sleep(5)
            with open(f"/proc/{daemon.pid}/status") as f:
                rss.append(int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1)) // 1024)
        for t in threads:
            t.join()
        summaries = [json.loads(p.communicate()[0].decode().strip().splitlines()[-1]) for p in loads]
        if daemon.poll() is not None:
            failures.append(f"the daemon died (exit {daemon.returncode})")
        else:
            for _ in range(120):  # the queue drains
                m = metrics()
                if re.search(r"^mamori_pipeline_queue_depth 0(\.0+)?$", m, re.M):
                    break
                time.sleep(0.5)
            time.sleep(2)
            m = metrics()

            def total(name, where=""):
                return sum(float(line.split()[-1]) for line in m.splitlines()
                           if re.match(name + r"[ {]", line) and where in line)

            received, stored = total("mamori_events_received_total"), total("mamori_events_stored_total")
            dropped = total("mamori_events_dropped_total")
            print(json.dumps({"seconds": a.seconds, "loadgen": [(s["mode"], s["messages"]) for s in summaries],
                              "garbage": sent, "rss_mib": rss, "received": received,
                              "stored": stored, "dropped": dropped}))
            for line in m.splitlines():
                if re.match(r"mamori_(events_dropped_total|events_truncated_total|"
                            r"collector_framing_errors_total|storage_memory_bytes)", line):
                    print("  " + line)
            if received != stored + dropped:
                failures.append(f"received {received} != stored {stored} + dropped {dropped}")
            if total("mamori_api_requests_total", 'code="5xx"') != 0:
                failures.append("5xx responses")
            if total("mamori_storage_write_errors_total") != 0:
                failures.append("storage write errors")
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(timeout=120)
            if daemon.returncode != 0:
                failures.append(f"exit status {daemon.returncode} after SIGTERM")
            v = subprocess.run([a.mamori, "verify", "--data-dir", data], capture_output=True, text=True)
            print("verify:", (v.stdout + v.stderr).strip().splitlines()[0] if (v.stdout + v.stderr).strip() else v.returncode)
            if v.returncode != 0:
                failures.append("verify failed")
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        if a.keep or failures:
            print(f"soak: store and log kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    for f in failures:
        print("FAILED:", f)
    print("soak:", "FAILED" if failures else "OK")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
