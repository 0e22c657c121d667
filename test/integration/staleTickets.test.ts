// Tickets waiting on the player (issue #18): one reminder at N/2, the close at N through the one
// transition, keep open, N = 0, a player's reply, first-message-only, game tickets (whisper in the
// ticket's language, channel gone, no web account), a disabled owner, and the admin's field. The
// sweep is given its `now`: nothing here waits.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { recentAuditRows } from '../../src/db/audit.js';
import { openDatabase, prepared, type Db } from '../../src/db/index.js';
import { ticketMessages } from '../../src/db/messages.js';
import { notificationsForTicket } from '../../src/db/notifications.js';
import { pendingDiscordWork, pendingWhispers } from '../../src/db/outboxes.js';
import { ticketById, setTicketChannel } from '../../src/db/tickets.js';
import { setUserDisabled, type User } from '../../src/db/users.js';
import { ticketNotificationPayloadSchema } from '../../src/tickets/notifications.js';
import { renderTicketEmail } from '../../src/notify/templates.js';
import { translator } from '../../src/i18n/index.js';
import { DEFAULT_WHISPER_TEMPLATES, saveNotificationSwitches, saveStaleDays, staleDays } from '../../src/settings.js';
import { discordChannelGone, receiveGameMessage } from '../../src/tickets/game.js';
import { createWebTicket, replyAsPlayer, replyAsStaff, setTicketStatus } from '../../src/tickets/service.js';
import { createStaleWorker, DAY_MS, setKeepOpen, sweepStaleTickets, type StaleOptions, type SweepResult } from '../../src/tickets/stale.js';
import { createLogger } from '../../src/log.js';
import { addMailedPlayer, addUser, Client, csrfFrom, startApp, type TestApp } from '../helpers/app.js';

const EMAIL = { email: true, telegram: false };
const OPTIONS: StaleOptions = { notify: EMAIL, whisperMax: 200, whisperEncoding: 'utf-8', timeZone: 'UTC' };
const RELAY = { whisperMax: 200, discord: false, notify: EMAIL };
const GUILD = '123456789012345678';
const HOUR = 60 * 60 * 1000;
const HALF = 3.5 * DAY_MS;
const FULL = 7 * DAY_MS;

let app: TestApp;
let player: User;
let staff: User;
let admin: Client;
/** Each test's own time, far from the others', so one test's sweep finds its own tickets due. */
let clock = Date.UTC(2030, 0, 1);
const nextEpoch = () => (clock += 1000 * DAY_MS);

before(async () => {
  app = await startApp();
  player = await addMailedPlayer(app.db, 'forgetful', 'forgetful@example.org');
  staff = await addUser(app.db, 'support', 'correct horse battery', 'staff');
  await addUser(app.db, 'root', 'correct horse battery', 'admin');
  saveNotificationSwitches(app.db, { email: true, telegram: false });
  admin = new Client(app.url);
  await admin.login('root');
});
after(() => app.close());

/** A web ticket of `owner` that Support answered at `at`, waiting for the player. */
function waitingTicket(at: number, owner: User = player): number {
  const id = createWebTicket(app.db, { user: owner, subject: 'Where is my helm?', body: 'It vanished', priority: 'normal', uploads: [] }, { ip: null }, at - HOUR);
  replyAsStaff(app.db, { ticketId: id, user: staff, body: 'Please send a screenshot', status: 'waiting_user', uploads: [] }, { ip: null }, RELAY, at);
  return id;
}

const sweep = (now: number, db: Db = app.db, options: StaleOptions = OPTIONS): SweepResult => sweepStaleTickets(db, options, now);
const events = (id: number) => notificationsForTicket(app.db, id).map((n) => n.event);
const remindedAt = (id: number) => (prepared(app.db, 'SELECT reminded_at AS r FROM tickets WHERE id = ?').get(id) as { r: number | null }).r;
const auditOf = (id: number, action: string) => recentAuditRows(app.db, 500).filter((r) => r.ticketId === id && r.action === action);

