-- The block rule in one place. A block hides two users from each other both ways; the rule was
-- written out in chat_send_message (0018), in friends/block-filter.ts and in the friends
-- repository. Now it is this function (the friends module's, like the blocks table), and they all
-- call it.
--
-- LANGUAGE sql, STABLE, not STRICT, one SELECT: the planner inlines it where it is used in FROM, so
-- `NOT EXISTS (SELECT 1 FROM kith_blocked_with($viewer) x WHERE x.user_id = p.author_id)` plans as
-- an anti join on equality (hashable) over two index-only scans of the viewer's blocks — cheaper
-- than the OR of two pairs it replaces, which only a nested loop could evaluate.
CREATE FUNCTION kith_blocked_with(p_user uuid) RETURNS TABLE (user_id uuid)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT b.blocked_id FROM blocks b WHERE b.blocker_id = p_user
  UNION ALL
  SELECT b.blocker_id FROM blocks b WHERE b.blocked_id = p_user
$$;

COMMENT ON FUNCTION kith_blocked_with(uuid) IS
  'The users p_user has blocked or been blocked by (the block rule; owned by the friends module).';

-- chat_send_message as in 0018, its block check (step 3) now the rule above.
CREATE OR REPLACE FUNCTION chat_send_message(
  p_id uuid, p_conversation_id uuid, p_sender_id uuid, p_client_message_id text, p_body text,
  p_with_members boolean
) RETURNS TABLE (
  status text, id uuid, conversation_id uuid, seq bigint, sender_id uuid, client_message_id text,
  body text, created_at timestamptz, edited_at timestamptz, deleted_at timestamptz, member_ids text
) LANGUAGE plpgsql AS $$
-- the result columns are variables here: every column in the queries below is qualified
#variable_conflict use_column
DECLARE
  v_kind text;
  v_seq bigint;
BEGIN
  SELECT c.kind INTO v_kind FROM conversations c WHERE c.id = p_conversation_id FOR UPDATE;
  IF v_kind IS NULL OR NOT EXISTS (
    SELECT 1 FROM conversation_members cm
     WHERE cm.conversation_id = p_conversation_id AND cm.user_id = p_sender_id AND cm.left_at IS NULL) THEN
    status := 'not_found';
    RETURN NEXT;
    RETURN;
  END IF;
  IF v_kind = 'direct' AND EXISTS (
    SELECT 1 FROM conversation_members o JOIN kith_blocked_with(p_sender_id) x ON x.user_id = o.user_id
     WHERE o.conversation_id = p_conversation_id AND o.user_id <> p_sender_id) THEN
    status := 'blocked';
    RETURN NEXT;
    RETURN;
  END IF;
  IF EXISTS (
    SELECT 1 FROM messages m
     WHERE m.conversation_id = p_conversation_id AND m.sender_id = p_sender_id
       AND m.client_message_id = p_client_message_id) THEN
    status := 'duplicate';
    RETURN NEXT;
    RETURN;
  END IF;

  UPDATE conversations c SET last_seq = c.last_seq + 1, last_message_at = now()
   WHERE c.id = p_conversation_id RETURNING c.last_seq INTO v_seq;
  UPDATE conversation_members cm SET last_read_seq = v_seq
   WHERE cm.conversation_id = p_conversation_id AND cm.user_id = p_sender_id AND cm.last_read_seq < v_seq;
  RETURN QUERY
    INSERT INTO messages AS m (id, conversation_id, seq, sender_id, client_message_id, body)
    VALUES (p_id, p_conversation_id, v_seq, p_sender_id, p_client_message_id, p_body)
    RETURNING 'sent'::text, m.id, m.conversation_id, m.seq, m.sender_id, m.client_message_id, m.body,
              m.created_at, m.edited_at, m.deleted_at,
              CASE WHEN p_with_members THEN (
                SELECT string_agg(cm.user_id::text, ',') FROM conversation_members cm
                 WHERE cm.conversation_id = p_conversation_id AND cm.left_at IS NULL) END;
END $$;
