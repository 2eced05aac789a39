#!/usr/bin/env bash
# Draws docs/performance-fanout.png (gnuplot): deliveries/s against group size, one line per system,
# from the "RESULT fanout" lines that bench/fanout.sh printed (median of the repetitions).
#
# Usage: bench/chart.sh RESULTS_FILE [PNG]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
results=${1:?usage: bench/chart.sh RESULTS_FILE [PNG]}
png=${2:-$REPO/docs/performance-fanout.png}

plots=()
for system in switchboard pushpin nchan; do
  # "... max_deliveries_per_s=MIN / MEDIAN / MAX ..." -> "SUBSCRIBERS MEDIAN MIN MAX"
  grep "^RESULT fanout system=$system " "$results" | sed -E \
    's/.*subscribers=([0-9]+).*max_deliveries_per_s=([0-9.]+) \/ ([0-9.]+) \/ ([0-9.]+).*/\1 \3 \2 \4/' \
    > "$WORK/chart-$system.dat" || true
  [[ -s $WORK/chart-$system.dat ]] &&
    plots+=("'$WORK/chart-$system.dat' using 1:2:3:4 with yerrorlines title '$system'")
done
((${#plots[@]})) || die "no RESULT fanout lines in $results"

gnuplot <<GNUPLOT
set terminal pngcairo size 800,500 font ",10"
set output '$png'
set title "Broadcast fan-out, 100-byte messages (median, bars: min-max of the runs)"
set xlabel "subscribers in the group"
set ylabel "deliveries/s received (log scale)"
set logscale x
set xtics (100, 1000, 10000)
set grid
set key top right
set logscale y
set yrange [1000:1000000]
set xrange [70:14000]
set format y "%.0s%c"
plot $(IFS=,; echo "${plots[*]}")
GNUPLOT
log "wrote $png"
