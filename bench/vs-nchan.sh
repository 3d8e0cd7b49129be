#!/usr/bin/env bash
# Runs issue 9's scenarios against Herald and nginx + Nchan side by side: the
# same herald_loadgen, the same machine, the same session, a fresh server per
# run. Prints one RESULT line per run, tagged scenario=, server= and rep=,
# and with REPEAT above 1 the medians and Herald/Nchan ratios
# (bench/medians.sh).
#
#   bench/vs-nchan.sh SCENARIO...      (or: all)
#
# Scenarios (full size; see bench/README.md for what each measures):
#   many-jobs   10,000 jobs x 1 stream; open loop, 10,000 updates/s over 32
#               connections for 10 s, then "completed" per job
#   fanout      1 job x 1,000 streams; closed loop on 1 connection for 10 s
#   storm       19,000 streams on 1 job, 10 updates/s; all cut at 5 s and
#               resumed with Last-Event-ID; fails on a gap or a duplicate
#   storm-jobs  the same over 100 jobs (190 streams each), 10 updates/s per job
#               (1,000/s in all, on 4 connections)
#   procs       100,000 idle streams over 6 herald serve on one port (Redis,
#               shared SQLite) / 6 nginx workers; connects/s, CPU and RSS per stream
#   memory      19,000 idle streams on one process (Nchan: 1 nginx worker)
#   width       10,000 streams on 1 job, 2 updates/s for 20 s
#
# Environment (all optional; a size set here applies to every scenario named):
#   REPEAT         runs per scenario and server, alternating servers (1)
#   SERVERS        "herald nchan"
#   STREAMS PROCS JOBS RATE DURATION EVENTS PUBLISHERS BATCH HOLD RETRIES
#   STORM_AFTER STORM_TAIL STORM_CONCURRENCY STORM_DELAY TIMEOUT
#                  override the scenario's sizes (loadgen flags of the same name)
#   HERALD_PROCS   herald serve processes (procs: 6, else 1)
#   NGINX_WORKERS  nginx workers for Nchan (procs: 6, memory: 1, else 2)
#   NCHAN_BUFFER   messages Nchan keeps per channel (storm: 1000, else 10)
#   HERALD_ENV     extra VAR=value words for herald serve
#   LOADGEN_ARGS   extra flags for every herald_loadgen run
#   BUILD_DIR, HERALD_BIN, LOADGEN_BIN   (<repo>/build, $BUILD_DIR/herald,
#                  $BUILD_DIR/bench/herald_loadgen)
#   RESULTS_FILE   also append the RESULT lines to this file
#   KEEP_TMP=1     keep the temp dir (configs, server logs, loadgen output)
#
# Exit status: 0 when every loadgen run exited 0 (a storm run exits 1 on a
# gap or a duplicate); 1 otherwise; 2 for bad usage.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
HERALD_BIN=${HERALD_BIN:-$BUILD_DIR/herald}
LOADGEN_BIN=${LOADGEN_BIN:-$BUILD_DIR/bench/herald_loadgen}
SERVERS=${SERVERS:-"herald nchan"}
REPEAT=${REPEAT:-1}
LOADGEN_ARGS=${LOADGEN_ARGS:-}
ALL="many-jobs fanout storm storm-jobs procs memory width"

die() { echo "vs-nchan: $*" >&2; exit 2; }

