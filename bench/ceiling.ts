// The ceiling: a bare Express + EJS server that renders exactly the page the app renders for the
// heavy player's list (default filter): the same views/tickets.ejs inside views/layout.ejs, the
// same 50 rows, the same English locals the app gives its templates (src/web/locale.ts
// localeLocals, as app.locals and the request middleware of src/web/app.ts set them, and the
// page locals of src/web/handlers/tickets.ts), all computed once from memory: no session, no
// CSRF check, no SQL per request, no security headers. bench/run.ts prints our list page's req/s
// as a share of this one's and checks that both pages have the same size.
//   node --import tsx bench/ceiling.ts <database> <userId> <port>
import express from 'express';
import { openDatabase } from '../src/db/index.js';
import { TICKET_SORTS, waitingUserTicketCount } from '../src/db/tickets.js';
import { userById } from '../src/db/users.js';
import { translator } from '../src/i18n/index.js';
import { ticketListPage } from '../src/tickets/service.js';
import { VIEWS_DIR } from '../src/paths.js';
import { PRIORITIES, STATUSES } from '../src/vocabulary.js';
import { localeLocals } from '../src/web/locale.js';
import { renderText } from '../src/web/text.js';

const PAGE_SIZE = 50;
const [file, userIdText, portText] = process.argv.slice(2);
const { db } = openDatabase(file!, { migrate: false });
const user = userById(db, Number(userIdText))!;
const page = ticketListPage(db, { userId: user.id, terms: [], includeInternal: false, limit: PAGE_SIZE, offset: 0 });
const waitingCount = waitingUserTicketCount(db, user.id);
db.close();

const i18n = translator('en', 'UTC');
const app = express();
app.set('views', VIEWS_DIR);
app.set('view engine', 'ejs');
app.set('view cache', true);
app.set('x-powered-by', false);
Object.assign(app.locals, { renderText, timeZone: 'UTC', ...localeLocals(i18n) });

const filters = { status: '', date_from: '', date_to: '', q: '', page: 1, priority: '', source: '', assignee: '', owner: '', sort: '' };
const lastPage = page.total?.exact ? Math.max(1, Math.ceil(page.total.count / PAGE_SIZE)) : undefined;
// A real token's length (32 random bytes, base64url), so the page is as long as the app's.
const csrf = 'c'.repeat(43);
const locals = {
  // What the request middleware of src/web/app.ts puts in res.locals for a signed-in player.
  user,
  ...localeLocals(i18n, false),
  csrfToken: () => csrf,
  sidebarCollapsed: false,
  waitingCount,
  supportCount: undefined,
  currentView: 'tickets',
  currentQuery: 'view=tickets',
  // What src/web/handlers/tickets.ts passes for the default filter.
  title: i18n.t('tickets.title.player'),
  filters,
  errors: {},
  activeFilters: 0,
  statuses: STATUSES,
  priorities: PRIORITIES,
  sorts: TICKET_SORTS,
  staff: false,
  assignable: [],
  pageSize: PAGE_SIZE,
  tickets: page.tickets,
  total: page.total?.count,
  totalIsExact: page.total?.exact ?? false,
  emptyReason: undefined,
  searchNote: undefined,
  lastPage,
  firstRow: 1,
  lastRow: page.tickets.length,
  prevUrl: undefined,
  nextUrl: page.hasMore ? '/index.php?view=tickets&page=2' : undefined,
  showAllUrl: '/index.php?view=tickets&status=all',
};

app.get('/index.php', (_req, res, next) => {
  res.render('tickets', locals, (err, body) => {
    if (err) return next(err);
    res.render('layout', { ...locals, body, template: 'tickets' }, (layoutErr, html) => {
      if (layoutErr) return next(layoutErr);
      res.type('html').send(html);
    });
  });
});
// Exit cleanly on a signal, so --cpu-prof can write its profile.
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(0));
app.listen(Number(portText), '127.0.0.1', () => process.stdout.write('ready\n'));
