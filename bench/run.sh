#!/usr/bin/env bash
# localidp benchmark harness: builds release, installs wrk and the peer identity
# providers, runs every measurement against servers on 127.0.0.1, and prints one
# markdown table (also written to bench/out/).
#
#   bench/run.sh            full run (several minutes; 1,000,000-user scale rows)
#   bench/run.sh --quick    short run for CI (a few tens of seconds after the build)
#
# PostgreSQL rows run when LOCALIDP_BENCH_POSTGRES_URL (or LOCALIDP_TEST_POSTGRES_URL)
# names a database the harness may connect to; it creates a fresh database
# localidp_bench_<id> next to it and drops it at the end.
#
# Optional environment: BENCH_WRK_SECONDS, BENCH_LAT_SECONDS, BENCH_STARTS,
# BENCH_LARGE_USERS, BENCH_IMPORT_ROWS, BENCH_IMPORT_STREAM_ROWS (the streamed import
# row: 50,000 quick, 1,000,000 full), BENCH_IMPORT_STREAM_RSS_ROWS (its memory row, full
# mode only: 10,000,000; 0 skips it), BENCH_DISTINCT_TOKENS, BENCH_DISTINCT_SECONDS,
# BENCH_TIMING_TRIES (failed sign-ins per row of bench/signin_timing.sh),
# BENCH_IDLE_CONNECTIONS (row 11, default 10000), BENCH_IDLE_REFRESH (seconds; 0, the default: the connections send nothing after their first request),
# BENCH_SKIP_BUILD=1, BENCH_SKIP_PEERS=1,
# BENCH_WAIT_QUIET=SECONDS (wait up to that long for other work on the machine to stop), and
# BENCH_SERVER_ARGS (more `serve` flags for the rows 1-6 server, e.g. --no-audit-log).
set -euo pipefail

usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; }

QUICK=0
for arg in "$@"; do
  case "$arg" in
    --quick) QUICK=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bench/run.sh: unknown argument $arg" >&2; usage >&2; exit 2 ;;
  esac
done

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BENCH="$ROOT/bench"
WALL_START=$(date +%s.%N)

# ---------------------------------------------------------------------------------
# Settings

NPROC=$(nproc)
if ((QUICK)); then
  MODE=quick
  WRK_SECONDS=${BENCH_WRK_SECONDS:-2}
  LAT_SECONDS=${BENCH_LAT_SECONDS:-2}
  STARTS=${BENCH_STARTS:-3}
  SMALL_USERS=1000
  GRAPH_USERS=200
  LARGE_USERS=${BENCH_LARGE_USERS:-20000}
  IMPORT_ROWS=${BENCH_IMPORT_ROWS:-5000}
  STREAM_ROWS=${BENCH_IMPORT_STREAM_ROWS:-50000}
  STREAM_RSS_ROWS=${BENCH_IMPORT_STREAM_RSS_ROWS:-0}
  MIGRATE_ROWS=${BENCH_MIGRATE_ROWS:-20000}
  SPEED_SECONDS=1
  ARGON2_SECONDS=2
  DISTINCT_PASSES=1
  REFRESH_SECONDS=2
  TIMING_TRIES=${BENCH_TIMING_TRIES:-24}
  KIT_SECONDS=2
else
  MODE=full
  WRK_SECONDS=${BENCH_WRK_SECONDS:-10}
  LAT_SECONDS=${BENCH_LAT_SECONDS:-15}
  STARTS=${BENCH_STARTS:-10}
  SMALL_USERS=1000
  GRAPH_USERS=200
  LARGE_USERS=${BENCH_LARGE_USERS:-1000000}
  IMPORT_ROWS=${BENCH_IMPORT_ROWS:-100000}
  STREAM_ROWS=${BENCH_IMPORT_STREAM_ROWS:-1000000}
  STREAM_RSS_ROWS=${BENCH_IMPORT_STREAM_RSS_ROWS:-10000000}
  MIGRATE_ROWS=${BENCH_MIGRATE_ROWS:-100000}
  SPEED_SECONDS=3
  ARGON2_SECONDS=10
  DISTINCT_PASSES=5
  REFRESH_SECONDS=8
  TIMING_TRIES=${BENCH_TIMING_TRIES:-300}
  KIT_SECONDS=5
fi
# Row 2b: this many distinct tokens, each verified once per pass (a fresh server per
# pass, so none is in the cache of recently verified tokens); the wrk run of a pass
# lasts DISTINCT_SECONDS whatever the pass takes (the rate is timed by the script).
DISTINCT_TOKENS=${BENCH_DISTINCT_TOKENS:-$([[ $MODE == quick ]] && echo 10000 || echo 20000)}
DISTINCT_SECONDS=${BENCH_DISTINCT_SECONDS:-8}
REST_ROWS=$((LARGE_USERS - SMALL_USERS - IMPORT_ROWS))
if ((REST_ROWS < 0)); then
  echo "bench/run.sh: BENCH_LARGE_USERS must be at least $((SMALL_USERS + IMPORT_ROWS))" >&2
  exit 2
fi
# wrk threads and connections per kind of load. wrk runs on the same cores as the
# server, so every figure below is "server + load generator on $NPROC cores".
WRK_THREADS=$NPROC
FAST_CONNS=32     # /healthz, /auth/verify, JWKS
TOKEN_CONNS=16    # client_credentials
PASSWORD_CONNS=$((4 * NPROC)) # enough to keep every argon2 slot busy

PG_ADMIN_URL="${LOCALIDP_BENCH_POSTGRES_URL:-${LOCALIDP_TEST_POSTGRES_URL:-}}"
# The servers and CLI started here take their settings from flags only.
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep '^LOCALIDP_' || true)

OUT="$BENCH/out"
mkdir -p "$OUT"
RUN_ID="$(date +%Y%m%d-%H%M%S)-$$"
RUN_DIR="$OUT/$RUN_ID"
mkdir -p "$RUN_DIR"
TMP="$(mktemp -d -t localidp-bench.XXXXXX)"
BIN="$ROOT/target/release/localidp"
EX="$ROOT/target/release/examples"
# The servers log as before the request log was on by default: a line per request
# under load would be measured too.
export LOCALIDP_LOG="${LOCALIDP_LOG:-info,localidp::request=off}"
# wrk sends thousands of credential requests a second from 127.0.0.1: with the default
# per-address rate limit (burst 300, 600 a minute) all but the first few hundred would
# be 429s. The figures are the endpoints' own, so the limit is off (a variable, not a
# flag, so that older binaries started for comparison ignore it).
export LOCALIDP_RATE_LIMIT_PER_MINUTE=0

CLIENT_ID=bench-client
CLIENT_SECRET=bench-secret-0123456789abcdefghijklmnopqrstuv
TENANT=bench.onmicrosoft.com
USER_EMAIL=user@bench.test
USER_PASSWORD=bench-password
export BENCH_WRK_DIR="$BENCH/wrk" BENCH_CLIENT_ID="$CLIENT_ID" BENCH_CLIENT_SECRET="$CLIENT_SECRET"
export BENCH_USERNAME="$USER_EMAIL" BENCH_PASSWORD="$USER_PASSWORD"

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------------------------
# Processes: everything started in the background is recorded and stopped on exit.

PIDS=()
PG_DB=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  local pid
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [[ -n "$PG_DB" ]]; then
    psql "$PG_ADMIN_URL" -q -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" \
      >/dev/null 2>&1 || log "warning: could not drop database $PG_DB"
  fi
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

forget_pid() {
  local keep=() p
  for p in "${PIDS[@]}"; do [[ "$p" == "$1" ]] || keep+=("$p"); done
  PIDS=("${keep[@]+"${keep[@]}"}")
}

# stop_pid PID: SIGTERM, wait up to 10 s, then SIGKILL.
stop_pid() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  forget_pid "$pid"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_idle PID: until the process used no CPU for 0.3 s (at most 30 s). After /healthz
# answers, a start still measures its password-hash kinds in the background (a few
# argon2 hashes): a row timed from the first request would share the cores with it.
wait_idle() {
  local pid=$1 before after
  for _ in $(seq 1 100); do
    before=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null) || return 0
    sleep 0.3
    after=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null) || return 0
    ((after - before <= 1)) && return 0
  done
}

# wait_http URL [SECONDS [CURL_ARGS...]]: until the URL answers 200.
wait_http() {
  local url=$1 limit=${2:-60} i
  shift $(($# < 2 ? $# : 2))
  for ((i = 0; i < limit * 20; i++)); do
    if curl -sf -o /dev/null --max-time 2 "$@" "$url"; then return 0; fi
    sleep 0.05
  done
  return 1
}

# kib PID FIELD: a /proc/PID/status field (VmRSS, VmHWM) in KiB.
kib() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

SERVER_PID=""
# start_localidp NAME PORT ARGS...: starts `localidp serve` in the background.
start_localidp() {
  local name=$1 port=$2
  shift 2
  "$BIN" serve --host 127.0.0.1 --port "$port" "$@" >>"$RUN_DIR/$name.log" 2>&1 &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  wait_http "http://127.0.0.1:$port/healthz" 60 || die "$name did not start (see $RUN_DIR/$name.log)"
}

# start_peer NAME PORT [KEYFILE]
start_peer() {
  local name=$1 port=$2
  shift 2
  NODE_ENV=production node "$BENCH/peers/$name.mjs" "$port" "$@" >>"$RUN_DIR/$name.log" 2>&1 &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  wait_http "http://127.0.0.1:$port/.well-known/openid-configuration" 60 ||
    die "$name did not start (see $RUN_DIR/$name.log)"
}

# ---------------------------------------------------------------------------------
# Numbers

# fmt NUMBER [DECIMALS]: thousands separators.
fmt() {
  awk -v x="$1" -v d="${2:-0}" 'BEGIN {
    s = sprintf("%." d "f", x); sign = ""
    if (substr(s, 1, 1) == "-") { sign = "-"; s = substr(s, 2) }
    i = index(s, "."); if (i) { ip = substr(s, 1, i - 1); fp = substr(s, i) } else { ip = s; fp = "" }
    out = ""; while (length(ip) > 3) { out = "," substr(ip, length(ip) - 2) out; ip = substr(ip, 1, length(ip) - 3) }
    print sign ip out fp }'
}
# judge VALUE OP TARGET -> PASS / MISS / n/a
judge() {
  [[ -z "$1" || "$1" == n/a* ]] && { echo "n/a"; return; }
  awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN {
    ok = (op == ">=") ? (v >= t) : (v <= t); print (ok ? "PASS" : "MISS") }'
}

CLK_TCK=$(getconf CLK_TCK)
# CPU time of a process and of the whole machine, in clock ticks.
proc_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# Minor page faults of a process so far.
proc_minflt() { awk '{ print $10 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
machine_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat; }
# CPU seconds used so far by this shell's finished children (wrk below).
# (`times` runs in this shell, not in a pipeline or $(...), whose subshell starts at 0.)
children_cpu() {
  local f="$TMP/times.$BASHPID"
  times >"$f"
  tail -n1 "$f" | awk '{ t = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); sub("s", "", a[2]); t += a[1] * 60 + a[2] } printf "%.3f", t }'
}

# wrk_run NAME SCRIPT URL CONNS SECONDS [THREADS]: output in $RUN_DIR/wrk-NAME.txt,
# followed by the CPU (in cores) that the server ($SERVER_PID), this wrk, and the
# whole machine used meanwhile, and the server's minor page faults, also appended
# to $RUN_DIR/cpu.txt.
wrk_run() {
  local name=$1 script=$2 url=$3 conns=$4 secs=$5 threads=${6:-$WRK_THREADS}
  local s0 s1 b0 t0 b1 t1 w0 w1 c0 c1 f0 f1 me=$BASHPID
  ((threads > conns)) && threads=$conns
  s0=$(proc_ticks "$SERVER_PID")
  f0=$(proc_minflt "$SERVER_PID")
  children_cpu >"$TMP/cpu0.$me"
  c0=$(cat "$TMP/cpu0.$me")
  read -r b0 t0 < <(machine_ticks)
  w0=$(date +%s.%N)
  wrk -t"$threads" -c"$conns" -d"${secs}s" --timeout 10s --latency -s "$BENCH/wrk/$script" "$url" \
    >"$RUN_DIR/wrk-$name.txt" 2>&1 || true
  w1=$(date +%s.%N)
  read -r b1 t1 < <(machine_ticks)
  children_cpu >"$TMP/cpu1.$me"
  c1=$(cat "$TMP/cpu1.$me")
  s1=$(proc_ticks "$SERVER_PID")
  f1=$(proc_minflt "$SERVER_PID")
  awk -v n="$name" -v f="$((f1 - f0))" -v s="$((s1 - s0))" -v b="$((b1 - b0))" -v t="$((t1 - t0))" -v hz="$CLK_TCK" \
    -v c="$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')" \
    -v w="$(awk -v a="$w0" -v b="$w1" 'BEGIN { print b - a }')" -v cores="$NPROC" 'BEGIN {
      srv = s / hz / w; busy = (t > 0) ? b / t * cores : 0; wrk = c / w
      printf "CPU_RESULT name=%s server_cores=%.2f wrk_cores=%.2f machine_busy_cores=%.2f rest_cores=%.2f of=%d server_minor_faults=%d\n",
        n, srv, wrk, busy, busy - srv - wrk, cores, f }' | tee -a "$RUN_DIR/cpu.txt" >>"$RUN_DIR/wrk-$name.txt"
}
# wrk_get NAME FIELD: a field of the WRK_RESULT line (good_rps, p50_ms, p99_ms, ...).
wrk_get() {
  local line
  line=$(grep '^WRK_RESULT' "$RUN_DIR/wrk-$1.txt" 2>/dev/null || true)
  [[ -n "$line" ]] || { echo ""; return; }
  tr ' ' '\n' <<<"$line" | awk -F= -v k="$2" '$1 == k { print $2 }'
}
# wrk_rps NAME: good requests/s, or empty when the run failed or had errors.
wrk_rps() {
  local errs good
  errs=$(wrk_get "$1" status_errors)
  good=$(wrk_get "$1" good)
  if [[ -z "$good" || "$good" == 0 ]]; then
    log "warning: wrk $1 made no successful request (see $RUN_DIR/wrk-$1.txt)"
    echo ""
  else
    if [[ "$errs" != 0 ]]; then
      log "warning: wrk $1 had $errs non-2xx responses; counted only the successful ones"
    fi
    wrk_get "$1" good_rps
  fi
}

