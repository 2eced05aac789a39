#!/usr/bin/env bash
# Fan-out across a fleet: the same total subscribers on one gateway without Redis, one gateway with
# Redis, and two gateways over Redis (subscribers split evenly), each over Redis with the fleet log (the
# default, a Stream) and without it (--fleet-log off: pub/sub), side by side; then Redis round trips
# and commands per action, with the log and without.
#
# Fan-out: per setup and size S, wsload connects S subscribers (split over the gateways) to group "g",
# bench-publish sends 100-byte messages to gateway A's REST API as fast as answers come back, and we
# report deliveries/s (all subscribers, first to last message), p50/p99 latency and CPU seconds per
# million deliveries summed over every gateway and redis-server. Everything server-side shares
# $SERVER_CPU, so two gateways show what the split costs, not what a second machine adds.
#
# Round trips: a batch of one kind of REST call on gateway A while `redis-cli monitor` records what Redis
# runs; commands sent by gateways are round trips (pipelined, but each one is answered), commands run by
# Lua scripts are not. The leases' renewals fall in the window too (a few per second), which the batch
# size makes negligible.
#
# Usage: bench/fleet.sh [--quick]
#   SETUPS="redis-2 redis-2-unsigned" ROUND_TRIPS=0 bench/fleet.sh   signed envelopes against unsigned
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$BENCH_DIR/systems.sh"

read -r -a group_sizes <<< "${GROUP_SIZES:-1000 10000}"; REPEATS=${REPEATS:-3}; DELIVERIES=1000000; ACTIONS=2000
read -r -a setups <<< "${SETUPS:-local redis-1 redis-1-pubsub redis-2 redis-2-pubsub}"
if [[ ${1:-} == --quick ]]; then group_sizes=(1000); REPEATS=1; DELIVERIES=200000; ACTIONS=500; fi
PUBLISH=${PUBLISH:-$REPO/build/bin/bench-publish}
REDIS_PORT=6390
SB_PORT_B=8081

build_release
raise_fd_limit
report_load

start_redis() {
  start redis taskset -c "$SERVER_CPU" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' \
    --appendonly no --protected-mode no
  REDIS_PID=$STARTED_PID
  wait_tcp "$REDIS_PORT" 20
}

# start_gateway PORT [FLAG]...: one gateway with one event-loop thread; sets STARTED_PID.
start_gateway() {
  local port=$1; shift
  start "switchboard-$port" taskset -c "$SERVER_CPU" "$GATEWAY" --listen "127.0.0.1:$port" \
    --access-key "$ACCESS_KEY" --threads 1 --log-level warn --max-send-queue-bytes 16MiB "$@"
  wait_http "http://127.0.0.1:$port/api/health" 60
}

# setup_fleet SETUP: starts the servers of SETUP (local, redis-1, redis-2, and redis-1-pubsub,
# redis-2-pubsub with --fleet-log off; a suffix -unsigned adds --fleet-signing off, to see what signing
# costs); sets PORTS and SERVER_PIDS.
setup_fleet() {
  SERVER_PIDS=()
  local redis_flags=()
  if [[ $1 != local ]]; then
    start_redis
    SERVER_PIDS+=("$REDIS_PID")
    redis_flags=(--redis "redis://127.0.0.1:$REDIS_PORT")
    [[ $1 == *-pubsub* ]] && redis_flags+=(--fleet-log off)
    [[ $1 == *-unsigned ]] && redis_flags+=(--fleet-signing off)
  fi
  PORTS=("$SB_PORT")
  [[ $1 == redis-2* ]] && PORTS+=("$SB_PORT_B")
  local port
  for port in "${PORTS[@]}"; do
    start_gateway "$port" "${redis_flags[@]+"${redis_flags[@]}"}"
    SERVER_PIDS+=("$STARTED_PID")
  done
}

# subscriber_args_at PORT: wsload flags for user "sub-g" on the gateway at PORT.
subscriber_args_at() {
  local token
  token=$(jwt "http://127.0.0.1:$1/client/?hub=$HUB" '"asrs.s.uid":"sub-g"')
  printf '%s\n' --url "ws://127.0.0.1:$1/client/?hub=$HUB" \
    --negotiate "http://127.0.0.1:$1/client/negotiate?hub=$HUB&negotiateVersion=1" --token "$token" --signalr json
}

