#!/usr/bin/env bash
# Idle connections: the server's RSS per idle WebSocket connection, all processes of the system.
#
# For each system and count, a fresh server is started and its RSS read (baseline); wsload opens the
# connections (Switchboard: negotiate + SignalR handshake; peers: a WebSocket subscribed to a channel),
# holds them, and the RSS is read again once all are open and 3 s have passed. Per connection =
# (loaded - baseline) / connected. Each measurement runs $REPEATS times: min / median / max.
#
# Usage: bench/idle.sh [--quick] [SYSTEM...]     (systems: switchboard pushpin nchan; default all)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$BENCH_DIR/systems.sh"

# 50,000 and 100,000 need more descriptors than one process may hold here (20,000): bench/idle_many.sh.
counts=(10000 19000); REPEATS=${REPEATS:-3}; HOLD=8
if [[ ${1:-} == --quick ]]; then shift; counts=(2000 10000); REPEATS=1; HOLD=4; fi
systems=("$@"); ((${#systems[@]})) || systems=(switchboard pushpin nchan)

build_release
raise_fd_limit
report_load

# local_addrs N: one 127.0.0.x source address per 25,000 connections (a source address reaches ~28k
# connections to one server port: loopback source-port exhaustion).
local_addrs() {
  local n=$(( ($1 + 24999) / 25000 )) i addrs=()
  for ((i = 2; i < 2 + n; i++)); do addrs+=("127.0.0.$i"); done
  (IFS=,; echo "${addrs[*]}")
}

for system in "${systems[@]}"; do
  for count in "${counts[@]}"; do
    per_conn=(); totals=(); connected_counts=()
    for ((rep = 1; rep <= REPEATS; rep++)); do
      case $system in
        switchboard) start_switchboard ;;
        pushpin) start_pushpin ;;
        nchan) start_nchan ;;
      esac
      sleep 1
      base=$(rss_kb "$SYS_PID")
      ready=$WORK/idle.ready; rm -f "$ready"
      mapfile -t client < <(subscriber_args "$system" idle)
      run taskset -c "$LOAD_CPU" "$WSLOAD" "${client[@]}" --connections "$count" --concurrency 200 \
        --connect-timeout 30 --local-addrs "$(local_addrs "$count")" --hold "$HOLD" --ready-file "$ready" \
        > "$WORK/idle.json" &
      load_pid=$!
      until [[ -s $ready ]]; do kill -0 "$load_pid" 2>/dev/null || break; sleep 0.5; done
      sleep 3
      loaded=$(rss_kb "$SYS_PID")
      connected=$(cat "$ready" 2>/dev/null || echo 0)
      wait "$load_pid" || true
      log "$system $count: connected $connected, RSS ${base} KiB -> ${loaded} KiB; wsload: $(cat "$WORK/idle.json")"
      stop_all
      ((connected > 0)) || { log "$system $count: nothing connected"; continue; }
      per_conn+=("$(awk -v a="$base" -v b="$loaded" -v n="$connected" 'BEGIN {printf "%.2f", (b - a) / n}')")
      totals+=("$(awk -v b="$loaded" 'BEGIN {printf "%.1f", b / 1024}')")
      connected_counts+=("$connected")
    done
    echo "RESULT idle system=$system connections=$count connected=$(summary "${connected_counts[@]}")" \
         "kib_per_conn=$(summary "${per_conn[@]}") rss_mib=$(summary "${totals[@]}")"
  done
done
