// Seed 000, line by line, through the real app over HTTP: create, list, ticket page, replies,
// close, the attention badge and access to other people's tickets.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { recentAuditRows } from '../../src/db/audit.js';
import { prepared } from '../../src/db/index.js';
import { ticketById, updateTicketStatus } from '../../src/db/tickets.js';
import type { User } from '../../src/db/users.js';
import type { Priority, Status } from '../../src/tickets/model.js';
import { createWebTicket } from '../../src/tickets/service.js';
import { translator } from '../../src/i18n/index.js';
import { addUser, Client, csrfFrom, listedTickets, PNG_BYTES, startApp, uploadedFiles, waitingBadge, type TestApp } from '../helpers/app.js';

const en = translator('en');

let app: TestApp;
let alice: User;
let bob: User;
let staff: User;
let aliceClient: Client;
let bobClient: Client;

before(async () => {
  app = await startApp({ env: { TZ: 'Europe/Berlin' } });
  alice = await addUser(app.db, 'alice');
  bob = await addUser(app.db, 'bob');
  staff = await addUser(app.db, 'sam', 'correct horse battery', 'staff');
  aliceClient = new Client(app.url);
  await aliceClient.login('alice');
  bobClient = new Client(app.url);
  await bobClient.login('bob');
});
after(() => app.close());

function makeTicket(user: User, subject: string, options: { body?: string; status?: Status; priority?: Priority; at?: number } = {}): number {
  const at = options.at ?? Date.now();
  const id = createWebTicket(app.db, { user, subject, body: options.body ?? `About ${subject}`, priority: options.priority ?? 'normal', uploads: [] }, { ip: null }, at);
  if (options.status && options.status !== 'open') updateTicketStatus(app.db, id, options.status, at);
  return id;
}

function ticketCount(): number {
  return (prepared(app.db, 'SELECT COUNT(*) AS n FROM tickets').get() as { n: number }).n;
}
function messageCount(ticketId: number): number {
  return (prepared(app.db, "SELECT COUNT(*) AS n FROM messages WHERE ticket_id = ? AND author_kind <> 'system'").get(ticketId) as { n: number }).n;
}

async function csrfOf(client: Client, path = '/index.php?view=tickets'): Promise<string> {
  return csrfFrom((await client.get(path)).text)!;
}

