#!/usr/bin/env bash
# shellcheck disable=SC2317  # start_* and the *_healthy checks are called by name.
# Runs the same SSE scenarios against Herald and two peers, nginx + Nchan and
# Pushpin, one after the other on loopback, and prints one RESULT line per
# server and scenario, tagged server=herald|nchan|pushpin.
#
# For every scenario and every server: starts the server fresh on free
# loopback ports with a config in a temp dir, runs herald_loadgen in the
# matching --mode with --server-pid on the server's root process and
# --server-tree 1 (RSS and CPU summed over all of its processes), stops the
# server and everything it started. Every step is bounded in time; the EXIT
# trap stops whatever is still running (by pid) and removes the temp dir.
#
# Needs a built tree (build/herald, build/bench/herald_loadgen) and the peers
# from bench/install-peers (nginx, libnginx-mod-nchan, pushpin). A peer that is
# not installed gets a `RESULT server=... error=not_installed` line.
#
# Environment (all optional):
#   BUILD_DIR      build tree (<repo>/build)
#   HERALD_BIN     Herald server binary ($BUILD_DIR/herald)
#   LOADGEN_BIN    load generator ($BUILD_DIR/bench/herald_loadgen)
#   SERVERS        which servers, in order ("herald nchan pushpin")
#   SCENARIOS      "streams[:procs] ..." ("1000 10000"); procs defaults to one
#                  receiver process per 5,000 streams
#   EVENTS         updates per scenario (200)
#   RATE           updates per second (50)
#   TIMEOUT        seconds per loadgen run, --timeout (120)
#   HOLD           idle seconds between the last stream up and publishing (1)
#   NGINX_WORKERS  nginx worker processes for Nchan (2)
#   PUSHPIN_CONCURRENCY  loadgen --concurrency against Pushpin (64): past
#                  about 100 requests in flight Pushpin's proxy answers 502
#                  (its internal queue to zurl is full); see bench/README.md
#   PUSHPIN_LOG_LEVEL  Pushpin's log_level (1: warnings; 2 logs every request)
#   LOADGEN_ARGS   extra flags for herald_loadgen
#   RESULTS_FILE   also append the RESULT lines to this file
#   KEEP_TMP=1     keep the temp dir (configs and server logs) for a look
#
# Exit status: 0 when every run's load generator exited 0.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
HERALD_BIN=${HERALD_BIN:-$BUILD_DIR/herald}
LOADGEN_BIN=${LOADGEN_BIN:-$BUILD_DIR/bench/herald_loadgen}
SERVERS=${SERVERS:-"herald nchan pushpin"}
SCENARIOS=${SCENARIOS:-"1000 10000"}
EVENTS=${EVENTS:-200}
RATE=${RATE:-50}
TIMEOUT=${TIMEOUT:-120}
HOLD=${HOLD:-1}
NGINX_WORKERS=${NGINX_WORKERS:-2}
PUSHPIN_CONCURRENCY=${PUSHPIN_CONCURRENCY:-64}
LOADGEN_ARGS=${LOADGEN_ARGS:-}
JOB=1  # Pushpin channel job-1; Nchan channel 1; Herald creates its own job.

die() { echo "compare-peers: $*" >&2; exit 2; }

[[ -x $LOADGEN_BIN ]] || die "no load generator at $LOADGEN_BIN (build first, or set LOADGEN_BIN)"
for n in "$EVENTS" "$TIMEOUT" "$NGINX_WORKERS" "$PUSHPIN_CONCURRENCY"; do
  [[ $n =~ ^[0-9]+$ ]] || die "EVENTS, TIMEOUT, NGINX_WORKERS and PUSHPIN_CONCURRENCY must be integers"
done
for s in $SCENARIOS; do
  [[ $s =~ ^[0-9]+(:[0-9]+)?$ ]] || die "bad scenario '$s' (want streams or streams:procs)"
