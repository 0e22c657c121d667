// Seed 000 § Tickets list: #, Subject, Status, Priority, Messages, Created, Updated; status filter
// (default "All except closed"), date filters on creation time, search, paging, newest first.
import type { Request, Response } from 'express';
import type { AppDeps } from '../deps.js';
import { TICKET_SORTS, ticketCountForUser, type TicketListQuery, type TicketSort } from '../../db/tickets.js';
import { assignableStaff, userByUsername } from '../../db/users.js';
import { isStatus, PRIORITIES, STATUSES, type Priority, type Status } from '../../tickets/model.js';
import { parseSearch, SearchError, SEARCH_MAX_LENGTH } from '../../tickets/search.js';
import { isStaff, ticketListPage } from '../../tickets/service.js';
import { dayRange, parseYmd } from '../../time.js';
import { queryText, type FieldErrors } from '../forms.js';
import { renderPage, viewUrl } from '../render.js';

export const PAGE_SIZE = 50;
const MAX_PAGE = 100_000;

export interface ListFilters {
  status: string;
  date_from: string;
  date_to: string;
  q: string;
  page: number;
  /** Staff only. */
  priority: string;
  source: string;
  assignee: string;
  owner: string;
  sort: string;
}

/** The filters as typed, and what is wrong with them. Staff filters are ignored for players. */
function readFilters(req: Request, staff: boolean): { filters: ListFilters; errors: FieldErrors } {
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
  const staffFilters = { priority: '', source: '', assignee: '', owner: '', sort: '' };
  if (staff) {
    staffFilters.priority = queryText(req, 'priority');
    if (staffFilters.priority && !(PRIORITIES as readonly string[]).includes(staffFilters.priority)) errors.priority = `Priority must be one of ${PRIORITIES.join(', ')}.`;
    staffFilters.source = queryText(req, 'source');
    if (staffFilters.source && !['web', 'game'].includes(staffFilters.source)) errors.source = 'Source must be web or game.';
    staffFilters.assignee = queryText(req, 'assignee');
    if (staffFilters.assignee && !/^(mine|unassigned|[1-9]\d{0,14})$/.test(staffFilters.assignee)) errors.assignee = 'Assignee must be mine, unassigned or a staff member.';
    staffFilters.owner = queryText(req, 'owner').slice(0, 64);
    staffFilters.sort = queryText(req, 'sort');
    if (staffFilters.sort && !(TICKET_SORTS as readonly string[]).includes(staffFilters.sort)) errors.sort = `Sort must be one of ${TICKET_SORTS.join(', ')}.`;
  }
  return { filters: { status, date_from, date_to, q, page, ...staffFilters }, errors };
}

function filterUrl(filters: ListFilters, page?: number): string {
  return viewUrl('tickets', {
    status: filters.status,
    priority: filters.priority,
    source: filters.source,
    assignee: filters.assignee,
    owner: filters.owner,
    date_from: filters.date_from,
    date_to: filters.date_to,
    q: filters.q,
    sort: filters.sort,
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
  if (filters.priority) words.push(`priority “${filters.priority}”`);
  if (filters.source) words.push(`source “${filters.source}”`);
  if (filters.assignee) words.push(`assignee “${filters.assignee}”`);
  if (filters.owner) words.push(`owner “${filters.owner}”`);
  return words;
}

export function ticketsPage(req: Request, res: Response, deps: AppDeps): void {
  const user = res.locals.user!;
  const staff = isStaff(user);
  const { filters, errors } = readFilters(req, staff);
  const base = {
    title: staff ? 'Ticket queue' : 'Tickets',
    filters,
    errors,
    statuses: STATUSES,
    priorities: PRIORITIES,
    sorts: TICKET_SORTS,
    staff,
    assignable: staff ? assignableStaff(deps.db) : [],
    pageSize: PAGE_SIZE,
  };

  let search: ReturnType<typeof parseSearch> = { terms: [] };
  try {
    search = parseSearch(filters.q);
  } catch (err) {
    if (!(err instanceof SearchError)) throw err;
    errors.q = err.message;
  }
  if (Object.keys(errors).length > 0) {
    res.status(400);
    renderPage(req, res, 'tickets', { ...base, tickets: [], total: 0, totalIsExact: true, emptyReason: 'Fix the filters above to see tickets.', prevUrl: undefined, nextUrl: undefined });
    return;
  }

  // Staff filter by owner name; an unknown name simply matches nothing.
  let ownerId: number | undefined;
  if (staff && filters.owner) ownerId = userByUsername(deps.db, filters.owner)?.id ?? -1;
  const range = dayRange(filters.date_from, filters.date_to, deps.config.timeZone);
  const query: TicketListQuery = {
    ...(staff ? {} : { userId: user.id }),
    ...(filters.priority ? { priority: filters.priority as Priority } : {}),
    ...(filters.source ? { source: filters.source as 'web' | 'game' } : {}),
    ...(filters.assignee ? { assignee: filters.assignee === 'mine' ? user.id : filters.assignee === 'unassigned' ? 'unassigned' : Number(filters.assignee) } : {}),
    ...(ownerId !== undefined ? { ownerId } : {}),
    ...(filters.sort ? { sort: filters.sort as TicketSort } : {}),
    ...(filters.status === '' ? {} : { status: filters.status as Status | 'all' }),
    ...(range.start !== undefined ? { createdFrom: range.start } : {}),
    ...(range.end !== undefined ? { createdBefore: range.end } : {}),
    terms: search.terms,
    ...(search.ticketNumber !== undefined ? { ticketNumber: search.ticketNumber } : {}),
    includeInternal: staff,
    limit: PAGE_SIZE,
    offset: (filters.page - 1) * PAGE_SIZE,
  };
  const { tickets, hasMore, total, searchWindow } = ticketListPage(deps.db, query);

  let emptyReason: string | undefined;
  if (tickets.length === 0) {
    if (filters.page > 1 && (total === undefined || total.count > 0)) {
      emptyReason = total?.exact ? `There is no page ${filters.page}; the list has ${Math.ceil(total.count / PAGE_SIZE)}.` : `There is no page ${filters.page}.`;
    } else if (!staff && ticketCountForUser(deps.db, user.id) === 0) emptyReason = 'none';
    else emptyReason = `No tickets match ${activeFilterWords(filters).join(', ')}.`;
  }
  // A search that only walked the most recent tickets says so, and how to search them all.
  const searchNote =
    searchWindow === undefined
      ? undefined
      : `Searched the ${searchWindow.toLocaleString('en')} most recently active tickets: these words are short or very common. Add a more specific word of 3 or more characters to search every ticket.`;
  // The last page is known when the count is exact; otherwise Next shows while rows follow.
  const lastPage = total?.exact ? Math.max(1, Math.ceil(total.count / PAGE_SIZE)) : undefined;
  const firstRow = (filters.page - 1) * PAGE_SIZE + 1;
  renderPage(req, res, 'tickets', {
    ...base,
    tickets,
    total: total ? total.count : undefined,
    totalIsExact: total?.exact ?? false,
    emptyReason,
    searchNote,
    lastPage,
    firstRow: tickets.length === 0 ? 0 : firstRow,
    lastRow: firstRow + tickets.length - 1,
    prevUrl: filters.page > 1 ? filterUrl(filters, lastPage === undefined ? filters.page - 1 : Math.min(filters.page - 1, lastPage)) : undefined,
    nextUrl: hasMore ? filterUrl(filters, filters.page + 1) : undefined,
    showAllUrl: viewUrl('tickets', { status: 'all' }),
    filtered: activeFilterWords(filters).length > 1 || filters.status !== '',
  });
}
