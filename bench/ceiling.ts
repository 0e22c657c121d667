// The ceiling: a bare Express + EJS server that renders the same list page as the app (the same
// views/tickets.ejs inside views/layout.ejs, the same 50 rows) from memory: no session, no CSRF,
// no SQL, no security headers. Our list page's req/s is printed as a ratio of this one's.
//   node --import tsx bench/ceiling.ts <database> <userId> <port>
import express from 'express';
import { openDatabase } from '../src/db/index.js';
import { listTickets } from '../src/db/tickets.js';
import { userById } from '../src/db/users.js';
import { PRIORITIES, STATUSES, STATUS_DESCRIPTIONS } from '../src/tickets/model.js';
import { TICKET_SORTS } from '../src/db/tickets.js';
import { VIEWS_DIR } from '../src/paths.js';
import { formatDateTime } from '../src/time.js';
import { priorityTag, renderText, statusTag } from '../src/web/text.js';
import { formatBytes } from '../src/web/uploads/errors.js';

const [file, userIdText, portText] = process.argv.slice(2);
const { db } = openDatabase(file!, { migrate: false });
const user = userById(db, Number(userIdText))!;
const tickets = listTickets(db, { userId: user.id, terms: [], limit: 50, offset: 0 });
db.close();

const app = express();
app.set('views', VIEWS_DIR);
app.set('view engine', 'ejs');
app.set('view cache', true);
app.set('x-powered-by', false);
Object.assign(app.locals, {
  formatDateTime: (ms: number) => formatDateTime(ms, 'UTC'),
  renderText,
  statusTag,
  priorityTag,
  formatBytes,
  statusDescriptions: STATUS_DESCRIPTIONS,
  timeZone: 'UTC',
});
const filters = { status: '', date_from: '', date_to: '', q: '', page: 1, priority: '', source: '', assignee: '', owner: '', sort: '' };
const locals = {
  title: 'Tickets',
  filters,
  errors: {},
  statuses: STATUSES,
  priorities: PRIORITIES,
  sorts: TICKET_SORTS,
  staff: false,
  assignable: [],
  pageSize: 50,
  tickets,
  total: 1000,
  totalIsExact: true,
  emptyReason: undefined,
  lastPage: 20,
  firstRow: 1,
  lastRow: 50,
  prevUrl: undefined,
  nextUrl: '/index.php?view=tickets&page=2',
  showAllUrl: '/index.php?view=tickets&status=all',
  filtered: false,
  user,
  csrfToken: () => 'c'.repeat(43),
  sidebarCollapsed: false,
  waitingCount: 3,
  supportCount: undefined,
  currentView: 'tickets',
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
