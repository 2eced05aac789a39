#!/usr/bin/env bash
# Idle connections past one process's descriptor cap: 50,000 and 100,000 idle WebSocket connections on
# this machine, where no process may hold more than 20,000 descriptors (the hard limit, which a
# container without CAP_SYS_RESOURCE can't raise; see bench/idle.sh for one process).
#
# Switchboard: ceil(N / 17,000) gateway processes, each on its own port, all pinned to $SERVER_CPU
#   (the way one would run it here: one process per descriptor budget; they don't talk to each other,
#   which idle connections don't need).
# nginx + Nchan: as many worker processes, each with its own 20,000-descriptor limit, one port with
#   `reuseport` so the kernel spreads connections over the workers.
# As many wsload processes (each under the same cap), each from its own 127.0.0.x source address.
# Per connection = (RSS of every server process with all connections open and 3 s passed − RSS of the
# fresh servers) / connections open. Also printed: how much the machine's MemAvailable fell, which
# includes both ends' kernel socket memory. Each measurement $REPEATS times: min / median / max.
#
# Usage: bench/idle_many.sh [--quick] [SYSTEM...]     (systems: switchboard nchan; default both)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$BENCH_DIR/systems.sh"

counts=(50000 100000); REPEATS=${REPEATS:-3}; PER_PROCESS=17000
if [[ ${1:-} == --quick ]]; then shift; counts=(50000); REPEATS=1; fi
systems=("$@"); ((${#systems[@]})) || systems=(switchboard nchan)

build_release
raise_fd_limit
report_load

mem_available_kb() { awk '/^MemAvailable:/ {print $2}' /proc/meminfo; }

# start_switchboards N: N gateways on ports SB_PORT, SB_PORT+1, ...; sets SERVER_PIDS and PORTS.
start_switchboards() {
  local i
  SERVER_PIDS=(); PORTS=()
  for ((i = 0; i < $1; i++)); do
    SB_PORT=$((8080 + i)) start_switchboard
    SERVER_PIDS+=("$SYS_PID"); PORTS+=("$((8080 + i))")
  done
}

# start_nchan_workers N: nginx + Nchan with N workers; sets SERVER_PIDS and PORTS (one port, N times).
start_nchan_workers() {
  local i
  start_nchan "$1"
  SERVER_PIDS=("$SYS_PID"); PORTS=()
  for ((i = 0; i < $1; i++)); do PORTS+=("$NCHAN_PORT"); done
}

for system in "${systems[@]}"; do
  for count in "${counts[@]}"; do
    processes=$(( (count + PER_PROCESS - 1) / PER_PROCESS ))
    per_conn=(); totals=(); connected_counts=(); machine=()
    for ((rep = 1; rep <= REPEATS; rep++)); do
      case $system in
        switchboard) start_switchboards "$processes" ;;
        nchan) start_nchan_workers "$processes" ;;
      esac
      sleep 1
      base=$(rss_kb "${SERVER_PIDS[@]}"); mem_before=$(mem_available_kb)
      load_pids=(); readies=()
      for ((i = 0; i < processes; i++)); do
        share=$(( count / processes + (i < count % processes ? 1 : 0) ))
        ready=$WORK/idle-many.$i.ready; rm -f "$ready"; readies+=("$ready")
        case $system in
          switchboard) mapfile -t client < <(SB_PORT=${PORTS[i]} subscriber_args switchboard idle) ;;
          nchan) mapfile -t client < <(subscriber_args nchan idle) ;;
        esac
        # Held until killed below, once every process is connected and the RSS is read.
        run taskset -c "$LOAD_CPU" "$WSLOAD" "${client[@]}" --connections "$share" --concurrency 200 \
          --connect-timeout 60 --local-addrs "127.0.0.$((2 + i))" --hold 3600 --ready-file "$ready" \
          > "$WORK/idle-many.$i.json" 2> "$WORK/idle-many.$i.log" &
        load_pids+=("$!")
      done
      for ((i = 0; i < processes; i++)); do
        until [[ -s ${readies[i]} ]]; do kill -0 "${load_pids[i]}" 2>/dev/null || break; sleep 0.5; done
      done
      sleep 3
      loaded=$(rss_kb "${SERVER_PIDS[@]}"); mem_after=$(mem_available_kb)
      connected=0
      for ready in "${readies[@]}"; do connected=$((connected + $(cat "$ready" 2>/dev/null || echo 0))); done
      kill "${load_pids[@]}" 2>/dev/null || true
      wait "${load_pids[@]}" 2>/dev/null || true
      log "$system $count over $processes processes: connected $connected, server RSS ${base} KiB -> ${loaded} KiB," \
          "MemAvailable ${mem_before} KiB -> ${mem_after} KiB"
      stop_all
      ((connected > 0)) || { log "$system $count: nothing connected"; continue; }
      per_conn+=("$(awk -v a="$base" -v b="$loaded" -v n="$connected" 'BEGIN {printf "%.2f", (b - a) / n}')")
      totals+=("$(awk -v b="$loaded" 'BEGIN {printf "%.1f", b / 1024}')")
      machine+=("$(awk -v a="$mem_before" -v b="$mem_after" -v n="$connected" 'BEGIN {printf "%.2f", (a - b) / n}')")
      connected_counts+=("$connected")
    done
    echo "RESULT idle-many system=$system connections=$count processes=$processes" \
         "connected=$(summary "${connected_counts[@]}") kib_per_conn=$(summary "${per_conn[@]}")" \
         "rss_mib=$(summary "${totals[@]}") machine_kib_per_conn=$(summary "${machine[@]}")"
  done
done
