#!/usr/bin/env bash
# Installs the Debian 12 packages mamori needs, if any is missing:
#   scripts/deps.sh build   to configure and build (what `./dev.sh serve` needs)
#   scripts/deps.sh test    the above plus the tools the test suite and CI use
# Runs apt-get only when something is missing, so it is cheap to call before every build.
# Services that a package would start (prometheus, node exporter) are NOT started or enabled:
# the tests run their own instances on loopback ports.
set -euo pipefail
profile=${1:-test}

BUILD_PACKAGES=(
  # toolchain
  g++ cmake ninja-build pkg-config ccache
  # libraries (DESIGN.md: Debian packages only)
  libboost-dev librocksdb-dev libre2-dev prometheus-cpp-dev libyaml-cpp-dev
  libsimdjson-dev nlohmann-json3-dev libssl-dev
  # test and benchmark libraries (the default build compiles the tests and benchmarks)
  libgtest-dev libgmock-dev libbenchmark-dev
)
TEST_PACKAGES=(
  # parser fuzz targets (tests/fuzz/run.sh, called by .ci/run): clang and libFuzzer
  clang-14 libclang-rt-14-dev
  # real clients used by the integration tests
  bsdutils curl python3 procps
  # TLS tests (tests/integration/test_tls.py): openssl CLI and rsyslog as a TLS client
  openssl rsyslog rsyslog-openssl
  # monitoring and deployment checks (tests/integration/test_prometheus.py, test_dashboards.py)
  prometheus prometheus-node-exporter systemd
)

case "$profile" in
  build) PACKAGES=("${BUILD_PACKAGES[@]}") ;;
  test) PACKAGES=("${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}") ;;
  *) echo "usage: scripts/deps.sh build|test" >&2; exit 2 ;;
esac

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

# policy-rc.d exit 101 = "action forbidden": packages install without starting their services.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod 755 "$policy"
  own_policy=1
fi
cleanup() { if [ "$own_policy" -eq 1 ]; then $SUDO rm -f "$policy"; fi; }
trap cleanup EXIT

$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
