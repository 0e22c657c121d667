// The two outboxes toward the game server and Discord. Rows are written in the same transaction
// as the change that causes them; workers deliver them (src/game, src/discord).
import { prepared, type Db } from './index.js';

export interface NewWhisper {
  ticketId: number | null;
  accountId: number;
  charId: number;
  charName: string;
  sender: string;
  text: string;
  now: number;
}

export function insertWhisper(db: Db, whisper: NewWhisper): number {
  const { lastInsertRowid } = prepared(
    db,
    `INSERT INTO game_whispers (ticket_id, account_id, char_id, char_name, sender, text, created_at, visible_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(whisper.ticketId, whisper.accountId, whisper.charId, whisper.charName, whisper.sender, whisper.text, whisper.now, whisper.now);
  return Number(lastInsertRowid);
}

export type PendingWhisper = Omit<NewWhisper, 'now'> & { id: number };

/** Whispers not yet acked, oldest first (for tests and the admin page; delivery is the game API's). */
export function pendingWhispers(db: Db, ticketId: number): PendingWhisper[] {
  return prepared(
    db,
    `SELECT id, ticket_id AS ticketId, account_id AS accountId, char_id AS charId, char_name AS charName, sender, text
     FROM game_whispers WHERE ticket_id = ? AND acked_at IS NULL ORDER BY id`,
  ).all(ticketId) as PendingWhisper[];
}

export function enqueueDiscordWork(db: Db, ticketId: number | null, kind: string, payload: unknown, now: number): number {
  const { lastInsertRowid } = prepared(
    db,
    'INSERT INTO discord_outbox (ticket_id, kind, payload, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?)',
  ).run(ticketId, kind, JSON.stringify(payload), now, now);
  return Number(lastInsertRowid);
}

export interface DiscordWork {
  id: number;
  ticketId: number | null;
  kind: string;
  payload: string;
}

export function pendingDiscordWork(db: Db, ticketId: number): DiscordWork[] {
  return prepared(
    db,
    'SELECT id, ticket_id AS ticketId, kind, payload FROM discord_outbox WHERE ticket_id = ? AND done_at IS NULL ORDER BY id',
  ).all(ticketId) as DiscordWork[];
}
