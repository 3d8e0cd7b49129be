#!/usr/bin/env bash
# Runs the standard SSE load scenarios against a freshly started Herald.
#
# Needs a built tree: build/herald and build/bench/herald_loadgen. Starts
# `herald serve` on a free loopback port with a throwaway SQLite database,
# mints an admin token, and for every scenario creates a job and runs the
# load generator against it; prints each RESULT line; stops the server and
# removes its temp dir. Every step is bounded in time.
#
# Environment (all optional):
#   BUILD_DIR      build tree (<repo>/build)
#   HERALD_BIN     server binary ($BUILD_DIR/herald)
#   LOADGEN_BIN    load generator ($BUILD_DIR/bench/herald_loadgen)
#   SCENARIOS      "streams:procs ..." ("1000:1 10000:2 19000:4")
#   EVENTS         updates per scenario (200)
#   RATE           updates per second (50)
#   TIMEOUT        seconds per scenario, passed to --timeout (120)
#   HOLD           idle seconds before publishing, --hold (0)
#   LOADGEN_ARGS   extra flags for herald_loadgen
#   SSE_HEARTBEAT_SECONDS (30), HERALD_LOG_LEVEL (warn): passed to the server
#   (which also gets HERALD_MAX_STREAMS_PER_USER=0: every stream uses one token)
#   RESULTS_FILE   also append the RESULT lines to this file
#
# Exit status: 0 when every scenario's load generator exited 0.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
HERALD_BIN=${HERALD_BIN:-$BUILD_DIR/herald}
LOADGEN_BIN=${LOADGEN_BIN:-$BUILD_DIR/bench/herald_loadgen}
SCENARIOS=${SCENARIOS:-"1000:1 10000:2 19000:4"}
EVENTS=${EVENTS:-200}
RATE=${RATE:-50}
TIMEOUT=${TIMEOUT:-120}
HOLD=${HOLD:-0}
LOADGEN_ARGS=${LOADGEN_ARGS:-}
HEARTBEAT=${SSE_HEARTBEAT_SECONDS:-30}
LOG_LEVEL=${HERALD_LOG_LEVEL:-warn}
STARTUP_SECONDS=30
STOP_SECONDS=10

die() { echo "run-scenarios: $*" >&2; exit 2; }

[[ -x $HERALD_BIN ]] || die "no server binary at $HERALD_BIN (build first, or set HERALD_BIN)"
[[ -x $LOADGEN_BIN ]] || die "no load generator at $LOADGEN_BIN (build first, or set LOADGEN_BIN)"
for n in "$EVENTS" "$TIMEOUT"; do [[ $n =~ ^[0-9]+$ ]] || die "EVENTS and TIMEOUT must be integers"; done
for s in $SCENARIOS; do [[ $s =~ ^[0-9]+:[0-9]+$ ]] || die "bad scenario '$s' (want streams:procs)"; done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/herald-bench.XXXXXX")
SERVER_PID=""

# shellcheck disable=SC2317  # Invoked by the EXIT trap.
cleanup() {
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq $((STOP_SECONDS * 10))); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A port below the ephemeral range that nobody listens on.
free_port() {
  local p
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 12000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

# First line of GET /healthz, e.g. "HTTP/1.1 200 OK".
# shellcheck disable=SC2016  # The inner script expands $1 itself.
healthz() {
  timeout 2 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n\r\n" "$1" >&3
    head -n1 <&3' _ "$1" 2>/dev/null || true
}

PORT=$(free_port) || die "no free port found"
SECRET=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')

# Each process may hold at most the hard limit of open files.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

echo "run-scenarios: starting $HERALD_BIN on 127.0.0.1:$PORT (db in $TMP)"
HERALD_LISTEN="127.0.0.1:$PORT" \
DATABASE_URL="sqlite://$TMP/herald.db" \
SSE_HEARTBEAT_SECONDS="$HEARTBEAT" \
HERALD_LOG_LEVEL="$LOG_LEVEL" \
HERALD_MAX_STREAMS_PER_USER=0 \
JWT_SECRET="$SECRET" \
  "$HERALD_BIN" serve >"$TMP/server.log" 2>&1 &
SERVER_PID=$!

ready=""
for _ in $(seq $((STARTUP_SECONDS * 5))); do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    cat "$TMP/server.log" >&2
    die "server exited during startup"
  fi
  if [[ $(healthz "$PORT") == *" 200"* ]]; then
    ready=1
    break
  fi
  sleep 0.2
done
if [[ -z $ready ]]; then
  tail -n 20 "$TMP/server.log" >&2
  die "server not healthy after ${STARTUP_SECONDS}s"
fi

TOKEN=$(JWT_SECRET="$SECRET" timeout 10 "$HERALD_BIN" token --sub bench --role admin 2>/dev/null |
        grep -oE '[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+' | head -n1) || true
[[ -n $TOKEN ]] || die "could not mint a token with '$HERALD_BIN token --sub bench --role admin'"

status=0
results=()
for scenario in $SCENARIOS; do
  streams=${scenario%%:*}
  procs=${scenario##*:}
  echo
  echo "run-scenarios: $streams streams, $procs process(es), $EVENTS events at $RATE/s"
  out="$TMP/loadgen-$streams.out"
  rc=0
  # shellcheck disable=SC2086  # LOADGEN_ARGS is a list of flags.
  timeout --kill-after=5 $((TIMEOUT + 30)) "$LOADGEN_BIN" \
    --host 127.0.0.1 --port "$PORT" --token "$TOKEN" --create \
    --streams "$streams" --procs "$procs" --events "$EVENTS" --rate "$RATE" \
    --hold "$HOLD" --timeout "$TIMEOUT" --server-pid "$SERVER_PID" $LOADGEN_ARGS \
    >"$out" || rc=$?
  cat "$out"
  line=$(grep '^RESULT ' "$out" || true)
  [[ -n $line ]] || line="RESULT streams=$streams procs=$procs error=no_result rc=$rc"
  results+=("$line")
  if [[ -n ${RESULTS_FILE:-} ]]; then echo "$line" >>"$RESULTS_FILE"; fi
  if ((rc != 0)); then
    status=1
    echo "run-scenarios: herald_loadgen exited $rc" >&2
  fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "run-scenarios: the server died; last log lines:" >&2
    tail -n 20 "$TMP/server.log" >&2
    status=1
    break
  fi
done

echo
echo "run-scenarios: results"
printf '%s\n' "${results[@]}"
exit $status
