// Issue #18 point 2: "How did we do?". Once a ticket is closed its owner rates it, 1 to 5 with an
// optional comment, once; not an open ticket, not another player's (404 as for any ticket they
// cannot see), not staff. Staff read the rating on the ticket page and in Discord's log channel;
// the close notification links to the form. Over real HTTP, with the fake Discord for the log line.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { recentAuditRows } from '../../src/db/audit.js';
import { prepared } from '../../src/db/index.js';
import { ticketRating } from '../../src/db/ratings.js';
import type { User } from '../../src/db/users.js';
import { renderTicketEmail, renderTicketTelegram } from '../../src/notify/templates.js';
import { translator } from '../../src/i18n/index.js';
import { closeTicket, createWebTicket, replyAsStaff } from '../../src/tickets/service.js';
import { pendingWhispers } from '../../src/db/outboxes.js';
import { closeWhisper, DEFAULT_WHISPER_TEMPLATES } from '../../src/settings.js';
import { receiveGameMessage } from '../../src/tickets/game.js';
import { addUser, Client, csrfFrom, startApp, type TestApp } from '../helpers/app.js';
import { startBridged } from '../helpers/bridge.js';

const ticketUrl = (id: number) => `/index.php?view=ticket&id=${id}`;
const flashOf = (html: string) => /<p class="flash flash-(\w+)" data-flash>([^<]*)<\/p>/.exec(html)?.slice(1);
const NO_NOTIFY = { email: false, telegram: false };

