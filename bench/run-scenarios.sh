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

die() { echo "run-scenarios: $*" >&2; exit 2; }

[[ -x $HERALD_BIN ]] || die "no server binary at $HERALD_BIN (build first, or set HERALD_BIN)"
[[ -x $LOADGEN_BIN ]] || die "no load generator at $LOADGEN_BIN (build first, or set LOADGEN_BIN)"
for n in "$EVENTS" "$TIMEOUT"; do [[ $n =~ ^[0-9]+$ ]] || die "EVENTS and TIMEOUT must be integers"; done
for s in $SCENARIOS; do [[ $s =~ ^[0-9]+:[0-9]+$ ]] || die "bad scenario '$s' (want streams:procs)"; done

# Starting and stopping Herald is shared with the other benchmark scripts.
# shellcheck source=bench/servers.sh
source "$ROOT/bench/servers.sh"
bench_tmp run-scenarios

export SSE_HEARTBEAT_SECONDS=$HEARTBEAT HERALD_LOG_LEVEL=$LOG_LEVEL
echo "run-scenarios: starting $HERALD_BIN (db in $TMP)"
start_herald run || die "Herald did not start"
TOKEN=$HERALD_TOKEN

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
    tail -n 20 "$LOG" >&2
    status=1
    break
  fi
done

echo
echo "run-scenarios: results"
printf '%s\n' "${results[@]}"
exit $status
