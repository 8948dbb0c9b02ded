#!/usr/bin/env bash
# The streaming replica: on first start, clone the primary with pg_basebackup (which writes
# standby.signal and primary_conninfo), then run as a hot standby.
set -euo pipefail
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  export PGPASSWORD
  PGPASSWORD=$(cat /run/secrets/replication_password)
  mkdir -p "$PGDATA"
  chmod 0700 "$PGDATA"
  pg_basebackup --host=postgres-primary --username=replicator --pgdata="$PGDATA" \
    --wal-method=stream --write-recovery-conf --checkpoint=fast --progress
fi
exec postgres -c hot_standby=on -c max_connections=200 -c shared_buffers=512MB
