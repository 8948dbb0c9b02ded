-- Comment editing and the blocked list (issue 9). Additive only: a nullable column and an index, so
-- an instance still running the previous release keeps working during the rollout.
SET LOCAL lock_timeout = '5s';

-- comments (posts module): when the author last changed the text; NULL while never edited.
ALTER TABLE comments ADD COLUMN edited_at timestamptz;

-- blocks (friends module): "people I blocked", newest first, keyset on (created_at, blocked_id).
CREATE INDEX blocks_blocker_recent_idx ON blocks (blocker_id, created_at DESC, blocked_id DESC);
