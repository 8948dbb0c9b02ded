-- Erasing an account erases the text of its messages, including the text a moderation decision
-- withheld (0043: kept in `withheld_body` for an appeal, which an erased account can no longer make).
SET LOCAL lock_timeout = '5s';

CREATE OR REPLACE FUNCTION chat_erase_sender_messages() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE messages SET body = '', withheld_body = NULL, removed_by_case = NULL,
                      deleted_at = coalesce(deleted_at, now())
   WHERE sender_id = OLD.id AND (deleted_at IS NULL OR withheld_body IS NOT NULL);
  RETURN OLD;
END
$$;
