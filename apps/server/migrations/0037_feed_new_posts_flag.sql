-- The flag that gates the realtime `feed.new` event ("N new posts" in the web app), evaluated per
-- reader: shipped defined, client-visible and rolled out to nobody. Operators roll it out by
-- percentage (stable hash of the user id) and kill it with `enabled = false` through the admin API
-- (audited); an operator's existing definition is kept.
INSERT INTO feature_flags (key, description, enabled, variants, default_variant, rollout, client_visible)
VALUES (
  'feed-new-posts-event',
  'Live "N new posts" on the home feed: fan-out sends feed.new to the reader (coalesced per FEED_NEW_EVENT_WINDOW_MS).',
  true,
  '{"on": true, "off": false}',
  'off',
  '[]',
  true
)
ON CONFLICT (key) DO NOTHING;
