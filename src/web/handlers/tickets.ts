// Seed 000 § Tickets list: #, Subject, Status, Priority, Messages, Created, Updated; status filter
// (default "All except closed"), date filters on creation time, search, paging, newest first.
import type { Request, Response } from 'express';
import type { AppDeps } from '../deps.js';
import { TICKET_SORTS, ticketCountForUser, type TicketListQuery, type TicketSort } from '../../db/tickets.js';
import { assignableStaff, userByUsername } from '../../db/users.js';
import { isStatus, PRIORITIES, STATUSES, type Priority, type Status } from '../../tickets/model.js';
import { parseSearch, SearchError, SEARCH_MAX_LENGTH, SEARCH_MAX_WORDS } from '../../tickets/search.js';
import { isStaff, ticketListPage } from '../../tickets/service.js';
import { dayRange, parseYmd } from '../../time.js';
import { message, type Message, type MessageKey, type Translator } from '../../i18n/index.js';
import { queryText } from '../forms.js';
import { renderPage, viewUrl } from '../render.js';

export const PAGE_SIZE = 50;
const MAX_PAGE = 100_000;
/** An example date in the form the date filters take (typed by hand where a browser has no date picker). */
const DATE_EXAMPLE = '2025-10-29';

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

type ListErrors = Record<string, Message>;