declare -A R=()
R_NOTES=()

# ---------------------------------------------------------------------------------
# Install and build

install_wrk() {
  command -v wrk >/dev/null 2>&1 && return 0
  log "installing wrk (apt-get)"
  local sudo=""
  ((EUID == 0)) || sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y wrk >/dev/null 2>&1 ||
    { $sudo apt-get update >/dev/null && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y wrk >/dev/null; } ||
    die "cannot install wrk"
}

PEERS_OK=0
install_peers() {
  if [[ "${BENCH_SKIP_PEERS:-0}" == 1 ]]; then
    R_NOTES+=("peers skipped (BENCH_SKIP_PEERS=1)")
    return 0
  fi
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    R_NOTES+=("peers not measured: node/npm not installed")
    return 0
  fi
  local want have=""
  want=$(sha256sum "$BENCH/peers/package-lock.json" | cut -d' ' -f1)
  [[ -f "$BENCH/peers/node_modules/.bench-lock-sha256" ]] &&
    have=$(cat "$BENCH/peers/node_modules/.bench-lock-sha256")
  if [[ "$want" != "$have" ]]; then
    log "installing peers (npm ci in bench/peers)"
    (cd "$BENCH/peers" && npm ci --no-audit --no-fund --loglevel=error >"$RUN_DIR/npm.log" 2>&1) ||
      die "npm ci failed (see $RUN_DIR/npm.log)"
    echo "$want" >"$BENCH/peers/node_modules/.bench-lock-sha256"
  fi
  PEERS_OK=1
}

install_wrk
install_peers
if [[ "${BENCH_SKIP_BUILD:-0}" != 1 ]]; then
  log "cargo build --release --bins --examples"
  cargo build --release --bins --examples >"$RUN_DIR/build.log" 2>&1 ||
    { tail -30 "$RUN_DIR/build.log" >&2; die "build failed"; }
fi
[[ -x "$BIN" && -x "$EX/argon2_rate" && -x "$EX/startup_time" && -x "$EX/bench_users" && -x "$EX/rsa_verify_rate" && -x "$EX/argon2_pool" && -x "$EX/mint_tokens" && -x "$EX/signin_timing" ]] ||
  die "release binaries missing"

# busy_cores: cores the machine kept busy over the last second (nothing of ours runs).
busy_cores() {
  local b0 t0 b1 t1
  read -r b0 t0 < <(machine_ticks)
  sleep 1
  read -r b1 t1 < <(machine_ticks)
  awk -v b="$((b1 - b0))" -v t="$((t1 - t0))" -v c="$NPROC" 'BEGIN { printf "%.2f", (t > 0) ? b / t * c : 0 }'
}
# Other work on the machine (builds, tests) lowers every figure: say how much there
# was. With BENCH_WAIT_QUIET=SECONDS, each group of measurements below first waits up
# to that long for such work to stop (see settle).
BUSY_BEFORE=$(busy_cores)
awk -v b="$BUSY_BEFORE" 'BEGIN { exit !(b >= 0.15) }' &&
  log "warning: other processes keep $BUSY_BEFORE of $NPROC cores busy; every figure will be lower than on an idle machine"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "mode $MODE, $NPROC cores, load average $LOAD_BEFORE, busy cores before start $BUSY_BEFORE, output in $RUN_DIR"

cat >"$TMP/seed.toml" <<EOF
[[tenants]]
name = "$TENANT"
default_client = "$CLIENT_ID"

[[clients]]
client_id = "$CLIENT_ID"
secret = "$CLIENT_SECRET"
grant_types = ["client_credentials", "password", "refresh_token"]
app_roles = ["Bench"]
graph_permissions = ["User.Read.All"]

[[users]]
email = "$USER_EMAIL"
password = "$USER_PASSWORD"
EOF

# ---------------------------------------------------------------------------------
# 1. References. The speed of this machine drifts (it is a VM sharing a host), so each
# reference is measured right before and right after the figure it is compared with,
# with the server idle, and the mean is used; both values are kept in $RUN_DIR.

# settle: with BENCH_WAIT_QUIET, wait (up to that many seconds) until no other work
# keeps the cores busy; otherwise nothing.
settle() {
  [[ -n "${BENCH_WAIT_QUIET:-}" ]] || return 0
  local deadline=$((SECONDS + BENCH_WAIT_QUIET)) b
  while ((SECONDS < deadline)); do
    b=$(busy_cores)
    awk -v b="$b" 'BEGIN { exit !(b < 0.15) }' && return 0
    log "waiting for other work to stop ($b cores busy)"
  done
}

# rsa_sign_rate FILE: RSA-2048 sign/s with one openssl process per core.
rsa_sign_rate() {
  openssl speed -seconds "$SPEED_SECONDS" -multi "$NPROC" rsa2048 >"$1" 2>&1 || true
  awk '/^rsa 2048 bits/ { print $6 }' "$1" | tail -n1
}
# argon2_rate FILE: argon2id m=19456 t=2 p=1 hashes/s on one thread per core.
argon2_rate() {
  "$EX/argon2_rate" --seconds "$ARGON2_SECONDS" --threads "$NPROC" >"$1" 2>&1 || true
  grep -o 'hashes/s=[0-9.]*' "$1" | cut -d= -f2
}
# mean2 A B WHAT: the mean of two measurements (one if the other is missing); logs drift.
mean2() {
  awk -v a="$1" -v b="$2" -v what="$3" 'BEGIN {
    if (a == "" && b == "") exit
    if (a == "" || b == "") { print (a == "" ? b : a); exit }
    if (a > 0 && b > 0 && (a / b > 1.2 || b / a > 1.2))
      printf "[bench] warning: %s changed from %s to %s between its two measurements\n", what, a, b > "/dev/stderr"
    printf "%.1f", (a + b) / 2 }'
}

# For the record (not in the table): what one RS256 verification costs, as
# /auth/verify does it and with the public key parsed once.
"$EX/rsa_verify_rate" --seconds 1 >"$RUN_DIR/rsa-verify.txt" 2>&1 || true
# And the server's hashing pattern (semaphore + blocking pool) with argon2 memory
# allocated per hash, as now, against a pool of buffers allocated once.
for mode in alloc pool; do
  "$EX/argon2_pool" --mode "$mode" --seconds "$SPEED_SECONDS" >>"$RUN_DIR/argon2-pool.txt" 2>&1 || true
done

# ---------------------------------------------------------------------------------
# 2. Start-up: exec to first 200, median of $STARTS.

settle
startup_median() { grep -o 'median=[0-9.]*' "$1" | cut -d= -f2; }

MAIN="$TMP/main"
mkdir -p "$MAIN"
MAIN_ARGS=(--database-url "sqlite://$MAIN/db.sqlite" --keys-dir "$MAIN/keys" --seed "$TMP/seed.toml")
read -ra EXTRA_ARGS <<<"${BENCH_SERVER_ARGS:-}"
MAIN_ARGS+=("${EXTRA_ARGS[@]}")

log "localidp: first start (creates the SQLite database and keys)"
PORT=$(free_port)
start_localidp localidp-first "$PORT" "${MAIN_ARGS[@]}"
stop_pid "$SERVER_PID"

log "localidp: $STARTS starts with the existing database and keys"
PORT=$(free_port)
"$EX/startup_time" --url "http://127.0.0.1:$PORT/healthz" --runs "$STARTS" --log "$RUN_DIR/localidp-startup.log" \
  -- "$BIN" serve --host 127.0.0.1 --port "$PORT" "${MAIN_ARGS[@]}" >"$RUN_DIR/startup-localidp.txt"
R[start_existing]=$(startup_median "$RUN_DIR/startup-localidp.txt")

log "localidp: $STARTS starts with --ephemeral"
PORT=$(free_port)
"$EX/startup_time" --url "http://127.0.0.1:$PORT/healthz" --runs "$STARTS" --log "$RUN_DIR/localidp-startup.log" \
  -- "$BIN" serve --host 127.0.0.1 --port "$PORT" --ephemeral >"$RUN_DIR/startup-localidp-ephemeral.txt"
R[start_ephemeral]=$(startup_median "$RUN_DIR/startup-localidp-ephemeral.txt")

# Production mode (README "Running in production"): the 5a start with --env production,
# on a copy of the database and keys (a key-encryption key may rewrite the keys), then
# VmRSS 1 s after a production start and after a default one, one after the other.
BENCH_KEK=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=
PROD="$TMP/prod"
cp -a "$MAIN" "$PROD"
PROD_ARGS=(--database-url "sqlite://$PROD/db.sqlite" --keys-dir "$PROD/keys" --seed "$TMP/seed.toml"
  "${EXTRA_ARGS[@]}" --env production --trusted-proxies 127.0.0.1)
log "localidp: $STARTS starts in production mode"
PORT=$(free_port)
LOCALIDP_KEY_ENCRYPTION_KEY=$BENCH_KEK "$EX/startup_time" --url "http://127.0.0.1:$PORT/healthz" --runs "$STARTS" \
  --log "$RUN_DIR/localidp-startup.log" -- "$BIN" serve --host 127.0.0.1 --port "$PORT" "${PROD_ARGS[@]}" \
  >"$RUN_DIR/startup-localidp-production.txt"
R[start_production]=$(startup_median "$RUN_DIR/startup-localidp-production.txt")
export LOCALIDP_KEY_ENCRYPTION_KEY=$BENCH_KEK
start_localidp localidp-production "$(free_port)" "${PROD_ARGS[@]}"
unset LOCALIDP_KEY_ENCRYPTION_KEY
sleep 1
R[rss_production]=$(kib "$SERVER_PID" VmRSS)
stop_pid "$SERVER_PID"
start_localidp localidp-default "$(free_port)" "${MAIN_ARGS[@]}"
sleep 1
R[rss_default]=$(kib "$SERVER_PID" VmRSS)
stop_pid "$SERVER_PID"

# The fixture mode: --ephemeral --seed with N users, each with a password (README
# "Fixture mode"); the same in --quick, the largest start takes about a second.
fixture_seed() { # N FILE
  awk -v n="$1" 'BEGIN {
    print "[[clients]]\nclient_id = \"fixture-app\"\npublic = true\n"
    for (i = 0; i < n; i++) printf "[[users]]\nemail = \"fixture%d@example.com\"\npassword = \"Fixture-pw-%d\"\n\n", i, i
  }' >"$2"
}
for n in 0 1000 10000; do
  fixture_seed "$n" "$TMP/fixture-$n.toml"
  log "localidp: $STARTS starts with --ephemeral --seed of $n users"
  PORT=$(free_port)
  "$EX/startup_time" --url "http://127.0.0.1:$PORT/healthz" --runs "$STARTS" --log "$RUN_DIR/localidp-startup.log" \
    -- "$BIN" serve --host 127.0.0.1 --port "$PORT" --ephemeral --seed "$TMP/fixture-$n.toml" \
    >"$RUN_DIR/startup-localidp-seed-$n.txt"
  R[start_seed_$n]=$(startup_median "$RUN_DIR/startup-localidp-seed-$n.txt")
done

# The Python test kit (python/, README "Use in tests"): LocalIdp.start, as its pytest
# fixtures call it, from the 1,000-user seed to a first token_for (5f; 5d is the server's
# own start with that seed), then token_for one after another on the kit's kept-alive
# connection (5g). Only the standard library is needed, so the machine's python3 runs it.
log "python test kit: $STARTS starts with the 1,000-user seed to a first token, then token_for for $KIT_SECONDS s"
if LOCALIDP_BIN="$BIN" PYTHONPATH="$ROOT/python" PYTHONDONTWRITEBYTECODE=1 python3 "$BENCH/testkit_python.py" \
  "$TMP/fixture-1000.toml" "$STARTS" "$KIT_SECONDS" fixture999@example.com fixture-app >"$RUN_DIR/testkit-python.txt" 2>&1; then
  R[kit_first_token]=$(grep -o 'first_token_median=[0-9.]*' "$RUN_DIR/testkit-python.txt" | cut -d= -f2)
  R[kit_token_rate]=$(grep -o 'token_for_rate=[0-9.]*' "$RUN_DIR/testkit-python.txt" | cut -d= -f2)
