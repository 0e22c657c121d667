// "How did we do?" (issue #18): once a ticket is closed its owner may rate it, 1 to 5 with an
// optional comment, once. The rating counts for the ticket's assignee, else the last staff member
// who answered on the web (NULL when neither is known: a Discord-only answer, say). Staff read it
// on the ticket page and, for a ticket with a Discord channel, in the log channel.
import { recordAudit } from '../audit.js';
import { inTransaction, type Db } from '../db/index.js';
import { insertTicketRating, lastWebStaffReplier, ticketRating, type TicketRating } from '../db/ratings.js';
import { ticketById } from '../db/tickets.js';
import type { User } from '../db/users.js';
import { message } from '../i18n/index.js';
import { bridged, queueDiscordWork } from './discordWork.js';
import { TicketRuleError, isStaff, type RequestContext } from './service.js';

export const RATING_MIN = 1;
export const RATING_MAX = 5;
/** The comment's longest length, in characters. */
export const RATING_COMMENT_MAX = 2000;

export type { TicketRating };

export function ratingOf(db: Db, ticketId: number): TicketRating | undefined {
  return ticketRating(db, ticketId);
}

/** Whether `user` may rate the ticket now: its owner (not staff), the ticket closed and not rated yet. */
export function mayRate(ticket: { userId: number | null; status: string }, user: Pick<User, 'id' | 'role'>, rated: boolean): boolean {
  return ticket.userId === user.id && !isStaff(user) && ticket.status === 'closed' && !rated;
}

/**
 * The owner rates their closed ticket. Refused with a TicketRuleError: 404 for a ticket that is not
 * theirs (as for any ticket they cannot see), 403 for staff, 409 for an open ticket or a second
 * rating. Stored with its audit row (`ticket.rate`) and, when the ticket has a Discord channel, a
 * line for the log channel, in one transaction.
 */
export function rateTicket(
  db: Db,
  ticketId: number,
  user: Pick<User, 'id' | 'username' | 'role'>,
  input: { rating: number; comment: string | null },
  context: RequestContext,
  now = Date.now(),
): TicketRating {
  if (!Number.isInteger(input.rating) || input.rating < RATING_MIN || input.rating > RATING_MAX) throw new RangeError(`rating ${input.rating} out of range`);
  const comment = input.comment === null || input.comment.trim() === '' ? null : input.comment.slice(0, RATING_COMMENT_MAX);
  return inTransaction(db, () => {
    const ticket = ticketById(db, ticketId);
    if (ticket && isStaff(user)) throw new TicketRuleError(403, message('ticket.rate.ownerOnly'));
    if (!ticket || ticket.userId !== user.id) throw new TicketRuleError(404, message('ticket.notFound'));
    if (ticket.status !== 'closed') throw new TicketRuleError(409, message('ticket.rate.notClosed'));
    const rating: TicketRating = {
      ticketId,
      userId: user.id,
      rating: input.rating,
      comment,
      staffId: ticket.assigneeId ?? lastWebStaffReplier(db, ticketId) ?? null,
      createdAt: now,
    };
    if (!insertTicketRating(db, rating)) throw new TicketRuleError(409, message('ticket.rate.already'));
    if (bridged(ticket)) queueDiscordWork(db, ticketId, { kind: 'rating_posted', payload: { rating: rating.rating, comment, by: user.username } }, now);
    recordAudit(
      db,
      { actor: { id: user.id, name: user.username }, action: 'ticket.rate', ticketId, ip: context.ip, details: { rating: rating.rating, comment: comment !== null, staffId: rating.staffId } },
      now,
    );
    return rating;
  });
}
