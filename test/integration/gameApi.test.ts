// The game-server API over real HTTP (DESIGN.md "The game-server API"; seed 002 § Player Messages).
// The Discord side is represented by `bridgeConnected` here; test/integration/discord*.test.ts
// runs the real bot against the fake Discord.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { prepared } from '../../src/db/index.js';
import { pendingDiscordWork } from '../../src/db/outboxes.js';
import { ticketById } from '../../src/db/tickets.js';
import { Signal } from '../../src/signal.js';
import { queueWhispersForTicket } from '../../src/tickets/game.js';
import { startApp, tempDir, type TestApp } from '../helpers/app.js';

const TOKEN = 'game-server-token-0123456789';
let connected = true;
let app: TestApp;
const signals = { whispers: new Signal(), discordWork: new Signal(), notifications: new Signal() };

before(async () => {
  app = await startApp({ env: { GAME_API_TOKEN: TOKEN, GAME_WHISPER_VISIBILITY_S: '1' }, app: { bridgeConnected: () => connected, signals } });
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
    assert.equal((work[1]![1] as { content: string }).content, '**Hero** (in game):\n> I lost my sword');
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
    assert.deepEqual(posts.map((w) => (JSON.parse(w.payload) as { content: string }).content), ['**Whisperer** (in game):\n> help me', '**Whisperer** (in game):\n> are you there?', '**Whisperer** (in game):\n> still here'], 'in order');
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
      assert.deepEqual(await response.json(), { ok: true, ticket_id: null, whispers: [{ to: 'Nope', text: 'RagnaSync Ticket Support Disabled' }] });
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


  test('control characters in names and messages are dropped before anything is stored or relayed', async () => {
    const p = { ...player(), name: 'Bell\u0007 Boy\u001b[31m' };
    const { status, json } = await call('POST', '/actions', ticketAction(p, 'request', 'lost\u0000 my\u001b[2J item\r\nplease'));
    assert.equal(status, 200);
    const ticket = prepared(app.db, 'SELECT game_char_name AS name FROM tickets WHERE id = ?').get(json.ticket_id) as { name: string };
    assert.equal(ticket.name, 'Bell Boy[31m');
    const body = (prepared(app.db, 'SELECT body FROM messages WHERE ticket_id = ? ORDER BY id DESC LIMIT 1').get(json.ticket_id) as { body: string }).body;
    assert.equal(body, 'lost my[2J item\nplease');
    assert.deepEqual(json.whispers, [{ to: 'Bell Boy[31m', text: '[RagnaSync Ticket]: lost my[2J item\nplease' }]);
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
    const poll = call('GET', '/whispers?wait=10');
    await new Promise((resolve) => setTimeout(resolve, 100));
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
    await new Promise((resolve) => setTimeout(resolve, 1100));
    assert.deepEqual((await call('GET', '/whispers')).json.whispers, []);
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
    const restarted = await startApp({ dir: app.dir, env: { GAME_API_TOKEN: TOKEN }, app: { bridgeConnected: () => true } });
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
