#!/usr/bin/env bash
# The soak (issue 10): one `herald serve` holds STREAMS streams for DURATION
# seconds while updates flow at RATE per second and CHURN_PERCENT of the
# streams are replaced every minute (a batch of clients leaves, a new batch
# arrives), sampling the server's VmRSS every SAMPLE seconds. At the end it
# prints the samples' spread after WARMUP seconds: a leak shows as RSS that
# keeps growing; the goal is flat within +-5%.
#
# The warm-up (15 min) is the time the bounded caches take to fill: each
# job's replay window holds its last 64 events, and at RATE 10/s over 100
# jobs a job gets one every 10 s, so the windows are full after 640 s (and
# SQLite's page cache meanwhile). Growth before that is the windows filling;
# growth after it would be a leak.
#
#   make build
#   bench/soak.sh                      # the hour: 19,000 streams, 10%/min
#   DURATION=300 STREAMS=2000 bench/soak.sh   # a quick check of the script
#
# Environment: STREAMS (19000), DURATION (3600), RATE (10), JOBS (100),
# CHURN_PERCENT (10), SAMPLE (10), WARMUP (900), PROCS (4: receiver
# processes for the steady streams), RESULTS_FILE (also append the summary
# there), KEEP_TMP=1 (keep logs and samples).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
HERALD_BIN=${HERALD_BIN:-$BUILD_DIR/herald}
LOADGEN_BIN=${LOADGEN_BIN:-$BUILD_DIR/bench/herald_loadgen}
STREAMS=${STREAMS:-19000}
DURATION=${DURATION:-3600}
RATE=${RATE:-10}
JOBS=${JOBS:-100}
CHURN_PERCENT=${CHURN_PERCENT:-10}
SAMPLE=${SAMPLE:-10}
WARMUP=${WARMUP:-900}
PROCS=${PROCS:-4}

die() { echo "soak: $*" >&2; exit 2; }
for v in STREAMS DURATION RATE JOBS CHURN_PERCENT SAMPLE WARMUP PROCS; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number, not '${!v}'"
done
((DURATION > WARMUP)) || die "DURATION ($DURATION) must exceed WARMUP ($WARMUP)"
((CHURN_PERCENT < 100)) || die "CHURN_PERCENT must be below 100"
[[ -x $HERALD_BIN && -x $LOADGEN_BIN ]] || die "build first (make build): $HERALD_BIN, $LOADGEN_BIN"

# shellcheck source=bench/servers.sh
source "$ROOT/bench/servers.sh"
bench_tmp soak
churned=$((STREAMS * CHURN_PERCENT / 100))
steady=$((STREAMS - churned))

# Streams stay open for the whole run: SSE_MAX_DURATION (3600 s by default)
# would end every one of them with "Stream timeout" just before the final
# "completed" events (the first hour's run lost the terminal event of
# 16,416 streams that way, and only that).
HERALD_ENV="${HERALD_ENV:-} SSE_MAX_DURATION=$((DURATION + 600))"
start_herald "soak" || die "herald did not start"
pid=${SERVER_PIDS%%,*}
echo "soak: herald pid $pid on port $PORT; $steady steady + $churned churned streams," \
  "$RATE updates/s over $JOBS jobs for $DURATION s"

# The steady clients: create the jobs, hold their streams, publish for the
# whole run (open loop), then end every job with "completed".
timeout --kill-after=10 $((DURATION + 120)) "$LOADGEN_BIN" --host 127.0.0.1 --port "$PORT" \
  "${LOADGEN_MODE_ARGS[@]}" --streams "$steady" --procs "$PROCS" --jobs "$JOBS" \
  --rate "$RATE" --duration "$DURATION" --timeout $((DURATION + 60)) \
  --server-pid "$pid" >"$TMP/steady.out" 2>&1 &
steady_pid=$!

# The churn: every minute a batch of clients leaves and a new batch takes its
# place, so the server holds STREAMS streams throughout, never more (19,000
# plus an overlapping batch would pass the 20,000 open files a process may
# have). Each batch connects, stays ~57 s and leaves; the next starts when it
# is gone. They watch job 1, the steady run's first (the load generator
# watches one given job unless it creates them), so they receive its updates
# meanwhile.
churn_args=(--host 127.0.0.1 --port "$PORT" --mode herald --token "$HERALD_TOKEN"
            --streams "$churned" --procs 1 --job 1 --events 0 --hold 57
            --timeout 120)
(
  sleep 5  # let the steady run create the jobs
  end=$((SECONDS + DURATION - 65))
  round=0
  while ((SECONDS < end && churned > 0)); do
    round=$((round + 1))
    "$LOADGEN_BIN" "${churn_args[@]}" >"$TMP/churn-$round.out" 2>&1 || true
  done
) &
churn_pid=$!

# VmRSS every SAMPLE seconds: "seconds kB".
samples="$TMP/rss.txt"
start=$SECONDS
while kill -0 "$steady_pid" 2>/dev/null && ((SECONDS - start < DURATION + 120)); do
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo "")
  [[ -n $rss ]] && echo "$((SECONDS - start)) $rss" >>"$samples"
  sleep "$SAMPLE"
done
wait "$steady_pid" || echo "soak: the steady load generator exited $?" >&2
wait "$churn_pid" || true

grep '^RESULT ' "$TMP/steady.out" | sed 's/^/steady: /' || echo "soak: no RESULT from the steady run" >&2
churn_failed=$(cat "$TMP"/churn-*.out 2>/dev/null | grep -o 'failed=[0-9]*' | awk -F= '{s += $2} END {print s + 0}')
churn_rounds=$(find "$TMP" -name 'churn-*.out' | wc -l)

# After the warm-up: min, median, max and the spread around the median.
summary=$(awk -v warm="$WARMUP" '$1 >= warm {print $2}' "$samples" | sort -n | awk '
  { v[NR] = $1 }
  END {
    if (NR == 0) { print "no samples after the warm-up"; exit }
    med = v[int((NR + 1) / 2)]
    printf "SOAK samples=%d rss_min_kb=%d rss_median_kb=%d rss_max_kb=%d", NR, v[1], med, v[NR]
    printf " spread_minus_pct=%.1f spread_plus_pct=%.1f\n", 100 * (v[1] - med) / med, 100 * (v[NR] - med) / med
  }')
line="$summary streams=$STREAMS churn_percent=$CHURN_PERCENT churn_rounds=$churn_rounds churn_failed=$churn_failed duration_s=$DURATION rate=$RATE"
echo "$line"
if [[ -n ${RESULTS_FILE:-} ]]; then echo "$line" >>"$RESULTS_FILE"; fi
stop_all
