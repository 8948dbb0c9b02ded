-- feed_entries' primary key (user_id, post_id) already serves the feed page (a backward range scan
-- of one user's entries); the extra (user_id, post_id DESC) index only cost a third more writes
-- on every fan-out.
DROP INDEX feed_entries_page_idx;
