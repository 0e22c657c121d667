// Issue #12, the web side: what one signed-in player could do to the whole desk. Each test here
// failed on the code before its fix.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createWebTicket, replyAsPlayer } from '../../src/tickets/service.js';
import { type User } from '../../src/db/users.js';
import { CONVERSATION_PAGE_SIZE, MESSAGE_FOLD_AT } from '../../src/web/handlers/ticket.js';
import { addUser, Client, startApp, type TestApp } from '../helpers/app.js';

let app: TestApp;
let alice: User;

before(async () => {
  app = await startApp();
  alice = await addUser(app.db, 'alice');
});
after(() => app.close());

function messageIds(html: string): number[] {
  return [...html.matchAll(/<li class="message[^"]*" id="message-(\d+)"/g)].map((m) => Number(m[1]));
}

describe('a ticket page renders a bounded amount', () => {
  test('a long conversation is paged, newest page first, with links both ways', async () => {
    const context = { ip: null };
    const ticketId = createWebTicket(app.db, { user: alice, subject: 'Long one', body: 'message 1', priority: 'normal', uploads: [] }, context);
    const total = CONVERSATION_PAGE_SIZE * 2 + 17;
    for (let i = 2; i <= total; i++) replyAsPlayer(app.db, { ticketId, user: alice, body: `message ${i}`, uploads: [] }, context);
    const client = new Client(app.url);
    await client.login('alice');

    const latest = await client.get(`/index.php?view=ticket&id=${ticketId}`);
    assert.equal(latest.status, 200);
    const shown = messageIds(latest.text);
    assert.equal(shown.length, 17, 'the last page holds what is left after full pages');
    assert.match(latest.text, />message 217</);
    assert.doesNotMatch(latest.text, />message 200</);
    assert.match(latest.text, /Messages page 3 of 3/);
    const earlier = /href="([^"]+)" rel="prev"/.exec(latest.text)?.[1]?.replaceAll('&amp;', '&');
    assert.equal(earlier, `/index.php?view=ticket&id=${ticketId}&page=2`);

    const first = await client.get(`/index.php?view=ticket&id=${ticketId}&page=1`);
    assert.equal(messageIds(first.text).length, CONVERSATION_PAGE_SIZE);
    assert.match(first.text, />message 1</);
    assert.match(first.text, /rel="next"/);
    assert.doesNotMatch(first.text, /rel="prev"/);

    assert.equal((await client.get(`/index.php?view=ticket&id=${ticketId}&page=4`)).status, 404);
    assert.equal((await client.get(`/index.php?view=ticket&id=${ticketId}&page=0`)).status, 404);
  });

  test('a very long message is folded with a link that shows it whole', async () => {
    const body = `${'a'.repeat(MESSAGE_FOLD_AT)}TAIL-OF-THE-MESSAGE`;
    const ticketId = createWebTicket(app.db, { user: alice, subject: 'Wall of text', body, priority: 'normal', uploads: [] }, { ip: null });
    const client = new Client(app.url);
    await client.login('alice');
    const page = await client.get(`/index.php?view=ticket&id=${ticketId}`);
    assert.doesNotMatch(page.text, /TAIL-OF-THE-MESSAGE/);
    const link = /<a class="read-more" href="([^"]+)"/.exec(page.text)?.[1]?.replaceAll('&amp;', '&');
    assert.ok(link, 'a link to read the whole message');
    assert.match(page.text, /Read the whole message \(3,019 characters\)/);
    const whole = await client.get(link);
    assert.equal(whole.status, 200);
    assert.match(whole.text, /TAIL-OF-THE-MESSAGE/);
  });
});

describe('sign-in redirects stay on this site', () => {
  // Each of these resolves to `//evil.example` (another site) once a URL parser has read it.
  const tricks = ['/.//evil.example', '/..//evil.example', '/%2e%2e//evil.example', '/x/..//evil.example', '/./..//evil.example/x?y=1', '/static/app.css', '/api/game/whispers'];

  test('at sign-in (POST), only a page of the app may follow', async () => {
    for (const next of tricks) {
      const client = new Client(app.url);
      const _csrf = await client.csrf();
      const reply = await client.post('/index.php?view=login', { _csrf, username: 'alice', password: 'correct horse battery', next });
      assert.equal(reply.status, 303, next);
      assert.equal(reply.location, '/index.php?view=tickets', next);
    }
  });

  test('when already signed in (GET), the same', async () => {
    const client = new Client(app.url);
    await client.login('alice');
    for (const next of tricks) {
      const reply = await client.get(`/index.php?view=login&next=${encodeURIComponent(next)}`);
      assert.equal(reply.status, 302, next);
      assert.equal(reply.location, '/index.php?view=tickets', next);
    }
    const kept = await client.get(`/index.php?view=login&next=${encodeURIComponent('/index.php?view=ticket&id=3')}`);
    assert.equal(kept.location, '/index.php?view=ticket&id=3');
  });
});
