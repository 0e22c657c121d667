// Tickets waiting on the player (issue #18). A ticket in `answered` or `waiting_user` waits on the
// player since its last visible activity: Support's last message or status change, or the player's
// own last message (a ticket with only its first message: since it was made). After half the
// admin's "close after N days" (src/settings.ts staleDays; 0: never) the player gets ONE reminder
// (email/Telegram as they chose, a whisper for a game ticket) naming when it closes; after N days,
// and at least N/2 after the reminder, it is closed through the one transition with
// `line.closedStale`, audit cause `stale` and the normal close notification. Staff's "keep open"
// exempts a ticket. The sweep runs at start and every 15 minutes; what it did is in the database
// (reminded_at, set in the transaction that queues the reminder; a player message clears it), so
// a restart neither misses nor repeats anything.
//
// A ticket whose owner's account is disabled gets no reminder (no email, Telegram or whisper) and
// is still closed when its time comes, so Support's queue does not keep it forever.
import { recordAudit } from '../audit.js';
import { inTransaction, type Db } from '../db/index.js';
import { markReminded, setTicketKeepOpen, staleState, ticketsToClose, ticketsToRemind } from '../db/stale.js';
import { ticketById, ticketLocale, type Ticket } from '../db/tickets.js';
import { userById } from '../db/users.js';
import { message, REFERENCE_LOCALE, translator } from '../i18n/index.js';
import type { Logger } from '../log.js';
import { staleDays } from '../settings.js';
import { queueWhispersForTicket } from './game.js';
import { notifyTicketOwner, type NotifyChannels } from './notifications.js';
import { transition, type ChangeBy } from './transition.js';
import { representable } from './whispers.js';

export const DAY_MS = 24 * 60 * 60 * 1000;
/** How often the sweep runs (and once at start). */
export const STALE_SWEEP_INTERVAL_MS = 15 * 60 * 1000;
const BATCH = 200;

export interface StaleOptions {
  /** Email/Telegram configured (notifyChannelsOf). */
  notify: NotifyChannels;
  /** GAME_WHISPER_MAX and GAME_TEXT_ENCODING: the reminder whisper fits the game's code page. */
  whisperMax: number;
  whisperEncoding: string;
  /** TZ: the close date in the whisper. */
  timeZone: string;
}

export interface SweepResult {
  reminded: number[];
  closed: number[];
}

/** When a wait closes: N days after it began, and never sooner than N/2 after its reminder. */
export function staleClosesAt(since: number, remindedAt: number, days: number): number {
  return Math.max(since + days * DAY_MS, remindedAt + (days * DAY_MS) / 2);
}

/** The system closing a stale ticket, as the transition and the audit log name it. */
const STALE_CLOSER: ChangeBy = { userId: null, name: 'Support', auditName: 'system', ip: null, cause: 'stale' };

/**
 * The reminder whisper in the ticket's language (`whisper.staleReminder`) when the game's code page
 * can show it, else in English (as localWhisperTemplates does).
 */
export function staleWhisperText(locale: string | null, closesAt: number, options: Pick<StaleOptions, 'whisperEncoding' | 'timeZone'>): string {
  if (locale !== null) {
    const own = translator(locale, options.timeZone);
    const text = own.t('whisper.staleReminder', { date: own.dateTime(closesAt) });
    if (representable(text, options.whisperEncoding) === text) return text;
  }
  const english = translator(REFERENCE_LOCALE, options.timeZone);
  return english.t('whisper.staleReminder', { date: english.dateTime(closesAt) });
}

function ownerDisabled(db: Db, ticket: Ticket): boolean {
  if (ticket.userId === null) return false;
  const owner = userById(db, ticket.userId);
  return owner === undefined || owner.disabledAt !== null;
}

