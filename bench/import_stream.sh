#!/usr/bin/env bash
# Streamed `user import` at size: ROWS pre-hashed rows (one bcrypt cost-4 hash reused,
# written by examples/bench_users) into a fresh database, the import's rate and its
# peak RSS (VmHWM from /proc/PID/status, read until it exits). One result line per
# database:
#
#   IMPORT_STREAM backend=sqlite rows=1000000 rows_per_s=61234 peak_rss_mb=41.2
#
#   bench/import_stream.sh ROWS [POSTGRES_URL]     (a release build must be there)
#
# POSTGRES_URL names an empty database the import may fill.
set -euo pipefail

ROWS=${1:?rows}
PG_URL=${2:-}
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/target/release/localidp"
EX="$ROOT/target/release/examples"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

"$EX/bench_users" --out "$TMP/users.jsonl" --count "$ROWS" --start 0 --domain stream.test

# measure BACKEND DBURL: runs the import, prints the result line.
measure() {
  local backend=$1 db=$2 pid hwm=0 line rate
  # The database and its first tenant exist before the import is timed.
  "$BIN" --database-url "$db" --keys-dir "$TMP/keys-$backend" user list >/dev/null
  "$BIN" --database-url "$db" --keys-dir "$TMP/keys-$backend" user import "$TMP/users.jsonl" \
    >"$TMP/$backend.out" 2>"$TMP/$backend.err" &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    line=$(grep -s '^VmHWM:' "/proc/$pid/status" || true)
    [[ -n "$line" ]] && hwm=$(awk '{print $2}' <<<"$line")
    sleep 0.2
  done
  wait "$pid" || { cat "$TMP/$backend.err" >&2; exit 1; }
  rate=$(grep -o '([0-9.]* rows/s)' "$TMP/$backend.out" | tr -d '(' | cut -d' ' -f1)
  echo "IMPORT_STREAM backend=$backend rows=$ROWS rows_per_s=$rate peak_rss_mb=$(awk -v k="$hwm" 'BEGIN { printf "%.1f", k / 1024 }')"
  cat "$TMP/$backend.out" >&2
}

measure sqlite "sqlite://$TMP/db.sqlite"
if [[ -n "$PG_URL" ]]; then
  measure postgres "$PG_URL"
fi
