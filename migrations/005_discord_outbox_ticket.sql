-- 005: the Discord worker finds the head of each ticket's queue by an index (issue #7: with a
-- backlog of thousands of posts, looking for an earlier unfinished row of the same ticket read
-- the whole queue for every post).
CREATE INDEX discord_outbox_ticket_pending ON discord_outbox (ticket_id, id) WHERE done_at IS NULL;
