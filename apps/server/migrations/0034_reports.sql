-- Reports and moderation (issue 14). Additive only: a nullable column, two new tables and a wider
-- CHECK, so an instance still running the previous release keeps working during the rollout.
SET LOCAL lock_timeout = '5s';

-- users (users module): a suspended account may read but not write until this time (the write
-- guard compares it with now(); the reports.expire-suspensions job clears it and tells the user).
ALTER TABLE users ADD COLUMN suspended_until timestamptz;
CREATE INDEX users_suspended_idx ON users (suspended_until) WHERE suspended_until IS NOT NULL;

-- notifications (notifications module): the outcome of a report, told to its reporters, and a
-- moderation notice, told to the reported user.
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check CHECK (kind IN (
  'friend_request', 'friend_accepted', 'comment', 'reaction', 'mention', 'report_resolved', 'moderation_notice'
)) NOT VALID;
ALTER TABLE notifications VALIDATE CONSTRAINT notifications_kind_check;

-- report_cases (reports module): one case per reported thing while it is open; every report on
-- that thing folds into it. `snapshot` keeps what was reported (text, media ids, author, time and
-- a little context) as it was, so moderators see it even after it is deleted.
CREATE TABLE report_cases (
  id              uuid PRIMARY KEY,
  target_type     text NOT NULL CHECK (target_type IN ('post', 'comment', 'message', 'user')),
  target_id       uuid NOT NULL,
  -- who wrote the reported thing (the user themselves for a user report); NULL once erased
  target_user_id  uuid REFERENCES users (id) ON DELETE SET NULL,
  snapshot        jsonb NOT NULL,
  -- 'report': reports wait for a decision; 'appeal': the reported user appealed the decision
  stage           text NOT NULL DEFAULT 'report' CHECK (stage IN ('report', 'appeal')),
  status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
  -- distinct reasons given by its reporters (filtering), and how many reported it
  reasons         text[] NOT NULL,
  reporter_count  integer NOT NULL DEFAULT 1 CHECK (reporter_count >= 1),
  created_at      timestamptz NOT NULL DEFAULT now(),
  -- when it (last) entered the queue: the queue age is measured from here
  queued_at       timestamptz NOT NULL DEFAULT now(),
  resolved_at     timestamptz,
  resolved_by     uuid REFERENCES users (id) ON DELETE SET NULL,
  action          text CHECK (action IN ('dismiss', 'remove', 'warn', 'suspend', 'ban', 'uphold', 'overturn')),
  -- the moderator's reason, told to the reported user
  resolution_note text CHECK (length(resolution_note) <= 1000),
  suspended_until timestamptz,
  -- the decision an appeal is about (the first resolution), kept when the appeal re-opens the case
  first_action    text,
  first_resolved_by uuid REFERENCES users (id) ON DELETE SET NULL,
  appealed_at     timestamptz,
  appeal_text     text CHECK (length(appeal_text) <= 1000),
  CHECK ((status = 'resolved') = (resolved_at IS NOT NULL AND action IS NOT NULL))
);
-- one open case per reported thing: a new report on it folds into that case
CREATE UNIQUE INDEX report_cases_open_target ON report_cases (target_type, target_id)
  WHERE status = 'open' AND stage = 'report';
-- the queue: open cases oldest first (keyset on (queued_at, id)), and the oldest one's age
CREATE INDEX report_cases_queue_idx ON report_cases (queued_at, id) WHERE status = 'open';
CREATE INDEX report_cases_status_idx ON report_cases (status, queued_at, id);
CREATE INDEX report_cases_target_user_idx ON report_cases (target_user_id);

-- reports (reports module): who reported a case, why, and their note (plain text, ≤ 1000 chars).
CREATE TABLE reports (
  id           uuid PRIMARY KEY,
  case_id      uuid NOT NULL REFERENCES report_cases (id) ON DELETE CASCADE,
  reporter_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  reason       text NOT NULL CHECK (reason IN (
    'spam', 'harassment', 'hate', 'violence', 'sexual_content', 'self_harm', 'misinformation', 'illegal', 'other'
  )),
  note         text NOT NULL DEFAULT '' CHECK (length(note) <= 1000),
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (case_id, reporter_id)
);
CREATE INDEX reports_reporter_idx ON reports (reporter_id, created_at);
