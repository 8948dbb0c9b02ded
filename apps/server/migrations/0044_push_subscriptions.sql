-- Web Push (issue 10 item 7): one subscription per signed-in session (a browser's PushManager
-- subscription: its push service endpoint and the keys its payloads are encrypted to). The session
-- going — logout, revocation, expiry clean-up — takes its subscription with it: deleted sessions by
-- the foreign key, revoked ones (sessions are revoked by an UPDATE and deleted later) by the trigger.
CREATE TABLE push_subscriptions (
  id              uuid PRIMARY KEY,
  user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  session_id      uuid NOT NULL UNIQUE REFERENCES sessions (id) ON DELETE CASCADE,
  endpoint        text NOT NULL UNIQUE CHECK (length(endpoint) BETWEEN 9 AND 1024),
  -- base64url: a P-256 public key (65 bytes) and a 16-byte auth secret
  p256dh          text NOT NULL CHECK (length(p256dh) BETWEEN 86 AND 88),
  auth            text NOT NULL CHECK (length(auth) BETWEEN 22 AND 24),
  created_at      timestamptz NOT NULL DEFAULT now(),
  last_success_at timestamptz,
  -- consecutive failed deliveries (429, 5xx, network); reset by a success
  failure_count   integer NOT NULL DEFAULT 0 CHECK (failure_count >= 0),
  -- a push service that answered 429 or 5xx is not sent to before this (Retry-After or backoff)
  next_attempt_at timestamptz
);
CREATE INDEX push_subscriptions_user_idx ON push_subscriptions (user_id);

CREATE FUNCTION kith_push_drop_revoked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM push_subscriptions WHERE session_id = NEW.id;
  RETURN NULL;
END
$$;

CREATE TRIGGER sessions_revoked_drop_push
  AFTER UPDATE OF revoked_at ON sessions
  FOR EACH ROW WHEN (NEW.revoked_at IS NOT NULL AND OLD.revoked_at IS NULL)
  EXECUTE FUNCTION kith_push_drop_revoked();

-- The operators' switch: on for everyone once VAPID keys exist; `enabled = false` through the admin
-- API (audited) stops new subscriptions and new pushes (the web app learns it from GET /push/key,
-- 404). Not client-visible for that reason. An operator's existing definition is kept.
INSERT INTO feature_flags (key, description, enabled, variants, default_variant, rollout, client_visible)
VALUES (
  'web-push',
  'Web Push notifications to subscribed devices of users with no live socket (needs VAPID keys).',
  true,
  '{"on": true, "off": false}',
  'off',
  '[{"variant": "on", "percent": 100}]',
  false
)
ON CONFLICT (key) DO NOTHING;
