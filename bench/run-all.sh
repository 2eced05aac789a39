#!/usr/bin/env bash
# Runs every benchmark in turn and keeps their output: $WORK/results/<benchmark>.txt, the RESULT lines
# gathered in $WORK/results/summary.txt, and the fan-out chart in docs/performance-fanout.png.
#
# Usage: bench/run-all.sh [--quick]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
out=$WORK/results
mkdir -p "$out"
{ echo "date: $(date -u +%FT%TZ)"; echo "commit: $(git -C "$REPO" rev-parse --short HEAD)"; uptime; } > "$out/summary.txt"
for benchmark in idle idle_many fanout echo churn fleet; do
  log "== $benchmark"
  "$BENCH_DIR/$benchmark.sh" "$@" 2>&1 | tee "$out/$benchmark.txt" | grep '^RESULT' || true
  grep '^RESULT' "$out/$benchmark.txt" >> "$out/summary.txt" || true
  echo "load after $benchmark: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/summary.txt"
done
"$BENCH_DIR/chart.sh" "$out/summary.txt"
