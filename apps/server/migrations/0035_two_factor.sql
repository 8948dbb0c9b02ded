-- Two-factor authentication, passkeys and new-sign-in notices (issue 14). New tables only, so an
-- instance still running the previous release keeps working during the rollout.
SET LOCAL lock_timeout = '5s';

-- two_factor (auth module): a user's TOTP and second-factor lock. 2FA is on when totp_enabled_at
-- is set. The secret is the shared RFC 6238 key (base32): the server must read it to check codes.
CREATE TABLE two_factor (
  user_id             uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  totp_secret         text CHECK (length(totp_secret) <= 64),
  totp_enabled_at     timestamptz,
  -- an enrolment not confirmed yet (replaced by each new setup, moved to totp_secret on confirm)
  totp_pending_secret text CHECK (length(totp_pending_secret) <= 64),
  -- the newest 30 s time step whose code was accepted: that code, or an older one, is refused
  totp_last_step      bigint,
  -- wrong second factors since the last right one; at the limit the account is locked
  failures            integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
  locked_until        timestamptz,
  updated_at          timestamptz NOT NULL DEFAULT now(),
  CHECK ((totp_enabled_at IS NULL) = (totp_secret IS NULL))
);

-- recovery_codes (auth module): ten single-use codes per enrolment; only their SHA-256 is stored
-- (80 random bits each, so a stolen table does not give them back).
CREATE TABLE recovery_codes (
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  code_hash  bytea NOT NULL CHECK (length(code_hash) = 32),
  created_at timestamptz NOT NULL DEFAULT now(),
  used_at    timestamptz,
  PRIMARY KEY (user_id, code_hash)
);

-- passkeys (auth module): WebAuthn credentials, a second factor and a password-less login.
CREATE TABLE passkeys (
  id            uuid PRIMARY KEY,
  user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  credential_id text NOT NULL UNIQUE CHECK (length(credential_id) <= 1400),
  public_key    bytea NOT NULL CHECK (length(public_key) <= 2048),
  counter       bigint NOT NULL DEFAULT 0,
  transports    text[] NOT NULL DEFAULT '{}',
  device_type   text NOT NULL CHECK (device_type IN ('singleDevice', 'multiDevice')),
  backed_up     boolean NOT NULL,
  name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz
);
CREATE INDEX passkeys_user ON passkeys (user_id, created_at);

-- auth_challenges (auth module): short-lived, single-use challenges: the second-factor step of a
-- login (its token hashed), and WebAuthn ceremonies (the challenge the authenticator must sign).
CREATE TABLE auth_challenges (
  token_hash         bytea PRIMARY KEY CHECK (length(token_hash) = 32),
  purpose            text NOT NULL CHECK (purpose IN ('second_factor', 'passkey_register', 'passkey_login')),
  user_id            uuid REFERENCES users (id) ON DELETE CASCADE,
  webauthn_challenge text CHECK (length(webauthn_challenge) <= 128),
  created_at         timestamptz NOT NULL DEFAULT now(),
  expires_at         timestamptz NOT NULL,
  used_at            timestamptz
);
CREATE INDEX auth_challenges_expires ON auth_challenges (expires_at);
CREATE INDEX auth_challenges_user ON auth_challenges (user_id);

-- known_devices (auth module): devices a user signed in from (browser family + OS + /24 or /48
-- network, hashed), so a sign-in from a new one is announced by e-mail.
CREATE TABLE known_devices (
  user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  device_hash   bytea NOT NULL CHECK (length(device_hash) = 32),
  first_seen_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, device_hash)
);
