#!/usr/bin/env bash
# First start of the primary (docker-entrypoint-initdb.d): the replication role and its pg_hba
# line, and the statement timeout Kith's role gets (PgBouncer cannot pass it per connection).
set -euo pipefail
replication_password=$(cat /run/secrets/replication_password)
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v repl_password="$replication_password" -v timeout="${KITH_STATEMENT_TIMEOUT:-15s}" <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'repl_password';
ALTER ROLE CURRENT_USER SET statement_timeout = :'timeout';
ALTER ROLE CURRENT_USER SET idle_in_transaction_session_timeout = '60s';
SQL
echo "host replication replicator samenet scram-sha-256" >>"$PGDATA/pg_hba.conf"
