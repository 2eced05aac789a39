#!/usr/bin/env bash
# Broadcast fan-out: 100-byte messages published to a group of S subscribers (S = 100, 1,000, 10,000).
#
# Per system and S, a fresh server; per repetition, wsload connects S subscribers to one group
# (Switchboard: one user added to group "g" through the REST API; peers: a subscribed WebSocket),
# then bench-publish sends M messages over $PUBLISHERS (4) keep-alive connections as fast as the answers come back
# (M x S = 2,000,000 deliveries; --quick: 200,000). Reported: deliveries/s (wsload, first to last
# message), p50/p99 latency (publisher's clock to receipt), server CPU seconds per million deliveries
# (utime+stime of every server process over the publish). Then the same at half the median max rate,
# open loop, for latency. Each measurement $REPEATS times: min / median / max.
#
# Usage: bench/fanout.sh [--quick] [SYSTEM...]     (systems: switchboard pushpin nchan; default all)
# Environment: GROUP_SIZES="1000" (default "100 1000 10000"), REPEATS, DELIVERIES per run, PUBLISHERS
# (the publisher's keep-alive connections, default 4).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$BENCH_DIR/systems.sh"

group_sizes=(${GROUP_SIZES:-100 1000 10000}); REPEATS=${REPEATS:-3}; DELIVERIES=${DELIVERIES:-2000000}
if [[ ${1:-} == --quick ]]; then shift; group_sizes=(100 1000); REPEATS=1; DELIVERIES=200000; fi
systems=("$@"); ((${#systems[@]})) || systems=(switchboard pushpin nchan)
PUBLISH=${PUBLISH:-$REPO/build/bin/bench-publish}; PUBLISHERS=${PUBLISHERS:-4}

# EXTRA_GATEWAY_ARGS: more flags for Switchboard (bench/console.sh adds --admin-key).
read -r -a extra_gateway_args <<< "${EXTRA_GATEWAY_ARGS:-}"

build_release
raise_fd_limit
report_load

# measure SYSTEM SUBSCRIBERS MESSAGES RATE: one run; prints "deliveries_per_s p50_us p99_us cpu_s_per_M".
measure() {
  local system=$1 subscribers=$2 messages=$3 rate=$4 ready=$WORK/fanout.ready
  rm -f "$ready"
  mapfile -t client < <(subscriber_args "$system" g)
  run taskset -c "$LOAD_CPU" "$WSLOAD" "${client[@]}" --connections "$subscribers" --concurrency 100 \
    --connect-timeout 60 --ready-file "$ready" --expect "$messages" --duration 120 > "$WORK/fanout.json" &
  local load_pid=$!
  until [[ -s $ready ]]; do kill -0 "$load_pid" 2>/dev/null || break; sleep 0.2; done
  [[ $system == switchboard ]] && switchboard_rest PUT /groups/g/users/sub-g
  sleep 1
  local cpu_before cpu_after
  cpu_before=$(cpu_s "$SYS_PID")
  mapfile -t publisher < <(publish_args "$system" g)
  run taskset -c "$LOAD_CPU" "$PUBLISH" "${publisher[@]}" --count "$messages" --connections "$PUBLISHERS" --rate "$rate" \
    > "$WORK/publish.json" || log "publisher: $(cat "$WORK/publish.json")"
  wait "$load_pid" || log "wsload did not get every message (exit $?)"
  cpu_after=$(cpu_s "$SYS_PID")
  local result
  result=$(cat "$WORK/fanout.json")
  log "wsload: ${result:0:400}"
  log "publish: $(cat "$WORK/publish.json")"
  local received; received=$(json_field "$result" messages_received)
  echo "$(json_field "$result" msgs_per_sec) $(json_field "$result" p50) $(json_field "$result" p99)" \
       "$(awk -v c="$cpu_before" -v d="$cpu_after" -v n="$received" 'BEGIN {printf "%.3f", n ? (d - c) * 1e6 / n : 0}')"
}

for system in "${systems[@]}"; do
  for subscribers in "${group_sizes[@]}"; do
    case $system in
      switchboard) start_switchboard --max-send-queue-bytes 16MiB "${extra_gateway_args[@]+"${extra_gateway_args[@]}"}" ;;
      pushpin) start_pushpin ;;
      nchan) start_nchan ;;
    esac
    # Pushpin delivers ~3,500 messages/s here: it gets a tenth of the deliveries, or a run takes 10 min.
    deliveries=$DELIVERIES; [[ $system == pushpin ]] && deliveries=$((DELIVERIES / 10))
    messages=$((deliveries / subscribers))
    rates=(); p50s=(); p99s=(); cpus=()
    for ((rep = 1; rep <= REPEATS; rep++)); do
      read -r r p50 p99 cpu < <(measure "$system" "$subscribers" "$messages" 0)
      rates+=("$r"); p50s+=("$p50"); p99s+=("$p99"); cpus+=("$cpu")
    done
    echo "RESULT fanout system=$system subscribers=$subscribers messages=$messages max_deliveries_per_s=$(summary "${rates[@]}")" \
         "p50_us=$(summary "${p50s[@]}") p99_us=$(summary "${p99s[@]}") cpu_s_per_M=$(summary "${cpus[@]}")"
    # Half the median max rate, in messages/s, for about 5 s.
    half=$(printf '%s\n' "${rates[@]}" | sort -g | awk -v s="$subscribers" '{v[NR] = $1} END {printf "%.1f", v[int((NR + 1) / 2)] / 2 / s}')
    half_messages=$(awk -v r="$half" 'BEGIN {m = int(r * 5); print (m < 20 ? 20 : m)}')
    rates=(); p50s=(); p99s=(); cpus=()
    for ((rep = 1; rep <= REPEATS; rep++)); do
      read -r r p50 p99 cpu < <(measure "$system" "$subscribers" "$half_messages" "$half")
      rates+=("$r"); p50s+=("$p50"); p99s+=("$p99"); cpus+=("$cpu")
    done
    echo "RESULT fanout-half system=$system subscribers=$subscribers publish_rate=$half messages=$half_messages" \
         "deliveries_per_s=$(summary "${rates[@]}") p50_us=$(summary "${p50s[@]}") p99_us=$(summary "${p99s[@]}") cpu_s_per_M=$(summary "${cpus[@]}")"
    stop_all
  done
done
