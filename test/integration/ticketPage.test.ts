// The ticket page finished like a product (issue #16): a flash message after every action, the new
// message highlighted, staff errors next to their form, typed text kept after a 409 or a stale
// form token, "Assign to me", and the page in the reader's language.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { prepared } from '../../src/db/index.js';
import { ticketById } from '../../src/db/tickets.js';
import type { User } from '../../src/db/users.js';
import { closeTicket, createWebTicket } from '../../src/tickets/service.js';
import { addUser, Client, csrfFrom, PNG_BYTES, startApp, uploadedFiles, type TestApp } from '../helpers/app.js';

let app: TestApp;
let player: User;
let staffUser: User;
let playerClient: Client;
let staffClient: Client;

before(async () => {
  app = await startApp();
  player = await addUser(app.db, 'pia');
  staffUser = await addUser(app.db, 'sam', 'correct horse battery', 'staff');
  playerClient = new Client(app.url);
  await playerClient.login('pia');
  staffClient = new Client(app.url);
  await staffClient.login('sam');
});
after(() => app.close());

const makeTicket = (subject: string) => createWebTicket(app.db, { user: player, subject, body: `Body of ${subject}`, priority: 'normal', uploads: [] }, { ip: null });
const ticketUrl = (id: number) => `/index.php?view=ticket&id=${id}`;
const flashOf = (html: string) => /<p class="flash flash-(\w+)" data-flash>([^<]*)<\/p>/.exec(html)?.slice(1);
const storedMessages = (id: number) => (prepared(app.db, 'SELECT COUNT(*) AS n FROM messages WHERE ticket_id = ?').get(id) as { n: number }).n;

async function post(client: Client, id: number, action: string, fields: Record<string, string>) {
  const _csrf = csrfFrom((await client.get(ticketUrl(id))).text)!;
  return client.post(`${ticketUrl(id)}&action=${action}`, { _csrf, ...fields });
}

describe('flash messages after every action on the ticket page', () => {
  test('a reply: the flash names the highlighted message, once; the next page has none', async () => {
    const id = makeTicket('Flash on reply');
    const _csrf = csrfFrom((await playerClient.get(ticketUrl(id))).text)!;
    const sent = await playerClient.postMultipart(`${ticketUrl(id)}&action=reply`, { _csrf, message: 'Here is more' });
    assert.equal(sent.status, 303);
    const target = /#message-(\d+)$/.exec(sent.location!)?.[1];
    assert.ok(target, sent.location!);
    const page = await playerClient.get(sent.location!);
    assert.deepEqual(flashOf(page.text), ['info', 'Reply sent. It is highlighted below.']);
    assert.match(page.text, /<div class="flash-region" role="status" aria-live="polite">/);
    assert.match(page.text, new RegExp(`<li class="message message-player" id="message-${target}">[\\s\\S]*?Here is more`), 'the redirect points at the new message');
    assert.equal(flashOf((await playerClient.get(ticketUrl(id))).text), undefined, 'shown once');
  });

  test('close, status, priority, assign, unassign, note and reopen each say what they did', async () => {
    const id = makeTicket('Flash on staff changes');
    const steps: [string, Record<string, string>, string][] = [
      ['status', { status: 'in_progress' }, 'Status set to In progress.'],
      ['priority', { priority: 'urgent' }, 'Priority set to Urgent.'],
      ['assign', { assignee: String(staffUser.id) }, 'Assigned to sam.'],
      ['assign', { assignee: '' }, 'Unassigned: nobody has the ticket now.'],
      ['status', { status: 'waiting_user' }, 'Status set to Waiting for the player.'],
      ['note', { note: 'Checked the logs' }, 'Note added. It is highlighted below.'],
      ['close', {}, 'Ticket closed.'],
      ['status', { status: 'open' }, 'Ticket reopened.'],
    ];
    for (const [action, fields, text] of steps) {
      const reply = await post(staffClient, id, action, fields);
      assert.equal(reply.status, 303, `${action}: ${reply.status}`);
      if (action === 'note') assert.match(reply.location!, /#message-\d+$/);
      const page = await staffClient.get(reply.location!);
      assert.deepEqual(flashOf(page.text), ['info', text], action);
      assert.equal(flashOf((await staffClient.get(ticketUrl(id))).text), undefined, `${action}: shown once`);
    }
    const closed = await post(playerClient, makeTicket('Player closes'), 'close', {});
    assert.deepEqual(flashOf((await playerClient.get(closed.location!)).text), ['info', 'Ticket closed.']);
  });
});

describe('Assign to me', () => {
  test('a one-click button while the ticket is not the viewer’s; it leaves a line in the conversation', async () => {
    const id = makeTicket('Take it');
    const before = await staffClient.get(ticketUrl(id));
    const form = /<form method="post" action="([^"]+)" class="inline-form" data-assign-me>([\s\S]*?)<\/form>/.exec(before.text);
    assert.ok(form, 'the button is there');
    assert.match(form[1]!, /action=assign/);
    assert.match(form[2]!, /name="assignee" value="me"/);
    assert.match(form[2]!, /<button type="submit" class="button">Assign to me<\/button>/);

    const reply = await staffClient.post(form[1]!.replaceAll('&amp;', '&'), { _csrf: csrfFrom(before.text)!, assignee: 'me' });
    assert.equal(reply.status, 303);
    assert.equal(ticketById(app.db, id)!.assigneeId, staffUser.id);
    const after = await staffClient.get(reply.location!);
    assert.deepEqual(flashOf(after.text), ['info', 'Assigned to sam.']);
    assert.match(after.text, /<li class="system-line" id="message-\d+"><span dir="auto">Ticket assigned to sam by sam\.<\/span>/);
    assert.doesNotMatch(after.text, /data-assign-me/, 'no button once it is theirs');
    assert.match((await playerClient.get(ticketUrl(id))).text, /Ticket assigned to sam by sam\./, 'the player sees who has it');
  });
});