/** One ticket's reminder, if it is still due (read again in the transaction). */
function remind(db: Db, ticketId: number, days: number, options: StaleOptions, now: number): boolean {
  return inTransaction(db, () => {
    const ticket = ticketById(db, ticketId);
    const state = staleState(db, ticketId);
    if (!ticket || !state || !state.waiting || state.keepOpen || state.remindedAt !== null) return false;
    if (state.since > now - (days * DAY_MS) / 2) return false;
    if (!markReminded(db, ticketId, now)) return false;
    const closesAt = staleClosesAt(state.since, now, days);
    const disabled = ownerDisabled(db, ticket);
    const auditId = recordAudit(
      db,
      { actor: { id: null, name: 'system' }, action: 'ticket.stale_reminder', ticketId, details: { days, waitingSince: state.since, closesAt, ...(disabled ? { skipped: 'owner disabled' } : {}) } },
      now,
    );
    if (disabled) return true;
    // A game ticket without a linked web account has no owner: the whisper alone.
    notifyTicketOwner(db, ticket, { kind: 'stale_reminder', days, closesAt }, auditId, null, options.notify, now);
    if (ticket.source === 'game') queueWhispersForTicket(db, ticket, 'Support', staleWhisperText(ticketLocale(db, ticketId), closesAt, options), options.whisperMax, now, options.whisperEncoding);
    return true;
  });
}

/** One ticket's close, if it is still due (read again in the transaction). */
function close(db: Db, ticketId: number, days: number, options: StaleOptions, now: number): boolean {
  return inTransaction(db, () => {
    const ticket = ticketById(db, ticketId);
    const state = staleState(db, ticketId);
    if (!ticket || !state || !state.waiting || state.keepOpen || state.remindedAt === null) return false;
    if (now < staleClosesAt(state.since, state.remindedAt, days)) return false;
    return transition(db, ticket, 'closed', STALE_CLOSER, { notify: options.notify, reason: message('line.closedStale', { count: days }) }, now) !== undefined;
  });
}

/** Runs `step` on batches from `find` until a batch comes back short or nothing moved. */
function drain(find: () => { id: number }[], step: (id: number) => boolean, done: number[]): void {
  for (;;) {
    const batch = find();
    let moved = 0;
    for (const { id } of batch) {
      if (step(id)) {
        done.push(id);
        moved += 1;
      }
    }
    if (batch.length < BATCH || moved === 0) return;
  }
}

/**
 * One pass at `now`: closes the tickets due to close, then reminds the ones due a reminder. Safe
 * to run at any time and any number of times: each ticket is reminded once a wait and closed once.
 */
export function sweepStaleTickets(db: Db, options: StaleOptions, now = Date.now()): SweepResult {
  const result: SweepResult = { reminded: [], closed: [] };
  const days = staleDays(db);
  if (days === 0) return result;
  const full = days * DAY_MS;
  drain(() => ticketsToClose(db, now - full, now - full / 2, BATCH), (id) => close(db, id, days, options, now), result.closed);
  drain(() => ticketsToRemind(db, now - full / 2, BATCH), (id) => remind(db, id, days, options, now), result.reminded);
  return result;
}

/** Staff's "keep open": never reminded or closed for waiting. Either way the current wait starts over. */
export function setKeepOpen(db: Db, ticketId: number, keepOpen: boolean, actor: { id: number; username: string }, ip: string | null, now = Date.now()): boolean {
  return inTransaction(db, () => {
    if (!setTicketKeepOpen(db, ticketId, keepOpen)) return false;
    recordAudit(db, { actor: { id: actor.id, name: actor.username }, action: 'ticket.keep_open', ticketId, ip, details: { keepOpen } }, now);
    return true;
  });
}

export interface StaleWorker {
  start(): void;
  stop(): Promise<void>;
}

/** The sweep at start and every STALE_SWEEP_INTERVAL_MS; a failed pass is logged and the next one tries again. */
export function createStaleWorker(deps: { db: Db; logger: Logger; options: StaleOptions; intervalMs?: number }): StaleWorker {
  let timer: NodeJS.Timeout | undefined;
  const run = () => {
    try {
      const result = sweepStaleTickets(deps.db, deps.options);
      if (result.reminded.length > 0 || result.closed.length > 0) deps.logger.info({ reminded: result.reminded.length, closed: result.closed.length }, 'stale tickets: reminded and closed');
    } catch (err) {
      deps.logger.error({ err: (err as Error).message }, 'stale tickets: the sweep failed; it runs again later');
    }
  };
  return {
    start() {
      if (timer) return;
      run();
      timer = setInterval(run, deps.intervalMs ?? STALE_SWEEP_INTERVAL_MS);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
