#!/usr/bin/env bash
# Sets up the machine, builds, and runs every test: unit tests (doctest via CTest), then end-to-end tests
# that start the real gateway and function services and drive them with @microsoft/signalr and Chromium,
# and the packaging test (functions-runtime built outside the tree three ways; the .debs built, unpacked, run);
# then the same unit and end-to-end tests on an AddressSanitizer + UBSan (+ LeakSanitizer) build, and each
# fuzz target briefly over its seed corpus.
#   SWITCHBOARD_TEST_QUICK=1 scripts/test.sh   the release build's tests only
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh release
echo "== unit tests"
ctest --test-dir build --output-on-failure -j2
echo "== end-to-end tests"
node --test --test-concurrency=1 tests/e2e/*.test.mjs
echo "== packaging: functions-runtime used from outside the tree, the Debian packages"
tests/packaging/run.sh build
echo "== deploy recipes: deploy/kubernetes and deploy/compose.yaml checked against the gateway"
tests/deploy/check.sh build
if [ -z "${SWITCHBOARD_TEST_QUICK:-}" ]; then
  echo "== unit tests under ASan+UBSan"
  scripts/build.sh asan
  ctest --test-dir build/asan --output-on-failure -j2
  echo "== end-to-end tests under ASan+UBSan"
  SWITCHBOARD_BIN_DIR=build/asan/bin SWITCHBOARD_SANITIZED=1 node --test --test-concurrency=1 tests/e2e/*.test.mjs
  echo "== fuzz targets, briefly"
  scripts/fuzz.sh
fi
echo "== all tests passed"
