-- One row per backup and per restore drill (CLI or scheduled job), whichever instance ran it: the
-- backup metrics (last success, last verified, size, duration) are read from here by every
-- instance, so an alert sees a CLI backup as well as the worker's.
CREATE TABLE backup_runs (
  id          uuid PRIMARY KEY,
  kind        text NOT NULL CHECK (kind IN ('backup', 'verify')),
  status      text NOT NULL CHECK (status IN ('running', 'ok', 'failed')),
  location    text,
  bytes       bigint,
  detail      jsonb NOT NULL DEFAULT '{}',
  error       text,
  started_at  timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);
CREATE INDEX backup_runs_kind_finished ON backup_runs (kind, finished_at DESC) WHERE status = 'ok';
