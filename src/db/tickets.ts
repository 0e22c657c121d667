import { prepared, type Db } from './index.js';
import type { Priority, Status } from '../tickets/model.js';

export interface Ticket {
  id: number;
  userId: number | null;
  source: 'web' | 'game';
  subject: string;
  status: Status;
  priority: Priority;
  assigneeId: number | null;
  messageCount: number;
  gameAccountId: number | null;
  gameCharId: number | null;
  gameCharName: string | null;
  discordChannelId: string | null;
  /** Who took the ticket with /ticket claim in Discord (not a dashboard user). */
  discordAssigneeName: string | null;
  createdAt: number;
  updatedAt: number;
  closedAt: number | null;
}

export const TICKET_COLUMNS = `t.id, t.user_id AS userId, t.source, t.subject, t.status, t.priority,
  t.assignee_id AS assigneeId, t.message_count AS messageCount, t.game_account_id AS gameAccountId,
  t.game_char_id AS gameCharId, t.game_char_name AS gameCharName, t.discord_channel_id AS discordChannelId,
  t.discord_assignee_name AS discordAssigneeName, t.created_at AS createdAt,
  t.updated_at AS updatedAt, t.closed_at AS closedAt`;

/** A list row: the ticket plus who owns it and who has it, by name. */
export interface TicketRow extends Ticket {
  ownerName: string | null;
  assigneeName: string | null;
}

export function ticketById(db: Db, id: number): Ticket | undefined {
  return prepared(db, `SELECT ${TICKET_COLUMNS} FROM tickets t WHERE t.id = ?`).get(id) as Ticket | undefined;
}

export interface NewWebTicket {
  userId: number;
  subject: string;
  priority: Priority;
  now: number;
}

export function insertWebTicket(db: Db, ticket: NewWebTicket): number {
  const { lastInsertRowid } = prepared(
    db,
    `INSERT INTO tickets (user_id, source, subject, status, priority, message_count, created_at, updated_at)
     VALUES (?, 'web', ?, 'open', ?, 0, ?, ?)`,
  ).run(ticket.userId, ticket.subject, ticket.priority, ticket.now, ticket.now);
  return Number(lastInsertRowid);
}

export function updateTicketPriority(db: Db, ticketId: number, priority: Priority, now: number): void {
  prepared(db, 'UPDATE tickets SET priority = ?, updated_at = ? WHERE id = ?').run(priority, now, ticketId);
}

export function updateTicketAssignee(db: Db, ticketId: number, assigneeId: number | null): void {
  // Assignment is Support's bookkeeping: it does not count as activity the player sees.
  prepared(db, 'UPDATE tickets SET assignee_id = ? WHERE id = ?').run(assigneeId, ticketId);
}

/** Tickets waiting for Support: open and answered (the staff sidebar count). */
export function supportQueueCount(db: Db): number {
  return (prepared(db, "SELECT COUNT(*) AS n FROM tickets WHERE status IN ('open', 'answered')").get() as { n: number }).n;
}

/** After a new visible message: count it and bump the activity time. */
export function recordTicketMessage(db: Db, ticketId: number, now: number): void {
  prepared(db, 'UPDATE tickets SET message_count = message_count + 1, updated_at = ? WHERE id = ?').run(now, ticketId);
}

export function updateTicketStatus(db: Db, ticketId: number, status: Status, now: number): void {
  prepared(
    db,
    `UPDATE tickets SET status = ?, updated_at = ?,
       closed_at = CASE WHEN ? = 'closed' THEN ? ELSE NULL END
     WHERE id = ?`,
  ).run(status, now, status, now, ticketId);
}

/** The attention badge (seed 000): how many of the user's tickets wait for their answer. */
export function waitingUserTicketCount(db: Db, userId: number): number {
  return (prepared(db, "SELECT COUNT(*) AS n FROM tickets WHERE user_id = ? AND status = 'waiting_user'").get(userId) as { n: number }).n;
}

export function ticketCountForUser(db: Db, userId: number): number {
  return (prepared(db, 'SELECT COUNT(*) AS n FROM tickets WHERE user_id = ?').get(userId) as { n: number }).n;
}

export interface TicketListQuery {
  /** Only this owner's tickets; undefined lists every ticket (staff). */
  userId?: number;
  /** undefined: all but closed; 'all': everything; or one status. */
  status?: Status | 'all';
  createdFrom?: number;
  /** Exclusive upper bound. */
  createdBefore?: number;
  /** Search terms: each must match the subject or a message of the ticket. */
  terms: SearchTerm[];
  /** A ticket number the search also finds. */
  ticketNumber?: number;
  /** Staff also search internal notes. */
  includeInternal?: boolean;
  priority?: Priority;
  source?: 'web' | 'game';
  /** A staff user's id, or 'unassigned'. */
  assignee?: number | 'unassigned';
  /** Tickets of this dashboard user (staff filter by owner). */
  ownerId?: number;
  sort?: TicketSort;
  limit: number;
  offset: number;
}

export const TICKET_SORTS = ['updated', 'created', 'priority'] as const;
export type TicketSort = (typeof TICKET_SORTS)[number];
const ORDER_BY: Record<TicketSort, string> = {
  updated: 't.updated_at DESC, t.id DESC',
  created: 't.created_at DESC, t.id DESC',
  priority: "CASE t.priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END, t.updated_at DESC, t.id DESC",
};

/** A term long enough for the trigram index, or a short one searched with LIKE. */
export type SearchTerm = { kind: 'fts'; match: string } | { kind: 'like'; pattern: string };

