#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) in build-fuzz/ and runs each for a
# bounded time on the tiny seeds in tests/fuzz/seeds/ (written for this purpose; never corpus
# files); the rule target (rules) on tests/fuzz/seeds-rules/ and the default rule pack; the
# decoder target (decode) on two-byte seeds made here (the harness builds valid encodings itself);
# the configuration target (config) on deploy/mamori.example.yaml; the TCP framer (framer) on
# the log-line seeds. Total budget: about MAMORI_FUZZ_SECONDS (default 6) x 28 targets.
#   tests/fuzz/run.sh            build and run all
#   MAMORI_FUZZ_SECONDS=60 tests/fuzz/run.sh cef   one target, longer
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${MAMORI_FUZZ_BUILD_DIR:-build-fuzz}
SECS=${MAMORI_FUZZ_SECONDS:-6}
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1

CC=clang CXX=clang++ cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMAMORI_BUILD_FUZZ=ON -DMAMORI_SANITIZE=address,undefined -DMAMORI_BUILD_TESTS=OFF \
  -DMAMORI_BUILD_BENCH=OFF >/dev/null
cmake --build "$BUILD" --target mamori_fuzz

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(auto cef leef fortigate kv cisco_asa panos checkpoint iptables pfsense sshd sudo su pam
           linux_user auditd http_access apache_error nginx_error snare windows rfc5424 rfc3164
           json rules decode config framer)
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for t in "${targets[@]}"; do
  corpus="$work/$t"
  mkdir -p "$corpus"
  if [ "$t" = rules ]; then
    cp tests/fuzz/seeds-rules/* rules/default/*.yml "$corpus"/
  elif [ "$t" = config ]; then
    cp deploy/mamori.example.yaml "$corpus"/
  elif [ "$t" = decode ]; then
    # byte 0: which decoder (record, log line, incident, audit entry); byte 1: edit a valid one
    for d in 0 1 2 3; do for m in 0 2 4; do printf "\\x0$d\\x0$m" >"$corpus/seed-$d-$m"; done; done
  else
    cp tests/fuzz/seeds/* "$corpus"/  # every seed for every target: formats share headers
  fi
  case "$t" in
    rules | config) maxlen=32768 ;;  # files, longer than log lines
    *) maxlen=4096 ;;
  esac
  echo "fuzz: $t (${SECS}s)"
  mkdir -p "$BUILD/crashes"
  "$BUILD/tests/fuzz/fuzz_$t" -max_total_time="$SECS" -max_len="$maxlen" -timeout=10 \
    -artifact_prefix="$BUILD/crashes/$t-" "$corpus" 2>"$work/$t.log" || {
    tail -50 "$work/$t.log"
    echo "fuzz: $t FAILED" >&2
    exit 1
  }
  grep -E "^#[0-9]+ +DONE" "$work/$t.log" | tail -1 || true
done
echo "fuzz: all ${#targets[@]} targets ran clean"
