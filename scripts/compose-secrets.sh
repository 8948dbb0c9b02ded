#!/usr/bin/env bash
# Writes the secrets deploy/compose.yaml reads into deploy/secrets/ (mode 0600), keeping any that
# exist. A self-signed certificate is made for KITH_SERVER_NAME when none is there: replace it
# with a real one (tls_cert.pem: the full chain, tls_key.pem: its key).
set -euo pipefail
cd "$(dirname "$0")/../deploy"
mkdir -p secrets
chmod 0700 secrets
umask 077
name=${KITH_SERVER_NAME:-kith.example.org}
put() { [ -s "secrets/$1" ] || printf '%s' "$2" >"secrets/$1"; }
rand() { openssl rand -hex "$1"; }

put postgres_password "$(rand 24)"
put replication_password "$(rand 24)"
pw=$(cat secrets/postgres_password)
put database_url_direct "postgres://kith:$pw@postgres-primary:5432/kith"
put database_url_pooled "postgres://kith:$pw@pgbouncer:6432/kith"
put database_read_url_pooled "postgres://kith:$pw@pgbouncer:6432/kith_replica"
# PgBouncer checks client passwords against this list (plain here; it hashes with SCRAM itself)
put pgbouncer_userlist "\"kith\" \"$pw\""
[ -s secrets/jwt_signing_key ] || openssl genpkey -algorithm ed25519 -out secrets/jwt_signing_key
put media_signing_secret "$(rand 32)"
put s3_access_key_id "kith$(rand 8)"
put s3_secret_access_key "$(rand 24)"
put grafana_admin_password "$(rand 16)"
if [ ! -s secrets/tls_cert.pem ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
    -subj "/CN=$name" -addext "subjectAltName=DNS:$name" \
    -keyout secrets/tls_key.pem -out secrets/tls_cert.pem 2>/dev/null
  echo "compose-secrets: a self-signed certificate for $name was made; replace it with a real one"
fi
# the containers run as other users than the one writing these files
chmod 0644 secrets/*
echo "compose-secrets: deploy/secrets/ is ready ($(ls secrets | wc -l) files)"
