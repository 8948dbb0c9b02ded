-- Content removed by a moderation decision can come back when an appeal overturns it (issue 14).
-- Such a removal marks the row with the report case that removed it (an author's own delete
-- never does), and keeps what a plain delete would discard: a chat message's text moves to
-- `withheld_body` (a deleted message's body must be ''), its media and a post's media stay
-- attached. Overturning the case restores exactly the rows it marked. Additive only (nullable
-- columns, no rewrite), so the previous release keeps working during the rollout.
SET LOCAL lock_timeout = '5s';

-- posts, comments (posts module), messages (chat module)
ALTER TABLE posts ADD COLUMN removed_by_case uuid;
ALTER TABLE comments ADD COLUMN removed_by_case uuid;
ALTER TABLE messages ADD COLUMN removed_by_case uuid;
ALTER TABLE messages ADD COLUMN withheld_body text;

-- A comment restored (deleted_at back to NULL) counts again on its post.
CREATE OR REPLACE FUNCTION posts_count_comments() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' AND NEW.deleted_at IS NULL THEN
    UPDATE posts SET comment_count = comment_count + 1 WHERE id = NEW.post_id;
  ELSIF TG_OP = 'UPDATE' AND OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL THEN
    UPDATE posts SET comment_count = comment_count - 1 WHERE id = NEW.post_id;
  ELSIF TG_OP = 'UPDATE' AND OLD.deleted_at IS NOT NULL AND NEW.deleted_at IS NULL THEN
    UPDATE posts SET comment_count = comment_count + 1 WHERE id = NEW.post_id;
  ELSIF TG_OP = 'DELETE' AND OLD.deleted_at IS NULL THEN
    UPDATE posts SET comment_count = comment_count - 1 WHERE id = OLD.post_id;
  END IF;
  RETURN NULL;
END
$$;
