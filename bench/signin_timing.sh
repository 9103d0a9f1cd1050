#!/usr/bin/env bash
# Failed sign-in timing: starts the release server on a fresh SQLite database with
# accounts of each kind (argon2id, imported bcrypt, imported argon2 of PHP's default
# parameters, one locked account), measures failed POST /auth/login one at a time
# (unknown email, wrong password on each kind, any password on the locked account)
# and prints each row's median and its ratio to the unknown email's (target 0.9-1.1).
#
#   bench/signin_timing.sh            300 tries per row (about 8 minutes)
#   bench/signin_timing.sh --quick    24 tries per row
#
# Optional environment: BENCH_TIMING_TRIES, BENCH_BCRYPT_COST (default 12),
# BENCH_SKIP_BUILD=1. bench/run.sh runs this and reads its TIMING_RESULT lines.
set -euo pipefail

TRIES=300
for arg in "$@"; do
  case "$arg" in
    --quick) TRIES=24 ;;
    -h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/signin_timing.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done
TRIES=${BENCH_TIMING_TRIES:-$TRIES}
BCRYPT_COST=${BENCH_BCRYPT_COST:-12}
# Lockout as by default (10 wrong passwords), but the locked account stays locked
# for the whole measurement.
THRESHOLD=10
WARMUP=5
# Each account of a kind takes one try in ACCOUNTS: well under the threshold.
ACCOUNTS=$(((TRIES + WARMUP + THRESHOLD - 3) / (THRESHOLD - 2)))

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BIN="$ROOT/target/release/localidp"
EX="$ROOT/target/release/examples"
TMP="$(mktemp -d -t localidp-timing.XXXXXX)"
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
log() { printf '[signin-timing %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if [[ "${BENCH_SKIP_BUILD:-0}" != 1 ]]; then
  log "cargo build --release --bins --examples"
  cargo build --release --bins --examples >"$TMP/build.log" 2>&1 || { tail -30 "$TMP/build.log" >&2; exit 1; }
fi
[[ -x "$BIN" && -x "$EX/signin_timing" ]] || { log "release binaries missing"; exit 1; }
# The server takes its settings from the flags below only.
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep '^LOCALIDP_' || true)
export LOCALIDP_LOG="${BENCH_TIMING_LOG:-warn}"

log "seed: $ACCOUNTS accounts per kind (bcrypt cost $BCRYPT_COST)"
"$EX/signin_timing" seed --out "$TMP/seed.toml" --accounts "$ACCOUNTS" --bcrypt-cost "$BCRYPT_COST"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
"$BIN" serve --host 127.0.0.1 --port "$PORT" --database-url "sqlite://$TMP/db.sqlite" \
  --keys-dir "$TMP/keys" --seed "$TMP/seed.toml" --lockout-threshold "$THRESHOLD" \
  --lockout-duration 86400 --lockout-max-duration 86400 >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 1200); do
  curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/healthz" && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$TMP/server.log" >&2; exit 1; }
  sleep 0.05
done
# The server measures each kind of stored hash right after start (a second or so).
sleep 2
log "measuring $TRIES failed sign-ins per row, one at a time"
"$EX/signin_timing" measure --url "http://127.0.0.1:$PORT" --tries "$TRIES" \
  --accounts "$ACCOUNTS" --threshold "$THRESHOLD" --warmup "$WARMUP"