# measure SUBSCRIBERS MESSAGES: one run; prints "deliveries_per_s p50_us p99_us cpu_s_per_M".
measure() {
  local subscribers=$1 messages=$2 per_gateway=$(($1 / ${#PORTS[@]})) i port
  local load_pids=() args
  for i in "${!PORTS[@]}"; do
    port=${PORTS[$i]}
    rm -f "$WORK/fleet-$i.ready"
    mapfile -t args < <(subscriber_args_at "$port")
    run taskset -c "$LOAD_CPU" "$WSLOAD" "${args[@]}" --connections "$per_gateway" --concurrency 100 \
      --connect-timeout 60 --ready-file "$WORK/fleet-$i.ready" --expect "$messages" --duration 120 \
      > "$WORK/fleet-$i.json" &
    load_pids+=($!)
  done
  for i in "${!PORTS[@]}"; do
    until [[ -s $WORK/fleet-$i.ready ]]; do kill -0 "${load_pids[$i]}" 2>/dev/null || break; sleep 0.2; done
  done
  switchboard_rest PUT /groups/g/users/sub-g  # one user membership: every gateway applies it
  sleep 1
  local cpu_before cpu_after url
  cpu_before=$(cpu_s "${SERVER_PIDS[@]}")
  url="http://127.0.0.1:$SB_PORT/api/v1/hubs/$HUB/groups/g"
  run taskset -c "$LOAD_CPU" "$PUBLISH" --url "$url" --header "Authorization: Bearer $(jwt "$url")" \
    --body "{\"target\":\"m\",\"arguments\":[$PAYLOAD]}" --count "$messages" --connections 4 --rate 0 \
    > "$WORK/publish.json" || log "publisher: $(cat "$WORK/publish.json")"
  for pid in "${load_pids[@]}"; do wait "$pid" || log "a wsload did not get every message (exit $?)"; done
  cpu_after=$(cpu_s "${SERVER_PIDS[@]}")
  # Deliveries/s over the fleet: all messages received, over the longest client's first-to-last span.
  node -e '
    const fs = require("fs");
    const runs = process.argv.slice(2).map((f) => JSON.parse(fs.readFileSync(f, "utf8")));
    const received = runs.reduce((n, r) => n + r.messages_received, 0);
    const seconds = Math.max(...runs.map((r) => r.messages_received / r.msgs_per_sec));
    const worst = (k) => Math.max(...runs.map((r) => r.latency_us[k]));
    const cpu = Number(process.argv[1]);
    console.log(`${Math.round(received / seconds)} ${worst("p50")} ${worst("p99")} ${(cpu * 1e6 / received).toFixed(3)}`);
  ' "$(awk -v a="$cpu_before" -v b="$cpu_after" 'BEGIN {print b - a}')" \
    $(for i in "${!PORTS[@]}"; do echo "$WORK/fleet-$i.json"; done) 2>/dev/null \
    || { log "wsload: $(cat "$WORK"/fleet-*.json)"; echo "0 0 0 0"; }
}

for setup in "${setups[@]}"; do
  for subscribers in "${group_sizes[@]}"; do
    setup_fleet "$setup"
    messages=$((DELIVERIES / subscribers))
    rates=(); p50s=(); p99s=(); cpus=()
    for ((rep = 1; rep <= REPEATS; rep++)); do
      read -r r p50 p99 cpu < <(measure "$subscribers" "$messages")
      rates+=("$r"); p50s+=("$p50"); p99s+=("$p99"); cpus+=("$cpu")
    done
    echo "RESULT fleet setup=$setup subscribers=$subscribers messages=$messages deliveries_per_s=$(summary "${rates[@]}")" \
         "p50_us=$(summary "${p50s[@]}") p99_us=$(summary "${p99s[@]}") cpu_s_per_M=$(summary "${cpus[@]}")"
    stop_all
  done
done

# Round trips per action, on a fleet of two with one connection of user "u" on gateway B, with the
# fleet log and without.
[[ ${ROUND_TRIPS:-1} == 0 ]] && exit 0
for RT_SETUP in redis-2 redis-2-pubsub; do
setup_fleet "$RT_SETUP"
mapfile -t args < <(subscriber_args_at "$SB_PORT_B")
rm -f "$WORK/fleet-rt.ready"
start holder "$WSLOAD" "${args[@]}" --connections 1 --hold 600 --ready-file "$WORK/fleet-rt.ready"
until [[ -s $WORK/fleet-rt.ready ]]; do sleep 0.2; done

# round_trips NAME METHOD PATH [BODY]: ACTIONS calls of one kind on gateway A, watched with MONITOR;
# prints the round trips per call (what clients sent) and the commands per call (those plus what Lua
# scripts ran inside Redis, which MONITOR shows as coming from "lua").
round_trips() {
  local name=$1 method=$2 url="http://127.0.0.1:$SB_PORT/api/v1/hubs/$HUB$3" body=${4:-} i monitor
  local token; token=$(jwt "$url")
  redis-cli -p "$REDIS_PORT" monitor > "$WORK/monitor.txt" &
  monitor=$!
  until grep -q '^OK' "$WORK/monitor.txt" 2>/dev/null; do sleep 0.05; done
  if [[ $method == POST ]]; then
    "$PUBLISH" --url "$url" --header "Authorization: Bearer $token" --body "$body" --count "$ACTIONS" \
      --connections 1 --rate 0 > /dev/null
  else
    # One curl, ACTIONS requests on one keep-alive connection.
    for ((i = 0; i < ACTIONS; i++)); do echo "url = \"$url\""; done > "$WORK/curl.cfg"
    local verb=(-X "$method"); [[ $method == HEAD ]] && verb=(--head)
    curl -s "${verb[@]}" -H "Authorization: Bearer $token" -K "$WORK/curl.cfg" > /dev/null
  fi
  redis-cli -p "$REDIS_PORT" echo fleet-bench-end > /dev/null
  until grep -q fleet-bench-end "$WORK/monitor.txt"; do sleep 0.05; done
  kill "$monitor"; wait "$monitor" 2>/dev/null || true
  local commands trips
  commands=$(grep '^[0-9]' "$WORK/monitor.txt" | grep -vc fleet-bench-end || true)
  trips=$(grep '^[0-9]' "$WORK/monitor.txt" | grep -v fleet-bench-end | grep -vc ' \[[0-9]* lua\] ' || true)
  echo "RESULT redis-round-trips setup=$RT_SETUP action=$name calls=$ACTIONS round_trips_per_call=$(awk -v t="$trips" \
    -v n="$ACTIONS" 'BEGIN {printf "%.2f", t / n}') commands_per_call=$(awk -v c="$commands" -v n="$ACTIONS" \
    'BEGIN {printf "%.2f", c / n}')"
}
message="{\"target\":\"m\",\"arguments\":[$PAYLOAD]}"
round_trips send-to-all POST "" "$message"
round_trips send-to-group POST /groups/g "$message"
round_trips send-to-user POST /users/sub-g "$message"
round_trips add-user-to-group PUT /groups/h/users/sub-g
round_trips user-exists HEAD /users/sub-g
round_trips group-exists HEAD /groups/g
stop_all
done
