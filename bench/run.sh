#!/usr/bin/env bash
# HTTP benchmark of the notifier service (and optionally the DRF reference) with wrk.
#
#   bench/run.sh [--duration 10s] [--warmup 2s] [--notifiers 1000] [--no-build | --bin PATH]
#                [--vs-drf] [--db postgres://user@host:5432/postgres] [--threads 2]
#                [--connections 64] [--only get_one,list] [--send] [--raw]
#
# Builds the release binary (`cargo build --release -p notifier-server`; found under
# $CARGO_TARGET_DIR, default target/), starts it on a fresh database (SQLite in a temp
# dir, or a fresh bench_<random> database on the given PostgreSQL server), seeds N notifiers
# through the API, then runs each scenario for a fixed duration with
# `wrk -t2 -c64 --latency` and prints one table row per scenario. Each read scenario
# is first run unmeasured for --warmup (0 to measure from cold): the first reads after
# seeding load the table into the server's cache, which is start-up, not steady state. The Lua scripts next
# to this file generate the requests and print a machine-readable summary (done()).
#
# --only runs just the named scenarios (healthz, get_one, list, create, patch, unauth,
# send); /healthz always runs, as the ratios' base. --raw also prints wrk's own report per
# scenario. --vs-drf runs the same scenarios
# against the DRF reference, which is not part of this repository: DRF_DIR must name the
# directory holding its `notifier` launcher. It prints notifier/DRF ratios.
#
# --db (PostgreSQL) adds, for the write goal "creates and PATCH reach >= 50% of what
# pgbench inserts on the same machine in the same run, with p99 < 20 ms, and two instances
# writing at once together exceed one instance alone":
#   - a pgbench baseline, before the server starts, on the same fresh database:
#     `pgbench -n -c32 -j2 -T<duration>` of single-row INSERTs with a unique name into
#     pgbench_notifier_like; row "pgbench INSERT (32 clients)" (tps, p50/p99 from its
#     per-transaction log, failed transactions), a vs_pgb column (req/s / pgbench tps);
#   - after the scenarios, if create or patch ran, a second server on the same database
#     (same secret key file and admin token), and create/PATCH against both at once: two
#     wrk processes side by side, one per instance, each with half the connections and
#     half the threads; rows "POST create, 2 instances" and "PATCH username, 2 instances"
#     (req/s summed, p50/p99 the higher of the two), target "> 1 instance"; the stored
#     count is checked again after those creates, through both instances;
#   - a "PostgreSQL write goal" block under the table: create and PATCH against
#     ">=50% of pgbench, p99<20ms", the two-instance rows against "2 instances > 1
#     instance", each ok or MISS. Without --db none of this runs and the output is as before.
#
# send is opt-in (--only send, or --send to add it to the others): synchronous
# POST .../email/{id}/send against a local SMTP sink, bench/smtp_sink.py (aiosmtpd, plain
# SMTP with AUTH PLAIN/LOGIN, counts messages), installed with pip into a venv at
# target/bench-venv (BENCH_VENV overrides) on first use. The sink runs on a free port; one
# notifier points at it. First the sink alone: 4 smtplib threads, each on its own
# authenticated connection, send for --duration (row "SMTP sink", msgs/s); then
# `wrk -c16` posts to that notifier's /send for --duration (row "POST send", target
# ">=70% of sink", not a /healthz ratio), and the sink must have received as many
# messages as wrk saw 200s (plus at most the sends in flight when wrk stopped), else
# MISMATCH (exit status 1). Then queued sends: the same wrk run with
# `Prefer: respond-async` (row "POST send, queued (202)"), and the wait until the sink has
# every one of them (row "queued -> sent (workers)": deliveries/s from the first POST to
# the last message, target ">=70% of sink"; the drain time after wrk stopped is printed
# under the table; fewer messages than 202s within 120 s is a MISMATCH). The server bounds one notifier's SMTP connections
# (smtp.max_connections_per_notifier, 4): try NOTIFIER__SMTP__MAX_CONNECTIONS_PER_NOTIFIER=64.
#
# Quick smoke run:  bench/run.sh --duration 1s --warmup 1s --notifiers 50 --no-build
# (CI, .ci/run, runs it on the debug binary its tests built: ... --bin target/debug/notifier)
#
# NOTIFIER__* variables already in the environment are passed to the servers (handy for
# experiments such as NOTIFIER__SERVER__WORKERS=1); the ones this script sets win.
# Exit status: 0, or 1 when something failed (server did not start, seeding incomplete,
# stored count MISMATCH after a create run, sink count MISMATCH after send, wrk or
# pgbench failed). Missed performance
# targets are reported in the table but do not change the exit status.
set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR="$ROOT/bench"
DRF_DIR=${DRF_DIR:-}
API=/api/notifications/notifiers/email

DURATION=10s
WARMUP=2s
N=1000
BUILD=1
VS_DRF=0
DB_URL=""
THREADS=2
CONNS=64
RAW=0
ONLY=""
SEND=0

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
}

die() {
  echo "bench: $*" >&2
  exit 1
}

while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION=${2:?--duration needs a value}; shift 2 ;;
    --duration=*) DURATION=${1#*=}; shift ;;
    --warmup) WARMUP=${2:?--warmup needs a value}; shift 2 ;;
    --warmup=*) WARMUP=${1#*=}; shift ;;
    --notifiers) N=${2:?--notifiers needs a value}; shift 2 ;;
    --notifiers=*) N=${1#*=}; shift ;;
    --no-build) BUILD=0; shift ;;
    --bin) BIN=$(realpath "${2:?--bin needs a path}"); BUILD=0; shift 2 ;;
    --vs-drf) VS_DRF=1; shift ;;
    --db) DB_URL=${2:?--db needs a value}; shift 2 ;;
    --db=*) DB_URL=${1#*=}; shift ;;
    --threads) THREADS=${2:?--threads needs a value}; shift 2 ;;
    --connections) CONNS=${2:?--connections needs a value}; shift 2 ;;
    --raw) RAW=1; shift ;;
    --only) ONLY=${2:?--only needs a list of scenarios}; shift 2 ;;
    --only=*) ONLY=${1#*=}; shift ;;
    --send) SEND=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done

