-- 0002: bulk delete by addresses matches them ignoring ASCII case (as mail
-- systems do); this index keeps that a lookup, not a scan of the list.
-- PostgreSQL: the same lookup through lower(email) (queries match with
-- lower(email) = lower(?)).
-- @sqlite
CREATE INDEX recipients_email_nocase ON recipients(list_id, email COLLATE NOCASE);
-- @end
--pg CREATE INDEX recipients_email_nocase ON recipients(list_id, lower(email));
