#!/usr/bin/env bash
# Runs the chat demo on this machine (Debian 12): sets up and builds (quick when already done), starts
# the gateway and the chat sample on 127.0.0.1, prints the page's URL ("chat: http://127.0.0.1:PORT/")
# and runs until Ctrl-C or SIGTERM, then stops both.
#
#   SWITCHBOARD_PORT       gateway port (default 8080)
#   CHAT_PORT              chat sample port (default 8081)
#   DEMO_EXIT_AFTER_READY  1: stop both and exit 0 as soon as the page is up (for CI)
#
# stdout carries only the demo's own lines; setup, build and the programs' logs go to stderr and to
# build/demo/*.log.
set -euo pipefail
cd "$(dirname "$0")/.."

gateway_port="${SWITCHBOARD_PORT:-8080}"
chat_port="${CHAT_PORT:-8081}"
ready_timeout_s=30

scripts/setup.sh >&2
scripts/build.sh release >&2

log_dir=build/demo
mkdir -p "$log_dir"
# 33 random bytes: 44 base64 characters, no '=' padding.
access_key="$(head -c 33 /dev/urandom | base64 | tr -d '\n')"

gateway_pid=""
chat_pid=""

# Stops one child: SIGTERM, then SIGKILL if it is still there after the grace period.
stop_child() {
  local pid="$1" name="$2" grace_s="$3"
  [ -n "$pid" ] || return 0
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq $((grace_s * 10))); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "demo: $name did not stop in ${grace_s}s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  trap - EXIT INT TERM
  # The gateway first: its `disconnected` events still reach the chat sample while that runs.
  stop_child "$gateway_pid" switchboard 10
  stop_child "$chat_pid" chat-sample 5
}
trap cleanup EXIT
trap 'echo "demo: stopping" >&2; cleanup; exit 0' INT TERM

# Waits until `file` has a line matching `pattern` and prints that line; fails if `pid` exits first.
wait_for_line() {
  local file="$1" pattern="$2" pid="$3" name="$4" line
  for _ in $(seq $((ready_timeout_s * 10))); do
    if line="$(grep -m1 -E "$pattern" "$file" 2>/dev/null)"; then
      printf '%s\n' "$line"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "demo: $name exited before it was ready; the end of its log ($log_dir/$name.log):" >&2
      tail -n 20 "$log_dir/$name.log" >&2 || true
      return 1
    fi
    sleep 0.1
  done
  echo "demo: $name was not ready after ${ready_timeout_s}s (see $log_dir/$name.log)" >&2
  return 1
}

build/bin/switchboard --listen "127.0.0.1:$gateway_port" --access-key "$access_key" \
  --upstream "http://127.0.0.1:$chat_port/upstream" \
  >"$log_dir/switchboard.out" 2>"$log_dir/switchboard.log" &
gateway_pid=$!
wait_for_line "$log_dir/switchboard.out" '^switchboard listening on http://' "$gateway_pid" switchboard

build/bin/chat-sample --listen "127.0.0.1:$chat_port" \
  --connection-string "Endpoint=http://127.0.0.1;Port=$gateway_port;AccessKey=$access_key;Version=1.0;" \
  >"$log_dir/chat-sample.out" 2>"$log_dir/chat-sample.log" &
chat_pid=$!
wait_for_line "$log_dir/chat-sample.out" '^chat: http://' "$chat_pid" chat-sample

if [ "${DEMO_EXIT_AFTER_READY:-0}" = 1 ]; then
  exit 0  # the EXIT trap stops both
fi

echo "demo: open the chat page, sign in, and again in a second browser (or a private window) as someone else; logs in $log_dir/; Ctrl-C stops" >&2
# Runs until a signal (trap above) or until one of the programs ends by itself.
status=0
wait -n "$gateway_pid" "$chat_pid" || status=$?
echo "demo: a program exited (status $status); stopping" >&2
exit 1