[[ $DURATION =~ ^[0-9]+[smh]?$ ]] || die "--duration must look like 10s, 2m or 1h (got '$DURATION')"
[[ $WARMUP =~ ^[0-9]+[smh]?$ ]] || die "--warmup must look like 2s, or 0 for none (got '$WARMUP')"
[[ $N =~ ^[1-9][0-9]*$ ]] || die "--notifiers must be a positive integer (got '$N')"
[[ $THREADS =~ ^[1-9][0-9]*$ ]] || die "--threads must be a positive integer"
[[ $CONNS =~ ^[1-9][0-9]*$ ]] || die "--connections must be a positive integer"
[ "$CONNS" -ge "$THREADS" ] || die "--connections must be >= --threads (wrk needs one per thread)"
if [ -n "$DB_URL" ]; then
  [[ $DB_URL =~ ^postgres(ql)?:// ]] || die "--db must be a postgres://... URL (got '$DB_URL')"
fi
if [ "$VS_DRF" = 1 ] && [ -z "$DRF_DIR" ]; then
  die "--vs-drf needs DRF_DIR: the directory of the DRF reference's notifier launcher"
fi

# ---------------------------------------------------------------------------- tools

ensure_wrk() {
  command -v wrk >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bench: wrk not found, installing it with apt-get" >&2
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null 2>&1; then
      DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null 2>&1 || true
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null 2>&1 ||
        die "could not install wrk with apt-get; install it by hand (https://github.com/wg/wrk)"
    fi
    command -v wrk >/dev/null 2>&1 || die "wrk still not on PATH after apt-get install"
  else
    die "wrk is not installed and cannot be installed automatically (needs root and apt-get); install it: sudo apt-get install wrk (Debian/Ubuntu), brew install wrk (macOS), or build https://github.com/wg/wrk"
  fi
}

ensure_wrk
command -v curl >/dev/null 2>&1 || die "curl is required"
if [ -n "$DB_URL" ]; then
  command -v psql >/dev/null 2>&1 || die "--db needs psql (apt-get install postgresql-client)"
  command -v pgbench >/dev/null 2>&1 || die "--db needs pgbench, the baseline of the write targets (apt-get install postgresql-contrib, or the postgresql package of your distribution)"
fi

# ------------------------------------------------------------------ state & cleanup

TMP=$(mktemp -d "${TMPDIR:-/tmp}/notifier-bench.XXXXXX")
SERVER_PIDS=()
CLIENT_PIDS=() # wrk (and pgbench) processes running in the background
PG_ADMIN_URL=""
PG_DB=""
SINK_PID="" # the SMTP sink of the send scenario

alive() { # pid: running (a zombie, exited but not yet reaped, does not count)
  local st
  st=$(awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null || true)
  [ -n "$st" ] && [ "$st" != Z ]
}

stop_server() { # pid: TERM, wait up to 10 s, then KILL (DRF: gunicorn takes its workers down)
  local pid=$1 _
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do
    alive "$pid" || break
    sleep 0.2
  done
  if alive "$pid"; then
    pkill -KILL -P "$pid" 2>/dev/null || true
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
  local pid
  set +e
  for pid in "${CLIENT_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null
  done
  for pid in "${SERVER_PIDS[@]}"; do
    stop_server "$pid"
  done
  [ -n "$SINK_PID" ] && stop_server "$SINK_PID"
  if [ -n "$PG_DB" ]; then
    psql "$PG_ADMIN_URL" -qX -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" >/dev/null 2>&1 ||
      psql "$PG_ADMIN_URL" -qX -c "DROP DATABASE IF EXISTS \"$PG_DB\"" >/dev/null 2>&1 ||
      echo "bench: could not drop PostgreSQL database $PG_DB; drop it by hand" >&2
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

rand_hex() { # bytes
  od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'
}

# A port below the kernel's ephemeral range (client sockets, e.g. wrk's thousands of
# TIME_WAIT connections, take ports from that range and would make bind() fail) that
# nothing uses. The servers are still retried on another port if bind() fails.
free_port() {
  local p _ low
  read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || low=32768
  [ "${low:-0}" -gt 11000 ] || low=32768
  for _ in $(seq 200); do
    p=$((10000 + RANDOM % (low - 10000)))
    # Refused: nothing listens there; ss: no socket in any state uses it.
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null &&
      { ! command -v ss >/dev/null 2>&1 || [ -z "$(ss -Htan "( sport = :$p or dport = :$p )" 2>/dev/null)" ]; }; then
      echo "$p"
      return 0
    fi
  done
  die "no free TCP port found"
}

mb_of_kb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# Peak resident set (VmHWM, kB) of a process, plus its children (gunicorn's workers).
peak_rss_kb() {
  local pid=$1 total=0 kb child
  kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
  total=$((total + ${kb:-0}))
  for child in $(pgrep -P "$pid" 2>/dev/null || true); do
    kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$child/status" 2>/dev/null || true)
    total=$((total + ${kb:-0}))
  done
  echo "$total"
}

# 0: healthy; 2: the server exited because its port was taken (caller retries);
# anything else ends the run with the server's log.
wait_healthy() { # base_url pid log timeout_s
  local url=$1 pid=$2 log=$3 timeout=$4 i
  for i in $(seq $((timeout * 10))); do
    if curl -fsS -o /dev/null --max-time 2 "$url/healthz" 2>/dev/null; then
      return 0
    fi
    if ! alive "$pid"; then
      wait "$pid" 2>/dev/null || true
      grep -qi "address already in use" "$log" && return 2
      echo "bench: server exited during start-up; its log:" >&2
      tail -n 30 "$log" >&2
      exit 1
    fi
    [ $((i % 100)) -eq 0 ] && echo "  ... still waiting for $url/healthz (${i}00 ms)" >&2
    sleep 0.1
  done
  echo "bench: $url/healthz did not answer within ${timeout}s; server log:" >&2
  tail -n 30 "$log" >&2
  exit 1
}

stored_count() { # base_url token -> the list's "count"
  curl -fsS --max-time 30 -H "Authorization: Token $2" "$1$API?page_size=1" |
    grep -o '"count":[0-9]*' | head -n1 | cut -d: -f2
}

# Seed N notifiers (names seed-1..seed-N) through the API with curl --parallel:
# `jobs` curl processes side by side, each running `par` transfers at once over a
# chunk of the ids. Prints a one-line summary of the statuses.
seed() { # label base_url token jobs par
  local label=$1 url=$2 token=$3 jobs=$4 par=$5 dir="$TMP/seed-$1" chunk t0 t1 stored
  mkdir -p "$dir"
  chunk=$(((N + jobs * 4 - 1) / (jobs * 4)))
  [ "$chunk" -gt 2000 ] && chunk=2000
  [ "$chunk" -lt 1 ] && chunk=1
  seq 1 "$N" | awk -v url="$url$API" -v tok="$token" -v chunk="$chunk" -v dir="$dir" '
    {
      f = sprintf("%s/chunk-%06d.cfg", dir, int(($1 - 1) / chunk))
      if (f != last) { if (last != "") close(last); last = f; first = 1 }
      if (!first) print "next" > f
      first = 0
      printf "url = \"%s\"\nrequest = \"POST\"\n", url > f
      printf "header = \"Authorization: Token %s\"\nheader = \"Content-Type: application/json\"\n", tok > f
      printf "data = \"{\\\"name\\\":\\\"seed-%d\\\",\\\"host\\\":\\\"smtp%d.example.com\\\",\\\"port\\\":587,", $1, $1 % 10 > f
      printf "\\\"username\\\":\\\"user%d\\\",\\\"password\\\":\\\"p\\\",\\\"from_email\\\":\\\"n%d@example.com\\\"}\"\n", $1, $1 > f
      printf "output = \"/dev/null\"\nsilent\nwrite-out = \"%%{http_code}\\\\n\"\n" > f
    }'
  t0=$(date +%s.%N)
  # shellcheck disable=SC2016  # $1/$2 are expanded by the inner sh
  find "$dir" -name 'chunk-*.cfg' -print0 | sort -z |
    xargs -0 -P "$jobs" -I{} sh -c 'curl -s --parallel --parallel-max "$1" -K "$2" >"$2.codes" 2>/dev/null; true' _ "$par" {}
  t1=$(date +%s.%N)
  stored=$(stored_count "$url" "$token") || stored=""
  printf '  seeded %s: %d POSTs in %.1fs (%s), stored count %s\n' "$label" "$N" \
    "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
    "$(cat "$dir"/*.codes | sort | uniq -c | awk '{ printf "%s%s x%s", sep, $2, $1; sep = ", " }')" \
    "${stored:-?}"
  [ "${stored:-0}" = "$N" ] || die "seeding $label stored ${stored:-?} notifiers, expected $N"
  rm -rf "$dir"
}

# --------------------------------------------------------------------- measurement

declare -A RES=()
SCENARIOS=(healthz get_one list create patch unauth)
OPT_IN_SCENARIOS=(send) # only when named in --only, or with --send
if [ -n "$ONLY" ]; then
  wanted=(healthz)
  IFS=, read -r -a only_list <<<"$ONLY"
  for sc in "${only_list[@]}"; do
    [[ " ${SCENARIOS[*]} ${OPT_IN_SCENARIOS[*]} " == *" $sc "* ]] ||
      die "--only: unknown scenario '$sc' (one of: ${SCENARIOS[*]} ${OPT_IN_SCENARIOS[*]})"
    [ "$sc" = healthz ] || wanted+=("$sc")
  done
  SCENARIOS=("${wanted[@]}")
fi
if [ "$SEND" = 1 ] && [[ " ${SCENARIOS[*]} " != *" send "* ]]; then
  SCENARIOS+=(send)
fi
declare -A TITLE=(
  [healthz]="GET /healthz"
  [get_one]="GET one (random id)"
  [list]="GET list page of 20"
  [create]="POST create"
  [patch]="PATCH username (random id)"
  [unauth]="GET list, no auth (401)"
  [sink]="SMTP sink (smtplib, 4 conn)"
  [send]="POST send (1 notifier)"
  [queued]="POST send, queued (202)"
  [drain]="queued -> sent (workers)"
)
declare -A TARGET=(
  [healthz]="ceiling"
  [get_one]=">=60%, p99<5ms"
  [list]=">=30%, p99<5ms"
  [create]=">=10%, 0 non-2xx"
  [patch]=">=10%, 0 non-2xx"
  [unauth]=">=80%, p99<5ms"
  [sink]="baseline"
  [send]=">=70% of sink"
  [queued]="0 non-2xx"
  [drain]=">=70% of sink"
)

field() { # "BENCH k=v ..." key -> v (empty when absent)
  local kv
  for kv in $1; do
    [ "${kv%%=*}" = "$2" ] && { echo "${kv#*=}"; return 0; }
  done
  echo ""
}

# Clients run in the background, so that an interrupt can stop them (a trap waits for a
# foreground child), and so that two can run side by side.
forget_pid() { # array_name pid: drops pid from the array (SERVER_PIDS, CLIENT_PIDS)
  local -n pids=$1
  local p keep=()
  for p in "${pids[@]}"; do
    [ "$p" = "$2" ] || keep+=("$p")
  done
  pids=("${keep[@]}")
}

# Waits for a background client; its output is shown if it failed.
wait_client() { # pid out_file what
  local rc=0
  wait "$1" || rc=$?
  forget_pid CLIENT_PIDS "$1"
  if [ "$rc" != 0 ]; then
    cat "$2" >&2
    die "$3 failed (exit status $rc)"
  fi
}

# Starts wrk in the background; its pid is left in WRK_STARTED.
wrk_start() { # out_file duration script url token threads conns run_tag
  BENCH_TOKEN=$5 BENCH_N=$N BENCH_RUN=$8 BENCH_SEND_ID=${SEND_ID:-} \
    wrk -t"$6" -c"$7" -d"$2" --timeout 5s --latency \
    -s "$BENCH_DIR/$3" "$4" >"$1" 2>&1 &
  WRK_STARTED=$!
  CLIENT_PIDS+=("$WRK_STARTED")
}

# Runs wrk with -t$THREADS -c$CONNS (or -c<conns>) and waits for it.
wrk_to() { # out_file duration what script url token [conns]
  wrk_start "$1" "$2" "$4" "$5" "$6" "$THREADS" "${7:-$CONNS}" "$RUN_TAG"
  wait_client "$WRK_STARTED" "$1" "wrk for $3"
}

# The same load as the measured run, unmeasured, for --warmup (reads only: a create
# warm-up would add notifiers the count check does not expect).
warm_up() { # label scenario script url_path base_url token
  [[ $WARMUP =~ ^0+[smh]?$ ]] && return 0
  wrk_to "$TMP/warmup-$1-$2.txt" "$WARMUP" "warming up $1/$2" "$3" "$5$4" "$6"
}

run_wrk() { # label scenario script url_path base_url token [conns]
  local label=$1 sc=$2 script=$3 path=$4 url=$5 token=$6 out
  out="$TMP/wrk-$label-$sc.txt"
  wrk_to "$out" "$DURATION" "$label/$sc" "$script" "$url$path" "$token" "${7:-}"
  parse_wrk "$label" "$sc" "$out"
}

# Reads the BENCH line of a wrk output into RES[label/scenario/...].
parse_wrk() { # label scenario out_file
  local label=$1 sc=$2 out=$3 line
  [ "$RAW" = 1 ] && { echo "--- wrk output: $label ${TITLE[$sc]}"; grep -v '^BENCH ' "$out"; }
  line=$(grep '^BENCH ' "$out" | tail -n1) || { cat "$out" >&2; die "no BENCH line from wrk ($label/$sc)"; }
  local k
  for k in rps p50_ms p99_ms requests socket_errors issued; do
    RES[$label/$sc/$k]=$(field "$line" "$k")
  done
  # Status counts: "good" is 401 for the unauthenticated scenario, 2xx elsewhere.
  local good=0 bad=0 kv code count
  for kv in $line; do
    case "$kv" in
      status_*=*)
        code=${kv%%=*}; code=${code#status_}; count=${kv#*=}
        RES[$label/$sc/status_$code]=$count
        if { [ "$sc" = unauth ] && [ "$code" = 401 ]; } || { [ "$sc" != unauth ] && [ "${code:0:1}" = 2 ]; }; then
          good=$((good + count))
        else
          bad=$((bad + count))
        fi
        ;;
    esac
  done
  RES[$label/$sc/good]=$good
  RES[$label/$sc/bad]=$bad
}

# Runs every scenario against one server and prints its table.
measure() { # label base_url token
  local label=$1 url=$2 token=$3 sc
  for sc in "${SCENARIOS[@]}"; do
    case "$sc" in
      healthz) run_wrk "$label" "$sc" plain.lua /healthz "$url" "" ;;
      get_one)
        warm_up "$label" "$sc" get_one.lua / "$url" "$token"
        run_wrk "$label" "$sc" get_one.lua / "$url" "$token"
        ;;
      list)
        warm_up "$label" "$sc" list.lua / "$url" "$token"
        run_wrk "$label" "$sc" list.lua / "$url" "$token"
        ;;
      create)
        run_wrk "$label" "$sc" create.lua / "$url" "$token"
        check_count "$label" "$url" "$token"
        ;;
      patch) run_wrk "$label" "$sc" patch.lua / "$url" "$token" ;;
      unauth) run_wrk "$label" "$sc" plain.lua "$API?page=1&page_size=20" "$url" "" ;;
      send) measure_send "$label" "$url" "$token" ;;
    esac
  done
}

