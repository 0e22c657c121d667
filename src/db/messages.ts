import { REFERENCE_LOCALE, translator, type Message as Line } from '../i18n/index.js';
import { allRows, prepared, type Db } from './index.js';

export type AuthorKind = 'player' | 'staff' | 'system';
export type MessageOrigin = 'web' | 'game' | 'discord' | 'system';

export interface Message {
  id: number;
  ticketId: number;
  authorKind: AuthorKind;
  authorId: number | null;
  authorName: string;
  origin: MessageOrigin;
  body: string;
  internal: 0 | 1;
  /** A system line's catalogue key and values, JSON (migration 008); null for everything else. */
  event: string | null;
  createdAt: number;
}

const MESSAGE_COLUMNS = `id, ticket_id AS ticketId, author_kind AS authorKind, author_id AS authorId,
  author_name AS authorName, origin, body, internal, event, created_at AS createdAt`;

export type NewMessage = Omit<Message, 'id' | 'createdAt' | 'internal' | 'event'> & { internal?: boolean; now: number };

export function insertMessage(db: Db, message: NewMessage): number {
  const { lastInsertRowid } = prepared(
    db,
    `INSERT INTO messages (ticket_id, author_kind, author_id, author_name, origin, body, internal, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    message.ticketId,
    message.authorKind,
    message.authorId,
    message.authorName,
    message.origin,
    message.body,
    message.internal ? 1 : 0,
    message.now,
  );
  return Number(lastInsertRowid);
}

/**
 * A status or event line in the conversation ("Status changed ...", "Ticket closed ..."): kept as
 * its catalogue key and values (`event`), so every reader sees it in their language, and as English
 * text (`body`) for Discord, transcripts and search.
 */
export function insertSystemLine(db: Db, ticketId: number, line: Line, now: number): number {
  const body = translator(REFERENCE_LOCALE).text(line, { raw: true });
  const id = insertMessage(db, { ticketId, authorKind: 'system', authorId: null, authorName: 'System', origin: 'system', body, now });
  prepared(db, 'UPDATE messages SET event = ? WHERE id = ?').run(JSON.stringify(line), id);
  return id;
}

/** The conversation in order; internal notes only when asked for (staff). */
export function ticketMessages(db: Db, ticketId: number, includeInternal: boolean): Message[] {
  return prepared(
    db,
    `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE ticket_id = ? AND (internal = 0 OR ?) ORDER BY id`,
  ).all(ticketId, includeInternal ? 1 : 0) as Message[];
}

/** A message relayed from Discord (an internal note when `internal`); a second copy of the same Discord message is ignored (returns undefined). */
export function insertDiscordMessage(db: Db, message: NewMessage & { discordMessageId: string }): number | undefined {
  const result = prepared(
    db,
    `INSERT INTO messages (ticket_id, author_kind, author_id, author_name, origin, body, internal, discord_message_id, created_at)
     VALUES (?, ?, NULL, ?, 'discord', ?, ?, ?, ?) ON CONFLICT (discord_message_id) DO NOTHING`,
  ).run(message.ticketId, message.authorKind, message.authorName, message.body, message.internal ? 1 : 0, message.discordMessageId, message.now);
  return result.changes === 0 ? undefined : Number(result.lastInsertRowid);
}

/** The newest Discord message already relayed for a ticket (to catch up after a reconnect). */
export function lastDiscordMessageId(db: Db, ticketId: number): string | undefined {
  const row = prepared(db, 'SELECT discord_message_id AS id FROM messages WHERE ticket_id = ? AND discord_message_id IS NOT NULL ORDER BY id DESC LIMIT 1').get(ticketId) as
    | { id: string }
    | undefined;
  return row?.id;
}

/** How many messages of the conversation a viewer sees (staff also see internal notes). */
export function countTicketMessages(db: Db, ticketId: number, includeInternal: boolean): number {
  return (prepared(db, 'SELECT COUNT(*) AS n FROM messages WHERE ticket_id = ? AND (internal = 0 OR ?)').get(ticketId, includeInternal ? 1 : 0) as { n: number }).n;
}

/** One page of the conversation, oldest first: `limit` messages after skipping the `offset` oldest. */
export function ticketMessagePage(db: Db, ticketId: number, includeInternal: boolean, limit: number, offset: number): Message[] {
  const statement = prepared(db, `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE ticket_id = ? AND (internal = 0 OR ?) ORDER BY id LIMIT ? OFFSET ?`);
  return allRows(statement, ticketId, includeInternal ? 1 : 0, limit, offset) as Message[];
}
