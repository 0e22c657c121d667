-- 013: the staff who can be assigned tickets, by name (issue #19). Every staff page lists them
-- (the list's assignee filter, the ticket page's assign menu); without this index the query read
-- every account in name order, about 2 ms with 20,000 players, more than a page of search results.
CREATE INDEX users_assignable ON users (username) WHERE role IN ('staff', 'admin') AND disabled_at IS NULL;
