// Seed 000 § Tickets list: "Search: by subject and by messages content", on FTS5 (trigram).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { prepared } from '../../src/db/index.js';
import type { User } from '../../src/db/users.js';
import { addInternalNote, createWebTicket, replyAsPlayer, ticketListPage } from '../../src/tickets/service.js';
import { parseSearch } from '../../src/tickets/search.js';
import { addUser, Client, listedTickets, startApp, type TestApp } from '../helpers/app.js';

let app: TestApp;
let player: User;
let client: Client;
const ids = {} as Record<'login' | 'refund' | 'russian' | 'japanese' | 'syntax' | 'closed' | 'others', number>;

function ticket(user: User, subject: string, body: string): number {
  return createWebTicket(app.db, { user, subject, body, priority: 'normal', uploads: [] }, { ip: null });
}

async function search(q: string, extra = ''): Promise<number[]> {
  const reply = await client.get(`/index.php?view=tickets&status=all&q=${encodeURIComponent(q)}${extra}`);
  assert.equal(reply.status, 200, `q=${q}: status ${reply.status}`);
  return listedTickets(reply.text).map((row) => row.id).sort((a, b) => a - b);
}

before(async () => {
  app = await startApp();
  player = await addUser(app.db, 'searcher');
  const other = await addUser(app.db, 'other');
  client = new Client(app.url);
  await client.login('searcher');
  ids.login = ticket(player, 'Cannot login to the game', 'Error 1024 when I press the button.');
  ids.refund = ticket(player, 'Refund request', 'I bought the wrong costume. Please REFUND my zeny.');
  ids.russian = ticket(player, 'Ошибка входа', 'Не могу войти в игру после обновления');
  ids.japanese = ticket(player, '課金について', 'アイテムが届きません');
  ids.syntax = ticket(player, 'Weird characters', 'He typed "quoted" and foo*bar and NEAR(x y) and a OR b and -minus and 100%_done');
  ids.closed = ticket(player, 'Closed ages ago', 'Old zeny problem');
  prepared(app.db, "UPDATE tickets SET status = 'closed' WHERE id = ?").run(ids.closed);
  ids.others = ticket(other, 'Not yours: refund', 'Private refund details of another player');
});
after(() => app.close());

