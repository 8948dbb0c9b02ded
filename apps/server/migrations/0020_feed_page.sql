-- A home feed page in one statement. Two things were wrong with reading it as two queries (the
-- page of entry ids, then the posts by id):
--   * entries of authors banned or deactivated after the fan-out were dropped after the LIMIT, so
--     pages came back short (or empty) in the middle of a feed. Here the author's liveness is a
--     condition of the page itself: the LIMIT counts only posts that will be shown, and an author
--     reinstated is back at once (entries are kept; nothing to restore).
--   * planning both statements cost more than running them, on every request. PL/pgSQL keeps the
--     plan of each statement below per connection (generic plans once they are as good), and the
--     caller's `SELECT * FROM feed_page(...)` costs next to nothing to plan. Unlike protocol-level
--     named prepared statements this works through any pooler, PgBouncer in transaction mode
--     included, whatever its version.
-- The rows are the posts module's hydrated posts (PostRecord in posts.repository.ts: the same
-- columns, the same rules: live post, live author, the reader's reaction, media in position order);
-- the block rule is friends/block-filter.ts's. Each index range on feed_entries_pkey is walked
-- backwards and stops at `p_limit` rows; every join is a primary-key lookup.
CREATE FUNCTION feed_page(p_reader uuid, p_before uuid, p_limit integer)
RETURNS TABLE (
  id uuid, author_id uuid, username text, display_name text, text text, visibility text,
  entities jsonb, comment_count integer, reaction_counts jsonb, created_at timestamptz,
  edited_at timestamptz, my_reaction text, media json
) LANGUAGE plpgsql STABLE AS $$
-- the result columns are variables here: every column in the queries below is qualified
#variable_conflict use_column
BEGIN
  IF p_before IS NULL THEN
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
       AND NOT EXISTS (
         SELECT 1 FROM blocks b
          WHERE (b.blocker_id = p_reader AND b.blocked_id = e.author_id)
             OR (b.blocker_id = e.author_id AND b.blocked_id = p_reader))
     ORDER BY e.post_id DESC
     LIMIT p_limit;
  ELSE
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
       AND e.post_id < p_before
       AND NOT EXISTS (
         SELECT 1 FROM blocks b
          WHERE (b.blocker_id = p_reader AND b.blocked_id = e.author_id)
             OR (b.blocker_id = e.author_id AND b.blocked_id = p_reader))
     ORDER BY e.post_id DESC
     LIMIT p_limit;
  END IF;
END $$;
