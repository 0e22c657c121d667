// The game-server API over real HTTP (README.md "The game-server API"; seed 002 § Player Messages).
// The Discord side is represented by `bridgeConnected` here; test/integration/discord*.test.ts
// runs the real bot against the fake Discord.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openDatabase, prepared } from '../../src/db/index.js';
import { pendingDiscordWork } from '../../src/db/outboxes.js';
import { ticketById } from '../../src/db/tickets.js';
import { Signal } from '../../src/signal.js';
import { postContent } from '../../src/discord/format.js';
import { readDiscordWork } from '../../src/tickets/discordWork.js';
import { queueWhispersForTicket } from '../../src/tickets/game.js';
import { pollUntil } from '../../support/fakes/wait.js';
import { startApp, tempDir, type TestApp } from '../helpers/app.js';

const TOKEN = 'game-server-token-0123456789';
/** Discord configured (its bridge is not started here: bridgeConnected stands in), so game tickets queue Discord work. */
const DISCORD = { DISCORD_TOKEN: 'fake-discord-token-for-the-game-api-tests', DISCORD_GUILD_ID: '100000000000000001' };
/** What a queued post will say in its Discord channel (the worker formats it: src/discord/format.ts). */
function discordText(row: { kind: string; payload: string }): string {
  const read = readDiscordWork(row);
  assert.ok(read.ok && read.work.kind === 'post_message', `a post_message row: ${row.payload}`);
  return postContent(read.work.payload);
}

let connected = true;
let app: TestApp;
const signals = { whispers: new Signal(), discordWork: new Signal(), notifications: new Signal() };

before(async () => {
  app = await startApp({ env: { GAME_API_TOKEN: TOKEN, GAME_WHISPER_VISIBILITY_S: '1', ...DISCORD }, app: { bridgeConnected: () => connected, signals } });
});
after(() => app.close());

async function call(method: string, pathname: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${app.url}/api/game${pathname}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(typeof body === 'string' ? { 'content-type': 'text/plain' } : body ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON
  }
  // Every whisper carries `encoded`, exactly the bytes to send (UTF-8 here): checked, then set
  // aside so the expectations below read as the texts a player sees.
  for (const list of [json.whispers].filter(Array.isArray) as Record<string, unknown>[][]) {
    for (const w of list) {
      assert.equal(Buffer.from(String(w.encoded), 'base64').toString('utf8'), w.text, 'encoded is the UTF-8 of text');
      delete w.encoded;
    }
  }
  return { status: response.status, json, text };
}

let nextChar = 150001;
function player(name = 'Player Name') {
  return { account_id: 2000001, char_id: nextChar++, name };
}
function ticketAction(p: ReturnType<typeof player>, via: 'request' | 'pm', message: string, extra: Record<string, unknown> = {}) {
  return { action: 'ticket', via, ...p, message, ...extra };
}
function count(table: string): number {
  return (prepared(app.db, `SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
}

describe('authentication', () => {
  test('no token configured: 503 with a clear body', async () => {
    const other = await startApp();
    try {
      const response = await fetch(`${other.url}/api/game/actions`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(response.status, 503);
      assert.deepEqual(await response.json(), { ok: false, error: 'game API not configured: set GAME_API_TOKEN' });
    } finally {
      await other.close();
    }
  });

  test('a missing or wrong token is a 401, whatever the endpoint', async () => {
    for (const authorization of ['', 'Bearer wrong', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`]) {
      const { status, json } = await call('GET', '/whispers', undefined, { authorization });
      assert.equal(status, 401, authorization);
      assert.equal(json.error, 'missing or wrong bearer token');
    }
  });
});

