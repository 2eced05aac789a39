#!/usr/bin/env bash
# Rolling-restart hand-off: how long a fleet takes to move N stateful-reconnect WebSocket connections from a
# draining gateway to another, and what Redis holds meanwhile (docs/scaling.md, "Rolling restarts").
#
# Per run: a fresh redis-server on a free port (no persistence), gateways A and B over it (--threads 2, no
# --upstream: no function, as a sample-less fleet runs), both pinned to $SERVER_CPU with Redis;
# bench/handoff_clients.mjs on $LOAD_CPU opens N stateful connections on A (negotiate with
# useStatefulReconnect=true, handshake version 2; $CONCURRENCY in flight), waits $HOLD s, sends A SIGTERM
# (shutdown mode `reconnect`, the default) and sends every dropped socket's stateful reconnect to B's port:
# that is a balancer that took A out of rotation before the signal, as an orchestrator does. B takes each
# connection over from A through Redis and sends Sequence; the client answers it and counts a resume.
#
# Figures per run:
#   hand-off s   SIGTERM → the last connection's Sequence from B; resume rate = resumed / that;
#   A drain s    SIGTERM → A's process exited;
#   Redis MB     used_memory before the SIGTERM (N connections on A), used_memory_peak from the SIGTERM on
#                (CONFIG RESETSTAT at the SIGTERM; Redis 7 updates the peak after every command; the
#                driver also polls used_memory every $POLL_MS ms, printed in the details), and used_memory
#                1 s after the last resume and A's exit;
#   resumed / failed   a failed resume: B answered the reconnect with an HTTP status, or the socket closed
#                or errored before the Sequence; also counted: connections A closed with a Close frame
#                (not handed over) and those A never dropped. Every resumed id is then checked on B with
#                the REST API's "connection exists", and B's switchboard_handoffs_in_total is read.
# Runs: --shutdown-spread 0 (all at once) and 5s (the default), $SPREADS to choose.
# Gateway output (stderr, --log-level $LOG_LEVEL) goes to $WORK/handoff-*-A.log and -B.log; its warn and
# error lines are counted after each run.
#
# Usage: bench/handoff.sh            N=2000 bench/handoff.sh (a quick run)
#   env: N (10000) CONCURRENCY (200) SPREADS ("0 5s") REPEATS (1: one row per run) HOLD (2)
#        USERS (per-connection|none) POLL_MS (50) SIGNAL (SIGTERM; SIGKILL measures a crash: resumes from checkpoints)
#        LOG_LEVEL (warn) NEGOTIATE_TIMEOUT (the gateway's default, 15s) SERVER_CPU (0) LOAD_CPU (1)
#        GATEWAY (build/bin/switchboard) GATEWAY_ARGS (more gateway flags); nothing is built.
#
# Found with it:
# - Before 7b8e3ca, a connection was not handed over when its reconnect reached B more than
#   --negotiate-timeout (15 s) after its negotiate: B refused the expired connection token (404) before
#   asking the holder, and A kept the connection until --shutdown-timeout. NEGOTIATE_TIMEOUT=60m kept
#   such a build measurable; 7b8e3ca sends an expired stateful token straight to the takeover.
# - At 5a25261, spread 0 at N=10,000 sometimes (about one run in six here) fails ~10% of the resumes: B's
#   Redis command queue passes --redis-queue-bytes (8 MiB of EVALs, each carrying its ~2 KB script: log
#   `backplane queue_full`), the dropped claim reads as granted (backplane/request_relay.cpp claim), and
#   B opens the id as a NEW connection while A still holds it; the client gets no Sequence (this driver
#   reports new_connection_handshake_error once B times the handshake out or answers a Ping as one) and
#   A keeps the connection until --shutdown-timeout. Since then a claim is never dropped for a full queue;
#   GATEWAY_ARGS="--redis-queue-bytes 512KiB" reproduced it every run before (1,379 of 10,000 failed).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

