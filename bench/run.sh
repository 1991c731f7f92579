#!/usr/bin/env bash
# Side-by-side benchmark: mamori, rsyslog and syslog-ng on this machine, in the same run, on
# loopback. See bench/README.md.
#
#   bench/run.sh                 full sweep (about 10-15 minutes), writes bench/RESULTS.md
#   bench/run.sh --quick         3 short runs per cell (300k TCP messages, 2 s of UDP): under 8 minutes
#   bench/run.sh [--runs N] [--tcp-count N] [--tcp-max-seconds S] [--udp-seconds S] [--udp-rates R1,R2,...]
#                [--scenarios tcp-1,tcp-4,udp-50k,...] [--daemons rsyslog,syslog-ng,mamori]
#                [--pin-loadgen CPU] [--format 3164|5424] [--framing lf|octet]
#                [--mamori-full-config YAML] [--mamori-storage-config YAML]
#                [--run-timeout S] [--note TEXT] [--out FILE] [--keep] [--no-build]
#
# Needs root for apt-get (Debian 12). rsyslog is installed as a Debian package, but its service
# is neither started nor enabled; syslog-ng-core conflicts with rsyslog as a package, so it is
# unpacked (dpkg -x) into build-bench/syslog-ng/ instead of being installed. Each daemon runs in
# the foreground with its own config, as a child of this script, and is stopped by its PID.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
BUILD=${MAMORI_BENCH_BUILD_DIR:-$ROOT/build-bench}
CORPUS=${MAMORI_CORPUS:-$ROOT/../shared/corpora/loghub}
COMMAND_LINE="bench/run.sh"
for a in "$@"; do  # quoted the way a reader would retype it
  if [[ $a =~ ^[A-Za-z0-9_./,:=+-]+$ ]]; then COMMAND_LINE+=" $a"; else COMMAND_LINE+=" '${a//\'/\'\\\'\'}'"; fi
done

OUT=$BENCH_DIR/RESULTS.md
build=1
driver_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) driver_args+=(--runs 3 --tcp-count 300000 --tcp-max-seconds 6 --udp-seconds 2); shift ;;
    --no-build) build=0; shift ;;
    --out) OUT=$2; shift 2 ;;
    --keep) driver_args+=(--keep); shift ;;
    --note) driver_args+=(--note "$2"); shift 2 ;;
    --runs|--tcp-count|--tcp-max-seconds|--udp-seconds|--udp-rates|--scenarios|--daemons|--pin-loadgen|--format|--framing|--run-timeout|--mamori-full-config|--mamori-storage-config)
      driver_args+=("$1" "$2"); shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

log() { echo "[run.sh $(date +%H:%M:%S)] $*" >&2; }

[[ -d $CORPUS ]] || { echo "run.sh: corpus not found: $CORPUS (set MAMORI_CORPUS)" >&2; exit 2; }
mkdir -p "$BUILD"

# --- rsyslog: Debian package, service not started (policy-rc.d) and not enabled --------------
install_rsyslog() {
  command -v rsyslogd >/dev/null && return 0
  log "installing rsyslog (service neither started nor enabled)"
  local own_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    own_policy=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends rsyslog >&2 ||
    { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends rsyslog >&2; }
  [[ $own_policy == 1 ]] && rm -f /usr/sbin/policy-rc.d
  if command -v systemctl >/dev/null; then systemctl disable rsyslog >/dev/null 2>&1 || true; fi
}

