// The audit log (DESIGN.md "Security and data"): every state change records who, what, which
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
