#!/usr/bin/env bash
# The container image, proved with podman on a Debian 12 base made here from Debian's
# packages (mmdebstrap): no registry is needed. Builds the `prebuilt` stage of the
# Dockerfile around target/release/localidp, then checks what an operator relies on:
# a non-root user, the health check, the volumes (a restart keeps the data and the
# signing key), env-only configuration, and SIGTERM: exit 0 with the graceful stop.
#
# Installs podman, runc and mmdebstrap with apt-get when missing. LOCALIDP_CONTAINER_BASE
# names a base image to use instead of making one; LOCALIDP_DEBIAN_MIRROR another mirror.
set -euo pipefail
cd "$(dirname "$0")/../.."

log() { echo "== container: $*"; }
fail() { echo "container test FAILED: $*" >&2; exit 1; }

if ! command -v podman >/dev/null || ! command -v mmdebstrap >/dev/null || ! command -v runc >/dev/null; then
  log "installing podman, runc and mmdebstrap (Debian packages)"
  DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q podman runc mmdebstrap >/dev/null
fi

binary=target/release/localidp
[ -x "$binary" ] || cargo build --release --locked --bin localidp
work=$(mktemp -d)
name="localidp-test-$$"
image="localhost/localidp:test-$$"
volumes=("$name-data" "$name-keys")
cleanup() {
  podman rm -f "$name" >/dev/null 2>&1 || true
  podman volume rm -f "${volumes[@]}" >/dev/null 2>&1 || true
  podman rmi -f "$image" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
# These machines mount cgroups v1 and v2 side by side (crun refuses that; runc with
# cgroupfs copes) and grant no CAP_SYS_RESOURCE (so a container's limits must not
# exceed the caller's).
nofile=$(ulimit -Hn); [ "$nofile" = unlimited ] && nofile=1048576
limits=(--ulimit "nofile=$nofile:$nofile" --ulimit "nproc=4096:4096")
cat >"$work/containers.conf" <<CONF
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
CONF
export CONTAINERS_CONF="$work/containers.conf"

base="${LOCALIDP_CONTAINER_BASE:-localhost/localidp-base:bookworm}"
if ! podman image exists "$base"; then
  log "making $base with mmdebstrap (Debian 12, minbase, curl, ca-certificates)"
  mmdebstrap --quiet --variant=minbase --include=ca-certificates,curl \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    bookworm "$work/base.tar" "${LOCALIDP_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
  podman import --quiet "$work/base.tar" "$base" >/dev/null
  rm -f "$work/base.tar"
fi

log "podman build --target prebuilt"
podman build --quiet --format docker --target prebuilt "${limits[@]}" \
  --build-arg RUNTIME_IMAGE="$base" -t "$image" . >/dev/null
size=$(podman image inspect "$image" --format '{{.Size}}')
log "image $image: $((size / 1000000)) MB"

podman volume create "$name-data" >/dev/null
podman volume create "$name-keys" >/dev/null
run() {
  # No systemd here to time the HEALTHCHECK: it runs on demand below.
  podman run -d --name "$name" -p 127.0.0.1::8080 "${limits[@]}" --health-interval=disable \
    -v "$name-data:/var/lib/localidp/data" -v "$name-keys:/var/lib/localidp/keys" \
    -e LOCALIDP_SHUTDOWN_GRACE=5 "$image" >/dev/null 2>"$work/run.err" || { cat "$work/run.err" >&2; fail "podman run failed"; }
  port=$(podman port "$name" 8080 | head -n1 | sed 's/.*://')
  for _ in $(seq 1 600); do
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  podman logs "$name" >&2 || true
  fail "no /healthz answer within 60 s"
}

run
uid=$(podman exec "$name" id -u)
[ "$uid" != 0 ] || fail "the server runs as root"
log "runs as uid $uid"
podman image inspect "$image" --format '{{json .HealthCheck}}' | grep -q healthz \
  || fail "the image has no HEALTHCHECK on /healthz"
podman healthcheck run "$name" >/dev/null || fail "the HEALTHCHECK fails"
[ "$(podman inspect "$name" --format '{{.State.Healthcheck.Status}}')" = healthy ] \
  || fail "not reported healthy"
log "HEALTHCHECK: healthy"
issuer=$(curl -fsS "http://127.0.0.1:$port/.well-known/openid-configuration" | python3 -c 'import json,sys; print(json.load(sys.stdin)["issuer"])')
kid=$(curl -fsS "http://127.0.0.1:$port/.well-known/jwks.json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["keys"][0]["kid"])')
log "issuer $issuer, signing key $kid"
# A token for the demo user through the demo public client (README walk-through).
status=$(curl -s -o /dev/null -w '%{http_code}' -d grant_type=password \
  -d client_id=00000000-0000-4000-8000-00000000d3e0 -d username=demo@localidp.test \
  -d password=demo-password -d scope=openid "http://127.0.0.1:$port/auth/token")
[ "$status" = 200 ] || { podman logs "$name" >&2; fail "demo sign-in answered $status"; }
log "demo sign-in: 200"

started=$(date +%s%N)
podman stop -t 30 "$name" >/dev/null 2>&1
took_ms=$(( ($(date +%s%N) - started) / 1000000 ))
code=$(podman inspect "$name" --format '{{.State.ExitCode}}')
[ "$code" = 0 ] || { podman logs "$name" >&2; fail "exit code $code after SIGTERM"; }
podman logs "$name" 2>&1 | grep -q "stopped; audit log flushed" || fail "no graceful stop in the log"
log "SIGTERM: exit 0 in ${took_ms} ms, audit log flushed"

podman rm "$name" >/dev/null 2>&1
run
again=$(curl -fsS "http://127.0.0.1:$port/.well-known/jwks.json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["keys"][0]["kid"])')
[ "$again" = "$kid" ] || fail "the signing key changed across a restart ($kid, then $again): volumes not used"
log "restart on the same volumes: same signing key"
podman stop -t 30 "$name" >/dev/null 2>&1
log "passed"
