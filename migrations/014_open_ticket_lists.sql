-- 014: the default lists ("All except closed", newest activity first) read exactly one page of
-- index entries (issue #19). With tickets_user_updated and tickets_updated they read every closed
-- ticket between the open ones (a player with most tickets closed: about 270 rows for 50) and
-- sorted ties by id in a temporary b-tree; the player's list query went from 188 to 113 µs. The
-- condition is the list's own `t.status <> 'closed'` (src/db/tickets.ts listFilter), word for word.
CREATE INDEX tickets_user_open ON tickets (user_id, updated_at DESC, id DESC) WHERE status <> 'closed';
CREATE INDEX tickets_open ON tickets (updated_at DESC, id DESC) WHERE status <> 'closed';