# --- syslog-ng: unpacked into a private prefix (it conflicts with rsyslog as a package) -------
SNG_ROOT=$BUILD/syslog-ng/root
install_syslog_ng() {
  [[ -x $SNG_ROOT/usr/sbin/syslog-ng ]] && return 0
  log "unpacking syslog-ng-core into $SNG_ROOT"
  # Its shared-library dependencies are ordinary packages that conflict with nothing.
  local libs missing=()
  libs=$(apt-cache depends syslog-ng-core | awk '/^ *\|?Depends: lib/ {print $2}')
  for l in $libs; do dpkg -s "$l" >/dev/null 2>&1 || missing+=("$l"); done
  if [[ ${#missing[@]} -gt 0 ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2
  fi
  local dl=$BUILD/syslog-ng/deb
  rm -rf "$dl" && mkdir -p "$dl"
  (cd "$dl" && apt-get download syslog-ng-core) >&2
  rm -rf "$SNG_ROOT" && mkdir -p "$SNG_ROOT"
  dpkg -x "$dl"/syslog-ng-core_*.deb "$SNG_ROOT"
}

install_rsyslog
install_syslog_ng
command -v taskset >/dev/null || true

# --- build --------------------------------------------------------------------------------------
MAMORI_BIN=""
LOADGEN=$BUILD/bench/mamori-loadgen
if [[ $build == 1 ]]; then
  log "configuring $BUILD (Release)"
  configured=0
  if cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMAMORI_BUILD_TESTS=OFF \
      >"$BUILD/configure.log" 2>&1; then
    configured=1
  else
    log "cmake configure failed (see $BUILD/configure.log)"
  fi
  log "building mamori-loadgen"
  if [[ $configured == 0 ]] || ! ninja -C "$BUILD" mamori-loadgen >&2; then
    # The load generator has no project dependencies: build it alone if the tree does not build.
    log "building mamori-loadgen standalone"
    mkdir -p "$BUILD/bench"
    c++ -std=c++20 -O2 -Wall -o "$LOADGEN" "$BENCH_DIR/loadgen.cc" -pthread
  fi
  log "building mamori"
  if [[ $configured == 1 ]] && ninja -C "$BUILD" mamori >"$BUILD/mamori-build.log" 2>&1; then
    MAMORI_BIN=$BUILD/app/mamori
  else
    log "mamori does not build (see $BUILD/mamori-build.log); measuring rsyslog and syslog-ng only"
  fi
else
  [[ -x $BUILD/app/mamori ]] && MAMORI_BIN=$BUILD/app/mamori
fi
[[ -x $LOADGEN ]] || { echo "run.sh: $LOADGEN missing" >&2; exit 1; }

# --- versions -----------------------------------------------------------------------------------
RSYSLOG_VERSION="$(rsyslogd -v | head -1 | sed 's/ compiled with.*//') (Debian $(dpkg-query -W -f='${Version}' rsyslog))"
SNG_VERSION="$(LD_LIBRARY_PATH=$SNG_ROOT/usr/lib/syslog-ng "$SNG_ROOT/usr/sbin/syslog-ng" --version | head -1) (Debian $(dpkg-deb -f "$BUILD"/syslog-ng/deb/syslog-ng-core_*.deb Version 2>/dev/null || echo '?'))"
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')
if [[ -n $(git -C "$ROOT" status --porcelain -- . ':!bench' 2>/dev/null) ]]; then
  COMMIT="$COMMIT + uncommitted changes"
fi

notes=()
if [[ -z $MAMORI_BIN ]]; then
  notes+=(--note "mamori's column awaits the daemon: the mamori binary did not build at commit $COMMIT, so this table holds the rsyslog and syslog-ng baselines only.")
  COMMIT="$COMMIT (not built)"
fi

log "running the benchmark; results go to $OUT"
python3 "$BENCH_DIR/bench.py" \
  --loadgen "$LOADGEN" --mamori "$MAMORI_BIN" --rsyslogd "$(command -v rsyslogd)" \
  --syslog-ng-root "$SNG_ROOT" --corpus "$CORPUS" --workdir "$BUILD/bench-work" \
  --out "$OUT" --json-out "${OUT%.md}.json" \
  --command-line "$COMMAND_LINE" --mamori-commit "$COMMIT" \
  --rsyslog-version "$RSYSLOG_VERSION" --syslog-ng-version "$SNG_VERSION" \
  "${notes[@]}" "${driver_args[@]}"
