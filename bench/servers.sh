# shellcheck shell=bash
# shellcheck disable=SC2317,SC2034  # Functions and variables here are used by the scripts that source this.
# Starting and stopping the servers the benchmark scripts measure, on free
# loopback ports with configs and logs in the caller's temp dir. Sourced by
# bench/compare-peers.sh, bench/vs-nchan.sh and bench/run-scenarios.sh; not
# a script of its own.
#
# The caller calls bench_tmp NAME first: it makes the temp dir TMP and, on
# exit, stops whatever was started and removes TMP. Every start_* function:
#   - appends the root pid(s) it started to ROOTS, so that stop_all stops
#     them (and only them) even when the caller is interrupted;
#   - sets PORT (streams), PUBLISH_PORT, SERVER_PID (the first root),
#     SERVER_PIDS (comma list of the processes whose RSS and CPU count, each
#     with its descendants: pass it to herald_loadgen --server-pid with
#     --server-tree 1), LOG, and LOADGEN_MODE_ARGS (the loadgen's --mode flags);
#   - returns non-zero, with the log's tail on stderr, when the server does
#     not come up within STARTUP_SECONDS.
#
# Knobs read from the environment when a start_* runs:
#   HERALD_BIN           the server binary
#   HERALD_PROCS         herald serve processes on one port (1); above 1 they
#                        run with HERALD_REUSE_PORT=1 and SSE_SOURCE=redis on a
#                        throwaway redis-server started here, sharing one SQLite
#                        database
#   HERALD_ENV           extra VAR=value words for herald serve
#   HERALD_DB            sqlite (default: a file in the temp dir) or postgres (a
#                        throwaway PostgreSQL cluster started here with initdb,
#                        default settings: fsync and synchronous_commit on)
#   NGINX_WORKERS        nginx worker processes for Nchan (2)
#   NCHAN_BUFFER         nchan_message_buffer_length per channel (10)
#   NCHAN_MODULE         path of ngx_nchan_module.so

STARTUP_SECONDS=${STARTUP_SECONDS:-30}
STOP_SECONDS=${STOP_SECONDS:-10}
NCHAN_MODULE=${NCHAN_MODULE:-/usr/lib/nginx/modules/ngx_nchan_module.so}
ROOTS=()  # Root pids of what was started here, still to be stopped.

# Each process may hold at most the hard limit of open files; the servers
# inherit it.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)
[[ $NOFILE =~ ^[0-9]+$ ]] || NOFILE=20000

# Descendant pids of $1, from ps.
descendants() {
  ps -e -o pid=,ppid= | awk -v root="$1" '
    { parent[$1] = $2; pids[NR] = $1 }
    END {
      want[root] = 1
      do {
        added = 0
        for (i in pids) {
          p = pids[i]
          if (!(p in want) && (parent[p] in want)) { want[p] = 1; print p; added = 1 }
        }
      } while (added)
    }'
}

# Stops the process tree under $1: TERM to the root (nginx and the pushpin
# runner stop their own children), then KILL to whatever of the tree as seen
# before is still there with the same name after STOP_SECONDS.
stop_tree() {
  local root=$1 p
  kill -0 "$root" 2>/dev/null || { wait "$root" 2>/dev/null || true; return 0; }
  local -a tree=()
  local -A comm=()
  for p in "$root" $(descendants "$root"); do
    tree+=("$p")
    comm[$p]=$(cat "/proc/$p/comm" 2>/dev/null || true)
  done
  kill -TERM "$root" 2>/dev/null || true
  for _ in $(seq $((STOP_SECONDS * 10))); do
    local alive=""
    for p in "${tree[@]}"; do
      if [[ -n ${comm[$p]} && $(cat "/proc/$p/comm" 2>/dev/null || true) == "${comm[$p]}" ]]; then
        alive=1
        break
      fi
    done
    [[ -z $alive ]] && break
    # Reap the root as soon as it exits so that it leaves no zombie behind.
    kill -0 "$root" 2>/dev/null || wait "$root" 2>/dev/null || true
    sleep 0.1
  done
  for p in "${tree[@]}"; do
    if [[ -n ${comm[$p]} && $(cat "/proc/$p/comm" 2>/dev/null || true) == "${comm[$p]}" ]]; then
      kill -KILL "$p" 2>/dev/null || true
    fi
  done
  wait "$root" 2>/dev/null || true
}

