// view=stats (staff and admins, issue #18): for a range of whole days in the app's time zone, how
// many tickets were opened and closed, how fast Support first answered and resolved them, the
// backlog now, and per staff member replies, closes and ratings; as a page and as CSV.
import type { Request, Response } from 'express';
import { ticketStats, type Spread, type Stats } from '../../db/stats.js';
import { message, type Message, type Translator } from '../../i18n/index.js';
import { dayRange, formatDateTime, parseYmd } from '../../time.js';
import type { AppDeps } from '../deps.js';
import { HttpError } from '../errors.js';
import { queryText } from '../forms.js';
import { renderPage, viewUrl } from '../render.js';
import { csvCell } from './audit.js';

/** Days shown when no range is asked for (today included). */
export const DEFAULT_DAYS = 30;
/** The longest range: bounds the index entries one request reads and sorts. */
export const MAX_DAYS = 366;

const DAY_MS = 86_400_000;

function ymd(date: { year: number; month: number; day: number }): string {
  return new Date(Date.UTC(date.year, date.month - 1, date.day)).toISOString().slice(0, 10);
}

function addDays(text: string, days: number): string {
  const d = parseYmd(text)!;
  return ymd({ year: d.year, month: d.month, day: d.day + days });
}

interface StatsQuery {
  from: string;
  to: string;
  errors: Record<string, Message>;
  /** 400: a date that is not one; 422: dates that are, in an order or span not allowed. */
  status: 200 | 400 | 422;
  range?: { from: number; before: number };
}

export function readStatsQuery(req: Request, timeZone: string, now: number): StatsQuery {
  const today = formatDateTime(now, timeZone).slice(0, 10);
  const from = queryText(req, 'from');
  const to = queryText(req, 'to');
  const errors: Record<string, Message> = {};
  if (from && !parseYmd(from)) errors.from = message('stats.error.date');
  if (to && !parseYmd(to)) errors.to = message('stats.error.date');
  if (Object.keys(errors).length) return { from, to, errors, status: 400 };
  const lastDay = to || (from && from > today ? from : today);
  const firstDay = from || addDays(lastDay, -(DEFAULT_DAYS - 1));
  if (firstDay > lastDay) return { from: firstDay, to: lastDay, errors: { to: message('stats.error.order') }, status: 422 };
  const span = Math.round((Date.parse(lastDay) - Date.parse(firstDay)) / DAY_MS) + 1;
  if (span > MAX_DAYS) return { from: firstDay, to: lastDay, errors: { to: message('stats.error.span', { count: MAX_DAYS }) }, status: 422 };
  const range = dayRange(firstDay, lastDay, timeZone);
  return { from: firstDay, to: lastDay, errors, status: 200, range: { from: range.start!, before: range.end! } };
}

const durationParts = new Map<string, { units: Record<'day' | 'hour' | 'minute' | 'second', Intl.NumberFormat>; list: Intl.ListFormat }>();

/** "3 hr 20 min", "2 days 4 hr", "45 sec" in the reader's language: the two largest units, rounded down. */
export function formatDuration(ms: number, locale: string): string {
  let made = durationParts.get(locale);
  if (!made) {
    const unit = (u: string) => new Intl.NumberFormat(locale, { style: 'unit', unit: u, unitDisplay: 'short' });
    made = { units: { day: unit('day'), hour: unit('hour'), minute: unit('minute'), second: unit('second') }, list: new Intl.ListFormat(locale, { type: 'unit', style: 'narrow' }) };
    durationParts.set(locale, made);
  }
  const seconds = Math.max(0, Math.round(ms / 1000));
  const days = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds % 86_400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const parts: string[] = [];
  const { units, list } = made;
  if (days > 0) parts.push(units.day.format(days), ...(hours > 0 ? [units.hour.format(hours)] : []));
  else if (hours > 0) parts.push(units.hour.format(hours), ...(minutes > 0 ? [units.minute.format(minutes)] : []));
  else if (minutes > 0) parts.push(units.minute.format(minutes));
  else parts.push(units.second.format(seconds));
  return list.format(parts);
}