(($# > 0)) || die "name one or more scenarios: $ALL (or all)"
scenarios=()
for s in "$@"; do
  if [[ $s == all ]]; then
    read -ra more <<<"$ALL"
    scenarios+=("${more[@]}")
  elif [[ " $ALL " == *" $s "* ]]; then
    scenarios+=("$s")
  else
    die "unknown scenario '$s' (one of: $ALL, all)"
  fi
done
[[ $REPEAT =~ ^[1-9][0-9]*$ ]] || die "REPEAT must be a positive integer"
for s in $SERVERS; do [[ $s == herald || $s == nchan ]] || die "unknown server '$s'"; done
[[ -x $LOADGEN_BIN ]] || die "no load generator at $LOADGEN_BIN (build first, or set LOADGEN_BIN)"

# shellcheck source=bench/servers.sh
source "$ROOT/bench/servers.sh"
bench_tmp vs-nchan

# Sets the scenario's sizes: its defaults, then the environment's overrides.
# S_* are loadgen flags; the server knobs are set per server in run_one.
configure() {
  local d_streams d_procs d_jobs=1 d_rate=0 d_duration=0 d_events=0 d_publishers=1
  local d_hold=1 d_retries=3 d_storm_after=0 d_storm_tail=3 d_timeout=120
  D_HERALD_PROCS=1 D_NGINX_WORKERS=2 D_NCHAN_BUFFER=10
  case $1 in
    many-jobs)
      d_streams=10000 d_procs=2 d_jobs=10000 d_rate=10000 d_duration=10 d_publishers=32 ;;
    fanout)
      d_streams=1000 d_procs=1 d_rate=0 d_duration=10 d_publishers=1 d_timeout=60 ;;
    storm)
      d_streams=19000 d_procs=4 d_rate=10 d_storm_after=5 d_storm_tail=3 d_retries=20
      D_NCHAN_BUFFER=1000 ;;
    storm-jobs)
      d_streams=19000 d_procs=4 d_jobs=100 d_rate=1000 d_publishers=4 d_storm_after=5 d_storm_tail=3
      d_retries=20 D_NCHAN_BUFFER=1000 ;;
    procs)
      d_streams=100000 d_procs=6 d_rate=1 d_events=2 d_hold=5 d_retries=5 d_timeout=300
      D_HERALD_PROCS=6 D_NGINX_WORKERS=6 ;;
    memory)
      d_streams=19000 d_procs=4 d_events=0 d_hold=5 D_NGINX_WORKERS=1 ;;
    width)
      d_streams=10000 d_procs=2 d_rate=2 d_events=40 ;;
  esac
  S_STREAMS=${STREAMS:-$d_streams}
  S_PROCS=${PROCS:-$d_procs}
  S_JOBS=${JOBS:-$d_jobs}
  S_RATE=${RATE:-$d_rate}
  S_DURATION=${DURATION:-$d_duration}
  S_EVENTS=${EVENTS:-$d_events}
  S_PUBLISHERS=${PUBLISHERS:-$d_publishers}
  S_BATCH=${BATCH:-0}
  S_HOLD=${HOLD:-$d_hold}
  S_RETRIES=${RETRIES:-$d_retries}
  S_STORM_AFTER=${STORM_AFTER:-$d_storm_after}
  S_STORM_TAIL=${STORM_TAIL:-$d_storm_tail}
  S_STORM_CONCURRENCY=${STORM_CONCURRENCY:-0}
  S_STORM_DELAY=${STORM_DELAY:-0}
  S_TIMEOUT=${TIMEOUT:-$d_timeout}
  [[ $S_TIMEOUT =~ ^[0-9]+$ ]] || die "TIMEOUT must be an integer"
}

# The loadgen flags for the scenario, shared by both servers.
loadgen_args() {
  LG=(--host 127.0.0.1 --port "$PORT" "${LOADGEN_MODE_ARGS[@]}"
      --streams "$S_STREAMS" --procs "$S_PROCS" --jobs "$S_JOBS" --rate "$S_RATE"
      --publishers "$S_PUBLISHERS" --hold "$S_HOLD" --retries "$S_RETRIES"
      --timeout "$S_TIMEOUT" --server-pid "$SERVER_PIDS" --server-tree 1)
  if [[ $S_STORM_AFTER != 0 ]]; then
    # The storm publishes until every stream has resumed, plus the tail.
    LG+=(--storm-after "$S_STORM_AFTER" --storm-tail "$S_STORM_TAIL"
         --storm-concurrency "$S_STORM_CONCURRENCY" --storm-delay "$S_STORM_DELAY")
  elif [[ $S_DURATION != 0 ]]; then
    LG+=(--duration "$S_DURATION")
  else
    LG+=(--events "$S_EVENTS")
  fi
  # The batch endpoint is Herald's; Nchan gets the same updates one by one.
  if [[ $1 == herald && $S_BATCH != 0 ]]; then LG+=(--batch "$S_BATCH"); fi
}