COUNT_FAILED=0
check_count() { # label base_url token
  local label=$1
  verify_count "$label/count_check" "$N seeded" "$N" "${RES[$label/create/status_201]:-0}" \
    "$(in_flight "$label" create)" "$3" "$2"
}

# Requests wrk had sent but not seen answered when the duration ended: the server may
# still have committed them.
in_flight() { # label scenario
  local n=$((${RES[$1/$2/issued]:-0} - ${RES[$1/$2/requests]:-0}))
  [ "$n" -lt 0 ] && n=0
  echo "$n"
}

# The stored count, as each server given reports it, against base + the 201s wrk saw (+
# at most the POSTs in flight). Sets RES[key] to "OK: ..." or "MISMATCH: ..." and
# RES[key/stored] to the count; several servers (instances on one database) must agree.
verify_count() { # result_key base_description base created inflight token url [url ...]
  local key=$1 desc=$2 base=$3 created=$4 inflight=$5 token=$6 expected stored="" s u counts="" agree=""
  shift 6
  expected=$((base + created))
  for u in "$@"; do
    s=$(stored_count "$u" "$token") || s=""
    s=${s:-?}
    counts+="${counts:+, }$s"
    if [ -z "$stored" ]; then stored=$s; elif [ "$s" != "$stored" ]; then stored=disagree; fi
  done
  [ $# = 2 ] && agree=" (both instances report it)"
  [ $# -gt 2 ] && agree=" (all $# instances report it)"
  RES[$key/stored]=$stored
  if [ "$stored" = disagree ]; then
    RES[$key]="MISMATCH: the instances report different stored counts ($counts), expected $expected = $desc + $created created (201) ($inflight POSTs were in flight when wrk stopped)"
    COUNT_FAILED=1
  elif [ "$stored" = "$expected" ]; then
    RES[$key]="OK: stored count $stored = $desc + $created created (201)$agree"
  elif [[ $stored =~ ^[0-9]+$ ]] && [ "$stored" -gt "$expected" ] && [ "$stored" -le $((expected + inflight)) ]; then
    RES[$key]="OK: stored count $stored = $desc + $created created (201) + $((stored - expected)) of the $inflight POSTs still in flight when wrk stopped$agree"
  else
    RES[$key]="MISMATCH: stored count $stored, expected $expected = $desc + $created created (201) ($inflight POSTs were in flight when wrk stopped)"
    COUNT_FAILED=1
  fi
}

# --db: create and PATCH against two instances on the same database at once. Per
# scenario, two wrk processes side by side, one per instance, each with half the
# connections and half the threads (at least one), so the client side does what it did
# against one instance. RES[label/<scenario>2/...] sums their counts and req/s; its
# p50/p99 are the higher of the two processes'. After the creates, both instances must
# report the stored count the 201s of both runs account for.
TITLE[create2]="POST create, 2 instances"
TITLE[patch2]="PATCH username, 2 instances"
TARGET[create2]=">1 inst, 0 non-2xx"
TARGET[patch2]=">1 inst, 0 non-2xx"

measure_two() { # label url1 url2 token
  local label=$1 url1=$2 url2=$3 token=$4 sc c1 c2 t pid1 pid2 out1 out2 k a b before leftover
  c1=$((CONNS / 2))
  c2=$((CONNS - c1))
  t=$((THREADS > 1 ? THREADS / 2 : 1))
  for sc in create patch; do
    [[ " ${SCENARIOS[*]} " == *" $sc "* ]] || continue
    out1="$TMP/wrk-$label-${sc}2-i1.txt"
    out2="$TMP/wrk-$label-${sc}2-i2.txt"
    # Run tags of their own: created names stay unique across both and the earlier run.
    wrk_start "$out1" "$DURATION" "$sc.lua" "$url1/" "$token" "$t" "$c1" "${RUN_TAG}i1"
    pid1=$WRK_STARTED
    wrk_start "$out2" "$DURATION" "$sc.lua" "$url2/" "$token" "$t" "$c2" "${RUN_TAG}i2"
    pid2=$WRK_STARTED
    wait_client "$pid1" "$out1" "wrk for $label/${sc}2 (instance 1)"
    wait_client "$pid2" "$out2" "wrk for $label/${sc}2 (instance 2)"
    parse_wrk "$label-i1" "${sc}2" "$out1"
    parse_wrk "$label-i2" "${sc}2" "$out2"
    for k in rps requests issued good bad socket_errors status_201; do
      a=${RES[$label-i1/${sc}2/$k]:-0}
      b=${RES[$label-i2/${sc}2/$k]:-0}
      RES[$label/${sc}2/$k]=$(awk -v a="${a:-0}" -v b="${b:-0}" 'BEGIN { print a + b }')
    done
    for k in p50_ms p99_ms; do
      RES[$label/${sc}2/$k]=$(awk -v a="${RES[$label-i1/${sc}2/$k]}" -v b="${RES[$label-i2/${sc}2/$k]}" \
        'BEGIN { print (a > b ? a : b) }')
    done
    if [ "$sc" = create ]; then
      # The base is the count the check after the one-instance creates read; POSTs of that
      # run still in flight then may have been committed since.
      before=${RES[$label/count_check/stored]:-?}
      [[ $before =~ ^[0-9]+$ ]] || before=$((N + ${RES[$label/create/status_201]:-0}))
      leftover=$((N + ${RES[$label/create/status_201]:-0} + $(in_flight "$label" create) - before))
      [ "$leftover" -lt 0 ] && leftover=0
      verify_count "$label/count_check2" "$before stored before" "$before" "${RES[$label/create2/status_201]}" \
        "$(($(in_flight "$label" create2) + leftover))" "$token" "$url1" "$url2"
    fi
  done
}

# Two instances together against one alone: more req/s, and no errors.
two_verdict() { # label scenario2
  local label=$1 sc=$2 x miss=""
  x=$(awk -v a="${RES[$label/$sc/rps]}" -v b="${RES[$label/${sc%2}/rps]}" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }')
  awk -v a="${RES[$label/$sc/rps]}" -v b="${RES[$label/${sc%2}/rps]}" 'BEGIN { exit !(a <= b) }' && miss+="ratio "
  [ "$((${RES[$label/$sc/bad]} + ${RES[$label/$sc/socket_errors]}))" -gt 0 ] && miss+="errors "
  if [ -n "$miss" ]; then echo "MISS(${miss% }) $x"; else echo "ok $x"; fi
}

pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f%%", 100 * a / b; else print "-" }'; }

# "ok" or "MISS(...)" against the targets (only for our service).
verdict() { # label scenario
  local label=$1 sc=$2 base ratio p99 bad miss=""
  case "$sc" in
    create2 | patch2) two_verdict "$label" "$sc"; return 0 ;;
    send | drain) sink_verdict "$label" "$sc"; return 0 ;;
  esac
  base=${RES[$label/healthz/rps]}
  ratio=$(awk -v a="${RES[$label/$sc/rps]}" -v b="$base" 'BEGIN { print (b > 0 ? a / b : 0) }')
  p99=${RES[$label/$sc/p99_ms]}
  bad=$((${RES[$label/$sc/bad]} + ${RES[$label/$sc/socket_errors]}))
  local min=0 p99max="" zero_bad=0
  case "$sc" in
    healthz) echo "-"; return 0 ;;
    get_one) min=0.60; p99max=5 ;;
    list) min=0.30; p99max=5 ;;
    unauth) min=0.80; p99max=5 ;;
    create | patch) min=0.10; zero_bad=1 ;;
    queued) min=0; zero_bad=1 ;;
  esac
  awk -v r="$ratio" -v m="$min" 'BEGIN { exit !(r < m) }' && miss+="ratio "
  [ -n "$p99max" ] && awk -v p="$p99" -v m="$p99max" 'BEGIN { exit !(p >= m) }' && miss+="p99 "
  [ "$zero_bad" = 1 ] && [ "$bad" -gt 0 ] && miss+="errors "
  if [ -n "$miss" ]; then echo "MISS(${miss% })"; else echo "ok"; fi
}

