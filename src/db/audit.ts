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

export interface AuditFilter {
  actorName?: string;
  action?: string;
  ticketId?: number;
  from?: number;
  /** Exclusive. */
  before?: number;
}

function auditWhere(filter: AuditFilter): { where: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.actorName !== undefined) {
    where.push('actor_name = ? COLLATE NOCASE');
    params.push(filter.actorName);
  }
  if (filter.action !== undefined) {
    where.push('action = ?');
    params.push(filter.action);
  }
  if (filter.ticketId !== undefined) {
    where.push('ticket_id = ?');
    params.push(filter.ticketId);
  }
  if (filter.from !== undefined) {
    where.push('at >= ?');
    params.push(filter.from);
  }
  if (filter.before !== undefined) {
    where.push('at < ?');
    params.push(filter.before);
  }
  return { where: where.length ? `WHERE ${where.join(' AND ')}` : '', params };
}

/** Newest first. */
export function auditRows(db: Db, filter: AuditFilter, limit: number, offset: number): AuditRow[] {
  const { where, params } = auditWhere(filter);
  return prepared(
    db,
    `SELECT id, at, actor_id AS actorId, actor_name AS actorName, action, ticket_id AS ticketId, ip, details
     FROM audit_log ${where} ORDER BY id DESC LIMIT ? OFFSET ?`,
  ).all(...params, limit, offset) as AuditRow[];
}

export function countAuditRows(db: Db, filter: AuditFilter): number {
  const { where, params } = auditWhere(filter);
  return (prepared(db, `SELECT COUNT(*) AS n FROM audit_log ${where}`).get(...params) as { n: number }).n;
}

export function auditActions(db: Db): string[] {
  return (prepared(db, 'SELECT DISTINCT action FROM audit_log ORDER BY action').all() as { action: string }[]).map((r) => r.action);
}

/**
 * What one account did since `since` by the given audit actions: how many rows, and the files and
 * bytes they carried (details.attachments and details.bytes). Reads the actor index, so the cost
 * is the account's own recent rows (quotas keep those few).
 */
export function actorActivitySince(db: Db, actorId: number, actions: string[], since: number): { count: number; files: number; bytes: number } {
  const row = prepared(
    db,
    `SELECT COUNT(*) AS count, COALESCE(SUM(json_extract(details, '$.attachments')), 0) AS files, COALESCE(SUM(json_extract(details, '$.bytes')), 0) AS bytes
     FROM audit_log WHERE actor_id = ? AND at >= ? AND action IN (SELECT value FROM json_each(?))`,
  ).get(actorId, since, JSON.stringify(actions)) as { count: number; files: number; bytes: number };
  return row;
}

/** Rows after `afterId`, oldest first, `limit` at a time (the CSV export walks the log in pages). */
export function auditRowsAfter(db: Db, filter: AuditFilter, afterId: number, limit: number): AuditRow[] {
  const { where, params } = auditWhere(filter);
  return prepared(
    db,
    `SELECT id, at, actor_id AS actorId, actor_name AS actorName, action, ticket_id AS ticketId, ip, details
     FROM audit_log ${where ? `${where} AND` : 'WHERE'} id > ? ORDER BY id LIMIT ?`,
  ).all(...params, afterId, limit) as AuditRow[];
}
