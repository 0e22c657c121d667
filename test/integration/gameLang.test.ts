// The player's language in game (issue #16): a game action's `"lang"` (JSON) or `[lang: xx]`
// (bracket form) is stored on the ticket, and the whisper texts (seed 002's four) are in that
// language unless the admin overrode them, or the game's code page cannot show them.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import iconv from 'iconv-lite';
import { prepared } from '../../src/db/index.js';
import { ticketLocale } from '../../src/db/tickets.js';
import { saveSetting } from '../../src/db/settings.js';
import { DEFAULT_WHISPER_TEMPLATES, saveWhisperTemplates, whisperOverrides } from '../../src/settings.js';
import { Signal } from '../../src/signal.js';
import { localWhisperTemplates } from '../../src/tickets/game.js';
import { startApp, tempDir, type TestApp } from '../helpers/app.js';

const TOKEN = 'game-server-token-for-languages-0123';
const DISCORD = { DISCORD_TOKEN: 'fake-discord-token-for-the-game-lang-tests', DISCORD_GUILD_ID: '100000000000000002' };

type Whispered = { to: string; text: string; encoded: string };
async function call(base: string, body: unknown, encoding = 'utf-8') {
  const response = await fetch(`${base}/api/game/actions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const json = (await response.json()) as { ok: boolean; ticket_id: number | null; whispers: Whispered[]; error?: string };
  for (const w of json.whispers ?? []) assert.equal(iconv.decode(Buffer.from(w.encoded, 'base64'), encoding), w.text, `encoded is the ${encoding} of text`);
  return { status: response.status, json, texts: (json.whispers ?? []).map((w) => w.text) };
}

let nextChar = 170001;
function player(name: string) {
  return { account_id: 2000100, char_id: nextChar++, name };
}

describe('with Discord: JSON "lang" and bracket [lang: xx]', () => {
  let app: TestApp;
  let connected = true;
  before(async () => {
    app = await startApp({ env: { GAME_API_TOKEN: TOKEN, ...DISCORD }, app: { bridgeConnected: () => connected, signals: { whispers: new Signal(), discordWork: new Signal(), notifications: new Signal() } } });
  });
  after(() => app.close());

  test('"lang":"es": Spanish confirmation, and later whispers on that ticket stay Spanish without a lang', async () => {
    const p = player('Diego');
    const opened = await call(app.url, { action: 'ticket', via: 'pm', ...p, message: 'perdí mi espada', lang: 'es' });
    assert.equal(opened.status, 200);
    assert.deepEqual(opened.texts, ['Ticket creado en Discord. Envía un PM a @Support para usarlo']);
    assert.equal(ticketLocale(app.db, opened.json.ticket_id!), 'es');
    const echoed = await call(app.url, { action: 'ticket', via: 'request', ...p, message: 'sigo esperando' });
    assert.deepEqual(echoed.texts, ['[Ticket RagnaSync]: sigo esperando']);
    connected = false;
    try {
      const offline = await call(app.url, { action: 'ticket', via: 'pm', ...p, message: '¿hola?' });
      assert.deepEqual(offline.texts, ['RagnaSync: tickets sin conexión, inténtalo de nuevo']);
    } finally {
      connected = true;
    }
  });

  test('[lang: ru] in the bracket form: Russian confirmation, echo and offline text', async () => {
    const p = player('Иван');
    const fields = `[action: ticket][via: pm][account_id: ${p.account_id}][char_id: ${p.char_id}][name: ${p.name}][lang: ru]`;
    const opened = await call(app.url, `${fields}[message: где мой меч]`);
    assert.equal(opened.status, 200, opened.json.error);
    assert.deepEqual(opened.texts, ['Тикет создан в Discord. Пишите в ЛС @Support']);
    assert.equal(ticketLocale(app.db, opened.json.ticket_id!), 'ru');
    const echoed = await call(app.url, `[action: ticket][via: request][account_id: ${p.account_id}][char_id: ${p.char_id}][name: ${p.name}][message: жду [ответа]]`);
    assert.deepEqual(echoed.texts, ['[Тикет RagnaSync]: жду [ответа]']);
    connected = false;
    try {
      assert.deepEqual((await call(app.url, `${fields}[message: ау]`)).texts, ['RagnaSync: тикеты недоступны, попробуйте ещё раз']);
    } finally {
      connected = true;
    }
  });

  test('a later lang replaces the ticket’s; "pt_BR", "ru-RU" and "pt" are understood; unknown or odd values are ignored, never refused', async () => {
    const p = player('Joana');
    assert.deepEqual((await call(app.url, { action: 'ticket', via: 'request', ...p, message: 'oi', lang: 'pt_BR' })).texts, ['[Ticket RagnaSync]: oi']);
    const switched = await call(app.url, { action: 'ticket', via: 'request', ...p, message: 'halo', lang: 'id' });
    assert.deepEqual(switched.texts, ['[Tiket RagnaSync]: halo']);
    assert.equal(ticketLocale(app.db, switched.json.ticket_id!), 'id');
    assert.deepEqual((await call(app.url, { action: 'ticket', via: 'request', ...player('Olga'), message: 'x', lang: 'ru-RU' })).texts, ['[Тикет RagnaSync]: x']);
    assert.deepEqual((await call(app.url, { action: 'ticket', via: 'request', ...player('Pedro'), message: 'x', lang: 'pt' })).texts, ['[Ticket RagnaSync]: x']);
    for (const lang of ['xx', 'klingon-KL', '', 42, null, ['es'], { tag: 'es' }, 'x'.repeat(5000)]) {
      const answer = await call(app.url, { action: 'ticket', via: 'request', ...player('Anyone'), message: 'kept', lang });
      assert.equal(answer.status, 200, `lang ${JSON.stringify(lang).slice(0, 40)}: ${answer.json.error}`);
      assert.deepEqual(answer.texts, ['[RagnaSync Ticket]: kept'], 'seed 002’s English');
      assert.equal(ticketLocale(app.db, answer.json.ticket_id!), null);
    }
    const unknownBracket = await call(app.url, `[action: ticket][via: pm][account_id: 2000100][char_id: ${nextChar++}][name: Zed][lang: zz][message: still here]`);
    assert.equal(unknownBracket.status, 200);
    assert.deepEqual(unknownBracket.texts, ['Ticket Created on Discord. PM @Support to use']);
    // After the message, "[lang: ru]" is the player's text, not a field.
    const typed = await call(app.url, `[action: ticket][via: request][account_id: 2000100][char_id: ${nextChar++}][name: Zed][message: hi][lang: ru]`);
    assert.deepEqual(typed.texts, ['[RagnaSync Ticket]: hi][lang: ru']);
    // A logout may carry it too.
    const logout = await call(app.url, { action: 'logout', ...p, lang: 'es' });
    assert.equal(logout.status, 200);
  });

  test('an admin’s own text wins over lang; a text stored as the seed’s still follows the player', async () => {
    saveWhisperTemplates(app.db, { ...DEFAULT_WHISPER_TEMPLATES, pmCreated: 'Ticket opened! PM @Support' });
    try {
      assert.deepEqual(whisperOverrides(app.db), { request: false, pmCreated: true, offline: false, disabled: false });
      const p = player('Lucía');
      assert.deepEqual((await call(app.url, { action: 'ticket', via: 'pm', ...p, message: 'hola', lang: 'es' })).texts, ['Ticket opened! PM @Support']);
      assert.deepEqual((await call(app.url, { action: 'ticket', via: 'request', ...p, message: 'hola' })).texts, ['[Ticket RagnaSync]: hola']);
      assert.deepEqual((await call(app.url, { action: 'ticket', via: 'pm', ...player('Plain'), message: 'hi' })).texts, ['Ticket opened! PM @Support'], 'without lang: the admin’s text');
    } finally {
      saveSetting(app.db, 'game.whisper_templates', {});
    }
    assert.deepEqual(whisperOverrides(app.db), { request: false, pmCreated: false, offline: false, disabled: false });
  });
});

describe('code pages and tickets without Discord', () => {
  async function withApp(env: Record<string, string>, run: (app: TestApp) => Promise<void>): Promise<void> {
    const app = await startApp({ env: { GAME_API_TOKEN: TOKEN, GAME_TICKETS_WITHOUT_DISCORD: 'true', ...env } });
    try {
      await run(app);
    } finally {
      await app.close();
    }
  }

  test('th on cp874: Thai whispers, as Thai bytes; without Discord the confirmation does not say "on Discord"', async () => {
    await withApp({ GAME_TEXT_ENCODING: 'cp874' }, async (app) => {
      const opened = await call(app.url, { action: 'ticket', via: 'pm', ...player('Somchai'), message: 'ดาบหาย', lang: 'th' }, 'cp874');
      assert.deepEqual(opened.texts, ['สร้างทิกเก็ตแล้ว ส่ง PM ถึง @Support เพื่อใช้งาน']);
      assert.deepEqual((await call(app.url, { action: 'ticket', via: 'pm', ...player('Plain'), message: 'hi' }, 'cp874')).texts, ['Ticket Created. PM @Support to use']);
    });
  });

  test('th (and ru) on cp1252 cannot be shown: seed 002’s English (or the admin’s text) instead; Spanish can', async () => {
    await withApp({ GAME_TEXT_ENCODING: 'cp1252' }, async (app) => {
      const th = player('Somsak');
      assert.deepEqual((await call(app.url, { action: 'ticket', via: 'pm', ...th, message: 'help', lang: 'th' }, 'cp1252')).texts, ['Ticket Created. PM @Support to use']);
      assert.deepEqual((await call(app.url, { action: 'ticket', via: 'request', ...th, message: 'again' }, 'cp1252')).texts, ['[RagnaSync Ticket]: again']);
      assert.deepEqual((await call(app.url, { action: 'ticket', via: 'request', ...player('Boris'), message: 'x', lang: 'ru' }, 'cp1252')).texts, ['[RagnaSync Ticket]: x']);
      assert.deepEqual((await call(app.url, { action: 'ticket', via: 'pm', ...player('Inés'), message: 'x', lang: 'es' }, 'cp1252')).texts, ['Ticket creado. Envía un PM a @Support para usarlo']);
      saveWhisperTemplates(app.db, { ...DEFAULT_WHISPER_TEMPLATES, request: '[GM desk]: {message}' });
      assert.deepEqual((await call(app.url, { action: 'ticket', via: 'request', ...player('Somying'), message: 'y', lang: 'th' }, 'cp1252')).texts, ['[GM desk]: y']);
    });
  });

  test('feature disabled: the disabled text in the player’s language', async () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'conf'));
    fs.writeFileSync(path.join(dir, 'conf/channels.conf'), 'ragnasync_ticket_support_system_enabled: false\n');
    const app = await startApp({ dir, env: { GAME_API_TOKEN: TOKEN }, app: { bridgeConnected: () => true } });
    try {
      const answer = await call(app.url, { action: 'ticket', via: 'request', ...player('Ayu'), message: 'halo', lang: 'id' });
      assert.deepEqual(answer.texts, ['RagnaSync: Support tiket dinonaktifkan']);
      assert.equal((prepared(app.db, 'SELECT COUNT(*) AS n FROM tickets').get() as { n: number }).n, 0);
    } finally {
      await app.close();
    }
  });
});

describe('localWhisperTemplates', () => {
  test('every language: the seed’s placeholder and names kept; English without a language is seed 002 word for word', () => {
    assert.deepEqual(localWhisperTemplates({}, undefined, { encoding: 'utf-8', discord: true }), DEFAULT_WHISPER_TEMPLATES);
    for (const locale of ['en', 'pt-BR', 'es', 'id', 'th', 'ru']) {
      for (const discord of [true, false]) {
        const texts = localWhisperTemplates({}, locale, { encoding: 'utf-8', discord });
        assert.ok(texts.request.includes('{message}') && texts.request.includes('RagnaSync'), `${locale} request`);
        assert.ok(texts.pmCreated.includes('@Support'), `${locale} pmCreated`);
        assert.equal(texts.pmCreated.includes('Discord'), discord, `${locale} pmCreated names Discord only with Discord`);
        assert.ok(texts.offline.includes('RagnaSync') && texts.disabled.includes('RagnaSync'), `${locale} brand kept`);
      }
    }
  });
});
