-- Mutes: a person hides a user, a hashtag or a conversation from their own views. Unlike a block,
-- the other side notices nothing and keeps seeing them. A mute is for ever or until expires_at; an
-- expired row is ignored by every reader (and removed by the mutes job).

CREATE TABLE user_mutes (
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  muted_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  PRIMARY KEY (user_id, muted_id),
  CHECK (user_id <> muted_id),
  CHECK (expires_at IS NULL OR expires_at > created_at)
);
CREATE INDEX user_mutes_list_idx ON user_mutes (user_id, created_at DESC, muted_id DESC);

CREATE TABLE hashtag_mutes (
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  -- normalized as posts index it (NFKC, lower case)
  tag        text NOT NULL CHECK (length(tag) BETWEEN 1 AND 100),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  PRIMARY KEY (user_id, tag),
  CHECK (expires_at IS NULL OR expires_at > created_at)
);

CREATE TABLE conversation_mutes (
  user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  created_at      timestamptz NOT NULL DEFAULT now(),
  expires_at      timestamptz,
  PRIMARY KEY (user_id, conversation_id),
  CHECK (expires_at IS NULL OR expires_at > created_at)
);

CREATE INDEX user_mutes_expiry_idx ON user_mutes (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX hashtag_mutes_expiry_idx ON hashtag_mutes (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX conversation_mutes_expiry_idx ON conversation_mutes (expires_at) WHERE expires_at IS NOT NULL;

-- The users p_user has muted, now (the mutes module's rule, like kith_blocked_with for blocks).
-- LANGUAGE sql, STABLE, one SELECT: inlined where it is used, an index range of the primary key.
CREATE FUNCTION kith_muted_by(p_user uuid) RETURNS TABLE (user_id uuid)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT m.muted_id FROM user_mutes m
   WHERE m.user_id = p_user AND (m.expires_at IS NULL OR m.expires_at > now())
$$;

COMMENT ON FUNCTION kith_muted_by(uuid) IS
  'The users p_user has muted and whose mute has not expired (owned by the mutes module).';

-- feed_page as in 0020, now one statement for both the first page and the pages after a cursor
-- (the cursor bound is an index condition either way: the first page's is past every uuid), the
-- block rule through kith_blocked_with (0019), and the reader's mutes applied inside the query so
-- that a page stays full: posts of muted users, and posts carrying a muted hashtag, never count
-- towards the LIMIT.
CREATE OR REPLACE FUNCTION feed_page(p_reader uuid, p_before uuid, p_limit integer)
RETURNS TABLE (
  id uuid, author_id uuid, username text, display_name text, text text, visibility text,
  entities jsonb, comment_count integer, reaction_counts jsonb, created_at timestamptz,
  edited_at timestamptz, my_reaction text, media json
) LANGUAGE plpgsql STABLE AS $$
-- the result columns are variables here: every column in the queries below is qualified
#variable_conflict use_column
BEGIN
  RETURN QUERY
  SELECT p.id, p.author_id, u.username, u.display_name, p.text, p.visibility, p.entities,
         p.comment_count, p.reaction_counts, p.created_at, p.edited_at,
         (SELECT r.kind FROM reactions r WHERE r.post_id = p.id AND r.user_id = p_reader),
         coalesce((
           SELECT json_agg(json_build_object('id', m.id, 'alt', m.alt, 'width', m.width,
                    'height', m.height, 'animated', m.animated, 'placeholder', m.placeholder,
                    'variants', m.variants) ORDER BY pm.position)
             FROM post_media pm JOIN media m ON m.id = pm.media_id
            WHERE pm.post_id = p.id), '[]'::json)
    FROM feed_entries e
    JOIN users u ON u.id = e.author_id AND u.banned_at IS NULL AND u.deactivated_at IS NULL
    JOIN posts p ON p.id = e.post_id AND p.deleted_at IS NULL
   WHERE e.user_id = p_reader
     AND e.post_id < coalesce(p_before, 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid)
     AND NOT EXISTS (SELECT 1 FROM kith_blocked_with(p_reader) x WHERE x.user_id = e.author_id)
     AND NOT EXISTS (SELECT 1 FROM kith_muted_by(p_reader) x WHERE x.user_id = e.author_id)
     -- the reader's muted tags, as one array computed once per page (an InitPlan), tested
     -- against the post's entities (hashtags as parsed and normalized, as post_tags holds them)
     -- by jsonb containment: a plain filter, so the plan still walks the reader's range of
     -- feed_entries_pkey and stops at p_limit
     AND NOT (p.entities @> ANY (ARRAY(
       SELECT jsonb_build_array(jsonb_build_object('type', 'hashtag', 'tag', hm.tag))
         FROM hashtag_mutes hm
        WHERE hm.user_id = p_reader AND (hm.expires_at IS NULL OR hm.expires_at > now()))))
   ORDER BY e.post_id DESC
   LIMIT p_limit;
END $$;
