# bench/systems.sh: starts each system under test on 127.0.0.1, pinned to $SERVER_CPU. Sourced.
#
# Each start_* sets SYS_PID (the leader whose process tree is measured), SYS_WS (a WebSocket URL
# prefix for subscribers) and SYS_KIND (wsload's --signalr mode). Configuration is written to $WORK
# each time, so a run never depends on /etc.

SB_PORT=8080
PUSHPIN_PORT=7999
PUSHPIN_PUBLISH_PORT=5561
PUSHPIN_BACKEND_PORT=7998
NCHAN_PORT=8090
NCHAN_PUBLISH_PORT=8091
HUB=bench

# start_switchboard [GATEWAY_FLAG]...: the gateway with one event-loop thread unless flags say otherwise.
start_switchboard() {
  start switchboard taskset -c "$SERVER_CPU" "$GATEWAY" --listen "127.0.0.1:$SB_PORT" \
    --access-key "$ACCESS_KEY" --threads 1 --log-level warn "$@"
  SYS_PID=$STARTED_PID
  SYS_KIND=switchboard
  wait_http "http://127.0.0.1:$SB_PORT/api/health" 60
}

# switchboard_client_args USER: wsload flags that negotiate and connect as USER to hub "bench".
switchboard_client_args() {
  local token
  token=$(jwt "http://127.0.0.1:$SB_PORT/client/?hub=$HUB" "\"asrs.s.uid\":\"$1\"")
  printf '%s\n' --url "ws://127.0.0.1:$SB_PORT/client/?hub=$HUB" \
    --negotiate "http://127.0.0.1:$SB_PORT/client/negotiate?hub=$HUB&negotiateVersion=1" \
    --token "$token" --signalr json
}

# switchboard_rest METHOD PATH: one REST call (path after /api/v1/hubs/bench), fails on non-2xx.
switchboard_rest() {
  local url="http://127.0.0.1:$SB_PORT/api/v1/hubs/$HUB$2"
  curl -sf -X "$1" -H "Authorization: Bearer $(jwt "$url")" "$url" > /dev/null
}

# Pushpin 1.36 (its runner starts condure, zurl, pushpin-proxy and pushpin-handler; Debian runs zurl
# as a system service instead, so the runner is told to start its own) with WebSocket-over-HTTP to bench/pushpin_backend.mjs (which subscribes each socket to
# ?channel=). Settings from Pushpin's own guide to many connections (fanout/pushpin-c1m):
# client_buffer_size=4096 and a raised client_maxconn; message_rate and message_hwm (2,500/s and
# 25,000 by default, deliveries the handler lets out) are raised so that they don't cap fan-out.
start_pushpin() {
  local dir=$WORK/pushpin
  rm -rf "$dir" && mkdir -p "$dir/run" "$dir/log"
  sed -e "s|^rundir=.*|rundir=$dir/run|" -e "s|^logdir=.*|logdir=$dir/log|" \
      -e "s|^http_port=.*|http_port=$PUSHPIN_PORT|" -e 's|^log_level=.*|log_level=1|' \
      -e 's|^client_buffer_size=.*|client_buffer_size=4096|' -e 's|^client_maxconn=.*|client_maxconn=110000|' \
      -e "s|^push_in_http_port=.*|push_in_http_port=$PUSHPIN_PUBLISH_PORT|" \
      -e 's|^message_rate=.*|message_rate=10000000|' -e 's|^message_hwm=.*|message_hwm=10000000|' \
      -e 's|^stats_connection_ttl=.*|stats_connection_ttl=600|' \
      -e 's|^services=.*|services=condure,zurl,pushpin-proxy,pushpin-handler|' \
      -e "s|^\\[proxy\\]\$|[proxy]\\nzurl_out_specs=ipc://$dir/run/pushpin-zurl-in\\nzurl_out_stream_specs=ipc://$dir/run/pushpin-zurl-in-stream\\nzurl_in_specs=ipc://$dir/run/pushpin-zurl-out|" \
      /etc/pushpin/pushpin.conf > "$dir/pushpin.conf"
  echo "* 127.0.0.1:$PUSHPIN_BACKEND_PORT,over_http" > "$dir/routes"
  # The backend is not part of the measured tree: it runs on the load core and holds no per-socket state.
  start pushpin-backend taskset -c "$LOAD_CPU" node "$BENCH_DIR/pushpin_backend.mjs" "$PUSHPIN_BACKEND_PORT"
  start pushpin taskset -c "$SERVER_CPU" pushpin --config "$dir/pushpin.conf"
  SYS_PID=$STARTED_PID
  SYS_KIND=pushpin
  wait_http "http://127.0.0.1:$PUSHPIN_BACKEND_PORT/" 60
  wait_tcp "$PUSHPIN_PORT" 60
  wait_http "http://127.0.0.1:$PUSHPIN_PUBLISH_PORT/" 60
}

