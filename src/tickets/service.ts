// The ticket domain: every change to a ticket goes through here, whoever asks (web, game API,
// Discord), so a status transition, a counter and an audit row are written in one place, in one
// transaction.
import { recordAudit } from '../audit.js';
import { insertAttachment } from '../db/attachments.js';
import { inTransaction, type Db } from '../db/index.js';
import { insertMessage } from '../db/messages.js';
import {
  countTickets,
  insertWebTicket,
  listTickets,
  recordTicketMessage,
  ticketById,
  updateTicketStatus,
  type Ticket,
  type TicketListQuery,
} from '../db/tickets.js';
import type { User } from '../db/users.js';
import { statusAfterPlayerReply, type Priority, type Status } from './model.js';

/** A file already written under UPLOADS_DIR, waiting for the row that points to it. */
export interface StoredUpload {
  storageName: string;
  originalName: string;
  contentType: string;
  sizeBytes: number;
  sha256: string;
}

export interface RequestContext {
  ip: string | null;
}

export class TicketClosedError extends Error {
  constructor(readonly ticketId: number) {
    super('This ticket is closed and takes no more replies. Open a new ticket if you need more help.');
    this.name = 'TicketClosedError';
  }
}

export function isStaff(user: Pick<User, 'role'>): boolean {
  return user.role === 'staff' || user.role === 'admin';
}

/**
 * The ticket `id` as `viewer` may see it: their own, or any ticket for staff. Anything else is
 * undefined (the caller answers 404, never revealing that the ticket exists) and the refusal is
 * written to the audit log.
 */
export function ticketForViewer(db: Db, id: number, viewer: User, context: RequestContext & { intent: string }): Ticket | undefined {
  const ticket = ticketById(db, id);
  if (ticket && (ticket.userId === viewer.id || isStaff(viewer))) return ticket;
  recordAudit(db, {
    actor: { id: viewer.id, name: viewer.username },
    action: 'ticket.access_refused',
    ticketId: ticket ? id : null,
    ip: context.ip,
    details: { requestedId: id, intent: context.intent, exists: ticket !== undefined },
  });
  return undefined;
}

/** The owner's message with its files; counted on the ticket, which moves to the top of the list. */
function addPlayerMessage(db: Db, ticketId: number, user: User, body: string, uploads: StoredUpload[], now: number): number {
  const messageId = insertMessage(db, { ticketId, authorKind: 'player', authorId: user.id, authorName: user.username, origin: 'web', body, now });
  recordTicketMessage(db, ticketId, now);
  for (const upload of uploads) insertAttachment(db, { ticketId, messageId, ...upload, now });
  return messageId;
}

export interface NewTicketInput {
  user: User;
  subject: string;
  body: string;
  priority: Priority;
  uploads: StoredUpload[];
}

/** Seed 000 § Create a ticket: the new ticket appears with status open. One transaction. */
export function createWebTicket(db: Db, input: NewTicketInput, context: RequestContext, now = Date.now()): number {
  return inTransaction(db, () => {
    const ticketId = insertWebTicket(db, { userId: input.user.id, subject: input.subject, priority: input.priority, now });
    addPlayerMessage(db, ticketId, input.user, input.body, input.uploads, now);
    recordAudit(
      db,
      {
        actor: { id: input.user.id, name: input.user.username },
        action: 'ticket.create',
        ticketId,
        ip: context.ip,
        details: { priority: input.priority, attachments: input.uploads.length },
      },
      now,
    );
    return ticketId;
  });
}

function systemLine(db: Db, ticketId: number, body: string, now: number): void {
  insertMessage(db, { ticketId, authorKind: 'system', authorId: null, authorName: 'System', origin: 'system', body, now });
}

export interface PlayerReplyInput {
  ticketId: number;
  user: User;
  body: string;
  uploads: StoredUpload[];
}

/**
 * The owner's reply (seed 000 § Status transition on user reply): waiting_user becomes answered,
 * every other status stays. A closed ticket takes no reply: TicketClosedError, nothing stored.
 */
export function replyAsPlayer(db: Db, input: PlayerReplyInput, context: RequestContext, now = Date.now()): { messageId: number; status: Status } {
  return inTransaction(db, () => {
    const ticket = ticketById(db, input.ticketId);
    if (!ticket || ticket.userId !== input.user.id) throw new Error(`replyAsPlayer: ticket ${input.ticketId} is not the user's`);
    if (ticket.status === 'closed') throw new TicketClosedError(ticket.id);
    const messageId = addPlayerMessage(db, ticket.id, input.user, input.body, input.uploads, now);
    const status = statusAfterPlayerReply(ticket.status);
    if (status !== ticket.status) {
      updateTicketStatus(db, ticket.id, status, now);
      systemLine(db, ticket.id, `Status changed from ${ticket.status} to ${status}.`, now);
    }
    recordAudit(
      db,
      {
        actor: { id: input.user.id, name: input.user.username },
        action: 'ticket.reply',
        ticketId: ticket.id,
        ip: context.ip,
        details: { messageId, attachments: input.uploads.length, statusFrom: ticket.status, statusTo: status },
      },
      now,
    );
    return { messageId, status };
  });
}

/** Seed 000 § Ticket page: "click Close if your question is resolved". Closing twice changes nothing. */
export function closeTicket(db: Db, ticketId: number, user: User, context: RequestContext, now = Date.now()): boolean {
  return inTransaction(db, () => {
    const ticket = ticketById(db, ticketId);
    if (!ticket) throw new Error(`closeTicket: no ticket ${ticketId}`);
    if (ticket.status === 'closed') return false;
    updateTicketStatus(db, ticket.id, 'closed', now);
    systemLine(db, ticket.id, `Ticket closed by ${user.username}.`, now);
    recordAudit(
      db,
      { actor: { id: user.id, name: user.username }, action: 'ticket.close', ticketId: ticket.id, ip: context.ip, details: { statusFrom: ticket.status } },
      now,
    );
    return true;
  });
}

export function ticketListPage(db: Db, query: TicketListQuery): { tickets: Ticket[]; total: number } {
  return { tickets: listTickets(db, query), total: countTickets(db, query) };
}

/** Who asked, for the audit log. */
export function requestContext(req: { ip?: string | undefined }): RequestContext {
  return { ip: req.ip ?? null };
}
