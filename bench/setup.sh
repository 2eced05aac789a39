#!/usr/bin/env bash
# Installs what the benchmarks need beyond scripts/setup.sh (which CI runs): the peers (Pushpin,
# nginx with Nchan), gnuplot for the chart and perf for profiles. Debian 12 packages, run as root.
# The packages' own services are not started: each benchmark starts its servers with its own config.
set -euo pipefail

packages=(pushpin nginx libnginx-mod-nchan gnuplot-nox linux-perf procps util-linux openssl)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if ((${#missing[@]})); then
  # policy-rc.d answering 101 keeps the postinst scripts from starting nginx and pushpin on port 80/7999.
  policy=/usr/sbin/policy-rc.d
  had_policy=0; [[ -e $policy ]] && had_policy=1
  ((had_policy)) || { printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; }
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  ((had_policy)) || rm -f "$policy"
fi

# wsload, the neutral load generator, is built outside the repo, with the flags of its build.sh.
source "$(dirname "$0")/lib.sh"
if [[ ! -x $WSLOAD || $WSLOAD_SRC/wsload.cpp -nt $WSLOAD ]]; then
  mkdir -p "$(dirname "$WSLOAD")"
  g++ -std=c++17 -O2 -g -Wall -Wextra -pthread -o "$WSLOAD" "$WSLOAD_SRC/wsload.cpp"
fi
echo "bench setup done: $(pushpin --version 2>/dev/null | head -1); $(nginx -v 2>&1)"
