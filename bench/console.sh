#!/usr/bin/env bash
# The operator console's cost, side by side in one run: bench/echo.sh (upstream echo, 1,000 connections)
# and bench/fanout.sh (Switchboard, a group of 1,000) three ways:
#   off      the gateway as it ships (no --admin-key: no console, no samples, no viewers);
#   console  --admin-key, with the console open the way the page keeps it open: a live-trace viewer
#            (every event, the default 256 KiB/s budget) and the overview polled once a second;
#   +otlp    the same, plus --otlp-endpoint to a local collector (bench/otlp_sink.mjs) taking every span.
# The viewer and the poller run on the load core, as the browser would on an operator's machine.
#
# Usage: bench/console.sh [--quick]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$BENCH_DIR/systems.sh"
SINK_PORT=${SINK_PORT:-4318}
ADMIN_KEY=bench-admin-key-0123456789

# A viewer and a poller that wait for the gateway the benchmark starts, and reattach to each new one.
watch_console() {
  while true; do
    curl -sN --max-time 600 -H "Authorization: Bearer $ADMIN_KEY" "http://127.0.0.1:$SB_PORT/admin/api/trace" > /dev/null || true
    sleep 0.1
  done &
  viewer=$!
  while true; do
    curl -s --max-time 2 -H "Authorization: Bearer $ADMIN_KEY" "http://127.0.0.1:$SB_PORT/admin/api/fleet" > /dev/null || true
    sleep 1
  done &
  poller=$!
}
stop_console() { kill "$viewer" "$poller" 2>/dev/null || true; wait "$viewer" "$poller" 2>/dev/null || true; }

run_both() {
  "$BENCH_DIR/echo.sh" "$@" | grep '^RESULT'
  GROUP_SIZES=1000 SB_BENCH_NO_BUILD=1 "$BENCH_DIR/fanout.sh" "$@" switchboard | grep '^RESULT'
}

echo "== off"
run_both "$@"
export SB_BENCH_NO_BUILD=1

echo "== console open (--admin-key, a live-trace viewer, the overview polled)"
watch_console
trap stop_console EXIT
EXTRA_GATEWAY_ARGS="--admin-key $ADMIN_KEY" run_both "$@"

taskset -c "$LOAD_CPU" node "$BENCH_DIR/otlp_sink.mjs" "$SINK_PORT" &
sink=$!
trap 'stop_console; kill $sink 2>/dev/null || true' EXIT
wait_http "http://127.0.0.1:$SINK_PORT/stats"
echo "== console open and tracing on (+ --otlp-endpoint http://127.0.0.1:$SINK_PORT)"
EXTRA_GATEWAY_ARGS="--admin-key $ADMIN_KEY --otlp-endpoint http://127.0.0.1:$SINK_PORT" run_both "$@"
echo "RESULT otlp-sink $(curl -s "http://127.0.0.1:$SINK_PORT/stats")"