describe('a ticket waiting on the player', () => {
  test('is reminded once at N/2: a second sweep and a restart (a new sweep on the same file) send nothing more', () => {
    const t0 = nextEpoch();
    const id = waitingTicket(t0);
    assert.deepEqual(sweep(t0 + HALF - 1).reminded, [], 'not before half the time');
    assert.equal(remindedAt(id), null);
    assert.deepEqual(sweep(t0 + HALF).reminded, [id]);
    assert.equal(remindedAt(id), t0 + HALF, 'marked in the same transaction');
    assert.deepEqual(events(id), ['support_reply', 'stale_reminder']);
    assert.deepEqual(sweep(t0 + HALF).reminded, []);
    assert.deepEqual(sweep(t0 + HALF + 2 * HOUR).reminded, []);
    const restarted = openDatabase(app.config.databasePath).db;
    try {
      assert.deepEqual(sweep(t0 + HALF + 3 * HOUR, restarted).reminded, []);
    } finally {
      restarted.close();
    }
    assert.deepEqual(events(id), ['support_reply', 'stale_reminder'], 'one reminder in all');
    assert.equal(auditOf(id, 'ticket.stale_reminder').length, 1);
    // The email names when the ticket closes, in the recipient's language.
    const row = prepared(app.db, "SELECT payload FROM notification_outbox WHERE ticket_id = ? AND event = 'stale_reminder'").get(id) as { payload: string };
    const payload = ticketNotificationPayloadSchema.parse(JSON.parse(row.payload));
    assert.deepEqual(payload.event, { kind: 'stale_reminder', days: 7, closesAt: t0 + FULL });
    const english = renderTicketEmail(payload, 'forgetful', 'https://desk.example', { i18n: translator('en', 'UTC') });
    assert.match(english.subject, /Your ticket will close without your answer/);
    assert.ok(english.text.includes(translator('en', 'UTC').dateTime(t0 + FULL)), english.text);
    const spanish = renderTicketEmail(payload, 'forgetful', 'https://desk.example', { i18n: translator('es', 'UTC') });
    assert.match(spanish.text, /Soporte espera tu respuesta/);
  });

  test('is closed at N through the one transition: the line, the close notification, audit cause stale; once', () => {
    const t0 = nextEpoch();
    const id = waitingTicket(t0);
    sweep(t0 + HALF);
    assert.deepEqual(sweep(t0 + FULL - 1).closed, []);
    assert.equal(ticketById(app.db, id)!.status, 'waiting_user');
    assert.deepEqual(sweep(t0 + FULL).closed, [id]);
    const ticket = ticketById(app.db, id)!;
    assert.equal(ticket.status, 'closed');
    assert.equal(ticket.closedAt, t0 + FULL);
    const line = ticketMessages(app.db, id, true).at(-1)!;
    assert.equal(line.authorKind, 'system');
    assert.equal(line.body, 'Ticket closed: no answer from the player for 7 days.');
    assert.equal(translator('ru').line(line.event, line.body), 'Тикет закрыт: игрок не отвечал 7 дней.');
    assert.deepEqual(events(id), ['support_reply', 'stale_reminder', 'closed']);
    const closes = auditOf(id, 'ticket.close');
    assert.equal(closes.length, 1);
    assert.equal(JSON.parse(closes[0]!.details!).cause, 'stale');
    assert.deepEqual(sweep(t0 + FULL + DAY_MS).closed, [], 'closed once');
  });

  test('the reminder comes first: a ticket found late is closed N/2 after its reminder, not at once', () => {
    const t0 = nextEpoch();
    const id = waitingTicket(t0);
    const late = t0 + 30 * DAY_MS;
    const first = sweep(late);
    assert.deepEqual([first.reminded, first.closed], [[id], []]);
    assert.deepEqual(sweep(late + HALF - 1).closed, []);
    assert.deepEqual(sweep(late + HALF).closed, [id]);
  });

  test('kept open by staff: never reminded or closed; let go, it is reminded again before it closes', () => {
    const t0 = nextEpoch();
    const id = waitingTicket(t0);
    assert.equal(setKeepOpen(app.db, id, true, staff, null, t0 + DAY_MS), true);
    const quiet = sweep(t0 + 60 * DAY_MS);
    assert.deepEqual([quiet.reminded, quiet.closed], [[], []]);
    assert.equal(ticketById(app.db, id)!.status, 'waiting_user');
    assert.deepEqual(events(id), ['support_reply']);
    assert.equal(auditOf(id, 'ticket.keep_open').length, 1);
    assert.equal(setKeepOpen(app.db, id, false, staff, null, t0 + 61 * DAY_MS), true);
    assert.deepEqual(sweep(t0 + 61 * DAY_MS).reminded, [id]);
    assert.deepEqual(sweep(t0 + 61 * DAY_MS).closed, []);
    assert.deepEqual(sweep(t0 + 61 * DAY_MS + HALF).closed, [id]);
  });

  test('N = 0: never reminded or closed', () => {
    const t0 = nextEpoch();
    const id = waitingTicket(t0);
    saveStaleDays(app.db, 0);
    try {
      const result = sweep(t0 + 365 * DAY_MS);
      assert.deepEqual([result.reminded, result.closed], [[], []]);
      assert.equal(ticketById(app.db, id)!.status, 'waiting_user');
    } finally {
      saveStaleDays(app.db, 7);
    }
    // Closed here so later tests' sweeps do not find it.
    setTicketStatus(app.db, id, 'closed', staff, { ip: null }, EMAIL);
  });

  test("the player's reply ends the wait and clears the reminder mark; Support's next answer starts a new one", () => {
    const t0 = nextEpoch();
    const id = waitingTicket(t0);
    assert.deepEqual(sweep(t0 + HALF).reminded, [id]);
    replyAsPlayer(app.db, { ticketId: id, user: player, body: 'Here it is', uploads: [] }, { ip: null }, { discord: false }, t0 + 4 * DAY_MS);
    assert.equal(remindedAt(id), null, 'the trigger cleared it');
    assert.equal(ticketById(app.db, id)!.status, 'answered');
    // Answered by the player's reply: it waits on Support now, by the player's message, from day 4.
    assert.deepEqual(sweep(t0 + FULL).closed, []);
    replyAsStaff(app.db, { ticketId: id, user: staff, body: 'Thanks, and the map?', status: 'waiting_user', uploads: [] }, { ip: null }, RELAY, t0 + 5 * DAY_MS);
    assert.deepEqual(sweep(t0 + 5 * DAY_MS + HALF - 1).reminded, []);
    assert.deepEqual(sweep(t0 + 5 * DAY_MS + HALF).reminded, [id], 'a new wait, a new reminder');
    assert.deepEqual(sweep(t0 + 5 * DAY_MS + FULL).closed, [id]);
  });

  test('a ticket with only its first message counts from its last change', () => {
    const t0 = nextEpoch();
    const id = createWebTicket(app.db, { user: player, subject: 'Only this', body: 'One message', priority: 'normal', uploads: [] }, { ip: null }, t0);
    setTicketStatus(app.db, id, 'answered', staff, { ip: null }, EMAIL, t0);
    assert.equal(ticketById(app.db, id)!.messageCount, 1);
    assert.deepEqual(sweep(t0 + HALF).reminded, [id]);
    assert.deepEqual(sweep(t0 + FULL).closed, [id]);
  });

  test('a disabled owner gets no reminder, and the ticket still closes at N (no close notification either)', async () => {
    const t0 = nextEpoch();
    const user = await addMailedPlayer(app.db, 'goneaway', 'goneaway@example.org');
    const id = waitingTicket(t0, user);
    setUserDisabled(app.db, user.id, t0 + HOUR);
    assert.deepEqual(sweep(t0 + HALF).reminded, [id], 'marked, so it is not looked at again');
    assert.deepEqual(events(id), ['support_reply']);
    assert.equal(JSON.parse(auditOf(id, 'ticket.stale_reminder')[0]!.details!).skipped, 'owner disabled');
    assert.deepEqual(sweep(t0 + FULL).closed, [id]);
    assert.deepEqual(events(id), ['support_reply']);
  });
});

