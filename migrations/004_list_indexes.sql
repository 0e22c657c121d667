-- 004: indexes for the lists at a million tickets (issue #7, `npm run bench`).
-- Sorting by creation time (staff sort=created, and date ranges over every ticket).
CREATE INDEX tickets_created ON tickets (created_at DESC);
-- Sorting by priority: the rank expression is the one src/db/tickets.ts orders by, word for word,
-- so the queue walks this index instead of sorting every ticket.
CREATE INDEX tickets_priority_rank ON tickets ((CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END), updated_at DESC);
