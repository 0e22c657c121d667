// Seed 000 § Tickets list: #, Subject, Status, Priority, Messages, Created, Updated; status filter
// (default "All except closed"), date filters on creation time, search, paging, newest first.
import type { Request, Response } from 'express';
import type { AppDeps } from '../app.js';
import { ticketCountForUser, type TicketListQuery } from '../../db/tickets.js';
import { isStatus, STATUSES, type Status } from '../../tickets/model.js';
import { parseSearch, SearchError, SEARCH_MAX_LENGTH } from '../../tickets/search.js';
import { isStaff, ticketListPage } from '../../tickets/service.js';
import { dayRange, parseYmd } from '../../time.js';
import type { FieldErrors } from '../forms.js';
import { HttpError } from '../errors.js';
import { renderPage, viewUrl } from '../render.js';

export const PAGE_SIZE = 50;
const MAX_PAGE = 100_000;

export interface ListFilters {
  status: string;
  date_from: string;
  date_to: string;
  q: string;
  page: number;
}

function queryText(req: Request, name: string): string {
  const value = req.query[name];
  if (value === undefined) return '';
  if (typeof value !== 'string') throw new HttpError(400, `The "${name}" parameter must be given once.`);
  return value.trim();
}

/** The filters as typed, and what is wrong with them. */
function readFilters(req: Request): { filters: ListFilters; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const status = queryText(req, 'status');
  if (status !== '' && status !== 'all' && !isStatus(status)) errors.status = `Status must be one of: all, ${STATUSES.join(', ')}.`;
  const date_from = queryText(req, 'date_from');
  const date_to = queryText(req, 'date_to');
  if (date_from && !parseYmd(date_from)) errors.date_from = 'Date from must be a date like 2025-10-29.';
  if (date_to && !parseYmd(date_to)) errors.date_to = 'Date to must be a date like 2025-10-29.';
  if (date_from && date_to && !errors.date_from && !errors.date_to && date_from > date_to) errors.date_to = 'Date to must not be before Date from.';
  const q = queryText(req, 'q');
  if (q.length > SEARCH_MAX_LENGTH) errors.q = `Search must be at most ${SEARCH_MAX_LENGTH} characters.`;
  const pageText = queryText(req, 'page');
  let page = 1;
  if (pageText !== '') {
    page = /^\d{1,6}$/.test(pageText) ? Number(pageText) : 0;
    if (page < 1 || page > MAX_PAGE) {
      errors.page = `Page must be a number from 1 to ${MAX_PAGE}.`;
      page = 1;
    }
  }
  return { filters: { status, date_from, date_to, q, page }, errors };
}

function filterUrl(filters: ListFilters, page?: number): string {
  return viewUrl('tickets', {
    status: filters.status,
    date_from: filters.date_from,
    date_to: filters.date_to,
    q: filters.q,
    page: page && page > 1 ? page : undefined,
  });
}

/** Which of the chosen filters can hide tickets, in words (for the empty state). */
function activeFilterWords(filters: ListFilters): string[] {
  const words: string[] = [];
  if (filters.status === '') words.push('status “All except closed” (closed tickets are hidden)');
  else if (filters.status !== 'all') words.push(`status “${filters.status}”`);
  if (filters.date_from) words.push(`created from ${filters.date_from}`);
  if (filters.date_to) words.push(`created until ${filters.date_to}`);
  if (filters.q) words.push(`search “${filters.q}”`);
  return words;
}

export function ticketsPage(req: Request, res: Response, deps: AppDeps): void {
  const user = res.locals.user!;
  const { filters, errors } = readFilters(req);
  const staff = isStaff(user);
  const base = { title: 'Tickets', filters, errors, statuses: STATUSES, staff, pageSize: PAGE_SIZE };

  let search: ReturnType<typeof parseSearch> = { terms: [] };
  try {
    search = parseSearch(filters.q);
  } catch (err) {
    if (!(err instanceof SearchError)) throw err;
    errors.q = err.message;
  }
  if (Object.keys(errors).length > 0) {
    res.status(400);
    renderPage(req, res, 'tickets', { ...base, tickets: [], total: 0, emptyReason: 'Fix the filters above to see tickets.', prevUrl: undefined, nextUrl: undefined });
    return;
  }

  const range = dayRange(filters.date_from, filters.date_to, deps.config.timeZone);
  const query: TicketListQuery = {
    ...(staff ? {} : { userId: user.id }),
    ...(filters.status === '' ? {} : { status: filters.status as Status | 'all' }),
    ...(range.start !== undefined ? { createdFrom: range.start } : {}),
    ...(range.end !== undefined ? { createdBefore: range.end } : {}),
    terms: search.terms,
    ...(search.ticketNumber !== undefined ? { ticketNumber: search.ticketNumber } : {}),
    includeInternal: staff,
    limit: PAGE_SIZE,
    offset: (filters.page - 1) * PAGE_SIZE,
  };
  const { tickets, total } = ticketListPage(deps.db, query);

  let emptyReason: string | undefined;
  if (tickets.length === 0) {
    if (total > 0) emptyReason = `There is no page ${filters.page}; the list has ${Math.ceil(total / PAGE_SIZE)}.`;
    else if (!staff && ticketCountForUser(deps.db, user.id) === 0) emptyReason = 'none';
    else emptyReason = `No tickets match ${activeFilterWords(filters).join(', ')}.`;
  }
  const lastPage = Math.max(1, Math.ceil(total / PAGE_SIZE));
  renderPage(req, res, 'tickets', {
    ...base,
    tickets,
    total,
    emptyReason,
    lastPage,
    firstRow: total === 0 ? 0 : (filters.page - 1) * PAGE_SIZE + 1,
    lastRow: Math.min(total, filters.page * PAGE_SIZE),
    prevUrl: filters.page > 1 ? filterUrl(filters, Math.min(filters.page - 1, lastPage)) : undefined,
    nextUrl: filters.page < lastPage ? filterUrl(filters, filters.page + 1) : undefined,
    showAllUrl: viewUrl('tickets', { status: 'all' }),
    filtered: activeFilterWords(filters).length > 1 || filters.status !== '',
  });
}
