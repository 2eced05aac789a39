#!/usr/bin/env bash
# Sets up the machine, builds, and runs every test: unit tests (doctest via CTest), then end-to-end tests
# that start the real gateway and function services and drive them with @microsoft/signalr and Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh release
echo "== unit tests"
ctest --test-dir build --output-on-failure -j2
echo "== end-to-end tests"
node --test --test-concurrency=1 tests/e2e/*.test.mjs
echo "== all tests passed"
