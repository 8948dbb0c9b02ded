-- Data rights: account deactivation and erasure, data exports.

-- A deleted account is deactivated at once (hidden everywhere, cannot sign in) and erased by a job
-- at erase_after (now + ACCOUNT_RETENTION_DAYS at deletion).
ALTER TABLE users
  ADD COLUMN deactivated_at timestamptz,
  ADD COLUMN erase_after    timestamptz,
  ADD CONSTRAINT users_erase_after_check CHECK ((deactivated_at IS NULL) = (erase_after IS NULL));

-- A user's data as a JSON archive, built by a job and downloaded through an expiring signed link.
CREATE TABLE data_exports (
  id           uuid PRIMARY KEY,
  user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'ready', 'failed', 'expired')),
  -- server-generated file name under DATA_DIR/exports; set while status = 'ready'
  file_key     text CHECK (file_key ~ '^[a-f0-9]{32}\.json$'),
  size_bytes   bigint,
  created_at   timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz,
  -- when the file is deleted (the row stays, as 'expired')
  expires_at   timestamptz
);
CREATE INDEX data_exports_user_idx ON data_exports (user_id, id DESC);
-- one export in progress per user
CREATE UNIQUE INDEX data_exports_one_pending ON data_exports (user_id) WHERE status = 'pending';
CREATE INDEX data_exports_expires_idx ON data_exports (expires_at) WHERE status = 'ready';

-- "Audit entries about me" for the export: by actor and by user target.
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, id) WHERE actor_id IS NOT NULL;
CREATE INDEX audit_log_user_target_idx ON audit_log (target_id, id) WHERE target_type = 'user';
