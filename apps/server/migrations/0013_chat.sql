-- Chat: direct and group conversations, members with read markers, messages with per-conversation
-- sequence numbers.

CREATE TABLE conversations (
  id              uuid PRIMARY KEY,
  kind            text NOT NULL CHECK (kind IN ('direct', 'group')),
  title           text CHECK (length(title) BETWEEN 1 AND 100),
  -- '<lower user id>:<higher user id>' for a direct conversation, so there is one per pair
  direct_key      text UNIQUE,
  created_by      uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  last_message_at timestamptz NOT NULL DEFAULT now(),
  -- the seq of the newest message; every send increments it under this row's lock, so seqs are
  -- 1, 2, 3… with no gap and no duplicate whatever the concurrency
  last_seq        bigint NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
  CHECK ((kind = 'direct') = (direct_key IS NOT NULL)),
  CHECK (kind = 'group' OR title IS NULL)
);

CREATE TABLE conversation_members (
  conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role            text NOT NULL DEFAULT 'member' CHECK (role IN ('admin', 'member')),
  joined_at       timestamptz NOT NULL DEFAULT now(),
  last_read_seq   bigint NOT NULL DEFAULT 0 CHECK (last_read_seq >= 0),
  -- set when the member leaves or is removed; the row stays so that a re-add keeps the marker
  left_at         timestamptz,
  PRIMARY KEY (conversation_id, user_id)
);
-- "My conversations": the current memberships of a user, joined to conversations by primary key
-- and sorted by last_message_at (a user belongs to hundreds of conversations, not millions; keeping
-- last activity on every member row instead would cost one row update per member per message).
CREATE INDEX conversation_members_user_idx ON conversation_members (user_id, conversation_id)
  INCLUDE (last_read_seq) WHERE left_at IS NULL;
CREATE INDEX conversations_activity_idx ON conversations (last_message_at DESC, id DESC);

CREATE TABLE messages (
  id                uuid PRIMARY KEY,
  conversation_id   uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  seq               bigint NOT NULL CHECK (seq > 0),
  -- null once the sender's account is erased
  sender_id         uuid REFERENCES users (id) ON DELETE SET NULL,
  client_message_id text NOT NULL CHECK (length(client_message_id) BETWEEN 1 AND 64),
  body              text NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  edited_at         timestamptz,
  deleted_at        timestamptz,
  -- a deleted message keeps its seq (no gap for readers) but not its text
  CHECK (CASE WHEN deleted_at IS NULL THEN length(body) BETWEEN 1 AND 4000 ELSE body = '' END),
  UNIQUE (conversation_id, seq),
  -- a retried send (same sender, same client id) finds the stored message instead of a new seq
  UNIQUE (conversation_id, sender_id, client_message_id)
);
-- erasing an account visits its messages (below) and ON DELETE SET NULL
CREATE INDEX messages_sender_idx ON messages (sender_id);

-- Erasing an account erases the text of its messages too; the rows keep their seq, so the
-- conversations of the others show "deleted" instead of a hole.
CREATE FUNCTION chat_erase_sender_messages() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE messages SET body = '', deleted_at = coalesce(deleted_at, now())
   WHERE sender_id = OLD.id AND deleted_at IS NULL;
  RETURN OLD;
END
$$;
CREATE TRIGGER users_erase_chat_messages BEFORE DELETE ON users
  FOR EACH ROW EXECUTE FUNCTION chat_erase_sender_messages();