describe('a game ticket waiting on the player', () => {
  let charId = 5000;
  function gameTicket(at: number, lang: string | undefined): number {
    charId += 1;
    const { ticketId } = receiveGameMessage(
      app.db,
      { accountId: 9000 + charId, charId, name: `Hero${charId}`, via: 'pm', message: 'My pet ran away', ...(lang ? { lang } : {}) },
      { templates: DEFAULT_WHISPER_TEMPLATES, guildId: GUILD },
      at - HOUR,
    );
    setTicketChannel(app.db, ticketId, `88${charId}`);
    setTicketStatus(app.db, ticketId, 'waiting_user', staff, { ip: null }, EMAIL, at);
    return ticketId;
  }
  const whispers = (id: number) => pendingWhispers(app.db, id).map((w) => w.text);
  const closeWork = (id: number) => pendingDiscordWork(app.db, id).filter((w) => w.kind === 'close_channel').length;

  test("without a web account: a whisper in the ticket's language, English when the code page cannot show it; then the close", () => {
    const t0 = nextEpoch();
    const russian = gameTicket(t0, 'ru');
    const english = gameTicket(t0, undefined);
    assert.equal(ticketById(app.db, russian)!.userId, null);
    const before = whispers(russian).length;
    assert.deepEqual(sweep(t0 + HALF).reminded.sort(), [russian, english].sort());
    const ru = whispers(russian).slice(before).join('');
    assert.match(ru, /поддержка ждёт вашего ответа/);
    assert.ok(ru.includes(translator('ru', 'UTC').dateTime(t0 + FULL)), ru);
    assert.match(whispers(english).join(''), /Support is waiting for your answer/);
    assert.deepEqual(events(russian), [], 'nobody to email');
    assert.deepEqual(sweep(t0 + FULL).closed.sort(), [russian, english].sort());
    assert.equal(closeWork(russian), 1, 'its channel closes once');

    const t1 = nextEpoch();
    const latin = gameTicket(t1, 'ru');
    sweep(t1 + HALF, app.db, { ...OPTIONS, whisperEncoding: 'windows-1252' });
    assert.match(whispers(latin).join(''), /^RagnaSync Ticket: Support is waiting for your answer/m, 'English: Cyrillic is not in the code page');
    sweep(t1 + FULL);
  });

  test('with a linked web account: the whisper and the email', async () => {
    const t0 = nextEpoch();
    charId += 1;
    const owner = await addMailedPlayer(app.db, `linked${charId}`, `linked${charId}@example.org`, 9000 + charId);
    charId -= 1;
    const id = gameTicket(t0, 'es');
    assert.equal(ticketById(app.db, id)!.userId, owner.id);
    assert.deepEqual(sweep(t0 + HALF).reminded, [id]);
    assert.match(whispers(id).join(''), /Soporte espera tu respuesta/);
    assert.ok(events(id).includes('stale_reminder'));
    sweep(t0 + FULL);
  });

  test('its Discord channel gone: the close works and queues the channel work once; a deleted channel closes it first', () => {
    const t0 = nextEpoch();
    const orphan = gameTicket(t0, undefined);
    setTicketChannel(app.db, orphan, null);
    sweep(t0 + HALF);
    assert.deepEqual(sweep(t0 + FULL).closed, [orphan]);
    assert.equal(ticketById(app.db, orphan)!.status, 'closed');
    assert.equal(closeWork(orphan), 1);
    sweep(t0 + FULL + DAY_MS);
    assert.equal(closeWork(orphan), 1, 'not queued twice');

    const deleted = gameTicket(t0, undefined);
    assert.equal(discordChannelGone(app.db, deleted, false, t0 + DAY_MS), true);
    const result = sweep(t0 + 40 * DAY_MS);
    assert.ok(!result.reminded.includes(deleted) && !result.closed.includes(deleted));
    assert.equal(closeWork(deleted), 1);
  });
});

