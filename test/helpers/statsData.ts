// A small fixed data set for view=stats (issue #18), every timestamp chosen by hand, and the figures
// it must give for 2026-01-10..2026-01-12 in Europe/Berlin (UTC+1 in January): the range is
// [2026-01-09T23:00Z, 2026-01-12T23:00Z). Written straight through the db helpers, so nothing but
// the stats code decides what is counted.
import { insertAuditRow } from '../../src/db/audit.js';
import { prepared, type Db } from '../../src/db/index.js';
import { insertMessage } from '../../src/db/messages.js';
import { insertGameTicket, insertWebTicket } from '../../src/db/tickets.js';
import type { User } from '../../src/db/users.js';

export const STATS_TZ = 'Europe/Berlin';
export const STATS_FROM = '2026-01-10';
export const STATS_TO = '2026-01-12';
/** Range start (local midnight of the 10th) and end (local midnight after the 12th, exclusive). */
export const B = Date.UTC(2026, 0, 9, 23, 0, 0);
export const E = B + 72 * 3_600_000;
const S = 1000;
const MIN = 60 * S;
const H = 60 * MIN;
const D = 24 * H;

export interface StatsPeople {
  ada: User; // admin
  sam: User; // staff
  zed: User; // staff, did nothing
  pat: User; // player
}

export type StatsTickets = Record<'t1' | 't2' | 't3' | 't4' | 't5' | 't6' | 't7' | 't8' | 't9' | 't10' | 't11', number>;

