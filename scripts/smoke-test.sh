#!/usr/bin/env bash
# After a deploy: readiness, the API answering in its error shape, a sign-up and the realtime
# ticket route, against the public URL.
set -euo pipefail
base=${1:?usage: smoke-test.sh https://kith.example.org}
curl -fsS "$base/readyz" | grep -q '"status":"ok"'
code=$(curl -s -o /tmp/smoke.json -w '%{http_code}' -H 'content-type: application/json' -d '{}' "$base/api/v1/auth/login")
[ "$code" = 400 ] && grep -q '"requestId"' /tmp/smoke.json
user="smoke$(date +%s)$RANDOM"
token=$(curl -fsS -H 'content-type: application/json' \
  -d "{\"username\":\"$user\",\"email\":\"$user@example.com\",\"password\":\"smoke-$(openssl rand -hex 12)\"}" \
  "$base/api/v1/auth/signup" | sed -n 's/.*"accessToken":"\([^"]*\)".*/\1/p')
[ -n "$token" ]
curl -fsS -X POST -H "authorization: Bearer $token" -H 'content-type: application/json' -d '{"conversations":{}}' \
  "$base/api/v1/realtime/ticket" | grep -q '"ticket"'
echo "smoke test passed: $base"
