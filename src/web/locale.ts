// Which language a page is in (issue #16): the account's own choice (view=settings) wins; then
// `?lang=` (kept in a cookie) for a visitor; then the browser's Accept-Language; then
// DEFAULT_LOCALE. The chosen translator and its formatters are the page's locals.
import type { Request, Response } from 'express';
import { parse as parseCookie } from 'cookie';
import type { Config } from '../config.js';
import { setSeenLocale, type User } from '../db/users.js';
import type { Db } from '../db/index.js';
import { LOCALES, localeName, negotiateLocale, supportedLocale, translator, type MessageKey, type Translator } from '../i18n/index.js';
import type { Ticket } from '../db/tickets.js';
import { STATUSES, type Status } from '../vocabulary.js';
import { LOCALE_COOKIE } from './deps.js';
import { priorityTag, statusTag } from './text.js';

const YEAR_MS = 365 * 24 * 60 * 60 * 1000;

export function chooseLocale(req: Request, user: User | undefined, config: Config): { locale: string; asked?: string } {
  const asked = supportedLocale(req.query.lang);
  if (user?.locale && LOCALES.includes(user.locale)) return { locale: user.locale, ...(asked ? { asked } : {}) };
  if (asked) return { locale: asked, asked };
  const header = req.headers.cookie;
  const kept = header && header.includes(LOCALE_COOKIE) ? supportedLocale(parseCookie(header)[LOCALE_COOKIE]) : undefined;
  return { locale: kept ?? negotiateLocale(req.headers['accept-language']) ?? config.defaultLocale };
}

const madeLocals = new WeakMap<Translator, Record<string, unknown>[]>();

/**
 * What every page's templates use to put things into words. Made once per language, time zone and
 * side (a translator is one of those two), not on every request.
 */
export function localeLocals(i18n: Translator, staffView = false): Record<string, unknown> {
  let pair = madeLocals.get(i18n);
  if (!pair) {
    pair = [makeLocals(i18n, false), makeLocals(i18n, true)];
    madeLocals.set(i18n, pair);
  }
  return pair[staffView ? 1 : 0]!;
}

function makeLocals(i18n: Translator, staffView: boolean): Record<string, unknown> {
  const side = { staff: staffView };
  return {
    i18n,
    locale: i18n.locale,
    t: i18n.t,
    formatDateTime: i18n.dateTime,
    formatBytes: i18n.bytes,
    formatNumber: i18n.number,
    statusLabel: (s: Status) => i18n.status(s, side),
    priorityLabel: (p: string) => i18n.t(`priority.${p}` as MessageKey),
    statusTag: (s: Status) => statusTag(s, i18n, staffView),
    /** A system line of the conversation in this language. */
    systemLine: (m: { event: string | null; body: string }) => i18n.line(m.event, m.body, side),
    /** One line that says who is to act next on a ticket (issue #16). */
    whoseTurn: (ticket: Pick<Ticket, 'status' | 'lastAuthor'>, staffView: boolean) => i18n.t(whoseTurn(ticket, staffView)),
    priorityTag: (p: string) => priorityTag(p, i18n),
    languages: LOCALES.map((tag) => ({ tag, name: localeName(tag) })),
  };
}

export function useLocale(req: Request, res: Response, db: Db, config: Config, user: User | undefined): Translator {
  const { locale, asked } = chooseLocale(req, user, config);
  if (asked) res.cookie(LOCALE_COOKIE, asked, { maxAge: YEAR_MS, httpOnly: true, sameSite: 'lax', path: '/' });
  if (user && user.seenLocale !== locale) setSeenLocale(db, user.id, locale);
  const i18n = translator(locale, config.timeZone);
  Object.assign(res.locals, localeLocals(i18n, user !== undefined && user.role !== 'user'));
  return i18n;
}

/**
 * Who is to act next, in words: a player reads "Your turn" or "Waiting for Support", staff the
 * reverse. `answered` is the player's turn after Support wrote, and Support's after the player did
 * (seed 000: a reply to waiting_user makes it answered, "waiting for Support response").
 */
export function whoseTurn(ticket: Pick<Ticket, 'status' | 'lastAuthor'>, staffView: boolean): MessageKey {
  const side = staffView ? 'staff' : 'player';
  switch (ticket.status) {
    case 'closed':
      return 'turn.closed';
    case 'waiting_user':
      return `turn.${side}.playerTurn`;
    case 'answered':
      return ticket.lastAuthor === 'player' ? `turn.${side}.supportTurn` : `turn.${side}.playerMayReply`;
    case 'in_progress':
      return `turn.${side}.supportWorking`;
    case 'open':
      return `turn.${side}.supportTurn`;
  }
}

/** Every status, for menus: the stored value and what a person reads. */
export function statusOptions(i18n: Translator, staffView: boolean): { value: Status; label: string; description: string }[] {
  return STATUSES.map((value) => ({ value, label: i18n.status(value, { staff: staffView }), description: i18n.t(`statusDescription.${value}`) }));
}
