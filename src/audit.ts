// The audit log (SECURITY.md "Audit and logs"): every state change records who, what, which
// ticket, from where, when. One function for every feature; the table refuses UPDATE and DELETE.
import type { Db } from './db/index.js';
import { insertAuditRow } from './db/audit.js';

export interface AuditActor {
  id: number | null;
  name: string | null;
}

export interface AuditEvent {
  actor: AuditActor | null;
  action: string;
  ip?: string | null;
  ticketId?: number | null;
  details?: Record<string, unknown>;
}

export const SYSTEM_ACTOR: AuditActor = { id: null, name: 'system' };

export function recordAudit(db: Db, event: AuditEvent, now = Date.now()): number {
  return insertAuditRow(db, {
    at: now,
    actorId: event.actor?.id ?? null,
    actorName: event.actor?.name?.slice(0, 200) ?? null,
    action: event.action,
    ticketId: event.ticketId ?? null,
    ip: event.ip ?? null,
    details: event.details === undefined ? null : JSON.stringify(event.details),
  });
}

/** How long identical refusals are gathered into one row. */
export const REFUSAL_WINDOW_MS = 60_000;
const SAMPLE_IDS = 20;
const MAX_OPEN_WINDOWS = 10_000;

interface RefusalWindow {
  event: AuditEvent;
  until: number;
  repeated: number;
  requestedIds: unknown[];
}

/**
 * Refusals (a view of someone else's ticket, a file that is not on the ticket) are written once a
 * minute per actor, address and action (issue #12: one player wrote about 700 audit rows a second
 * through refused views). The first is written at once; identical ones within the minute are
 * counted, and when the minute is over one row says how many there were and which ids they asked
 * for. Nothing is lost at a stop: `flush` writes what is open.
 */
export class RefusalAudit {
  private readonly windows = new Map<string, RefusalWindow>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly db: Db,
    private readonly windowMs = REFUSAL_WINDOW_MS,
  ) {
    this.sweeper = setInterval(() => this.flush(Date.now()), Math.min(windowMs, 10_000));
    this.sweeper.unref();
  }

  record(event: AuditEvent & { details: { requestedId?: unknown } }, now = Date.now()): void {
    const key = JSON.stringify([event.action, event.actor?.id ?? null, event.actor?.name ?? null, event.ip ?? null]);
    const open = this.windows.get(key);
    if (open && now < open.until) {
      open.repeated += 1;
      if (open.requestedIds.length < SAMPLE_IDS) open.requestedIds.push(event.details.requestedId);
      return;
    }
    if (open) this.close(key, open);
    recordAudit(this.db, event, now);
    this.windows.set(key, { event, until: now + this.windowMs, repeated: 0, requestedIds: [] });
    if (this.windows.size > MAX_OPEN_WINDOWS) {
      const [oldestKey, oldest] = this.windows.entries().next().value!;
      this.close(oldestKey, oldest);
    }
  }

  /** Writes the summary of every window that is over (all of them without `now`). */
  flush(now = Number.POSITIVE_INFINITY): void {
    for (const [key, open] of this.windows) if (now >= open.until) this.close(key, open);
  }

  stop(): void {
    clearInterval(this.sweeper);
    this.flush();
  }

  private close(key: string, open: RefusalWindow): void {
    this.windows.delete(key);
    if (open.repeated === 0) return;
    try {
      recordAudit(this.db, {
        actor: open.event.actor,
        action: open.event.action,
        ip: open.event.ip ?? null,
        details: { repeated: open.repeated, withinSeconds: Math.round(this.windowMs / 1000), requestedIds: open.requestedIds },
      });
    } catch {
      // the database is closing; the first row of the window is there
    }
  }
}
