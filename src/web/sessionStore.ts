// express-session's store on the SQLite sessions table: sessions survive restarts and are shared
// by every request of the process, never held in the in-memory store.
import session from 'express-session';
import { z } from 'zod';
import type { Flash } from './flash.js';
import type { Db } from '../db/index.js';
import { ReadCache } from '../db/readCache.js';
import { deleteEndedSessionsBefore, deleteExpiredSessions, deleteSession, saveSession, sessionBySid, type SessionRow } from '../db/sessions.js';

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

/**
 * Sessions are read through a ReadCache (src/db/readCache.ts): a page whose session nothing changed
 * since this process last read or wrote it reads no session row. A session ended anywhere else (the
 * CLI, another connection, a page of this process that ends a user's sessions) is a write the cache
 * sees, so the next request reads the table again and finds it gone.
 *
 * There is no touch(): express-session would call it on every request to push the expiry along
 * (one write per page). The sliding lifetime is kept by src/web/app.ts instead, which renews a
 * session (a set(), with its cookie) once its expiry lags the full lifetime by more than an hour.
 */
export class SqliteSessionStore extends session.Store {
  private readonly sweeper: NodeJS.Timeout;
  /** Stored sessions by sid, as validated JSON (each get parses its own copy: express-session changes it). */
  private readonly rows: ReadCache<string, SessionRow>;

  constructor(
    private readonly db: Db,
    sweepEveryMs = 15 * 60 * 1000,
  ) {
    super();
    this.rows = new ReadCache(db);
    this.sweeper = setInterval(() => this.sweep(), sweepEveryMs);
    this.sweeper.unref();
  }

  override get(sid: string, callback: (err: unknown, session?: session.SessionData | null) => void): void {
    try {
      const row = this.rows.get(sid, () => {
        const stored = sessionBySid(this.db, sid);
        return stored && readSession(stored.data) ? stored : undefined;
      });
      // The table's read skips expired rows; a remembered row is held to the same rule.
      callback(null, row && row.expiresAt > Date.now() ? (JSON.parse(row.data) as session.SessionData) : null);
    } catch (err) {
      callback(err);
    }
  }

  override set(sid: string, data: session.SessionData, callback?: (err?: unknown) => void): void {
    try {
      const json = JSON.stringify(data);
      const expiresAt = expiryOf(data);
      // An ended session is not brought back; the request's answer goes out without it.
      this.rows.write(sid, () => (saveSession(this.db, sid, data.userId ?? null, json, expiresAt) ? { data: json, expiresAt } : undefined));
      callback?.();
    } catch (err) {
      callback?.(err);
    }
  }

  override destroy(sid: string, callback?: (err?: unknown) => void): void {
    try {
      this.rows.write(sid, () => {
        deleteSession(this.db, sid);
        return undefined;
      });
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
    /** When the session's lifetime was last renewed (src/web/app.ts): changing it saves the session and sends its cookie. */
    renewedAt: number;
  }
}
