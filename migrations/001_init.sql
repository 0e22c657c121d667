-- 001: the whole first schema. Frozen once landed: later changes go in 002_..., 003_...
-- Times are Unix epoch milliseconds (INTEGER). Booleans are 0/1 INTEGER.

CREATE TABLE users (
  id                   INTEGER PRIMARY KEY,
  username             TEXT    NOT NULL COLLATE NOCASE UNIQUE
                               CHECK (length(username) BETWEEN 1 AND 64),
  password_hash        TEXT    NOT NULL,
  role                 TEXT    NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'staff', 'admin')),
  display_name         TEXT,
  email                TEXT,
  email_verified_at    INTEGER,
  -- The game account this dashboard user owns (rAthena account_id), so game tickets show here too.
  game_account_id      INTEGER UNIQUE,
  telegram_chat_id     TEXT,
  notify_email         INTEGER NOT NULL DEFAULT 1 CHECK (notify_email IN (0, 1)),
  notify_telegram      INTEGER NOT NULL DEFAULT 1 CHECK (notify_telegram IN (0, 1)),
  disabled_at          INTEGER,
  last_login_at        INTEGER,
  created_at           INTEGER NOT NULL,
  updated_at           INTEGER NOT NULL
);

-- One-time codes: email confirmation, Telegram deep-link, password reset. Only a hash is stored.
CREATE TABLE user_tokens (
  id          INTEGER PRIMARY KEY,
  user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  purpose     TEXT    NOT NULL CHECK (purpose IN ('email_verify', 'telegram_link', 'password_reset')),
  token_hash  TEXT    NOT NULL UNIQUE,
  payload     TEXT,
  expires_at  INTEGER NOT NULL,
  used_at     INTEGER,
  created_at  INTEGER NOT NULL
);
CREATE INDEX user_tokens_user ON user_tokens (user_id, purpose);

