# bench/lib.sh: what the benchmark scripts share. Sourced, not run.
#
# - where things are: the repo, a scratch dir, wsload (built outside the repo by setup.sh);
# - starting systems in their own process group and stopping them all on exit (trap);
# - reading a system's RSS and CPU from /proc, summed over every process of its tree;
# - tokens for the gateway (HS256 JWTs minted with openssl, as docs/rest-api.md shows);
# - repeating a measurement and printing min / median / max.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
WORK=${SB_BENCH_WORK:-/tmp/sb-bench}
WSLOAD_SRC=${WSLOAD_SRC:-$(cd "$REPO/.." && pwd)/shared/tools/wsload}
WSLOAD=${WSLOAD:-$WORK/bin/wsload}
GATEWAY=${GATEWAY:-$REPO/build/bin/switchboard}
ACCESS_KEY=bench-access-key-0123456789abcdefghijklmnopqrstuv

# Server on one core, load generators on the other (the machine has two).
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}

mkdir -p "$WORK"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Prints a command line as it will run (the docs quote these), then runs it.
run() { printf '$ %s\n' "$*" >&2; "$@"; }

# --- processes -------------------------------------------------------------------------------------

STARTED_GROUPS=()

# start NAME COMMAND...: runs COMMAND in a new session (its own process group, so that stop reaches its
# children), output to $WORK/NAME.log. Sets STARTED_PID; the exit trap stops every group started so.
start() {
  local name=$1; shift
  printf '$ %s\n' "$*" >&2
  setsid "$@" > "$WORK/$name.log" 2>&1 < /dev/null &
  STARTED_PID=$!
  STARTED_GROUPS+=("$STARTED_PID")
}

# stop PID: TERM the process group led by PID, KILL it after 5 s, and wait for it.
stop() {
  local pid=$1 i
  kill -TERM -- "-$pid" 2>/dev/null || return 0
  for ((i = 0; i < 50; i++)); do
    kill -0 -- "-$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

stop_all() {
  local pid
  for pid in "${STARTED_GROUPS[@]}"; do stop "$pid"; done
  STARTED_GROUPS=()
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# wait_http URL [SECONDS]: until URL answers anything.
wait_http() {
  local url=$1 deadline=$((SECONDS + ${2:-20}))
  until curl -s -o /dev/null --max-time 1 "$url"; do
    ((SECONDS < deadline)) || die "nothing answers at $url"
    sleep 0.1
  done
}

# wait_tcp PORT [SECONDS]: until 127.0.0.1:PORT accepts a connection.
wait_tcp() {
  local deadline=$((SECONDS + ${2:-20}))
  until (exec 3<> "/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
    ((SECONDS < deadline)) || die "nothing listens on 127.0.0.1:$1"
    sleep 0.1
  done
}

# tree_pids PID...: the processes and all their descendants.
tree_pids() {
  local pid child
  for pid in "$@"; do
    [[ -d /proc/$pid ]] || continue
    echo "$pid"
    for child in $(pgrep -P "$pid"); do tree_pids "$child"; done
  done
}

# rss_kb PID...: resident memory of the trees, in KiB.
rss_kb() {
  local total=0 pid rss
  for pid in $(tree_pids "$@"); do
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null) || continue
    total=$((total + ${rss:-0}))
  done
  echo "$total"
}

# cpu_s PID...: user+system CPU seconds of the trees so far (utime+stime of /proc/PID/stat).
cpu_s() {
  local ticks=0 pid t
  for pid in $(tree_pids "$@"); do
    # Fields after the ")" that closes comm: utime is the 12th, stime the 13th.
    t=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{print $12 + $13}') || continue
    ticks=$((ticks + ${t:-0}))
  done
  awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f\n", t / hz}'
}

# --- tokens ----------------------------------------------------------------------------------------

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }

# jwt AUDIENCE [EXTRA_CLAIMS_JSON_FRAGMENT]: an HS256 token valid for 2 hours.
jwt() {
  local header payload signature
  header=$(printf '{"alg":"HS256","typ":"JWT"}' | b64url)
  payload=$(printf '{"aud":"%s","exp":%d%s}' "$1" $(($(date +%s) + 7200)) "${2:+,$2}" | b64url)
  signature=$(printf '%s.%s' "$header" "$payload" | openssl dgst -sha256 -hmac "$ACCESS_KEY" -binary | b64url)
  printf '%s.%s.%s' "$header" "$payload" "$signature"
}

# --- figures ---------------------------------------------------------------------------------------

# json_field JSON NAME: a top-level or latency_us field of wsload's one-line JSON.
json_field() {
  node -e 'const o = JSON.parse(process.argv[1]); const k = process.argv[2];
           const v = k in o ? o[k] : (o.latency_us || {})[k]; console.log(v === undefined || v === null ? "" : v)' "$1" "$2"
}

# summary VALUE...: "min / median / max" of the values.
summary() {
  printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1}
    END {if (NR == 0) {print "n/a"; exit}
         m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
         printf "%s / %s / %s\n", v[1], m, v[NR]}'
}

# Logs the load average and time: figures taken under someone else's build are noise, so say so.
report_load() {
  log "load average: $(cut -d' ' -f1-3 /proc/loadavg); date: $(date -u +%FT%TZ)"
}

# The soft limit goes up to the hard one. Raising the hard limit needs CAP_SYS_RESOURCE, which this
# machine's sandbox withholds (hard limit 20,000): that caps any one process's connections.
raise_fd_limit() {
  ulimit -n "$(ulimit -Hn)"
}

build_release() {
  [[ ${SB_BENCH_NO_BUILD:-0} == 1 ]] && return 0
  (cd "$REPO" && cmake --preset release > /dev/null && cmake --build build -j1 \
     --target switchboard bench-echo-function bench-publish) >&2
  "$BENCH_DIR/setup.sh" >&2
}