describe('the background worker', () => {
  test('sweeps once at start (what waited during a stop is caught up) and stops', async () => {
    const id = waitingTicket(Date.now() - 4 * DAY_MS);
    const worker = createStaleWorker({ db: app.db, logger: createLogger('silent'), options: OPTIONS, intervalMs: 60_000 });
    worker.start();
    try {
      assert.notEqual(remindedAt(id), null, 'reminded by the sweep at start');
      assert.deepEqual(events(id), ['support_reply', 'stale_reminder']);
    } finally {
      await worker.stop();
    }
    setTicketStatus(app.db, id, 'closed', staff, { ip: null }, EMAIL);
  });
});

describe('on the dashboard', () => {
  async function post(path: string, fields: Record<string, string>, client: Client) {
    const _csrf = csrfFrom((await client.get('/index.php?view=tickets')).text)!;
    return client.post(path, { _csrf, ...fields });
  }

  test('the admin sets the days in its own field; a bad value is refused next to it (422)', async () => {
    const page = await admin.get('/index.php?view=admin');
    assert.match(page.text, /<input id="stale_days" name="stale_days"[^>]*value="7"/);
    const saved = await post('/index.php?view=admin', { stale_days: '14', notify_email: 'on' }, admin);
    assert.equal(saved.status, 303);
    assert.equal(staleDays(app.db), 14);
    for (const bad of ['abc', '366', '-1', '2.5']) {
      const refused = await post('/index.php?view=admin', { stale_days: bad, notify_email: 'on' }, admin);
      assert.equal(refused.status, 422, bad);
      assert.match(refused.text, /id="stale_days-error">Enter a whole number of days from 0 to 365/);
      assert.match(refused.text, /aria-invalid="true"/);
      assert.ok(refused.text.includes(`value="${bad}"`), 'what was typed is kept');
      assert.equal(staleDays(app.db), 14, 'nothing saved');
    }
    const never = await post('/index.php?view=admin', { stale_days: '0', notify_email: 'on' }, admin);
    assert.equal(never.status, 303);
    assert.equal(staleDays(app.db), 0);
    const audit = recentAuditRows(app.db, 20).find((r) => r.action === 'admin.settings')!;
    assert.deepEqual(JSON.parse(audit.details!).staleDays, { from: 14, to: 0 });
    saveStaleDays(app.db, 7);
  });

  test('staff mark a ticket "keep open" on its page (audited, flash); a player cannot', async () => {
    const id = waitingTicket(Date.now());
    const support = new Client(app.url);
    await support.login('support');
    const page = await support.get(`/index.php?view=ticket&id=${id}`);
    assert.match(page.text, /data-staff-form="keep_open"/);
    const kept = await post(`/index.php?view=ticket&action=keep_open&id=${id}`, { keep_open: '1' }, support);
    assert.equal(kept.status, 303);
    const after = await support.get(`/index.php?view=ticket&id=${id}`);
    assert.match(after.text, /Kept open: this ticket is not closed for waiting on the player/);
    assert.match(after.text, /data-kept-open/);
    assert.match(after.text, /name="keep_open" value="0"/);
    assert.equal(auditOf(id, 'ticket.keep_open').length, 1);
    assert.equal((await post(`/index.php?view=ticket&action=keep_open&id=${id}`, { keep_open: 'yes' }, support)).status, 422);
    const owner = new Client(app.url);
    await owner.login('forgetful');
    assert.equal((await owner.get(`/index.php?view=ticket&id=${id}`)).text.includes('data-staff-form="keep_open"'), false);
    assert.equal((await post(`/index.php?view=ticket&action=keep_open&id=${id}`, { keep_open: '0' }, owner)).status, 403);
    assert.equal(auditOf(id, 'ticket.keep_open').length, 1);
  });
});
