// view=audit (admins): the audit log, filtered by actor, action, ticket and date, paged, and as CSV.
import type { Request, Response } from 'express';
import { auditActions, auditRows, auditRowsAfter, countAuditRows, type AuditFilter } from '../../db/audit.js';
import { dayRange, formatDateTime, parseYmd } from '../../time.js';
import type { AppDeps } from '../deps.js';
import { isMessageKey, message, type Message, type Translator } from '../../i18n/index.js';
import { HttpError } from '../errors.js';
import { queryText } from '../forms.js';
import { renderPage, viewUrl } from '../render.js';

const PAGE_SIZE = 100;

interface AuditFilters {
  actor: string;
  action: string;
  ticket: string;
  date_from: string;
  date_to: string;
  page: number;
}

function readFilters(req: Request, timeZone: string): { filters: AuditFilters; filter: AuditFilter; errors: Record<string, Message> } {
  const errors: Record<string, Message> = {};
  const filters: AuditFilters = {
    actor: queryText(req, 'actor').slice(0, 200),
    action: queryText(req, 'action').slice(0, 100),
    ticket: queryText(req, 'ticket').replace(/^#/, ''),
    date_from: queryText(req, 'date_from'),
    date_to: queryText(req, 'date_to'),
    page: 1,
  };
  const page = queryText(req, 'page');
  if (page) {
    if (/^[1-9]\d{0,5}$/.test(page)) filters.page = Number(page);
    else errors.page = message('audit.error.page');
  }
  if (filters.ticket && !/^[1-9]\d{0,14}$/.test(filters.ticket)) errors.ticket = message('audit.error.ticket');
  if (filters.date_from && !parseYmd(filters.date_from)) errors.date_from = message('audit.error.date');
  if (filters.date_to && !parseYmd(filters.date_to)) errors.date_to = message('audit.error.date');
  const range = dayRange(errors.date_from ? undefined : filters.date_from || undefined, errors.date_to ? undefined : filters.date_to || undefined, timeZone);
  const filter: AuditFilter = {
    ...(filters.actor ? { actorName: filters.actor } : {}),
    ...(filters.action ? { action: filters.action } : {}),
    ...(filters.ticket && !errors.ticket ? { ticketId: Number(filters.ticket) } : {}),
    ...(range.start !== undefined ? { from: range.start } : {}),
    ...(range.end !== undefined ? { before: range.end } : {}),
  };
  return { filters, filter, errors };
}

/** What an audit action is, in words (its code stays the filter's value and is shown beside it). */
function actionLabel(i18n: Translator, action: string): string {
  const key = `audit.act.${action}`;
  return isMessageKey(key) ? i18n.t(key) : action;
}

export function auditPage(req: Request, res: Response, deps: AppDeps): void {
  const i18n = res.locals.i18n as Translator;
  const { filters, filter, errors } = readFilters(req, deps.config.timeZone);
  const invalid = Object.keys(errors).length > 0;
  const total = invalid ? 0 : countAuditRows(deps.db, filter);
  const rows = invalid ? [] : auditRows(deps.db, filter, PAGE_SIZE, (filters.page - 1) * PAGE_SIZE);
  const lastPage = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const link = (page: number) => viewUrl('audit', { actor: filters.actor, action: filters.action, ticket: filters.ticket, date_from: filters.date_from, date_to: filters.date_to, page: page > 1 ? page : undefined });
  res.status(invalid ? 400 : 200);
  renderPage(req, res, 'audit', {
    title: i18n.t('audit.title'),
    rows: rows.map((row) => ({ ...row, actionLabel: actionLabel(i18n, row.action) })),
    total,
    filters,
    errors,
    actions: auditActions(deps.db).map((code) => ({ code, label: actionLabel(i18n, code) })),
    prevUrl: filters.page > 1 ? link(filters.page - 1) : undefined,
    nextUrl: filters.page < lastPage ? link(filters.page + 1) : undefined,
    lastPage,
    csvUrl: `${link(1)}&format=csv`,
  });
}

/** A CSV cell: quoted, and never read as a formula by a spreadsheet (OWASP CSV injection). */
export function csvCell(value: unknown): string {
  let textValue = value === null || value === undefined ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(textValue)) textValue = `'${textValue}`;
  return `"${textValue.replaceAll('"', '""')}"`;
}

/** Rows fetched per step of the CSV export: memory stays flat however long the log is. */
const CSV_PAGE = 500;

/**
 * The filtered log as CSV, streamed: pages of rows by id, each written as it is read, waiting for
 * the client to take them (backpressure). Never the whole log in memory (issue #12), and no SQLite
 * statement is held open across the waits.
 */
export async function auditCsv(req: Request, res: Response, deps: AppDeps): Promise<void> {
  const { filter, errors } = readFilters(req, deps.config.timeZone);
  const first = Object.values(errors)[0];
  if (first) throw new HttpError(400, first);
  res.set({
    'Content-Type': 'text/csv; charset=utf-8',
    'Content-Disposition': `attachment; filename="audit-${new Date().toISOString().slice(0, 10)}.csv"`,
    'Cache-Control': 'no-store',
  });
  const header = ['id', 'time_utc', `time_${deps.config.timeZone}`, 'actor_id', 'actor', 'action', 'ticket', 'ip', 'details'].map(csvCell).join(',');
  let more = res.write(`\ufeff${header}\r\n`);
  let afterId = 0;
  for (;;) {
    if (res.destroyed) return;
    if (!more) await new Promise((resolve) => res.once('drain', resolve).once('close', resolve));
    const rows = auditRowsAfter(deps.db, filter, afterId, CSV_PAGE);
    if (rows.length === 0) break;
    const lines = rows.map((row) =>
      [row.id, new Date(row.at).toISOString(), formatDateTime(row.at, deps.config.timeZone), row.actorId, row.actorName, row.action, row.ticketId, row.ip, row.details].map(csvCell).join(','),
    );
    more = res.write(`${lines.join('\r\n')}\r\n`);
    afterId = rows.at(-1)!.id;
  }
  res.end();
}
