// express-session's store on the SQLite sessions table: sessions survive restarts and are shared
// by every request of the process, never held in the in-memory store.
import session from 'express-session';
import { z } from 'zod';
import type { Flash } from './flash.js';
import type { Db } from '../db/index.js';
import { deleteEndedSessionsBefore, deleteExpiredSessions, deleteSession, saveSession, sessionBySid, touchSession } from '../db/sessions.js';

const DEFAULT_LIFETIME_MS = 24 * 60 * 60 * 1000;
/** Ended session ids are kept this long: longer than any session lives (src/web/app.ts, 7 days). */
const ENDED_KEPT_MS = 8 * 24 * 60 * 60 * 1000;

/**
 * A stored session as this app writes it. Anything else (a row damaged by hand, a value of an
 * older shape) reads as no session: the visitor signs in again, never a crash or a wrong user.
 */
const storedSession = z
  .object({
    cookie: z.object({}).passthrough(),
    userId: z.number().int().positive().optional(),
    csrfToken: z.string().optional(),
    // A flash of an older shape is dropped, not the session with it.
    flash: z
      .object({ kind: z.enum(['info', 'error']), key: z.string(), params: z.record(z.string(), z.union([z.string(), z.number()])).optional() })
      .optional()
      .catch(undefined),
  })
  .passthrough();

function readSession(data: string): session.SessionData | null {
  try {
    const parsed = storedSession.safeParse(JSON.parse(data));
    return parsed.success ? (parsed.data as unknown as session.SessionData) : null;
  } catch {
    return null;
  }
}

function expiryOf(data: session.SessionData): number {
  const expires = data.cookie?.expires;
  if (expires) return new Date(expires).getTime();
  const maxAge = data.cookie?.originalMaxAge;
  return Date.now() + (typeof maxAge === 'number' ? maxAge : DEFAULT_LIFETIME_MS);
}

export class SqliteSessionStore extends session.Store {
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly db: Db,
    sweepEveryMs = 15 * 60 * 1000,
  ) {
    super();
    this.sweeper = setInterval(() => this.sweep(), sweepEveryMs);
    this.sweeper.unref();
  }

  override get(sid: string, callback: (err: unknown, session?: session.SessionData | null) => void): void {
    try {
      const row = sessionBySid(this.db, sid);
      callback(null, row ? readSession(row.data) : null);
    } catch (err) {
      callback(err);
    }
  }

  override set(sid: string, data: session.SessionData, callback?: (err?: unknown) => void): void {
    try {
      // An ended session is not brought back; the request's answer goes out without it.
      saveSession(this.db, sid, data.userId ?? null, JSON.stringify(data), expiryOf(data));
      callback?.();
    } catch (err) {
      callback?.(err);
    }
  }

  override touch(sid: string, data: session.SessionData, callback?: (err?: unknown) => void): void {
    try {
      touchSession(this.db, sid, expiryOf(data));
      callback?.();
    } catch (err) {
      callback?.(err);
    }
  }

  override destroy(sid: string, callback?: (err?: unknown) => void): void {
    try {
      deleteSession(this.db, sid);
      callback?.();
    } catch (err) {
      callback?.(err);
    }
  }

  sweep(): number {
    try {
      deleteEndedSessionsBefore(this.db, Date.now() - ENDED_KEPT_MS);
      return deleteExpiredSessions(this.db);
    } catch {
      return 0; // the database is closing; the next start sweeps again
    }
  }

  close(): void {
    clearInterval(this.sweeper);
  }
}

declare module 'express-session' {
  interface SessionData {
    userId: number;
    csrfToken: string;
    /** Said once on the next page (src/web/flash.ts). */
    flash: Flash;
  }
}
