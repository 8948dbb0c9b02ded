-- A chat message may carry media and no text (a photo without a caption): a live message's body may
-- now be empty. Which messages have media is the media module's business (message_media); the
-- chat service refuses a blank body on a message without media.
ALTER TABLE messages DROP CONSTRAINT messages_check;
-- NOT VALID: every existing row already satisfies the old, stricter check, so there is nothing to
-- scan for (new and updated rows are checked as usual).
ALTER TABLE messages ADD CONSTRAINT messages_body_check
  CHECK (CASE WHEN deleted_at IS NULL THEN length(body) <= 4000 ELSE body = '' END) NOT VALID;