print_table() { # label with_targets
  local label=$1 with_targets=$2 sc bad_note base pgb="" w=26 rows=() ratio_pgb ratio_hlth target check
  base=${RES[$label/healthz/rps]}
  # With --db: the pgbench baseline as a row after /healthz, and a column of ratios to it.
  pgb=${RES[$label/pgbench/rps]:-}
  for sc in "${SCENARIOS[@]}"; do
    # send: the sink's own capacity, measured just before, as the row above it.
    [ "$sc" = send ] && [ -n "${RES[$label/sink/rps]:-}" ] && rows+=(sink)
    rows+=("$sc")
    [ "$sc" = send ] && [ -n "${RES[$label/queued/rps]:-}" ] && rows+=(queued drain)
    [ "$sc" = healthz ] && [ -n "$pgb" ] && rows+=(pgbench)
    # With --db: both instances at once, next to the one-instance row.
    [ -n "${RES[$label/${sc}2/rps]:-}" ] && rows+=("${sc}2")
  done
  [ -n "$pgb" ] && w=28
  printf "%-${w}s %10s %9s %9s %12s %7s %8s" scenario req/s p50_ms p99_ms non-2xx sockerr vs_hlth
  [ -n "$pgb" ] && printf ' %7s' vs_pgb
  if [ "$with_targets" = 1 ]; then
    printf '  %-18s %s\n' target check
  else
    printf '\n'
  fi
  for sc in "${rows[@]}"; do
    bad_note=${RES[$label/$sc/bad]}
    [ "$sc" = unauth ] && bad_note="$bad_note (non-401)"
    [ "$sc" = pgbench ] && bad_note="$bad_note (failed)"
    [ "$sc" = sink ] && bad_note="$bad_note (failed)"
    ratio_hlth=$(pct "${RES[$label/$sc/rps]}" "$base")
    # SMTP rows are bounded by the sink, not by HTTP: their ratio is to the sink (check).
    case "$sc" in sink | send | drain) ratio_hlth=- ;; esac
    printf "%-${w}s %10.0f %9.2f %9.2f %12s %7s %8s" "${TITLE[$sc]}" "${RES[$label/$sc/rps]}" \
      "${RES[$label/$sc/p50_ms]}" "${RES[$label/$sc/p99_ms]}" "$bad_note" \
      "${RES[$label/$sc/socket_errors]}" "$ratio_hlth"
    if [ -n "$pgb" ]; then
      ratio_pgb=-
      case "$sc" in pgbench | create* | patch*) ratio_pgb=$(pct "${RES[$label/$sc/rps]}" "$pgb") ;; esac
      printf ' %7s' "$ratio_pgb"
    fi
    if [ "$with_targets" = 1 ]; then
      target=${TARGET[$sc]} check=-
      case "$sc" in pgbench | sink) ;; *) check=$(verdict "$label" "$sc") ;; esac
      printf '  %-18s %s\n' "$target" "$check"
    else
      printf '\n'
    fi
  done
  echo "after create: ${RES[$label/count_check]:-(create not run)}"
  [ -n "${RES[$label/count_check2]:-}" ] && echo "after create, 2 instances: ${RES[$label/count_check2]}"
  [ -n "${RES[$label/send_check]:-}" ] && echo "after send: ${RES[$label/send_check]}"
  [ -n "${RES[$label/drain_check]:-}" ] && echo "after queued sends: ${RES[$label/drain_check]}"
  echo "peak RSS (VmHWM): ${RES[$label/rss]}"
  echo "server log: ${RES[$label/log]}"
  [ -n "${RES[$label/log2]:-}" ] && echo "server log, 2nd instance: ${RES[$label/log2]}"
  return 0
}

