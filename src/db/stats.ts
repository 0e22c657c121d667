// The figures of view=stats (issue #18), for a range [from, before) of instants. Every statement
// reads an index made for it (migrations 001, 004, 009, 010, 011; checked by
// test/integration/listQueries.test.ts), so the cost is the range's own index entries, never the
// whole table, however many tickets there are.
import { prepared, type Db } from './index.js';

export type TicketSource = 'web' | 'game';
export const BACKLOG_STATUSES = ['open', 'in_progress', 'answered', 'waiting_user'] as const;
export type BacklogStatus = (typeof BACKLOG_STATUSES)[number];

export interface StatsRange {
  from: number;
  /** Exclusive. */
  before: number;
}

export interface BySource {
  web: number;
  game: number;
}

/** Median and 90th percentile of a set of durations (ms); undefined when the set is empty. */
export interface Spread {
  count: number;
  median?: number;
  p90?: number;
}

export interface BacklogRow {
  status: BacklogStatus;
  count: number;
  /** The ticket in this status with the oldest last activity: the one waiting longest. */
  oldest?: { id: number; subject: string; since: number };
}

export interface StaffRow {
  id: number;
  username: string;
  role: 'staff' | 'admin';
  replies: number;
  closes: number;
  ratings: number;
  /** Mean rating 1-5 of the ratings counted for this person; undefined without any. */
  averageRating?: number;
}

export interface Stats {
  opened: BySource;
  closed: BySource;
  firstResponse: Spread;
  resolution: Spread;
  backlog: BacklogRow[];
  staff: StaffRow[];
}

function bySource(rows: { source: string; n: number }[]): BySource {
  const counts: BySource = { web: 0, game: 0 };
  for (const row of rows) if (row.source === 'web' || row.source === 'game') counts[row.source] = row.n;
  return counts;
}

/**
 * Median and p90 of the durations one statement lists, without bringing them into JavaScript: the
 * count first, then the k-th smallest by ORDER BY … LIMIT … OFFSET k. SQLite sorts only the range's
 * index entries (a covering index: no table reads) and, with a LIMIT, keeps at most k+2 of them in
 * its sorter, spilling to its temp store rather than our heap. The median of an even count is the
 * mean of the two middle values; p90 is the nearest rank (the ceil(0.9 n)-th smallest).
 */
function spread(db: Db, countSql: string, valuesSql: string, range: StatsRange): Spread {
  const count = (prepared(db, countSql).get(range.from, range.before) as { n: number }).n;
  if (count === 0) return { count };
  const nth = (offset: number, limit: number) =>
    (prepared(db, `${valuesSql} ORDER BY d LIMIT ? OFFSET ?`).all(range.from, range.before, limit, offset) as { d: number }[]).map((r) => r.d);
  const middle = count % 2 === 1 ? nth((count - 1) / 2, 1) : nth(count / 2 - 1, 2);
  const median = middle.length === 2 ? (middle[0]! + middle[1]!) / 2 : middle[0]!;
  const p90 = nth(Math.ceil(0.9 * count) - 1, 1)[0]!;
  return { count, median, p90 };
}

export function ticketStats(db: Db, range: StatsRange): Stats {
  const opened = bySource(
    prepared(db, 'SELECT source, COUNT(*) AS n FROM tickets WHERE created_at >= ? AND created_at < ? GROUP BY source').all(range.from, range.before) as { source: string; n: number }[],
  );
  const closed = bySource(
    prepared(db, 'SELECT source, COUNT(*) AS n FROM tickets WHERE closed_at >= ? AND closed_at < ? GROUP BY source').all(range.from, range.before) as { source: string; n: number }[],
  );
  const firstResponse = spread(
    db,
    'SELECT COUNT(*) AS n FROM tickets WHERE created_at >= ? AND created_at < ? AND first_response_at IS NOT NULL',
    'SELECT first_response_at - created_at AS d FROM tickets WHERE created_at >= ? AND created_at < ? AND first_response_at IS NOT NULL',
    range,
  );
  const resolution = spread(
    db,
    'SELECT COUNT(*) AS n FROM tickets WHERE closed_at >= ? AND closed_at < ?',
    'SELECT closed_at - created_at AS d FROM tickets WHERE closed_at >= ? AND closed_at < ?',
    range,
  );
  return { opened, closed, firstResponse, resolution, backlog: backlog(db), staff: staffRows(db, range) };
}

/** Tickets not closed, now, by status, each with the one whose last activity is oldest. */
export function backlog(db: Db): BacklogRow[] {
  const counts = new Map(
    (prepared(db, "SELECT status, COUNT(*) AS n FROM tickets WHERE status IN ('open', 'in_progress', 'answered', 'waiting_user') GROUP BY status").all() as { status: string; n: number }[]).map((r) => [
      r.status,
      r.n,
    ]),
  );
  return BACKLOG_STATUSES.map((status) => {
    const count = counts.get(status) ?? 0;
    if (count === 0) return { status, count };
    const oldest = prepared(db, 'SELECT id, subject, updated_at AS since FROM tickets WHERE status = ? ORDER BY updated_at LIMIT 1').get(status) as
      | { id: number; subject: string; since: number }
      | undefined;
    return oldest ? { status, count, oldest } : { status, count };
  });
}

/**
 * Every account with the staff or admin role (accounts are few), with, in the range: its visible
 * replies, its closes (audit rows `ticket.close` it is the actor of), and the ratings counted for it
 * (ticket_ratings.staff_id). Someone who lost the role keeps their past figures out of this table.
 */
export function staffRows(db: Db, range: StatsRange): StaffRow[] {
  const people = prepared(db, "SELECT id, username, role FROM users WHERE role IN ('staff', 'admin') ORDER BY username COLLATE NOCASE, id").all() as { id: number; username: string; role: 'staff' | 'admin' }[];
  const replies = new Map(
    (
      prepared(
        db,
        "SELECT author_id AS id, COUNT(*) AS n FROM messages WHERE author_kind = 'staff' AND internal = 0 AND created_at >= ? AND created_at < ? AND author_id IS NOT NULL GROUP BY author_id",
      ).all(range.from, range.before) as { id: number; n: number }[]
    ).map((r) => [r.id, r.n]),
  );
  const closes = new Map(
    (
      prepared(db, "SELECT actor_id AS id, COUNT(*) AS n FROM audit_log WHERE action = 'ticket.close' AND at >= ? AND at < ? AND actor_id IS NOT NULL GROUP BY actor_id").all(range.from, range.before) as {
        id: number;
        n: number;
      }[]
    ).map((r) => [r.id, r.n]),
  );
  const ratings = new Map(
    (
      prepared(db, 'SELECT staff_id AS id, COUNT(*) AS n, AVG(rating) AS average FROM ticket_ratings WHERE created_at >= ? AND created_at < ? AND staff_id IS NOT NULL GROUP BY staff_id').all(
        range.from,
        range.before,
      ) as { id: number; n: number; average: number }[]
    ).map((r) => [r.id, r]),
  );
  return people.map((person) => {
    const rated = ratings.get(person.id);
    return {
      ...person,
      replies: replies.get(person.id) ?? 0,
      closes: closes.get(person.id) ?? 0,
      ratings: rated?.n ?? 0,
      ...(rated ? { averageRating: rated.average } : {}),
    };
  });
}
