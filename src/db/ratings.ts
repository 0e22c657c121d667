// ticket_ratings (migration 010): "How did we do?", one row per ticket, by its owner once closed.
import { prepared, type Db } from './index.js';

export interface TicketRating {
  ticketId: number;
  userId: number;
  rating: number;
  comment: string | null;
  staffId: number | null;
  createdAt: number;
}

const RATING_COLUMNS = 'ticket_id AS ticketId, user_id AS userId, rating, comment, staff_id AS staffId, created_at AS createdAt';

export function ticketRating(db: Db, ticketId: number): TicketRating | undefined {
  return prepared(db, `SELECT ${RATING_COLUMNS} FROM ticket_ratings WHERE ticket_id = ?`).get(ticketId) as TicketRating | undefined;
}

/** Stores the rating; false when the ticket has one already (the primary key keeps it to one). */
export function insertTicketRating(db: Db, rating: TicketRating): boolean {
  const { changes } = prepared(
    db,
    `INSERT INTO ticket_ratings (ticket_id, user_id, rating, comment, staff_id, created_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (ticket_id) DO NOTHING`,
  ).run(rating.ticketId, rating.userId, rating.rating, rating.comment, rating.staffId, rating.createdAt);
  return changes === 1;
}

/** The last staff account that answered the ticket on the web (a visible message), if any. */
export function lastWebStaffReplier(db: Db, ticketId: number): number | undefined {
  const row = prepared(
    db,
    `SELECT author_id AS authorId FROM messages
     WHERE ticket_id = ? AND author_kind = 'staff' AND internal = 0 AND author_id IS NOT NULL
     ORDER BY id DESC LIMIT 1`,
  ).get(ticketId) as { authorId: number } | undefined;
  return row?.authorId;
}
