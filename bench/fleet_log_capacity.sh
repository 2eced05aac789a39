#!/usr/bin/env bash
# How far one fleet log goes (docs/scaling.md): Redis CPU and throughput of one Redis Stream as a function of
# appends per second × readers, with the commands a fleet sends (gateway/fleet_log/stream_fanout.cpp):
# every gateway appends with XADD KEY MINID ~ <now - retention> * e <envelope> and reads every entry with
# XREAD COUNT 1000 BLOCK 5000 STREAMS KEY <last id> on a connection of its own. No gateway runs: one writer
# connection stands for the whole fleet's appends, each reader connection for one gateway.
#
# Per configuration (readers R × target rate): a fresh redis-server on a free port (no persistence) on
# $SERVER_CPU; bench/fleet_log_capacity.mjs on $LOAD_CPU, one process: the writer pipelines XADDs
# ($PAYLOAD-byte payload, $WINDOW unanswered at most) at the rate (max: as fast as the answers come back)
# for $DURATION s while the R readers loop on XREAD; then the readers drain (at most $DRAIN s).
#
# Figures per configuration (over the writer's window):
#   appends/s, deliveries/s     appends answered; entries read, summed over the readers;
#   lag at end                  appends answered − entries read by the slowest reader when the writer
#                               stops, in entries and in seconds of appends; "drain s" is how long the
#                               readers then take to read everything (a reader that keeps up lags by
#                               about one answer: ≤ 1000 entries, milliseconds);
#   Redis CPU                   redis-server's utime+stime (/proc/PID/stat, every thread), as a share of
#                               one core and per million deliveries and per million appends (the same
#                               seconds divided two ways, not two costs to add up);
#   driver CPU                  the driver's own CPU as a share of its core: near 1.0, the driver, not
#                               Redis, set the pace of that row;
#   used_memory                 INFO memory once the readers drained: $DURATION s of entries (the MINID
#                               retention, $RETENTION_MS ms, trims nothing in so short a run).
#
# Usage: bench/fleet_log_capacity.sh            READERS="1 10" RATES="max" DURATION=3 bench/fleet_log_capacity.sh
#   env: READERS ("1 10 50 100") RATES ("max 10000": appends/s, max = as fast as possible) DURATION (5)
#        PAYLOAD (200 bytes) WINDOW (1000; 100 left Redis waiting on round trips at R=1) RETENTION_MS (30000, the gateway's default) DRAIN (10)
#        SERVER_CPU (0) LOAD_CPU (1); nothing is built.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

read -r -a reader_counts <<< "${READERS:-1 10 50 100}"
read -r -a rates <<< "${RATES:-max 10000}"
DURATION=${DURATION:-5}
PAYLOAD=${PAYLOAD:-200}
WINDOW=${WINDOW:-1000}
RETENTION_MS=${RETENTION_MS:-30000}
DRAIN=${DRAIN:-10}
KEY=switchboard:log

raise_fd_limit
report_load

free_port() {
  node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })'
}

ROWS=(); DETAILS=()
run_once() {
  local readers=$1 rate=$2 tag="fleet-log-r$1-$2" port redis_pid json
  port=$(free_port)
  start "$tag-redis" taskset -c "$SERVER_CPU" redis-server --port "$port" --bind 127.0.0.1 --save '' \
    --appendonly no --protected-mode no
  redis_pid=$STARTED_PID
  wait_tcp "$port" 20
  [[ $(cat "/proc/$redis_pid/comm") == redis-server ]] || die "pid $redis_pid is not redis-server"

  run taskset -c "$LOAD_CPU" node "$BENCH_DIR/fleet_log_capacity.mjs" --redis-port "$port" --redis-pid "$redis_pid" \
    --readers "$readers" --rate "$rate" --duration "$DURATION" --payload "$PAYLOAD" --window "$WINDOW" \
    --retention-ms "$RETENTION_MS" --key "$KEY" --drain "$DRAIN" --clk-tck "$(getconf CLK_TCK)" > "$WORK/$tag.json"
  json=$(cat "$WORK/$tag.json")
  log "$tag: $json"
  ROWS+=("$(node -e '
    const r = JSON.parse(process.argv[1]);
    const n = (x) => Math.round(x).toLocaleString("en-US");
    console.log(`| ${r.readers} | ${r.target_rate === "max" ? "max" : n(r.target_rate)} | ${n(r.appends_per_s)} | ` +
      `${n(r.deliveries_per_s)} | ${n(r.lag_max_entries)} (${r.lag_max_s.toFixed(2)} s) | ` +
      `${r.drained ? r.drain_s.toFixed(2) : `> ${r.drain_s.toFixed(0)}`} | ${r.redis_cpu_share.toFixed(2)} | ` +
      `${r.redis_cpu_s_per_m_deliveries?.toFixed(2) ?? "n/a"} | ${r.redis_cpu_s_per_m_appends?.toFixed(2) ?? "n/a"} | ` +
      `${r.driver_cpu_share.toFixed(2)} | ${r.used_memory_mb.toFixed(1)} |`);
  ' "$json")")
  DETAILS+=("$(node -e '
    const r = JSON.parse(process.argv[1]);
    const c = (s) => (s ? `${s.calls.toLocaleString("en-US")} calls, ${s.usec_per_call} µs/call` : "n/a");
    console.log(`- R=${r.readers}, rate ${r.target_rate}: ${r.appends.toLocaleString("en-US")} appends in ${r.window_s} s,` +
      ` ${r.entries_per_read} entries per XREAD answer (${r.empty_reads} timed out); XADD ${c(r.xadd)}; XREAD ${c(r.xread)};` +
      ` mean lag ${r.lag_mean_entries} entries; Redis CPU ${r.redis_cpu_s} s, driver CPU ${r.driver_cpu_s} s;` +
      ` XLEN ${r.xlen.toLocaleString("en-US")} at the end`);
  ' "$json")")
  stop_all
}

for readers in "${reader_counts[@]}"; do
  for rate in "${rates[@]}"; do run_once "$readers" "$rate"; done
done

cmd="READERS=\"${reader_counts[*]}\" RATES=\"${rates[*]}\" DURATION=$DURATION PAYLOAD=$PAYLOAD WINDOW=$WINDOW RETENTION_MS=$RETENTION_MS bench/fleet_log_capacity.sh"
cat <<EOF

One fleet log (a Redis Stream): one writer pipelining XADD MINID ~ (${PAYLOAD}-byte entries, $WINDOW in flight),
R readers each looping XREAD COUNT 1000 BLOCK 5000, for $DURATION s per row; every row on a fresh redis-server.
redis-server on core $SERVER_CPU, the driver (writer and readers, one Node process) on core $LOAD_CPU.
$(redis-server --version | cut -d' ' -f1-3); node $(node --version).
CPU columns are shares of one core over the window; a driver CPU near 1.00 means the driver set that row's pace.

| readers | target appends/s | appends/s | deliveries/s | lag at end: entries (s of appends) | drain s | Redis CPU | Redis CPU s per M deliveries | Redis CPU s per M appends | driver CPU | used_memory MB |
|---|---|---|---|---|---|---|---|---|---|---|
$(printf '%s\n' "${ROWS[@]}")

$(printf '%s\n' "${DETAILS[@]}")

Reproduce: $cmd   (commit $(cd "$REPO" && git rev-parse --short HEAD)$(cd "$REPO" && [[ -z $(git status --porcelain -- bench/fleet_log_capacity.mjs bench/fleet_log_capacity.sh) ]] || echo ' + local changes'), $(date -u +%F))
EOF
