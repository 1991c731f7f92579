#!/usr/bin/env python3
"""Side-by-side benchmark driver: mamori, rsyslog and syslog-ng on loopback (see README.md).

Started by bench/run.sh, which builds and installs what this needs. For each daemon, scenario
and run it starts a fresh daemon in the foreground on free loopback ports, replays the corpus at
it with mamori-loadgen, counts at the receiver what arrived, and then stops the daemon. It
writes RESULTS.md (the table) and results.json (every run).

Python standard library only.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

CLK_TCK = os.sysconf("SC_CLK_TCK")
POLL = 0.05  # seconds between looks at the receiver

# mamori's two pipelines, as YAML given with --config (flags set the ports and the data dir).
# The storage-only variant switches the rule engine off. Each variant is probed at startup: a
# config error (exit code 2, unknown key) means this build has no such switch, and the variant is
# skipped with a note in RESULTS.md. run.sh --mamori-full-config / --mamori-storage-config
# replace them (e.g. to point the full pipeline at the default rule pack plus 100 Sigma rules).
# "full" is filled in by full_pipeline_config(): the default rule pack plus --sigma-count Sigma
# rules of the corpus.
MAMORI_VARIANTS = {
    "full": "",
    "storage-only": "rules:\n  paths: []\n",
}


def full_pipeline_config(args):
    """YAML for the full pipeline: rules/default plus the first N Sigma rules of the corpus.

    The Sigma rules are the first --sigma-count files of ../sigma/rules (next to the loghub
    corpus), sorted by path, linked into WORKDIR/sigma (nothing is copied into the repository).
    """
    paths = [os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rules", "default")]
    sigma_root = os.path.join(os.path.dirname(os.path.abspath(args.corpus)), "sigma", "rules")
    files = []
    for dirpath, _, names in os.walk(sigma_root):
        files += [os.path.join(dirpath, n) for n in names if n.endswith(".yml")]
    files.sort()
    files = files[:args.sigma_count]
    if args.sigma_count and len(files) < args.sigma_count:
        log(f"only {len(files)} Sigma rules found under {sigma_root}")
    if files:
        linkdir = os.path.join(args.workdir, "sigma")
        shutil.rmtree(linkdir, ignore_errors=True)
        os.makedirs(linkdir)
        for i, f in enumerate(files):
            os.symlink(f, os.path.join(linkdir, f"{i:04d}-{os.path.basename(f)}"))
        paths.append(linkdir)
    args.full_rules = f"the default rule pack (rules/default) plus {len(files)} Sigma rules"
    return "rules:\n  paths:\n" + "".join(f"    - {os.path.normpath(p)}\n" for p in paths)


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port():
    """A port free for both TCP and UDP on 127.0.0.1."""
    for _ in range(100):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            t.close()
            u.close()
    raise RuntimeError("no free port")


def udp_rcvbuf():
    """What an SO_RCVBUF request of 8 MiB amounts to before the kernel doubles it."""
    try:
        with open("/proc/sys/net/core/rmem_max") as f:
            return min(8 << 20, int(f.read()))
    except (OSError, ValueError):
        return 8 << 20


def proc_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_hwm_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def tcp_ready(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def count_lines(path):
    if not os.path.exists(path):
        return 0
    n = 0
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 24)
            if not b:
                return n
            n += b.count(b"\n")


# ------------------------------------------------------------------------------------------------
# Daemons. Each knows how to start in the foreground on a port, and how to count what it has
# received (a cheap progress value while running, an exact count at the end).


class Daemon:
    name = "?"

    def __init__(self, workdir, port, args):
        self.workdir = workdir
        self.port = port
        self.args = args
        self.proc = None
        self.out = os.path.join(workdir, "out.log")

    def start(self):
        self.stderr = open(os.path.join(self.workdir, "daemon.stderr"), "wb")
        self.proc = subprocess.Popen(self.command(), stdout=self.stderr, stderr=self.stderr,
                                     env=self.env(), cwd=self.workdir, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            if self.ready():
                time.sleep(0.2)  # the UDP input may come up just after the TCP one
                return True
            time.sleep(0.05)
        return False

    def env(self):
        return None

    def ready(self):
        return tcp_ready(self.port)

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is not None:
            self.stderr.close()
            return
        self.proc.send_signal(signal.SIGTERM)  # only the PID we started
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.stderr.close()

    def progress(self):
        """Monotonic progress indicator (bytes written or messages stored)."""
        try:
            return os.path.getsize(self.out)
        except OSError:
            return 0

    def final_count(self):
        return count_lines(self.out)

    def is_exact(self):
        return False  # progress() is not a message count

    def stderr_tail(self):
        try:
            with open(os.path.join(self.workdir, "daemon.stderr"), "rb") as f:
                return f.read()[-2000:].decode(errors="replace")
        except OSError:
            return ""


class Rsyslog(Daemon):
    name = "rsyslog"

    def command(self):
        conf = os.path.join(self.workdir, "rsyslog.conf")
        os.makedirs(os.path.join(self.workdir, "rs-work"), exist_ok=True)
        with open(conf, "w") as f:
            # UDP receive buffer: syslog-ng and mamori ask SO_RCVBUF for 8 MiB, which the kernel
            # caps at net.core.rmem_max and then doubles; rsyslog (as root) forces its value past
            # the cap (SO_RCVBUFFORCE), so it is given the capped value: all three get the same.
            f.write(f"""global(workDirectory="{self.workdir}/rs-work" maxMessageSize="64k")