describe('create a ticket (seed 000 § Create a ticket)', () => {
  test('the tickets list has a "Create ticket" button leading to the form', async () => {
    const list = await aliceClient.get('/index.php?view=tickets');
    assert.match(list.text, /<a class="button button-primary" href="\/index.php\?view=ticket_create">Create ticket<\/a>/);
    const form = await aliceClient.get('/index.php?view=ticket_create');
    assert.equal(form.status, 200);
    assert.match(form.text, /enctype="multipart\/form-data"/);
    for (const field of ['subject', 'message', 'priority', 'attachments', '_csrf']) assert.match(form.text, new RegExp(`name="${field}"`), field);
    assert.match(form.text, /<option value="normal" selected>Normal<\/option>/, 'normal is the default priority, its label translated');
    assert.match(form.text, /<input id="subject"[^>]*data-draft="create"/, 'the drafts script keeps the subject');
    assert.match(form.text, /<textarea id="message"[^>]*data-draft="create"/, 'the drafts script keeps the message');
    for (const label of ['Subject', 'Priority', 'Message', 'Attachments']) assert.match(form.text, new RegExp(`<label for="[a-z]+">${label}`), `label ${label}`);
  });

  test('submit: 303 to the new ticket, which shows status open; ticket, message, files and audit in place', async () => {
    const _csrf = await csrfOf(aliceClient, '/index.php?view=ticket_create');
    const reply = await aliceClient.postMultipart(
      '/index.php?view=ticket_create',
      { _csrf, subject: '  Lost   my sword  ', message: 'It vanished after the update.\nPlease help.', priority: 'urgent' },
      [{ name: 'screenshot.png', content: PNG_BYTES, type: 'image/png' }],
    );
    assert.equal(reply.status, 303);
    const id = Number(/view=ticket&id=(\d+)$/.exec(reply.location ?? '')?.[1]);
    assert.ok(id > 0, reply.location ?? '');
    const ticket = ticketById(app.db, id)!;
    assert.equal(ticket.subject, 'Lost my sword');
    assert.equal(ticket.status, 'open');
    assert.equal(ticket.priority, 'urgent');
    assert.equal(ticket.userId, alice.id);
    assert.equal(ticket.messageCount, 1);

    const page = await aliceClient.get(reply.location!);
    assert.match(page.text, new RegExp(`<main class="content" id="main" data-ticket-id="${id}" data-status="open" data-priority="urgent">`));
    assert.match(page.text, new RegExp(`<div class="flash-region" role="status" aria-live="polite"><p class="flash flash-info" data-flash>Ticket #${id} created. Support will answer here.</p></div>`), 'the flash says it in the live region');
    assert.doesNotMatch((await aliceClient.get(reply.location!)).text, /data-flash/, 'the flash is said once');
    assert.match(page.text, /It vanished after the update.\nPlease help./);
    assert.match(page.text, /screenshot.png<\/a>/);
    const audit = recentAuditRows(app.db, 50).find((row) => row.action === 'ticket.create' && row.ticketId === id);
    assert.ok(audit);
    assert.equal(audit.actorId, alice.id);

    const list = await aliceClient.get('/index.php?view=tickets');
    assert.deepEqual(listedTickets(list.text).find((row) => row.id === id), { id, status: 'open' });
  });

  test('priority defaults to normal when left out', async () => {
    const _csrf = await csrfOf(aliceClient);
    const reply = await aliceClient.postMultipart('/index.php?view=ticket_create', { _csrf, subject: 'No priority', message: 'text' });
    assert.equal(reply.status, 303);
    assert.equal(ticketById(app.db, Number(/id=(\d+)/.exec(reply.location!)![1]))!.priority, 'normal');
  });

  test('validation errors: 422, the form again with the input kept and a message per field, nothing stored', async () => {
    const before = ticketCount();
    const files = uploadedFiles(app.config.uploadsDir).length;
    const _csrf = await csrfOf(aliceClient);
    const reply = await aliceClient.postMultipart(
      '/index.php?view=ticket_create',
      { _csrf, subject: '   ', message: 'My <b>detailed</b> message', priority: 'critical' },
      [{ name: 'a.png', content: PNG_BYTES }],
    );
    assert.equal(reply.status, 422);
    assert.match(reply.text, /id="subject-error">Subject is required</);
    assert.match(reply.text, /id="priority-error">Choose a priority from the list.</);
    assert.match(reply.text, /My &lt;b&gt;detailed&lt;\/b&gt; message<\/textarea>/, 'the message is kept, escaped');
    assert.match(reply.text, /Attach your files again/);
    assert.equal(ticketCount(), before);
    assert.equal(uploadedFiles(app.config.uploadsDir).length, files, 'no orphan file');

    const tooLong = await aliceClient.postMultipart('/index.php?view=ticket_create', { _csrf, subject: 'x'.repeat(201), message: '' });
    assert.equal(tooLong.status, 422);
    assert.match(tooLong.text, /id="subject-error">Subject must be at most 200 characters</);
    assert.match(tooLong.text, /id="message-error">Message is required</);
    assert.equal(ticketCount(), before);
  });

  test('without the CSRF token: 403, nothing stored, the uploaded file removed', async () => {
    const before = ticketCount();
    const files = uploadedFiles(app.config.uploadsDir).length;
    const reply = await aliceClient.postMultipart('/index.php?view=ticket_create', { subject: 'CSRF', message: 'x' }, [{ name: 'a.png', content: PNG_BYTES }]);
    assert.equal(reply.status, 403);
    assert.equal(ticketCount(), before);
    assert.equal(uploadedFiles(app.config.uploadsDir).length, files);
  });

  test('an unexpected form field is a 400 and stores nothing', async () => {
    const before = ticketCount();
    const _csrf = await csrfOf(aliceClient);
    const reply = await aliceClient.postMultipart('/index.php?view=ticket_create', { _csrf, subject: 's', message: 'm', status: 'closed' });
    assert.equal(reply.status, 400);
    assert.match(reply.text, /Unexpected form field: status/);
    assert.equal(ticketCount(), before);
  });

  test('a URL-encoded form without files works too', async () => {
    const _csrf = await csrfOf(aliceClient);
    const reply = await aliceClient.post('/index.php?view=ticket_create', { _csrf, subject: 'Plain form', message: 'No files', priority: 'low' });
    assert.equal(reply.status, 303);
  });

  test('XSS in subject and message is shown as text on the list and the ticket page', async () => {
    const _csrf = await csrfOf(aliceClient);
    const payload = '<script>alert(1)</script><img src=x onerror=alert(2)>"\'';
    const reply = await aliceClient.postMultipart('/index.php?view=ticket_create', { _csrf, subject: payload, message: `${payload}\njavascript:alert(3) [x](javascript:alert(4))` });
    assert.equal(reply.status, 303);
    for (const page of [await aliceClient.get(reply.location!), await aliceClient.get('/index.php?view=tickets')]) {
      assert.doesNotMatch(page.text, /<script>alert|<img src=x/);
      assert.match(page.text, /&lt;script&gt;alert\(1\)&lt;\/script&gt;&lt;img src=x onerror=alert\(2\)&gt;&#34;&#39;/);
      assert.doesNotMatch(page.text, /href="javascript:/i);
    }
  });
});

describe('tickets list (seed 000 § Tickets list)', () => {
  let owner: User;
  let client: Client;
  const ids: Record<string, number> = {};

  before(async () => {
    owner = await addUser(app.db, 'lister');
    client = new Client(app.url);
    await client.login('lister');
    // Berlin is UTC+1 in late October after the DST change (2025-10-26).
    ids.lateOn28 = makeTicket(owner, 'Created 2025-10-28 23:30 Berlin', { at: Date.UTC(2025, 9, 28, 22, 30) });
    ids.earlyOn29 = makeTicket(owner, 'Created 2025-10-29 00:30 Berlin', { at: Date.UTC(2025, 9, 28, 23, 30) });
    ids.on30 = makeTicket(owner, 'Created 2025-10-30 Berlin', { at: Date.UTC(2025, 9, 30, 12, 0), status: 'waiting_user' });
    ids.closed = makeTicket(owner, 'An old closed one', { at: Date.UTC(2025, 9, 1, 12, 0), status: 'closed' });
    ids.progress = makeTicket(owner, 'Being worked on', { at: Date.UTC(2025, 10, 2, 12, 0), status: 'in_progress', priority: 'high' });
    makeTicket(bob, 'Bob private ticket');
  });

  test('columns in order, one row per ticket with the test hooks, newest activity first, closed hidden by default', async () => {
    const page = await client.get('/index.php?view=tickets');
    const headers = [...page.text.matchAll(/<th scope="col"[^>]*>([^<]*)<\/th>/g)].map((m) => m[1]);
    assert.deepEqual(headers, ['#', 'Subject', 'Status', 'Priority', 'Messages', 'Created', 'Updated']);
    assert.deepEqual(listedTickets(page.text), [
      { id: ids.progress!, status: 'in_progress' },
      { id: ids.on30!, status: 'waiting_user' },
      { id: ids.earlyOn29!, status: 'open' },
      { id: ids.lateOn28!, status: 'open' },
    ]);
    assert.match(page.text, /<option value="" selected>All except closed<\/option>/);
    assert.match(page.text, /class="tag status status-in_progress"[^>]*>In progress</, 'statuses read as labels');
    assert.match(page.text, /class="tag priority priority-high"[^>]*>High</);
    assert.match(page.text, /<option value="waiting_user">Waiting for you<\/option>/, 'status options show labels, values stay stored values');
    assert.match(page.text, new RegExp(`<tr data-ticket-id="${ids.on30}" data-status="waiting_user" data-href="[^"]+" class=row-attention>`), 'waiting_user rows are highlighted');
    assert.match(page.text, /<time datetime="2025-10-28T22:30:00.000Z">Oct 28, 2025, 11:30 PM GMT\+1<\/time>/, 'times in the app time zone, with the zone');
    assert.doesNotMatch(page.text, /Bob private ticket/);
  });

  test('status filter: All, one status, and a bad value', async () => {
    const all = await client.get('/index.php?view=tickets&status=all');
    assert.equal(listedTickets(all.text).length, 5);
    assert.match(all.text, /<option value="all" selected>All<\/option>/);
    const closed = await client.get('/index.php?view=tickets&status=closed');
    assert.deepEqual(listedTickets(closed.text), [{ id: ids.closed!, status: 'closed' }]);
    const bad = await client.get('/index.php?view=tickets&status=lost');
    assert.equal(bad.status, 400);
    assert.match(bad.text, /Choose a status from the list./);
  });

  test('Date from / Date to are whole days on creation time, inclusive, in TZ', async () => {
    const on29 = await client.get('/index.php?view=tickets&status=all&date_from=2025-10-29&date_to=2025-10-29');
    assert.deepEqual(listedTickets(on29.text).map((r) => r.id), [ids.earlyOn29]);
    const upTo28 = await client.get('/index.php?view=tickets&status=all&date_to=2025-10-28');
    assert.deepEqual(listedTickets(upTo28.text).map((r) => r.id).sort(), [ids.closed, ids.lateOn28].sort());
    const from30 = await client.get('/index.php?view=tickets&status=all&date_from=2025-10-30');
    assert.deepEqual(listedTickets(from30.text).map((r) => r.id).sort(), [ids.on30, ids.progress].sort());
    assert.match(from30.text, /name="date_from" value="2025-10-30"/, 'the filter is shown in the form');
  });

  test('bad dates are a 400 with a message naming the field', async () => {
    for (const [query, message] of [
      ['date_from=2025-02-30', /Date from must be a date like 2025-10-29/],
      ['date_to=yesterday', /Date to must be a date like 2025-10-29/],
      ['date_from=2025-10-30&date_to=2025-10-01', /Date to must not be before Date from/],
      ['page=0', /Page must be a number/],
      ['page=-3', /Page must be a number/],
      ['status=open&status=closed', /must be given once/],
    ] as const) {
      const reply = await client.get(`/index.php?view=tickets&${query}`);
      assert.equal(reply.status, 400, query);
      assert.match(reply.text, message, query);
    }
  });

  test('the Messages column counts the conversation', async () => {
    const page = await client.get('/index.php?view=tickets');
    const row = new RegExp(`<tr data-ticket-id="${ids.progress}"[\\s\\S]*?data-label="Messages">(\\d+)<`).exec(page.text);
    assert.equal(row?.[1], '1');
  });

  test('empty states say which filter hides tickets', async () => {
    const none = await client.get('/index.php?view=tickets&q=nothing-matches-this');
    assert.match(none.text, /No tickets match status “All except closed” \(closed tickets are hidden\) and search “nothing-matches-this”/);
    assert.match(none.text, /<a href="\/index.php\?view=tickets&amp;status=all">Show all tickets<\/a>/);

    const onlyClosed = await addUser(app.db, 'closer');
    makeTicket(onlyClosed, 'Done and dusted', { status: 'closed' });
    const c = new Client(app.url);
    await c.login('closer');
    const hidden = await c.get('/index.php?view=tickets');
    assert.match(hidden.text, /status “All except closed” \(closed tickets are hidden\)/);

    const fresh = await addUser(app.db, 'newcomer');
    void fresh;
    const n = new Client(app.url);
    await n.login('newcomer');
    const empty = (await n.get('/index.php?view=tickets')).text;
    assert.match(empty, /<h2 id="empty-title">You have no tickets yet.<\/h2>/);
    assert.match(empty, /A ticket is a private conversation with Support about a problem with your account, a payment, a bug/, 'it says what a ticket is for');
    assert.match(empty, /<section class="card empty-state"[\s\S]*<a class="button button-primary" href="\/index.php\?view=ticket_create">Create ticket<\/a>[\s\S]*<\/section>/, 'and how to open one');
    assert.doesNotMatch(empty, /<table/, 'no empty table');
  });

  test('a row links to its ticket (and the row click target is the ticket page)', async () => {
    const page = await client.get('/index.php?view=tickets');
    assert.match(page.text, new RegExp(`data-href="/index.php\\?view=ticket&amp;id=${ids.progress}"`));
    assert.match(page.text, new RegExp(`<a href="/index.php\\?view=ticket&amp;id=${ids.progress}" dir="auto">Being worked on</a>`));
    // One tab stop per row: the subject is the row's only link (the #id is text).
    for (const row of page.text.matchAll(/<tr data-ticket-id="(\d+)"[\s\S]*?<\/tr>/g)) {
      assert.equal([...row[0].matchAll(/<a /g)].length, 1, `row ${row[1]}`);
      assert.match(row[0], new RegExp(`<td class="num cell-id" data-label="#">#${row[1]}</td>`));
    }
  });

  test('each row says whose turn it is', async () => {
    const page = await client.get('/index.php?view=tickets&status=all');
    const turn = (id: number) => new RegExp(`<tr data-ticket-id="${id}"[\\s\\S]*?<span class="turn">([^<]*)</span>`).exec(page.text)?.[1];
    assert.equal(turn(ids.on30!), 'Your turn: Support needs your answer.');
    assert.equal(turn(ids.progress!), 'Support is working on it.');
    assert.equal(turn(ids.lateOn28!), 'Waiting for Support.');
    assert.equal(turn(ids.closed!), 'Closed: nothing more to do.');
  });

  test('paging: 50 a page, filters kept in the page links', async () => {
    const many = await addUser(app.db, 'many');
    const base = Date.UTC(2025, 0, 1);
    for (let i = 0; i < 53; i += 1) makeTicket(many, `Bulk ticket ${i}`, { at: base + i * 60_000 });
    const c = new Client(app.url);
    await c.login('many');
    const first = await c.get('/index.php?view=tickets&q=Bulk');
    const rows = listedTickets(first.text);
    assert.equal(rows.length, 50);
    assert.match(first.text, /Showing 1–50 of 53 tickets/);
    assert.match(first.text, /Page 1 of 2/);
    assert.match(first.text, /href="\/index.php\?view=tickets&amp;q=Bulk&amp;page=2" rel="next"/);
    const second = await c.get('/index.php?view=tickets&q=Bulk&page=2');
    const rest = listedTickets(second.text);
    assert.equal(rest.length, 3);
    assert.equal(new Set([...rows, ...rest].map((r) => r.id)).size, 53, 'no ticket on two pages');
    assert.match(second.text, /rel="prev"/);
    const beyond = await c.get('/index.php?view=tickets&page=9');
    assert.equal(beyond.status, 200);
    assert.match(beyond.text, /There is no page 9; the list has 2 pages./);
  });
});

describe('ticket page and replies (seed 000 § Ticket page, § Status transition on user reply)', () => {
  test('the conversation shows author, time and text with line breaks; only http(s) links are links', async () => {
    const id = makeTicket(alice, 'Links', { body: 'See https://example.org/help?a=1&b=2.\nNot this: javascript:alert(1)\n<a href="javascript:alert(2)">x</a>' });
    const page = await aliceClient.get(`/index.php?view=ticket&id=${id}`);
    assert.equal(page.status, 200);
    assert.match(page.text, /<strong class="author" dir="auto">alice<\/strong>/);
    assert.match(page.text, /<time class="muted" datetime="\d{4}-\d\d-\d\dT[^"]+">[^<]*\d{4}[^<]*\d:\d\d[^<]*<\/time>/);
    assert.match(page.text, /<a href="https:\/\/example.org\/help\?a=1&amp;b=2" rel="noopener noreferrer nofollow" target="_blank">https:\/\/example.org\/help\?a=1&amp;b=2<\/a>\.\n/);
    assert.doesNotMatch(page.text, /href="javascript/i);
    assert.match(page.text, /&lt;a href=&quot;javascript:alert\(2\)&quot;&gt;x&lt;\/a&gt;/);
  });

  const transitions: [Status, Status][] = [
    ['waiting_user', 'answered'],
    ['open', 'open'],
    ['in_progress', 'in_progress'],
    ['answered', 'answered'],
  ];
  for (const [from, to] of transitions) {
    test(`a reply to a ${from} ticket leaves it ${to}`, async () => {
      const id = makeTicket(alice, `Transition from ${from}`, { status: from, at: Date.now() - 60_000 });
      const before = ticketById(app.db, id)!;
      const _csrf = await csrfOf(aliceClient, `/index.php?view=ticket&id=${id}`);
      const reply = await aliceClient.postMultipart(`/index.php?view=ticket&id=${id}&action=reply`, { _csrf, message: `Reply while ${from}` }, [{ name: 'r.txt', content: 'log line\n' }]);
      assert.equal(reply.status, 303);
      assert.match(reply.location!, new RegExp(`view=ticket&id=${id}#message-\\d+$`));
      const after = ticketById(app.db, id)!;
      assert.equal(after.status, to);
      assert.equal(after.messageCount, 2);
      assert.ok(after.updatedAt > before.updatedAt, 'newest activity moves up');
      const page = await aliceClient.get(`/index.php?view=ticket&id=${id}`);
      assert.match(page.text, new RegExp(`data-status="${to}"`));
      assert.match(page.text, new RegExp(`Reply while ${from}`));
      assert.match(page.text, /r.txt<\/a>/);
      if (from !== to) assert.match(page.text, new RegExp(`Status changed from ${en.status(from)} to ${en.status(to)} by alice\\.`));
      assert.ok(recentAuditRows(app.db, 20).some((row) => row.action === 'ticket.reply' && row.ticketId === id));
    });
  }

  test('an empty reply is a 422 with the form again; nothing stored', async () => {
    const id = makeTicket(alice, 'Empty reply');
    const _csrf = await csrfOf(aliceClient, `/index.php?view=ticket&id=${id}`);
    const reply = await aliceClient.postMultipart(`/index.php?view=ticket&id=${id}&action=reply`, { _csrf, message: '  \n ' });
    assert.equal(reply.status, 422);
    assert.match(reply.text, /id="message-error">Fill this in\.</);
    assert.equal(messageCount(id), 1);
  });

  test('Close: 303, status closed, a system line, an audit row; a closed ticket has no reply form and refuses replies (409)', async () => {
    const id = makeTicket(alice, 'Please close');
    const _csrf = await csrfOf(aliceClient, `/index.php?view=ticket&id=${id}`);
    const closed = await aliceClient.post(`/index.php?view=ticket&id=${id}&action=close`, { _csrf });
    assert.equal(closed.status, 303);
    assert.equal(ticketById(app.db, id)!.status, 'closed');
    assert.ok(ticketById(app.db, id)!.closedAt);
    const page = await aliceClient.get(`/index.php?view=ticket&id=${id}`);
    assert.match(page.text, /data-status="closed"/);
    assert.doesNotMatch(page.text, /action=reply/);
    assert.doesNotMatch(page.text, />Close<\/button>/);
    assert.match(page.text, /Ticket closed by alice\./);
    assert.match(page.text, /This ticket is closed/);
    assert.ok(recentAuditRows(app.db, 20).some((row) => row.action === 'ticket.close' && row.ticketId === id));

    const files = uploadedFiles(app.config.uploadsDir).length;
    const refused = await aliceClient.postMultipart(`/index.php?view=ticket&id=${id}&action=reply`, { _csrf, message: 'one more thing' }, [{ name: 'late.png', content: PNG_BYTES }]);
    assert.equal(refused.status, 409);
    assert.match(refused.text, /This ticket was closed, so it takes no more replies\. Your text was not sent/);
    assert.match(refused.text, /<textarea id="kept-message" [^>]*readonly[^>]*>one more thing<\/textarea>/, 'the text is kept');
    assert.equal(messageCount(id), 1);
    assert.equal(uploadedFiles(app.config.uploadsDir).length, files, 'the late file is removed');

    const again = await aliceClient.post(`/index.php?view=ticket&id=${id}&action=close`, { _csrf });
    assert.equal(again.status, 303, 'closing twice is harmless');
  });

  test('an unknown action is a 400', async () => {
    const id = makeTicket(alice, 'Actions');
    const _csrf = await csrfOf(aliceClient, `/index.php?view=ticket&id=${id}`);
    const reply = await aliceClient.post(`/index.php?view=ticket&id=${id}&action=delete`, { _csrf });
    assert.equal(reply.status, 400);
    assert.match(reply.text, /This page has no action “delete”/);
    const none = await aliceClient.post(`/index.php?view=ticket&id=${id}`, { _csrf });
    assert.equal(none.status, 400);
  });
});

describe('attention indicator (seed 000 § Attention indicators)', () => {
  test('the badge counts the player’s waiting_user tickets on every page, and only theirs', async () => {
    const player = await addUser(app.db, 'badged');
    const client = new Client(app.url);
    await client.login('badged');
    assert.equal(waitingBadge((await client.get('/index.php?view=tickets')).text), 0);
    const a = makeTicket(player, 'Needs answer 1', { status: 'waiting_user' });
    makeTicket(player, 'Needs answer 2', { status: 'waiting_user' });
    makeTicket(player, 'Open one');
    makeTicket(bob, 'Bob waits', { status: 'waiting_user' });
    for (const path of ['/index.php?view=tickets', '/index.php?view=ticket_create', `/index.php?view=ticket&id=${a}`, '/index.php?view=nope']) {
      const page = await client.get(path);
      assert.equal(waitingBadge(page.text), 2, path);
      assert.match(page.text, /class="badge has-items" data-waiting-count="2"/, path);
    }
    const _csrf = await csrfOf(client, `/index.php?view=ticket&id=${a}`);
    await client.postMultipart(`/index.php?view=ticket&id=${a}&action=reply`, { _csrf, message: 'Here you go' });
    assert.equal(waitingBadge((await client.get('/index.php?view=tickets')).text), 1);
  });

  test('the badge uses an index, not a scan', () => {
    const plan = prepared(app.db, "EXPLAIN QUERY PLAN SELECT COUNT(*) AS n FROM tickets WHERE user_id = ? AND status = 'waiting_user'").all(1) as { detail: string }[];
    const detail = plan.map((p) => p.detail).join('\n');
    assert.match(detail, /SEARCH tickets USING (COVERING )?INDEX/);
    assert.doesNotMatch(detail, /SCAN/);
  });
});

describe('access: tickets are limited to their owner (seed 000 § Security & privacy)', () => {
  test('another player’s ticket is a 404 for GET and every POST, nothing changes, and refusals are audited', async () => {
    const id = makeTicket(alice, 'Alice only', { status: 'waiting_user' });
    const before = ticketById(app.db, id)!;
    const page = await bobClient.get(`/index.php?view=ticket&id=${id}`);
    assert.equal(page.status, 404);
    assert.doesNotMatch(page.text, /Alice only/);
    const _csrf = await csrfOf(bobClient);
    const reply = await bobClient.postMultipart(`/index.php?view=ticket&id=${id}&action=reply`, { _csrf, message: 'hijack' }, [{ name: 'x.png', content: PNG_BYTES }]);
    assert.equal(reply.status, 404);
    const close = await bobClient.post(`/index.php?view=ticket&id=${id}&action=close`, { _csrf });
    assert.equal(close.status, 404);
    assert.deepEqual(ticketById(app.db, id), before);
    assert.equal(messageCount(id), 1);
    const refusals = recentAuditRows(app.db, 30).filter((row) => row.action === 'ticket.access_refused' && row.ticketId === id && row.actorId === bob.id);
    assert.equal(refusals.length, 3);
  });

  test('a missing ticket looks exactly like someone else’s', async () => {
    const id = makeTicket(alice, 'Exists');
    const other = await bobClient.get(`/index.php?view=ticket&id=${id}`);
    const missing = await bobClient.get('/index.php?view=ticket&id=987654321');
    assert.equal(other.status, 404);
    assert.equal(missing.status, 404);
    assert.equal(other.text.replace(/value="[^"]+"/g, ''), missing.text.replace(/value="[^"]+"/g, ''));
  });

  test('odd ids are a 404, never a 500', async () => {
    for (const id of ['-1', '0', 'abc', '1e3', '99999999999999999999', '1.5', '', '%00']) {
      const reply = await aliceClient.get(`/index.php?view=ticket&id=${id}`);
      assert.equal(reply.status, 404, `id=${id}`);
    }
  });

  test('replies and closes without the CSRF token are refused and change nothing', async () => {
    const id = makeTicket(alice, 'CSRF target');
    assert.equal((await aliceClient.postMultipart(`/index.php?view=ticket&id=${id}&action=reply`, { message: 'forged' })).status, 403);
    assert.equal((await aliceClient.post(`/index.php?view=ticket&id=${id}&action=close`, {})).status, 403);
    assert.equal(ticketById(app.db, id)!.status, 'open');
    assert.equal(messageCount(id), 1);
  });

  test('staff see any ticket; a staff member is not the owner who replies here', async () => {
    const id = makeTicket(alice, 'Staff can read');
    const staffClient = new Client(app.url);
    await staffClient.login('sam');
    const page = await staffClient.get(`/index.php?view=ticket&id=${id}`);
    assert.equal(page.status, 200);
    assert.match(page.text, /Staff can read/);
    const list = await staffClient.get('/index.php?view=tickets');
    assert.ok(listedTickets(list.text).some((row) => row.id === id));
    void staff;
  });
});

describe('the list and the create page in the reader’s language (issue #16)', () => {
  test('Accept-Language: es gives a Spanish list; ?lang=th sets the cookie that later pages follow', async () => {
    const polyglot = await addUser(app.db, 'polyglot');
    makeTicket(polyglot, 'Mi espada desapareció', { status: 'waiting_user' });
    const c = new Client(app.url);
    await c.login('polyglot');

    const es = await c.get('/index.php?view=tickets', { 'accept-language': 'es-MX,es;q=0.9,en;q=0.5' });
    assert.match(es.text, /<html lang="es">/);
    assert.match(es.text, /<a class="button button-primary" href="\/index.php\?view=ticket_create">Crear ticket<\/a>/);
    assert.match(es.text, /<th scope="col">Asunto<\/th>/);
    assert.match(es.text, /<option value="" selected>Todos menos cerrados<\/option>/);
    assert.match(es.text, /<span class="turn">Te toca a ti: Soporte necesita tu respuesta.<\/span>/);
    assert.match(es.text, /Mostrando 1–1 de 1 ticket</, 'the pager in Spanish, singular');
    assert.match(es.text, /<span class="visually-hidden">1 ticket esperando tu respuesta<\/span>/, 'the badge’s meaning in Spanish');
    assert.doesNotMatch(es.text, />(Subject|Status|Create ticket|All except closed|Filter|Reset)</, 'none of the list’s English words');

    const th = await c.get('/index.php?view=tickets&lang=th', { 'accept-language': 'es' });
    assert.match(th.text, /<html lang="th">/);
    assert.match(th.headers.get('set-cookie') ?? '', /tb_lang=th/);
    assert.match(th.text, />สร้างทิกเก็ต</);
    // The cookie wins over the browser's Accept-Language on the pages that follow.
    const later = await c.get('/index.php?view=ticket_create', { 'accept-language': 'es' });
    assert.match(later.text, /<html lang="th">/);
    assert.match(later.text, /<h1>สร้างทิกเก็ต<\/h1>/);
    assert.match(later.text, /<label for="subject">หัวข้อ<\/label>/);
  });

  test('Russian plurals in the pager and the badge; create errors in the page’s language', async () => {
    const russian = await addUser(app.db, 'russian');
    for (let i = 0; i < 3; i += 1) makeTicket(russian, `Тикет ${i}`, { status: 'waiting_user' });
    const c = new Client(app.url);
    await c.login('russian');
    const list = await c.get('/index.php?view=tickets&lang=ru');
    assert.match(list.text, /Показаны 1–3 из 3 тикетов/);
    assert.match(list.text, /3 тикета ждут вашего ответа/);
    assert.match(list.text, /<span class="label"><span class="visually-hidden">Вы вошли как <\/span><bdi dir="auto">russian<\/bdi> · Игрок<\/span>/, 'the role name is translated');
    const _csrf = await csrfOf(c, '/index.php?view=ticket_create');
    const reply = await c.postMultipart('/index.php?view=ticket_create', { _csrf, subject: 'x'.repeat(201), message: ' ' });
    assert.equal(reply.status, 422);
    assert.match(reply.text, /id="subject-error">Тема — не длиннее 200 символов</);
    assert.match(reply.text, /id="message-error">Напишите сообщение</);
  });

  test('a visitor’s language menu: this page again with ?lang=, the current one marked', async () => {
    const visitor = new Client(app.url);
    const page = await visitor.get('/index.php?view=login', { 'accept-language': 'pt-BR' });
    assert.match(page.text, /<html lang="pt-BR">/);
    const menu = /<nav class="language-menu" aria-label="Idioma">([\s\S]*?)<\/nav>/.exec(page.text)?.[1] ?? '';
    const links = [...menu.matchAll(/<a href="([^"]+)" lang="([^"]+)" hreflang="([^"]+)"( aria-current="true")?>([^<]+)<\/a>/g)];
    assert.deepEqual(links.map((l) => l[2]).sort(), ['en', 'es', 'id', 'pt-BR', 'ru', 'th']);
    for (const l of links) {
      assert.equal(l[3], l[2]);
      assert.equal(l[1], `/index.php?view=login&amp;lang=${l[2]}`);
      assert.equal(l[4] !== undefined, l[2] === 'pt-BR', `${l[2]} is the current one only when it is`);
    }
    assert.ok(links.some((l) => l[5] === 'Русский' || l[5] === 'русский'), 'each language under its own name');
    const chosen = await visitor.get('/index.php?view=login&lang=id');
    assert.match(chosen.text, /<html lang="id">/);
    assert.match(chosen.text, /<a href="\/index.php\?view=login&amp;lang=id" lang="id" hreflang="id" aria-current="true">/);
  });
});
