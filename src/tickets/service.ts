// The ticket domain: every change to a ticket goes through here, whoever asks (web, game API,
// Discord), so a status transition, a counter and an audit row are written in one place, in one
// transaction.
import { recordAudit, type AuditEvent } from '../audit.js';
import { bridged, queueDiscordWork, type ChannelPost } from './discordWork.js';
import { transition, type ChangeBy } from './transition.js';
import { insertAttachment } from '../db/attachments.js';
import { inTransaction, type Db } from '../db/index.js';
import { message, type Message } from '../i18n/index.js';
import { insertMessage, insertSystemLine } from '../db/messages.js';
import {
  countTickets,
  planSearch,
  SEARCH_WALK_WINDOW,
  SEARCH_WALK_HITS,
  newestMatches,
  insertWebTicket,
  listTickets,
  recordTicketMessage,
  ticketById,
  updateTicketAssignee,
  updateTicketPriority,
  type Ticket,
  type TicketListQuery,
  type TicketRow,
} from '../db/tickets.js';
import { userById, type User } from '../db/users.js';
import { queueWhispersForTicket } from './game.js';
import { notifyTicketOwner, type NotifyChannels } from './notifications.js';
import { statusAfterPlayerReply, type Priority, type Status } from './model.js';

/** A file already written under UPLOADS_DIR, waiting for the row that points to it. */
export interface StoredUpload {
  storageName: string;
  originalName: string;
  contentType: string;
  sizeBytes: number;
  sha256: string;
}

type ChannelAttachment = NonNullable<ChannelPost['attachments']>[number];

/** What a request's files weigh (the audit row keeps it: upload quotas count from there). */
export function uploadBytes(uploads: StoredUpload[]): number {
  return uploads.reduce((sum, upload) => sum + upload.sizeBytes, 0);
}

export interface RequestContext {
  ip: string | null;
}

export class TicketClosedError extends Error {
  /** What the writer reads, in their language. */
  readonly userMessage: Message = message('ticket.closedConflict');
  constructor(readonly ticketId: number) {
    super(`ticket ${ticketId} is closed`);
    this.name = 'TicketClosedError';
  }
}

/** Whoever changes a ticket: a dashboard user, or a Discord member (id null). */
export interface Actor {
  id: number | null;
  /** As the conversation names them. */
  username: string;
  /** As the audit log names them, when it differs (`discord:Sam`). */
  auditName?: string;
}

/** The actor of a change as the one transition wants it (src/tickets/transition.ts). */
export function changeBy(actor: Actor, context: RequestContext, cause: string): ChangeBy {
  return { userId: actor.id, name: actor.username, auditName: actor.auditName ?? actor.username, ip: context.ip, cause };
}

export function isStaff(user: Pick<User, 'role'>): boolean {
  return user.role === 'staff' || user.role === 'admin';
}

/**
 * The ticket `id` as `viewer` may see it: their own, or any ticket for staff. Anything else is
 * undefined (the caller answers 404, never revealing that the ticket exists) and the refusal goes
 * to `refused` for the audit log (the web coalesces repeated refusals: src/audit.ts RefusalAudit).
 */
export function ticketForViewer(
  db: Db,
  id: number,
  viewer: User,
  context: RequestContext & { intent: string },
  refused: (event: AuditEvent & { details: Record<string, unknown> }) => void = (event) => recordAudit(db, event),
): Ticket | undefined {
  const ticket = ticketById(db, id);
  if (ticket && (ticket.userId === viewer.id || isStaff(viewer))) return ticket;
  refused({
    actor: { id: viewer.id, name: viewer.username },
    action: 'ticket.access_refused',
    ticketId: ticket ? id : null,
    ip: context.ip,
    details: { requestedId: id, intent: context.intent, exists: ticket !== undefined },
  });
  return undefined;
}

/** A web message (the owner's or Support's) with its files; counted on the ticket, which moves to the top of the list. */
function addWebMessage(db: Db, ticketId: number, authorKind: 'player' | 'staff', user: User, body: string, uploads: StoredUpload[], now: number): { messageId: number; attachments: ChannelAttachment[] } {
  const messageId = insertMessage(db, { ticketId, authorKind, authorId: user.id, authorName: user.username, origin: 'web', body, now });
  recordTicketMessage(db, ticketId, now);
  const attachments = uploads.map((upload) => ({ id: insertAttachment(db, { ticketId, messageId, ...upload, now }), name: upload.originalName }));
  return { messageId, attachments };
}

