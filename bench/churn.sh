#!/usr/bin/env bash
# Churn: connects + handshakes + disconnects per second, with connected/disconnected events going to a
# function (bench-echo-function counts them).
#
# Per repetition, wsload opens $CLIENTS SignalR connections (negotiate, WebSocket, handshake; 200 attempts
# in flight) and closes them all as it exits. A cycle is complete when the function has received both of
# its events; rate = cycles / (wsload start -> last disconnected event). Also reported: wsload's connect
# rate (negotiate + upgrade + handshake) and the gateway's CPU per cycle.
# Gateway: --threads 1 on $SERVER_CPU; function and wsload on $LOAD_CPU. Each $REPEATS times.
#
# Usage: bench/churn.sh [--quick]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$BENCH_DIR/systems.sh"

CLIENTS=10000; REPEATS=${REPEATS:-3}
if [[ ${1:-} == --quick ]]; then CLIENTS=2000; REPEATS=1; fi
FUNCTION=${FUNCTION:-$REPO/build/bin/bench-echo-function}

build_release
raise_fd_limit
report_load

start bench-echo-function taskset -c "$LOAD_CPU" "$FUNCTION" --listen 127.0.0.1:7071 --access-key "$ACCESS_KEY"
wait_http http://127.0.0.1:7071/stats
start_switchboard --upstream "hub=$HUB;category=connections;url=http://127.0.0.1:7071/upstream"

stat() { curl -s http://127.0.0.1:7071/stats | node -e "process.stdin.on('data', d => console.log(JSON.parse(d)['$1']))"; }

rates=(); connect_rates=(); cpus=()
for ((rep = 1; rep <= REPEATS; rep++)); do
  mapfile -t client < <(switchboard_client_args churn)
  target=$(( $(stat disconnected) + CLIENTS ))
  cpu_before=$(cpu_s "$SYS_PID")
  start_ns=$(date +%s%N)
  result=$(run taskset -c "$LOAD_CPU" "$WSLOAD" "${client[@]}" --connections "$CLIENTS" --concurrency 200 \
    --connect-timeout 30 || true)
  deadline=$((SECONDS + 60))
  while (( $(stat disconnected) < target && SECONDS < deadline )); do sleep 0.05; done
  end_ns=$(date +%s%N)
  cpu_after=$(cpu_s "$SYS_PID")
  log "wsload: ${result:0:300}; function: $(curl -s http://127.0.0.1:7071/stats)"
  connected=$(json_field "$result" connected)
  rates+=("$(awk -v n="$connected" -v a="$start_ns" -v b="$end_ns" 'BEGIN {printf "%.0f", n / ((b - a) / 1e9)}')")
  connect_rates+=("$(awk -v n="$connected" -v t="$(json_field "$result" connect_s)" 'BEGIN {printf "%.0f", n / t}')")
  cpus+=("$(awk -v c="$cpu_before" -v d="$cpu_after" -v n="$connected" 'BEGIN {printf "%.1f", (d - c) * 1e6 / n}')")
done
echo "RESULT churn clients=$CLIENTS cycles_per_s=$(summary "${rates[@]}") connects_per_s=$(summary "${connect_rates[@]}")" \
     "gateway_cpu_us_per_cycle=$(summary "${cpus[@]}")"