N=${N:-10000}
CONCURRENCY=${CONCURRENCY:-200}
read -r -a spreads <<< "${SPREADS:-0 5s}"
HOLD=${HOLD:-2}
REPEATS=${REPEATS:-1}
USERS=${USERS:-per-connection}
POLL_MS=${POLL_MS:-50}
SIGNAL=${SIGNAL:-SIGTERM}  # SIGKILL: a crash; B resumes the connections from their checkpoints
LOG_LEVEL=${LOG_LEVEL:-warn}
NEGOTIATE_TIMEOUT=${NEGOTIATE_TIMEOUT:-}
HUB=bench
gateway_flags=()
[[ -n $NEGOTIATE_TIMEOUT ]] && gateway_flags+=(--negotiate-timeout "$NEGOTIATE_TIMEOUT")
# GATEWAY_ARGS: more gateway flags, split on blanks (e.g. "--redis-queue-bytes 512KiB").
if [[ -n ${GATEWAY_ARGS:-} ]]; then read -r -a more <<< "$GATEWAY_ARGS"; gateway_flags+=("${more[@]}"); fi

[[ -x $GATEWAY ]] || die "no gateway at $GATEWAY (build it with the release preset first)"
raise_fd_limit
((N + 100 <= $(ulimit -n))) || die "N=$N needs more descriptors than ulimit -n allows ($(ulimit -n))"
report_load

free_port() {
  node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })'
}

# wait_ready PORT PID: until the gateway's /health/ready says "ready" (in sync with Redis).
wait_ready() {
  local deadline=$((SECONDS + 30))
  until [[ $(curl -s --max-time 1 "http://127.0.0.1:$1/health/ready" 2>/dev/null) == *'"ready"'* ]]; do
    kill -0 "$2" 2>/dev/null || die "the gateway at port $1 exited: $(tail -3 "$WORK/$3.log")"
    ((SECONDS < deadline)) || die "the gateway at port $1 is not ready"
    sleep 0.1
  done
}

# start_gateway NAME PORT SPREAD: sets STARTED_PID (the gateway itself: setsid and taskset exec it).
start_gateway() {
  start "$1" taskset -c "$SERVER_CPU" "$GATEWAY" --listen "127.0.0.1:$2" --access-key "$ACCESS_KEY" \
    --threads 2 --redis "redis://127.0.0.1:$REDIS_PORT" --log-level "$LOG_LEVEL" --shutdown-spread "$3" \
    "${gateway_flags[@]+"${gateway_flags[@]}"}"
  wait_ready "$2" "$STARTED_PID" "$1"
}

