-- 006: hardening (issue #12).
--
-- Sessions that ended (sign-out, a disabled account, a password reset, expiry) are remembered for
-- as long as a session can live, so a request still in flight when its session was ended cannot
-- write it back when it finishes (src/db/sessions.ts saveSession refuses an ended sid).
CREATE TABLE ended_sessions (
  sid       TEXT    PRIMARY KEY,
  ended_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX ended_sessions_at ON ended_sessions (ended_at);
CREATE TRIGGER sessions_ended AFTER DELETE ON sessions
BEGIN
  INSERT OR IGNORE INTO ended_sessions (sid, ended_at) VALUES (old.sid, CAST(unixepoch('subsec') * 1000 AS INTEGER));
END;

-- A stored game answer belongs to one action of one character: the same request_id from another
-- character or for another action is a conflict (409), never a silent replay. Rows from before
-- this migration have no identity and replay as they did.
ALTER TABLE game_requests ADD COLUMN account_id INTEGER;
ALTER TABLE game_requests ADD COLUMN char_id INTEGER;
ALTER TABLE game_requests ADD COLUMN action TEXT;