else
  log "warning: the python test kit rows failed (see $RUN_DIR/testkit-python.txt)"
fi

PEERS=(oidc-provider oauth2-mock-server)
if ((PEERS_OK)); then
  for peer in "${PEERS[@]}"; do
    key="$TMP/$peer-key.json"
    log "$peer: first start (creates its key file), then $STARTS starts with it and $STARTS without"
    PORT=$(free_port)
    start_peer "$peer" "$PORT" "$key"
    stop_pid "$SERVER_PID"
    PORT=$(free_port)
    "$EX/startup_time" --url "http://127.0.0.1:$PORT/.well-known/openid-configuration" --runs "$STARTS" \
      --log "$RUN_DIR/$peer-startup.log" -- env NODE_ENV=production node "$BENCH/peers/$peer.mjs" "$PORT" "$key" \
      >"$RUN_DIR/startup-$peer.txt"
    R[start_existing_$peer]=$(startup_median "$RUN_DIR/startup-$peer.txt")
    PORT=$(free_port)
    "$EX/startup_time" --url "http://127.0.0.1:$PORT/.well-known/openid-configuration" --runs "$STARTS" \
      --log "$RUN_DIR/$peer-startup.log" -- env NODE_ENV=production node "$BENCH/peers/$peer.mjs" "$PORT" \
      >"$RUN_DIR/startup-$peer-ephemeral.txt"
    R[start_ephemeral_$peer]=$(startup_median "$RUN_DIR/startup-$peer-ephemeral.txt")
  done
fi

# ---------------------------------------------------------------------------------
# 3. localidp under load (the existing SQLite database from above), with the peers
# measured in between so that rows 4a and 4b compare figures taken a minute apart.

# Users for the Directory API rows (6a, 6b): a page of $top=100 must be full.
"$EX/bench_users" --out "$TMP/users-graph.jsonl" --count "$GRAPH_USERS" --start 5000000
"$BIN" --database-url "sqlite://$MAIN/db.sqlite" user import "$TMP/users-graph.jsonl" --tenant "$TENANT" \
  >>"$RUN_DIR/graph-import.log" 2>&1 || die "user import for the Graph rows failed (see $RUN_DIR/graph-import.log)"

log "localidp: load (${WRK_SECONDS}s per wrk run, $WRK_THREADS wrk threads)"
PORT=$(free_port)
URL="http://127.0.0.1:$PORT"
start_localidp localidp "$PORT" "${MAIN_ARGS[@]}"
LOCALIDP_PID=$SERVER_PID
sleep 1
R[rss_idle]=$(kib "$LOCALIDP_PID" VmRSS)

TOKEN_JSON=$(curl -sf -X POST --data "grant_type=client_credentials&client_id=$CLIENT_ID&client_secret=$CLIENT_SECRET" \
  "$URL/auth/token") || die "client_credentials token request failed"
BEARER=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])' <<<"$TOKEN_JSON")
curl -sf -o /dev/null -H "Authorization: Bearer $BEARER" "$URL/auth/verify" || die "/auth/verify refused the token"
JWKS_PATH=$(curl -sf "$URL/.well-known/openid-configuration" |
  python3 -c 'import json,sys,urllib.parse as u; print(u.urlsplit(json.load(sys.stdin)["jwks_uri"]).path)')

# /healthz and /auth/verify alternate twice (half the time each), so that a drift in
# the machine's speed affects both alike; the table has the mean of each pair.
settle
HALF_SECONDS=$(((WRK_SECONDS + 1) / 2))
((HALF_SECONDS < 2)) && HALF_SECONDS=2
for half in a b; do
  wrk_run "healthz-$half" get.lua "$URL/healthz" "$FAST_CONNS" "$HALF_SECONDS"
  BENCH_BEARER="$BEARER" wrk_run "verify-$half" get.lua "$URL/auth/verify" "$FAST_CONNS" "$HALF_SECONDS"
done