# run_once SPREAD: one hand-off; appends a table row to ROWS and details to DETAILS.
ROWS=(); DETAILS=()
run_once() {
  local spread=$1 tag="handoff-n$N-spread$1-r$rep" a_port b_port a_pid b_pid a_rc=0 json
  REDIS_PORT=$(free_port)
  start "$tag-redis" taskset -c "$SERVER_CPU" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' \
    --appendonly no --protected-mode no
  wait_tcp "$REDIS_PORT" 20
  a_port=$(free_port); start_gateway "$tag-A" "$a_port" "$spread"; a_pid=$STARTED_PID
  b_port=$(free_port); start_gateway "$tag-B" "$b_port" "$spread"; b_pid=$STARTED_PID
  [[ $(cat "/proc/$a_pid/comm") == switchboard ]] || die "pid $a_pid is not the gateway"

  run taskset -c "$LOAD_CPU" node "$BENCH_DIR/handoff_clients.mjs" --a-port "$a_port" --b-port "$b_port" \
    --a-pid "$a_pid" --redis-port "$REDIS_PORT" --key "$ACCESS_KEY" --connections "$N" --concurrency "$CONCURRENCY" \
    --hub "$HUB" --hold "$HOLD" --users "$USERS" --poll-ms "$POLL_MS" --signal "$SIGNAL" > "$WORK/$tag.json"
  wait "$a_pid" || a_rc=$?
  stop "$b_pid"  # before Redis (stop_all goes in start order), so that B logs no redis_down
  json=$(cat "$WORK/$tag.json")
  log "$tag: $json"
  local warns errors
  warns=$(cat "$WORK/$tag-A.log" "$WORK/$tag-B.log" | grep -c '^[^ ]* warn ' || true)
  errors=$(cat "$WORK/$tag-A.log" "$WORK/$tag-B.log" | grep -c '^[^ ]* error ' || true)
  ROWS+=("$(node -e '
    const r = JSON.parse(process.argv[1]);
    const n = (x) => (x === null ? "n/a" : x.toLocaleString("en-US"));
    const s = (x) => (x === null ? "n/a" : x.toFixed(2));
    const m = r.redis_mb;
    console.log(`| ${process.argv[2]} | ${n(r.connections)} | ${s(r.handoff_seconds)} | ${n(r.resume_rate)} | ${s(r.a_exit_seconds)} | ` +
      `${m.before} / ${m.peak} / ${m.after} | ${n(r.resumed)} / ${n(r.failed)} |`);
  ' "$json" "$spread")")
  DETAILS+=("$(node -e '
    const r = JSON.parse(process.argv[1]);
    const other = r.connections - r.connected;
    console.log(`- spread ${process.argv[2]}: connected ${r.connected} of ${r.connections} in ${r.connect_seconds.toFixed(1)} s` +
      (other ? ` (refused: ${JSON.stringify(r.connect_failures)})` : "") +
      `; failures ${JSON.stringify(r.failures)}` +
      (r.not_sequence_samples.length ? ` (B sent e.g. ${JSON.stringify(r.not_sequence_samples[0])})` : "") +
      `; resume latency (drop → Sequence) p50 ${r.resume_latency_ms.p50} ms,` +
      ` p99 ${r.resume_latency_ms.p99} ms, max ${r.resume_latency_ms.max} ms; exist on B (REST) ${r.exists_on_b}` +
      `${Object.keys(r.exists_failures).length ? ` ${JSON.stringify(r.exists_failures)}` : ""};` +
      ` B handoffs_in_total ${r.b_handoffs_in_total}, checkpoint_resumes_total ${r.b_checkpoint_resumes_total}` +
      `${r.b_handoff_failures.length ? ` (failures: ${r.b_handoff_failures.join(", ")})` : ""};` +
      ` driver CPU ${r.driver_cpu_seconds} s until all settled;` +
      ` Redis empty ${r.redis_mb.empty} MB, polled max ${r.redis_mb.polled_max} MB (${r.redis_polls} polls),` +
      ` ${Math.round((r.redis_mb.before - r.redis_mb.empty) * 1048576 / Math.max(1, r.connected))} B per connection;` +
      ` A exit status ${process.argv[3]}; gateway log lines: ${process.argv[4]} warn, ${process.argv[5]} error` +
      ` (${process.argv[7]}/${process.argv[6]}-{A,B}.log)`);
  ' "$json" "$spread" "$a_rc" "$warns" "$errors" "$tag" "$WORK")")
  stop_all
}

for ((rep = 1; rep <= REPEATS; rep++)); do
  for spread in "${spreads[@]}"; do run_once "$spread"; done
done

cmd="SIGNAL=$SIGNAL N=$N CONCURRENCY=$CONCURRENCY SPREADS=\"${spreads[*]}\" REPEATS=$REPEATS HOLD=$HOLD USERS=$USERS${NEGOTIATE_TIMEOUT:+ NEGOTIATE_TIMEOUT=$NEGOTIATE_TIMEOUT} bench/handoff.sh"
cat <<EOF

Hand-off of stateful connections from gateway A (SIGTERM, shutdown mode reconnect) to gateway B, one Redis.
Clients reconnect straight to B's port: a balancer that took A out of rotation before the signal.
Servers (A, B, redis-server) on core $SERVER_CPU, clients on core $LOAD_CPU; gateways --threads 2, no upstream,
--negotiate-timeout ${NEGOTIATE_TIMEOUT:-15s (default)}; SIGTERM after every connection is open and $HOLD s more.
Gateway: $GATEWAY (sha256 $(sha256sum "$GATEWAY" | cut -c1-12), built $(date -u -r "$GATEWAY" +%FT%TZ)).

| spread | N | hand-off s | resume rate conn/s | A drain s | Redis used_memory before / peak / after MB | resumed / failed |
|---|---|---|---|---|---|---|
$(printf '%s\n' "${ROWS[@]}")

$(printf '%s\n' "${DETAILS[@]}")

Reproduce: $cmd   (commit $(cd "$REPO" && git rev-parse --short HEAD)$(cd "$REPO" && git diff --quiet HEAD -- gateway || echo ' + local changes'), $(date -u +%F))
EOF
