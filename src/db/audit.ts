import { prepared, type Db } from './index.js';

export interface AuditRow {
  id: number;
  at: number;
  actorId: number | null;
  actorName: string | null;
  action: string;
  ticketId: number | null;
  ip: string | null;
  details: string | null;
}

export type NewAuditRow = Omit<AuditRow, 'id'>;

export function insertAuditRow(db: Db, row: NewAuditRow): number {
  const { lastInsertRowid } = prepared(
    db,
    `INSERT INTO audit_log (at, actor_id, actor_name, action, ticket_id, ip, details)
     VALUES (@at, @actorId, @actorName, @action, @ticketId, @ip, @details)`,
  ).run(row);
  return Number(lastInsertRowid);
}

/** Newest first. */
export function recentAuditRows(db: Db, limit = 50): AuditRow[] {
  return prepared(
    db,
    `SELECT id, at, actor_id AS actorId, actor_name AS actorName, action, ticket_id AS ticketId, ip, details
     FROM audit_log ORDER BY id DESC LIMIT ?`,
  ).all(limit) as AuditRow[];
}