# 2c. Pass-through verification: a second localidp trusts this one as an upstream issuer
# (`[[trusted_issuers]]` with discovery_url and verify = true) and verifies this one's
# token (the same token repeated, as row 2) against its own token (also repeated),
# alternated on the same server.
FED="$TMP/fed"
mkdir -p "$FED"
read -r UP_ISS UP_AUD < <(python3 -c '
import base64, json, sys
p = sys.argv[1].split(".")[1]
c = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
print(c["iss"], c["aud"])' "$BEARER")
cat >"$FED/config.toml" <<EOF
[[trusted_issuers]]
issuer = "$UP_ISS"
discovery_url = "$UP_ISS/.well-known/openid-configuration"
audience = "$UP_AUD"
verify = true
EOF
VPORT=$(free_port)
VURL="http://127.0.0.1:$VPORT"
start_localidp fed-verifier "$VPORT" --config "$FED/config.toml" --database-url "sqlite://$FED/db.sqlite" \
  --keys-dir "$FED/keys" --seed "$TMP/seed.toml"
FED_PID=$SERVER_PID
V_BEARER=$(curl -sf -X POST --data "grant_type=client_credentials&client_id=$CLIENT_ID&client_secret=$CLIENT_SECRET" \
  "$VURL/auth/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])') ||
  die "client_credentials token request to the pass-through verifier failed"
curl -sf -o /dev/null -H "Authorization: Bearer $BEARER" "$VURL/auth/verify" ||
  die "the pass-through verifier refused the upstream token (see $RUN_DIR/fed-verifier.log)"
settle
for half in a b; do
  BENCH_BEARER="$V_BEARER" wrk_run "fed-own-$half" get.lua "$VURL/auth/verify" "$FAST_CONNS" "$HALF_SECONDS"
  BENCH_BEARER="$BEARER" wrk_run "fed-upstream-$half" get.lua "$VURL/auth/verify" "$FAST_CONNS" "$HALF_SECONDS"
done
stop_pid "$FED_PID"

# The Directory API (Microsoft Graph): GET /v1.0/users?$top=100 with an app token
# (User.Read.All) and GET /v1.0/me with a user's (User.Read), alternated with /healthz
# as above.
GRAPH_APP=$(curl -sf -X POST --data "grant_type=client_credentials&client_id=$CLIENT_ID&client_secret=$CLIENT_SECRET&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default" \
  "$URL/auth/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])') ||
  die "Graph client_credentials token request failed"
GRAPH_USER=$(curl -sf -X POST --data-urlencode "username=$USER_EMAIL" --data-urlencode "password=$USER_PASSWORD" \
  --data "grant_type=password&client_id=$CLIENT_ID&client_secret=$CLIENT_SECRET&scope=User.Read" \
  "$URL/auth/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])') ||
  die "Graph password token request failed"
GRAPH_LIST_URL="$URL/v1.0/users?\$top=100"
GRAPH_PAGE=$(curl -sf -H "Authorization: Bearer $GRAPH_APP" "$GRAPH_LIST_URL" |
  python3 -c 'import json,sys; print(len(json.load(sys.stdin)["value"]))') || die "GET /v1.0/users refused the token"
((GRAPH_PAGE == 100)) || die "GET /v1.0/users?\$top=100 returned $GRAPH_PAGE users, not 100"
curl -sf -o /dev/null -H "Authorization: Bearer $GRAPH_USER" "$URL/v1.0/me" || die "GET /v1.0/me refused the token"
settle
for half in a b; do
  wrk_run "graph-healthz-$half" get.lua "$URL/healthz" "$FAST_CONNS" "$HALF_SECONDS"
  BENCH_BEARER="$GRAPH_APP" wrk_run "graph-users-$half" get.lua "$GRAPH_LIST_URL" "$FAST_CONNS" "$HALF_SECONDS"
  BENCH_BEARER="$GRAPH_USER" wrk_run "graph-me-$half" get.lua "$URL/v1.0/me" "$FAST_CONNS" "$HALF_SECONDS"
done

settle
log "token issuance between two openssl speed runs"
rsa_before=$(rsa_sign_rate "$RUN_DIR/openssl-speed-before.txt")
wrk_run token-localidp client_credentials.lua "$URL/auth/token" "$TOKEN_CONNS" "$WRK_SECONDS"
rsa_after=$(rsa_sign_rate "$RUN_DIR/openssl-speed-after.txt")
R[rsa_sign]=$(mean2 "$rsa_before" "$rsa_after" "RSA-2048 sign/s")
[[ -n "${R[rsa_sign]}" ]] || log "warning: could not parse openssl speed output"
wrk_run jwks-localidp get.lua "$URL$JWKS_PATH" "$FAST_CONNS" "$WRK_SECONDS"

# 4. Peers under the same load (localidp stays up, idle).
if ((PEERS_OK)); then
  for peer in "${PEERS[@]}"; do
    settle
    log "$peer: load"
    PORT=$(free_port)
    PURL="http://127.0.0.1:$PORT"
    start_peer "$peer" "$PORT" "$TMP/$peer-key.json"
    sleep 1
    R[rss_idle_$peer]=$(kib "$SERVER_PID" VmRSS)
    # Both peers serve the token endpoint at /token and the JWKS at /jwks.
    curl -sf -o /dev/null -X POST \
      --data "grant_type=client_credentials&client_id=$CLIENT_ID&client_secret=$CLIENT_SECRET" "$PURL/token" ||
      die "$peer refused a client_credentials request"
    wrk_run "token-$peer" client_credentials.lua "$PURL/token" "$TOKEN_CONNS" "$WRK_SECONDS"
    wrk_run "jwks-$peer" get.lua "$PURL/jwks" "$FAST_CONNS" "$WRK_SECONDS"
    R[rss_peak_$peer]=$(kib "$SERVER_PID" VmHWM)
    stop_pid "$SERVER_PID"
    R[token_$peer]=$(wrk_rps "token-$peer")
    R[jwks_$peer]=$(wrk_rps "jwks-$peer")
  done
fi
SERVER_PID=$LOCALIDP_PID

settle
log "localidp: password sign-in between two argon2 reference runs"
argon2_before=$(argon2_rate "$RUN_DIR/argon2-before.txt")
wrk_run password password.lua "$URL/auth/token" "$PASSWORD_CONNS" "$WRK_SECONDS"
wrk_run login login.lua "$URL/auth/login" "$PASSWORD_CONNS" "$WRK_SECONDS"
argon2_after=$(argon2_rate "$RUN_DIR/argon2-after.txt")
R[argon2]=$(mean2 "$argon2_before" "$argon2_after" "argon2id hashes/s")

# The storm: password grants for the whole window, /auth/verify measured inside it,
# against /auth/verify alone measured right before.
settle
BENCH_BEARER="$BEARER" wrk_run verify-alone get.lua "$URL/auth/verify" "$FAST_CONNS" "$WRK_SECONDS"
wrk_run storm-password password.lua "$URL/auth/token" "$PASSWORD_CONNS" "$((WRK_SECONDS + 2))" &
STORM_PID=$!
PIDS+=("$STORM_PID")
sleep 1
BENCH_BEARER="$BEARER" wrk_run storm-verify get.lua "$URL/auth/verify" "$FAST_CONNS" "$WRK_SECONDS"
wait "$STORM_PID" || true
forget_pid "$STORM_PID"

R[rss_peak]=$(kib "$LOCALIDP_PID" VmHWM)
R[rss_after]=$(kib "$LOCALIDP_PID" VmRSS)
R[threads_after]=$(awk '$1 == "Threads:" { print $2 }' "/proc/$LOCALIDP_PID/status")

# 2b. Distinct tokens: minted here (after the memory figures), verified below.
log "minting $DISTINCT_TOKENS distinct tokens (client_credentials)"
"$EX/mint_tokens" --url "$URL/auth/token" --client-id "$CLIENT_ID" --client-secret "$CLIENT_SECRET" \
  --count "$DISTINCT_TOKENS" --connections 8 --out "$TMP/tokens.txt" >"$RUN_DIR/mint-tokens.txt" 2>&1 ||
  die "minting tokens failed (see $RUN_DIR/mint-tokens.txt)"
R_NOTES+=("row 2b: $(cat "$RUN_DIR/mint-tokens.txt") beforehand; rate timed from each pass's first request to its last answer, $DISTINCT_PASSES pass(es), a fresh server each")
stop_pid "$LOCALIDP_PID"

# Each pass: a fresh server on the same database and keys (its cache of verified tokens
# empty; the tokens' issuer is the URL they were minted at), every token sent once; then,
# on the same server, the same client script (same requests, same Lua) against /healthz:
# the reference the row's target is judged against, the client's cost on both sides.
DISTINCT_RATES=()
DISTINCT_REFS=()
for pass in $(seq 1 "$DISTINCT_PASSES"); do
  settle
  log "localidp: verification of $DISTINCT_TOKENS distinct tokens, pass $pass"
  DPORT=$(free_port)
  start_localidp "localidp-distinct" "$DPORT" "${MAIN_ARGS[@]}" --public-url "http://localhost:${URL##*:}"
  wait_idle "$SERVER_PID"
  BENCH_THREADS=$WRK_THREADS BENCH_TOKENS_FILE="$TMP/tokens.txt" \
    wrk_run "verify-distinct-$pass" verify_distinct.lua "http://127.0.0.1:$DPORT/auth/verify" "$FAST_CONNS" "$DISTINCT_SECONDS"
  BENCH_THREADS=$WRK_THREADS BENCH_TOKENS_FILE="$TMP/tokens.txt" \
    wrk_run "healthz-distinct-$pass" verify_distinct.lua "http://127.0.0.1:$DPORT/healthz" "$FAST_CONNS" "$DISTINCT_SECONDS"
  stop_pid "$SERVER_PID"
  ref=$(grep '^DISTINCT_RESULT' "$RUN_DIR/wrk-healthz-distinct-$pass.txt" | tr ' ' '\n' | awk -F= '$1 == "rps" { print $2 }' || true)
  [[ -n "$ref" ]] && DISTINCT_REFS+=("$ref")
  line=$(grep '^DISTINCT_RESULT' "$RUN_DIR/wrk-verify-distinct-$pass.txt" || true)
  rate=$(tr ' ' '\n' <<<"$line" | awk -F= '$1 == "rps" { print $2 }')
  refused=$(tr ' ' '\n' <<<"$line" | awk -F= '$1 == "refused" { print $2 }')
  if [[ -z "$rate" || "${refused:-1}" != 0 ]]; then
    log "warning: distinct-token pass $pass incomplete or refused tokens: ${line:-no result} (see $RUN_DIR/wrk-verify-distinct-$pass.txt)"
  else
    DISTINCT_RATES+=("$rate")
  fi
done
R[verify_distinct]=""
if ((${#DISTINCT_RATES[@]} > 0)); then
  R[verify_distinct]=$(printf '%s\n' "${DISTINCT_RATES[@]}" | awk '{ s += $1; n++ } END { printf "%.1f", s / n }')
  R_NOTES+=("row 2b passes: ${DISTINCT_RATES[*]} tokens/s")
fi
R[verify_distinct_ref]=""
if ((${#DISTINCT_REFS[@]} > 0)); then
  R[verify_distinct_ref]=$(printf '%s\n' "${DISTINCT_REFS[@]}" | awk '{ s += $1; n++ } END { printf "%.1f", s / n }')
  R_NOTES+=("row 2b reference passes (GET /healthz through the same script): ${DISTINCT_REFS[*]} req/s")
fi

R[healthz]=$(mean2 "$(wrk_rps healthz-a)" "$(wrk_rps healthz-b)" "/healthz req/s")
R[verify]=$(mean2 "$(wrk_rps verify-a)" "$(wrk_rps verify-b)" "/auth/verify req/s")
R[token]=$(wrk_rps token-localidp)
R[jwks]=$(wrk_rps jwks-localidp)
R[password]=$(wrk_rps password)
R[login]=$(wrk_rps login)
R[graph_healthz]=$(mean2 "$(wrk_rps graph-healthz-a)" "$(wrk_rps graph-healthz-b)" "/healthz req/s (Graph rows)")
R[graph_users]=$(mean2 "$(wrk_rps graph-users-a)" "$(wrk_rps graph-users-b)" "GET /v1.0/users req/s")
R[graph_me]=$(mean2 "$(wrk_rps graph-me-a)" "$(wrk_rps graph-me-b)" "GET /v1.0/me req/s")
R[verify_alone]=$(wrk_rps verify-alone)
R[verify_fed_own]=$(mean2 "$(wrk_rps fed-own-a)" "$(wrk_rps fed-own-b)" "row 2c own-token req/s")
R[verify_fed_upstream]=$(mean2 "$(wrk_rps fed-upstream-a)" "$(wrk_rps fed-upstream-b)" "row 2c upstream-token req/s")
R[storm_verify]=$(wrk_rps storm-verify)
R[storm_password]=$(wrk_rps storm-password)

# ---------------------------------------------------------------------------------
# 10. HTTPS: a plain and a --tls server on the main database, up together, each load
# alternated between them (rows 10a-10d). 11. Many idle connections (rows 11a, 11b).

TLS_HALF=$HALF_SECONDS
((QUICK)) && TLS_HALF=1
STIME_SECONDS=$((QUICK ? 2 : 5))
IDLE_CONNS=${BENCH_IDLE_CONNECTIONS:-10000}
IDLE_REFRESH=${BENCH_IDLE_REFRESH:-0}
# The row's server keeps idle connections this long (README: `--keep-alive`).
IDLE_KEEP_ALIVE=600
IDLE_PROBE_CONNS=4

# token_at URL [CURL_ARGS...]: a client_credentials access token from that server.
token_at() {
  local url=$1
  shift
  curl -sf "$@" -X POST --data "grant_type=client_credentials&client_id=$CLIENT_ID&client_secret=$CLIENT_SECRET" \
    "$url/auth/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
# stime_rate HOST:PORT FILE: new TLS connections a second, one at a time, each with a
# full handshake and GET /healthz (openssl s_time -new), over the run's wall time.
stime_rate() {
  local t0 t1 n
  t0=$(date +%s.%N)
  timeout $((STIME_SECONDS + 30)) openssl s_time -connect "$1" -new -time "$STIME_SECONDS" -www /healthz >"$2" 2>&1 || true
  t1=$(date +%s.%N)
  n=$(awk '/connections in .* real seconds/ { print $1 }' "$2" | tail -n1)
  [[ -n "$n" ]] && awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", n / (b - a) }' || true
}

settle
log "HTTPS: a plain and a --tls server, ${TLS_HALF}s per wrk run, alternated"
PPORT=$(free_port)
PURL="http://127.0.0.1:$PPORT"
start_localidp localidp-plain "$PPORT" "${MAIN_ARGS[@]}"
PLAIN_PID=$SERVER_PID
TPORT=$(free_port)
TURL="https://127.0.0.1:$TPORT"
"$BIN" serve --host 127.0.0.1 --port "$TPORT" "${MAIN_ARGS[@]}" --tls --tls-ca-out "$TMP/tls-ca.pem" \
  >>"$RUN_DIR/localidp-tls.log" 2>&1 &
TLS_PID=$!
PIDS+=("$TLS_PID")
wait_http "$TURL/healthz" 60 --cacert "$TMP/tls-ca.pem" || die "localidp --tls did not start (see $RUN_DIR/localidp-tls.log)"
PBEARER=$(token_at "$PURL") || die "client_credentials over HTTP failed"
TBEARER=$(token_at "$TURL" --cacert "$TMP/tls-ca.pem") || die "client_credentials over HTTPS failed"
curl -sf -o /dev/null --cacert "$TMP/tls-ca.pem" -H "Authorization: Bearer $TBEARER" "$TURL/auth/verify" ||
  die "/auth/verify over HTTPS refused the token"
# tls_pair KIND SCRIPT PATH CONNS HALF [BEARER_PLAIN BEARER_TLS]: one plain and one TLS
# run; the half b runs TLS first.
tls_pair() {
  local kind=$1 script=$2 path=$3 conns=$4 half=$5 order=(plain tls) side
  [[ $half == b ]] && order=(tls plain)
  for side in "${order[@]}"; do
    if [[ $side == plain ]]; then
      SERVER_PID=$PLAIN_PID BENCH_BEARER=${6:-} wrk_run "$kind-plain-$half" "$script" "$PURL$path" "$conns" "$TLS_HALF"
    else
      SERVER_PID=$TLS_PID BENCH_BEARER=${7:-} wrk_run "$kind-tls-$half" "$script" "$TURL$path" "$conns" "$TLS_HALF"
    fi
  done
}
for half in a b; do
  tls_pair token client_credentials.lua /auth/token "$TOKEN_CONNS" "$half"
  tls_pair verify get.lua /auth/verify "$FAST_CONNS" "$half" "$PBEARER" "$TBEARER"
done
# New connections: a TCP (and TLS) connection per request, wrk's 16 connections.
tls_pair close get_close.lua /healthz "$TOKEN_CONNS" a

# Handshakes one at a time: localidp against openssl s_server with a key and certificate
# of the same kind (ECDSA P-256, self-signed; localidp's is signed by its CA), which
# answers GET /healthz from a file with the same 15-byte body, measured before and after.
settle
log "TLS handshakes: openssl s_time -new, ${STIME_SECONDS}s each, against openssl s_server and localidp"
mkdir -p "$TMP/s_server"
printf '{"status":"ok"}' >"$TMP/s_server/healthz"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -keyout "$TMP/s_server/key.pem" -out "$TMP/s_server/cert.pem" >/dev/null 2>&1 || die "openssl req failed"
SPORT=$(free_port)
(cd "$TMP/s_server" && exec openssl s_server -accept "$SPORT" -cert cert.pem -key key.pem -WWW -quiet) \
  >>"$RUN_DIR/s_server.log" 2>&1 &
SSERVER_PID=$!
PIDS+=("$SSERVER_PID")
wait_http "https://127.0.0.1:$SPORT/healthz" 30 -k || die "openssl s_server did not start (see $RUN_DIR/s_server.log)"
stime_before=$(stime_rate "127.0.0.1:$SPORT" "$RUN_DIR/s_time-s_server-before.txt")
R[handshake]=$(stime_rate "127.0.0.1:$TPORT" "$RUN_DIR/s_time-localidp.txt")
stime_after=$(stime_rate "127.0.0.1:$SPORT" "$RUN_DIR/s_time-s_server-after.txt")
R[handshake_ref]=$(mean2 "$stime_before" "$stime_after" "openssl s_server handshakes/s")
stop_pid "$SSERVER_PID"
stop_pid "$TLS_PID"
stop_pid "$PLAIN_PID"
for k in token verify; do
  R[${k}_plain]=$(mean2 "$(wrk_rps "$k-plain-a")" "$(wrk_rps "$k-plain-b")" "$k over HTTP req/s")
  R[${k}_tls]=$(mean2 "$(wrk_rps "$k-tls-a")" "$(wrk_rps "$k-tls-b")" "$k over HTTPS req/s")
done
R[close_plain]=$(wrk_rps close-plain-a)
R[close_tls]=$(wrk_rps close-tls-a)

# 14. Prometheus metrics: a server without and one with --metrics-listen (every request
# recorded) on the main database, up together, each load alternated between them as in
# row 10; then one scrape must show the token requests it counted.
settle
log "metrics: servers without and with --metrics-listen, ${TLS_HALF}s per wrk run, alternated"
OFF_PORT=$(free_port)
start_localidp localidp-metrics-off "$OFF_PORT" "${MAIN_ARGS[@]}"
METRICS_OFF_PID=$SERVER_PID
ON_PORT=$(free_port)
METRICS_PORT=$(free_port)
start_localidp localidp-metrics-on "$ON_PORT" "${MAIN_ARGS[@]}" --metrics-listen "127.0.0.1:$METRICS_PORT"
METRICS_ON_PID=$SERVER_PID
OFF_BEARER=$(token_at "http://127.0.0.1:$OFF_PORT") || die "client_credentials (metrics off) failed"
ON_BEARER=$(token_at "http://127.0.0.1:$ON_PORT") || die "client_credentials (metrics on) failed"
# metrics_pair KIND SCRIPT PATH CONNS HALF [BEARER_OFF BEARER_ON]: the half b runs "on" first.
metrics_pair() {
  local kind=$1 script=$2 path=$3 conns=$4 half=$5 order=(off on) side
  [[ $half == b ]] && order=(on off)
  for side in "${order[@]}"; do
    if [[ $side == off ]]; then
      SERVER_PID=$METRICS_OFF_PID BENCH_BEARER=${6:-} wrk_run "$kind-metrics-off-$half" "$script" "http://127.0.0.1:$OFF_PORT$path" "$conns" "$TLS_HALF"
    else
      SERVER_PID=$METRICS_ON_PID BENCH_BEARER=${7:-} wrk_run "$kind-metrics-on-$half" "$script" "http://127.0.0.1:$ON_PORT$path" "$conns" "$TLS_HALF"
    fi
  done
}
for half in a b; do
  metrics_pair token client_credentials.lua /auth/token "$TOKEN_CONNS" "$half"
  metrics_pair verify get.lua /auth/verify "$FAST_CONNS" "$half" "$OFF_BEARER" "$ON_BEARER"
done
curl -sf "http://127.0.0.1:$METRICS_PORT/metrics" >"$RUN_DIR/metrics.txt" || die "the metrics listener did not answer"
metrics_tokens=$(awk '/^localidp_tokens_issued_total\{grant="client_credentials",flavour="plain"\}/ { print $2 }' "$RUN_DIR/metrics.txt")
[[ -n "$metrics_tokens" ]] && awk -v n="$metrics_tokens" 'BEGIN { exit !(n > 0) }' ||
  die "the scrape counted no client_credentials tokens (see $RUN_DIR/metrics.txt)"
stop_pid "$METRICS_ON_PID"
stop_pid "$METRICS_OFF_PID"
for k in token verify; do
  R[${k}_metrics_off]=$(mean2 "$(wrk_rps "$k-metrics-off-a")" "$(wrk_rps "$k-metrics-off-b")" "$k without metrics req/s")
  R[${k}_metrics_on]=$(mean2 "$(wrk_rps "$k-metrics-on-a")" "$(wrk_rps "$k-metrics-on-b")" "$k with metrics req/s")
done

# 11. Many idle keep-alive connections held by bench/idle_connections.py against a
# fresh plain server: its VmRSS with them, and /healthz p99 from one more client (wrk,
# 1 thread, $IDLE_PROBE_CONNS connections) with them against without them (before + after).
hard=$(ulimit -Hn)
[[ $hard == unlimited ]] && hard=1048576
ulimit -n "$hard" 2>/dev/null || true
NOFILE=$(ulimit -n)
if ((NOFILE < IDLE_CONNS + 256)); then
  IDLE_CONNS=$((NOFILE - 256))
  R_NOTES+=("rows 11a/11b: the open-files limit ($NOFILE, hard) allowed only $IDLE_CONNS connections")
fi
settle
log "many connections: $IDLE_CONNS idle keep-alive connections (open files limit $NOFILE)"
IPORT=$(free_port)
IURL="http://127.0.0.1:$IPORT"
IDLE_ARGS=("${MAIN_ARGS[@]}")
# BENCH_SERVER_ARGS may set its own (the flag may be given once).
[[ " ${EXTRA_ARGS[*]} " == *" --keep-alive "* ]] || IDLE_ARGS+=(--keep-alive "$IDLE_KEEP_ALIVE")
start_localidp localidp-idle "$IPORT" "${IDLE_ARGS[@]}"
IDLE_SERVER_PID=$SERVER_PID
sleep 1
R[idle_rss_before]=$(kib "$IDLE_SERVER_PID" VmRSS)
wrk_run idle-healthz-before get.lua "$IURL/healthz" "$IDLE_PROBE_CONNS" "$LAT_SECONDS" 1
python3 "$BENCH/idle_connections.py" --port "$IPORT" --count "$IDLE_CONNS" --refresh "$IDLE_REFRESH" \
  >"$RUN_DIR/idle-connections.txt" 2>&1 &
IDLE_PID=$!
PIDS+=("$IDLE_PID")
for _ in $(seq 1 1200); do
  grep -q '^IDLE_READY' "$RUN_DIR/idle-connections.txt" && break
  kill -0 "$IDLE_PID" 2>/dev/null || break
  sleep 0.1
done
idle_ready=$(grep '^IDLE_READY' "$RUN_DIR/idle-connections.txt" || true)
if [[ -n "$idle_ready" ]]; then
  sleep 1
  rss_a=$(kib "$IDLE_SERVER_PID" VmRSS)
  wrk_run idle-healthz-with get.lua "$IURL/healthz" "$IDLE_PROBE_CONNS" "$LAT_SECONDS" 1
  rss_b=$(kib "$IDLE_SERVER_PID" VmRSS)
  R[idle_rss]=$(((${rss_a:-0} > ${rss_b:-0}) ? ${rss_a:-0} : ${rss_b:-0}))
  R[idle_fds]=$(find "/proc/$IDLE_SERVER_PID/fd" -mindepth 1 2>/dev/null | wc -l)
else
  log "warning: bench/idle_connections.py did not open its connections (see $RUN_DIR/idle-connections.txt)"
fi
kill -TERM "$IDLE_PID" 2>/dev/null || true
wait "$IDLE_PID" 2>/dev/null || true
forget_pid "$IDLE_PID"
idle_result=$(grep '^IDLE_RESULT' "$RUN_DIR/idle-connections.txt" || true)
R_NOTES+=("rows 11a/11b: ${idle_ready:-no IDLE_READY} ${idle_result:-no IDLE_RESULT}; the server had ${R[idle_fds]:-?} open files with them; $(if awk -v r="$IDLE_REFRESH" 'BEGIN { exit !(r > 0) }'; then echo "each connection sent GET /healthz every ${IDLE_REFRESH}s ($(awk -v n="$IDLE_CONNS" -v r="$IDLE_REFRESH" 'BEGIN { printf "%d", n / r }') req/s in all)"; else echo "each connection sent one GET /healthz and then nothing (server: --keep-alive $IDLE_KEEP_ALIVE)"; fi)")
if [[ -n "$idle_result" ]] && ! grep -q 'closed_by_server=0 ' <<<"$idle_result"; then
  log "warning: the server closed some of the idle connections: $idle_result"
fi
sleep 1
wrk_run idle-healthz-after get.lua "$IURL/healthz" "$IDLE_PROBE_CONNS" "$LAT_SECONDS" 1
stop_pid "$IDLE_SERVER_PID"
if [[ -n "$idle_ready" && -n "$(wrk_rps idle-healthz-with)" ]]; then
  R[idle_p99]=$(wrk_get idle-healthz-with p99_ms)
fi
if [[ -n "$(wrk_rps idle-healthz-before)" && -n "$(wrk_rps idle-healthz-after)" ]]; then
  R[idle_p99_ref]=$(mean2 "$(wrk_get idle-healthz-before p99_ms)" "$(wrk_get idle-healthz-after p99_ms)" "/healthz p99 without the idle connections")
fi

# ---------------------------------------------------------------------------------
# 5. Scale and import: sign-in latency with SMALL vs LARGE users; import rate.

log "generating $((LARGE_USERS - SMALL_USERS)) user rows (one bcrypt cost-4 hash reused)"
"$EX/bench_users" --out "$TMP/users-small.jsonl" --count "$((SMALL_USERS - 1))" --start 1
"$EX/bench_users" --out "$TMP/users-import.jsonl" --count "$IMPORT_ROWS" --start "$SMALL_USERS"
"$EX/bench_users" --out "$TMP/users-rest.jsonl" --count "$REST_ROWS" --start "$((SMALL_USERS + IMPORT_ROWS))"

HAVE_IMPORT=0
if "$BIN" user import --help >/dev/null 2>&1; then HAVE_IMPORT=1; fi

# import_file NAME DBURL FILE: runs `localidp user import`, prints rows/s.
import_file() {
  local name=$1 db=$2 file=$3 out
  out=$("$BIN" --database-url "$db" user import "$file" --tenant "$TENANT" 2>>"$RUN_DIR/$name.log") ||
    die "user import failed (see $RUN_DIR/$name.log)"
  echo "$out" >>"$RUN_DIR/$name.log"
  log "  $out"
  grep -o '([0-9.]* rows/s)' <<<"$out" | tr -d '(' | cut -d' ' -f1
}

# graph_pages NAME PORT SIZE: GET /v1.0/users?$top=100 pages from the middle of the
# tenant's users, one connection, in id order and in display-name order; fills
# R[NAME_graph_{id,name}_p50_SIZE]. The pages start from $skiptoken values made here in
# the server's format (src/graph/odata.rs: "u1:<id>", "u2:<id>:<lower-cased name>"):
# after the middle user id (read from the database: imported ids are time-ordered, not
# random) and after the name "bench user 5".
graph_pages() {
  local name=$1 port=$2 size=$3 db=$4 token base kind url n middle
  middle=$(python3 - "$db" <<'PY'
import sqlite3, subprocess, sys
db = sys.argv[1]
query = "select id from users order by id limit 1 offset (select count(*) / 2 from users)"
if db.startswith("sqlite://"):
    print(sqlite3.connect(db[len("sqlite://"):]).execute(query).fetchone()[0])
else:
    print(subprocess.run(["psql", db, "-qAt", "-c", query], check=True, capture_output=True, text=True).stdout.strip())
PY
) || die "$name: cannot read the middle user id"
  base="http://127.0.0.1:$port"
  token=$(curl -sf -X POST --data "grant_type=client_credentials&client_id=$CLIENT_ID&client_secret=$CLIENT_SECRET&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default" \
    "$base/auth/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])') ||
    die "$name: Graph token request failed"
  for kind in id name; do
    url=$(python3 - "$base" "$kind" "$middle" <<'PY'
import base64, sys
base, kind, middle = sys.argv[1], sys.argv[2], sys.argv[3]
raw = f"u1:{middle}" if kind == "id" else "u2:0:bench user 5"
tok = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
order = "&$orderby=displayName" if kind == "name" else ""
print(f"{base}/v1.0/users?$top=100{order}&$skiptoken={tok}")
PY
)
    n=$(curl -sf -H "Authorization: Bearer $token" "$url" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["value"]))') ||
      die "$name: $url failed"
    ((n == 100)) || die "$name: $url returned $n users, not 100"
    BENCH_BEARER="$token" wrk_run "$name-graph-$kind-$size" get.lua "$url" 1 "$LAT_SECONDS" 1
    R[${name}_graph_${kind}_p50_$size]=$(wrk_get "$name-graph-$kind-$size" p50_ms)
    R[${name}_graph_${kind}_p99_$size]=$(wrk_get "$name-graph-$kind-$size" p99_ms)
  done
}

# scale NAME DBURL KEYSDIR: fills R[NAME_*].
scale() {
  local name=$1 db=$2 keys=$3 port
  settle
  log "$name: database with the seed user, then $((SMALL_USERS - 1)) imported"
  port=$(free_port)
  start_localidp "$name" "$port" --database-url "$db" --keys-dir "$keys" --seed "$TMP/seed.toml"
  stop_pid "$SERVER_PID"
  import_file "$name" "$db" "$TMP/users-small.jsonl" >/dev/null

  port=$(free_port)
  start_localidp "$name" "$port" --database-url "$db" --keys-dir "$keys"
  wrk_run "$name-latency-small" login.lua "http://127.0.0.1:$port/auth/login" 1 "$LAT_SECONDS" 1
  graph_pages "$name" "$port" small "$db"
  stop_pid "$SERVER_PID"

  log "$name: importing $IMPORT_ROWS users (the import-rate row), then $REST_ROWS more"
  R[${name}_import]=$(import_file "$name" "$db" "$TMP/users-import.jsonl")
  if ((REST_ROWS > 0)); then import_file "$name" "$db" "$TMP/users-rest.jsonl" >/dev/null; fi

  port=$(free_port)
  start_localidp "$name" "$port" --database-url "$db" --keys-dir "$keys"
  settle
  wrk_run "$name-latency-large" login.lua "http://127.0.0.1:$port/auth/login" 1 "$LAT_SECONDS" 1
  graph_pages "$name" "$port" large "$db"
  stop_pid "$SERVER_PID"

  local s l
  s=$(wrk_rps "$name-latency-small")
  l=$(wrk_rps "$name-latency-large")
  if [[ -n "$s" && -n "$l" ]]; then
    R[${name}_p50_small]=$(wrk_get "$name-latency-small" p50_ms)
    R[${name}_p99_small]=$(wrk_get "$name-latency-small" p99_ms)
    R[${name}_p50_large]=$(wrk_get "$name-latency-large" p50_ms)
    R[${name}_p99_large]=$(wrk_get "$name-latency-large" p99_ms)
  fi
}

if ((HAVE_IMPORT)); then
  mkdir -p "$TMP/scale-sqlite"
  scale scale-sqlite "sqlite://$TMP/scale-sqlite/db.sqlite" "$TMP/scale-sqlite/keys"

  if [[ -n "$PG_ADMIN_URL" ]]; then
    if command -v psql >/dev/null 2>&1 && psql "$PG_ADMIN_URL" -qAt -c 'select 1' >/dev/null 2>&1; then
      PG_DB="localidp_bench_$(date +%s)_$$"
      psql "$PG_ADMIN_URL" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $PG_DB" >/dev/null
      PG_URL=$(python3 -c 'import sys, urllib.parse as u
p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$PG_ADMIN_URL" "$PG_DB")
      mkdir -p "$TMP/scale-postgres"
      scale scale-postgres "$PG_URL" "$TMP/scale-postgres/keys"
    else
      R_NOTES+=("PostgreSQL rows not run: cannot connect with psql to the given URL")
    fi
  else
    R_NOTES+=("PostgreSQL rows not run: set LOCALIDP_BENCH_POSTGRES_URL or LOCALIDP_TEST_POSTGRES_URL")
  fi
fi

# 12. The refresh-token grant (a database read and a write transaction per request)
# against client credentials, both sent by examples/refresh_chains (16 chains, one request
# in flight each) to the same server in the same run, client credentials before and
# after: SQLite, and PostgreSQL in a database of its own. Two refresh scopes: MSAL's
# `openid offline_access` (an ID token signed too) and an API's `.default` (one signature,
# as client credentials).
REFRESH_CHAINS=16
refresh_rows() { # name database-url keys-dir
  local name=$1 db=$2 keys=$3 port
  settle
  log "refresh grant vs client credentials: $name"
  port=$(free_port)
  start_localidp "$name" "$port" --database-url "$db" --keys-dir "$keys" --seed "$TMP/seed.toml"
  wait_idle "$SERVER_PID"
  local args=(--url "http://127.0.0.1:$port/auth/token" --client-id "$CLIENT_ID" --client-secret "$CLIENT_SECRET"
    --username "$USER_EMAIL" --password "$USER_PASSWORD" --chains "$REFRESH_CHAINS" --seconds "$REFRESH_SECONDS")
  "$EX/refresh_chains" "${args[@]}" --grant client_credentials >"$RUN_DIR/$name-cc-a.txt" 2>&1 || true
  "$EX/refresh_chains" "${args[@]}" --grant refresh_token >"$RUN_DIR/$name-openid.txt" 2>&1 || true
  "$EX/refresh_chains" "${args[@]}" --grant refresh_token --scope "offline_access $CLIENT_ID/.default" \
    >"$RUN_DIR/$name-api.txt" 2>&1 || true
  "$EX/refresh_chains" "${args[@]}" --grant client_credentials >"$RUN_DIR/$name-cc-b.txt" 2>&1 || true
  stop_pid "$SERVER_PID"
}
# refresh_rps FILE: the rate of a refresh_chains run, empty if it failed or had errors.
refresh_rps() {
  grep '^REFRESH_RESULT' "$1" 2>/dev/null | tr ' ' '\n' | awk -F= '
    $1 == "rps" { r = $2 } $1 == "errors" { e = $2 } END { if (r != "" && e == 0) print r }'
}
mkdir -p "$TMP/refresh-sqlite"
refresh_rows refresh-sqlite "sqlite://$TMP/refresh-sqlite/db.sqlite" "$TMP/refresh-sqlite/keys"
REFRESH_BACKENDS=(sqlite)
if [[ -n "$PG_ADMIN_URL" ]] && command -v psql >/dev/null 2>&1 && psql "$PG_ADMIN_URL" -qAt -c 'select 1' >/dev/null 2>&1; then
  REFRESH_PG_DB="localidp_bench_refresh_$(date +%s)_$$"
  psql "$PG_ADMIN_URL" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $REFRESH_PG_DB" >/dev/null
  REFRESH_PG_URL=$(python3 -c 'import sys, urllib.parse as u
p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$PG_ADMIN_URL" "$REFRESH_PG_DB")
  mkdir -p "$TMP/refresh-postgres"
  refresh_rows refresh-postgres "$REFRESH_PG_URL" "$TMP/refresh-postgres/keys"
  psql "$PG_ADMIN_URL" -q -c "DROP DATABASE IF EXISTS $REFRESH_PG_DB WITH (FORCE)" >/dev/null 2>&1 ||
    log "warning: could not drop database $REFRESH_PG_DB"
  REFRESH_BACKENDS+=(postgres)
fi
for b in "${REFRESH_BACKENDS[@]}"; do
  R[refresh_cc_$b]=$(mean2 "$(refresh_rps "$RUN_DIR/refresh-$b-cc-a.txt")" "$(refresh_rps "$RUN_DIR/refresh-$b-cc-b.txt")" "client credentials ($b, refresh rows)")
  R[refresh_openid_$b]=$(refresh_rps "$RUN_DIR/refresh-$b-openid.txt")
  R[refresh_api_$b]=$(refresh_rps "$RUN_DIR/refresh-$b-api.txt")
done

# 13. Replicas: two `serve` processes on one PostgreSQL database (keys in the database)
# against one of them alone, same database, same run: client credentials and
# /auth/verify with wrk's threads spread over the replicas' ports (bench/wrk/replicas.lua).
# The one-replica runs come before and after (the second replica stopped). Both
# replicas and wrk share the machine's cores: a second replica adds no CPU here.
replica_rows() { # database-url
  local db=$1 dir="$TMP/replicas" pa pb a_pid b_pid bearer
  mkdir -p "$dir"
  settle
  log "replicas: two on PostgreSQL vs one"
  pa=$(free_port)
  pb=$(free_port)
  # One public URL for both, as behind a load balancer: without it each replica's own
  # address is its issuer, and the other replica's tokens are another issuer's.
  local args=(--database-url "$db" --keys-dir "$dir/keys" --keys-in-database --seed "$TMP/seed.toml"
    --public-url "http://127.0.0.1:$pa")
  start_localidp replica-a "$pa" "${args[@]}"
  a_pid=$SERVER_PID
  wait_idle "$a_pid"
  bearer=$(token_at "http://127.0.0.1:$pa")
  # replicas_runs NAME PORTS: both requests with wrk's threads over these ports. The
  # URL names replica A for every connection: the Host header, and the token's `iss`.
  replicas_runs() {
    BENCH_BASE=client_credentials.lua BENCH_PORTS="$2" \
      wrk_run "replicas-cc-$1" replicas.lua "http://127.0.0.1:$pa/auth/token" "$TOKEN_CONNS" "$WRK_SECONDS"
    BENCH_BASE=get.lua BENCH_BEARER="$bearer" BENCH_PORTS="$2" \
      wrk_run "replicas-verify-$1" replicas.lua "http://127.0.0.1:$pa/auth/verify" "$FAST_CONNS" "$WRK_SECONDS"
  }
  replicas_runs one-a "$pa"
  start_localidp replica-b "$pb" "${args[@]}"
  b_pid=$SERVER_PID
  wait_idle "$b_pid"
  # wrk_run's server CPU figure is replica A's.
  SERVER_PID=$a_pid
  replicas_runs two "$pa,$pb"
  stop_pid "$b_pid"
  replicas_runs one-b "$pa"
  stop_pid "$a_pid"
}
if [[ -n "$PG_ADMIN_URL" ]] && command -v psql >/dev/null 2>&1 && psql "$PG_ADMIN_URL" -qAt -c 'select 1' >/dev/null 2>&1; then
  REPLICA_PG_DB="localidp_bench_replicas_$(date +%s)_$$"
  psql "$PG_ADMIN_URL" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $REPLICA_PG_DB" >/dev/null
  REPLICA_PG_URL=$(python3 -c 'import sys, urllib.parse as u
p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$PG_ADMIN_URL" "$REPLICA_PG_DB")
  replica_rows "$REPLICA_PG_URL"
  psql "$PG_ADMIN_URL" -q -c "DROP DATABASE IF EXISTS $REPLICA_PG_DB WITH (FORCE)" >/dev/null 2>&1 ||
    log "warning: could not drop database $REPLICA_PG_DB"
  for kind in cc verify; do
    R[replicas_${kind}_one]=$(mean2 "$(wrk_rps "replicas-$kind-one-a")" "$(wrk_rps "replicas-$kind-one-b")" "one replica $kind")
    R[replicas_${kind}_two]=$(wrk_rps "replicas-$kind-two")
  done
fi

# 5b. Streamed import: STREAM_ROWS pre-hashed rows into a fresh database, rows/s and the
# import's peak RSS (bench/import_stream.sh; PostgreSQL in a database of its own).
if ((HAVE_IMPORT)); then
  settle
  log "streamed import: $STREAM_ROWS pre-hashed rows"
  STREAM_PG_URL=""
  if [[ -n "$PG_DB" ]]; then
    STREAM_PG_DB="${PG_DB}_stream"
    psql "$PG_ADMIN_URL" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $STREAM_PG_DB" >/dev/null
    STREAM_PG_URL=$(python3 -c 'import sys, urllib.parse as u
p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$PG_ADMIN_URL" "$STREAM_PG_DB")
  fi
  "$BENCH/import_stream.sh" "$STREAM_ROWS" "$STREAM_PG_URL" >"$RUN_DIR/import-stream.txt" 2>"$RUN_DIR/import-stream.log" ||
    log "warning: bench/import_stream.sh failed (see $RUN_DIR/import-stream.log)"
  if [[ -n "$STREAM_PG_URL" ]]; then
    psql "$PG_ADMIN_URL" -q -c "DROP DATABASE IF EXISTS $STREAM_PG_DB WITH (FORCE)" >/dev/null 2>&1 ||
      log "warning: could not drop database $STREAM_PG_DB"
  fi
  # Full mode: the peak RSS of a much longer file (SQLite; its rate is not judged).
  if ((STREAM_RSS_ROWS > 0)); then
    settle
    log "streamed import: $STREAM_RSS_ROWS pre-hashed rows, peak RSS"
    "$BENCH/import_stream.sh" "$STREAM_RSS_ROWS" >"$RUN_DIR/import-stream-rss.txt" 2>"$RUN_DIR/import-stream-rss.log" ||
      log "warning: bench/import_stream.sh $STREAM_RSS_ROWS failed (see $RUN_DIR/import-stream-rss.log)"
    line=$(grep "^IMPORT_STREAM backend=sqlite " "$RUN_DIR/import-stream-rss.txt" 2>/dev/null || true)
    R[stream_long_rate]=$(grep -o 'rows_per_s=[0-9.]*' <<<"$line" | cut -d= -f2)
    R[stream_long_rss]=$(grep -o 'peak_rss_mb=[0-9.]*' <<<"$line" | cut -d= -f2)
  fi
  for backend in sqlite postgres; do
    line=$(grep "^IMPORT_STREAM backend=$backend " "$RUN_DIR/import-stream.txt" 2>/dev/null || true)
    [[ -n "$line" ]] || continue
    R[stream_${backend}_rate]=$(grep -o 'rows_per_s=[0-9.]*' <<<"$line" | cut -d= -f2)
    R[stream_${backend}_rss]=$(grep -o 'peak_rss_mb=[0-9.]*' <<<"$line" | cut -d= -f2)
  done
fi

# 5c. `localidp migrate`: MIGRATE_ROWS users from SQLite to PostgreSQL (to SQLite without
# a PostgreSQL URL), against `user import` of the same users into the same kind of
# database (bench/migrate.sh; two PostgreSQL databases of their own).
if "$BIN" migrate --help >/dev/null 2>&1; then
  settle
  log "migrate: $MIGRATE_ROWS users"
  MIGRATE_PG_ARGS=()
  if [[ -n "$PG_DB" ]]; then
    for suffix in migrate migrate_ref; do
      psql "$PG_ADMIN_URL" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE ${PG_DB}_$suffix" >/dev/null
      MIGRATE_PG_ARGS+=("$(python3 -c 'import sys, urllib.parse as u
p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$PG_ADMIN_URL" "${PG_DB}_$suffix")")
    done
  fi
  "$BENCH/migrate.sh" "$MIGRATE_ROWS" "${MIGRATE_PG_ARGS[@]}" >"$RUN_DIR/migrate.txt" 2>"$RUN_DIR/migrate.log" ||
    log "warning: bench/migrate.sh failed (see $RUN_DIR/migrate.log)"
  if [[ -n "$PG_DB" ]]; then
    for suffix in migrate migrate_ref; do
      psql "$PG_ADMIN_URL" -q -c "DROP DATABASE IF EXISTS ${PG_DB}_$suffix WITH (FORCE)" >/dev/null 2>&1 ||
        log "warning: could not drop database ${PG_DB}_$suffix"
    done
  fi
  line=$(grep "^MIGRATE " "$RUN_DIR/migrate.txt" 2>/dev/null || true)
  R[migrate_target]=$(grep -o 'target=[a-z]*' <<<"$line" | cut -d= -f2)
  R[migrate_rate]=$(grep -o 'migrate_rows_per_s=[0-9.]*' <<<"$line" | cut -d= -f2)
  R[migrate_ref]=$(grep -o 'import_rows_per_s=[0-9.]*' <<<"$line" | cut -d= -f2)
fi

# ---------------------------------------------------------------------------------
# 6. Failed sign-in timing: bench/signin_timing.sh, with a server and database of its
# own (lockout as by default; no measured account reaches the threshold).

settle
log "failed sign-in timing: $TIMING_TRIES tries per row, one at a time"
BENCH_SKIP_BUILD=1 BENCH_TIMING_TRIES="$TIMING_TRIES" "$BENCH/signin_timing.sh" \
  >"$RUN_DIR/signin-timing.txt" 2>"$RUN_DIR/signin-timing.log" ||
  log "warning: bench/signin_timing.sh failed (see $RUN_DIR/signin-timing.log)"
# timing_get ROW FIELD: a field of that row's TIMING_RESULT line.
timing_get() {
  grep "^TIMING_RESULT row=$1 " "$RUN_DIR/signin-timing.txt" 2>/dev/null |
    tr ' ' '\n' | awk -F= -v k="$2" '$1 == k { print $2 }' || true
}

# ---------------------------------------------------------------------------------
# The table

ROWS=()
add_row() { ROWS+=("| $1 | $2 | $3 | $4 | $5 | $6 |"); }
NA="n/a"
ratio() { # ratio A B (A/B, 2 decimals) or empty
  [[ -n "$1" && -n "$2" ]] && awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b }' || true
}
rps() { [[ -n "$1" ]] && echo "$(fmt "$1") req/s" || echo "$NA"; }
# the faster peer for KEY (higher is better) -> "value name"
best_peer() {
  local key=$1 better=$2 best="" name="" p v
  for p in "${PEERS[@]}"; do
    v=${R[${key}_$p]:-}
    [[ -n "$v" ]] || continue
    if [[ -z "$best" ]] || awk -v v="$v" -v b="$best" -v hi="$better" \
      'BEGIN { exit !((hi == "high") ? (v > b) : (v < b)) }'; then
      best=$v
      name=$p
    fi
  done
  [[ -n "$best" ]] && echo "$best $name" || true
}

# 1. token issuance vs RSA signing
r=$(ratio "${R[token]}" "${R[rsa_sign]}")
add_row "1. Token issuance: POST /auth/token client_credentials, client_secret_post, RS256" \
  "$(rps "${R[token]}")" "$([[ -n "${R[rsa_sign]}" ]] && echo "$(fmt "${R[rsa_sign]}") RSA-2048 sign/s (openssl speed -multi $NPROC, before + after)" || echo "$NA")" \
  "${r:-$NA}" "≥ 0.8" "$(judge "$r" ">=" 0.8)"
# 2. verification vs healthz
r=$(ratio "${R[verify]}" "${R[healthz]}")
add_row "2. Verification: GET /auth/verify with a valid Bearer token" "$(rps "${R[verify]}")" \
  "$(rps "${R[healthz]}") GET /healthz (runs alternated)" "${r:-$NA}" "≥ 0.6" "$(judge "$r" ">=" 0.6)"
# 2c. upstream tokens (pass-through) vs the verifier's own tokens
r=$(ratio "${R[verify_fed_upstream]}" "${R[verify_fed_own]}")
add_row "2c. Pass-through verification: GET /auth/verify of a trusted upstream issuer's token (discovery_url, verify = true; the same token repeated)" \
  "$(rps "${R[verify_fed_upstream]}")" "$(rps "${R[verify_fed_own]}") the verifier's own token, repeated (runs alternated)" "${r:-$NA}" "≥ 0.9" "$(judge "$r" ">=" 0.9)"
# 2b. distinct tokens vs /healthz through the same client script (target); against row
# 2's plain-wrk /healthz in the notes.
r=$(ratio "${R[verify_distinct]}" "${R[verify_distinct_ref]}")
r_plain=$(ratio "${R[verify_distinct]}" "${R[healthz]}")
R_NOTES+=("row 2b against row 2's /healthz (plain wrk, no Lua): ${r_plain:-n/a}")
add_row "2b. Verification of $(fmt "$DISTINCT_TOKENS") distinct tokens: GET /auth/verify, each token once (not the cached repeat)" \
  "$(rps "${R[verify_distinct]}")" "$(rps "${R[verify_distinct_ref]}") GET /healthz, same client script, same server" "${r:-$NA}" "≥ 0.5" "$(judge "$r" ">=" 0.5)"
# 3. password sign-in vs argon2
argon_ref="$([[ -n "${R[argon2]}" ]] && echo "$(fmt "${R[argon2]}" 1) argon2id hashes/s ($NPROC threads, before + after)" || echo "$NA")"
r=$(ratio "${R[password]}" "${R[argon2]}")
add_row "3a. Password sign-in: POST /auth/token grant_type=password" "$(rps "${R[password]}")" "$argon_ref" \
  "${r:-$NA}" "≥ 0.9" "$(judge "$r" ">=" 0.9)"
r=$(ratio "${R[login]}" "${R[argon2]}")
add_row "3b. Password sign-in: POST /auth/login (JSON)" "$(rps "${R[login]}")" "$argon_ref" \
  "${r:-$NA}" "≥ 0.9" "$(judge "$r" ">=" 0.9)"
r=$(ratio "${R[storm_verify]}" "${R[verify_alone]}")
add_row "3c. /auth/verify during a password-grant storm ($(rps "${R[storm_password]}") sign-ins alongside)" \
  "$(rps "${R[storm_verify]}")" "$(rps "${R[verify_alone]}") verify alone, just before" "${r:-$NA}" "≥ 0.5" "$(judge "$r" ">=" 0.5)"
# 4. peers
peer_row() { # label key unit
  local label=$1 key=$2 bp v name r
  bp=$(best_peer "$key" high)
  if [[ -z "$bp" ]]; then
    add_row "$label" "$(rps "${R[$key]}")" "$NA (peers not measured)" "$NA" "≥ 1.5" "$NA"
    return
  fi
  read -r v name <<<"$bp"
  r=$(ratio "${R[$key]}" "$v")
  add_row "$label" "$(rps "${R[$key]}")" "$(rps "$v") $name" "${r:-$NA}" "≥ 1.5" "$(judge "$r" ">=" 1.5)"
}
peer_row "4a. Peers: client_credentials token rate (localidp ÷ faster peer)" token
peer_row "4b. Peers: JWKS GET rate (localidp ÷ faster peer)" jwks
ms() { [[ -n "$1" ]] && echo "$(fmt "$1" 1) ms" || echo "$NA"; }
bp=$(best_peer start_existing low)
if [[ -n "$bp" ]]; then
  read -r v name <<<"$bp"
  r=$(ratio "$v" "${R[start_existing]}")
  add_row "4c. Peers: start-up with existing state (faster peer's time ÷ localidp's)" \
    "$(ms "${R[start_existing]}")" "$(ms "$v") $name" "${r:-$NA}" "≥ 1.5" "$(judge "$r" ">=" 1.5)"
else
  add_row "4c. Peers: start-up with existing state (faster peer's time ÷ localidp's)" \
    "$(ms "${R[start_existing]}")" "$NA (peers not measured)" "$NA" "≥ 1.5" "$NA"
fi
# 5. start-up, absolute
start_row() { # label key target
  local label=$1 key=$2 target=$3 bp v name ref r
  bp=$(best_peer "$key" low)
  ref="$NA"
  r=""
  if [[ -n "$bp" ]]; then
    read -r v name <<<"$bp"
    ref="$(ms "$v") $name"
    r=$(ratio "${R[$key]}" "$v")
  fi
  add_row "$label" "$(ms "${R[$key]}")" "$ref" "${r:-$NA}" "≤ $target ms" "$(judge "${R[$key]}" "<=" "$target")"
}
start_row "5a. Start-up to first 200 /healthz, existing SQLite database and keys (median of $STARTS)" start_existing 100
start_row "5b. Start-up to first 200 /healthz, --ephemeral (median of $STARTS)" start_ephemeral 300
add_row "5c. Start-up to first 200 /healthz, --ephemeral --seed with 0 users (median of $STARTS)" "$(ms "${R[start_seed_0]}")" "$NA" "$NA" "— (reported)" "—"
start_row "5d. Start-up to first 200 /healthz, --ephemeral --seed with 1,000 users with passwords (median of $STARTS)" start_seed_1000 300
add_row "5e. Start-up to first 200 /healthz, --ephemeral --seed with 10,000 users with passwords (median of $STARTS)" "$(ms "${R[start_seed_10000]}")" "$NA" "$NA" "— (reported)" "—"
r=$(ratio "${R[kit_first_token]:-}" "${R[start_seed_1000]}")
add_row "5f. Python test kit: LocalIdp.start (the pytest fixture) with the 1,000-user seed to a first token_for (median of $STARTS)" \
  "$(ms "${R[kit_first_token]:-}")" "$(ms "${R[start_seed_1000]}") row 5d, the server alone to /healthz" "${r:-$NA}" "— (reported)" "—"
add_row "5g. Python test kit: token_for (POST /_dev/token) one after another on one kept-alive connection" \
  "$([[ -n "${R[kit_token_rate]:-}" ]] && echo "$(fmt "${R[kit_token_rate]}") tokens/s" || echo "$NA")" "$NA" "$NA" "— (reported)" "—"
r=$(ratio "${R[start_production]:-}" "${R[start_existing]}")
add_row "5h. Start-up to first 200 /healthz in production mode (--env production), existing SQLite database and keys (median of $STARTS)" \
  "$(ms "${R[start_production]:-}")" "$(ms "${R[start_existing]}") row 5a, the default start" "${r:-$NA}" "— (reported)" "—"
# 6. memory
mb() { [[ -n "$1" ]] && awk -v k="$1" 'BEGIN { printf "%.1f MB", k / 1024 }' || echo "$NA"; }
mem_row() { # label key targetMB [note on the peer figure]
  local label=$1 key=$2 target=$3 note=${4:-} bp v name ref r mbv=""
  bp=$(best_peer "$key" low)
  ref="$NA"
  r=""
  if [[ -n "$bp" ]]; then
    read -r v name <<<"$bp"
    ref="$(mb "$v") $name$note"
    r=$(ratio "${R[$key]}" "$v")
  fi
  [[ -n "${R[$key]}" ]] && mbv=$(awk -v k="${R[$key]}" 'BEGIN { printf "%.2f", k / 1024 }')
  add_row "$label" "$(mb "${R[$key]}")" "$ref" "${r:-$NA}" "≤ $target MB" "$(judge "$mbv" "<=" "$target")"
}
mem_row "6a. Memory idle: VmRSS 1 s after start" rss_idle 20
mem_row "6b. Memory peak: VmHWM after all the load above (${R[threads_after]:-?} threads at the end)" rss_peak 80 \
  " (after its token + JWKS load)"
r=$(ratio "${R[rss_production]:-}" "${R[rss_default]:-}")
add_row "6c. Memory: VmRSS 1 s after a start in production mode (--env production)" \
  "$(mb "${R[rss_production]:-}")" "$(mb "${R[rss_default]:-}") the default start, same run" "${r:-$NA}" "— (reported)" "—"
# 7. scale
scale_rows() { # name label
  local n=$1 label=$2 r
  if [[ -z "${R[${n}_p50_large]:-}" ]]; then
    add_row "7. Scale, $label: sign-in p50 $(fmt "$LARGE_USERS") vs $(fmt "$SMALL_USERS") users" "$NA" "$NA" "$NA" "≤ 1.2" "$NA"
  else
    r=$(ratio "${R[${n}_p50_large]}" "${R[${n}_p50_small]}")
    add_row "7. Scale, $label: POST /auth/login latency, $(fmt "$LARGE_USERS") vs $(fmt "$SMALL_USERS") users (1 connection)" \
      "p50 $(fmt "${R[${n}_p50_large]}" 1) ms, p99 $(fmt "${R[${n}_p99_large]}" 1) ms" \
      "p50 $(fmt "${R[${n}_p50_small]}" 1) ms, p99 $(fmt "${R[${n}_p99_small]}" 1) ms" \
      "${r:-$NA}" "≤ 1.2" "$(judge "$r" "<=" 1.2)"
  fi
  local kind what
  for kind in id name; do
    what="GET /v1.0/users?\$top=100 from the middle, $([[ $kind == id ]] && echo "id order" || echo "\$orderby=displayName")"
    if [[ -z "${R[${n}_graph_${kind}_p50_large]:-}" || -z "${R[${n}_graph_${kind}_p50_small]:-}" ]]; then
      add_row "7. Scale, $label: Directory API $what" "$NA" "$NA" "$NA" "≤ 1.5" "$NA"
    else
      r=$(ratio "${R[${n}_graph_${kind}_p50_large]}" "${R[${n}_graph_${kind}_p50_small]}")
      add_row "7. Scale, $label: Directory API $what, $(fmt "$LARGE_USERS") vs $(fmt "$SMALL_USERS") users (1 connection)" \
        "p50 $(fmt "${R[${n}_graph_${kind}_p50_large]}" 1) ms, p99 $(fmt "${R[${n}_graph_${kind}_p99_large]}" 1) ms" \
        "p50 $(fmt "${R[${n}_graph_${kind}_p50_small]}" 1) ms, p99 $(fmt "${R[${n}_graph_${kind}_p99_small]}" 1) ms" \
        "${r:-$NA}" "≤ 1.5" "$(judge "$r" "<=" 1.5)"
    fi
  done
  if ((HAVE_IMPORT)) && [[ -n "${R[${n}_import]:-}" ]]; then
    add_row "7. Import, $label: $(fmt "$IMPORT_ROWS") users with bcrypt hashes (user import)" \
      "$(fmt "${R[${n}_import]}") rows/s" "—" "—" "≥ 10,000 rows/s" "$(judge "${R[${n}_import]}" ">=" 10000)"
  else
    add_row "7. Import, $label: $(fmt "$IMPORT_ROWS") users with bcrypt hashes" \
      "$([[ $HAVE_IMPORT == 0 ]] && echo "n/a (import command missing)" || echo "$NA")" "—" "—" "≥ 10,000 rows/s" "$NA"
  fi
}
scale_rows scale-sqlite SQLite
if [[ -n "$PG_DB" ]]; then
  scale_rows scale-postgres PostgreSQL
else
  add_row "7. Scale and import, PostgreSQL" "$NA (no PostgreSQL URL)" "—" "—" "≤ 1.2 / ≥ 10,000 rows/s" "$NA"
fi

# 7, streamed import: rate and peak RSS, each against its target.
for backend in sqlite postgres; do
  label=$([[ $backend == sqlite ]] && echo SQLite || echo PostgreSQL)
  rate=${R[stream_${backend}_rate]:-}
  rss=${R[stream_${backend}_rss]:-}
  if [[ -z "$rate" ]]; then
    add_row "7. Import streamed, $label: $(fmt "$STREAM_ROWS") pre-hashed rows (user import)" "$NA" "—" "—" "≥ 50,000 rows/s, ≤ 80 MB" "$NA"
    continue
  fi
  verdict=$(judge "$rate" ">=" 50000)/$(judge "$rss" "<=" 80)
  add_row "7. Import streamed, $label: $(fmt "$STREAM_ROWS") pre-hashed rows (user import; peak RSS = VmHWM)" \
    "$(fmt "$rate") rows/s, peak RSS $(fmt "$rss" 1) MB" "—" "—" "≥ 50,000 rows/s, ≤ 80 MB" "$verdict"
done

if ((STREAM_RSS_ROWS > 0)); then
  rss=${R[stream_long_rss]:-}
  measured=$NA
  [[ -n "$rss" ]] && measured="peak RSS $(fmt "$rss" 1) MB, $(fmt "${R[stream_long_rate]:-0}") rows/s"
  add_row "7. Import streamed, SQLite: $(fmt "$STREAM_RSS_ROWS") pre-hashed rows, memory (peak RSS = VmHWM; rate for information)" \
    "$measured" "—" "—" "≤ 80 MB" "$(judge "$rss" "<=" 80)"
fi

# 7c. migrate vs user import of the same users into the same kind of database
label=$([[ ${R[migrate_target]:-} == postgres ]] && echo "SQLite → PostgreSQL" || echo "SQLite → SQLite (no PostgreSQL URL)")
r=$(ratio "${R[migrate_rate]:-}" "${R[migrate_ref]:-}")
add_row "7c. Migrate, $label: $(fmt "$MIGRATE_ROWS") users (localidp migrate, rows/s of every kind)" \
  "$([[ -n "${R[migrate_rate]:-}" ]] && echo "$(fmt "${R[migrate_rate]}") rows/s" || echo "$NA")" \
  "$([[ -n "${R[migrate_ref]:-}" ]] && echo "$(fmt "${R[migrate_ref]}") rows/s user import of the same users, same target kind" || echo "$NA")" \
  "${r:-$NA}" "≥ 1.0" "$(judge "$r" ">=" 1.0)"

# 9. the Directory API (Microsoft Graph) vs healthz, runs alternated
r=$(ratio "${R[graph_users]}" "${R[graph_healthz]}")
add_row "9a. Directory API: GET /v1.0/users?\$top=100 (app token, User.Read.All; 100 users a page)" \
  "$(rps "${R[graph_users]}")" "$(rps "${R[graph_healthz]}") GET /healthz (runs alternated)" "${r:-$NA}" "≥ 0.05" "$(judge "$r" ">=" 0.05)"
r=$(ratio "${R[graph_me]}" "${R[graph_healthz]}")
add_row "9b. Directory API: GET /v1.0/me (delegated token, User.Read)" \
  "$(rps "${R[graph_me]}")" "$(rps "${R[graph_healthz]}") GET /healthz (runs alternated)" "${r:-$NA}" "≥ 0.3" "$(judge "$r" ">=" 0.3)"

# 12. refresh grant vs client credentials (same client, same server, same run)
for b in sqlite postgres; do
  label=$([[ $b == sqlite ]] && echo SQLite || echo PostgreSQL)
  letter=$([[ $b == sqlite ]] && echo "a" || echo "c")
  letter2=$([[ $b == sqlite ]] && echo "b" || echo "d")
  if [[ -z "${R[refresh_cc_$b]:-}" ]]; then
    add_row "12$letter. Refresh-token grant, $label" "$NA" "$NA" "$NA" "≥ 0.4" "$NA"
    continue
  fi
  cc="$(rps "${R[refresh_cc_$b]}") client_credentials, same client (before + after)"
  r=$(ratio "${R[refresh_openid_$b]}" "${R[refresh_cc_$b]}")
  add_row "12$letter. Refresh-token grant, $label: POST /auth/token grant_type=refresh_token, $REFRESH_CHAINS chains, scope openid offline_access (access + ID token)" \
    "$(rps "${R[refresh_openid_$b]}")" "$cc" "${r:-$NA}" "≥ 0.4" "$(judge "$r" ">=" 0.4)"
  r=$(ratio "${R[refresh_api_$b]}" "${R[refresh_cc_$b]}")
  add_row "12$letter2. Refresh-token grant, $label: the same, scope offline_access {api}/.default (access token only)" \
    "$(rps "${R[refresh_api_$b]}")" "$cc" "${r:-$NA}" "≥ 0.4" "$(judge "$r" ">=" 0.4)"
done
# 13. two replicas on one PostgreSQL database against one (same database, same run)
if [[ -z "${R[replicas_cc_two]:-}${R[replicas_cc_one]:-}" ]]; then
  add_row "13a. Replicas, PostgreSQL: client credentials, two replicas vs one" "$NA (no PostgreSQL URL)" "$NA" "$NA" "≥ 0.9" "$NA"
  add_row "13b. Replicas, PostgreSQL: /auth/verify, two replicas vs one" "$NA (no PostgreSQL URL)" "$NA" "$NA" "≥ 0.9" "$NA"
else
  r=$(ratio "${R[replicas_cc_two]:-}" "${R[replicas_cc_one]:-}")
  add_row "13a. Replicas, PostgreSQL: POST /auth/token client_credentials, two replicas (wrk threads split over both ports) vs one" \
    "$(rps "${R[replicas_cc_two]:-}")" "$(rps "${R[replicas_cc_one]:-}") one replica, same database (before + after)" "${r:-$NA}" "≥ 0.9" "$(judge "$r" ">=" 0.9)"
  r=$(ratio "${R[replicas_verify_two]:-}" "${R[replicas_verify_one]:-}")
  add_row "13b. Replicas, PostgreSQL: GET /auth/verify, two replicas vs one" \
    "$(rps "${R[replicas_verify_two]:-}")" "$(rps "${R[replicas_verify_one]:-}") one replica, same database (before + after)" "${r:-$NA}" "≥ 0.9" "$(judge "$r" ">=" 0.9)"
fi
# 10. HTTPS against plain HTTP, same server build, same run, alternated
r=$(ratio "${R[token_tls]:-}" "${R[token_plain]:-}")
add_row "10a. HTTPS: POST /auth/token client_credentials over --tls, keep-alive (row 1's request)" \
  "$(rps "${R[token_tls]:-}")" "$(rps "${R[token_plain]:-}") over plain HTTP (runs alternated)" "${r:-$NA}" "≥ 0.8" "$(judge "$r" ">=" 0.8)"
r=$(ratio "${R[verify_tls]:-}" "${R[verify_plain]:-}")
add_row "10b. HTTPS: GET /auth/verify over --tls, keep-alive (row 2's request)" \
  "$(rps "${R[verify_tls]:-}")" "$(rps "${R[verify_plain]:-}") over plain HTTP (runs alternated)" "${r:-$NA}" "≥ 0.8" "$(judge "$r" ">=" 0.8)"
r=$(ratio "${R[handshake]:-}" "${R[handshake_ref]:-}")
add_row "10c. HTTPS: new TLS 1.3 connections, one at a time (openssl s_time -new, GET /healthz each)" \
  "$([[ -n "${R[handshake]:-}" ]] && echo "$(fmt "${R[handshake]}") conn/s" || echo "$NA")" \
  "$([[ -n "${R[handshake_ref]:-}" ]] && echo "$(fmt "${R[handshake_ref]}") conn/s openssl s_server, ECDSA P-256 (before + after)" || echo "$NA")" \
  "${r:-$NA}" "— (reported)" "—"
r=$(ratio "${R[close_tls]:-}" "${R[close_plain]:-}")
add_row "10d. HTTPS: GET /healthz with Connection: close over --tls, a handshake per request ($TOKEN_CONNS connections)" \
  "$(rps "${R[close_tls]:-}")" "$(rps "${R[close_plain]:-}") the same over plain HTTP" "${r:-$NA}" "— (reported)" "—"
# 14. metrics on against off, same build, same run, alternated
r=$(ratio "${R[token_metrics_on]:-}" "${R[token_metrics_off]:-}")
add_row "14a. Metrics: POST /auth/token client_credentials with --metrics-listen (every request recorded)" \
  "$(rps "${R[token_metrics_on]:-}")" "$(rps "${R[token_metrics_off]:-}") without it (runs alternated)" "${r:-$NA}" "≥ 0.95" "$(judge "$r" ">=" 0.95)"
r=$(ratio "${R[verify_metrics_on]:-}" "${R[verify_metrics_off]:-}")
add_row "14b. Metrics: GET /auth/verify with --metrics-listen (every request recorded)" \
  "$(rps "${R[verify_metrics_on]:-}")" "$(rps "${R[verify_metrics_off]:-}") without it (runs alternated)" "${r:-$NA}" "≥ 0.95" "$(judge "$r" ">=" 0.95)"

# 11. many idle connections
add_row "11a. $(fmt "$IDLE_CONNS") idle keep-alive connections held open: server VmRSS" \
  "$(mb "${R[idle_rss]:-}")" "$(mb "${R[idle_rss_before]:-}") before them" \
  "$(ratio "${R[idle_rss]:-}" "${R[idle_rss_before]:-}")" "≤ 100 MB" \
  "$(judge "$([[ -n "${R[idle_rss]:-}" ]] && awk -v k="${R[idle_rss]}" 'BEGIN { printf "%.2f", k / 1024 }')" "<=" 100)"
r=$(ratio "${R[idle_p99]:-}" "${R[idle_p99_ref]:-}")
add_row "11b. GET /healthz p99 from one more client (wrk, 1 thread, $IDLE_PROBE_CONNS connections) with them" \
  "$(ms "${R[idle_p99]:-}")" "$(ms "${R[idle_p99_ref]:-}") without them (before + after)" "${r:-$NA}" "≤ 2" "$(judge "$r" "<=" 2)"

# 8. failed sign-in timing
judge_range() { # VALUE LOW HIGH -> PASS / MISS / n/a
  [[ -n "$1" ]] || { echo "$NA"; return; }
  awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { print (v >= lo && v <= hi) ? "PASS" : "MISS" }'
}
timing_ref=$(timing_get unknown_email median_ms)
for t in "a:wrong_argon2id:wrong password, argon2id account" \
  "b:wrong_bcrypt:wrong password, imported bcrypt account (cost 12)" \
  "c:wrong_argon2_old:wrong password, imported argon2id account (m=65536, t=4)" \
  "d:locked:right or wrong password, locked account"; do
  IFS=: read -r letter key label <<<"$t"
  v=$(timing_get "$key" median_ms)
  r=$(ratio "$v" "$timing_ref")
  add_row "8$letter. Even timing: failed POST /auth/login, $label (median of $TIMING_TRIES, one at a time)" \
    "$(ms "$v")" "$(ms "$timing_ref") unknown email" "${r:-$NA}" "0.9–1.1" \
    "$(judge_range "$r" 0.9 1.1)"
done

# The most CPU that anything but the server and its wrk used during one wrk run
# (the storm's two wrk runs overlap, so they are left out).
REST_MAX=$(grep -v 'name=storm-' "$RUN_DIR/cpu.txt" 2>/dev/null | tr ' ' '\n' |
  awk -F= '$1 == "rest_cores" && $2 > m { m = $2 } END { printf "%.2f", m + 0 }')
WALL=$(awk -v a="$WALL_START" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
MEM_GB=$(awk '/^MemTotal/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo)
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n "$(git -C "$ROOT" status --porcelain -- src migrations Cargo.toml Cargo.lock 2>/dev/null)" ]]; then
  COMMIT="$COMMIT with uncommitted changes in src/, migrations/ or Cargo.*"
fi

{
  echo "| row | localidp | reference (same run) | ratio | target | result |"
  echo "| --- | --- | --- | --- | --- | --- |"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "Mode: $MODE (wrk ${WRK_SECONDS}s per run, $WRK_THREADS threads; $STARTS starts per start-up figure). Machine: $NPROC cores ($CPU_MODEL), ${MEM_GB} GiB RAM. Commit $COMMIT. Cores busy with other work: $BUSY_BEFORE at the start, at most $REST_MAX during a wrk run; load average before $LOAD_BEFORE, after $LOAD_AFTER. Wall time ${WALL}s."
  echo "Ratios: rows 1–3 figure ÷ reference; row 4 localidp ÷ faster peer (start-up: the peer's time ÷ localidp's); rows 5–6 figure ÷ best peer, for information (the target applies to the figure); row 7 p50 with many users ÷ p50 with few; row 8 median ÷ the unknown email's median (a successful sign-in's median, not padded, is in signin-timing.txt); rows 10a–10d over HTTPS ÷ the reference; rows 12 the refresh grant ÷ client credentials (same client, same server); rows 14a–14b with the metrics listener ÷ without; rows 13 two replicas ÷ one (same PostgreSQL database; both replicas and wrk on the same cores); row 11a with ÷ before the connections (the target applies to the figure), 11b p99 with them ÷ without."
  for n in "${R_NOTES[@]+"${R_NOTES[@]}"}"; do echo "Note: $n."; done
} | tee "$RUN_DIR/table.md"
cp "$RUN_DIR/table.md" "$OUT/latest.md"
log "done in ${WALL}s; raw output in $RUN_DIR"