describe('staff errors stay on the ticket page', () => {
  test('an unknown assignee or a bad status: 422, the ticket page, the error next to its form', async () => {
    const id = makeTicket('Bad staff forms');
    const cases: [string, Record<string, string>, string, RegExp][] = [
      ['assign', { assignee: String(player.id) }, 'set-assignee-error', /Tickets can only be assigned to active staff members\./],
      ['assign', { assignee: 'everyone' }, 'set-assignee-error', /Choose a staff member, yourself or nobody\./],
      ['status', { status: 'resolved' }, 'set-status-error', /Choose one of the statuses in the list\./],
      ['priority', { priority: 'critical' }, 'set-priority-error', /Choose one of the priorities in the list\./],
    ];
    for (const [action, fields, errorId, text] of cases) {
      const reply = await post(staffClient, id, action, fields);
      assert.equal(reply.status, 422, `${action} ${JSON.stringify(fields)}`);
      assert.match(reply.text, /<title>#\d+ Bad staff forms/, 'the ticket page, not an error page');
      assert.doesNotMatch(reply.text, /Check the form/);
      assert.match(reply.text, new RegExp(`aria-describedby="${errorId}"`));
      const error = new RegExp(`<p class="field-error" id="${errorId}" role="alert">([^<]*)</p>`).exec(reply.text);
      assert.ok(error, errorId);
      assert.match(error[1]!, text);
      assert.doesNotMatch(reply.text, /data-page-error/, 'only next to the form');
    }
    const ticket = ticketById(app.db, id)!;
    assert.deepEqual([ticket.assigneeId, ticket.status, ticket.priority], [null, 'open', 'normal']);
  });
});

describe('typed text survives', () => {
  test('a reply to a ticket closed in another tab: 409, the text kept, an offer of a new ticket with it', async () => {
    const id = makeTicket('Closed elsewhere');
    const _csrf = csrfFrom((await playerClient.get(ticketUrl(id))).text)!;
    closeTicket(app.db, id, player, { ip: null }, { email: false, telegram: false });
    const text = 'My long explanation <with> "quotes" & more';
    const reply = await playerClient.postMultipart(`${ticketUrl(id)}&action=reply`, { _csrf, message: text });
    assert.equal(reply.status, 409);
    assert.match(reply.text, /data-page-error>This ticket was closed, so it takes no more replies\. Your text was not sent: it is kept below\.</);
    assert.match(reply.text, /<textarea id="kept-message" rows="6" readonly dir="auto" aria-describedby="kept-help">My long explanation &lt;with&gt; &#34;quotes&#34; &amp; more<\/textarea>/);
    const link = /<a class="button" href="([^"]+)" data-draft-carry="create" data-draft-subject="([^"]+)"[^>]*>([^<]+)<\/a>/.exec(reply.text);
    assert.ok(link, 'an offer to open a new ticket');
    assert.equal(link[1], '/index.php?view=ticket_create', 'the link carries nothing of the text');
    assert.equal(link[2], `Follow-up to ticket #${id}`);
    assert.equal(link[3], 'Open a new ticket with this text');
    assert.equal(storedMessages(id), 2, 'the first message and the close line: the reply is not stored');
  });

  for (const [who, action, field] of [
    ['a player’s reply', 'reply', 'message'],
    ['a staff note', 'note', 'note'],
  ] as const) {
    test(`${who} with a stale form token: 403, the form again with the text and a fresh token; nothing stored`, async () => {
      const id = makeTicket(`Stale ${action}`);
      const client = action === 'note' ? staffClient : playerClient;
      const before = storedMessages(id);
      const files = uploadedFiles(app.config.uploadsDir).length;
      const text = `Typed before the token went stale (${action})`;
      const reply = await client.postMultipart(`${ticketUrl(id)}&action=${action}`, { _csrf: 'stale-token-from-an-old-session', [field]: text }, action === 'reply' ? [{ name: 'shot.png', content: PNG_BYTES }] : []);
      assert.equal(reply.status, 403);
      assert.match(reply.text, /data-page-error>Your form had expired; check it and send again\.</);
      assert.match(reply.text, new RegExp(`<textarea id="${field}" name="${field}"[^>]*>${text.replace(/[()]/g, '\\$&')}</textarea>`));
      if (action === 'reply') assert.match(reply.text, /Attach your files again/);
      assert.equal(storedMessages(id), before, 'nothing stored');
      assert.equal(uploadedFiles(app.config.uploadsDir).length, files, 'no file kept');
      const token = csrfFrom(reply.text)!;
      assert.notEqual(token, 'stale-token-from-an-old-session');
      const again = await client.postMultipart(`${ticketUrl(id)}&action=${action}`, { _csrf: token, [field]: text });
      assert.equal(again.status, 303, 'the fresh token works');
      assert.equal(storedMessages(id), before + 1);
    });
  }

  test('the create form with a stale form token: 403, the form again with subject and text and a fresh token; nothing stored', async () => {
    const before = (app.db.prepare('SELECT COUNT(*) AS n FROM tickets').get() as { n: number }).n;
    const files = uploadedFiles(app.config.uploadsDir).length;
    const reply = await playerClient.postMultipart(
      '/index.php?view=ticket_create',
      { _csrf: 'stale-token-from-an-old-session', subject: 'Lost my <pet>', message: 'It ran off near Prontera', priority: 'high' },
      [{ name: 'shot.png', content: PNG_BYTES }],
    );
    assert.equal(reply.status, 403);
    assert.match(reply.text, /data-form-expired>Your form had expired; check it and send again\.</);
    assert.match(reply.text, /value="Lost my &lt;pet&gt;"/);
    assert.match(reply.text, />It ran off near Prontera<\/textarea>/);
    assert.match(reply.text, /<option value="high" selected/);
    assert.match(reply.text, /Attach your files again/);
    assert.equal((app.db.prepare('SELECT COUNT(*) AS n FROM tickets').get() as { n: number }).n, before, 'nothing stored');
    assert.equal(uploadedFiles(app.config.uploadsDir).length, files, 'no file kept');
    const token = csrfFrom(reply.text)!;
    assert.notEqual(token, 'stale-token-from-an-old-session');
    const again = await playerClient.postMultipart('/index.php?view=ticket_create', { _csrf: token, subject: 'Lost my pet', message: 'It ran off' });
    assert.equal(again.status, 303, 'the fresh token works');
  });

  test('other forms with a stale token are still a plain 403', async () => {
    const id = makeTicket('Stale close');
    const reply = await playerClient.post(`${ticketUrl(id)}&action=close`, { _csrf: 'stale' });
    assert.equal(reply.status, 403);
    assert.match(reply.text, /The form has expired or did not come from this site/);
    assert.equal(ticketById(app.db, id)!.status, 'open');
  });

  test('a form sent after the session ended leads to sign-in, then back to its page', async () => {
    const id = makeTicket('Session ended');
    const gone = new Client(app.url);
    const reply = await gone.postMultipart(`${ticketUrl(id)}&action=reply`, { _csrf: 'x', message: 'lost?' });
    assert.equal(reply.status, 303);
    assert.equal(reply.location, `/index.php?view=login&next=${encodeURIComponent(ticketUrl(id))}`);
  });
});

describe('the page in the reader’s language', () => {
  test('?lang=ru: the whose-turn line, labels and forms in Russian', async () => {
    const id = makeTicket('Русский');
    const client = new Client(app.url);
    await client.login('pia');
    const page = await client.get(`${ticketUrl(id)}&lang=ru`);
    assert.match(page.text, /<html lang="ru">/);
    assert.match(page.text, /<p class="status-help" data-whose-turn>Ждём ответа поддержки\.<\/p>/);
    assert.match(page.text, />Закрыть тикет<\/button>/);
    assert.match(page.text, /<h2>Ответить<\/h2>/);
    assert.match(page.text, /<h1 dir="auto">Русский<\/h1>/);
    const staffPage = await staffClient.get(`${ticketUrl(id)}&lang=ru`);
    assert.match(staffPage.text, /data-whose-turn>Очередь поддержки: игрок ждёт\.</);
    assert.match(staffPage.text, /<option value="in_progress">В работе<\/option>/, 'option text is the label, the value the stored status');
  });

  test('a folded message offers the whole message with the count written the language’s way', async () => {
    const long = 'слово '.repeat(1000);
    const id = createWebTicket(app.db, { user: player, subject: 'Long', body: long, priority: 'normal', uploads: [] }, { ip: null });
    const page = await playerClient.get(ticketUrl(id));
    assert.match(page.text, /Read the whole message \(6,000 characters\)/);
  });

  test('a refused file is named in the reader’s language, its type too', async () => {
    const id = makeTicket('Upload in Russian');
    const client = new Client(app.url);
    await client.login('pia');
    const page = await client.get(`${ticketUrl(id)}&lang=ru`);
    const reply = await client.postMultipart(`${ticketUrl(id)}&action=reply`, { _csrf: csrfFrom(page.text)!, message: 'Скриншот' }, [{ name: 'cute.png', content: '<html></html>' }]);
    assert.equal(reply.status, 415);
    assert.match(reply.text, /id="attachments-error">«cute\.png» на самом деле не изображение PNG\.</);
    assert.match(reply.text, />Скриншот<\/textarea>/);
  });
});