done
for s in $SERVERS; do
  [[ $s == herald || $s == nchan || $s == pushpin ]] || die "unknown server '$s'"
done

# shellcheck source=bench/servers.sh
source "$ROOT/bench/servers.sh"
bench_tmp compare-peers

# --- Pushpin ----------------------------------------------------------------

start_pushpin() {
  local dir=$TMP/pushpin-$1
  mkdir -p "$dir/run" "$dir/log" "$dir/origin"
  PORT=$(free_port) || die "no free port found"
  PUBLISH_PORT=$(free_port) || die "no free port found"
  local origin_port zmq_push zmq_sub zmq_cmd
  origin_port=$(free_port) || die "no free port found"
  zmq_push=$(free_port) || die "no free port found"
  zmq_sub=$(free_port) || die "no free port found"
  zmq_cmd=$(free_port) || die "no free port found"

  # The origin: a static GRIP answer. Every stream request is proxied to it
  # once; it holds the stream open on channel job-{id} with an empty body.
  local odir=$dir/origin
  {
    echo "daemon off;"
    echo "master_process on;"
    echo "worker_processes 1;"
    echo "worker_rlimit_nofile 8192;"
    nginx_common "$odir"
    cat <<EOF
events { worker_connections 4096; }
http {
$(nginx_http_common "$odir")
  server {
    listen 127.0.0.1:$origin_port backlog=4096;
    keepalive_requests 100000;
    location = /healthz { return 200 "ok\n"; }
    location ~ ^/stream/(\w+)$ {
      default_type text/event-stream;
      add_header Grip-Hold stream;
      add_header Grip-Channel job-\$1;
      return 200 "";
    }
  }
}
EOF
  } >"$odir/nginx.conf"
  nginx -p "$odir/" -c "$odir/nginx.conf" -e "$odir/error.log" >"$odir/stdout.log" 2>&1 &
  local origin_pid=$!
  ROOTS+=("$origin_pid")
  origin_healthy() { [[ $(http_status "$origin_port" /healthz) == *" 200"* ]]; }
  wait_ready "$origin_pid" "pushpin origin (nginx)" "$odir/error.log" origin_healthy || return 1

  echo "* 127.0.0.1:$origin_port" >"$dir/routes"
  # The Debian package runs zurl as a system service; here the runner starts
  # its own, with the proxy pointed at its sockets in the temp rundir.
  cat >"$dir/pushpin.conf" <<EOF
[global]
include={libdir}/internal.conf
rundir=$dir/run
ipc_prefix=herald-bench-
port_offset=0
stats_connection_ttl=120

[runner]
services=condure,zurl,pushpin-proxy,pushpin-handler
http_port=127.0.0.1:$PORT
logdir=$dir/log
log_level=${PUSHPIN_LOG_LEVEL:-1}
client_buffer_size=8192
# condure --stream-maxconn
client_maxconn=$NOFILE
condure_bin=condure
mongrel2_bin=mongrel2
m2sh_bin=m2sh
zurl_bin=zurl

[proxy]
routesfile=$dir/routes
zurl_out_specs=ipc://{rundir}/{ipc_prefix}zurl-in
zurl_out_stream_specs=ipc://{rundir}/{ipc_prefix}zurl-in-stream
zurl_in_specs=ipc://{rundir}/{ipc_prefix}zurl-out
debug=false
auto_cross_origin=false
sig_iss=pushpin
sig_key=herald-bench
updates_check=off

[handler]
push_in_spec=tcp://127.0.0.1:$zmq_push
push_in_sub_specs=tcp://127.0.0.1:$zmq_sub
push_in_sub_connect=false
push_in_http_addr=127.0.0.1
push_in_http_port=$PUBLISH_PORT
push_in_http_max_headers_size=10000
push_in_http_max_body_size=1000000
stats_spec=ipc://{rundir}/{ipc_prefix}stats
command_spec=tcp://127.0.0.1:$zmq_cmd
# The handler paces deliveries (to every subscriber) through a rate limiter:
# 2500 messages/s by default, and even a high finite rate adds seconds of
# latency under load here. -1 turns it off (see bench/README.md).
message_rate=-1
message_hwm=10000000
message_wait=5000
id_cache_ttl=60
connection_subscription_max=20
subscription_linger=60
stats_subscription_ttl=60
stats_report_interval=10
stats_format=tnetstring
EOF
  pushpin --config "$dir/pushpin.conf" >"$dir/log/runner.log" 2>&1 &
  SERVER_PID=$!
  ROOTS+=("$SERVER_PID")
  LOG=$dir/log/runner.log
  pushpin_healthy() {
    [[ $(http_status "$PORT" /healthz) == *" 200"* ]] && port_open "$PUBLISH_PORT"
  }
  wait_ready "$SERVER_PID" pushpin "$LOG" pushpin_healthy || return 1
  LOADGEN_MODE_ARGS=(--mode pushpin --job "$JOB" --publish-port "$PUBLISH_PORT"
                     --concurrency "$PUSHPIN_CONCURRENCY")
}