function listFilter(query: TicketListQuery): { where: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  if (query.userId !== undefined) {
    where.push('t.user_id = ?');
    params.push(query.userId);
  }
  if (query.status === undefined) where.push("t.status <> 'closed'");
  else if (query.status !== 'all') {
    where.push('t.status = ?');
    params.push(query.status);
  }
  for (const [column, value] of [
    ['t.priority', query.priority],
    ['t.source', query.source],
    ['t.user_id', query.ownerId],
  ] as const) {
    if (value !== undefined) {
      where.push(`${column} = ?`);
      params.push(value);
    }
  }
  if (query.assignee === 'unassigned') where.push('t.assignee_id IS NULL');
  else if (query.assignee !== undefined) {
    where.push('t.assignee_id = ?');
    params.push(query.assignee);
  }
  if (query.createdFrom !== undefined) {
    where.push('t.created_at >= ?');
    params.push(query.createdFrom);
  }
  if (query.createdBefore !== undefined) {
    where.push('t.created_at < ?');
    params.push(query.createdBefore);
  }
  if (query.terms.length > 0) {
    const visible = query.includeInternal ? "m.author_kind <> 'system'" : "m.internal = 0 AND m.author_kind <> 'system'";
    const searchParams: unknown[] = [];
    const termClauses = query.terms.map((term) => {
      if (term.kind === 'fts') {
        searchParams.push(term.match, term.match);
        return `(t.id IN (SELECT rowid FROM tickets_fts WHERE tickets_fts MATCH ?)
          OR t.id IN (SELECT m.ticket_id FROM messages_fts f JOIN messages m ON m.id = f.rowid WHERE messages_fts MATCH ? AND ${visible}))`;
      }
      searchParams.push(term.pattern, term.pattern);
      return `(t.subject LIKE ? ESCAPE '\\' OR EXISTS (SELECT 1 FROM messages m WHERE m.ticket_id = t.id AND ${visible} AND m.body LIKE ? ESCAPE '\\'))`;
    });
    if (query.ticketNumber === undefined) {
      where.push(termClauses.join(' AND '));
    } else {
      where.push(`(t.id = ? OR (${termClauses.join(' AND ')}))`);
      params.push(query.ticketNumber);
    }
    params.push(...searchParams);
  }
  return { where: where.length ? `WHERE ${where.join(' AND ')}` : '', params };
}

/** Newest activity first, unless another sort is asked for. */
export function listTickets(db: Db, query: TicketListQuery): TicketRow[] {
  const { where, params } = listFilter(query);
  return prepared(
    db,
    `SELECT ${TICKET_COLUMNS}, owner.username AS ownerName, assignee.username AS assigneeName
     FROM tickets t LEFT JOIN users owner ON owner.id = t.user_id LEFT JOIN users assignee ON assignee.id = t.assignee_id
     ${where} ORDER BY ${ORDER_BY[query.sort ?? 'updated']} LIMIT ? OFFSET ?`,
  ).all(...params, query.limit, query.offset) as TicketRow[];
}

export function countTickets(db: Db, query: TicketListQuery): number {
  const { where, params } = listFilter(query);
  return (prepared(db, `SELECT COUNT(*) AS n FROM tickets t ${where}`).get(...params) as { n: number }).n;
}

export interface NewGameTicket {
  userId: number | null;
  subject: string;
  accountId: number;
  charId: number;
  charName: string;
  guildId: string | null;
  now: number;
}

export function insertGameTicket(db: Db, ticket: NewGameTicket): number {
  const { lastInsertRowid } = prepared(
    db,
    `INSERT INTO tickets (user_id, source, subject, status, priority, message_count, game_account_id, game_char_id, game_char_name, discord_guild_id, created_at, updated_at)
     VALUES (?, 'game', ?, 'open', 'normal', 0, ?, ?, ?, ?, ?, ?)`,
  ).run(ticket.userId, ticket.subject, ticket.accountId, ticket.charId, ticket.charName, ticket.guildId, ticket.now, ticket.now);
  return Number(lastInsertRowid);
}

/** Seed 002: one open game ticket per character. */
export function openGameTicketForChar(db: Db, charId: number): Ticket | undefined {
  return prepared(db, `SELECT ${TICKET_COLUMNS} FROM tickets t WHERE t.source = 'game' AND t.game_char_id = ? AND t.status <> 'closed'`).get(charId) as
    | Ticket
    | undefined;
}

/** Tickets are found by their Discord channel id, never by the channel's name. */
export function ticketByChannelId(db: Db, channelId: string): Ticket | undefined {
  return prepared(db, `SELECT ${TICKET_COLUMNS} FROM tickets t WHERE t.discord_channel_id = ?`).get(channelId) as Ticket | undefined;
}

export function ticketChannelId(db: Db, ticketId: number): string | null {
  const row = prepared(db, 'SELECT discord_channel_id AS id FROM tickets WHERE id = ?').get(ticketId) as { id: string | null } | undefined;
  return row?.id ?? null;
}

export function setTicketChannel(db: Db, ticketId: number, channelId: string | null): void {
  prepared(db, 'UPDATE tickets SET discord_channel_id = ? WHERE id = ?').run(channelId, ticketId);
}

/** Open game tickets that have a Discord channel (for catching up after a reconnect). */
export function openBridgedTickets(db: Db): { id: number; channelId: string }[] {
  return prepared(db, "SELECT id, discord_channel_id AS channelId FROM tickets WHERE discord_channel_id IS NOT NULL AND status <> 'closed'").all() as {
    id: number;
    channelId: string;
  }[];
}

export function setDiscordAssignee(db: Db, ticketId: number, memberId: string, memberName: string): void {
  prepared(db, 'UPDATE tickets SET discord_assignee_id = ?, discord_assignee_name = ? WHERE id = ?').run(memberId, memberName, ticketId);
}
