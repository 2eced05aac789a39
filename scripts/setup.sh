#!/usr/bin/env bash
# Installs what Switchboard needs on Debian 12 (apt packages, npm modules). Idempotent: quick when done.
set -euo pipefail
cd "$(dirname "$0")/.."

# libmsgpack-cxx-dev is not here: it depends on libboost-dev (1.74), which conflicts with 1.81.
APT_PACKAGES=(
  prometheus  # promtool: tests/deploy checks deploy/prometheus; tests/e2e/dashboards runs a real Prometheus
  build-essential cmake ninja-build ccache pkg-config clang libclang-rt-14-dev
  libboost1.81-dev libssl-dev libcpp-httplib-dev nlohmann-json3-dev doctest-dev
  redis-server redis-sentinel chromium nodejs npm curl ca-certificates
  python3  # samples/python-function and its end-to-end test
  python3-yaml  # tests/deploy: the deploy recipes are parsed and checked against the gateway
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node may come from elsewhere than Debian (the dev machine has its own); only ask apt for it when absent.
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=(); for p in "${missing[@]}"; do [[ $p == nodejs || $p == npm ]] || filtered+=("$p"); done
  missing=("${filtered[@]+"${filtered[@]}"}")
fi
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ ! -d node_modules/@microsoft/signalr ] || [ package.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
# The 10.x client, for the e2e version matrix, lives in its own folder (one @microsoft/signalr per tree).
v10=tests/e2e/clients/v10
if [ ! -d "$v10/node_modules/@microsoft/signalr" ] || [ "$v10/package.json" -nt "$v10/node_modules/.package-lock.json" ]; then
  echo "setup: npm ci ($v10)"
  npm ci --prefix "$v10" --no-audit --no-fund --loglevel=error
fi
