-- E-mail change (issue 14): a link to the new address confirms it; the old address is told, with a
-- link that undoes the change for 7 days. Both are account_tokens of two more purposes. The CHECK
-- is widened (a new constraint validated after it is added, so the table is not locked for a scan
-- while writes wait); an instance of the previous release never writes the new purposes.
SET LOCAL lock_timeout = '5s';

ALTER TABLE account_tokens DROP CONSTRAINT account_tokens_purpose_check;
ALTER TABLE account_tokens ADD CONSTRAINT account_tokens_purpose_check
  CHECK (purpose IN ('password_reset', 'email_verify', 'email_change', 'email_change_undo')) NOT VALID;
ALTER TABLE account_tokens VALIDATE CONSTRAINT account_tokens_purpose_check;
