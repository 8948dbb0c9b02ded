-- Feature flags (OpenFeature, evaluated in process from a cache every instance refreshes within
-- a second of a change). Postgres is the truth; the broker only says "reload".
CREATE TABLE feature_flags (
  key             text PRIMARY KEY CHECK (key ~ '^[a-z][a-z0-9]*([._-][a-z0-9]+)*$' AND length(key) <= 64),
  description     text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
  -- the kill switch: false serves default_variant to everyone, whatever the rules say
  enabled         boolean NOT NULL DEFAULT true,
  -- variant name → JSON value; boolean flags have { "on": true, "off": false }
  variants        jsonb NOT NULL,
  default_variant text NOT NULL,
  -- roles that always get a variant: [{ "roles": ["admin"], "variant": "on" }]
  role_rules      jsonb NOT NULL DEFAULT '[]',
  -- percentage rollout by a stable hash of the user id: [{ "variant": "on", "percent": 10 }]
  rollout         jsonb NOT NULL DEFAULT '[]',
  -- served to the web app by GET /api/v1/flags
  client_visible  boolean NOT NULL DEFAULT false,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CHECK (variants ? default_variant)
);
