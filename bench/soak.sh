#!/usr/bin/env bash
# Soak: many connections held for a long time while others churn, against a real function.
# Prints the gateway's RSS, fd count and open connections every SOAK_SAMPLE seconds, then checks that
# once every client has left, fds are back to the baseline and RSS stopped growing (not a CI test).
#
#   bench/soak.sh                       10,000 held connections, churn, 600 s
#   SOAK_SECONDS=60 SOAK_CONNECTIONS=2000 bench/soak.sh      a short run
#
# Held clients: SOAK_CONNECTIONS over SignalR JSON, SOAK_SENDERS of them invoking `echoToCaller` once a second
# (the function sends it back to the caller). Churn: rounds of SOAK_CHURN clients that connect, hand-shake,
# stay SOAK_CHURN_HOLD seconds and leave, each producing `connected` and `disconnected` upstream.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${SOAK_SECONDS:-600}"
connections="${SOAK_CONNECTIONS:-10000}"
senders="${SOAK_SENDERS:-200}"
churn="${SOAK_CHURN:-500}"
churn_hold="${SOAK_CHURN_HOLD:-1}"
sample="${SOAK_SAMPLE:-10}"
wsload_dir="$(cd .. && pwd)/shared/tools/wsload"
out="${SOAK_OUT:-build/soak}"

scripts/build.sh release >/dev/null
[ -x "$wsload_dir/build/wsload" ] || "$wsload_dir/build.sh" >/dev/null
wsload="$wsload_dir/build/wsload"
ulimit -n "$(ulimit -Hn)"
mkdir -p "$out"
rm -f "$out"/*

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# Start a program and wait for its "listening on http://…" line; prints the URL.
start() {
  local name="$1" log="$out/$1.log"; shift
  "$@" >"$log.out" 2>"$log" &
  pids+=($!)
  local pid=$! url=""
  for _ in $(seq 100); do
    url=$(grep -o 'listening on http://[^ ]*' "$log.out" 2>/dev/null | head -1 | cut -d' ' -f3) && [ -n "$url" ] && break
    sleep 0.1
  done
  [ -n "$url" ] || { echo "soak: $name did not start" >&2; cat "$log" >&2; exit 1; }
  echo "$url $pid"
}

key=$(head -c 32 /dev/urandom | base64 | tr -d '=+/')
read -r fn_url _ < <(start functions build/bin/e2e-functions --listen 127.0.0.1:0 --access-key "$key")
read -r gw_url gw_pid < <(start gateway build/bin/switchboard --listen 127.0.0.1:0 --access-key "$key" \
  --upstream "$fn_url/upstream" --log-level warn)
token=$(node -e 'const jwt=require("jsonwebtoken");
  process.stdout.write(jwt.sign({"asrs.s.uid":"soak"}, process.argv[1], {audience: process.argv[2], expiresIn: 86400}))' \
  "$key" "$gw_url/client/?hub=e2e")
host_port=${gw_url#http://}
client=(--url "ws://$host_port/client/?hub=e2e" --negotiate "$gw_url/client/negotiate?hub=e2e&negotiateVersion=1"
        --token "$token" --signalr json)

rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$gw_pid/status"; }
fds() { ls "/proc/$gw_pid/fd" | wc -l; }
open_connections() { curl -s "$gw_url/metrics" | awk '/^switchboard_connections / {print $2}'; }

baseline_fds=$(fds)
baseline_rss=$(rss_kb)
echo "soak: gateway $gw_url (pid $gw_pid), function $fn_url; baseline fds $baseline_fds, rss ${baseline_rss} KiB"
echo "soak: $connections held ($senders sending 1/s), churn $churn every round, ${seconds}s"

"$wsload" "${client[@]}" --connections "$connections" --concurrency 200 --senders "$senders" --send-rate 1 \
  --target echoToCaller --duration "$seconds" --ready-file "$out/held.ready" >"$out/held.json" 2>"$out/held.err" &
held=$!
pids+=($held)
until [ -f "$out/held.ready" ]; do kill -0 "$held" 2>/dev/null || { cat "$out/held.err" >&2; exit 1; }; sleep 0.2; done

(
  round=0
  while kill -0 "$held" 2>/dev/null; do
    round=$((round + 1))
    "$wsload" "${client[@]}" --connections "$churn" --concurrency 100 --hold "$churn_hold" >>"$out/churn.json" 2>/dev/null || true
  done
) &
pids+=($!)

printf '%8s %10s %8s %12s\n' seconds rss_kib fds connections | tee "$out/samples.txt"
start_s=$SECONDS
while kill -0 "$held" 2>/dev/null; do
  printf '%8d %10d %8d %12s\n' $((SECONDS - start_s)) "$(rss_kb)" "$(fds)" "$(open_connections)" | tee -a "$out/samples.txt"
  sleep "$sample"
done
wait "$held" || true

# Every client has gone: the connections drain, fds return to the baseline.
for _ in $(seq 300); do [ "$(open_connections)" = 0 ] && [ "$(fds)" -le "$baseline_fds" ] && break; sleep 0.1; done
end_fds=$(fds)
end_rss=$(rss_kb)
rounds=$(grep -c '^{' "$out/churn.json" || true)
churned=$(awk -F'"connected":' '{split($2,a,","); s+=a[1]} END {print s+0}' "$out/churn.json")
echo "soak: held $(grep -o '"connected":[0-9]*' "$out/held.json"), echo results $(grep -o '"messages_received":[0-9]*' "$out/held.json"), closed early $(grep -o '"closed_early":[0-9]*' "$out/held.json")"
echo "soak: churn rounds $rounds, connections churned $churned"
echo "soak: after: fds $end_fds (baseline $baseline_fds), rss ${end_rss} KiB (baseline ${baseline_rss} KiB), open $(open_connections)"
# RSS growth over the second half of the run, when the allocator has reached its working set.
awk 'NR>1 {r[NR]=$2} END {n=NR; h=int((n+1)/2); printf "soak: rss at half time %d KiB, at the end %d KiB\n", r[h+1], r[n]}' "$out/samples.txt"
curl -s "$gw_url/metrics" >"$out/metrics.txt"
echo "soak: disconnections by reason:" $(awk '/^switchboard_disconnects_total/ {print $1"="$2}' "$out/metrics.txt" | sed 's/switchboard_disconnects_total//')
# What of the RSS is memory the allocator holds free (fragmentation) rather than memory still in use.
if command -v gdb >/dev/null; then
  gdb -p "$gw_pid" -batch -ex 'call (int) malloc_trim(0)' >/dev/null 2>&1 || true
  echo "soak: rss after malloc_trim(0): $(rss_kb) KiB"
fi
[ "$end_fds" -le "$baseline_fds" ] || { echo "soak: FAIL fds did not return to the baseline" >&2; exit 1; }
echo "soak: ok"
