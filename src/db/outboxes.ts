// The two outboxes toward the game server and Discord. Rows are written in the same transaction
// as the change that causes them; workers deliver them (src/game, src/discord).
import { Signal } from '../signal.js';
import { afterCommit, inTransaction, prepared, type Db } from './index.js';

/** The wake-ups of the three outboxes' workers: the whisper long polls, the Discord worker, the notification worker. */
export interface OutboxSignals {
  whispers: Signal;
  discordWork: Signal;
  notifications: Signal;
}

const signalsByDb = new WeakMap<Db, OutboxSignals>();

/**
 * The outboxes' signals for `db`. Writing to an outbox wakes its worker after the commit (below):
 * no caller has to remember to. A process serves one database, so every part of it that asks gets
 * the same signals.
 */
export function outboxSignals(db: Db): OutboxSignals {
  let signals = signalsByDb.get(db);
  if (!signals) {
    signals = { whispers: new Signal(), discordWork: new Signal(), notifications: new Signal() };
    signalsByDb.set(db, signals);
  }
  return signals;
}

/** Uses these signals for `db` from now on (tests that watch the wake-ups pass their own). */
export function useOutboxSignals(db: Db, signals: OutboxSignals): OutboxSignals {
  signalsByDb.set(db, signals);
  return signals;
}

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
  afterCommit(db, () => outboxSignals(db).whispers.notify());
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
  afterCommit(db, () => outboxSignals(db).discordWork.notify());
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

export interface LeasedWhisper {
  id: number;
  accountId: number;
  charId: number;
  charName: string;
  sender: string;
  text: string;
}

/**
 * Hands out up to `limit` pending whispers, oldest first, and hides them for `visibilityMs`
 * (they come back unless acked). A whisper waits while an earlier one to the same character is
 * still out, so a player reads them in order.
 */
export function leaseWhispers(db: Db, limit: number, visibilityMs: number, now: number): LeasedWhisper[] {
  const rows = prepared(
    db,
    `UPDATE game_whispers SET visible_at = ?, delivery_count = delivery_count + 1
     WHERE id IN (
       SELECT w.id FROM game_whispers w
       WHERE w.acked_at IS NULL AND w.visible_at <= ?
         AND NOT EXISTS (SELECT 1 FROM game_whispers e WHERE e.char_id = w.char_id AND e.acked_at IS NULL AND e.id < w.id AND e.visible_at > ?)
       ORDER BY w.id LIMIT ?)
     RETURNING id, account_id AS accountId, char_id AS charId, char_name AS charName, sender, text`,
  ).all(now + visibilityMs, now, now, limit) as LeasedWhisper[];
  return rows.sort((a, b) => a.id - b.id);
}

export function ackWhispers(db: Db, ids: number[], now: number): number {
  const ack = prepared(db, 'UPDATE game_whispers SET acked_at = ? WHERE id = ? AND acked_at IS NULL');
  return inTransaction(db, () => ids.reduce((count, id) => count + ack.run(now, id).changes, 0));
}

/** When the next hidden whisper becomes visible again (for sleeping long polls), if any. */
export function nextWhisperVisibleAt(db: Db): number | undefined {
  const row = prepared(db, 'SELECT MIN(visible_at) AS at FROM game_whispers WHERE acked_at IS NULL').get() as { at: number | null };
  return row.at ?? undefined;
}

/** Whose action a stored game answer belongs to (migration 006). */
export interface GameActionIdentity {
  accountId: number;
  charId: number;
  action: string;
}

/** A stored answer and whose action it was; `identity` is null for rows stored before migration 006. */
export interface StoredGameResponse {
  response: string;
  identity: GameActionIdentity | null;
}

export function storedGameResponse(db: Db, requestId: string): StoredGameResponse | undefined {
  const row = prepared(db, 'SELECT response, account_id AS accountId, char_id AS charId, action FROM game_requests WHERE request_id = ?').get(requestId) as
    | { response: string; accountId: number | null; charId: number | null; action: string | null }
    | undefined;
  if (!row) return undefined;
  const { response, accountId, charId, action } = row;
  return { response, identity: accountId === null || charId === null || action === null ? null : { accountId, charId, action } };
}

export function storeGameResponse(db: Db, requestId: string, identity: GameActionIdentity, response: string, now: number): void {
  prepared(db, 'INSERT INTO game_requests (request_id, account_id, char_id, action, response, created_at) VALUES (?, ?, ?, ?, ?, ?)').run(
    requestId,
    identity.accountId,
    identity.charId,
    identity.action,
    response,
    now,
  );
}

/**
 * The next piece of Discord work that may run now: the earliest due row whose ticket has no
 * earlier unfinished row (work for one ticket runs in order; a failing ticket does not block
 * others) and is not being worked on already (`busyTicketIds`, the worker's other lanes).
 */
export function nextDiscordWork(db: Db, now: number, busyTicketIds: number[] = []): (DiscordWork & { attempts: number }) | undefined {
  return prepared(
    db,
    `SELECT w.id, w.ticket_id AS ticketId, w.kind, w.payload, w.attempts FROM discord_outbox w
     WHERE w.done_at IS NULL AND w.next_attempt_at <= ?
       AND NOT EXISTS (SELECT 1 FROM discord_outbox e WHERE e.done_at IS NULL AND e.ticket_id IS w.ticket_id AND e.id < w.id)
       AND (w.ticket_id IS NULL OR w.ticket_id NOT IN (SELECT value FROM json_each(?)))
     ORDER BY w.next_attempt_at, w.id LIMIT 1`,
  ).get(now, JSON.stringify(busyTicketIds)) as (DiscordWork & { attempts: number }) | undefined;
}

/** Unfinished work of a ticket after `afterId`, in order (posts that may go out together). */
export function followingDiscordWork(db: Db, ticketId: number, afterId: number, limit: number): DiscordWork[] {
  return prepared(
    db,
    'SELECT id, ticket_id AS ticketId, kind, payload FROM discord_outbox WHERE done_at IS NULL AND ticket_id = ? AND id > ? ORDER BY id LIMIT ?',
  ).all(ticketId, afterId, limit) as DiscordWork[];
}

export function finishDiscordWork(db: Db, ids: number | number[], now: number): void {
  const finish = prepared(db, 'UPDATE discord_outbox SET done_at = ?, last_error = NULL WHERE id = ?');
  inTransaction(db, () => {
    for (const id of Array.isArray(ids) ? ids : [ids]) finish.run(now, id);
  });
}

/** Work that cannot be carried out (a row that does not fit its kind): done, with the reason kept. */
export function setAsideDiscordWork(db: Db, id: number, reason: string, now: number): void {
  prepared(db, 'UPDATE discord_outbox SET done_at = ?, last_error = ? WHERE id = ?').run(now, `set aside: ${reason}`.slice(0, 1000), id);
}

export function retryDiscordWork(db: Db, id: number, error: string, nextAttemptAt: number): void {
  prepared(db, 'UPDATE discord_outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?').run(error.slice(0, 1000), nextAttemptAt, id);
}

/** When the next runnable piece of work (the head of a ticket's queue) is due, if any. */
export function nextDiscordWorkDueAt(db: Db): number | undefined {
  const row = prepared(
    db,
    `SELECT MIN(w.next_attempt_at) AS at FROM discord_outbox w
     WHERE w.done_at IS NULL
       AND NOT EXISTS (SELECT 1 FROM discord_outbox e WHERE e.done_at IS NULL AND e.ticket_id IS w.ticket_id AND e.id < w.id)`,
  ).get() as { at: number | null };
  return row.at ?? undefined;
}