function spreadView(spread: Spread, locale: string) {
  return {
    count: spread.count,
    median: spread.median === undefined ? undefined : formatDuration(spread.median, locale),
    p90: spread.p90 === undefined ? undefined : formatDuration(spread.p90, locale),
  };
}

export function statsPage(req: Request, res: Response, deps: AppDeps): void {
  const i18n = res.locals.i18n as Translator;
  const query = readStatsQuery(req, deps.config.timeZone, Date.now());
  const stats: Stats | undefined = query.range ? ticketStats(deps.db, query.range) : undefined;
  res.status(query.status);
  renderPage(req, res, 'stats', {
    title: i18n.t('stats.title'),
    from: query.from,
    to: query.to,
    errors: query.errors,
    stats,
    firstResponse: stats ? spreadView(stats.firstResponse, i18n.locale) : undefined,
    resolution: stats ? spreadView(stats.resolution, i18n.locale) : undefined,
    csvUrl: `${viewUrl('stats', { from: query.from, to: query.to })}&format=csv`,
  });
}

/** Seconds, to the millisecond, or empty when there is nothing to measure. */
const seconds = (ms: number | undefined) => (ms === undefined ? '' : String(ms / 1000));

/**
 * The same figures as CSV, two tables one after the other, each with its header row, a blank line
 * between: `section,metric,value` rows for the range, counts, times (seconds) and backlog, then one
 * row per staff member. Cells are escaped like the audit log's (no spreadsheet formulas).
 */
export function statsCsv(req: Request, res: Response, deps: AppDeps): void {
  const query = readStatsQuery(req, deps.config.timeZone, Date.now());
  const first = Object.values(query.errors)[0];
  if (first || !query.range) throw new HttpError(query.status === 200 ? 400 : query.status, first ?? message('stats.error.date'));
  const stats = ticketStats(deps.db, query.range);
  const line = (cells: unknown[]) => cells.map(csvCell).join(',');
  const summary: unknown[][] = [
    ['range', 'from', query.from],
    ['range', 'to', query.to],
    ['range', 'time_zone', deps.config.timeZone],
    ['range', 'start_utc', new Date(query.range.from).toISOString()],
    ['range', 'end_utc', new Date(query.range.before).toISOString()],
    ['tickets', 'opened_web', stats.opened.web],
    ['tickets', 'opened_game', stats.opened.game],
    ['tickets', 'opened_total', stats.opened.web + stats.opened.game],
    ['tickets', 'closed_web', stats.closed.web],
    ['tickets', 'closed_game', stats.closed.game],
    ['tickets', 'closed_total', stats.closed.web + stats.closed.game],
    ['times', 'first_response_count', stats.firstResponse.count],
    ['times', 'first_response_median_seconds', seconds(stats.firstResponse.median)],
    ['times', 'first_response_p90_seconds', seconds(stats.firstResponse.p90)],
    ['times', 'resolution_count', stats.resolution.count],
    ['times', 'resolution_median_seconds', seconds(stats.resolution.median)],
    ['times', 'resolution_p90_seconds', seconds(stats.resolution.p90)],
  ];
  for (const row of stats.backlog) {
    summary.push(['backlog', row.status, row.count]);
    summary.push(['backlog', `${row.status}_oldest_ticket`, row.oldest?.id ?? '']);
    summary.push(['backlog', `${row.status}_oldest_since_utc`, row.oldest ? new Date(row.oldest.since).toISOString() : '']);
  }
  const staff = stats.staff.map((s) => [s.id, s.username, s.role, s.replies, s.closes, s.ratings, s.averageRating === undefined ? '' : Math.round(s.averageRating * 100) / 100]);
  const body = [
    line(['section', 'metric', 'value']),
    ...summary.map(line),
    '',
    line(['staff_id', 'staff', 'role', 'replies', 'closes', 'ratings', 'average_rating']),
    ...staff.map(line),
  ].join('\r\n');
  res.set({
    'Content-Type': 'text/csv; charset=utf-8',
    'Content-Disposition': `attachment; filename="stats-${query.from}-${query.to}.csv"`,
    'Cache-Control': 'no-store',
  });
  res.send(`\ufeff${body}\r\n`);
}