/** The filters as typed, and what is wrong with them. Staff filters are ignored for players. */
function readFilters(req: Request, staff: boolean): { filters: ListFilters; errors: ListErrors } {
  const errors: ListErrors = {};
  const status = queryText(req, 'status');
  if (status !== '' && status !== 'all' && !isStatus(status)) errors.status = message('tickets.error.status');
  const date_from = queryText(req, 'date_from');
  const date_to = queryText(req, 'date_to');
  if (date_from && !parseYmd(date_from)) errors.date_from = message('tickets.error.dateFrom', { example: DATE_EXAMPLE });
  if (date_to && !parseYmd(date_to)) errors.date_to = message('tickets.error.dateTo', { example: DATE_EXAMPLE });
  if (date_from && date_to && !errors.date_from && !errors.date_to && date_from > date_to) errors.date_to = message('tickets.error.dateOrder');
  const q = queryText(req, 'q');
  if (q.length > SEARCH_MAX_LENGTH) errors.q = message('tickets.error.searchLength', { count: SEARCH_MAX_LENGTH });
  const pageText = queryText(req, 'page');
  let page = 1;
  if (pageText !== '') {
    page = /^\d{1,6}$/.test(pageText) ? Number(pageText) : 0;
    if (page < 1 || page > MAX_PAGE) {
      errors.page = message('tickets.error.page', { max: MAX_PAGE });
      page = 1;
    }
  }
  const staffFilters = { priority: '', source: '', assignee: '', owner: '', sort: '' };
  if (staff) {
    staffFilters.priority = queryText(req, 'priority');
    if (staffFilters.priority && !(PRIORITIES as readonly string[]).includes(staffFilters.priority)) errors.priority = message('tickets.error.priority');
    staffFilters.source = queryText(req, 'source');
    if (staffFilters.source && !['web', 'game'].includes(staffFilters.source)) errors.source = message('tickets.error.source');
    staffFilters.assignee = queryText(req, 'assignee');
    if (staffFilters.assignee && !/^(mine|unassigned|[1-9]\d{0,14})$/.test(staffFilters.assignee)) errors.assignee = message('tickets.error.assignee');
    staffFilters.owner = queryText(req, 'owner').slice(0, 64);
    staffFilters.sort = queryText(req, 'sort');
    if (staffFilters.sort && !(TICKET_SORTS as readonly string[]).includes(staffFilters.sort)) errors.sort = message('tickets.error.sort');
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
function activeFilterWords(filters: ListFilters, i18n: Translator, staff: boolean, assignable: { id: number; username: string }[]): string[] {
  const words: string[] = [];
  if (filters.status === '') words.push(i18n.t('tickets.empty.filter.notClosed'));
  else if (filters.status !== 'all') words.push(i18n.t('tickets.empty.filter.status', { status: i18n.status(filters.status, { staff }) }));
  if (filters.date_from) words.push(i18n.t('tickets.empty.filter.dateFrom', { date: filters.date_from }));
  if (filters.date_to) words.push(i18n.t('tickets.empty.filter.dateTo', { date: filters.date_to }));
  if (filters.q) words.push(i18n.t('tickets.empty.filter.search', { q: filters.q }));
  if (filters.priority) words.push(i18n.t('tickets.empty.filter.priority', { priority: i18n.t(`priority.${filters.priority}` as MessageKey) }));
  if (filters.source) words.push(i18n.t('tickets.empty.filter.source', { source: i18n.t(filters.source === 'game' ? 'tickets.source.game' : 'tickets.source.web') }));
  if (filters.assignee) {
    const name =
      filters.assignee === 'mine'
        ? i18n.t('tickets.filter.mine')
        : filters.assignee === 'unassigned'
          ? i18n.t('tickets.filter.unassigned')
          : (assignable.find((s) => String(s.id) === filters.assignee)?.username ?? `#${filters.assignee}`);
    words.push(i18n.t('tickets.empty.filter.assignee', { name }));
  }
  if (filters.owner) words.push(i18n.t('tickets.empty.filter.owner', { name: filters.owner }));
  return words;
}

/** How many filters narrow the list (the phone's Filters button shows it); sorting is not one. */
function activeFilterCount(filters: ListFilters): number {
  return [filters.status, filters.date_from, filters.date_to, filters.q, filters.priority, filters.source, filters.assignee, filters.owner].filter((v) => v !== '').length;
}

export function ticketsPage(req: Request, res: Response, deps: AppDeps): void {
  const user = res.locals.user!;
  const i18n = res.locals.i18n as Translator;
  const staff = isStaff(user);
  const { filters, errors } = readFilters(req, staff);
  const assignable = staff ? assignableStaff(deps.db) : [];
  const base = {
    title: i18n.t(staff ? 'tickets.title.staff' : 'tickets.title.player'),
    filters,
    errors,
    activeFilters: activeFilterCount(filters),
    statuses: STATUSES,
    priorities: PRIORITIES,
    sorts: TICKET_SORTS,
    staff,
    assignable,
    pageSize: PAGE_SIZE,
  };

  let search: ReturnType<typeof parseSearch> = { terms: [] };
  try {
    search = parseSearch(filters.q);
  } catch (err) {
    if (!(err instanceof SearchError)) throw err;
    errors.q = err.reason === 'words' ? message('tickets.error.searchWords', { count: SEARCH_MAX_WORDS }) : message('tickets.error.searchLength', { count: SEARCH_MAX_LENGTH });
  }
  if (Object.keys(errors).length > 0) {
    res.status(400);
    renderPage(req, res, 'tickets', { ...base, tickets: [], total: 0, totalIsExact: true, emptyReason: i18n.t('tickets.empty.fixFilters'), prevUrl: undefined, nextUrl: undefined });
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
  const { tickets, hasMore, total, searchWindow, newestMatchFirst, searchHitLimit } = ticketListPage(deps.db, query);

  let emptyReason: string | undefined;
  if (tickets.length === 0) {
    if (filters.page > 1 && (total === undefined || total.count > 0)) {
      emptyReason = total?.exact
        ? i18n.t('tickets.empty.noPageOf', { page: filters.page, count: Math.ceil(total.count / PAGE_SIZE) })
        : i18n.t('tickets.empty.noPage', { page: filters.page });
    } else if (!staff && ticketCountForUser(deps.db, user.id) === 0) emptyReason = 'none';
    else {
      const list = new Intl.ListFormat(i18n.locale, { type: 'conjunction' });
      emptyReason = i18n.t('tickets.empty.noMatch', { filters: list.format(activeFilterWords(filters, i18n, staff, assignable)) });
    }
  }
  // A search that only walked the most recent tickets says so, and how to search them all.
  const searchNote = searchWindow === undefined ? undefined : i18n.t('tickets.searchNote', { count: searchWindow });
  // A staff search lists tickets by their newest match, not by activity: the page says so, and where a walk stopped.
  const searchOrderNote = newestMatchFirst && tickets.length > 0 ? i18n.t('tickets.searchOrder') : undefined;
  const searchHitNote = searchHitLimit === undefined ? undefined : i18n.t('tickets.searchHitNote', { count: searchHitLimit });
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
    searchOrderNote,
    searchHitNote,
    lastPage,
    firstRow: tickets.length === 0 ? 0 : firstRow,
    lastRow: firstRow + tickets.length - 1,
    prevUrl: filters.page > 1 ? filterUrl(filters, lastPage === undefined ? filters.page - 1 : Math.min(filters.page - 1, lastPage)) : undefined,
    nextUrl: hasMore ? filterUrl(filters, filters.page + 1) : undefined,
    showAllUrl: viewUrl('tickets', { status: 'all' }),
  });
}