# The PostgreSQL write goal: creates and PATCHes at >= 50 % of what pgbench inserts in the
# same run, with p99 < 20 ms.
PG_GOAL_RATIO=0.50
PG_GOAL_P99_MS=20
pg_verdict() { # label scenario
  local label=$1 sc=$2 miss=""
  awk -v a="${RES[$label/$sc/rps]}" -v b="${RES[$label/pgbench/rps]}" -v m="$PG_GOAL_RATIO" \
    'BEGIN { exit !(b <= 0 || a / b < m) }' && miss+="ratio "
  awk -v p="${RES[$label/$sc/p99_ms]}" -v m="$PG_GOAL_P99_MS" 'BEGIN { exit !(p >= m) }' && miss+="p99 "
  if [ -n "$miss" ]; then echo "MISS(${miss% })"; else echo "ok"; fi
}

print_pg_goal() { # label
  local label=$1 sc ran=0
  [ -n "${RES[$label/pgbench/rps]:-}" ] || return 0
  printf '\nPostgreSQL write goal (pgbench baseline: %.0f inserts/s, p99 %.2f ms; same run, same database):\n' \
    "${RES[$label/pgbench/rps]}" "${RES[$label/pgbench/p99_ms]}"
  for sc in create patch; do
    [ -n "${RES[$label/$sc/rps]:-}" ] || continue
    ran=1
    printf '  %-28s %-30s %-34s %s\n' "${TITLE[$sc]}" ">=50% of pgbench, p99<20ms" \
      "$(printf '%s of pgbench, p99 %.2f ms' "$(pct "${RES[$label/$sc/rps]}" "${RES[$label/pgbench/rps]}")" "${RES[$label/$sc/p99_ms]}")" \
      "$(pg_verdict "$label" "$sc")"
  done
  for sc in create2 patch2; do
    [ -n "${RES[$label/$sc/rps]:-}" ] || continue
    printf '  %-28s %-30s %-34s %s\n' "${TITLE[$sc]}" "2 instances > 1 instance" \
      "$(printf '%.0f vs %.0f req/s, p99 %.2f ms' "${RES[$label/$sc/rps]}" "${RES[$label/${sc%2}/rps]}" "${RES[$label/$sc/p99_ms]}")" \
      "$(two_verdict "$label" "$sc")"
  done
  if [ "$ran" = 0 ]; then
    echo "  create and patch did not run (--only)"
  elif [ -n "${RES[$label/two_skipped]:-}" ]; then
    echo "  2 instances: not run (${RES[$label/two_skipped]})"
  fi
  return 0
}

# How much the server wrote to its log during the run, and its most frequent line
# (timestamps removed): a warning per request costs throughput and fills disks.
log_summary() { # log_file
  local n top
  grep -v '^admin token:' "$1" >"$1.filtered" || true
  n=$(wc -l <"$1.filtered" | tr -d ' ')
  if [ "$n" = 0 ]; then
    echo "0 lines"
    return 0
  fi
  top=$(sed -E 's/^\[[0-9]{4}-[0-9T:.+-]+Z? +/[/; s/^\[[0-9]{4}-[0-9: +-]+\] \[[0-9]+\] /[/' "$1.filtered" |
    sort | uniq -c | sort -rn | head -n1 | sed -E 's/^ *([0-9]+) (.*)$/\1x: \2/' | cut -c1-200)
  echo "$n lines; most frequent: $top"
}

# ---------------------------------------------------------------- pgbench baseline

PGBENCH_CLIENTS=32
PGBENCH_THREADS=2
PGBENCH_TABLE=pgbench_notifier_like
TITLE[pgbench]="pgbench INSERT ($PGBENCH_CLIENTS clients)"
TARGET[pgbench]="baseline"

duration_secs() { # 10s, 2m, 1h or 10 -> whole seconds, at least 1 (pgbench -T)
  local d=$1 n
  n=$((10#${d%[smh]}))
  case "$d" in
    *m) n=$((n * 60)) ;;
    *h) n=$((n * 3600)) ;;
  esac
  [ "$n" -ge 1 ] || n=1
  echo "$n"
}

