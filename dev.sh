#!/usr/bin/env bash
# The two quick-start commands (see README.md):
#   ./dev.sh serve [ARGS...]   install missing Debian packages, build, run `mamori serve ARGS...`
#   ./dev.sh test              install missing Debian packages, build, run the whole test suite
# and:
#   ./dev.sh build             install missing packages and build only
set -euo pipefail
cd "$(dirname "$0")"
BUILD_DIR=${MAMORI_BUILD_DIR:-build}

# build PROFILE [TARGET]: installs the packages of PROFILE (scripts/deps.sh), configures, builds.
build() {
  bash scripts/deps.sh "$1"
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$BUILD_DIR" ${2:+--target "$2"}
}

cmd=${1:-}
shift || true
case "$cmd" in
  serve)
    build build mamori
    exec "$BUILD_DIR/app/mamori" serve "$@"
    ;;
  test)
    build test
    ctest --test-dir "$BUILD_DIR" --output-on-failure -j2 --timeout 900
    ;;
  build)
    build test
    ;;
  *)
    echo "usage: ./dev.sh serve [mamori serve flags] | ./dev.sh test | ./dev.sh build" >&2
    exit 2
    ;;
esac
