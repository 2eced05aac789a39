#!/usr/bin/env bash
# Tracing off versus on, side by side in one run: bench/echo.sh (upstream echo, 1,000 connections) with
# the gateway as it ships, then with --otlp-endpoint pointing at a local collector (bench/otlp_sink.mjs,
# on the load core) that takes every span. Every invocation then makes one upstream span.
# The `traceparent` header on every upstream request is there in both runs (it is not optional).
#
# Usage: bench/tracing.sh [--quick]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
SINK_PORT=${SINK_PORT:-4318}

echo "== tracing off"
"$BENCH_DIR/echo.sh" "$@" | grep '^RESULT'
taskset -c "$LOAD_CPU" node "$BENCH_DIR/otlp_sink.mjs" "$SINK_PORT" &
sink=$!
trap 'kill $sink 2>/dev/null || true' EXIT
wait_http "http://127.0.0.1:$SINK_PORT/stats"
echo "== tracing on (--otlp-endpoint http://127.0.0.1:$SINK_PORT)"
SB_BENCH_NO_BUILD=1 EXTRA_GATEWAY_ARGS="--otlp-endpoint http://127.0.0.1:$SINK_PORT" "$BENCH_DIR/echo.sh" "$@" | grep '^RESULT'
echo "RESULT otlp-sink $(curl -s "http://127.0.0.1:$SINK_PORT/stats")"