describe('POST /api/game/actions: player messages, word for word', () => {
  test('@request opens a ticket and echoes "[RagnaSync Ticket]: <message>"', async () => {
    const p = player('Hero');
    const { status, json } = await call('POST', '/actions', ticketAction(p, 'request', 'I lost my sword'));
    assert.equal(status, 200);
    assert.equal(json.ok, true);
    assert.deepEqual(json.whispers, [{ to: 'Hero', text: '[RagnaSync Ticket]: I lost my sword' }]);
    const ticket = ticketById(app.db, json.ticket_id as number)!;
    assert.equal(ticket.source, 'game');
    assert.equal(ticket.status, 'open');
    assert.equal(ticket.gameCharName, 'Hero');
    assert.equal(ticket.gameCharId, p.char_id);
    assert.equal(ticket.subject, 'I lost my sword');
    const work = pendingDiscordWork(app.db, ticket.id).map((w) => [w.kind, JSON.parse(w.payload)]);
    assert.deepEqual(work[0], ['create_channel', { name: 'Hero', accountId: 2000001, charId: p.char_id }]);
    assert.equal(work[1]![0], 'post_message');
    assert.equal(discordText(pendingDiscordWork(app.db, ticket.id)[1]!), '**Hero** (in game):\n> I lost my sword');
  });

  test('a PM opens a ticket with "Ticket Created on Discord. PM @Support to use"; the next PM answers nothing and goes to the same ticket', async () => {
    const p = player('Whisperer');
    const first = await call('POST', '/actions', ticketAction(p, 'pm', 'help me'));
    assert.deepEqual(first.json.whispers, [{ to: 'Whisperer', text: 'Ticket Created on Discord. PM @Support to use' }]);
    const second = await call('POST', '/actions', ticketAction(p, 'pm', 'are you there?'));
    assert.deepEqual(second.json.whispers, []);
    assert.equal(second.json.ticket_id, first.json.ticket_id, 'one open game ticket per character');
    const third = await call('POST', '/actions', ticketAction(p, 'request', 'still here'));
    assert.equal(third.json.ticket_id, first.json.ticket_id);
    assert.deepEqual(third.json.whispers, [{ to: 'Whisperer', text: '[RagnaSync Ticket]: still here' }], '@request always echoes');
    assert.equal(ticketById(app.db, first.json.ticket_id as number)!.messageCount, 3);
    const posts = pendingDiscordWork(app.db, first.json.ticket_id as number).filter((w) => w.kind === 'post_message');
    assert.deepEqual(posts.map(discordText), ['**Whisperer** (in game):\n> help me', '**Whisperer** (in game):\n> are you there?', '**Whisperer** (in game):\n> still here'], 'in order');
  });

  test('bridge not connected: "RagnaSync: Ticket Offline, Try again", HTTP 200, nothing stored', async () => {
    connected = false;
    try {
      const before = [count('tickets'), count('messages'), count('discord_outbox')];
      const { status, json } = await call('POST', '/actions', ticketAction(player('Offline'), 'pm', 'hello?'));
      assert.equal(status, 200);
      assert.deepEqual(json, { ok: true, ticket_id: null, whispers: [{ to: 'Offline', text: 'RagnaSync: Ticket Offline, Try again' }] });
      assert.deepEqual([count('tickets'), count('messages'), count('discord_outbox')], before);
    } finally {
      connected = true;
    }
  });

  test('feature disabled in channels.conf: "RagnaSync Ticket Support Disabled", HTTP 200, nothing stored', async () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'conf'));
    fs.writeFileSync(path.join(dir, 'conf/channels.conf'), '// Ticket Support System\nragnasync_ticket_support_system_enabled: false\n');
    const off = await startApp({ dir, env: { GAME_API_TOKEN: TOKEN }, app: { bridgeConnected: () => true } });
    try {
      const response = await fetch(`${off.url}/api/game/actions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(ticketAction(player('Nope'), 'request', 'hi')),
      });
      assert.equal(response.status, 200);
      // `encoded` is the UTF-8 bytes of the text, in base64.
      assert.deepEqual(await response.json(), { ok: true, ticket_id: null, whispers: [{ to: 'Nope', text: 'RagnaSync Ticket Support Disabled', encoded: 'UmFnbmFTeW5jIFRpY2tldCBTdXBwb3J0IERpc2FibGVk' }] });
      assert.equal((prepared(off.db, 'SELECT COUNT(*) AS n FROM tickets').get() as { n: number }).n, 0);
    } finally {
      await off.close();
    }
  });

  test('the bracket text form works like JSON, brackets inside the message included', async () => {
    const p = player('Bracket Man');
    const body = `[action: ticket][via: pm][account_id: ${p.account_id}][char_id: ${p.char_id}][name: Bracket Man][message: my [rare] item is gone]`;
    const { status, json } = await call('POST', '/actions', body);
    assert.equal(status, 200, JSON.stringify(json));
    assert.deepEqual(json.whispers, [{ to: 'Bracket Man', text: 'Ticket Created on Discord. PM @Support to use' }]);
    const message = prepared(app.db, 'SELECT body FROM messages WHERE ticket_id = ?').get(json.ticket_id) as { body: string };
    assert.equal(message.body, 'my [rare] item is gone');
  });

  test('a repeated request_id returns the first answer and stores nothing twice', async () => {
    const p = player('Retrier');
    const action = ticketAction(p, 'pm', 'only once please', { request_id: 'req-42' });
    const first = await call('POST', '/actions', action);
    const before = [count('messages'), count('discord_outbox')];
    const again = await call('POST', '/actions', action);
    assert.equal(again.text, first.text);
    assert.deepEqual([count('messages'), count('discord_outbox')], before);
  });

  test('a request_id belongs to one action of one character: reused by another character or action it is a 409 and nothing is stored', async () => {
    const a = player('Owner');
    const b = player('Intruder');
    const first = await call('POST', '/actions', ticketAction(a, 'pm', 'mine', { request_id: 'shared-1' }));
    assert.equal(first.status, 200);
    const row = prepared(app.db, 'SELECT account_id, char_id, action FROM game_requests WHERE request_id = ?').get('shared-1');
    assert.deepEqual({ ...(row as object) }, { account_id: a.account_id, char_id: a.char_id, action: 'ticket' }, 'the stored answer records whose action it was');
    const before = [count('tickets'), count('messages'), count('discord_outbox'), count('game_requests')];
    const conflicts = [
      ticketAction(b, 'pm', 'theirs', { request_id: 'shared-1' }),
      ticketAction({ ...a, account_id: a.account_id + 1 }, 'pm', 'other account', { request_id: 'shared-1' }),
      { action: 'logout', ...a, request_id: 'shared-1' },
    ];
    for (const action of conflicts) {
      const { status, json } = await call('POST', '/actions', action);
      assert.equal(status, 409, JSON.stringify(action));
      assert.equal(json.ok, false);
      assert.match(String(json.error), /request_id .*already used by another action or character/);
    }
    assert.deepEqual([count('tickets'), count('messages'), count('discord_outbox'), count('game_requests')], before, 'nothing stored for a conflict');
    assert.equal(ticketById(app.db, first.json.ticket_id as number)!.status, 'open', 'the logout under a used request_id did not run');
    const again = await call('POST', '/actions', ticketAction(a, 'pm', 'mine', { request_id: 'shared-1' }));
    assert.equal(again.text, first.text, 'the owner still gets its answer replayed');
  });

  test('a 409 arriving in one group commit with other actions refuses only itself', async () => {
    const a = player('Group Owner');
    await call('POST', '/actions', ticketAction(a, 'pm', 'first', { request_id: 'group-shared' }));
    const c = player('Group C');
    const answers = await Promise.all([
      call('POST', '/actions', ticketAction(c, 'pm', 'c one', { request_id: 'group-c1' })),
      call('POST', '/actions', ticketAction(player('Group B'), 'pm', 'b', { request_id: 'group-shared' })),
      call('POST', '/actions', ticketAction(c, 'pm', 'c two', { request_id: 'group-c2' })),
    ]);
    assert.deepEqual(answers.map((x) => x.status), [200, 409, 200]);
    const bodies = (prepared(app.db, "SELECT body FROM messages WHERE ticket_id = ? AND author_kind = 'player' ORDER BY id").all(answers[0]!.json.ticket_id) as { body: string }[]).map((m) => m.body);
    assert.deepEqual(bodies, ['c one', 'c two']);
    assert.equal(count("game_requests WHERE request_id IN ('group-c1', 'group-c2')"), 2);
  });

  test('a stored answer from before migration 006 (no identity) still replays', async () => {
    const stored = JSON.stringify({ ok: true, ticket_id: null, whispers: [] });
    prepared(app.db, 'INSERT INTO game_requests (request_id, response, created_at) VALUES (?, ?, ?)').run('legacy-1', stored, Date.now());
    const before = [count('tickets'), count('messages'), count('game_requests')];
    const { status, text } = await call('POST', '/actions', ticketAction(player('Legacy'), 'pm', 'hello', { request_id: 'legacy-1' }));
    assert.equal(status, 200);
    assert.equal(text, stored);
    assert.deepEqual([count('tickets'), count('messages'), count('game_requests')], before);
  });

  test('bracket form: a field given twice is a 400; text after [message: is the message, so a player cannot add or override a field', async () => {
    const p = player('Bracket Twice');
    const head = `[action: ticket][via: pm][account_id: ${p.account_id}][char_id: ${p.char_id}][name: Bracket Twice]`;
    const twice = await call('POST', '/actions', `[request_id: br-1]${head}[request_id: br-2][message: hi]`);
    assert.equal(twice.status, 400);
    assert.match(String(twice.json.error), /bracket form: field request_id is given twice/);
    // `message` runs to the last "]": what follows it is the player's text, never a field.
    const typed = 'hi][request_id: br-victim][char_id: 1';
    const { status, json } = await call('POST', '/actions', `[request_id: br-1]${head}[message: ${typed}]`);
    assert.equal(status, 200, JSON.stringify(json));
    assert.equal(ticketById(app.db, json.ticket_id as number)!.gameCharId, p.char_id);
    const body = (prepared(app.db, 'SELECT body FROM messages WHERE ticket_id = ?').get(json.ticket_id) as { body: string }).body;
    assert.equal(body, typed);
    assert.equal(count("game_requests WHERE request_id = 'br-victim'"), 0);
    assert.equal(count("game_requests WHERE request_id = 'br-1'"), 1);
  });


  test('control characters in names and messages are dropped before anything is stored or relayed', async () => {
    const p = { ...player(), name: 'Bell\u0007 Boy\u001b[31m' };
    const { status, json } = await call('POST', '/actions', ticketAction(p, 'request', 'lost\u0000 my\u001b[2J item\r\nplease'));
    assert.equal(status, 200);
    const ticket = prepared(app.db, 'SELECT game_char_name AS name FROM tickets WHERE id = ?').get(json.ticket_id) as { name: string };
    assert.equal(ticket.name, 'Bell Boy[31m');
    const body = (prepared(app.db, 'SELECT body FROM messages WHERE ticket_id = ? ORDER BY id DESC LIMIT 1').get(json.ticket_id) as { body: string }).body;
    assert.equal(body, 'lost my[2J item\nplease');
    // A whisper is one line: the line break is a space there (the stored message keeps it).
    assert.deepEqual(json.whispers, [{ to: 'Bell Boy[31m', text: '[RagnaSync Ticket]: lost my[2J item please' }]);
  });

  test('a character name is one line: every whitespace run (line breaks, tabs, Unicode spaces) becomes one space', async () => {
    const p = { ...player(), name: ' Line\nBreak\r\n\tTab\u2028Sep\u00a0\u3000Wide\u0085End ' };
    const { status, json } = await call('POST', '/actions', ticketAction(p, 'request', 'hello'));
    assert.equal(status, 200, JSON.stringify(json));
    const expected = 'Line Break Tab Sep Wide End';
    assert.deepEqual(json.whispers, [{ to: expected, text: '[RagnaSync Ticket]: hello' }]);
    assert.equal(ticketById(app.db, json.ticket_id as number)!.gameCharName, expected);
    const work = pendingDiscordWork(app.db, json.ticket_id as number).map((w) => JSON.parse(w.payload) as { name?: string });
    assert.equal(work[0]!.name, expected, 'the Discord channel is named from the one-line name');
    assert.equal(discordText(pendingDiscordWork(app.db, json.ticket_id as number)[1]!), `**${expected}** (in game):\n> hello`);
    // The bracket form too, and a name that is only whitespace is still empty.
    const bracket = await call('POST', '/actions', `[action: ticket][via: request][account_id: 1][char_id: ${nextChar++}][name: Two\nLines][message: hi]`);
    assert.deepEqual(bracket.json.whispers, [{ to: 'Two Lines', text: '[RagnaSync Ticket]: hi' }]);
    const blank = await call('POST', '/actions', ticketAction({ ...player(), name: '\n\t\u2028' }, 'pm', 'x'));
    assert.equal(blank.status, 400);
    assert.match(String(blank.json.error), /name must not be empty/);
  });

  test('several actions arriving together (one group commit) are each answered and stored in order', async () => {
    const p = player('Burst');
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => call('POST', '/actions', ticketAction(p, 'pm', `burst ${i}`, { request_id: `burst-${i}` }))));
    assert.ok(answers.every((a) => a.status === 200));
    const ticketId = answers[0]!.json.ticket_id;
    assert.ok(answers.every((a) => a.json.ticket_id === ticketId), 'one ticket for the character');
    const bodies = (prepared(app.db, "SELECT body FROM messages WHERE ticket_id = ? AND author_kind = 'player' ORDER BY id").all(ticketId) as { body: string }[]).map((m) => m.body);
    assert.deepEqual(bodies, Array.from({ length: 12 }, (_, i) => `burst ${i}`));
    // A refused action arriving with good ones is refused alone.
    const mixed = await Promise.all([call('POST', '/actions', ticketAction(p, 'pm', 'good one')), call('POST', '/actions', { ...ticketAction(p, 'pm', 'x'), char_id: -1 })]);
    assert.deepEqual(mixed.map((a) => a.status), [200, 400]);
  });
  test('malformed input is a 400 with a readable reason, and nothing is stored', async () => {
    const p = player('Bad Input');
    const before = [count('tickets'), count('messages')];
    const cases: [unknown, RegExp][] = [
      ['{"action": "ticket", ', /not valid JSON|bracket form/],
      [{ ...ticketAction(p, 'pm', 'x'), via: 'email' }, /via must be "request" or "pm"/],
      [{ ...ticketAction(p, 'pm', 'x'), account_id: -5 }, /account_id must be positive/],
      [{ ...ticketAction(p, 'pm', 'x'), char_id: 'abc' }, /char_id/],
      [{ ...ticketAction(p, 'pm', 'x'), char_id: 1e20 }, /char_id is too large/],
      [{ ...ticketAction(p, 'pm', '   ') }, /message must not be empty/],
      [{ ...ticketAction(p, 'pm', 'x'), name: '' }, /name must not be empty/],
      [{ ...ticketAction(p, 'pm', 'x'), name: ['array'] }, /name/],
      [{ ...ticketAction(p, 'pm', 'x'), admin: true }, /unknown field admin/],
      [{ action: 'dance', ...p }, /action must be "ticket" or "logout"/],
      [[1, 2], /body must be a JSON object/],
      ['[action: ticket][via: pm', /bracket form: \[via: \.\.\.\] is not closed/],
      ['hello world', /bracket form: expected "\[key: value\]"/],
      ['[action: ticket][action: logout]', /given twice/],
      [{ ...ticketAction(p, 'pm', 'x'.repeat(4001)) }, /message must be at most 4000 characters/],
    ];
    for (const [body, reason] of cases) {
      const { status, json } = await call('POST', '/actions', body);
      assert.equal(status, 400, JSON.stringify(body).slice(0, 80));
      assert.equal(json.ok, false);
      assert.match(String(json.error), reason, JSON.stringify(body).slice(0, 80));
    }
    assert.deepEqual([count('tickets'), count('messages')], before);
    const unknownPath = await call('GET', '/nothing');
    assert.equal(unknownPath.status, 404);
  });

  test('logout closes the character’s ticket when close-on-logout is on (the default), and queues the channel close', async () => {
    const p = player('Leaver');
    const opened = await call('POST', '/actions', ticketAction(p, 'pm', 'bye soon'));
    const { status, json } = await call('POST', '/actions', { action: 'logout', ...p });
    assert.equal(status, 200);
    assert.deepEqual(json, { ok: true, ticket_id: opened.json.ticket_id, closed: true, whispers: [] });
    assert.equal(ticketById(app.db, opened.json.ticket_id as number)!.status, 'closed');
    assert.ok(pendingDiscordWork(app.db, opened.json.ticket_id as number).some((w) => w.kind === 'close_channel'));
    const next = await call('POST', '/actions', ticketAction(p, 'pm', 'back again'));
    assert.notEqual(next.json.ticket_id, opened.json.ticket_id, 'the next PM opens a new ticket');
    assert.deepEqual(next.json.whispers, [{ to: 'Leaver', text: 'Ticket Created on Discord. PM @Support to use' }]);
    const none = await call('POST', '/actions', { action: 'logout', ...player('Never Opened') });
    assert.deepEqual(none.json, { ok: true, ticket_id: null, closed: false, whispers: [] });
  });

  test('the player’s message is inserted into the template exactly as typed ($ patterns are not expanded)', async () => {
    const message = "costs $& and $` and $' and $1 and $$ and $<x>";
    const { status, json } = await call('POST', '/actions', ticketAction(player('Dollar'), 'request', message));
    assert.equal(status, 200);
    assert.deepEqual(json.whispers, [{ to: 'Dollar', text: `[RagnaSync Ticket]: ${message}` }]);
    // The amplification this stops: 4,000 × "$&" became 40,020 characters of echo.
    const big = await call('POST', '/actions', ticketAction(player('Amplifier'), 'request', '$&'.repeat(2000)));
    // Split into whisper lines of GAME_WHISPER_MAX (200) bytes, like every whisper: none grew.
    const lines = (big.json.whispers as { text: string }[]).map((w) => w.text);
    assert.equal(lines.join(''), `[RagnaSync Ticket]: ${'$&'.repeat(2000)}`);
    assert.equal(lines.length, Math.ceil((20 + 4000) / 200));
  });

  test('whisper texts follow the admin’s templates', async () => {
    const { saveWhisperTemplates, DEFAULT_WHISPER_TEMPLATES } = await import('../../src/settings.js');
    saveWhisperTemplates(app.db, { ...DEFAULT_WHISPER_TEMPLATES, request: '<Support> got: {message}' });
    try {
      const { json } = await call('POST', '/actions', ticketAction(player('Templated'), 'request', 'hi'));
      assert.deepEqual(json.whispers, [{ to: 'Templated', text: '<Support> got: hi' }]);
    } finally {
      saveWhisperTemplates(app.db, { ...DEFAULT_WHISPER_TEMPLATES });
    }
  });
});