module(load="imtcp")
module(load="imudp")
input(type="imtcp" address="127.0.0.1" port="{self.port}")
input(type="imudp" address="127.0.0.1" port="{self.port}" rcvbufSize="{udp_rcvbuf()}")
template(name="plain" type="string"
         string="%TIMESTAMP:::date-rfc3339% %HOSTNAME% %syslogtag%%msg:::sp-if-no-1st-sp%%msg%\\n")
action(type="omfile" file="{self.out}" template="plain")
""")
        return [self.args.rsyslogd, "-n", "-f", conf, "-i", os.path.join(self.workdir, "rs.pid")]


class SyslogNg(Daemon):
    name = "syslog-ng"

    def env(self):
        e = dict(os.environ)
        e["LD_LIBRARY_PATH"] = os.path.join(self.args.syslog_ng_root, "usr/lib/syslog-ng")
        return e

    def command(self):
        conf = os.path.join(self.workdir, "syslog-ng.conf")
        with open(conf, "w") as f:
            # flow-control: a TCP sender is slowed down instead of messages being dropped when
            # the destination queue is full (the default drops them), the same contract as
            # rsyslog's and mamori's.
            f.write(f"""@version: 3.38
options {{ chain_hostnames(off); use_dns(no); use_fqdn(no); keep_hostname(yes);
          stats_freq(0); log_msg_size(65536); }};
