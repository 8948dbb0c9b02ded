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
