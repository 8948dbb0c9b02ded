#!/usr/bin/env bash
# npm run image:check — builds deploy/Dockerfile with Podman and proves the image runs as it will in
# production: as its non-root user on a read-only root filesystem against a real PostgreSQL (the
# machine's, a database of its own), ready on /readyz, serving a sign-up, healthy by its own
# HEALTHCHECK, and stopping cleanly on SIGTERM within seconds. Prints the image size.
#
# Without a registry the base image is made locally (debootstrap + this machine's Node), as in
# the containers notes; a fresh machine builds it once (1-2 minutes).
#   IMAGE_CHECK_DATABASE_URL  admin URL of the PostgreSQL to use (default postgres://postgres@127.0.0.1:5432/postgres)
#   NODE_IMAGE                base image (default: the local one, built when missing)
set -euo pipefail

cd "$(dirname "$0")/.."
ADMIN_URL=${IMAGE_CHECK_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
BASE=localhost/kith-node-base:local
NODE_IMAGE=${NODE_IMAGE:-$BASE}
IMAGE=localhost/kith:check
NAME=kith-image-check-$$
DB=kith_image_check_$$
PODMAN=(podman --runtime runc)

say() { printf '\n== %s\n' "$*"; }
fail() { printf 'image-check: FAILED: %s\n' "$*" >&2; exit 1; }
command -v podman >/dev/null || fail "podman is not installed (apt-get install podman buildah runc uidmap)"

# Podman's default open-files limit is above some machines' hard limit
if [ ! -f /etc/containers/containers.conf ] && [ "$(id -u)" = 0 ]; then
  mkdir -p /etc/containers
  printf '[containers]\ndefault_ulimits = []\n' >/etc/containers/containers.conf
fi

if [ "$NODE_IMAGE" = "$BASE" ] && ! "${PODMAN[@]}" image exists "$BASE"; then
  say "building the local base image $BASE (debootstrap bookworm + this machine's node $(node --version))"
  command -v debootstrap >/dev/null || fail "debootstrap is not installed"
  work=$(mktemp -d)
  root="$work/rootfs"
  debootstrap --variant=minbase bookworm "$root" >"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log"; fail "debootstrap"; }
  mkdir -p "$root/usr/local/bin" "$root/usr/local/lib/node_modules" "$root/etc/ssl/certs"
  cp "$(command -v node)" "$root/usr/local/bin/node"
  cp -a "$(dirname "$(readlink -f "$(command -v npm)")")/.." "$root/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  tar -C "$root" -c . | "${PODMAN[@]}" import \
    --change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
    - "$BASE" >/dev/null
  rm -rf "$work"
fi

# The build context is the committed tree (git archive HEAD), not the working copy: what is checked
# is what CI and the registry would build. IMAGE_CHECK_CONTEXT=. builds the working copy instead.
context=${IMAGE_CHECK_CONTEXT:-}
if [ -z "$context" ]; then
  context=$(mktemp -d)
  git archive HEAD | tar -x -C "$context"
  trap 'rm -rf "$context"' EXIT
fi
say "building $IMAGE from deploy/Dockerfile (base $NODE_IMAGE, context ${IMAGE_CHECK_CONTEXT:-git HEAD $(git rev-parse --short HEAD)})"
started=$(date +%s)
"${PODMAN[@]}" build --format docker --network host --build-arg NODE_IMAGE="$NODE_IMAGE" \
  --build-arg VERSION="$(node -p 'require("./apps/server/package.json").version')" \
  --build-arg REVISION="$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
  --build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  -f "$context/deploy/Dockerfile" -t "$IMAGE" "$context" >/tmp/kith-image-build.log 2>&1 || { tail -40 /tmp/kith-image-build.log; fail "image build (log: /tmp/kith-image-build.log)"; }
echo "built in $(($(date +%s) - started)) s"

