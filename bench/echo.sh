#!/usr/bin/env bash
# Upstream echo: 1,000 SignalR connections send "echo" invocations; the gateway POSTs each to a function
# built on functions-runtime (bench-echo-function), whose reply sends the argument back to the caller.
# wsload's messages carry the send time, so its latency is the round trip client -> gateway -> function
# -> gateway -> client.
#
# 1. Max: every connection sends $OFFERED/s (more than one gateway core completes); completed
#    invocations/s = replies received over the run; gateway CPU per completed invocation gives the
#    per-core rate.
# 2. Half: half the median max rate, for p50/p99 round trip.
# 3. Group: the reply sends to group "g100" (100 other connections) instead, at $GROUP_RATE invocations/s.
# Gateway: --threads 1 on $SERVER_CPU. Function and wsload share $LOAD_CPU. Each $REPEATS times.
#
# Usage: bench/echo.sh [--quick]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$BENCH_DIR/systems.sh"

CONNECTIONS=1000; OFFERED=10; DURATION=10; GROUP_RATE=200; REPEATS=${REPEATS:-3}
if [[ ${1:-} == --quick ]]; then DURATION=4; REPEATS=1; fi
FUNCTION=${FUNCTION:-$REPO/build/bin/bench-echo-function}

build_release
raise_fd_limit
report_load

start bench-echo-function taskset -c "$LOAD_CPU" "$FUNCTION" --listen 127.0.0.1:7071 --access-key "$ACCESS_KEY"
wait_http http://127.0.0.1:7071/stats
# 64 upstream connections: cpp-httplib serves each open connection with a thread of its own, and a
# thousand of them on one core cost the function more than the requests do.
# EXTRA_GATEWAY_ARGS: more flags for the gateway (bench/tracing.sh adds --otlp-endpoint).
read -r -a extra_gateway_args <<< "${EXTRA_GATEWAY_ARGS:-}"
start_switchboard --upstream "hub=$HUB;category=messages;url=http://127.0.0.1:7071/upstream" --upstream-concurrency 64 \
  "${extra_gateway_args[@]+"${extra_gateway_args[@]}"}"

# echo_run TARGET RATE_PER_SENDER [SENDERS]: prints "completed_per_s p50_us p99_us gateway_cpu_s_per_invocation_us sent".
# SENDERS (default: all $CONNECTIONS) of the connections send; the rest stay open and idle.
echo_run() {
  local target=$1 rate=$2 senders=${3:-$CONNECTIONS} cpu_before cpu_after result
  mapfile -t client < <(switchboard_client_args echo)
  cpu_before=$(cpu_s "$SYS_PID")
  result=$(run taskset -c "$LOAD_CPU" "$WSLOAD" "${client[@]}" --connections "$CONNECTIONS" --concurrency 100 \
    --senders "$senders" --send-rate "$rate" --target "$target" --duration "$DURATION" || true)
  cpu_after=$(cpu_s "$SYS_PID")
  log "wsload: ${result:0:500}"
  local received sent run_s
  received=$(json_field "$result" messages_received); sent=$(json_field "$result" messages_sent)
  run_s=$(json_field "$result" run_s)
  echo "$(awk -v n="$received" -v t="$run_s" 'BEGIN {printf "%.0f", n / t}') $(json_field "$result" p50)" \
       "$(json_field "$result" p99) $(awk -v c="$cpu_before" -v d="$cpu_after" -v n="$received" 'BEGIN {printf "%.2f", n ? (d - c) * 1e6 / n : 0}') $sent"
}

rates=(); p50s=(); p99s=(); cpus=()
for ((rep = 1; rep <= REPEATS; rep++)); do
  read -r r p50 p99 cpu sent < <(echo_run echo "$OFFERED")
  rates+=("$r"); p50s+=("$p50"); p99s+=("$p99"); cpus+=("$cpu")
