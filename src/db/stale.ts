// The stale-ticket sweep's SQL (issue #18, src/tickets/stale.ts): the tickets waiting on the player
// long enough, by the partial index tickets_stale (migration 011), and the marks kept on them.
import { prepared, type Db } from './index.js';

export interface StaleCandidate {
  id: number;
  /** Waiting on the player since: the ticket's last visible activity (never before the player's last message). */
  since: number;
  remindedAt: number | null;
}

/**
 * The partial index's own condition, word for word (SQLite uses a partial index only for a query
 * that implies it). INDEXED BY: on a small or unanalysed table the planner may prefer
 * tickets_status_updated and sort; at a million tickets only this index reads just the waiting ones.
 */
const WAITING = `status IN ('answered', 'waiting_user') AND keep_open = 0`;

/** Waiting since `cutoff` or earlier and not yet reminded for this wait; oldest first. */
export function ticketsToRemind(db: Db, cutoff: number, limit: number): StaleCandidate[] {
  return prepared(
    db,
    `SELECT id, MAX(updated_at, COALESCE(last_player_at, 0)) AS since, reminded_at AS remindedAt FROM tickets INDEXED BY tickets_stale
     WHERE ${WAITING} AND updated_at <= ? AND (last_player_at IS NULL OR last_player_at <= ?) AND reminded_at IS NULL
     ORDER BY updated_at LIMIT ?`,
  ).all(cutoff, cutoff, limit) as StaleCandidate[];
}

/** Waiting since `cutoff` or earlier and reminded at `remindedBy` or earlier: due to close; oldest first. */
export function ticketsToClose(db: Db, cutoff: number, remindedBy: number, limit: number): StaleCandidate[] {
  return prepared(
    db,
    `SELECT id, MAX(updated_at, COALESCE(last_player_at, 0)) AS since, reminded_at AS remindedAt FROM tickets INDEXED BY tickets_stale
     WHERE ${WAITING} AND updated_at <= ? AND (last_player_at IS NULL OR last_player_at <= ?) AND reminded_at IS NOT NULL AND reminded_at <= ?
     ORDER BY updated_at LIMIT ?`,
  ).all(cutoff, cutoff, remindedBy, limit) as StaleCandidate[];
}

/** One ticket's wait as the sweep sees it, read again inside the transaction that acts on it. */
export function staleState(db: Db, ticketId: number): { since: number; remindedAt: number | null; keepOpen: boolean; waiting: boolean } | undefined {
  const row = prepared(
    db,
    `SELECT MAX(updated_at, COALESCE(last_player_at, 0)) AS since, reminded_at AS remindedAt, keep_open AS keepOpen,
       status IN ('answered', 'waiting_user') AS waiting FROM tickets WHERE id = ?`,
  ).get(ticketId) as { since: number; remindedAt: number | null; keepOpen: number; waiting: number } | undefined;
  return row && { since: row.since, remindedAt: row.remindedAt, keepOpen: row.keepOpen === 1, waiting: row.waiting === 1 };
}

/** Marks the reminder of the current wait; false when it was marked already (nothing is sent twice). */
export function markReminded(db: Db, ticketId: number, now: number): boolean {
  return prepared(db, 'UPDATE tickets SET reminded_at = ? WHERE id = ? AND reminded_at IS NULL').run(now, ticketId).changes === 1;
}

export function ticketKeepOpen(db: Db, ticketId: number): boolean {
  return (prepared(db, 'SELECT keep_open AS k FROM tickets WHERE id = ?').get(ticketId) as { k: number } | undefined)?.k === 1;
}

/** Staff's "keep open" (not activity the player sees: updated_at stays); the wait's reminder mark starts over. */
export function setTicketKeepOpen(db: Db, ticketId: number, keepOpen: boolean): boolean {
  return prepared(db, 'UPDATE tickets SET keep_open = ?, reminded_at = NULL WHERE id = ? AND keep_open <> ?').run(keepOpen ? 1 : 0, ticketId, keepOpen ? 1 : 0).changes === 1;
}