describe('search', () => {
  test('finds words in subjects and in message bodies, in any case', async () => {
    assert.deepEqual(await search('login'), [ids.login]);
    assert.deepEqual(await search('LOGIN'), [ids.login]);
    assert.deepEqual(await search('costume'), [ids.refund]);
    assert.deepEqual(await search('refund'), [ids.refund], 'another player’s tickets are never found');
  });

  test('matches substrings, in other scripts too', async () => {
    assert.deepEqual(await search('ogi'), [ids.login]);
    assert.deepEqual(await search('ошибка'), [ids.russian], 'Cyrillic, case-insensitive');
    assert.deepEqual(await search('обновлен'), [ids.russian]);
    assert.deepEqual(await search('アイテム'), [ids.japanese]);
  });

  test('queries shorter than a trigram still work (LIKE fallback), with % and _ as text', async () => {
    assert.deepEqual(await search('課金'), [ids.japanese], 'two characters');
    assert.ok((await search('Er')).includes(ids.login));
    assert.deepEqual(await search('%'), [ids.syntax], '% is not a wildcard');
    assert.deepEqual(await search('_'), [ids.syntax], '_ is not a wildcard');
    assert.deepEqual(await search('%_'), [ids.syntax]);
  });

  test('every word must appear (in the subject or any message)', async () => {
    assert.deepEqual(await search('refund costume'), [ids.refund]);
    assert.deepEqual(await search('refund login'), []);
    assert.deepEqual(await search('cannot 1024'), [ids.login], 'one word in the subject, one in the message');
  });

  test('a number finds that ticket, as does #number', async () => {
    assert.ok((await search(String(ids.japanese))).includes(ids.japanese));
    assert.ok((await search(`#${ids.japanese}`)).includes(ids.japanese));
    assert.deepEqual(await search('1024'), [ids.login], 'and still searches text');
  });

  test('FTS5 syntax is searched as text, never a 500', async () => {
    assert.deepEqual(await search('"quoted"'), [ids.syntax]);
    assert.deepEqual(await search('foo*bar'), [ids.syntax]);
    assert.deepEqual(await search('NEAR(x'), [ids.syntax]);
    assert.deepEqual(await search('-minus'), [ids.syntax]);
    for (const q of ['"', '""', '*', 'a*', 'NEAR(', 'NEAR(a b)', 'OR', 'AND', 'NOT', 'a OR b', '-', '--', '^abc', 'subject:login', '(', ')', '{subject}: x', "'; DROP TABLE tickets; --", '\\', 'x\u0000y']) {
      await search(q);
    }
    assert.ok((prepared(app.db, 'SELECT COUNT(*) AS n FROM tickets').get() as { n: number }).n >= 7, 'the tickets are all still there');
  });

  test('search respects the status filter: closed tickets need "All"', async () => {
    const reply = await client.get('/index.php?view=tickets&q=zeny');
    assert.deepEqual(listedTickets(reply.text).map((r) => r.id), [ids.refund]);
    assert.deepEqual(await search('zeny'), [ids.closed, ids.refund].sort((a, b) => a - b));
  });

  test('new replies are searchable at once (the index follows the messages table)', async () => {
    const id = ticket(player, 'Later words', 'first message');
    assert.deepEqual(await search('xylophone'), []);
    replyAsPlayer(app.db, { ticketId: id, user: player, body: 'now with a xylophone', uploads: [] }, { ip: null });
    assert.deepEqual(await search('xylophone'), [id]);
  });

  test('the query stays in the search box, escaped', async () => {
    const reply = await client.get(`/index.php?view=tickets&q=${encodeURIComponent('"><script>alert(1)</script>')}`);
    assert.match(reply.text, /name="q" value="&#34;&gt;&lt;script&gt;alert\(1\)&lt;\/script&gt;"/);
    assert.doesNotMatch(reply.text, /<script>alert/);
  });

  test('too many words or too long a query is a 400 that says so', async () => {
    const words = await client.get(`/index.php?view=tickets&q=${encodeURIComponent('a b c d e f g h i')}`);
    assert.equal(words.status, 400);
    assert.match(words.text, /Search for at most 8 words/);
    const long = await client.get(`/index.php?view=tickets&q=${'x'.repeat(201)}`);
    assert.equal(long.status, 400);
    assert.match(long.text, /Search must be at most 200 characters/);
  });

  test('search uses the FTS index for words of three characters or more', () => {
    const plan = (prepared(app.db, "EXPLAIN QUERY PLAN SELECT rowid FROM messages_fts WHERE messages_fts MATCH '\"abc\"'").all() as { detail: string }[]).map((p) => p.detail).join('\n');
    assert.match(plan, /VIRTUAL TABLE INDEX/);
  });
});

