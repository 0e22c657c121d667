-- 012: indexes for view=stats (issue #18) at a million tickets. Each one covers its query, so a
-- date range reads only its own index entries and never the table.
-- Tickets opened in a range, by source, with their first-response times.
CREATE INDEX tickets_created_stats ON tickets (created_at, source, first_response_at);
-- Tickets closed in a range, by source, with their resolution times (only closed tickets have closed_at).
CREATE INDEX tickets_closed_stats ON tickets (closed_at, source, created_at) WHERE closed_at IS NOT NULL;
-- Staff replies in a range, by author: visible staff messages only.
CREATE INDEX messages_staff_replies ON messages (created_at, author_id) WHERE author_kind = 'staff' AND internal = 0;
