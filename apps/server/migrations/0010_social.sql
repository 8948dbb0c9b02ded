-- Social core: friendships, blocks, posts, comments, reactions, tags, feed, collections, notifications.

-- Friendship is symmetric and stored in both directions, so "my friends" is one index range scan.
CREATE TABLE friendships (
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  friend_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, friend_id),
  CHECK (user_id <> friend_id)
);
CREATE INDEX friendships_friend_idx ON friendships (friend_id);

CREATE TABLE friend_requests (
  id           uuid PRIMARY KEY,
  from_user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  to_user_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at   timestamptz NOT NULL DEFAULT now(),
  CHECK (from_user_id <> to_user_id)
);
-- at most one pending request per direction; answered requests are deleted
CREATE UNIQUE INDEX friend_requests_pair_key ON friend_requests (from_user_id, to_user_id);
CREATE INDEX friend_requests_incoming_idx ON friend_requests (to_user_id, id DESC);
CREATE INDEX friend_requests_outgoing_idx ON friend_requests (from_user_id, id DESC);

CREATE TABLE blocks (
  blocker_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  blocked_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (blocker_id, blocked_id),
  CHECK (blocker_id <> blocked_id)
);
CREATE INDEX blocks_blocked_idx ON blocks (blocked_id);

CREATE TABLE posts (
  id         uuid PRIMARY KEY,
  author_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  text       text NOT NULL CHECK (length(text) <= 5000),
  visibility text NOT NULL CHECK (visibility IN ('public', 'friends', 'private')),
  entities   jsonb NOT NULL DEFAULT '[]',
  -- maintained by triggers on comments and reactions, so a page never counts rows
  comment_count   integer NOT NULL DEFAULT 0,
  reaction_counts jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  edited_at  timestamptz,
  deleted_at timestamptz
);
CREATE INDEX posts_author_idx ON posts (author_id, id DESC) WHERE deleted_at IS NULL;

CREATE TABLE post_tags (
  tag        text NOT NULL CHECK (length(tag) BETWEEN 1 AND 100),
  post_id    uuid NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
  public     boolean NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tag, post_id)
);
CREATE INDEX post_tags_public_idx ON post_tags (tag, post_id DESC) WHERE public;
CREATE INDEX post_tags_recent_idx ON post_tags (created_at) WHERE public;
CREATE INDEX post_tags_post_idx ON post_tags (post_id);

CREATE TABLE comments (
  id         uuid PRIMARY KEY,
  post_id    uuid NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
  author_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  text       text NOT NULL CHECK (length(text) BETWEEN 1 AND 2000),
  entities   jsonb NOT NULL DEFAULT '[]',
  created_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz
);
CREATE INDEX comments_post_idx ON comments (post_id, id) WHERE deleted_at IS NULL;

CREATE TABLE reactions (
  post_id    uuid NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  kind       text NOT NULL CHECK (kind IN ('like', 'love', 'laugh', 'wow', 'sad')),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (post_id, user_id)
);

-- Fan-out on write: one row per (reader, post); the home feed is one index range scan.
CREATE TABLE feed_entries (
  user_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  post_id   uuid NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
  author_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  PRIMARY KEY (user_id, post_id)
);
CREATE INDEX feed_entries_page_idx ON feed_entries (user_id, post_id DESC);
CREATE INDEX feed_entries_author_idx ON feed_entries (user_id, author_id);

CREATE TABLE collections (
  id          uuid PRIMARY KEY,
  owner_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  title       text NOT NULL CHECK (length(title) BETWEEN 1 AND 120),
  description text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
  visibility  text NOT NULL CHECK (visibility IN ('public', 'friends', 'private')),
  item_count  integer NOT NULL DEFAULT 0,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX collections_owner_idx ON collections (owner_id, id DESC);

CREATE TABLE collection_items (
  collection_id uuid NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
  post_id       uuid NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
  position      integer NOT NULL CHECK (position >= 0),
  added_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (collection_id, post_id),
  UNIQUE (collection_id, position) DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE notifications (
  id         uuid PRIMARY KEY,
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  kind       text NOT NULL CHECK (kind IN ('friend_request', 'friend_accepted', 'comment', 'reaction', 'mention')),
  -- reactions on one post are grouped into one unread notification ("A and 3 others reacted")
  group_key  text,
  actor_ids  uuid[] NOT NULL,
  actor_count integer NOT NULL DEFAULT 1,
  subject_id uuid,
  data       jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  read_at    timestamptz
);
-- grouped notifications move up when they grow, so pages are ordered by (updated_at, id)
CREATE INDEX notifications_page_idx ON notifications (user_id, updated_at DESC, id DESC);
CREATE INDEX notifications_unread_idx ON notifications (user_id) WHERE read_at IS NULL;
CREATE UNIQUE INDEX notifications_group_key ON notifications (user_id, group_key) WHERE read_at IS NULL AND group_key IS NOT NULL;

-- prefix search on username and display name
CREATE INDEX users_username_prefix_idx ON users (lower(username) text_pattern_ops);
CREATE INDEX users_display_name_prefix_idx ON users (lower(display_name) text_pattern_ops);

CREATE TABLE trending_tags (
  rank        integer PRIMARY KEY,
  tag         text NOT NULL,
  uses        integer NOT NULL,
  computed_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION posts_count_comments() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' AND NEW.deleted_at IS NULL THEN
    UPDATE posts SET comment_count = comment_count + 1 WHERE id = NEW.post_id;
  ELSIF TG_OP = 'UPDATE' AND OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL THEN
    UPDATE posts SET comment_count = comment_count - 1 WHERE id = NEW.post_id;
  ELSIF TG_OP = 'DELETE' AND OLD.deleted_at IS NULL THEN
    UPDATE posts SET comment_count = comment_count - 1 WHERE id = OLD.post_id;
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER comments_count AFTER INSERT OR UPDATE OF deleted_at OR DELETE ON comments
  FOR EACH ROW EXECUTE FUNCTION posts_count_comments();

CREATE FUNCTION posts_bump_reaction(post uuid, kind text, delta integer) RETURNS void LANGUAGE sql AS $$
  UPDATE posts
     SET reaction_counts = CASE
           WHEN coalesce((reaction_counts ->> kind)::int, 0) + delta <= 0 THEN reaction_counts - kind
           ELSE jsonb_set(reaction_counts, ARRAY[kind], to_jsonb(coalesce((reaction_counts ->> kind)::int, 0) + delta))
         END
   WHERE id = post
$$;

CREATE FUNCTION posts_count_reactions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN PERFORM posts_bump_reaction(OLD.post_id, OLD.kind, -1); END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN PERFORM posts_bump_reaction(NEW.post_id, NEW.kind, 1); END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER reactions_count AFTER INSERT OR UPDATE OF kind OR DELETE ON reactions
  FOR EACH ROW EXECUTE FUNCTION posts_count_reactions();
