-- A chat send without a round trip per step. It used to be eight statements from the server
-- (context, block check, BEGIN, seq bump, members, insert, read marker, COMMIT); on a busy gateway
-- the round trips, not the work, bounded messages per second. Now one statement carries a batch
-- of sends (the server calls this once per send, in order), with the same steps in the same order:
--   1. lock the conversation row (held to commit: concurrent senders queue, seqs stay gapless);
--   2. check membership after the lock — each statement of a VOLATILE function takes a fresh
--      snapshot, so a removal that committed while this send waited for the lock wins;
--   3. refuse a direct conversation across a block (the blocks table is the friends module's);
--   4. a client id this sender already used here is a retry: nothing is written, no seq is taken;
--   5. take the next seq, insert the message, move the sender's read marker to it.
-- `status` says which: 'sent' (the message columns are set), 'not_found' (no such conversation, or
-- the sender is not a current member), 'blocked', 'duplicate'. With `p_with_members`, a sent
-- message also carries the current members' ids, comma-separated (a client splits that far faster
-- than it parses a uuid[]); the later sends of a batch to the same conversation need not ask again:
-- the lock held to commit keeps membership as it is.
CREATE FUNCTION chat_send_message(
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
    SELECT 1 FROM conversation_members o JOIN blocks b
        ON (b.blocker_id = p_sender_id AND b.blocked_id = o.user_id)
        OR (b.blocker_id = o.user_id AND b.blocked_id = p_sender_id)
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
