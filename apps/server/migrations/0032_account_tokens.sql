-- E-mail verification and password reset (issue 14). Additive only: a nullable column and a new
-- table, so an instance still running the previous release keeps working during the rollout.
SET LOCAL lock_timeout = '5s';

-- users (users module): when the address was proven to reach its owner; NULL until then.
ALTER TABLE users ADD COLUMN email_verified_at timestamptz;

-- account_tokens (auth module): single-use tokens mailed to an account's address. Only the
-- SHA-256 of the token is stored; the token itself exists only in the message.
CREATE TABLE account_tokens (
  token_hash  bytea PRIMARY KEY CHECK (length(token_hash) = 32),
  purpose     text NOT NULL CHECK (purpose IN ('password_reset', 'email_verify')),
  user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  -- the address the token was sent to: a verification only proves that address
  email       text NOT NULL CHECK (length(email) <= 254),
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz
);
CREATE INDEX account_tokens_user ON account_tokens (user_id, purpose);