-- express-session rows (src/web/sessionStore.ts). user_id is copied out of the data so an
-- admin can end every session of a disabled account.
CREATE TABLE sessions (
  sid         TEXT    PRIMARY KEY,
  user_id     INTEGER REFERENCES users (id) ON DELETE CASCADE,
  data        TEXT    NOT NULL,
  expires_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE INDEX sessions_user ON sessions (user_id) WHERE user_id IS NOT NULL;

CREATE TABLE tickets (
  id                  INTEGER PRIMARY KEY,
  -- Owner on the dashboard. NULL for a game ticket whose account is not linked to a web user.
  user_id             INTEGER REFERENCES users (id),
  source              TEXT    NOT NULL DEFAULT 'web' CHECK (source IN ('web', 'game')),
  subject             TEXT    NOT NULL,
  status              TEXT    NOT NULL DEFAULT 'open'
                              CHECK (status IN ('open', 'in_progress', 'answered', 'waiting_user', 'closed')),
  priority            TEXT    NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
  assignee_id         INTEGER REFERENCES users (id),
  message_count       INTEGER NOT NULL DEFAULT 0,
  -- Game tickets (seed 002): who opened it in game.
  game_account_id     INTEGER,
  game_char_id        INTEGER,
  game_char_name      TEXT,
  -- The Discord channel bridged to this ticket; tickets are found by channel id, never by name.
  discord_guild_id    TEXT,
  discord_channel_id  TEXT    UNIQUE,
  created_at          INTEGER NOT NULL,
  updated_at          INTEGER NOT NULL,
  closed_at           INTEGER,
  CHECK (source = 'web' OR (game_account_id IS NOT NULL AND game_char_id IS NOT NULL AND game_char_name IS NOT NULL))
);
-- A player's list, newest activity first, with and without the status filter.
CREATE INDEX tickets_user_updated ON tickets (user_id, updated_at DESC);
CREATE INDEX tickets_user_status ON tickets (user_id, status, updated_at DESC);
-- The player's attention badge: waiting_user tickets per user.
CREATE INDEX tickets_waiting_user ON tickets (user_id) WHERE status = 'waiting_user';
-- Staff queue.
CREATE INDEX tickets_status_updated ON tickets (status, updated_at DESC);
CREATE INDEX tickets_updated ON tickets (updated_at DESC);
CREATE INDEX tickets_assignee ON tickets (assignee_id, updated_at DESC) WHERE assignee_id IS NOT NULL;
-- Seed 002: one open game ticket per character.
CREATE UNIQUE INDEX tickets_open_game_char ON tickets (game_char_id) WHERE source = 'game' AND status <> 'closed';
CREATE INDEX tickets_game_account ON tickets (game_account_id) WHERE game_account_id IS NOT NULL;

CREATE TABLE messages (
  id                  INTEGER PRIMARY KEY,
  ticket_id           INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
  -- player: the ticket's owner (web or game); staff: Support; system: status lines and notices.
  author_kind         TEXT    NOT NULL CHECK (author_kind IN ('player', 'staff', 'system')),
  author_id           INTEGER REFERENCES users (id),
  -- Name as shown at the time (web user, game character or Discord member).
  author_name         TEXT    NOT NULL,
  origin              TEXT    NOT NULL DEFAULT 'web' CHECK (origin IN ('web', 'game', 'discord', 'system')),
  body                TEXT    NOT NULL,
  -- Internal staff note: never shown to the player, notified or whispered.
  internal            INTEGER NOT NULL DEFAULT 0 CHECK (internal IN (0, 1)),
  discord_message_id  TEXT    UNIQUE,
  created_at          INTEGER NOT NULL
);
CREATE INDEX messages_ticket ON messages (ticket_id, id);

CREATE TABLE attachments (
  id              INTEGER PRIMARY KEY,
  ticket_id       INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
  message_id      INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  -- Random file name under UPLOADS_DIR; never derived from user input.
  storage_name    TEXT    NOT NULL UNIQUE,
  original_name   TEXT    NOT NULL,
  content_type    TEXT    NOT NULL,
  size_bytes      INTEGER NOT NULL CHECK (size_bytes >= 0),
  sha256          TEXT    NOT NULL,
  created_at      INTEGER NOT NULL
);
CREATE INDEX attachments_message ON attachments (message_id);
CREATE INDEX attachments_ticket ON attachments (ticket_id);

-- Append-only: the triggers below refuse UPDATE and DELETE.
CREATE TABLE audit_log (
  id          INTEGER PRIMARY KEY,
  at          INTEGER NOT NULL,
  actor_id    INTEGER,
  actor_name  TEXT,
  action      TEXT    NOT NULL,
  ticket_id   INTEGER,
  ip          TEXT,
  details     TEXT
);
CREATE INDEX audit_log_at ON audit_log (at DESC);
CREATE INDEX audit_log_actor ON audit_log (actor_id, at DESC);
CREATE INDEX audit_log_ticket ON audit_log (ticket_id, at DESC) WHERE ticket_id IS NOT NULL;
CREATE INDEX audit_log_action ON audit_log (action, at DESC);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- Application settings an admin changes at run time (notification switches, whisper templates,
-- the generated session secret). Values are JSON.
CREATE TABLE settings (
  key         TEXT    PRIMARY KEY,
  value       TEXT    NOT NULL,
  updated_at  INTEGER NOT NULL
) WITHOUT ROWID;

-- Seed 002 § Database: per guild, whether a ticket closes when its player logs out. The row is
-- created with the channels.conf default; after that the row wins.
CREATE TABLE discord_guild_channels (
  guild_id                TEXT    PRIMARY KEY,
  ticket_close_on_logout  INTEGER NOT NULL CHECK (ticket_close_on_logout IN (0, 1)),
  ticket_category_id      TEXT,
  log_channel_id          TEXT,
  created_at              INTEGER NOT NULL,
  updated_at              INTEGER NOT NULL
) WITHOUT ROWID;

-- Staff answers waiting to be whispered in game (GET /api/game/whispers). A row stays until the
-- game server acks it; visible_at hides a handed-out row until its visibility timeout.
CREATE TABLE game_whispers (
  id              INTEGER PRIMARY KEY,
  ticket_id       INTEGER REFERENCES tickets (id) ON DELETE SET NULL,
  account_id      INTEGER NOT NULL,
  char_id         INTEGER NOT NULL,
  char_name       TEXT    NOT NULL,
  sender          TEXT    NOT NULL,
  text            TEXT    NOT NULL,
  created_at      INTEGER NOT NULL,
  visible_at      INTEGER NOT NULL,
  delivery_count  INTEGER NOT NULL DEFAULT 0,
  acked_at        INTEGER
);
CREATE INDEX game_whispers_pending ON game_whispers (visible_at, id) WHERE acked_at IS NULL;

-- Idempotency for POST /api/game/actions: a repeated request_id returns the stored answer.
CREATE TABLE game_requests (
  request_id  TEXT    PRIMARY KEY,
  response    TEXT    NOT NULL,
  created_at  INTEGER NOT NULL
) WITHOUT ROWID;

-- Work for Discord (post a message, create or delete a channel), retried until it succeeds, in
-- order per ticket.
CREATE TABLE discord_outbox (
  id               INTEGER PRIMARY KEY,
  ticket_id        INTEGER REFERENCES tickets (id) ON DELETE CASCADE,
  kind             TEXT    NOT NULL,
  payload          TEXT    NOT NULL,
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  INTEGER NOT NULL,
  last_error       TEXT,
  done_at          INTEGER,
  created_at       INTEGER NOT NULL
);
CREATE INDEX discord_outbox_pending ON discord_outbox (next_attempt_at, id) WHERE done_at IS NULL;

-- Email and Telegram messages to players, written in the same transaction as the change that
-- caused them and sent by a worker with retries.
CREATE TABLE notification_outbox (
  id               INTEGER PRIMARY KEY,
  user_id          INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  ticket_id        INTEGER REFERENCES tickets (id) ON DELETE CASCADE,
  channel          TEXT    NOT NULL CHECK (channel IN ('email', 'telegram')),
  event            TEXT    NOT NULL,
  payload          TEXT    NOT NULL,
  -- One event makes at most one message per channel per player.
  dedupe_key       TEXT    NOT NULL UNIQUE,
  status           TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  INTEGER NOT NULL,
  last_error       TEXT,
  sent_at          INTEGER,
  created_at       INTEGER NOT NULL
);
CREATE INDEX notification_outbox_pending ON notification_outbox (next_attempt_at, id) WHERE status = 'pending';
