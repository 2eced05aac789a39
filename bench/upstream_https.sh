#!/usr/bin/env bash
# Upstream echo over https:// against http://, side by side in one run: the same function
# (bench-echo-function, functions-runtime) serves plain HTTP on 7071 and HTTPS on 7072 (a CA and a
# leaf for 127.0.0.1 made here with the openssl CLI); the gateway is started once per scheme and
# measurement, with --upstream pointing at one of them (and --upstream-ca for https), the two schemes
# alternating so that drift hits both alike. 1,000 SignalR connections (wsload) send "echo" invocations
# whose reply comes back as a message, as in bench/echo.sh.
#
# 1. Max: every connection sends $OFFERED/s (more than one gateway core completes): completed/s and
#    gateway CPU per completed invocation (-> invocations per gateway core-second).
# 2. Latency: $LATENCY_RATE invocations/s in all from $SENDERS senders (the other connections idle):
#    p50/p99 round trip client -> gateway -> function -> gateway -> client.
# After each https run, the gateway's switchboard_upstream_tls_handshakes_total: how many TLS
# handshakes (full, resumed) the run needed, i.e. what pooling and session resumption saved.
# Gateway: --threads 1 on $SERVER_CPU, --upstream-concurrency 64. Functions and wsload share $LOAD_CPU.
#
# Usage: bench/upstream_https.sh [--quick]   (REPEATS, DURATION, GATEWAY, FUNCTION as in bench/echo.sh)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$BENCH_DIR/systems.sh"

CONNECTIONS=1000; OFFERED=10; DURATION=${DURATION:-10}; REPEATS=${REPEATS:-3}
SENDERS=20; LATENCY_RATE=${LATENCY_RATE:-2000}
if [[ ${1:-} == --quick ]]; then DURATION=4; REPEATS=1; fi
FUNCTION=${FUNCTION:-$REPO/build/bin/bench-echo-function}
HTTP_PORT=7071; HTTPS_PORT=7072

build_release
raise_fd_limit
report_load

pki=$WORK/upstream-https
rm -rf "$pki"; mkdir -p "$pki"
(
  cd "$pki"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj '/CN=bench CA' \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign
  openssl req -newkey rsa:2048 -nodes -keyout function.key -out function.csr -subj /CN=function
  printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' > function.ext
  openssl x509 -req -in function.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out function.pem -days 2 \
    -extfile function.ext
) > "$WORK/upstream-https-pki.log" 2>&1 || die "openssl: $(cat "$WORK/upstream-https-pki.log")"

start echo-http taskset -c "$LOAD_CPU" "$FUNCTION" --listen 127.0.0.1:$HTTP_PORT --access-key "$ACCESS_KEY"
start echo-https taskset -c "$LOAD_CPU" "$FUNCTION" --listen 127.0.0.1:$HTTPS_PORT --access-key "$ACCESS_KEY" \
  --tls-cert "$pki/function.pem" --tls-key "$pki/function.key"
wait_http http://127.0.0.1:$HTTP_PORT/stats
until curl -s -o /dev/null --max-time 1 --cacert "$pki/ca.pem" https://127.0.0.1:$HTTPS_PORT/stats; do sleep 0.1; done

# gateway_for SCHEME: (re)starts the gateway with its upstream on SCHEME.
gateway_pid=
gateway_for() {
  [[ -n $gateway_pid ]] && stop "$gateway_pid"
  if [[ $1 == https ]]; then
    start_switchboard --upstream "hub=$HUB;category=messages;url=https://127.0.0.1:$HTTPS_PORT/upstream" \
      --upstream-ca "$pki/ca.pem" --upstream-concurrency 64
  else
    start_switchboard --upstream "hub=$HUB;category=messages;url=http://127.0.0.1:$HTTP_PORT/upstream" \
      --upstream-concurrency 64
  fi
  gateway_pid=$SYS_PID
}

# echo_run RATE_PER_SENDER SENDERS: prints "completed_per_s p50_us p99_us gateway_cpu_us_per_invocation".
echo_run() {
  local rate=$1 senders=$2 cpu_before cpu_after result received run_s
  mapfile -t client < <(switchboard_client_args echo)
  cpu_before=$(cpu_s "$SYS_PID")
  result=$(run taskset -c "$LOAD_CPU" "$WSLOAD" "${client[@]}" --connections "$CONNECTIONS" --concurrency 100 \
    --senders "$senders" --send-rate "$rate" --target echo --duration "$DURATION" || true)
  cpu_after=$(cpu_s "$SYS_PID")
  log "wsload: ${result:0:500}"
  received=$(json_field "$result" messages_received); run_s=$(json_field "$result" run_s)
  echo "$(awk -v n="$received" -v t="$run_s" 'BEGIN {printf "%.0f", n / t}') $(json_field "$result" p50)" \
       "$(json_field "$result" p99) $(awk -v c="$cpu_before" -v d="$cpu_after" -v n="$received" 'BEGIN {printf "%.2f", n ? (d - c) * 1e6 / n : 0}')"
}

# handshakes: "full=N resumed=M failed=K" from the running gateway's /metrics.
handshakes() {
  curl -s "http://127.0.0.1:$SB_PORT/metrics" | awk '
    /^switchboard_upstream_tls_handshakes_total\{/ {split($1, a, "\""); n[a[2]] = $2}
    END {printf "full=%d resumed=%d failed=%d", n["full"], n["resumed"], n["failed"]}'
}

declare -A rates p50s p99s cpus lat50 lat99
tls_counts=()
latency_rate_per_sender=$(awk -v r="$LATENCY_RATE" -v s="$SENDERS" 'BEGIN {printf "%.2f", r / s}')
for ((rep = 1; rep <= REPEATS; rep++)); do
  for scheme in http https; do
    gateway_for "$scheme"
    read -r r p50 p99 cpu < <(echo_run "$OFFERED" "$CONNECTIONS")
    rates[$scheme]+="$r "; cpus[$scheme]+="$cpu "
    [[ $scheme == https ]] && tls_counts+=("max:$(handshakes)")
    gateway_for "$scheme"
    read -r r p50 p99 cpu < <(echo_run "$latency_rate_per_sender" "$SENDERS")
    lat50[$scheme]+="$p50 "; lat99[$scheme]+="$p99 "
    [[ $scheme == https ]] && tls_counts+=("latency:$(handshakes)")
  done
done
stop "$gateway_pid"

for scheme in http https; do
  # shellcheck disable=SC2086  # the lists are space-separated numbers
  per_core=$(printf '%s\n' ${cpus[$scheme]} | awk '$1 > 0 {print int(1e6 / $1)}' | xargs)
  # shellcheck disable=SC2086
  echo "RESULT upstream-$scheme-max connections=$CONNECTIONS offered_per_s=$((CONNECTIONS * OFFERED))" \
       "completed_per_s=$(summary ${rates[$scheme]}) gateway_cpu_us_per_invocation=$(summary ${cpus[$scheme]})" \
       "invocations_per_gateway_core_s=$(summary $per_core)"
  # shellcheck disable=SC2086
  echo "RESULT upstream-$scheme-latency rate_per_s=$LATENCY_RATE senders=$SENDERS p50_us=$(summary ${lat50[$scheme]})" \
       "p99_us=$(summary ${lat99[$scheme]})"
done
echo "RESULT upstream-https-handshakes ${tls_counts[*]}"