source s_net {{
  network(ip("127.0.0.1") port({self.port}) transport("tcp") max-connections(64)
          log-iw-size(64000));
  network(ip("127.0.0.1") port({self.port}) transport("udp") so-rcvbuf(8388608));
}};
destination d_file {{ file("{self.out}" template("${{ISODATE}} ${{HOST}} ${{MSGHDR}}${{MSG}}\\n")); }};
log {{ source(s_net); destination(d_file); flags(flow-control); }};
""")
        root = self.args.syslog_ng_root
        return [os.path.join(root, "usr/sbin/syslog-ng"), "-F", "--no-caps", "-f", conf,
                f"--module-path={root}/usr/lib/syslog-ng/3.38",
                "-p", os.path.join(self.workdir, "sng.pid"),
                "-R", os.path.join(self.workdir, "sng.persist"),
                "-c", os.path.join(self.workdir, "sng.ctl")]


class Mamori(Daemon):
    name = "mamori"

    def __init__(self, workdir, port, args, variant):
        super().__init__(workdir, port, args)
        self.variant = variant
        self.name = f"mamori ({variant})"
        self.http_port = free_port()

    def command(self):
        cmd = [self.args.mamori, "serve", "--data-dir", os.path.join(self.workdir, "data"),
               "--syslog-tcp", f"127.0.0.1:{self.port}", "--syslog-udp",
               f"127.0.0.1:{self.port}", "--http", f"127.0.0.1:{self.http_port}",
               "--log-level", "warn"]
        extra = MAMORI_VARIANTS[self.variant]
        if extra:
            conf = os.path.join(self.workdir, "mamori.yaml")
            with open(conf, "w") as f:
                f.write(extra)
            cmd += ["--config", conf]
        return cmd

    def metrics(self):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/metrics",
                                        timeout=2) as r:
                text = r.read().decode()
        except OSError:
            return None
        out = {}
        for line in text.splitlines():
            if line.startswith("#"):
                continue
            m = re.match(r"^(mamori_events_(?:stored|received|dropped)_total)(\{[^}]*\})?\s+(\S+)",
                         line)
            if m:
                out[m.group(1)] = out.get(m.group(1), 0) + float(m.group(3))
        return out

    def ready(self):
        return tcp_ready(self.port) and self.metrics() is not None

    def progress(self):
        m = self.metrics()
        return int(m.get("mamori_events_stored_total", 0)) if m else 0

    def final_count(self):
        m = self.metrics() or {}
        self.last_metrics = m
        return int(m.get("mamori_events_stored_total", 0))

    def is_exact(self):
        return True


# ------------------------------------------------------------------------------------------------


def run_once(args, make_daemon, scenario, run_index):
    workdir = os.path.join(args.workdir, f"{make_daemon.label}-{scenario['id']}-{run_index}")
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    port = free_port()
    d = make_daemon(workdir, port)
    result = {"daemon": d.name, "scenario": scenario["id"], "run": run_index}
    t_begin = time.time()
    try:
        if not d.start():
            result["error"] = "daemon did not start: " + d.stderr_tail()
            return result
        pid = d.proc.pid
        cpu0 = proc_cpu_seconds(pid)
        lg = [args.loadgen, "--quiet", "--host", "127.0.0.1", "--port", str(port),
              "--corpus", args.corpus, "--format", args.format] + scenario["loadgen"]
        if args.pin_loadgen:
            lg = ["taskset", "-c", args.pin_loadgen] + lg
        lg_out = open(os.path.join(workdir, "loadgen.json"), "wb")
        t_launch = time.time()
        gen = subprocess.Popen(lg, stdout=lg_out, stderr=subprocess.PIPE)
        udp = scenario["transport"] == "udp"
        # After the generator is done: UDP is complete when nothing arrives for 1 s; TCP when
        # the count is reached (exact counters) or nothing arrives for 2 s (file sizes).
        quiet_after = 1.0 if udp else 2.0
        last_val, last_change = d.progress(), time.time()
        gen_done_at = None
        timed_out = False
        deadline = time.monotonic() + args.run_timeout
        expected = scenario["count"]
        while True:
            time.sleep(POLL)
            now = time.time()
            v = d.progress()
            if v != last_val:
                last_val, last_change = v, now
            if gen_done_at is None and gen.poll() is not None:
                gen_done_at = now
                try:  # the generator may have stopped early (--duration): expect what it sent
                    with open(os.path.join(workdir, "loadgen.json")) as f:
                        expected = json.loads(f.read().strip().splitlines()[-1])["messages"]
                except (OSError, ValueError, IndexError, KeyError):
                    pass
            if d.proc.poll() is not None:
                result["error"] = "daemon exited during the run: " + d.stderr_tail()
                break
            if gen_done_at is not None:
                if d.is_exact() and v >= expected:
                    break
                if now - max(last_change, gen_done_at) > quiet_after:
                    break
            if time.monotonic() > deadline:
                timed_out = True
                break
        if gen.poll() is None:
            gen.kill()  # only the generator we started
        gen_err = gen.communicate()[1].decode(errors="replace")
        lg_out.close()
        cpu = proc_cpu_seconds(pid) - cpu0
        hwm = proc_hwm_kib(pid)
        if not d.is_exact():
            d.stop()  # a file daemon flushes what it still buffers, then the lines are counted
        received = d.final_count()
        try:
            with open(os.path.join(workdir, "loadgen.json")) as f:
                gen_summary = json.loads(f.read().strip().splitlines()[-1])
        except (OSError, ValueError, IndexError):
            gen_summary = None
        if gen_summary is None:
            why = (f"timed out after {args.run_timeout:g} s (generator killed)" if timed_out
                   else f"exit code {gen.returncode}")
            result["error"] = f"loadgen gave no summary ({why}): " + gen_err[-500:]
            result["received"] = received
            result["seconds"] = last_change - t_launch
            result["msg_per_sec"] = received / result["seconds"] if result["seconds"] > 0 else 0
            result["timed_out"] = timed_out
        else:
            start = gen_summary["start_unix"]
            elapsed = max(last_change - start, 1e-6)
            result.update({
                "sent": gen_summary["messages"],
                "received": received,
                "lost": gen_summary["messages"] - received,
                "seconds": elapsed,
                "msg_per_sec": received / elapsed,
                "loadgen_msg_per_sec": gen_summary["msg_per_sec"],
                "loadgen_cpu_seconds": gen_summary["cpu_seconds"],
                "timed_out": timed_out,
                "sender_capped": gen_summary.get("stopped_by_duration", False),
            })
        result["cpu_seconds"] = cpu
        result["peak_rss_kib"] = hwm
        if isinstance(d, Mamori):
            result["metrics"] = getattr(d, "last_metrics", {})
    finally:
        d.stop()
        result["wall_seconds"] = time.time() - t_begin  # start to stop, for spotting stalls
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return result


def probe_mamori_variant(args, variant):
    """True if this mamori build accepts the variant's config (i.e. starts with it)."""
    workdir = os.path.join(args.workdir, f"probe-{variant}")
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    d = Mamori(workdir, free_port(), args, variant)
    try:
        ok = d.start()
        if not ok:
            log(f"mamori variant '{variant}' not available: {d.stderr_tail().strip()[-300:]}")
        return ok
    finally:
        d.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def scenarios(args):
    out = []
    tcp_count = args.tcp_count
    out.append({"id": "tcp-1", "title": "TCP, 1 connection", "transport": "tcp",
                "count": tcp_count,
                "loadgen": ["--mode", "tcp", "--connections", "1", "--count", str(tcp_count),
                            "--framing", args.framing, "--duration", str(args.tcp_max_seconds)]})
    out.append({"id": "tcp-4", "title": "TCP, 4 connections", "transport": "tcp",
                "count": tcp_count,
                "loadgen": ["--mode", "tcp", "--connections", "4", "--count", str(tcp_count),
                            "--framing", args.framing, "--duration", str(args.tcp_max_seconds)]})
    for rate in args.udp_rates:
        n = int(rate * args.udp_seconds)
        out.append({"id": f"udp-{rate // 1000}k", "title": f"UDP, {rate // 1000}k msg/s offered",
                    "transport": "udp", "count": n, "rate": rate,
                    "loadgen": ["--mode", "udp", "--rate", str(rate), "--count", str(n)]})
    if args.scenarios:
        wanted = set(args.scenarios.split(","))
        out = [s for s in out if s["id"] in wanted]
    return out


