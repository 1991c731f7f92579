#!/usr/bin/env bash
# Installs the Debian 12 packages mamori needs to build, test and benchmark, if any is missing.
# Runs apt-get only when something is missing, so it is cheap to call before every build.
set -euo pipefail

PACKAGES=(
  # toolchain
  g++ cmake ninja-build pkg-config ccache
  # libraries (DESIGN.md: Debian packages only)
  libboost-dev librocksdb-dev libre2-dev prometheus-cpp-dev libyaml-cpp-dev
  libsimdjson-dev nlohmann-json3-dev libssl-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # parser fuzz targets (tests/fuzz/run.sh, called by .ci/run): clang and libFuzzer
  clang-14 libclang-rt-14-dev
  # real clients used by the integration tests
  bsdutils curl python3 procps
  # monitoring and deployment checks (tests/integration/test_prometheus.py, test_dashboards.py)
  prometheus prometheus-node-exporter systemd
)

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
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
