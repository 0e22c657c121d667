// Issue #14: in-game text that survives a real Ragnarok client. The game server speaks one legacy
// code page (GAME_TEXT_ENCODING); whispers carry only what it can show, as `encoded` bytes of at
// most GAME_WHISPER_MAX each, split between characters; bracket bodies are read in their charset.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import iconv from 'iconv-lite';
import { ticketById } from '../../src/db/tickets.js';
import { addUser, Client, startApp, type TestApp } from '../helpers/app.js';
import { GAME_TOKEN, startBridged, type BridgedSetup } from '../helpers/bridge.js';

interface PolledWhisper {
  id: number;
  name: string;
  from: string;
  text: string;
  encoded: string;
}

async function api(base: string, method: string, pathname: string, body?: string | Buffer, contentType = 'application/json') {
  const response = await fetch(`${base}/api/game${pathname}`, {
    method,
    headers: { authorization: `Bearer ${GAME_TOKEN}`, ...(body !== undefined ? { 'content-type': contentType } : {}) },
    body,
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** Every pending whisper (acked once read), as the game server gets them. */
async function whispers(base: string): Promise<PolledWhisper[]> {
  const { json } = await api(base, 'GET', '/whispers?wait=0&limit=500');
  const list = json.whispers as PolledWhisper[];
  if (list.length) await api(base, 'POST', '/whispers/ack', JSON.stringify({ ids: list.map((w) => w.id) }));
  return list;
}

describe('cp1251: a Russian player and a Russian answer round-trip through Discord', () => {
  let setup: BridgedSetup;
  before(async () => {
    setup = await startBridged({ env: { GAME_TEXT_ENCODING: 'cp1251', GAME_WHISPER_MAX: '40' } });
  });
  after(() => setup.close());

  test('a bracket body in windows-1251: the name reads in Cyrillic in the channel; the answer comes back as cp1251 bytes of at most 40', async () => {
    const body = iconv.encode('[action: ticket][via: pm][account_id: 2000001][char_id: 190001][name: Иван Петров][message: Где мой меч?]', 'win1251');
    const opened = await api(setup.app.url, 'POST', '/actions', body, 'text/plain; charset=windows-1251');
    assert.equal(opened.status, 200, JSON.stringify(opened.json));
    const ticketId = opened.json.ticket_id as number;
    assert.equal(ticketById(setup.app.db, ticketId)!.gameCharName, 'Иван Петров');
    const channelId = await setup.fake.waitFor(() => ticketById(setup.app.db, ticketId)?.discordChannelId, 5000, 'the ticket channel');
    assert.equal(setup.fake.channels.get(channelId)!.name, 'ticket-иван-петров');
    await setup.fake.waitFor(() => setup.fake.messagesIn(channelId).some((m) => m.content.includes('> Где мой меч?')), 5000, 'the message in Russian');

    const answer = 'Здравствуйте, Иван! Ваш меч найден в хранилище гильдии, заберите его у Кафры.';
    setup.fake.userSays(channelId, { userId: setup.staffId, content: answer });
    const got = await pollWhispers(setup.app.url, 2);
    const bytes = got.map((w) => Buffer.from(w.encoded, 'base64'));
    assert.ok(bytes.every((b) => b.length <= 40), `every part at most 40 bytes: ${bytes.map((b) => b.length).join(', ')}`);
    assert.deepEqual(
      bytes.map((b) => iconv.decode(b, 'win1251')),
      got.map((w) => w.text),
      'encoded is the cp1251 of text',
    );
    // Two lines, cut at the last space that fits in 40 bytes (one byte a Cyrillic letter).
    assert.deepEqual(got.map((w) => w.text), ['Здравствуйте, Иван! Ваш меч найден в', 'хранилище гильдии, заберите его у Кафры.']);
    assert.ok(got.every((w) => w.name === 'Иван Петров' && w.from === 'GM Sam'));
  });
});

/** Polls until at least `count` whispers have come (acking them), without sleeping. */
async function pollWhispers(base: string, count: number): Promise<PolledWhisper[]> {
  const all: PolledWhisper[] = [];
  const deadline = Date.now() + 5000;
  while (all.length < count && Date.now() < deadline) {
    const { json } = await api(base, 'GET', '/whispers?wait=2&limit=500');
    const list = json.whispers as PolledWhisper[];
    if (list.length) await api(base, 'POST', '/whispers/ack', JSON.stringify({ ids: list.map((w) => w.id) }));
    all.push(...list);
  }
  return all;
}

/** A game ticket answered from the staff console under `encoding`: the whispers the game server gets. */
async function consoleAnswer(encoding: string, max: number, answer: string): Promise<{ app: TestApp; got: PolledWhisper[] }> {
  const app = await startApp({
    env: { GAME_API_TOKEN: GAME_TOKEN, GAME_TEXT_ENCODING: encoding, GAME_WHISPER_MAX: String(max), GAME_TICKETS_WITHOUT_DISCORD: 'true' },
  });
  const opened = await api(app.url, 'POST', '/actions', JSON.stringify({ action: 'ticket', via: 'pm', account_id: 2000002, char_id: 190002, name: 'Player', message: 'help' }));
  assert.equal(opened.status, 200, JSON.stringify(opened.json));
  await addUser(app.db, `gm_${encoding.replace(/\W/g, '')}`, 'correct horse battery', 'staff');
  const staff = new Client(app.url);
  await staff.login(`gm_${encoding.replace(/\W/g, '')}`);
  const id = opened.json.ticket_id as number;
  const _csrf = await staff.csrf(`/index.php?view=ticket&id=${id}`);
  assert.equal((await staff.postMultipart(`/index.php?view=ticket&id=${id}&action=reply`, { _csrf, message: answer })).status, 303);
  return { app, got: await whispers(app.url) };
}

describe('answers from the console in other code pages', () => {
  test('cp874: a Thai answer arrives as Thai bytes', async () => {
    const { app, got } = await consoleAnswer('cp874', 200, 'สวัสดีครับ ได้รับเรื่องแล้ว');
    try {
      assert.deepEqual(got.map((w) => w.text), ['สวัสดีครับ ได้รับเรื่องแล้ว']);
      assert.equal(iconv.decode(Buffer.from(got[0]!.encoded, 'base64'), 'cp874'), 'สวัสดีครับ ได้รับเรื่องแล้ว');
      // Thai letters are one byte each in cp874: 27 characters, 27 bytes.
      assert.equal(Buffer.from(got[0]!.encoded, 'base64').length, 27);
    } finally {
      await app.close();
    }
  });

  test('GBK: a Chinese answer is split between characters, two bytes each', async () => {
    const answer = '您好这是一个很长的中文回答需要被分成几段发送给玩家';
    const { app, got } = await consoleAnswer('gbk', 21, answer);
    try {
      const bytes = got.map((w) => Buffer.from(w.encoded, 'base64'));
      // 25 characters of 2 bytes; 21 bytes hold 10 characters (20 bytes), never half of one.
      assert.deepEqual(bytes.map((b) => b.length), [20, 20, 10]);
      assert.deepEqual(got.map((w) => w.text), ['您好这是一个很长的中', '文回答需要被分成几段', '发送给玩家']);
      assert.deepEqual(bytes.map((b) => iconv.decode(b, 'gbk')), got.map((w) => w.text));
    } finally {
      await app.close();
    }
  });

  test('cp1252: emoji become nothing, accents stay, other scripts become ?', async () => {
    const { app, got } = await consoleAnswer('cp1252', 200, 'Done 👍🏽 — café for you Ω 你');
    try {
      assert.deepEqual(got.map((w) => w.text), ['Done — café for you ? ?']);
      assert.equal(Buffer.from(got[0]!.encoded, 'base64').toString('latin1'), 'Done \u0097 caf\u00e9 for you ? ?');
    } finally {
      await app.close();
    }
  });
});

describe('game tickets without Discord', () => {
  test('with GAME_TICKETS_WITHOUT_DISCORD=true and no Discord, a PM opens a ticket; without it, "Offline" and nothing stored', async () => {
    const on = await startApp({ env: { GAME_API_TOKEN: GAME_TOKEN, GAME_TICKETS_WITHOUT_DISCORD: 'true' } });
    const off = await startApp({ env: { GAME_API_TOKEN: GAME_TOKEN } });
    try {
      const pm = JSON.stringify({ action: 'ticket', via: 'pm', account_id: 2000003, char_id: 190003, name: 'Lone', message: 'anyone?' });
      const opened = await api(on.url, 'POST', '/actions', pm);
      assert.equal(typeof opened.json.ticket_id, 'number');
      assert.equal(ticketById(on.db, opened.json.ticket_id as number)!.source, 'game');
      const refused = await api(off.url, 'POST', '/actions', pm);
      assert.deepEqual((refused.json.whispers as { text: string }[]).map((w) => w.text), ['RagnaSync: Ticket Offline, Try again']);
      assert.equal(refused.json.ticket_id, null);
    } finally {
      await on.close();
      await off.close();
    }
  });
});
