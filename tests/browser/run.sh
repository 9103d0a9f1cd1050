#!/usr/bin/env bash
# Browser tests: headless Chromium (Debian's package) signs in through the real login
# page into an openid-client relying party (signin.test.mjs), and into MSAL.js and
# oidc-client-ts single-page apps served from their own origin against localidp over
# HTTPS (spa.test.mjs), and through an upstream provider's "Sign in with …" button
# (broker.test.mjs). Installs what it needs; screenshots go to target/browser-test/
# (or $OUTPUT_DIR).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

if [ ! -x /usr/bin/chromium ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
fi

(cd "$here" && npm ci --no-audit --no-fund)

if [ -z "${LOCALIDP_BIN:-}" ]; then
  (cd "$root" && cargo build --locked --bin localidp)
  LOCALIDP_BIN="${CARGO_TARGET_DIR:-$root/target}/debug/localidp"
fi
LOCALIDP_BIN="$(realpath "$LOCALIDP_BIN")"
export LOCALIDP_BIN
export OUTPUT_DIR="${OUTPUT_DIR:-${CARGO_TARGET_DIR:-$root/target}/browser-test}"

cd "$here"
node --test --test-concurrency=1 signin.test.mjs spa.test.mjs broker.test.mjs
