import { prepared, type Db } from './index.js';

export interface SessionRow {
  data: string;
  expiresAt: number;
}

export function sessionBySid(db: Db, sid: string, now = Date.now()): SessionRow | undefined {
  return prepared(db, 'SELECT data, expires_at AS expiresAt FROM sessions WHERE sid = ? AND expires_at > ?').get(
    sid,
    now,
  ) as SessionRow | undefined;
}

/**
 * Stores a session. A session that has ended (deleted: sign-out, a disabled account, a password
 * reset, expiry) is never written back, even by a request that loaded it before it ended and
 * finishes after (migration 006 keeps ended ids). Returns false when refused.
 */
export function saveSession(db: Db, sid: string, userId: number | null, data: string, expiresAt: number): boolean {
  return (
    prepared(
      db,
      `INSERT INTO sessions (sid, user_id, data, expires_at)
       SELECT ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM ended_sessions WHERE sid = ?)
       ON CONFLICT (sid) DO UPDATE SET user_id = excluded.user_id, data = excluded.data, expires_at = excluded.expires_at`,
    ).run(sid, userId, data, expiresAt, sid).changes === 1
  );
}

export function sessionExists(db: Db, sid: string, now = Date.now()): boolean {
  return prepared(db, 'SELECT 1 FROM sessions WHERE sid = ? AND expires_at > ?').get(sid, now) !== undefined;
}

/** Forgets ended session ids older than any session can live. */
export function deleteEndedSessionsBefore(db: Db, before: number): number {
  return prepared(db, 'DELETE FROM ended_sessions WHERE ended_at < ?').run(before).changes;
}

export function deleteSession(db: Db, sid: string): void {
  prepared(db, 'DELETE FROM sessions WHERE sid = ?').run(sid);
}

export function deleteUserSessions(db: Db, userId: number): number {
  return prepared(db, 'DELETE FROM sessions WHERE user_id = ?').run(userId).changes;
}

export function deleteExpiredSessions(db: Db, now = Date.now()): number {
  return prepared(db, 'DELETE FROM sessions WHERE expires_at <= ?').run(now).changes;
}

/** Ends every session of the user except `keepSid` (after a password change). */
export function deleteOtherUserSessions(db: Db, userId: number, keepSid: string): number {
  return prepared(db, 'DELETE FROM sessions WHERE user_id = ? AND sid <> ?').run(userId, keepSid).changes;
}
