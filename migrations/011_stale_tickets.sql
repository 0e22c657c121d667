-- 011: the stale-ticket sweep (issue #18) finds the tickets waiting on the player by this partial
-- index: only answered and waiting_user tickets not kept open are in it, ordered by their last
-- visible activity, so a sweep reads the few that waited long enough, whatever the desk's size.
CREATE INDEX tickets_stale ON tickets (updated_at) WHERE status IN ('answered', 'waiting_user') AND keep_open = 0;