def summarize(runs):
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return None
    rates = [r["msg_per_sec"] for r in ok]
    return {
        "runs": len(ok),
        "failed": len(runs) - len(ok),
        "median": statistics.median(rates),
        "min": min(rates),
        "max": max(rates),
        "cpu": statistics.median(r["cpu_seconds"] for r in ok),
        "cpu_per_msg_us": statistics.median(
            r["cpu_seconds"] / r["received"] * 1e6 for r in ok if r.get("received")) if any(
                r.get("received") for r in ok) else None,
        "rss_mib": max(r["peak_rss_kib"] for r in ok) / 1024,
        "lost": sum(r.get("lost", 0) for r in ok),
        "sent": sum(r.get("sent", 0) for r in ok),
        "timed_out": sum(1 for r in ok if r.get("timed_out")),
        "capped": sum(1 for r in ok if r.get("sender_capped")),
        "sender": statistics.median(r.get("loadgen_msg_per_sec", 0) for r in ok),
    }


def psi_totals():
    """Seconds stalled so far (Linux PSI): CPU 'some' and memory 'full'; None if unavailable."""
    out = {}
    for res, kind in (("cpu", "some"), ("memory", "full"), ("io", "full")):
        try:
            with open(f"/proc/pressure/{res}") as f:
                for line in f:
                    if line.startswith(kind):
                        out[res] = int(line.split("total=")[1]) / 1e6
        except (OSError, ValueError, IndexError):
            pass
    return out