installed() {
  case $1 in
    herald) [[ -x $HERALD_BIN ]] ;;
    nchan) command -v nginx >/dev/null && [[ -f $NCHAN_MODULE ]] ;;
    pushpin) command -v nginx >/dev/null && command -v pushpin >/dev/null &&
             command -v condure >/dev/null && command -v zurl >/dev/null ;;
  esac
}

status=0
results=()
add_result() {
  results+=("$1")
  if [[ -n ${RESULTS_FILE:-} ]]; then echo "$1" >>"$RESULTS_FILE"; fi
}

for scenario in $SCENARIOS; do
  streams=${scenario%%:*}
  if [[ $scenario == *:* ]]; then
    procs=${scenario##*:}
  else
    procs=$(((streams + 4999) / 5000))
  fi
  for server in $SERVERS; do
    echo
    echo "compare-peers: $server: $streams streams, $procs process(es), $EVENTS events at $RATE/s"
    if ! installed "$server"; then
      echo "compare-peers: $server is not installed (run bench/install-peers)" >&2
      add_result "RESULT server=$server streams=$streams procs=$procs error=not_installed"
      status=1
      continue
    fi
    LOADGEN_MODE_ARGS=()
    if ! "start_$server" "$streams"; then
      add_result "RESULT server=$server streams=$streams procs=$procs error=start_failed"
      status=1
      stop_all
      continue
    fi
    sleep 1  # Let the server settle before the baseline RSS sample.
    out="$TMP/loadgen-$server-$streams.out"
    rc=0
    # shellcheck disable=SC2086  # LOADGEN_ARGS is a list of flags.
    timeout --kill-after=5 $((TIMEOUT + 30)) "$LOADGEN_BIN" \
      --host 127.0.0.1 --port "$PORT" "${LOADGEN_MODE_ARGS[@]}" \
      --streams "$streams" --procs "$procs" --events "$EVENTS" --rate "$RATE" \
      --hold "$HOLD" --timeout "$TIMEOUT" --server-pid "$SERVER_PID" --server-tree 1 \
      $LOADGEN_ARGS >"$out" || rc=$?
    cat "$out"
    line=$(grep '^RESULT ' "$out" || true)
    if [[ -n $line ]]; then
      line="RESULT server=$server ${line#RESULT }"
    else
      line="RESULT server=$server streams=$streams procs=$procs error=no_result rc=$rc"
    fi
    add_result "$line"
    if ((rc != 0)); then
      status=1
      echo "compare-peers: herald_loadgen exited $rc against $server" >&2
    fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "compare-peers: $server died; last log lines:" >&2
      tail -n 20 "$LOG" >&2 || true
      status=1
    fi
    stop_all
  done
done

echo
echo "compare-peers: results"
printf '%s\n' "${results[@]}"
exit $status