# Stops everything started here, newest first. All roots get TERM at once
# first, so that several herald processes drain (HERALD_DRAIN_SECONDS)
# side by side rather than one after the other.
# Makes TMP ($TMPDIR/herald-NAME.XXXXXX) and installs the exit trap that
# stops every server started here and removes TMP (KEEP_TMP=1 keeps it,
# and says where). $1: NAME, also the name in that message.
bench_tmp() {
  BENCH_NAME=$1
  TMP=$(mktemp -d "${TMPDIR:-/tmp}/herald-$BENCH_NAME.XXXXXX")
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}
bench_cleanup() {
  stop_all
  if [[ -n ${KEEP_TMP:-} ]]; then
    echo "$BENCH_NAME: kept $TMP" >&2
  else
    rm -rf "$TMP"
  fi
}

stop_all() {
  local i
  for ((i = ${#ROOTS[@]} - 1; i >= 0; i--)); do kill -TERM "${ROOTS[i]}" 2>/dev/null || true; done
  for ((i = ${#ROOTS[@]} - 1; i >= 0; i--)); do stop_tree "${ROOTS[i]}"; done
  ROOTS=()
}

# A port below the ephemeral range that nobody listens on and that this run
# has not handed out yet.
USED_PORTS=" "
free_port() {
  local p
  for _ in $(seq 500); do
    p=$((20000 + RANDOM % 12000))
    [[ $USED_PORTS == *" $p "* ]] && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      USED_PORTS+="$p "
      echo "$p"
      return 0
    fi
  done
  return 1
}

# First line of `GET $2` on 127.0.0.1:$1, e.g. "HTTP/1.1 200 OK".
# shellcheck disable=SC2016  # The inner script expands $1 and $2 itself.
http_status() {
  timeout 2 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n\r\n" "$2" "$1" >&3
    head -n1 <&3' _ "$1" "$2" 2>/dev/null || true
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Waits until `check` succeeds while pid $1 lives; $2 names the server, $3 its log.
wait_ready() {
  local pid=$1 name=$2 log=$3
  shift 3
  for _ in $(seq $((STARTUP_SECONDS * 5))); do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$log" >&2 || true
      echo "$name exited during startup" >&2
      return 1
    fi
    if "$@"; then return 0; fi
    sleep 0.2
  done
  tail -n 20 "$log" >&2 || true
  echo "$name not ready after ${STARTUP_SECONDS}s" >&2
  return 1
}

# nginx temp paths and pid inside $1, so nothing touches /var.
nginx_common() {
  local dir=$1
  echo "pid $dir/nginx.pid;"
  echo "error_log $dir/error.log warn;"
}
nginx_http_common() {
  local dir=$1
  echo "  access_log off;"
  echo "  client_body_temp_path $dir/client_body;"
  echo "  proxy_temp_path $dir/proxy;"
  echo "  fastcgi_temp_path $dir/fastcgi;"
  echo "  uwsgi_temp_path $dir/uwsgi;"
  echo "  scgi_temp_path $dir/scgi;"
}

# --- Redis (for several Herald processes) ----------------------------------

# Starts a throwaway redis-server in $1 on a free loopback port, nothing
# saved. Sets REDIS_PORT.
start_redis() {
  local dir=$1
  mkdir -p "$dir"
  REDIS_PORT=$(free_port) || { echo "no free port found" >&2; return 1; }
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir "$dir" --maxclients 4096 --loglevel warning >"$dir/redis.log" 2>&1 &
  local pid=$!
  ROOTS+=("$pid")
  redis_up() { [[ $(timeout 2 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]; }
  wait_ready "$pid" redis-server "$dir/redis.log" redis_up
}

# --- PostgreSQL (HERALD_DB=postgres) ------------------------------------------

# Starts a throwaway PostgreSQL cluster in $1 on a free loopback port with
# its default durability settings. Sets PG_URL.
start_postgres() {
  local dir=$1 bin
  bin=$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n1)
  [[ -x $bin/initdb ]] || { echo "no PostgreSQL server binaries under /usr/lib/postgresql" >&2; return 1; }
  mkdir -p "$dir"
  local -a as=()
  if ((EUID == 0)); then
    # PostgreSQL refuses to run as root: its user must reach the directory.
    chown postgres: "$dir" || return 1
    chmod o+x "$TMP" "$(dirname "$dir")" || return 1
    as=(runuser -u postgres --)
  fi
  local port
  port=$(free_port) || { echo "no free port found" >&2; return 1; }
  "${as[@]}" "$bin/initdb" -D "$dir/data" -U herald -A trust -E UTF8 --locale=C \
    >"$dir/initdb.log" 2>&1 || { tail -n 20 "$dir/initdb.log" >&2; return 1; }
  "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t "$STARTUP_SECONDS" \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" start \
    >"$dir/pg_ctl.log" 2>&1 || { tail -n 20 "$dir/server.log" >&2; return 1; }
  ROOTS+=("$(head -n1 "$dir/data/postmaster.pid")")
  "${as[@]}" "$bin/createdb" -h 127.0.0.1 -p "$port" -U herald herald || return 1
  PG_URL="postgresql://herald@127.0.0.1:$port/herald"
}

# --- Herald -------------------------------------------------------------------

# As the other scripts start it: temporary SQLite database, warn logging, no
# in-process audit workers, no per-user stream cap, an admin token
# (HERALD_TOKEN).
HERALD_TOKEN=""
start_herald() {
  local dir=$TMP/herald-$1
  local procs=${HERALD_PROCS:-1} i
  mkdir -p "$dir"
  [[ -x $HERALD_BIN ]] || { echo "no Herald binary at $HERALD_BIN" >&2; return 1; }
  PORT=$(free_port) || { echo "no free port found" >&2; return 1; }
  PUBLISH_PORT=$PORT
  local secret
  secret=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
  local -a vars=(
    HERALD_LISTEN="127.0.0.1:$PORT"
    DATABASE_URL="sqlite://$dir/h.db"
    SSE_HEARTBEAT_SECONDS="${SSE_HEARTBEAT_SECONDS:-30}"
    HERALD_LOG_LEVEL="${HERALD_LOG_LEVEL:-warn}"
    HERALD_WORKERS=0
    # Every stream uses one admin token; the contract's per-user cap
    # (100 per instance by default) would refuse all but the first 100.
    HERALD_MAX_STREAMS_PER_USER=0
    JWT_SECRET="$secret"
  )
  if [[ ${HERALD_DB:-sqlite} == postgres ]]; then
    start_postgres "$dir/pg" || return 1
    vars+=(DATABASE_URL="$PG_URL")
  elif [[ ${HERALD_DB:-sqlite} != sqlite ]]; then
    echo "HERALD_DB must be sqlite or postgres, not '$HERALD_DB'" >&2
    return 1
  fi
  if ((procs > 1)); then
    # Several processes on one port share the database and a Redis bus.
    start_redis "$dir/redis" || return 1
    vars+=(HERALD_REUSE_PORT=1 SSE_SOURCE=redis REDIS_URL="redis://127.0.0.1:$REDIS_PORT")
  fi
  # shellcheck disable=SC2206  # HERALD_ENV is a list of VAR=value words.
  vars+=(${HERALD_ENV:-})
  local -a pids=()
  for ((i = 1; i <= procs; i++)); do
    env "${vars[@]}" "$HERALD_BIN" serve >"$dir/server-$i.log" 2>&1 &
    pids+=($!)
    ROOTS+=($!)
    LOG=$dir/server-$i.log
    if ((i == 1)); then
      # The first one creates the database; the others start once it is up.
      herald_healthy() { [[ $(http_status "$PORT" /healthz) == *" 200"* ]]; }
      wait_ready "${pids[0]}" herald "$LOG" herald_healthy || return 1
    fi
  done
  if ((procs > 1)); then
    # Every process listening (one SO_REUSEPORT socket each) before any load.
    local n=0
    for _ in $(seq $((STARTUP_SECONDS * 5))); do
      n=$(ss -Hltn "sport = :$PORT" 2>/dev/null | wc -l)
      ((n >= procs)) && break
      for i in "${!pids[@]}"; do
        if ! kill -0 "${pids[i]}" 2>/dev/null; then
          tail -n 20 "$dir/server-$((i + 1)).log" >&2
          echo "herald process $((i + 1)) exited during startup" >&2
          return 1
        fi
      done
      sleep 0.2
    done
    ((n >= procs)) || { echo "only $n of $procs herald processes listen on $PORT" >&2; return 1; }
  fi
  SERVER_PID=${pids[0]}
  SERVER_PIDS=$(IFS=,; echo "${pids[*]}")
  HERALD_TOKEN=$(JWT_SECRET="$secret" timeout 10 "$HERALD_BIN" token --sub bench --role admin 2>/dev/null |
                 grep -oE '[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+' | head -n1) || true
  [[ -n $HERALD_TOKEN ]] || { echo "could not mint a Herald token" >&2; return 1; }
  LOADGEN_MODE_ARGS=(--mode herald --token "$HERALD_TOKEN" --create)
}

# --- nginx + Nchan ----------------------------------------------------------

start_nchan() {
  local dir=$TMP/nchan-$1
  mkdir -p "$dir"
  PORT=$(free_port) || { echo "no free port found" >&2; return 1; }
  PUBLISH_PORT=$PORT
  {
    echo "load_module $NCHAN_MODULE;"
    echo "daemon off;"
    echo "master_process on;"
    echo "worker_processes ${NGINX_WORKERS:-2};"
    echo "worker_rlimit_nofile $NOFILE;"
    nginx_common "$dir"
    cat <<NGINX
events {
  worker_connections $NOFILE;
  multi_accept on;
}
http {
$(nginx_http_common "$dir")
  server {
    # reuseport: one listening socket per worker, so the kernel spreads
    # the streams evenly over the workers.
    listen 127.0.0.1:$PORT reuseport backlog=4096;
    location = /healthz { return 200 "ok\n"; }
    # Streams: plain "data:" messages (no event: line; Nchan adds its own
    # "id: <time>:<n>" lines), newest messages only, no subscriber timeout.
    # One channel per job id: /sub/1, /sub/job-17.
    location ~ ^/sub/([\w-]+)$ {
      nchan_subscriber eventsource;
      nchan_channel_id \$1;
      nchan_subscriber_first_message newest;
    }
    location ~ ^/pub/([\w-]+)$ {
      nchan_publisher;
      nchan_channel_id \$1;
      # Messages kept per channel, for a subscriber that resumes with
      # Last-Event-ID (the storm raises it).
      nchan_message_buffer_length ${NCHAN_BUFFER:-10};
      nchan_message_timeout 5m;
    }
  }
}
NGINX
  } >"$dir/nginx.conf"
  nginx -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log" >"$dir/stdout.log" 2>&1 &
  SERVER_PID=$!
  SERVER_PIDS=$SERVER_PID
  ROOTS+=("$SERVER_PID")
  LOG=$dir/error.log
  nchan_healthy() { [[ $(http_status "$PORT" /healthz) == *" 200"* ]]; }
  wait_ready "$SERVER_PID" nginx "$LOG" nchan_healthy || return 1
  LOADGEN_MODE_ARGS=(--mode nchan --job 1)
}
