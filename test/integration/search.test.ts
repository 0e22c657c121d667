// Seed 000 § Tickets list: "Search: by subject and by messages content", on FTS5 (trigram).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { prepared } from '../../src/db/index.js';
import type { User } from '../../src/db/users.js';
import { createWebTicket, replyAsPlayer } from '../../src/tickets/service.js';
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