describe('whispers: long poll, ack, redelivery', () => {
  async function ticketFor(name: string): Promise<number> {
    const { json } = await call('POST', '/actions', ticketAction(player(name), 'pm', 'need help'));
    return json.ticket_id as number;
  }
  function staffSays(ticketId: number, text: string): void {
    queueWhispersForTicket(app.db, ticketById(app.db, ticketId)!, 'GM Sam', text, app.config.game.whisperMax, Date.now());
    signals.whispers.notify();
  }
  async function drain(): Promise<void> {
    const { json } = await call('GET', '/whispers?limit=500');
    const ids = (json.whispers as { id: number }[]).map((w) => w.id);
    if (ids.length) await call('POST', '/whispers/ack', { ids });
  }

  test('a waiting poll answers within milliseconds of a staff answer', async () => {
    await drain();
    const ticketId = await ticketFor('Waiter');
    const started = Date.now();
    const waitingBefore = signals.whispers.waiting;
    const poll = call('GET', '/whispers?wait=10');
    await pollUntil(() => signals.whispers.waiting > waitingBefore, 5000, 'the poll to wait');
    staffSays(ticketId, 'Hello from Support');
    const { status, json } = await poll;
    const waited = Date.now() - started;
    assert.equal(status, 200);
    const whispers = json.whispers as Record<string, unknown>[];
    assert.equal(whispers.length, 1);
    assert.deepEqual({ ...whispers[0], id: 0 }, { id: 0, account_id: 2000001, char_id: ticketById(app.db, ticketId)!.gameCharId, name: 'Waiter', from: 'GM Sam', text: 'Hello from Support' });
    assert.ok(waited < 2000, `answered after ${waited} ms, not at the end of the wait`);
    await call('POST', '/whispers/ack', { ids: [whispers[0]!.id] });
  });

  test('long answers are split to GAME_WHISPER_MAX in order; `from` is not counted', async () => {
    await drain();
    const ticketId = await ticketFor('Reader');
    const text = Array.from({ length: 80 }, (_, i) => `w${i}`).join(' ');
    staffSays(ticketId, text);
    const { json } = await call('GET', '/whispers');
    const parts = (json.whispers as { text: string; id: number }[]).map((w) => w.text);
    assert.ok(parts.length >= 2);
    assert.ok(parts.every((part) => [...part].length <= app.config.game.whisperMax));
    assert.equal(parts.join(' '), text);
    await call('POST', '/whispers/ack', { ids: (json.whispers as { id: number }[]).map((w) => w.id) });
  });

  test('an unacked whisper comes back after the visibility timeout; an acked one never does', async () => {
    await drain();
    const ticketId = await ticketFor('Forgetful Server');
    staffSays(ticketId, 'first');
    const first = await call('GET', '/whispers');
    assert.equal((first.json.whispers as unknown[]).length, 1);
    const hidden = await call('GET', '/whispers');
    assert.deepEqual(hidden.json.whispers, [], 'hidden while handed out');
    const again = await call('GET', '/whispers?wait=3');
    assert.deepEqual(again.json.whispers, first.json.whispers, 'handed out again after GAME_WHISPER_VISIBILITY_S (1 s here)');
    const ack = await call('POST', '/whispers/ack', { ids: [(first.json.whispers as { id: number }[])[0]!.id] });
    assert.deepEqual(ack.json, { ok: true, acked: 1 });
    // Proving a negative: a poll that waits past the visibility timeout (1 s) would get the whisper
    // back the moment it was visible again, as `again` did above.
    assert.deepEqual((await call('GET', '/whispers?wait=2')).json.whispers, []);
  });

  test('a later whisper to the same player waits while an earlier one is out (order is kept)', async () => {
    await drain();
    const ticketId = await ticketFor('Orderly');
    staffSays(ticketId, 'one');
    const first = await call('GET', '/whispers');
    staffSays(ticketId, 'two');
    assert.deepEqual((await call('GET', '/whispers')).json.whispers, [], '"two" waits for "one" to be acked');
    await call('POST', '/whispers/ack', { ids: (first.json.whispers as { id: number }[]).map((w) => w.id) });
    const second = await call('GET', '/whispers');
    assert.deepEqual((second.json.whispers as { text: string }[]).map((w) => w.text), ['two']);
    await call('POST', '/whispers/ack', { ids: (second.json.whispers as { id: number }[]).map((w) => w.id) });
  });

  test('whispers survive a restart (they live in SQLite)', async () => {
    await drain();
    const ticketId = await ticketFor('Patient');
    staffSays(ticketId, 'waiting for you');
    const restarted = await startApp({ dir: app.dir, env: { GAME_API_TOKEN: TOKEN, ...DISCORD }, app: { bridgeConnected: () => true } });
    try {
      const response = await fetch(`${restarted.url}/api/game/whispers`, { headers: { authorization: `Bearer ${TOKEN}` } });
      const body = (await response.json()) as { whispers: { text: string; id: number }[] };
      assert.deepEqual(body.whispers.map((w) => w.text), ['waiting for you']);
      await fetch(`${restarted.url}/api/game/whispers/ack`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ ids: body.whispers.map((w) => w.id) }) });
    } finally {
      await restarted.close();
    }
  });

  test('bad wait, limit and ack bodies are 400s', async () => {
    for (const query of ['wait=-1', 'wait=61', 'wait=abc', 'limit=0', 'limit=501', 'limit=x']) {
      assert.equal((await call('GET', `/whispers?${query}`)).status, 400, query);
    }
    for (const body of [{}, { ids: [] }, { ids: ['1'] }, { ids: [1.5] }, { ids: [1], extra: 1 }, 'nope']) {
      assert.equal((await call('POST', '/whispers/ack', body)).status, 400, JSON.stringify(body));
    }
  });
});