export function seedStats(db: Db, people: StatsPeople): StatsTickets {
  const { ada, sam, pat } = people;
  let char = 900_000;
  const ticket = (source: 'web' | 'game', createdAt: number, status: string, extra: { closedAt?: number; firstResponseAt?: number; subject?: string } = {}): number => {
    const subject = extra.subject ?? `Stats ticket at ${new Date(createdAt).toISOString()}`;
    const id =
      source === 'web'
        ? insertWebTicket(db, { userId: pat.id, subject, priority: 'normal', now: createdAt })
        : insertGameTicket(db, { userId: null, subject, accountId: 2_000_000 + char, charId: ++char, charName: `Hero${char}`, guildId: null, now: createdAt });
    prepared(db, 'UPDATE tickets SET status = ?, closed_at = ?, updated_at = ? WHERE id = ?').run(status, extra.closedAt ?? null, extra.closedAt ?? createdAt, id);
    return id;
  };
  const t: StatsTickets = {
    // Opened in the range. First responses: 10 min, 30 min, 1 h, 3 h 20 min, 5 min (odd: 5 values).
    t1: ticket('web', B + 1 * H, 'closed', { closedAt: B + 3 * H }), // resolution 2 h
    t2: ticket('web', B + 2 * H, 'answered'),
    t3: ticket('game', B + 3 * H, 'closed', { closedAt: B + 29 * H }), // resolution 26 h
    t4: ticket('web', B + 4 * H, 'waiting_user'),
    t5: ticket('web', B + 5 * H, 'open', { subject: 'Oldest open: my Valkyrie Helm' }), // never answered
    t6: ticket('web', B, 'in_progress'), // exactly at the start: counted
    // Opened a second before the range, closed in it: resolution 2 h, but not an opening.
    t7: ticket('web', B - S, 'closed', { closedAt: B + 2 * H - S }),
    t8: ticket('web', E - S, 'open'), // the last second of the range: counted
    t9: ticket('game', E, 'open'), // at the end: not counted
    t10: ticket('web', B - 10 * D, 'closed', { closedAt: E }), // closed at the end: not counted
    t11: ticket('web', E - S - (4 * D + 6 * H), 'closed', { closedAt: E - S }), // resolution 4 days 6 h
  };
  const firstResponses: [number, number][] = [
    [t.t1, B + 1 * H + 10 * MIN],
    [t.t2, B + 2 * H + 30 * MIN],
    [t.t3, B + 3 * H + 1 * H],
    [t.t4, B + 4 * H + 3 * H + 20 * MIN],
    [t.t6, B + 5 * MIN],
    [t.t7, B + 1 * MIN], // its ticket opened before the range: not measured
  ];
  const msg = (ticketId: number, author: User | null, at: number, extra: { internal?: boolean; kind?: 'staff' | 'player' } = {}) =>
    insertMessage(db, {
      ticketId,
      authorKind: extra.kind ?? 'staff',
      authorId: author?.id ?? null,
      authorName: author?.username ?? 'Discord GM',
      origin: author ? 'web' : 'discord',
      body: 'stats fixture',
      internal: extra.internal ?? false,
      now: at,
    });
  // sam: 3 visible replies in the range; a note (internal) and one before the range do not count.
  msg(t.t1, sam, B + 1 * H + 10 * MIN);
  msg(t.t2, sam, B + 2 * H + 30 * MIN);
  msg(t.t3, sam, B + 4 * H);
  msg(t.t3, sam, B + 5 * H, { internal: true });
  msg(t.t7, sam, B - 500);
  // ada: 2 in the range, one at the end (not counted).
  msg(t.t4, ada, B + 7 * H + 20 * MIN);
  msg(t.t6, ada, B + 5 * MIN);
  msg(t.t6, ada, E);
  // Not staff members' replies: a Discord answer without an account, the player's own message.
  msg(t.t2, null, B + 6 * H);
  msg(t.t2, pat, B + 6 * H + MIN, { kind: 'player' });
  // The first responses as chosen above (the trigger set them from the first staff message).
  for (const [id, at] of firstResponses) prepared(db, 'UPDATE tickets SET first_response_at = ? WHERE id = ?').run(at, id);
  prepared(db, 'UPDATE tickets SET first_response_at = NULL WHERE id IN (?, ?, ?, ?, ?)').run(t.t5, t.t8, t.t9, t.t10, t.t11);
  // Closes: sam closed t1, t3 and t11 in the range; ada t7 in the range and t10 at the end.
  const close = (actor: User, ticketId: number, at: number, action = 'ticket.close') => insertAuditRow(db, { at, actorId: actor.id, actorName: actor.username, action, ticketId, ip: null, details: null });
  close(sam, t.t1, B + 3 * H);
  close(sam, t.t3, B + 29 * H);
  close(sam, t.t11, E - S);
  close(ada, t.t7, B + 2 * H - S);
  close(ada, t.t10, E);
  close(sam, t.t2, B + 2 * H + 30 * MIN, 'ticket.status');
  // Ratings: sam 5, 4, 2 (mean 3.67); ada 4 in the range, 1 at the end; one counted for nobody.
  const rate = (ticketId: number, rating: number, staff: User | null, at: number) =>
    prepared(db, 'INSERT INTO ticket_ratings (ticket_id, user_id, rating, comment, staff_id, created_at) VALUES (?, ?, ?, NULL, ?, ?)').run(ticketId, pat.id, rating, staff?.id ?? null, at);
  rate(t.t1, 5, sam, B + 4 * H);
  rate(t.t3, 4, sam, B + 30 * H);
  rate(t.t11, 2, sam, E - 500);
  rate(t.t7, 4, ada, B + 3 * H);
  rate(t.t10, 1, ada, E);
  rate(t.t9, 3, null, B + H);
  return t;
}

/** The figures for STATS_FROM..STATS_TO, computed by hand from the data above. */
export const EXPECTED = {
  opened: { web: 6, game: 1 }, // t1 t2 t4 t5 t6 t8 | t3
  closed: { web: 3, game: 1 }, // t1 t7 t11 | t3
  // 5, 10, 30, 60, 200 min: the median is the 3rd, p90 the ceil(4.5) = 5th.
  firstResponse: { count: 5, median: 30 * MIN, p90: 200 * MIN, medianText: '30 min', p90Text: '3 hr 20 min' },
  // 2 h, 2 h, 26 h, 102 h: the median is the mean of the 2nd and 3rd, p90 the ceil(3.6) = 4th.
  resolution: { count: 4, median: 14 * H, p90: 102 * H, medianText: '14 hr', p90Text: '4 days 6 hr' },
  backlog: { open: 3, in_progress: 1, answered: 1, waiting_user: 1 },
};