# What PostgreSQL alone does with writes of the same shape, on this machine now:
# pgbench -n -c32 -j2 for --duration on the bench database, each transaction one
# single-row INSERT with a unique name (client id + a per-client counter) into a table
# shaped like the notifiers' keys (serial id, unique name, timestamp). Results go to
# RES[label/pgbench/...]; p50/p99 come from pgbench's per-transaction log (-l).
run_pgbench() { # label db_url
  local label=$1 url=$2 out="$TMP/pgbench.txt" script="$TMP/pgbench-insert.sql" pid secs v p50 p99
  psql "$url" -qX -v ON_ERROR_STOP=1 -c "CREATE TABLE $PGBENCH_TABLE (id serial PRIMARY KEY,
    name text UNIQUE NOT NULL, created_at timestamptz NOT NULL DEFAULT now())" >/dev/null ||
    die "could not create the pgbench table $PGBENCH_TABLE"
  printf '%s\n' '\set n :n + 1' \
    "INSERT INTO $PGBENCH_TABLE (name) VALUES ('pgbench-' || :client_id || '-' || :n);" >"$script"
  secs=$(duration_secs "$DURATION")
  pgbench -n -c "$PGBENCH_CLIENTS" -j "$PGBENCH_THREADS" -T "$secs" -D n=0 -f "$script" \
    -l --log-prefix="$TMP/pgbench-log" "$url" >"$out" 2>&1 &
  pid=$!
  CLIENT_PIDS+=("$pid")
  wait_client "$pid" "$out" "pgbench"
  [ "$RAW" = 1 ] && { echo "--- pgbench output"; cat "$out"; }
  # "tps = N (without initial connection time)" (PostgreSQL 14+; older ones print two
  # tps lines, the last one excluding connections).
  v=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$out" | tail -n1)
  [ -n "$v" ] || { cat "$out" >&2; die "no tps in pgbench's output"; }
  RES[$label/pgbench/rps]=$v
  v=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$out")
  RES[$label/pgbench/bad]=${v:-0}
  RES[$label/pgbench/socket_errors]=-
  # Per-transaction log lines: client_id transaction_no latency_us script_no epoch_s epoch_us.
  read -r p50 p99 < <(
    cat "$TMP"/pgbench-log.* 2>/dev/null | awk '$3 ~ /^[0-9]+$/ { print $3 }' | sort -n |
      awk '{ v[NR] = $1 }
        function pct(p, i) { i = int(NR * p / 100); if (i < NR * p / 100) i++; if (i < 1) i = 1; return v[i] / 1000 }
        END { if (NR == 0) print "0 0"; else printf "%.3f %.3f\n", pct(50), pct(99) }')
  RES[$label/pgbench/p50_ms]=$p50
  RES[$label/pgbench/p99_ms]=$p99
  rm -f "$TMP"/pgbench-log.*
}

# ------------------------------------------------------- SMTP sink (send scenario)

# aiosmtpd lives in a venv of its own (as .ci/run does for schemathesis), under the
# repository's target/ whatever CARGO_TARGET_DIR says; BENCH_VENV overrides the path.
SINK_VENV=${BENCH_VENV:-$ROOT/target/bench-venv}
SINK_PY="$SINK_VENV/bin/python"
SINK_USER=bench
SINK_CONNS=4 # the capacity client's connections: the server's default per-notifier bound
SEND_CONNS=16

ensure_sink_venv() {
  "$SINK_PY" -c 'import aiosmtpd' 2>/dev/null && return 0
  command -v python3 >/dev/null 2>&1 || die "the send scenario needs python3 (for the aiosmtpd SMTP sink)"
  echo "-- send: installing aiosmtpd into $SINK_VENV"
  python3 -m venv "$SINK_VENV" || die "python3 -m venv $SINK_VENV failed (Debian/Ubuntu: apt-get install python3-venv)"
  "$SINK_VENV/bin/pip" install -q "aiosmtpd>=1.4,<2" || die "pip install aiosmtpd failed"
}

# Starts bench/smtp_sink.py serve on a free port, in the background (cleanup stops it).
start_sink() {
  local attempt i
  SINK_PASS=$(rand_hex 12)
  for attempt in 1 2 3 4 5; do
    SINK_PORT=$(free_port)
    "$SINK_PY" "$BENCH_DIR/smtp_sink.py" serve "$SINK_PORT" "$SINK_USER" "$SINK_PASS" "$TMP/sink.count" \
      >"$TMP/sink.log" 2>&1 &
    SINK_PID=$!
    for i in $(seq 100); do
      grep -qx ready "$TMP/sink.log" && return 0
      alive "$SINK_PID" || break
      sleep 0.1
    done
    if ! alive "$SINK_PID" && grep -qi "address already in use" "$TMP/sink.log"; then
      wait "$SINK_PID" 2>/dev/null || true
      SINK_PID=""
      echo "  port $SINK_PORT was taken, retrying on another one (attempt $attempt)" >&2
      continue
    fi
    cat "$TMP/sink.log" >&2
    die "the SMTP sink did not start"
  done
  die "could not start the SMTP sink: no usable port after 5 attempts"
}

# Messages the sink has accepted since it started (it writes the count on SIGUSR1).
sink_count() {
  local _
  rm -f "$TMP/sink.count"
  kill -USR1 "$SINK_PID" 2>/dev/null || die "the SMTP sink is gone; its log: $(cat "$TMP/sink.log")"
  for _ in $(seq 50); do
    [ -s "$TMP/sink.count" ] && { cat "$TMP/sink.count"; return 0; }
    sleep 0.1
  done
  die "the SMTP sink did not report its count"
}

# The sink's count once it has stopped moving (sends the server was still finishing when
# wrk stopped land within the server's SMTP deadline; 10 s at most here).
sink_count_settled() {
  local a b _
  a=$(sink_count)
  for _ in $(seq 20); do
    sleep 0.5
    b=$(sink_count)
    [ "$b" = "$a" ] && break
    a=$b
  done
  echo "$a"
}

# What the sink takes without the service: SINK_CONNS smtplib connections, each
# authenticated once and reused, sending for --duration. RES[label/sink/...].
measure_sink() { # label
  local label=$1 out="$TMP/sink-capacity-$1.txt" pid line k
  "$SINK_PY" "$BENCH_DIR/smtp_sink.py" capacity "$SINK_PORT" "$SINK_USER" "$SINK_PASS" \
    "$(duration_secs "$DURATION")" "$SINK_CONNS" >"$out" 2>&1 &
  pid=$!
  CLIENT_PIDS+=("$pid")
  wait_client "$pid" "$out" "the SMTP sink's capacity client"
  [ "$RAW" = 1 ] && { echo "--- sink capacity client: $label"; cat "$out"; }
  line=$(grep '^SINK ' "$out" | tail -n1) || { cat "$out" >&2; die "no SINK line from the capacity client"; }
  for k in rps p50_ms p99_ms; do
    RES[$label/sink/$k]=$(field "$line" "$k")
  done
  RES[$label/sink/bad]=$(field "$line" failed)
  RES[$label/sink/socket_errors]=-
  RES[$label/sink/sent]=$(field "$line" sent)
}

# POSTs a JSON body; prints the status code, then the body, on separate lines.
post_json() { # url token body
  curl -sS --max-time 60 -X POST -H "Authorization: Token $2" -H "Content-Type: application/json" \
    -d "$3" -w '\n%{http_code}' "$1"
}