/** A player's web message in the ticket's Discord channel: quoted by the worker, its files as staff-only dashboard links. */
function queuePlayerWebPost(db: Db, ticketId: number, user: User, body: string, messageId: number, attachments: ChannelAttachment[], now: number): void {
  queueDiscordWork(
    db,
    ticketId,
    { kind: 'post_message', payload: { post: { from: 'player', name: user.username, text: body, via: 'web', ...(attachments.length ? { attachments } : {}) }, messageId } },
    now,
  );
}

export interface NewTicketInput {
  user: User;
  subject: string;
  body: string;
  priority: Priority;
  uploads: StoredUpload[];
  /** The Discord guild when the ticket gets a channel there (DISCORD_WEB_TICKETS with the bridge configured). */
  discordGuildId?: string | null;
}

/**
 * Seed 000 § Create a ticket: the new ticket appears with status open. One transaction. With
 * `discordGuildId` (DISCORD_WEB_TICKETS on and the bridge configured) it also gets a private
 * channel `ticket-<username>` with the player's message in it.
 */
export function createWebTicket(db: Db, input: NewTicketInput, context: RequestContext, now = Date.now()): number {
  return inTransaction(db, () => {
    const discordGuildId = input.discordGuildId ?? null;
    const ticketId = insertWebTicket(db, { userId: input.user.id, subject: input.subject, priority: input.priority, discordGuildId, now });
    const { messageId, attachments } = addWebMessage(db, ticketId, 'player', input.user, input.body, input.uploads, now);
    if (discordGuildId !== null) {
      queueDiscordWork(db, ticketId, { kind: 'create_channel', payload: { source: 'web', name: input.user.username, userId: input.user.id } }, now);
      queuePlayerWebPost(db, ticketId, input.user, input.body, messageId, attachments, now);
    }
    recordAudit(
      db,
      {
        actor: { id: input.user.id, name: input.user.username },
        action: 'ticket.create',
        ticketId,
        ip: context.ip,
        details: { priority: input.priority, attachments: input.uploads.length, bytes: uploadBytes(input.uploads) },
      },
      now,
    );
    return ticketId;
  });
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
export function replyAsPlayer(db: Db, input: PlayerReplyInput, context: RequestContext, relay: Pick<RelayOptions, 'discord'> = { discord: false }, now = Date.now()): { messageId: number; status: Status } {
  return inTransaction(db, () => {
    const ticket = ticketById(db, input.ticketId);
    if (!ticket || ticket.userId !== input.user.id) throw new Error(`replyAsPlayer: ticket ${input.ticketId} is not the user's`);
    if (ticket.status === 'closed') throw new TicketClosedError(ticket.id);
    const { messageId, attachments } = addWebMessage(db, ticket.id, 'player', input.user, input.body, input.uploads, now);
    const status = statusAfterPlayerReply(ticket.status);
    transition(db, ticket, status, changeBy({ id: input.user.id, username: input.user.username }, context, 'player reply'), { notify: false }, now);
    // A linked player answering a game ticket on the web, or the owner of a web ticket with a
    // channel (DISCORD_WEB_TICKETS): staff in its Discord channel read it too.
    if (bridged(ticket) && relay.discord) queuePlayerWebPost(db, ticket.id, input.user, input.body, messageId, attachments, now);
    recordAudit(
      db,
      {
        actor: { id: input.user.id, name: input.user.username },
        action: 'ticket.reply',
        ticketId: ticket.id,
        ip: context.ip,
        details: { messageId, attachments: input.uploads.length, bytes: uploadBytes(input.uploads), statusFrom: ticket.status, statusTo: status },
      },
      now,
    );
    return { messageId, status };
  });
}

/** Seed 000 § Ticket page: "click Close if your question is resolved". Closing twice changes nothing. */
export function closeTicket(db: Db, ticketId: number, user: Actor, context: RequestContext & { cause?: string }, channels: NotifyChannels, now = Date.now()): boolean {
  return inTransaction(db, () => {
    const ticket = ticketById(db, ticketId);
    if (!ticket) throw new Error(`closeTicket: no ticket ${ticketId}`);
    return transition(db, ticket, 'closed', changeBy(user, context, context.cause ?? 'close button'), { notify: channels }, now) !== undefined;
  });
}

export interface TicketListPage {
  tickets: TicketRow[];
  /** Whether a next page has rows. */
  hasMore: boolean;
  /** How many match: exact, "more than" a cap, or not counted (a search for a common word). */
  total: { count: number; exact: boolean } | undefined;
  /** Set when a search looked only at this many most recently active tickets (short or common words). */
  searchWindow?: number;
  /** The results are ordered by their newest matching message, not by activity (a staff search). */
  newestMatchFirst?: boolean;
  /** Set when a newest-match search stopped after reading this many matches without filling the page. */
  searchHitLimit?: number;
}

export function ticketListPage(db: Db, query: TicketListQuery): TicketListPage {
  const plan = planSearch(db, query);
  if (plan.newestMatch) {
    const walk = newestMatches(db, { ...query, limit: query.limit + 1 }, plan.newestMatch);
    return {
      tickets: walk.rows.slice(0, query.limit),
      hasMore: walk.rows.length > query.limit,
      // Counting would read every match; a walk that reached the end has counted them on the way.
      total: walk.complete ? { count: walk.matched, exact: true } : undefined,
      newestMatchFirst: true,
      ...(walk.bounded ? { searchHitLimit: query.searchWalkHits ?? SEARCH_WALK_HITS } : {}),
    };
  }
  const rows = listTickets(db, { ...query, limit: query.limit + 1 }, plan);
  const total = query.offset === 0 && rows.length <= query.limit && plan.walkSince === undefined ? { count: rows.length, exact: true } : countTickets(db, query, plan);
  return {
    tickets: rows.slice(0, query.limit),
    hasMore: rows.length > query.limit,
    total,
    ...(plan.walkSince !== undefined ? { searchWindow: query.searchWalkWindow ?? SEARCH_WALK_WINDOW } : {}),
  };
}

/** Who asked, for the audit log. */
export function requestContext(req: { ip?: string | undefined }): RequestContext {
  return { ip: req.ip ?? null };
}

/** How a Support answer reaches a game ticket's player: whispers, and the Discord channel when bridged. */
export interface RelayOptions {
  whisperMax: number;
  /** GAME_TEXT_ENCODING: whispers carry only what it shows, `whisperMax` counts its bytes. */
  whisperEncoding?: string;
  /** The Discord bridge is configured: mirror web answers into the ticket's channel. */
  discord: boolean;
  /** Email / Telegram configured: tell the ticket's owner. */
  notify: NotifyChannels;
}

/** Statuses Support may leave a ticket in with a reply (issue: staff console). */
export const STAFF_REPLY_STATUSES = ['answered', 'waiting_user', 'in_progress'] as const;
export type StaffReplyStatus = (typeof STAFF_REPLY_STATUSES)[number];

export class TicketRuleError extends Error {
  constructor(
    readonly status: number,
    /** What the person reads, in their language. */
    readonly userMessage: Message,
  ) {
    super(userMessage.key);
    this.name = 'TicketRuleError';
  }
}

function staffActor(user: Actor) {
  return { id: user.id, name: user.auditName ?? user.username };
}

export interface StaffReplyInput {
  ticketId: number;
  user: User;
  body: string;
  status: StaffReplyStatus;
  uploads: StoredUpload[];
}

/**
 * Support answers on the web. The player sees it at once; the ticket takes the chosen status
 * (answered by default). A game ticket's player also gets it whispered in game, and the ticket's
 * Discord channel (a game ticket's, or a web ticket's with DISCORD_WEB_TICKETS) shows it as
 * "<staff> (web): ..." when the bridge is on.
 */
export function replyAsStaff(db: Db, input: StaffReplyInput, context: RequestContext, relay: RelayOptions, now = Date.now()): { messageId: number } {
  return inTransaction(db, () => {
    const ticket = ticketById(db, input.ticketId);
    if (!ticket) throw new Error(`replyAsStaff: no ticket ${input.ticketId}`);
    if (ticket.status === 'closed') throw new TicketClosedError(ticket.id);
    const { messageId } = addWebMessage(db, ticket.id, 'staff', input.user, input.body, input.uploads, now);
    // The reply's own notification says where the ticket went: the transition stays quiet.
    transition(db, ticket, input.status, changeBy({ id: input.user.id, username: input.user.username }, context, 'reply'), { notify: false }, now);
    if (ticket.source === 'game') queueWhispersForTicket(db, ticket, input.user.username, input.body, relay.whisperMax, now, relay.whisperEncoding);
    // Staff in the ticket's channel (a game ticket's, or a web ticket's with DISCORD_WEB_TICKETS) read the answer too.
    if (relay.discord && bridged(ticket)) queueDiscordWork(db, ticket.id, { kind: 'post_message', payload: { post: { from: 'staff', name: input.user.username, text: input.body, via: 'web' }, messageId } }, now);
    // One event, one message per channel: the reply says where the ticket went.
    notifyTicketOwner(db, ticket, { kind: 'support_reply', staffName: input.user.username, body: input.body, status: input.status }, messageId, input.user.id, relay.notify, now);
    recordAudit(
      db,
      {
        actor: staffActor(input.user),
        action: 'ticket.reply',
        ticketId: ticket.id,
        ip: context.ip,
        details: { messageId, asSupport: true, attachments: input.uploads.length, bytes: uploadBytes(input.uploads), statusFrom: ticket.status, statusTo: input.status },
      },
      now,
    );
    return { messageId };
  });
}

/** Any status, by Support: close, reopen, or move along. A system line tells the player. */
export function setTicketStatus(db: Db, ticketId: number, status: Status, user: Actor, context: RequestContext & { cause?: string }, channels: NotifyChannels, now = Date.now()): boolean {
  return inTransaction(db, () => {
    const ticket = ticketById(db, ticketId);
    if (!ticket) throw new Error(`setTicketStatus: no ticket ${ticketId}`);
    return transition(db, ticket, status, changeBy(user, context, context.cause ?? 'status menu'), { notify: channels }, now) !== undefined;
  });
}

/** A new priority, by Support on the web or a member in Discord (`discord:<member>` in the audit log). */
export function setTicketPriority(db: Db, ticketId: number, priority: Priority, user: Actor, context: RequestContext, now = Date.now()): boolean {
  return inTransaction(db, () => {
    const ticket = ticketById(db, ticketId);
    if (!ticket) throw new Error(`setTicketPriority: no ticket ${ticketId}`);
    if (ticket.priority === priority) return false;
    updateTicketPriority(db, ticketId, priority, now);
    insertSystemLine(db, ticketId, message('line.priorityChanged', { fromPriority: ticket.priority, toPriority: priority, by: user.username }), now);
    recordAudit(db, { actor: staffActor(user), action: 'ticket.priority', ticketId, ip: context.ip, details: { from: ticket.priority, to: priority } }, now);
    return true;
  });
}

/** Give the ticket to a staff member (or to nobody). Only active staff and admins can hold tickets. */
export function assignTicket(db: Db, ticketId: number, assigneeId: number | null, user: User, context: RequestContext, now = Date.now()): boolean {
  return inTransaction(db, () => {
    const ticket = ticketById(db, ticketId);
    if (!ticket) throw new Error(`assignTicket: no ticket ${ticketId}`);
    if (assigneeId !== null) {
      const assignee = userById(db, assigneeId);
      if (!assignee || !isStaff(assignee) || assignee.disabledAt !== null) throw new TicketRuleError(422, message('ticket.staff.notStaff'));
    }
    if (ticket.assigneeId === assigneeId) return false;
    updateTicketAssignee(db, ticketId, assigneeId);
    const assignee = assigneeId === null ? undefined : userById(db, assigneeId);
    insertSystemLine(db, ticketId, assignee ? message('line.assigned', { to: assignee.username, by: user.username }) : message('line.unassigned', { by: user.username }), now);
    recordAudit(db, { actor: staffActor(user), action: 'ticket.assign', ticketId, ip: context.ip, details: { from: ticket.assigneeId, to: assigneeId } }, now);
    return true;
  });
}

/** An internal note: for staff only, never shown to the player, notified or whispered. */
export function addInternalNote(db: Db, ticketId: number, body: string, user: User, context: RequestContext, now = Date.now()): number {
  return inTransaction(db, () => {
    const messageId = insertMessage(db, { ticketId, authorKind: 'staff', authorId: user.id, authorName: user.username, origin: 'web', body, internal: true, now });
    recordAudit(db, { actor: staffActor(user), action: 'ticket.note', ticketId, ip: context.ip, details: { messageId } }, now);
    return messageId;
  });
}