# start_nchan [WORKERS]: nginx 1.22 + Nchan 1.3.6, one worker unless asked (the server gets one core,
# as the others do), epoll with multi_accept, no access log, and nchan_store_messages off: messages go
# to the subscribers that are connected and are not buffered, which is what the other two systems do.
start_nchan() {
  local workers=${1:-1} dir=$WORK/nginx listen_options="backlog=65535" shared_memory=256m
  # Several workers (bench/idle_many.sh) share one listener with reuseport: the kernel spreads
  # connections over them.
  if ((workers > 1)); then listen_options+=" reuseport"; shared_memory=512m; fi
  rm -rf "$dir" && mkdir -p "$dir/tmp"
  cat > "$dir/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ngx_nchan_module.so;
user root;
daemon off;
worker_processes $workers;
worker_rlimit_nofile 20000;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 20000; use epoll; multi_accept on; }
http {
  access_log off;
  client_body_temp_path $dir/tmp;
  nchan_shared_memory_size $shared_memory;
  server {
    listen 127.0.0.1:$NCHAN_PORT $listen_options;
    location ~ ^/sub/(\w+)\$ { nchan_subscriber websocket; nchan_channel_id \$1; }
  }
  server {
    listen 127.0.0.1:$NCHAN_PUBLISH_PORT;
    location /pub { nchan_publisher; nchan_channel_id \$arg_id; nchan_store_messages off; }
  }
}
EOF
  start nginx taskset -c "$SERVER_CPU" nginx -c "$dir/nginx.conf" -p "$dir"
  SYS_PID=$STARTED_PID
  SYS_KIND=nchan
  wait_http "http://127.0.0.1:$NCHAN_PUBLISH_PORT/" 60
}

# subscriber_args SYSTEM CHANNEL: wsload flags for a subscriber of CHANNEL on SYSTEM. For Switchboard
# the channel is a group that user "sub-CHANNEL" is added to (bench scripts do that once all are in).
subscriber_args() {
  case $1 in
    switchboard) switchboard_client_args "sub-$2" ;;
    pushpin) printf '%s\n' --url "ws://127.0.0.1:$PUSHPIN_PORT/sub?channel=$2" --signalr off ;;
    nchan) printf '%s\n' --url "ws://127.0.0.1:$NCHAN_PORT/sub/$2" --signalr off ;;
  esac
}

# publish_args SYSTEM CHANNEL: bench-publish flags that send one 100-byte JSON payload per request,
# {"ts":<µs>,"pad":"…"}, to CHANNEL.
PAYLOAD='{"ts":{ts},"pad":"'$(printf 'x%.0s' {1..68})'"}'
publish_args() {
  case $1 in
    switchboard)
      local url="http://127.0.0.1:$SB_PORT/api/v1/hubs/$HUB/groups/$2"
      printf '%s\n' --url "$url" --header "Authorization: Bearer $(jwt "$url")" \
        --body "{\"target\":\"m\",\"arguments\":[$PAYLOAD]}" ;;
    pushpin)
      local escaped=${PAYLOAD//\"/\\\"}
      printf '%s\n' --url "http://127.0.0.1:$PUSHPIN_PUBLISH_PORT/publish/" \
        --body "{\"items\":[{\"channel\":\"$2\",\"formats\":{\"ws-message\":{\"content\":\"$escaped\"}}}]}" ;;
    nchan)
      printf '%s\n' --url "http://127.0.0.1:$NCHAN_PUBLISH_PORT/pub?id=$2" --body "$PAYLOAD" ;;
  esac
}