describe('long polls: a cap on waiting polls, one poll woken per wake-up', () => {
  interface Poll {
    abort: AbortController;
    answer: Promise<{ status: number; json: Record<string, unknown>; headers: Headers } | 'aborted'>;
    settled: boolean;
  }
  function startPoll(base: string, query: string): Poll {
    const abort = new AbortController();
    const poll: Poll = {
      abort,
      settled: false,
      answer: fetch(`${base}/api/game/whispers?${query}`, { headers: { authorization: `Bearer ${TOKEN}` }, signal: abort.signal })
        .then(async (response) => ({ status: response.status, json: (await response.json()) as Record<string, unknown>, headers: response.headers }))
        .catch(() => 'aborted' as const)
        .finally(() => {
          poll.settled = true;
        }),
    };
    return poll;
  }
  async function stopPolls(polls: Poll[]): Promise<void> {
    for (const poll of polls) poll.abort.abort();
    await Promise.all(polls.map((poll) => poll.answer));
  }
  async function openTicket(other: TestApp, name: string): Promise<number> {
    const response = await fetch(`${other.url}/api/game/actions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(ticketAction(player(name), 'pm', 'help')),
    });
    return ((await response.json()) as { ticket_id: number }).ticket_id;
  }
  function queueWhisper(other: TestApp, ticketId: number, text: string): void {
    queueWhispersForTicket(other.db, ticketById(other.db, ticketId)!, 'GM Sam', text, other.config.game.whisperMax, Date.now());
  }

  test('an ack wakes a waiting poll for the next whisper to the same character (they go out in order)', async () => {
    const own = { whispers: new Signal(), discordWork: new Signal(), notifications: new Signal() };
    const acking = await startApp({ env: { GAME_API_TOKEN: TOKEN, ...DISCORD }, app: { bridgeConnected: () => true, signals: own } });
    const polls: Poll[] = [];
    try {
      const ticketId = await openTicket(acking, 'Two Parts');
      queueWhisper(acking, ticketId, 'first part');
      queueWhisper(acking, ticketId, 'second part');
      const first = await startPoll(acking.url, 'wait=0&limit=1').answer;
      assert.ok(first !== 'aborted');
      const firstIds = (first.json.whispers as { id: number; text: string }[]).map((w) => w.id);
      assert.deepEqual((first.json.whispers as { text: string }[]).map((w) => w.text), ['first part'], 'the second waits for the first');
      polls.push(startPoll(acking.url, 'wait=30'));
      await pollUntil(() => own.whispers.waiting === 1, 5000, 'a poll waiting');
      await fetch(`${acking.url}/api/game/whispers/ack`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ ids: firstIds }) });
      // Before, the waiting poll slept to the end of its 30 s.
      await pollUntil(() => polls[0]!.settled, 2000, 'the waiting poll to answer after the ack');
      const second = await polls[0]!.answer;
      assert.deepEqual(second !== 'aborted' && (second.json.whispers as { text: string }[]).map((w) => w.text), ['second part']);
    } finally {
      await stopPolls(polls);
      await acking.close();
    }
  });

  test('beyond the cap a poll that would wait gets 503 with Retry-After; polls that answer at once are not counted', async () => {
    const own = { whispers: new Signal(), discordWork: new Signal(), notifications: new Signal() };
    const capped = await startApp({ env: { GAME_API_TOKEN: TOKEN, ...DISCORD }, app: { bridgeConnected: () => true, signals: own, gameApi: { maxWaitingPolls: 2 } } });
    const waiting: Poll[] = [];
    try {
      const ticketId = await openTicket(capped, 'Capped');
      waiting.push(startPoll(capped.url, 'wait=30'), startPoll(capped.url, 'wait=30'));
      await pollUntil(() => own.whispers.waiting === 2, 5000, 'two polls waiting');
      const third = await startPoll(capped.url, 'wait=30').answer;
      assert.notEqual(third, 'aborted');
      if (third === 'aborted') return;
      assert.equal(third.status, 503);
      assert.equal(third.json.ok, false);
      assert.match(String(third.json.error), /too many long polls waiting/);
      assert.match(third.headers.get('retry-after') ?? '', /^[1-9]\d*$/, 'Retry-After in whole seconds');
      // A poll that does not wait, or finds whispers at once, is answered as usual at the cap.
      const now = await startPoll(capped.url, 'wait=0').answer;
      assert.deepEqual(now !== 'aborted' && [now.status, now.json], [200, { whispers: [] }]);
      // Queuing a whisper wakes one waiting poll by itself (the outbox signals after the commit).
      queueWhisper(capped, ticketId, 'wakes one');
      await pollUntil(() => waiting.filter((poll) => poll.settled).length === 1, 5000, 'one waiting poll to answer');
      assert.equal(own.whispers.waiting, 1, 'the other keeps waiting');
      // A poll that ends gives its place back.
      await stopPolls(waiting);
      await pollUntil(() => own.whispers.waiting === 0, 5000, 'the waiting polls to end');
      const later = await startPoll(capped.url, 'wait=0.2').answer;
      assert.deepEqual(later !== 'aborted' && [later.status, later.json], [200, { whispers: [] }]);
    } finally {
      await stopPolls(waiting);
      await capped.close();
    }
  });

  test('one queued whisper wakes one waiting poll: one answers, the others keep waiting, and the wake-up does not cost a query per poll', async () => {
    const dir = tempDir();
    let whisperQueries = 0;
    const { db } = openDatabase(path.join(dir, 'app.db'), { onStatement: (sql) => void (/\bgame_whispers\b/.test(sql) && (whisperQueries += 1)) });
    const own = { whispers: new Signal(), discordWork: new Signal(), notifications: new Signal() };
    const herd = await startApp({ dir, db, env: { GAME_API_TOKEN: TOKEN, ...DISCORD }, app: { bridgeConnected: () => true, signals: own } });
    const polls: Poll[] = [];
    try {
      const first = await openTicket(herd, 'Herd One');
      const second = await openTicket(herd, 'Herd Two');
      polls.push(...Array.from({ length: 5 }, () => startPoll(herd.url, 'wait=30')));
      await pollUntil(() => own.whispers.waiting === 5, 5000, 'five polls waiting');

      // Queuing wakes the polls by itself (after the commit): no notify() here. The woken poll
      // runs its queries on a later turn, so counting from here counts the wake-up's cost alone.
      queueWhisper(herd, first, 'for one poll');
      whisperQueries = 0;
      await pollUntil(() => polls.some((poll) => poll.settled), 5000, 'a poll to answer');
      await pollUntil(() => own.whispers.waiting === 4, 5000, 'the others to wait again');
      const answered = polls.filter((poll) => poll.settled);
      assert.equal(answered.length, 1, 'exactly one poll answered');
      const answer = await answered[0]!.answer;
      assert.deepEqual(answer !== 'aborted' && (answer.json.whispers as { text: string }[]).map((w) => w.text), ['for one poll']);
      assert.ok(whisperQueries <= 2, `the wake-up ran ${whisperQueries} whisper queries for 5 waiting polls`);

      // A poll that leases a full batch passes the wake-up on: with limit=1, two whispers to two
      // characters are taken by two polls, from one notify.
      await stopPolls(polls.splice(0));
      await pollUntil(() => own.whispers.waiting === 0, 5000, 'the polls to end');
      await fetch(`${herd.url}/api/game/whispers/ack`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ ids: ((answer !== 'aborted' && answer.json.whispers) as { id: number }[]).map((w) => w.id) }) });
      polls.push(...Array.from({ length: 3 }, () => startPoll(herd.url, 'wait=30&limit=1')));
      await pollUntil(() => own.whispers.waiting === 3, 5000, 'three polls waiting');
      queueWhisper(herd, first, 'batch a');
      queueWhisper(herd, second, 'batch b');
      await pollUntil(() => polls.filter((poll) => poll.settled).length === 2, 5000, 'two polls to answer');
      await pollUntil(() => own.whispers.waiting === 1, 5000, 'the third to wait again');
      const texts = await Promise.all(polls.filter((poll) => poll.settled).map(async (poll) => {
        const reply = await poll.answer;
        return reply === 'aborted' ? [] : (reply.json.whispers as { text: string }[]).map((w) => w.text);
      }));
      assert.deepEqual(texts.flat().sort(), ['batch a', 'batch b']);
      assert.equal(polls.filter((poll) => poll.settled).length, 2, 'the third poll keeps waiting');
    } finally {
      await stopPolls(polls);
      await herd.close();
      db.close();
    }
  });
});