describe('rating a ticket on the dashboard', () => {
  let app: TestApp;
  let player: User;
  let staffUser: User;
  let playerClient: Client;
  let otherClient: Client;
  let staffClient: Client;

  before(async () => {
    app = await startApp();
    player = await addUser(app.db, 'rosa');
    await addUser(app.db, 'otto');
    staffUser = await addUser(app.db, 'sam', 'correct horse battery', 'staff');
    playerClient = new Client(app.url);
    await playerClient.login('rosa');
    otherClient = new Client(app.url);
    await otherClient.login('otto');
    staffClient = new Client(app.url);
    await staffClient.login('sam');
  });
  after(() => app.close());

  const makeTicket = (subject: string, closed = true) => {
    const id = createWebTicket(app.db, { user: player, subject, body: `Body of ${subject}`, priority: 'normal', uploads: [] }, { ip: null });
    if (closed) closeTicket(app.db, id, { id: player.id, username: player.username }, { ip: null }, NO_NOTIFY);
    return id;
  };
  async function rate(client: Client, id: number, fields: Record<string, string>) {
    const page = await client.get(ticketUrl(id));
    const _csrf = csrfFrom(page.text)!;
    return client.post(`${ticketUrl(id)}&action=rate`, { _csrf, ...fields });
  }

  test('the owner of a closed ticket sees the form: a fieldset of five worded choices and a comment', async () => {
    const id = makeTicket('Form shown');
    const page = await playerClient.get(ticketUrl(id));
    assert.match(page.text, /<section class="card rate" id="rate"[^>]*data-rate-form>[\s\S]*?<h2 id="rate-heading">How did we do\?<\/h2>/);
    assert.match(page.text, /<fieldset class="rate-choices">\s*<legend>Your rating<\/legend>/);
    const labels = [...page.text.matchAll(/<label for="rating-(\d)">([^<]*)<\/label>/g)].map((m) => [m[1], m[2]]);
    assert.deepEqual(labels, [
      ['1', '1 – Very poor'],
      ['2', '2 – Poor'],
      ['3', '3 – Okay'],
      ['4', '4 – Good'],
      ['5', '5 – Excellent'],
    ]);
    assert.match(page.text, /<textarea id="rate-comment" name="comment"[^>]*maxlength="2000"/);
    // Not while open, not for staff, not for anyone else.
    assert.doesNotMatch((await playerClient.get(ticketUrl(makeTicket('Still open', false)))).text, /data-rate-form/);
    assert.doesNotMatch((await staffClient.get(ticketUrl(id))).text, /data-rate-form/);
  });

  test('rated once: thank-you flash, the rating shown instead of the form, stored with an audit row; a second rating is a 409', async () => {
    const id = makeTicket('Rate me');
    const sent = await rate(playerClient, id, { rating: '4', comment: 'Quick and kind.\r\nThanks!' });
    assert.equal(sent.status, 303, sent.text.slice(0, 300));
    assert.match(sent.location!, new RegExp(`view=ticket&id=${id}#rate$`));
    const page = await playerClient.get(sent.location!);
    assert.deepEqual(flashOf(page.text), ['info', 'Thank you for your rating.']);
    assert.match(page.text, /data-rating="4"[\s\S]*?You rated this ticket 4\/5 \(Good\)\.[\s\S]*?Quick and kind\.\nThanks!<\/blockquote>/);
    assert.doesNotMatch(page.text, /data-rate-form/);
    const stored = ticketRating(app.db, id)!;
    assert.deepEqual({ rating: stored.rating, comment: stored.comment, userId: stored.userId, staffId: stored.staffId }, { rating: 4, comment: 'Quick and kind.\nThanks!', userId: player.id, staffId: null });
    assert.ok(recentAuditRows(app.db, 20).some((r) => r.action === 'ticket.rate' && r.ticketId === id && r.actorName === 'rosa'));

    const again = await rate(playerClient, id, { rating: '1', comment: 'Changed my mind' });
    assert.equal(again.status, 409);
    assert.match(again.text, /This ticket has been rated already; each ticket is rated once\./);
    assert.equal(ticketRating(app.db, id)!.rating, 4, 'the first rating stays');
  });

  test('an open ticket cannot be rated (409)', async () => {
    const id = makeTicket('Not yet', false);
    const sent = await rate(playerClient, id, { rating: '5', comment: '' });
    assert.equal(sent.status, 409);
    assert.match(sent.text, /Only a closed ticket can be rated\./);
    assert.equal(ticketRating(app.db, id), undefined);
  });

  test("another player's ticket is a 404, as any ticket they cannot see; staff cannot rate (403)", async () => {
    const id = makeTicket('Mine only');
    const _csrf = csrfFrom((await otherClient.get('/index.php?view=tickets')).text)!;
    const theirs = await otherClient.post(`${ticketUrl(id)}&action=rate`, { _csrf, rating: '1', comment: '' });
    assert.equal(theirs.status, 404);
    assert.match(theirs.text, /No ticket with that number is open to you\./);
    const staff = await rate(staffClient, id, { rating: '5', comment: '' });
    assert.equal(staff.status, 403);
    assert.match(staff.text, /Only the player who opened the ticket can rate it\./);
    assert.equal(ticketRating(app.db, id), undefined);
    assert.equal((await playerClient.post(`${ticketUrl(id)}&action=rate`, { rating: '5' })).status, 403, 'no CSRF token, no rating');
    assert.equal(ticketRating(app.db, id), undefined);
  });

  test('a bad rating is a 422 next to the choices, the comment kept; a long comment too', async () => {
    const id = makeTicket('Bad values');
    for (const rating of ['', '0', '6', '4.5', 'five', '-1']) {
      const sent = await rate(playerClient, id, { rating, comment: 'Keep this text' });
      assert.equal(sent.status, 422, `rating ${JSON.stringify(rating)}`);
      assert.match(sent.text, /<p class="field-error" id="rating-error">Choose a rating from 1 \(very poor\) to 5 \(excellent\)\.<\/p>/);
      assert.match(sent.text, /<fieldset class="rate-choices" aria-invalid="true" aria-describedby="rating-error">/);
      assert.match(sent.text, />Keep this text<\/textarea>/);
    }
    const missing = await rate(playerClient, id, { comment: 'No choice made' });
    assert.equal(missing.status, 422);
    assert.match(missing.text, />No choice made<\/textarea>/);
    const long = await rate(playerClient, id, { rating: '3', comment: 'x'.repeat(2001) });
    assert.equal(long.status, 422);
    assert.match(long.text, /id="rate-comment-error">Write at most 2,000 characters\./);
    assert.equal(ticketRating(app.db, id), undefined);
    const extra = await rate(playerClient, id, { rating: '3', stars: '3' });
    assert.equal(extra.status, 400, 'unknown fields are refused');
    assert.equal((await rate(playerClient, id, { rating: '3', comment: 'x'.repeat(2000) })).status, 303, 'exactly 2,000 characters is fine');
  });

  test('staff see "Rated 4/5: comment" on the ticket page; the rating counts for the assignee, else the last web answer', async () => {
    const answered = makeTicket('Answered on the web', false);
    replyAsStaff(app.db, { ticketId: answered, user: staffUser, body: 'Done.', status: 'answered', uploads: [] }, { ip: null }, { whisperMax: 200, discord: false, notify: NO_NOTIFY });
    closeTicket(app.db, answered, { id: player.id, username: player.username }, { ip: null }, NO_NOTIFY);
    assert.equal((await rate(playerClient, answered, { rating: '4', comment: 'Nice <b>work</b>' })).status, 303);
    assert.equal(ticketRating(app.db, answered)!.staffId, staffUser.id);
    const page = await staffClient.get(ticketUrl(answered));
    assert.match(page.text, /<dt>Rating<\/dt><dd data-staff-rating="4"><span dir="auto">Rated 4\/5: Nice &lt;b&gt;work&lt;\/b&gt;<\/span><\/dd>/);

    const other = await addUser(app.db, 'kim', 'correct horse battery', 'staff');
    const assigned = makeTicket('Assigned', false);
    replyAsStaff(app.db, { ticketId: assigned, user: staffUser, body: 'Looking.', status: 'answered', uploads: [] }, { ip: null }, { whisperMax: 200, discord: false, notify: NO_NOTIFY });
    prepared(app.db, 'UPDATE tickets SET assignee_id = ? WHERE id = ?').run(other.id, assigned);
    closeTicket(app.db, assigned, { id: player.id, username: player.username }, { ip: null }, NO_NOTIFY);
    assert.equal((await rate(playerClient, assigned, { rating: '2' })).status, 303);
    assert.equal(ticketRating(app.db, assigned)!.staffId, other.id);
    assert.equal(ticketRating(app.db, assigned)!.comment, null);
    assert.match((await staffClient.get(ticketUrl(assigned))).text, /data-staff-rating="2"><span dir="auto">Rated 2\/5<\/span>/);
  });
});