def machine_info():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    return {"nproc": os.cpu_count(), "cpu": model, "ram": mem, "kernel": platform.release(),
            "loadavg": load}


def fmt_rate(x):
    return f"{x:,.0f}"


RENDER_SETTINGS = ("format", "framing", "tcp_count", "tcp_max_seconds", "udp_seconds",
                   "udp_rates", "runs", "pin_loadgen")


def render_only(args):
    """Rewrites RESULTS.md from RESULTS.json (same runs, e.g. after a change of layout)."""
    with open(args.render_only) as f:
        data = json.load(f)
    for k, v in data.get("settings", {}).items():
        setattr(args, k, v)
    args.command_line = data["command"]
    args.mamori_commit = data["mamori_commit"]
    args.rsyslog_version = data["rsyslog"]
    args.syslog_ng_version = data["syslog_ng"]
    runs = data["runs"]
    table = []
    for sc in scenarios(args):
        names = []
        for r in runs:
            if r["scenario"] == sc["id"] and r["daemon"] not in names:
                names.append(r["daemon"])
        rows = [(n, summarize([r for r in runs if r["scenario"] == sc["id"] and r["daemon"] == n]))
                for n in names]
        if rows:
            table.append((sc, rows))
    write_results(args, data["machine"], table, runs, data["started"], data["finished"],
                  data["notes"])


