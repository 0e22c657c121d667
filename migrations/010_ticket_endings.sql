-- 010: tickets that end well (issue #18). Kept up to date by triggers, so every path that writes a
-- message (web, game, Discord) counts without knowing about them.

-- The player's last visible message: a ticket waiting on the player is reminded and closed from it.
ALTER TABLE tickets ADD COLUMN last_player_at INTEGER;
-- Support's first visible answer: the first-response time of view=stats.
ALTER TABLE tickets ADD COLUMN first_response_at INTEGER;
-- Staff marked it "keep open": never reminded or closed for waiting.
ALTER TABLE tickets ADD COLUMN keep_open INTEGER NOT NULL DEFAULT 0 CHECK (keep_open IN (0, 1));
-- When the stale reminder was sent for the current wait (NULL: not yet); cleared by a player message.
ALTER TABLE tickets ADD COLUMN reminded_at INTEGER;

UPDATE tickets SET
  last_player_at = (SELECT MAX(m.created_at) FROM messages m WHERE m.ticket_id = tickets.id AND m.author_kind = 'player' AND m.internal = 0),
  first_response_at = (SELECT MIN(m.created_at) FROM messages m WHERE m.ticket_id = tickets.id AND m.author_kind = 'staff' AND m.internal = 0);

CREATE TRIGGER messages_last_player AFTER INSERT ON messages
  WHEN new.author_kind = 'player' AND new.internal = 0
BEGIN
  UPDATE tickets SET last_player_at = new.created_at, reminded_at = NULL WHERE id = new.ticket_id;
END;

CREATE TRIGGER messages_first_response AFTER INSERT ON messages
  WHEN new.author_kind = 'staff' AND new.internal = 0
BEGIN
  UPDATE tickets SET first_response_at = new.created_at WHERE id = new.ticket_id AND first_response_at IS NULL;
END;

-- "How did we do?": one rating per ticket, by its owner, once it is closed. `staff_id` is who the
-- rating counts for in view=stats (the ticket's assignee when rated, else the last staff member
-- who answered on the web; NULL when neither is known, e.g. a Discord-only answer).
CREATE TABLE ticket_ratings (
  ticket_id   INTEGER PRIMARY KEY REFERENCES tickets (id) ON DELETE CASCADE,
  user_id     INTEGER NOT NULL REFERENCES users (id),
  rating      INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
  comment     TEXT,
  staff_id    INTEGER REFERENCES users (id),
  created_at  INTEGER NOT NULL
);
CREATE INDEX ticket_ratings_created ON ticket_ratings (created_at);
