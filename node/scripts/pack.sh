#!/usr/bin/env bash
# Packs the Node test kit as an npm package carrying its own localidp binary:
#   node/scripts/pack.sh [--check] [BINARY]     (default BINARY: target/release/localidp)
# writes node/localidp-VERSION.tgz (neither it nor node/bin/ is committed). --check then
# installs the tarball into an empty project and starts a server with the packed binary.
set -euo pipefail
kit="$(cd "$(dirname "$0")/.." && pwd)"
root="$(dirname "$kit")"
check=false
if [ "${1:-}" = "--check" ]; then check=true; shift; fi
binary="${1:-$root/target/release/localidp}"
[ -x "$binary" ] || { echo "pack.sh: no localidp binary at $binary (cargo build --release)" >&2; exit 1; }

rm -rf "$kit/bin" "$kit"/localidp-*.tgz
# The copy lives only while npm packs it, so the source tree never runs a stale binary.
trap 'rm -rf "$kit/bin"' EXIT
mkdir "$kit/bin"
cp "$binary" "$kit/bin/localidp"
chmod 0755 "$kit/bin/localidp"
tarball="$kit/$(cd "$kit" && npm pack --silent --pack-destination "$kit" | tail -n1)"
echo "packed $tarball ($(du -h "$tarball" | cut -f1))"

if $check; then
  project="$(mktemp -d)"
  trap 'rm -rf "$kit/bin" "$project"' EXIT
  cd "$project"
  echo '{"name":"pack-check","private":true,"type":"module"}' >package.json
  npm install --no-audit --no-fund --loglevel=error "$tarball" >/dev/null
  # No LOCALIDP_BIN and no localidp on PATH: only the package's own copy can serve.
  env -u LOCALIDP_BIN PATH="$(dirname "$(command -v node)")" node --input-type=module -e '
    import { findBinary, startLocalIdp } from "localidp";
    const bin = findBinary();
    if (!bin.includes("/node_modules/localidp/bin/")) throw new Error(`not the packed binary: ${bin}`);
    const idp = await startLocalIdp();
    const user = await idp.addUser({ email: "pack@example.com", password: "Pack-pw-12345!" });
    const token = await idp.tokenFor("pack@example.com", { clientId: "localidp-testkit" });
    const oid = JSON.parse(Buffer.from(token.split(".")[1], "base64url")).oid;
    await idp.stop();
    if (oid !== user.id) throw new Error(`the packed kit minted for ${oid}, not ${user.id}`);
    console.log(`pack check: ${bin} served ${idp.baseUrl}`);
  '
fi