describe('the close notification links to the rating', () => {
  const closed = { ticketId: 42, subject: 'Lost my sword', event: { kind: 'closed' as const, by: 'sam' } };
  const reply = { ticketId: 42, subject: 'Lost my sword', event: { kind: 'support_reply' as const, staffName: 'sam', body: 'Found it', status: 'answered' as const } };

  test('email (text and HTML) and Telegram, in the recipient language; only for a close', () => {
    const email = renderTicketEmail(closed, 'rosa', 'https://desk.example');
    assert.match(email.text, /How did we do\? Rate this ticket: https:\/\/desk\.example\/index\.php\?view=ticket&id=42#rate/);
    assert.match(email.html, /<a href="https:\/\/desk\.example\/index\.php\?view=ticket&amp;id=42#rate">How did we do\? Rate this ticket<\/a>/);
    const telegram = renderTicketTelegram(closed, 'https://desk.example');
    assert.match(telegram, /<a href="https:\/\/desk\.example\/index\.php\?view=ticket&amp;id=42#rate">How did we do\? Rate this ticket<\/a>/);
    const ru = renderTicketEmail(closed, 'rosa', 'https://desk.example', { i18n: translator('ru') });
    assert.match(ru.text, /Как мы справились\? Оцените этот тикет: https:\/\/desk\.example\/index\.php\?view=ticket&id=42#rate/);
    assert.doesNotMatch(renderTicketEmail(reply, 'rosa', 'https://desk.example').text, /#rate/);
    assert.doesNotMatch(renderTicketTelegram(reply, 'https://desk.example'), /#rate/);
  });
});

describe("a rating in Discord's log channel", () => {
  test('a bridged ticket rated after its close: a short line follows the transcript; an unbridged one posts nothing', async () => {
    const setup = await startBridged({ env: { DISCORD_WEB_TICKETS: 'true' } });
    try {
      const owner = await addUser(setup.app.db, 'webrater');
      const client = new Client(setup.app.url);
      await client.login('webrater');
      const id = createWebTicket(setup.app.db, { user: owner, subject: 'Bridged', body: 'Help', priority: 'normal', uploads: [], discordGuildId: setup.fake.guildId }, { ip: null });
      await setup.fake.waitFor(() => prepared(setup.app.db, 'SELECT discord_channel_id AS c FROM tickets WHERE id = ?').get(id) as { c: string | null } | undefined, 5000, 'a channel');
      let _csrf = csrfFrom((await client.get(ticketUrl(id))).text)!;
      assert.equal((await client.post(`${ticketUrl(id)}&action=close`, { _csrf })).status, 303);
      await setup.fake.waitFor(() => setup.fake.messagesIn(setup.logChannelId).some((m) => m.content.includes(`Ticket #${id} closed`)), 5000, 'the transcript');
      _csrf = csrfFrom((await client.get(ticketUrl(id))).text)!;
      assert.equal((await client.post(`${ticketUrl(id)}&action=rate`, { _csrf, rating: '5', comment: '**Great** help\n# thanks' })).status, 303);
      const line = await setup.fake.waitFor(() => setup.fake.messagesIn(setup.logChannelId).find((m) => m.content.startsWith(`Ticket #${id} rated`)), 5000, 'the rating line');
      assert.equal(line.content, `Ticket #${id} rated 5/5 by **webrater**. Console: ${setup.app.config.appUrl}/index.php?view=ticket&id=${id}\n> \\*\\*Great\\*\\* help\n> \\# thanks`);

      // A ticket that never had a channel (opened before DISCORD_WEB_TICKETS, say): rated, nothing queued.
      const plain = createWebTicket(setup.app.db, { user: owner, subject: 'Not bridged', body: 'Help', priority: 'normal', uploads: [] }, { ip: null });
      closeTicket(setup.app.db, plain, { id: owner.id, username: owner.username }, { ip: null }, NO_NOTIFY);
      _csrf = csrfFrom((await client.get(ticketUrl(plain))).text)!;
      assert.equal((await client.post(`${ticketUrl(plain)}&action=rate`, { _csrf, rating: '3' })).status, 303);
      const queued = prepared(setup.app.db, "SELECT COUNT(*) AS n FROM discord_outbox WHERE ticket_id = ? AND kind = 'rating_posted'").get(plain) as { n: number };
      assert.equal(queued.n, 0);
    } finally {
      await setup.close();
    }
  });
});

describe("a game ticket's close whisper points to the dashboard, when an admin set one", () => {
  let app: TestApp;
  let admin: Client;
  let charSeq = 510_000;
  before(async () => {
    app = await startApp({ env: { GAME_WHISPER_MAX: '40' } });
    await addUser(app.db, 'root', 'correct horse battery', 'admin');
    admin = new Client(app.url);
    await admin.login('root');
  });
  after(() => app.close());

  const gameTicket = () => {
    const charId = ++charSeq;
    return receiveGameMessage(app.db, { accountId: 2_000_001, charId, name: `Hero${charId}`, via: 'pm', message: 'Stuck' }, { templates: DEFAULT_WHISPER_TEMPLATES, guildId: null }).ticketId;
  };
  const saveAdmin = async (fields: Record<string, string>) => {
    const page = await admin.get('/index.php?view=admin');
    return admin.post('/index.php?view=admin', { _csrf: csrfFrom(page.text)!, ...fields });
  };
  const closeAsSupport = (id: number) => closeTicket(app.db, id, { id: null, username: 'Support' }, { ip: null }, NO_NOTIFY);

  test('not set (the default): a closed game ticket gets no whisper', () => {
    const id = gameTicket();
    closeAsSupport(id);
    assert.deepEqual(pendingWhispers(app.db, id), []);
    assert.equal(closeWhisper(app.db), undefined);
  });

  test('set on view=admin: whispered as written (split to GAME_WHISPER_MAX) at every close of a game ticket; emptied: none again', async () => {
    const page = await admin.get('/index.php?view=admin');
    assert.match(page.text, /<label for="template_closed">A game ticket is closed[^<]*<\/label>\s*<input id="template_closed" name="template_closed" type="text" dir="auto" maxlength="255" value=""/);
    const text = 'How did we do? Rate your ticket at https://desk.example';
    assert.equal((await saveAdmin({ template_closed: text })).status, 303);
    assert.match((await admin.get('/index.php?view=admin')).text, /id="template_closed"[^>]*value="How did we do\? Rate your ticket at https:\/\/desk\.example"/);
    const id = gameTicket();
    closeAsSupport(id);
    const whispers = pendingWhispers(app.db, id);
    assert.ok(whispers.length >= 2, 'split to 40 bytes');
    assert.ok(whispers.every((w) => Buffer.byteLength(w.text) <= 40 && w.sender === 'Support' && w.charName.startsWith('Hero')));
    assert.equal(whispers.map((w) => w.text).join(' ').replace(/\s+/g, ' '), text);
    // A web ticket has no character: nothing.
    const owner = await addUser(app.db, 'webby');
    const web = createWebTicket(app.db, { user: owner, subject: 'Web', body: 'Hi', priority: 'normal', uploads: [] }, { ip: null });
    closeAsSupport(web);
    assert.deepEqual(pendingWhispers(app.db, web), []);

    assert.equal((await saveAdmin({ template_closed: '' })).status, 303);
    const again = gameTicket();
    closeAsSupport(again);
    assert.deepEqual(pendingWhispers(app.db, again), []);
  });
});
