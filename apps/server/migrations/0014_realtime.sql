-- Realtime: single-use WebSocket tickets.

-- A ticket lets a browser open the WebSocket (which cannot carry an Authorization header) on any
-- instance: issued over authenticated HTTP, valid 30 s, consumed once by a conditional UPDATE.
-- Only its SHA-256 is stored.
CREATE TABLE realtime_tickets (
  ticket_hash bytea PRIMARY KEY CHECK (length(ticket_hash) = 32),
  user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  session_id  uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz
);
-- purge of old tickets
CREATE INDEX realtime_tickets_expires_idx ON realtime_tickets (expires_at);