status=0
results=()
# Herald only (one process): where its progress streams started, from
# /metrics: from a live job's in-memory window (no database read) or from a
# store read of their own, and how many windows were loaded.
herald_window_figures() {
  [[ $1 == herald && ${HERALD_PROCS:-1} == 1 ]] || return 0
  local m
  m=$(curl -s --max-time 5 "http://127.0.0.1:$PORT/metrics" 2>/dev/null) || return 0
  awk '/^herald_sse_stream_starts_total\{from="window"\}/ { w = $2 }
       /^herald_sse_stream_starts_total\{from="store"\}/ { s = $2 }
       /^herald_sse_window_loads_total/ { l = $2 }
       END { if (w != "") printf " starts_window=%s starts_store=%s window_loads=%s", w, s, l }' <<<"$m"
}

add_result() {
  results+=("$1")
  echo "$1"
  if [[ -n ${RESULTS_FILE:-} ]]; then echo "$1" >>"$RESULTS_FILE"; fi
}

# Runs scenario $1 against server $2, repetition $3.
run_one() {
  local scenario=$1 server=$2 rep=$3 tag out rc=0 line
  tag="scenario=$scenario server=$server rep=$rep"
  echo
  echo "vs-nchan: $scenario against $server (run $rep of $REPEAT)"
  case $server in
    herald) HERALD_PROCS=${HERALD_PROCS_SET:-$D_HERALD_PROCS} ;;
    nchan)
      NGINX_WORKERS=${NGINX_WORKERS_SET:-$D_NGINX_WORKERS}
      NCHAN_BUFFER=${NCHAN_BUFFER_SET:-$D_NCHAN_BUFFER}
      if ! command -v nginx >/dev/null || [[ ! -f $NCHAN_MODULE ]]; then
        echo "vs-nchan: nginx or its Nchan module is missing (run bench/install-peers)" >&2
        add_result "RESULT $tag error=not_installed"
        status=1
        return
      fi ;;
  esac
  LOADGEN_MODE_ARGS=()
  if ! "start_$server" "$scenario-$rep"; then
    add_result "RESULT $tag error=start_failed"
    status=1
    stop_all
    return
  fi
  sleep 1  # Let the server settle before the baseline RSS sample.
  loadgen_args "$server"
  out="$TMP/loadgen-$scenario-$server-$rep.out"
  # shellcheck disable=SC2086  # LOADGEN_ARGS is a list of flags.
  timeout --kill-after=5 $((S_TIMEOUT + 30)) "$LOADGEN_BIN" "${LG[@]}" $LOADGEN_ARGS \
    >"$out" || rc=$?
  cat "$out"
  line=$(grep '^RESULT ' "$out" || true)
  if [[ -n $line ]]; then
    line="RESULT $tag ${line#RESULT }$(herald_window_figures "$server")"
  else
    line="RESULT $tag error=no_result rc=$rc"
  fi
  ((rc == 0)) || line+=" rc=$rc"
  add_result "$line"
  if ((rc != 0)); then
    status=1
    echo "vs-nchan: herald_loadgen exited $rc ($scenario, $server)" >&2
  fi
  local p
  for p in ${SERVER_PIDS//,/ }; do
    if ! kill -0 "$p" 2>/dev/null; then
      echo "vs-nchan: $server process $p died; last log lines:" >&2
      tail -n 20 "$LOG" >&2 || true
      status=1
    fi
  done
  stop_all
}

# What the caller set explicitly wins over the scenario's server knobs.
HERALD_PROCS_SET=${HERALD_PROCS:-}
NGINX_WORKERS_SET=${NGINX_WORKERS:-}
NCHAN_BUFFER_SET=${NCHAN_BUFFER:-}

for scenario in "${scenarios[@]}"; do
  configure "$scenario"
  for ((rep = 1; rep <= REPEAT; rep++)); do
    for server in $SERVERS; do run_one "$scenario" "$server" "$rep"; done
  done
done

echo
echo "vs-nchan: results"
printf '%s\n' "${results[@]}"
if ((REPEAT > 1)); then
  echo
  printf '%s\n' "${results[@]}" | "$ROOT/bench/medians.sh"
fi
exit $status
