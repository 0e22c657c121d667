// What GET /metrics reads from the database at scrape time (src/metrics.ts): tickets by status and
// source, and each outbox's depth and oldest entry. Every statement reads an index, partial ones
// for the outboxes, so a scrape costs about the size of the backlog, not of the tables.
import { prepared, type Db } from './index.js';

export interface StatusSourceCount {
  status: string;
  source: string;
  n: number;
}

/** Tickets not closed, by status and source: a few ranges of tickets_status_source (migration 009). */
export function openTicketCounts(db: Db): StatusSourceCount[] {
  return prepared(
    db,
    "SELECT status, source, COUNT(*) AS n FROM tickets WHERE status IN ('open', 'in_progress', 'answered', 'waiting_user') GROUP BY status, source",
  ).all() as StatusSourceCount[];
}

/** Closed tickets by source: most of a big desk, so a scan of the covering index (about 50 ms at a million). */
export function closedTicketCounts(db: Db): StatusSourceCount[] {
  return prepared(db, "SELECT status, source, COUNT(*) AS n FROM tickets WHERE status = 'closed' GROUP BY source").all() as StatusSourceCount[];
}

export interface OutboxDepth {
  /** Waiting entries (not done, not acked, not sent or given up). */
  n: number;
  /** created_at of the oldest waiting entry, or null when none waits. */
  oldest: number | null;
}

export function discordOutboxDepth(db: Db): OutboxDepth {
  return prepared(db, 'SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM discord_outbox WHERE done_at IS NULL').get() as OutboxDepth;
}

export function whisperOutboxDepth(db: Db): OutboxDepth {
  return prepared(db, 'SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM game_whispers WHERE acked_at IS NULL').get() as OutboxDepth;
}

export function notificationOutboxDepths(db: Db): (OutboxDepth & { channel: string })[] {
  return prepared(db, "SELECT channel, COUNT(*) AS n, MIN(created_at) AS oldest FROM notification_outbox WHERE status = 'pending' GROUP BY channel").all() as (OutboxDepth & {
    channel: string;
  })[];
}