done
per_core=$(printf '%s\n' "${cpus[@]}" | awk '$1 > 0 {print int(1e6 / $1)}' | xargs)
echo "RESULT echo-max connections=$CONNECTIONS offered_per_s=$((CONNECTIONS * OFFERED)) completed_per_s=$(summary "${rates[@]}")" \
     "p50_us=$(summary "${p50s[@]}") p99_us=$(summary "${p99s[@]}") gateway_cpu_us_per_invocation=$(summary "${cpus[@]}")" \
     "invocations_per_gateway_core_s=$(summary $per_core)"

half=$(printf '%s\n' "${rates[@]}" | sort -g | awk -v c="$CONNECTIONS" '{v[NR] = $1} END {printf "%.2f", v[int((NR + 1) / 2)] / 2 / c}')
rates=(); p50s=(); p99s=(); cpus=()
for ((rep = 1; rep <= REPEATS; rep++)); do
  read -r r p50 p99 cpu sent < <(echo_run echo "$half")
  rates+=("$r"); p50s+=("$p50"); p99s+=("$p99"); cpus+=("$cpu")
done
echo "RESULT echo-half connections=$CONNECTIONS rate_per_connection=$half completed_per_s=$(summary "${rates[@]}")" \
     "p50_us=$(summary "${p50s[@]}") p99_us=$(summary "${p99s[@]}") gateway_cpu_us_per_invocation=$(summary "${cpus[@]}")"

# wsload paces its senders in step: each sends when elapsed × rate passes a whole number, so at the
# half rate above all 1,000 connections send in the same millisecond, a burst of 1,000 invocations
# every ~1/rate s, and the round trip mostly measures draining it. The same total rate from
# $SPREAD_SENDERS senders (the other connections open and idle) comes in bursts that many times smaller.
SPREAD_SENDERS=${SPREAD_SENDERS:-20}
spread=$(awk -v h="$half" -v c="$CONNECTIONS" -v s="$SPREAD_SENDERS" 'BEGIN {printf "%.2f", h * c / s}')
rates=(); p50s=(); p99s=(); cpus=()
for ((rep = 1; rep <= REPEATS; rep++)); do
  read -r r p50 p99 cpu sent < <(echo_run echo "$spread" "$SPREAD_SENDERS")
  rates+=("$r"); p50s+=("$p50"); p99s+=("$p99"); cpus+=("$cpu")
done
echo "RESULT echo-half-spread connections=$CONNECTIONS senders=$SPREAD_SENDERS rate_per_sender=$spread" \
     "completed_per_s=$(summary "${rates[@]}") p50_us=$(summary "${p50s[@]}") p99_us=$(summary "${p99s[@]}")" \
     "gateway_cpu_us_per_invocation=$(summary "${cpus[@]}")"

# Group: 100 members (user "member" in group g100) receive what 1,000 senders' invocations fan out.
group_rate=$(awk -v r="$GROUP_RATE" -v c="$CONNECTIONS" 'BEGIN {printf "%.3f", r / c}')
rates=(); p50s=(); p99s=()
for ((rep = 1; rep <= REPEATS; rep++)); do
  ready=$WORK/echo-group.ready; rm -f "$ready"
  mapfile -t member < <(switchboard_client_args member)
  run taskset -c "$LOAD_CPU" "$WSLOAD" "${member[@]}" --connections 100 --ready-file "$ready" \
    --duration $((DURATION + 10)) > "$WORK/echo-group.json" &
  members_pid=$!
  until [[ -s $ready ]]; do sleep 0.2; done
  switchboard_rest PUT /groups/g100/users/member
  echo_run echoGroup "$group_rate" > /dev/null
  wait "$members_pid" || true
  result=$(cat "$WORK/echo-group.json"); log "members: ${result:0:500}"
  rates+=("$(json_field "$result" msgs_per_sec)"); p50s+=("$(json_field "$result" p50)"); p99s+=("$(json_field "$result" p99)")
done
echo "RESULT echo-group invocations_per_s=$GROUP_RATE members=100 deliveries_per_s=$(summary "${rates[@]}")" \
     "p50_us=$(summary "${p50s[@]}") p99_us=$(summary "${p99s[@]}")"