describe('staff search: newest match first (issue #19)', () => {
  const B = 1_900_000_000_000;
  const t = {} as Record<'subjectOnly' | 'message' | 'reply' | 'busy' | 'note', number>;
  let walker: User;
  let staff: User;
  let support: Client;
  let walkerClient: Client;

  before(async () => {
    walker = await addUser(app.db, 'walker');
    staff = await addUser(app.db, 'boss', 'correct horse battery', 'staff');
    support = new Client(app.url);
    await support.login('boss');
    walkerClient = new Client(app.url);
    await walkerClient.login('walker');
    const open = (subject: string, body: string, at: number) => createWebTicket(app.db, { user: walker, subject, body, priority: 'normal', uploads: [] }, { ip: null }, at);
    // In the order things happen, so message numbers follow time as they do in use.
    // The most recent activity (at B + 5000 below), but its only match is the oldest.
    t.busy = open('Busy', 'glimmer early', B + 100);
    prepared(app.db, "UPDATE tickets SET priority = 'urgent' WHERE id = ?").run(t.busy);
    t.note = open('Noted', 'nothing either', B + 200);
    t.reply = open('Old one', 'no word yet', B + 500);
    t.subjectOnly = open('Glimmer in the subject', 'nothing to see', B + 1000);
    t.message = open('Plain', 'a glimmer of hope', B + 2000);
    replyAsPlayer(app.db, { ticketId: t.reply, user: walker, body: 'glimmer again', uploads: [] }, { ip: null }, { discord: false }, B + 3000);
    addInternalNote(app.db, t.note, 'internal glimmer note', staff, { ip: null }, B + 4000);
    replyAsPlayer(app.db, { ticketId: t.busy, user: walker, body: 'newer words without it', uploads: [] }, { ip: null }, { discord: false }, B + 5000);
  });

  async function staffSearch(q: string, extra = ''): Promise<{ ids: number[]; text: string }> {
    const reply = await support.get(`/index.php?view=tickets&status=all&q=${encodeURIComponent(q)}${extra}`);
    assert.equal(reply.status, 200, `q=${q}: status ${reply.status}`);
    return { ids: listedTickets(reply.text).map((row) => row.id), text: reply.text };
  }

  test('tickets come by their newest match (a message, an internal note, or the subject at creation), and the page says so', async () => {
    const { ids: found, text } = await staffSearch('glimmer');
    assert.deepEqual(found, [t.note, t.reply, t.message, t.subjectOnly, t.busy]);
    assert.match(text, /Ordered by the newest message or subject that matches the search, not by activity\./);
    assert.doesNotMatch((await staffSearch('glimmerless')).text, /data-search-order/, 'an empty result needs no order');
  });

  test('a player searches their own tickets, by activity, without internal notes', async () => {
    const reply = await walkerClient.get(`/index.php?view=tickets&status=all&q=glimmer`);
    assert.deepEqual(
      listedTickets(reply.text).map((row) => row.id),
      [t.busy, t.reply, t.message, t.subjectOnly],
    );
    assert.doesNotMatch(reply.text, /data-search-order/);
    assert.deepEqual(await search('glimmer'), [], 'another player finds none of them');
  });

  test('every word must appear; a short word is checked on each ticket the walk reaches', async () => {
    assert.deepEqual((await staffSearch('glimmer hope')).ids, [t.message]);
    assert.deepEqual((await staffSearch('hope GLIMMER')).ids, [t.message]);
    assert.deepEqual((await staffSearch('glimmer subject')).ids, [t.subjectOnly], 'both words in the subject');
    assert.deepEqual((await staffSearch('glimmer ag')).ids, [t.reply]);
    assert.deepEqual((await staffSearch('glimmer plain')).ids, [t.message], 'one word in the subject, one in a message');
    assert.deepEqual((await staffSearch('glimmer', '&priority=urgent')).ids, [t.busy], 'filters apply to each ticket');
  });

  test('a ticket number comes first, even without the word', async () => {
    const { ids: found } = await staffSearch(`#${t.busy}`);
    assert.equal(found[0], t.busy);
  });

  test('pages skip the tickets of the pages before; a walk that saw every match counts them', () => {
    const query = { ...parseSearch('glimmer'), status: 'all' as const, includeInternal: true, limit: 2 };
    const first = ticketListPage(app.db, { ...query, offset: 0 });
    assert.deepEqual(first.tickets.map((r) => r.id), [t.note, t.reply]);
    assert.equal(first.hasMore, true);
    assert.equal(first.total, undefined, 'not counted while matches remain unread');
    assert.equal(first.newestMatchFirst, true);
    const second = ticketListPage(app.db, { ...query, offset: 2 });
    assert.deepEqual(second.tickets.map((r) => r.id), [t.message, t.subjectOnly]);
    const last = ticketListPage(app.db, { ...query, offset: 4 });
    assert.deepEqual(last.tickets.map((r) => r.id), [t.busy]);
    assert.equal(last.hasMore, false);
    assert.deepEqual(last.total, { count: 5, exact: true });
  });

  test('a filter that rejects most matches stops the walk at its bound, and the page can say so', () => {
    const query = { ...parseSearch('glimmer'), status: 'all' as const, includeInternal: true, priority: 'urgent' as const, limit: 50, offset: 0 };
    const bounded = ticketListPage(app.db, { ...query, searchWalkHits: 3 });
    assert.deepEqual(bounded.tickets, [], 'the urgent ticket holds the oldest match, past the first 3');
    assert.equal(bounded.searchHitLimit, 3);
    assert.equal(bounded.total, undefined);
    const whole = ticketListPage(app.db, query);
    assert.deepEqual(whole.tickets.map((r) => r.id), [t.busy]);
    assert.equal(whole.searchHitLimit, undefined);
  });
});