def write_results(args, info, table, all_runs, started, finished, notes):
    lines = []
    lines.append("# Benchmark results: mamori vs rsyslog vs syslog-ng\n")
    lines.append("Produced by `bench/run.sh` (see [README.md](README.md) for the method and the "
                 "meaning of each column). All daemons ran on this machine, in the same run, on "
                 "loopback.\n")
    lines.append("| | |\n| --- | --- |")
    lines.append(f"| date | {started} (finished {finished}) |")
    lines.append(f"| command | `` {args.command_line} `` |")
    lines.append(f"| machine | {info['nproc']} CPUs, {info['cpu']}, {info['ram']} RAM, "
                 f"Linux {info['kernel']} |")
    lines.append(f"| load average before / after | {info['loadavg']} / "
                 f"{info.get('loadavg_after', '?')} |")
    psi0, psi1 = info.get("psi_before", {}), info.get("psi_after", {})
    if psi0 and psi1:
        wall = info.get("wall_seconds", 0)
        parts = [f"{res} {psi1[res] - psi0[res]:.0f} s" for res in ("cpu", "memory", "io")
                 if res in psi0 and res in psi1]
        lines.append(f"| stall time during the {wall:.0f} s run (Linux PSI: cpu some, memory "
                     f"full, io full) | {', '.join(parts)} |")
    lines.append(f"| mamori | commit `{args.mamori_commit}` |")
    lines.append(f"| rsyslog | {args.rsyslog_version} |")
    lines.append(f"| syslog-ng | {args.syslog_ng_version} |")
    lines.append(f"| messages | format RFC {args.format}, TCP framing `{args.framing}`, "
                 f"{args.tcp_count:,} per TCP run (the sender stops after "
                 f"{args.tcp_max_seconds} s), {args.udp_seconds:g} s per UDP run; "
                 f"{args.runs} runs per cell |")
    pin = f"loadgen pinned to CPU {args.pin_loadgen}" if args.pin_loadgen else "no CPU pinning"
    lines.append(f"| CPU placement | {pin} |")
    lines.append("")
    for n in notes:
        lines.append(f"> {n}\n")
    for sc, rows in table:
        if sc.get("rate"):
            got = [s["sender"] for _, s in rows if s]
            if got and max(got) < 0.9 * sc["rate"]:
                lines.append(f"> {sc['title']}: the load generator could not offer that rate on "
                             f"this machine (it reached {fmt_rate(min(got))} to "
                             f"{fmt_rate(max(got))} msg/s; column \"sender msg/s\"); the "
                             f"scenario measured a lower offered load than its name says.\n")
    lines.append("| scenario | daemon | msg/s median | min | max | mamori / rsyslog | "
                 "CPU s (median) | CPU µs/msg | peak RSS MiB | lost / sent | sender msg/s |")
    lines.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for sc, rows in table:
        rs = next((s for name, s in rows if name == "rsyslog" and s), None)
        for name, s in rows:
            if s is None:
                lines.append(f"| {sc['title']} | {name} | — | — | — | — | — | — | — | "
                             f"failed | |")
                continue
            ratio = ""
            if name.startswith("mamori") and rs:
                ratio = f"{s['median'] / rs['median']:.2f}"
            lost = f"{s['lost']:,} / {s['sent']:,}"
            if s["timed_out"]:
                lost += f" ({s['timed_out']} timed out)"
            if s["failed"]:
                lost += f" ({s['failed']} failed)"
            cpm = f"{s['cpu_per_msg_us']:.2f}" if s["cpu_per_msg_us"] else "—"
            lines.append(f"| {sc['title']} | {name} | {fmt_rate(s['median'])} | "
                         f"{fmt_rate(s['min'])} | {fmt_rate(s['max'])} | {ratio} | "
                         f"{s['cpu']:.2f} | {cpm} | {s['rss_mib']:.1f} | {lost} | "
                         f"{fmt_rate(s['sender'])} |")
    lines.append("")
    lines.append("## Every run\n")
    lines.append("| scenario | daemon | run | sent | received | seconds | msg/s | CPU s | "
                 "peak RSS MiB | loadgen msg/s | loadgen CPU s |")
    lines.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in all_runs:
        if "error" in r:
            err = r["error"].replace("\n", " ").replace("|", "/")[:200]
            lines.append(f"| {r['scenario']} | {r['daemon']} | {r['run']} | error: {err} "
                         f"| | | | | | | |")
            continue
        capped = " (time cap)" if r.get("sender_capped") else ""
        lines.append(f"| {r['scenario']} | {r['daemon']} | {r['run']} | {r.get('sent', 0):,}{capped} | "
                     f"{r['received']:,} | {r['seconds']:.2f} | {fmt_rate(r['msg_per_sec'])} | "
                     f"{r['cpu_seconds']:.2f} | {r['peak_rss_kib'] / 1024:.1f} | "
                     f"{fmt_rate(r.get('loadgen_msg_per_sec', 0))} | "
                     f"{r.get('loadgen_cpu_seconds', 0):.2f} |")
    lines.append("")
    # The profile (where the time goes, what was tried) is written by hand in PROFILE.md and
    # carried into every RESULTS.md, so that a rerun of the table keeps it.
    profile = os.path.join(os.path.dirname(os.path.abspath(__file__)), "PROFILE.md")
    if os.path.exists(profile):
        with open(profile) as f:
            lines.append(f.read())
    with open(args.out, "w") as f:
        f.write("\n".join(lines))
    with open(args.json_out, "w") as f:
        json.dump({"machine": info, "started": started, "finished": finished,
                   "command": args.command_line, "mamori_commit": args.mamori_commit,
                   "rsyslog": args.rsyslog_version, "syslog_ng": args.syslog_ng_version,
                   "notes": notes, "runs": all_runs,
                   "settings": {k: getattr(args, k) for k in RENDER_SETTINGS}}, f, indent=1)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--render-only", default="", metavar="RESULTS.json",
                   help="only rewrite --out from a previous run's JSON")
    p.add_argument("--loadgen", default="")
    p.add_argument("--mamori", default="")
    p.add_argument("--rsyslogd", default="")
    p.add_argument("--syslog-ng-root", default="")
    p.add_argument("--corpus", default="")
    p.add_argument("--workdir", default="")
    p.add_argument("--out", required=True)
    p.add_argument("--json-out", required=True)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--tcp-count", type=int, default=3_000_000)
    p.add_argument("--tcp-max-seconds", type=int, default=15,
                   help="a TCP sender stops after this long even if --tcp-count is not sent")
    p.add_argument("--udp-seconds", type=float, default=5.0)
    p.add_argument("--udp-rates", default="50000,100000,200000")
    p.add_argument("--format", default="3164")
    p.add_argument("--framing", default="lf")
    p.add_argument("--scenarios", default="")
    p.add_argument("--daemons", default="rsyslog,syslog-ng,mamori")
    p.add_argument("--run-timeout", type=float, default=60.0)
    p.add_argument("--pin-loadgen", default="")
    p.add_argument("--keep", action="store_true", help="keep each run's work directory")
    p.add_argument("--command-line", default=" ".join(sys.argv))
    p.add_argument("--mamori-commit", default="?")
    p.add_argument("--rsyslog-version", default="?")
    p.add_argument("--syslog-ng-version", default="?")
    p.add_argument("--note", action="append", default=[])
    p.add_argument("--mamori-full-config", default="",
                   help="YAML merged into mamori's config for the full pipeline "
                        "(default: rules/default plus --sigma-count corpus Sigma rules)")
    p.add_argument("--sigma-count", type=int, default=100,
                   help="Sigma rules of the corpus in the default full pipeline")
    p.add_argument("--mamori-storage-config", default="",
                   help="YAML for the storage-only pipeline (default: rules: {paths: []}, no rule loaded)")
    args = p.parse_args()
    if args.mamori_full_config:
        with open(args.mamori_full_config) as f:
            MAMORI_VARIANTS["full"] = f.read()
    if args.mamori_storage_config:
        with open(args.mamori_storage_config) as f:
            MAMORI_VARIANTS["storage-only"] = f.read()
    args.udp_rates = [int(x) for x in args.udp_rates.split(",") if x]
    if args.render_only:
        render_only(args)
        return
    if not (args.loadgen and args.corpus and args.workdir):
        p.error("--loadgen, --corpus and --workdir are required")

    os.makedirs(args.workdir, exist_ok=True)
    args.full_rules = "the rules of --mamori-full-config"
    if not args.mamori_full_config:
        MAMORI_VARIANTS["full"] = full_pipeline_config(args)
    info = machine_info()
    info["psi_before"] = psi_totals()
    t_start = time.time()
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    notes = list(args.note)

    makers = []
    wanted = args.daemons.split(",")

    def maker(label, fn):
        fn.label = label
        makers.append(fn)

    if "rsyslog" in wanted and args.rsyslogd:
        maker("rsyslog", lambda w, port: Rsyslog(w, port, args))
    if "syslog-ng" in wanted and args.syslog_ng_root:
        maker("syslog-ng", lambda w, port: SyslogNg(w, port, args))
    if "mamori" in wanted and args.mamori:
        notes.append(f"mamori (full): parse, classify (My Number), evidence store with the hash "
                     f"chain, and the rule engine with {args.full_rules}; mamori (storage-only): "
                     f"the same with no rule loaded (`rules: {{paths: []}}`).")
        for variant in MAMORI_VARIANTS:
            if probe_mamori_variant(args, variant):
                maker(f"mamori-{variant}",
                      (lambda v: lambda w, port: Mamori(w, port, args, v))(variant))
            elif variant == "storage-only":
                notes.append("mamori (storage-only) did not start with its config; only the "
                             "full pipeline is measured.")
            else:
                notes.append(f"mamori ({variant}) did not start; see the error in the run log.")

    table = []
    all_runs = []
    for sc in scenarios(args):
        rows = []
        for mk in makers:
            runs = []
            for i in range(1, args.runs + 1):
                r = run_once(args, mk, sc, i)
                runs.append(r)
                all_runs.append(r)
                if "error" in r:
                    log(f"{sc['id']} {r['daemon']} run {i}: ERROR {r['error'][:300]}")
                else:
                    log(f"{sc['id']} {r['daemon']} run {i}: {r['msg_per_sec']:,.0f} msg/s, "
                        f"received {r['received']:,}/{r.get('sent', 0):,}, "
                        f"{r['seconds']:.2f} s, cpu {r['cpu_seconds']:.2f} s, "
                        f"rss {r['peak_rss_kib'] / 1024:.0f} MiB")
            name = runs[0]["daemon"] if runs else mk.label
            rows.append((name, summarize(runs)))
        table.append((sc, rows))
        # Write after every scenario, so that an interrupted run still leaves a table.
        finished = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        with open("/proc/loadavg") as f:
            info["loadavg_after"] = " ".join(f.read().split()[:3])
        info["psi_after"] = psi_totals()
        info["wall_seconds"] = time.time() - t_start
        write_results(args, info, table, all_runs, started, finished, notes)
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
