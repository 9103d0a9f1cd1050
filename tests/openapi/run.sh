#!/usr/bin/env bash
# schemathesis against /openapi.json: a `localidp serve --ephemeral --dev` with
# tests/openapi/seed.toml, every operation with a few generated requests, failing on any
# 5xx (not_a_server_error) and any response whose body breaks the spec
# (response_schema_conformance). Graph calls carry a token minted for the seed's Global
# Administrator, token calls the seeded client's credentials (schemathesis.toml).
# Installs schemathesis into a venv under target/tmp (tests/openapi/requirements.txt).
# OPENAPI_MAX_EXAMPLES (default 5) and OPENAPI_SEED (default 1) change the run; the
# server's log goes to target/openapi-test/server.log.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"

venv="$target/tmp/openapi-venv"
if [ ! -x "$venv/bin/st" ] || ! cmp -s "$here/requirements.txt" "$venv/requirements.installed"; then
  python3 -m venv --clear "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
  cp "$here/requirements.txt" "$venv/requirements.installed"
fi

if [ -z "${LOCALIDP_BIN:-}" ]; then
  (cd "$root" && cargo build --locked --bin localidp)
  LOCALIDP_BIN="$target/debug/localidp"
fi

out="$target/openapi-test"
mkdir -p "$out"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
"$LOCALIDP_BIN" serve --ephemeral --dev --host 127.0.0.1 --port "$port" --public-url "$base" \
  --seed "$here/seed.toml" >"$out/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT

# Up within 30 s, or the log says why not.
deadline=$((SECONDS + 30))
until curl -sf "$base/healthz" >/dev/null; do
  if ! kill -0 "$server" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
    echo "localidp did not start:" >&2
    cat "$out/server.log" >&2
    exit 1
  fi
  sleep 0.1
done

# A delegated Graph token of the Global Administrator, with the permissions every Graph
# operation asks for (application-only operations answer it 403, as Graph does).
LOCALIDP_OPENAPI_TOKEN=$(curl -sf "$base/_dev/token" -H 'content-type: application/json' -d '{
  "user": "admin@contoso.com",
  "scope": "openid Directory.AccessAsUser.All User.ReadWrite.All Group.ReadWrite.All AuditLog.Read.All Directory.Read.All AppRoleAssignment.ReadWrite.All User.ReadWrite",
  "kind": "access"
}' | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
export LOCALIDP_OPENAPI_TOKEN
if [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $LOCALIDP_OPENAPI_TOKEN" "$base/v1.0/users")" != 200 ]; then
  echo "the minted Graph token does not list users" >&2
  exit 1
fi

started=$SECONDS
# schemathesis keeps its cache (.schemathesis/) in the working directory.
cd "$out"
"$venv/bin/st" --no-color --config-file "$here/schemathesis.toml" run "$base/openapi.json" \
  --checks not_a_server_error,response_schema_conformance \
  --max-examples "${OPENAPI_MAX_EXAMPLES:-5}" \
  --seed "${OPENAPI_SEED:-1}" \
  --workers 2 \
  --request-timeout 10 \
  --report junit --report-dir "$out"
echo "schemathesis: $((SECONDS - started)) s"
