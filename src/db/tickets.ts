import { allRows, oneRow, prepared, type Db } from './index.js';
import type { Priority, Status } from '../vocabulary.js';

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
  /** The Discord guild of a ticket bridged to Discord; null when it has no channel (web without DISCORD_WEB_TICKETS, or game without Discord). */
  discordGuildId: string | null;
  /** Who took the ticket with /ticket claim in Discord (not a dashboard user). */
  discordAssigneeName: string | null;
  /** Who wrote the last message the player can see (migration 008): whose turn an answered ticket is. */
  lastAuthor: 'player' | 'staff' | null;
  createdAt: number;
  updatedAt: number;
  closedAt: number | null;
}

export const TICKET_COLUMNS = `t.id, t.user_id AS userId, t.source, t.subject, t.status, t.priority,
  t.assignee_id AS assigneeId, t.message_count AS messageCount, t.game_account_id AS gameAccountId,
  t.game_char_id AS gameCharId, t.game_char_name AS gameCharName, t.discord_channel_id AS discordChannelId, t.discord_guild_id AS discordGuildId,
  t.discord_assignee_name AS discordAssigneeName, t.last_author AS lastAuthor, t.created_at AS createdAt,
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
  /** Set when the ticket gets a Discord channel (DISCORD_WEB_TICKETS). */
  discordGuildId?: string | null;
  now: number;
}

export function insertWebTicket(db: Db, ticket: NewWebTicket): number {
  const { lastInsertRowid } = prepared(
    db,
    `INSERT INTO tickets (user_id, source, subject, status, priority, message_count, discord_guild_id, created_at, updated_at)
     VALUES (?, 'web', ?, 'open', ?, 0, ?, ?, ?)`,
  ).run(ticket.userId, ticket.subject, ticket.priority, ticket.discordGuildId ?? null, ticket.now, ticket.now);
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
  /** Tests: below how many message matches a word narrows the list by the index (SEARCH_INDEX_LIMIT). */
  searchIndexLimit?: number;
  /** Tests: how many recent tickets a walk looks at (SEARCH_WALK_WINDOW). */
  searchWalkWindow?: number;
  /** Tests: how many matches a newest-match search reads at most (SEARCH_WALK_HITS). */
  searchWalkHits?: number;
  limit: number;
  offset: number;
}

export const TICKET_SORTS = ['updated', 'created', 'priority'] as const;
export type TicketSort = (typeof TICKET_SORTS)[number];
// The priority rank is the expression of index tickets_priority_rank (migration 004), word for word.
const ORDER_BY: Record<TicketSort, string> = {
  updated: 't.updated_at DESC, t.id DESC',
  created: 't.created_at DESC, t.id DESC',
  priority: "(CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END), t.updated_at DESC, t.id DESC",
};

/**
 * One search word: its case-folded text, and its FTS5 string when it is long enough (3+
 * characters) for the trigram index.
 */
export interface SearchTerm {
  needle: string;
  match?: string;
}

/**
 * How many messages a word may match for the index to narrow a player's list (or a list sorted
 * otherwise than by activity). A word found in more messages than this is common: walking the
 * player's tickets newest first finds 50 that contain it sooner than fetching and sorting every
 * ticket that does, and finding out costs reading this many index entries (about 0.2 ms per
 * thousand at a million tickets; issue #19, README.md "Performance").
 */
export const SEARCH_INDEX_LIMIT = 1000;
/** Counts stop here; the page then says "more than" (an exact count of a million rows costs more than the page). */
export const COUNT_LIMIT = 10_000;

const OPEN_STATUSES = "('open', 'in_progress', 'answered', 'waiting_user')";

interface Filter {
  where: string;
  params: unknown[];
}

function visibleMessages(query: TicketListQuery): string {
  return query.includeInternal ? "m.author_kind <> 'system'" : "m.internal = 0 AND m.author_kind <> 'system'";
}

/** How many of the most recently active tickets a walk looks at, when no word narrows the list by the index. */
export const SEARCH_WALK_WINDOW = 5_000;

/**
 * How many matching messages and subjects a newest-match search reads at most before it stops
 * (filters that reject most tickets would otherwise read every mention of a common word).
 */
export const SEARCH_WALK_HITS = 5_000;

/**
 * How a search runs. `newestMatch`: the word whose index entries are read newest first (staff,
 * sorted by activity); the results are then ordered by their newest match, not by activity.
 * Otherwise: the words the index narrows the list with (those found in few enough messages), and,
 * when there are none, the activity time before which the walk stops (so a search for a short or
 * common word that matches little never reads every ticket).
 */
export interface SearchPlan {
  selective: Set<SearchTerm>;
  walkSince?: number;
  newestMatch?: SearchTerm;
}

/**
 * The word a newest-match walk reads, or undefined when the search should walk tickets instead:
 * a player's (or one owner's) tickets are a few among millions, so reading everyone's newest
 * mentions to find theirs costs more than checking their own tickets; and another sort order
 * than activity cannot be served by match order.
 */
function newestMatchTerm(query: TicketListQuery): SearchTerm | undefined {
  if (query.userId !== undefined || query.ownerId !== undefined || (query.sort ?? 'updated') !== 'updated') return undefined;
  let longest: SearchTerm | undefined;
  // The longest word has the most trigrams: usually the fewest matches, so the fewest rows read per ticket found.
  for (const term of query.terms) if (term.match !== undefined && (longest === undefined || [...term.needle].length > [...longest.needle].length)) longest = term;
  return longest;
}

export function planSearch(db: Db, query: TicketListQuery): SearchPlan {
  const newestMatch = newestMatchTerm(query);
  if (newestMatch) return { selective: new Set(), newestMatch };
  const limit = query.searchIndexLimit ?? SEARCH_INDEX_LIMIT;
  const selective = new Set<SearchTerm>();
  for (const term of query.terms) {
    if (term.match === undefined) continue;
    // FTS5 hands out matches lazily: this stops after limit + 1 without reading the rest.
    const hits = (prepared(db, 'SELECT COUNT(*) AS n FROM (SELECT 1 FROM messages_fts WHERE messages_fts MATCH ? LIMIT ?)').get(term.match, limit + 1) as { n: number }).n;
    if (hits <= limit) selective.add(term);
  }
  const plan: SearchPlan = { selective };
  if (query.terms.length > 0 && selective.size === 0) {
    const window = query.searchWalkWindow ?? SEARCH_WALK_WINDOW;
    const row = (
      query.userId === undefined
        ? prepared(db, 'SELECT updated_at AS at FROM tickets ORDER BY updated_at DESC LIMIT 1 OFFSET ?').get(window - 1)
        : prepared(db, 'SELECT updated_at AS at FROM tickets WHERE user_id = ? ORDER BY updated_at DESC LIMIT 1 OFFSET ?').get(query.userId, window - 1)
    ) as { at: number } | undefined;
    if (row) plan.walkSince = row.at;
  }
  return plan;
}

function listFilter(query: TicketListQuery, plan: SearchPlan, purpose: 'list' | 'count'): Filter {
  const where: string[] = [];
  const params: unknown[] = [];
  if (query.userId !== undefined) {
    where.push('t.user_id = ?');
    params.push(query.userId);
  }
  // Counting reads the status index by ranges; listing walks the activity index and skips closed rows.
  if (query.status === undefined) where.push(purpose === 'count' ? `t.status IN ${OPEN_STATUSES}` : "t.status <> 'closed'");
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
    const visible = visibleMessages(query);
    const { selective } = plan;
    if (plan.walkSince !== undefined) {
      where.push('t.updated_at >= ?');
      params.push(plan.walkSince);
    }
    const searchParams: unknown[] = [];
    const termClauses = query.terms.map((term) => {
      if (selective.has(term)) {
        // Few matches: the tickets come from the index, then sort.
        searchParams.push(term.match, term.match);
        return `t.id IN (SELECT rowid FROM tickets_fts WHERE tickets_fts MATCH ?
          UNION SELECT m.ticket_id FROM messages_fts f JOIN messages m ON m.id = f.rowid WHERE messages_fts MATCH ? AND ${visible})`;
      }
      // A common word (or one too short for trigrams): check each ticket the walk reaches.
      searchParams.push(term.needle, term.needle);
      return `(tb_contains(t.subject, ?) OR EXISTS (SELECT 1 FROM messages m WHERE m.ticket_id = t.id AND ${visible} AND tb_contains(m.body, ?)))`;
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

/** A page of a newest-match search, and whether the walk saw every match or stopped at its bound. */
export interface NewestMatches {
  rows: TicketRow[];
  /** Every match was read: `matched` is then the exact number of tickets found. */
  complete: boolean;
  /** The walk stopped after SEARCH_WALK_HITS matches without filling the page. */
  bounded: boolean;
  /** Tickets found, the skipped pages' included. */
  matched: number;
}

interface Hit {
  ticketId: number;
  at: number;
}

/**
 * Staff search, newest match first: reads the index's matches of one word newest first (FTS5
 * hands out rowids in descending order without sorting, and lazily), subjects and visible
 * messages side by side, each ticket once; the filters and the other words are checked per
 * ticket, and the walk stops as soon as the page is full. A ticket's place is its newest match:
 * the message's time, or the ticket's creation for its subject (written with its first message).
 * The ticket a number names comes first.
 */
export function newestMatches(db: Db, query: TicketListQuery, term: SearchTerm): NewestMatches {
  const visible = visibleMessages(query);
  const messageHits = prepared(
    db,
    `SELECT m.ticket_id AS ticketId, m.created_at AS at FROM messages_fts f JOIN messages m ON m.id = f.rowid
     WHERE messages_fts MATCH ? AND ${visible} ORDER BY f.rowid DESC`,
  ).iterate(term.match) as IterableIterator<Hit>;
  const subjectHits = prepared(
    db,
    'SELECT t.id AS ticketId, t.created_at AS at FROM tickets_fts f JOIN tickets t ON t.id = f.rowid WHERE tickets_fts MATCH ? ORDER BY f.rowid DESC',
  ).iterate(term.match) as IterableIterator<Hit>;
  // The other words (and the filters) are checked on each ticket the walk reaches, as the ticket
  // walk does; with neither, every ticket reached is a result. Only the page's rows are read whole.
  const { ticketNumber, ...filters } = query;
  const { where, params } = listFilter({ ...filters, terms: query.terms.filter((t) => t !== term) }, { selective: new Set() }, 'list');
  const accepted = where ? prepared(db, `SELECT 1 AS ok FROM tickets t ${where} AND t.id = ?`) : undefined;
  const hitLimit = query.searchWalkHits ?? SEARCH_WALK_HITS;
  const seen = new Set<number>();
  const found: number[] = [];
  let matched = 0;
  let read = 0;
  const take = (ticketId: number) => {
    if (matched++ >= query.offset) found.push(ticketId);
  };
  if (ticketNumber !== undefined) {
    seen.add(ticketNumber);
    const { where: numberWhere, params: numberParams } = listFilter({ ...filters, terms: [] }, { selective: new Set() }, 'list');
    const exists = prepared(db, `SELECT 1 AS ok FROM tickets t ${numberWhere ? `${numberWhere} AND` : 'WHERE'} t.id = ?`).get(...numberParams, ticketNumber);
    if (exists) take(ticketNumber);
  }
  let message = messageHits.next();
  let subject = subjectHits.next();
  let bounded = false;
  try {
    while (found.length < query.limit && !(message.done && subject.done)) {
      if (read >= hitLimit) {
        bounded = true;
        break;
      }
      read++;
      let hit: Hit;
      if (subject.done || (!message.done && message.value.at >= subject.value.at)) {
        hit = message.value as Hit;
        message = messageHits.next();
      } else {
        hit = subject.value;
        subject = subjectHits.next();
      }
      if (seen.has(hit.ticketId)) continue;
      seen.add(hit.ticketId);
      if (!accepted || accepted.get(...params, hit.ticketId)) take(hit.ticketId);
    }
  } finally {
    // Leaving early resets the statements, so the connection is free for the next query.
    messageHits.return?.();
    subjectHits.return?.();
  }
  const row = prepared(
    db,
    `SELECT ${TICKET_COLUMNS}, owner.username AS ownerName, assignee.username AS assigneeName
     FROM tickets t LEFT JOIN users owner ON owner.id = t.user_id LEFT JOIN users assignee ON assignee.id = t.assignee_id WHERE t.id = ?`,
  );
  return { rows: found.map((id) => oneRow(row, id) as TicketRow), complete: !bounded && Boolean(message.done && subject.done), bounded, matched };
}

/** Newest activity first, unless another sort is asked for (a staff search: newest match first, see newestMatches). */
export function listTickets(db: Db, query: TicketListQuery, plan = planSearch(db, query)): TicketRow[] {
  if (plan.newestMatch) return newestMatches(db, query, plan.newestMatch).rows;
  const { where, params } = listFilter(query, plan, 'list');
  const statement = prepared(
    db,
    `SELECT ${TICKET_COLUMNS}, owner.username AS ownerName, assignee.username AS assigneeName
     FROM tickets t LEFT JOIN users owner ON owner.id = t.user_id LEFT JOIN users assignee ON assignee.id = t.assignee_id
     ${where} ORDER BY ${ORDER_BY[query.sort ?? 'updated']} LIMIT ? OFFSET ?`,
  );
  return allRows(statement, ...params, query.limit, query.offset) as TicketRow[];
}

/**
 * How many tickets match, counted up to `limit` (exact: false beyond it). A search for a common
 * word is not counted at all (undefined): its matches are found by walking, and counting them
 * would mean walking every ticket.
 */
export function countTickets(db: Db, query: TicketListQuery, plan = planSearch(db, query), limit = COUNT_LIMIT): { count: number; exact: boolean } | undefined {
  if (query.terms.length > 0 && plan.selective.size === 0) return undefined;
  const { where, params } = listFilter(query, plan, 'count');
  const n = (prepared(db, `SELECT COUNT(*) AS n FROM (SELECT 1 FROM tickets t ${where} LIMIT ?)`).get(...params, limit + 1) as { n: number }).n;
  return n > limit ? { count: limit, exact: false } : { count: n, exact: true };
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

/** Open game tickets that have a Discord channel (for catching up after a reconnect). Only game tickets have channels. */
export function openBridgedTickets(db: Db): { id: number; channelId: string }[] {
  // Open game tickets by the partial index tickets_open_game_char; open web tickets with a channel
  // (DISCORD_WEB_TICKETS) by tickets_status_updated.
  return prepared(
    db,
    `SELECT id, discord_channel_id AS channelId FROM tickets WHERE source = 'game' AND status <> 'closed' AND discord_channel_id IS NOT NULL
     UNION ALL
     SELECT id, discord_channel_id AS channelId FROM tickets WHERE source = 'web' AND status IN ('open', 'in_progress', 'answered', 'waiting_user') AND discord_channel_id IS NOT NULL`,
  ).all() as {
    id: number;
    channelId: string;
  }[];
}

export function setDiscordAssignee(db: Db, ticketId: number, memberId: string, memberName: string): void {
  prepared(db, 'UPDATE tickets SET discord_assignee_id = ?, discord_assignee_name = ? WHERE id = ?').run(memberId, memberName, ticketId);
}

/** /ticket unclaim: nobody holds the ticket in Discord any more. */
export function clearDiscordAssignee(db: Db, ticketId: number): void {
  prepared(db, 'UPDATE tickets SET discord_assignee_id = NULL, discord_assignee_name = NULL WHERE id = ?').run(ticketId);
}

/** The web owner of every game ticket of a game account follows the account's link (issue #12). */
export function setGameTicketsOwner(db: Db, gameAccountId: number, userId: number | null): number {
  return prepared(db, "UPDATE tickets SET user_id = ? WHERE source = 'game' AND game_account_id = ?").run(userId, gameAccountId).changes;
}

/** The language a game ticket's game actions asked for (`lang`), or null when none did. */
export function ticketLocale(db: Db, ticketId: number): string | null {
  return (prepared(db, 'SELECT locale FROM tickets WHERE id = ?').get(ticketId) as { locale: string | null } | undefined)?.locale ?? null;
}

/** A game action named its language: later whispers on the ticket use it too. */
export function setTicketLocale(db: Db, ticketId: number, locale: string): void {
  prepared(db, 'UPDATE tickets SET locale = ? WHERE id = ? AND locale IS NOT ?').run(locale, ticketId, locale);
}
