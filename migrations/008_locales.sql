-- 008: languages (issue #16). An account may choose its language on view=settings (`locale`);
-- without a choice, the language its last page was shown in (`seen_locale`) is what its emails and
-- Telegram messages are written in. A game ticket remembers the language its game actions asked
-- for (`lang`), so later whispers on it are in that language too. NULL everywhere means "not
-- known": the admin's texts, else DEFAULT_LOCALE.
ALTER TABLE users ADD COLUMN locale TEXT;
ALTER TABLE users ADD COLUMN seen_locale TEXT;
ALTER TABLE tickets ADD COLUMN locale TEXT;

-- Whose turn it is (issue #16): an `answered` ticket is the player's turn after Support wrote and
-- Support's turn after the player did. The author of the last message the player can see says which.
ALTER TABLE tickets ADD COLUMN last_author TEXT CHECK (last_author IN ('player', 'staff'));
UPDATE tickets SET last_author = (
  SELECT m.author_kind FROM messages m
  WHERE m.ticket_id = tickets.id AND m.author_kind IN ('player', 'staff') AND m.internal = 0
  ORDER BY m.id DESC LIMIT 1
);
CREATE TRIGGER messages_last_author AFTER INSERT ON messages
  WHEN new.author_kind IN ('player', 'staff') AND new.internal = 0
BEGIN
  UPDATE tickets SET last_author = new.author_kind WHERE id = new.ticket_id;
END;

-- A status or event line, as a catalogue key and its values (JSON), so each reader sees it in their
-- own language; `body` keeps the English line for Discord, transcripts and search.
ALTER TABLE messages ADD COLUMN event TEXT;