# The send scenario: a notifier for the sink, one checked send, the sink's capacity, then
# wrk -c16 on that notifier's /send, and the sink's count against wrk's 200s.
measure_send() { # label base_url token
  local label=$1 url=$2 token=$3 resp code before after received ok inflight
  resp=$(post_json "$url$API" "$token" "{\"name\":\"bench-send-$RUN_TAG-$label\",\"host\":\"127.0.0.1\",\"port\":$SINK_PORT,\"username\":\"$SINK_USER\",\"password\":\"$SINK_PASS\",\"from_email\":\"bench@example.com\",\"use_tls\":false,\"use_ssl\":false,\"fail_silently\":false}") ||
    die "creating the send notifier failed"
  code=${resp##*$'\n'}
  [ "$code" = 201 ] || die "creating the send notifier answered $code: ${resp%$'\n'*}"
  SEND_ID=$(grep -o '"id":[0-9]*' <<<"${resp%$'\n'*}" | head -n1 | cut -d: -f2)
  [ -n "$SEND_ID" ] || die "no id in the created notifier: ${resp%$'\n'*}"
  resp=$(post_json "$url$API/$SEND_ID/send" "$token" '{"to":["someone@example.com"],"subject":"bench","body":"hello"}') ||
    die "the first send failed"
  code=${resp##*$'\n'}
  if [ "$code" != 200 ] || [[ ${resp%$'\n'*} != *'"sent":1'* ]]; then
    die "a send through the sink answered $code: ${resp%$'\n'*} (sink log: $(tail -n 5 "$TMP/sink.log"))"
  fi
  echo "  send: notifier $SEND_ID -> sink 127.0.0.1:$SINK_PORT; measuring the sink alone ($SINK_CONNS smtplib connections)"
  measure_sink "$label"
  before=$(sink_count_settled)
  run_wrk "$label" send send.lua / "$url" "$token" "$SEND_CONNS"
  after=$(sink_count_settled)
  received=$((after - before))
  ok=${RES[$label/send/status_200]:-0}
  inflight=$(in_flight "$label" send)
  if [ "$received" = "$ok" ]; then
    RES[$label/send_check]="OK: the sink received $received messages = the 200s wrk saw"
  elif [ "$received" -gt "$ok" ] && [ "$received" -le $((ok + inflight)) ]; then
    RES[$label/send_check]="OK: the sink received $received messages = $ok 200s + $((received - ok)) of the $inflight sends still in flight when wrk stopped"
  else
    RES[$label/send_check]="MISMATCH: the sink received $received messages, wrk saw $ok 200s ($inflight sends were in flight when wrk stopped)"
    COUNT_FAILED=1
  fi
  measure_queued "$label" "$url" "$token"
  # Gone again, so the stored counts the create checks expect stay as they were.
  curl -fsS -o /dev/null --max-time 30 -X DELETE -H "Authorization: Token $token" "$url$API/$SEND_ID" ||
    echo "bench: could not delete the send notifier $SEND_ID" >&2
  SEND_ID=""
}

# Queued sends: wrk -c16 posts with `Prefer: respond-async` for --duration (row "queued":
# the 202s), then the wait until the sink has every accepted message (row "drain":
# deliveries/s from the first POST to the last message at the sink, i.e. the rate the
# workers sustained, and the queue's drain time after wrk stopped).
measure_queued() { # label base_url token
  local label=$1 url=$2 token=$3 before t0 t_wrk t1 accepted got=0 _
  echo "  send: queued sends (Prefer: respond-async) to the same notifier, then the queue's drain"
  before=$(sink_count_settled)
  t0=$(date +%s.%N)
  BENCH_PREFER_ASYNC=1 run_wrk "$label" queued send.lua / "$url" "$token" "$SEND_CONNS"
  t_wrk=$(date +%s.%N)
  accepted=${RES[$label/queued/status_202]:-0}
  for _ in $(seq 1200); do
    got=$(($(sink_count) - before))
    [ "$got" -ge "$accepted" ] && break
    sleep 0.1
  done
  t1=$(date +%s.%N)
  RES[$label/drain/rps]=$(awk -v n="$got" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b > a ? n / (b - a) : 0) }')
  RES[$label/drain/p50_ms]=0
  RES[$label/drain/p99_ms]=0
  RES[$label/drain/socket_errors]=-
  RES[$label/drain/bad]=$((accepted > got ? accepted - got : 0))
  RES[$label/drain_check]=$(awk -v n="$got" -v a="$accepted" -v w="$t_wrk" -v e="$t1" \
    'BEGIN { printf "%d of %d queued sends at the sink; the queue drained %.1f s after wrk stopped", n, a, e - w }')
  [ "$got" -ge "$accepted" ] || { RES[$label/drain_check]="MISMATCH: ${RES[$label/drain_check]}"; COUNT_FAILED=1; }
}

# A path through the sink (synchronous sends, the queue's drain) against the sink's own
# capacity: at least 70 %.
sink_verdict() { # label scenario
  local label=$1 sc=$2 share
  share=$(pct "${RES[$label/$sc/rps]}" "${RES[$label/sink/rps]}")
  if awk -v a="${RES[$label/$sc/rps]}" -v b="${RES[$label/sink/rps]}" 'BEGIN { exit !(b > 0 && a / b >= 0.70) }'; then
    echo "ok $share"
  else
    echo "MISS(ratio) $share"
  fi
}

# ------------------------------------------------------------------------- servers

# The database of our servers: a fresh bench_* database on the --db server (dropped by
# cleanup), or a SQLite file in $TMP. Sets OURS_DB_URL.
prepare_db() {
  if [ -n "$DB_URL" ]; then
    PG_ADMIN_URL=$DB_URL
    PG_DB="bench_$(rand_hex 6)"
    psql "$PG_ADMIN_URL" -qX -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$PG_DB\"" >/dev/null ||
      { PG_DB=""; die "could not create a database on $DB_URL"; }
    # Same server and credentials, database replaced by the fresh one.
    local scheme=${DB_URL%%://*} rest=${DB_URL#*://} query=""
    if [[ $rest == *\?* ]]; then query="?${rest#*\?}"; rest=${rest%%\?*}; fi
    OURS_DB_URL="$scheme://${rest%%/*}/$PG_DB$query"
  else
    OURS_DB_URL="sqlite://$TMP/bench.db?mode=rwc"
  fi
}

# Starts one server on OURS_DB_URL. Every instance gets the same admin token (OURS_TOKEN)
# and secret key file, so any of them serves the same notifiers with the same token.
# Logs to $TMP/<name>.log; sets STARTED_PID and STARTED_URL, and adds the pid to
# SERVER_PIDS (cleanup stops them all).
start_instance() { # bin name
  local bin=$1 name=$2 port attempt rc
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    STARTED_URL="http://127.0.0.1:$port"
    # exec all the way down: $! is the server's own pid (for VmHWM and for stopping it).
    (
      cd "$TMP"
      exec env NOTIFIER__DATABASE__URL="$OURS_DB_URL" \
        NOTIFIER__SECURITY__SECRET_KEY_FILE="$TMP/secret.key" \
        NOTIFIER__SECURITY__ADMIN_TOKEN="$OURS_TOKEN" \
        NOTIFIER__SECURITY__AUTH_FAILURES_PER_MINUTE=0 \
        NOTIFIER__SERVER__LISTEN="127.0.0.1:$port" \
        RUST_LOG=warn \
        "$bin" serve
    ) >"$TMP/$name.log" 2>&1 &
    STARTED_PID=$!
    SERVER_PIDS+=("$STARTED_PID")
    rc=0
    wait_healthy "$STARTED_URL" "$STARTED_PID" "$TMP/$name.log" 60 || rc=$?
    [ "$rc" = 0 ] && return 0
    forget_pid SERVER_PIDS "$STARTED_PID"
    echo "  port $port was taken, retrying on another one (attempt $attempt)" >&2
  done
  die "could not start the server: no usable port after 5 attempts"
}

start_ours() { # bin
  OURS_TOKEN=$(rand_hex 20)
  prepare_db
  if [ -n "$DB_URL" ]; then
    echo "-- pgbench baseline: $PGBENCH_CLIENTS clients x $(duration_secs "$DURATION")s of single-row INSERTs on $PG_DB"
    run_pgbench ours "$OURS_DB_URL"
  fi
  start_instance "$1" ours
  OURS_PID=$STARTED_PID
  OURS_URL=$STARTED_URL
}

start_drf() {
  local port attempt rc
  [ -x "$DRF_DIR/notifier" ] || die "DRF reference not found at $DRF_DIR (set DRF_DIR)"
  DRF_TOKEN=$(rand_hex 20)
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    DRF_URL="http://127.0.0.1:$port"
    # The wrapper script and cli.py exec into gunicorn: $! is the gunicorn master.
    (
      cd "$TMP"
      exec env NOTIFIER__DATABASE__URL="sqlite://$TMP/drf.db" \
        NOTIFIER__SECURITY__ADMIN_TOKEN="$DRF_TOKEN" \
        NOTIFIER__SERVER__LISTEN="127.0.0.1:$port" \
        "$DRF_DIR/notifier" serve
    ) >"$TMP/drf.log" 2>&1 &
    DRF_PID=$!
    SERVER_PIDS+=("$DRF_PID")
    rc=0
    # The first use creates its virtualenv (pip install): allow time for that.
    wait_healthy "$DRF_URL" "$DRF_PID" "$TMP/drf.log" 300 || rc=$?
    [ "$rc" = 0 ] && return 0
    echo "  port $port was taken, retrying on another one (attempt $attempt)" >&2
  done
  die "could not start the DRF reference: no usable port after 5 attempts"
}

# --------------------------------------------------------------------------- main

git_rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ "$git_rev" != unknown ] && [ -n "$(git -C "$ROOT" status --porcelain 2>/dev/null)" ]; then
  git_rev="$git_rev (working tree has uncommitted changes)"
fi
cpu_model=$(awk -F: '/^model name/ { sub(/^[ \t]+/, "", $2); print $2; exit }' /proc/cpuinfo 2>/dev/null)
echo "== notifier HTTP benchmark"
echo "date:        $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "commit:      $git_rev"
echo "cpu:         $(nproc) x ${cpu_model:-unknown}"
echo "load avg:    $(cut -d' ' -f1-3 /proc/loadavg) (before the run; other work on the machine skews results)"
echo "wrk:         $(wrk -v 2>&1 | head -n1 | awk '{ print $1, $2 }'), -t$THREADS -c$CONNS -d$DURATION, client on the same machine; reads warmed up for $WARMUP first"
echo "notifiers:   $N seeded; database: $([ -n "$DB_URL" ] && echo "PostgreSQL (fresh bench_* database on ${DB_URL%%\?*})" || echo "SQLite (temp file)")"
if [ -n "$DB_URL" ]; then
  echo "pgbench:     $(pgbench --version 2>/dev/null | awk '{ print $3 }'), -n -c$PGBENCH_CLIENTS -j$PGBENCH_THREADS -T$(duration_secs "$DURATION"), single-row INSERTs with a unique name, on the bench database before the server starts"
  echo "2 instances: create and PATCH again with a second server on the same database, 2 wrk at once (-t$((THREADS > 1 ? THREADS / 2 : 1)) -c$((CONNS / 2)) / -c$((CONNS - CONNS / 2)), one per instance), req/s summed"
fi
if [[ " ${SCENARIOS[*]} " == *" send "* ]]; then
  [ "$THREADS" -le "$SEND_CONNS" ] || die "the send scenario runs wrk -c$SEND_CONNS: --threads must be <= $SEND_CONNS"
  echo "send:        wrk -t$THREADS -c$SEND_CONNS on one notifier's /send, to an aiosmtpd sink (plain SMTP + AUTH) on 127.0.0.1; sink alone: $SINK_CONNS smtplib connections x -d$DURATION"
fi
inherited=$(env | grep -o '^NOTIFIER__[A-Z_]*' | sort | tr '\n' ' ' || true)
[ -n "$inherited" ] && echo "inherited:   $inherited(passed to the servers)"

BIN="${BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/notifier}"
if [ "$BUILD" = 1 ]; then
  echo "-- building: cargo build --release -p notifier-server"
  (cd "$ROOT" && cargo build --release -p notifier-server -q) || die "cargo build failed"
fi
[ -x "$BIN" ] || die "$BIN not found: build it (cargo build --release -p notifier-server) or drop --no-build"

RUN_TAG=$(rand_hex 4)

if [[ " ${SCENARIOS[*]} " == *" send "* ]]; then
  ensure_sink_venv
  start_sink
  echo "-- send: SMTP sink on 127.0.0.1:$SINK_PORT (aiosmtpd $("$SINK_PY" -c 'import aiosmtpd; print(aiosmtpd.__version__)'))"
fi

echo "-- notifier: starting"
start_ours "$BIN"
seed ours "$OURS_URL" "$OURS_TOKEN" 4 8
echo "-- notifier: measuring ${#SCENARIOS[@]} scenarios x $DURATION"
measure ours "$OURS_URL" "$OURS_TOKEN"
RES[ours/rss_kb]=$(peak_rss_kb "$OURS_PID")
RES[ours/rss]="$(mb_of_kb "${RES[ours/rss_kb]}") MB (server process)"
if [ -n "$DB_URL" ] && [[ " ${SCENARIOS[*]} " == *" create "* || " ${SCENARIOS[*]} " == *" patch "* ]]; then
  if [ "$CONNS" -ge 2 ]; then
    echo "-- notifier: starting a second instance on the same database"
    start_instance "$BIN" ours2
    OURS2_PID=$STARTED_PID
    OURS2_URL=$STARTED_URL
    echo "-- notifier: measuring writes on 2 instances at once x $DURATION (2 wrk, -c$((CONNS / 2)) each)"
    measure_two ours "$OURS_URL" "$OURS2_URL" "$OURS_TOKEN"
    stop_server "$OURS2_PID"
    RES[ours/log2]="$(log_summary "$TMP/ours2.log") (RUST_LOG=warn)"
  else
    RES[ours/two_skipped]="--connections $CONNS cannot be split in two"
    echo "-- notifier: no 2-instance run: ${RES[ours/two_skipped]}"
  fi
fi
stop_server "$OURS_PID"
RES[ours/log]="$(log_summary "$TMP/ours.log") (RUST_LOG=warn)"
SERVER_PIDS=()

if [ "$VS_DRF" = 1 ]; then
  echo "-- DRF reference: starting ($DRF_DIR, gunicorn, SQLite)"
  start_drf
  seed drf "$DRF_URL" "$DRF_TOKEN" 1 4
  echo "-- DRF reference: measuring ${#SCENARIOS[@]} scenarios x $DURATION"
  measure drf "$DRF_URL" "$DRF_TOKEN"
  RES[drf/rss_kb]=$(peak_rss_kb "$DRF_PID")
  RES[drf/rss]="$(mb_of_kb "${RES[drf/rss_kb]}") MB (gunicorn master + $(pgrep -P "$DRF_PID" | wc -l) workers, sum of each process's peak)"
  stop_server "$DRF_PID"
  RES[drf/log]="$(log_summary "$TMP/drf.log") (gunicorn --log-level warning)"
  SERVER_PIDS=()
fi

echo
echo "== notifier ($([ -n "$DB_URL" ] && echo PostgreSQL || echo SQLite)), $N notifiers, $DURATION per scenario"
echo "   non-2xx = responses that were not 2xx (for the 401 scenario: not 401); vs_hlth = req/s / GET /healthz req/s"
print_table ours 1
rss_check=ok
[ "${RES[ours/rss_kb]}" -ge $((50 * 1024)) ] && rss_check="MISS (target < 50 MB)"
echo "peak RSS target < 50 MB: $rss_check"
print_pg_goal ours

if [ "$VS_DRF" = 1 ]; then
  echo
  echo "== DRF reference (gunicorn 5 sync workers, SQLite), $N notifiers, $DURATION per scenario"
  print_table drf 0
  echo
  echo "== notifier / DRF$([ -n "$DB_URL" ] && echo " (note: notifier on PostgreSQL, DRF on SQLite)")"
  printf '%-26s %10s %10s %8s %10s %10s\n' scenario ours_req/s drf_req/s x_req/s ours_p99 drf_p99
  for sc in "${SCENARIOS[@]}"; do
    printf '%-26s %10.0f %10.0f %8s %10.2f %10.2f\n' "${TITLE[$sc]}" "${RES[ours/$sc/rps]}" "${RES[drf/$sc/rps]}" \
      "$(awk -v a="${RES[ours/$sc/rps]}" -v b="${RES[drf/$sc/rps]}" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "-" }')" \
      "${RES[ours/$sc/p99_ms]}" "${RES[drf/$sc/p99_ms]}"
  done
  printf '%-26s %10s %10s %8s\n' "peak RSS (MB)" "$(mb_of_kb "${RES[ours/rss_kb]}")" "$(mb_of_kb "${RES[drf/rss_kb]}")" \
    "$(awk -v a="${RES[ours/rss_kb]}" -v b="${RES[drf/rss_kb]}" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }')"
fi

[ "$COUNT_FAILED" = 0 ] || exit 1
exit 0