psql_admin() { node -e '
  const pg = require("pg"); const c = new pg.Client({ connectionString: process.argv[1] });
  c.connect().then(() => c.query(process.argv[2])).then(() => c.end(), (e) => { console.error(e.message); process.exit(1); });
' "$ADMIN_URL" "$1"; }
export NODE_PATH="$PWD/node_modules"

cleanup() {
  [ -n "${IMAGE_CHECK_CONTEXT:-}" ] || rm -rf "$context"
  "${PODMAN[@]}" rm -f "$NAME" >/dev/null 2>&1 || true
  "${PODMAN[@]}" volume rm -f "$NAME-data" >/dev/null 2>&1 || true
  psql_admin "DROP DATABASE IF EXISTS $DB WITH (FORCE)" || true
}
trap cleanup EXIT
psql_admin "CREATE DATABASE $DB"
DB_URL=$(node -e 'const u = new URL(process.argv[1]); u.pathname = "/" + process.argv[2]; console.log(u.toString())' "$ADMIN_URL" "$DB")
PORT=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
SECRETS=$(mktemp -d)
openssl genpkey -algorithm ed25519 -out "$SECRETS/jwt.pem" 2>/dev/null
chmod 644 "$SECRETS/jwt.pem"
RUN_ARGS=(--read-only --tmpfs /tmp --network host
  -v "$SECRETS/jwt.pem:/run/secrets/jwt_signing_key:ro"
  -e DATABASE_URL="$DB_URL" -e JWT_SIGNING_KEY_FILE=/run/secrets/jwt_signing_key
  -e METRICS_TOKEN="$(openssl rand -hex 24)" -e MEDIA_SIGNING_SECRET="$(openssl rand -hex 32)"
  -e PORT="$PORT" -e HOST=127.0.0.1)

say "migrate job (read-only root, non-root)"
"${PODMAN[@]}" run --rm "${RUN_ARGS[@]}" "$IMAGE" apps/server/dist/cli/migrate.js

say "starting all roles on :$PORT"
"${PODMAN[@]}" run -d --name "$NAME" -v "$NAME-data:/data" "${RUN_ARGS[@]}" "$IMAGE" >/dev/null
ready=
for _ in $(seq 1 120); do
  if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/readyz")" = 200 ]; then ready=1; break; fi
  [ "$("${PODMAN[@]}" inspect -f '{{.State.Running}}' "$NAME")" = true ] || break
  sleep 0.5
done
[ -n "$ready" ] || { "${PODMAN[@]}" logs "$NAME" | tail -30; fail "/readyz never answered 200"; }
echo "/readyz: $(curl -s "http://127.0.0.1:$PORT/readyz")"

uid=$("${PODMAN[@]}" exec "$NAME" node -e 'process.stdout.write(String(process.getuid()))')
[ "$uid" = 10001 ] || fail "runs as uid $uid, not 10001"
echo "runs as uid $uid"
if "${PODMAN[@]}" exec "$NAME" node -e 'require("fs").writeFileSync("/app/probe", "x")' 2>/dev/null; then
  fail "the root filesystem is writable"
fi
echo "root filesystem is read-only; /tmp and /data are writable"
"${PODMAN[@]}" exec "$NAME" node -e 'require("fs").writeFileSync("/tmp/probe", "x"); require("fs").writeFileSync("/data/probe", "x")'
"${PODMAN[@]}" exec "$NAME" node -e 'require("sharp")().metadata || 0; console.log("sharp", require("sharp").versions.vips)' \
  || fail "sharp does not load"

status=$(curl -s -o /tmp/kith-image-signup.json -w '%{http_code}' -H 'content-type: application/json' \
  -d "{\"username\":\"imagecheck$$\",\"email\":\"imagecheck$$@example.com\",\"password\":\"image-check-$(openssl rand -hex 8)\"}" \
  "http://127.0.0.1:$PORT/api/v1/auth/signup")
[ "$status" = 201 ] || { cat /tmp/kith-image-signup.json; fail "sign-up answered $status"; }
echo "sign-up: 201"

"${PODMAN[@]}" healthcheck run "$NAME" >/dev/null || fail "HEALTHCHECK reports unhealthy"
echo "HEALTHCHECK: healthy"

say "SIGTERM"
t0=$(date +%s%N)
"${PODMAN[@]}" stop -t 20 "$NAME" >/dev/null
elapsed_ms=$((($(date +%s%N) - t0) / 1000000))
code=$("${PODMAN[@]}" inspect -f '{{.State.ExitCode}}' "$NAME")
"${PODMAN[@]}" logs "$NAME" 2>&1 | grep -q '"msg":"stopped"' || fail "no 'stopped' log line after SIGTERM"
[ "$code" = 0 ] || fail "exit code $code after SIGTERM"
[ "$elapsed_ms" -lt 10000 ] || fail "took ${elapsed_ms} ms to stop (the runtime's kill timeout?)"
echo "stopped cleanly in ${elapsed_ms} ms, exit code 0"

size=$("${PODMAN[@]}" image inspect -f '{{.Size}}' "$IMAGE")
say "image-check passed: $IMAGE $(node -e "console.log((process.argv[1] / 1024 / 1024).toFixed(0) + ' MiB')" "$size") (base $NODE_IMAGE)"
rm -rf "$SECRETS"
