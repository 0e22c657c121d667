// The notification outbox (email, Telegram) and the one-time tokens behind email confirmation
// and Telegram linking.
import { afterCommit, prepared, type Db } from './index.js';
import { outboxSignals } from './outboxes.js';

export type NotificationChannel = 'email' | 'telegram';

export interface NewNotification {
  userId: number;
  ticketId: number | null;
  channel: NotificationChannel;
  event: string;
  payload: unknown;
  /** One event makes at most one message per channel per player. */
  dedupeKey: string;
  now: number;
}

/** Queues a message unless the same event was queued for this channel before; true when queued. Wakes the worker after the commit. */
export function enqueueNotification(db: Db, n: NewNotification): boolean {
  const queued =
    prepared(
      db,
      `INSERT INTO notification_outbox (user_id, ticket_id, channel, event, payload, dedupe_key, next_attempt_at, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING`,
    ).run(n.userId, n.ticketId, n.channel, n.event, JSON.stringify(n.payload), n.dedupeKey, n.now, n.now).changes === 1;
  if (queued) afterCommit(db, () => outboxSignals(db).notifications.notify());
  return queued;
}

export interface PendingNotification {
  id: number;
  userId: number;
  ticketId: number | null;
  channel: NotificationChannel;
  event: string;
  payload: string;
  attempts: number;
  /** When the change was queued: the time the message names. */
  createdAt: number;
}

export function nextNotification(db: Db, now: number, channel: NotificationChannel): PendingNotification | undefined {
  return prepared(
    db,
    `SELECT id, user_id AS userId, ticket_id AS ticketId, channel, event, payload, attempts, created_at AS createdAt FROM notification_outbox
     WHERE status = 'pending' AND channel = ? AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT 1`,
  ).get(channel, now) as PendingNotification | undefined;
}

export function nextNotificationDueAt(db: Db, channel: NotificationChannel): number | undefined {
  const row = prepared(db, "SELECT MIN(next_attempt_at) AS at FROM notification_outbox WHERE status = 'pending' AND channel = ?").get(channel) as { at: number | null };
  return row.at ?? undefined;
}

export function markNotificationSent(db: Db, id: number, now: number): void {
  prepared(db, "UPDATE notification_outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?").run(now, id);
}

export function markNotificationRetry(db: Db, id: number, error: string, nextAttemptAt: number): void {
  prepared(db, 'UPDATE notification_outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?').run(error.slice(0, 1000), nextAttemptAt, id);
}

export function markNotificationFailed(db: Db, id: number, error: string): void {
  prepared(db, "UPDATE notification_outbox SET status = 'failed', attempts = attempts + 1, last_error = ? WHERE id = ?").run(error.slice(0, 1000), id);
}

export interface NotificationRow {
  id: number;
  username: string;
  ticketId: number | null;
  channel: NotificationChannel;
  event: string;
  status: string;
  attempts: number;
  lastError: string | null;
  createdAt: number;
}

/** Newest failures first, for the admin page. */
export function failedNotifications(db: Db, limit = 20): NotificationRow[] {
  return prepared(
    db,
    `SELECT n.id, u.username, n.ticket_id AS ticketId, n.channel, n.event, n.status, n.attempts, n.last_error AS lastError, n.created_at AS createdAt
     FROM notification_outbox n JOIN users u ON u.id = n.user_id WHERE n.status = 'failed' ORDER BY n.id DESC LIMIT ?`,
  ).all(limit) as NotificationRow[];
}

export function notificationCounts(db: Db): { pending: number; failed: number; sent: number } {
  const rows = prepared(db, 'SELECT status, COUNT(*) AS n FROM notification_outbox GROUP BY status').all() as { status: string; n: number }[];
  const counts = { pending: 0, failed: 0, sent: 0 };
  for (const row of rows) if (row.status in counts) counts[row.status as keyof typeof counts] = row.n;
  return counts;
}

export function notificationsForTicket(db: Db, ticketId: number): { channel: NotificationChannel; event: string; status: string; userId: number }[] {
  return prepared(db, 'SELECT channel, event, status, user_id AS userId FROM notification_outbox WHERE ticket_id = ? ORDER BY id').all(ticketId) as {
    channel: NotificationChannel;
    event: string;
    status: string;
    userId: number;
  }[];
}

// --- one-time tokens -------------------------------------------------------------------------

export type TokenPurpose = 'email_verify' | 'telegram_link' | 'password_reset';

export function insertUserToken(db: Db, t: { userId: number; purpose: TokenPurpose; tokenHash: string; payload: string | null; expiresAt: number; now: number }): void {
  prepared(db, 'INSERT INTO user_tokens (user_id, purpose, token_hash, payload, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?)').run(
    t.userId,
    t.purpose,
    t.tokenHash,
    t.payload,
    t.expiresAt,
    t.now,
  );
}

/** Marks a valid token used and returns it; undefined when unknown, used or expired. */
export function consumeUserToken(db: Db, purpose: TokenPurpose, tokenHash: string, now: number): { userId: number; payload: string | null } | undefined {
  return prepared(
    db,
    `UPDATE user_tokens SET used_at = ? WHERE purpose = ? AND token_hash = ? AND used_at IS NULL AND expires_at > ?
     RETURNING user_id AS userId, payload`,
  ).get(now, purpose, tokenHash, now) as { userId: number; payload: string | null } | undefined;
}

/** Earlier unused tokens of this purpose stop working when a new one is made. */
export function retireUserTokens(db: Db, userId: number, purpose: TokenPurpose, now: number): void {
  prepared(db, 'UPDATE user_tokens SET used_at = ? WHERE user_id = ? AND purpose = ? AND used_at IS NULL').run(now, userId, purpose);
}

/** Tokens of `purpose` made for `userId` since `since` (how many confirmation mails an account asked for). */
export function userTokensSince(db: Db, userId: number, purpose: TokenPurpose, since: number): number {
  return (prepared(db, 'SELECT COUNT(*) AS n FROM user_tokens WHERE user_id = ? AND purpose = ? AND created_at >= ?').get(userId, purpose, since) as { n: number }).n;
}

/** Tokens of `purpose` whose payload is `payload` (any case) since `since`: confirmation mails to one address, whoever asked. */
export function payloadTokensSince(db: Db, purpose: TokenPurpose, payload: string, since: number): number {
  return (
    prepared(db, 'SELECT COUNT(*) AS n FROM user_tokens WHERE purpose = ? AND created_at >= ? AND lower(payload) = lower(?)').get(purpose, since, payload) as { n: number }
  ).n;
}
