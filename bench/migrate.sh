#!/usr/bin/env bash
# `localidp migrate` at size: ROWS pre-hashed users (examples/bench_users)
# imported into a SQLite database, then migrated to PostgreSQL (to a second SQLite
# file without a URL). The reference, in the same run: `user import` of the same file
# into an empty database of the target's kind. One result line:
#
#   MIGRATE target=postgres users=100000 rows=100012 migrate_rows_per_s=41234 import_rows_per_s=30123
#
#   bench/migrate.sh ROWS [PG_URL_FOR_MIGRATE PG_URL_FOR_IMPORT]   (a release build must be there)
#
# Both PostgreSQL URLs name empty databases the script may fill.
set -euo pipefail

ROWS=${1:?rows}
PG_MIGRATE=${2:-}
PG_IMPORT=${3:-}
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/target/release/localidp"
EX="$ROOT/target/release/examples"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

"$EX/bench_users" --out "$TMP/users.jsonl" --count "$ROWS" --start 0 --domain migrate.test

# rate FILE: the rows/s of a summary line ("... (12345 rows/s)...").
rate() { grep -o '([0-9.]* rows/s)' "$1" | head -1 | tr -d '(' | cut -d' ' -f1; }

SOURCE="sqlite://$TMP/source.sqlite"
"$BIN" --database-url "$SOURCE" --keys-dir "$TMP/keys" user list >/dev/null
"$BIN" --database-url "$SOURCE" --keys-dir "$TMP/keys" user import "$TMP/users.jsonl" >"$TMP/source.out"

if [[ -n "$PG_MIGRATE" && -n "$PG_IMPORT" ]]; then
  target=postgres
  TO=$PG_MIGRATE
  REF=$PG_IMPORT
else
  target=sqlite
  TO="sqlite://$TMP/target.sqlite"
  REF="sqlite://$TMP/reference.sqlite"
fi

# The reference: the same users imported into an empty database of the target's kind
# (its first tenant made before the import is timed).
"$BIN" --database-url "$REF" --keys-dir "$TMP/keys-ref" user list >/dev/null
"$BIN" --database-url "$REF" --keys-dir "$TMP/keys-ref" user import "$TMP/users.jsonl" >"$TMP/import.out"

"$BIN" --keys-dir "$TMP/keys" migrate --from "$SOURCE" --to "$TO" >"$TMP/migrate.out" 2>"$TMP/migrate.err" ||
  { cat "$TMP/migrate.out" "$TMP/migrate.err" >&2; exit 1; }
rows=$(grep -o '^migrated [0-9]*' "$TMP/migrate.out" | cut -d' ' -f2)
echo "MIGRATE target=$target users=$ROWS rows=$rows migrate_rows_per_s=$(rate "$TMP/migrate.out") import_rows_per_s=$(rate "$TMP/import.out")"
cat "$TMP/migrate.out" "$TMP/import.out" >&2
