// Issue #8 point 3, in a real browser: the XSS corpus stored through the app wherever a page shows
// data — ticket subjects and messages, attachment names, a game character's name and messages,
// Discord names, an email address, whisper templates, audit rows, the search box and its "No
// tickets match ..." text, forms shown again with errors — then every such page opened in Chromium
// as the player, Support and an admin. window.alert/confirm/prompt are hooked before any page
// script and `dialog` events are watched: none may fire. The pages run with the browser's CSP
// switched off (bypassCSP), so escaping alone must keep the payloads inert; the literal payload
// text must be on the page as text, and no injected element or event-handler attribute may exist.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { claimFromDiscord, receiveDiscordStaffMessage } from '../../src/tickets/game.js';
import { setUserEmail } from '../../src/db/users.js';
import { addUser, Client, PNG_BYTES, startApp, type TestApp } from '../helpers/app.js';
import { browserSkipReason, launchBrowser } from '../helpers/browser.js';
import { xssPayloads } from '../helpers/hostile.js';

const skip = browserSkipReason();
const GAME_TOKEN = 'inert-test-game-token-0123456789';
const PAYLOADS = xssPayloads();
const FILE_NAMES = ["<img src=x onerror=alert('xss-file1')>.png", '"><svg onload=alert(`xss-file2`)>.png', "javascript:alert('xss-file3').png"];
const PASSWORD = 'correct horse battery';

let app: TestApp;
let browser: Browser;
const ticketIds: number[] = [];
let gameTicketId = 0;
/** Audit actor names come from sign-in attempts; the username field takes at most 64 characters. */
const shortPayloads = PAYLOADS.filter((p) => p.text.length <= 64);

// Runs before any page script: records every alert/confirm/prompt instead of showing it.
const HOOK = `
  window.__dialogs = [];
  for (const name of ['alert', 'confirm', 'prompt']) {
    window[name] = (...args) => { window.__dialogs.push(name + ': ' + args.map(String).join(', ')); return name === 'confirm' ? false : null; };
  }
`;

// What the page looks like from the inside (the project's tsconfig has no DOM lib: a string).
const INSPECT = `(() => {
  const onAttributes = [];
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.attributes) if (/^on/i.test(attr.name)) onAttributes.push(el.tagName + '[' + attr.name + ']');
  }
  return {
    dialogs: window.__dialogs,
    onAttributes,
    scripts: [...document.scripts].map((s) => s.getAttribute('src') || 'inline'),
    javascriptLinks: [...document.querySelectorAll('a[href], form[action], iframe[src]')].filter((e) => /^\\s*(javascript|data):/i.test(e.getAttribute('href') || e.getAttribute('action') || e.getAttribute('src'))).length,
    injected: document.querySelectorAll('iframe, object, embed, img[src="x"], svg[onload], math, mglyph').length,
    text: document.body.innerText,
    inputs: [...document.querySelectorAll('input, textarea')].flatMap((e) => [e.value, e.getAttribute('value')]),
    title: document.title,
  };
})()`;

interface Inspection {
  dialogs: string[];
  onAttributes: string[];
  scripts: string[];
  javascriptLinks: number;
  injected: number;
  text: string;
  /** Values of inputs and textareas (live value and the value attribute: a date input drops an invalid value). */
  inputs: (string | null)[];
  title: string;
}

interface Session {
  page: Page;
  dialogs: string[];
  problems: string[];
  visited: number;
}

async function session(username: string): Promise<Session> {
  const context = await browser.newContext({ bypassCSP: true, acceptDownloads: true });
  await context.addInitScript(HOOK);
  const page = await context.newPage();
  const dialogs: string[] = [];
  const problems: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(`${app.url}/index.php?view=login`);
  await page.fill('#username', username);
  await page.fill('#password', PASSWORD);
  await Promise.all([page.waitForURL(/view=tickets/), page.click('button[type=submit]')]);
  return { page, dialogs, problems, visited: 0 };
}

/** Checks the page now shown: nothing ran, nothing was injected, and `expected` texts are on it as text. */
async function checkPage(s: Session, where: string, expected: string[] = [], expectedInInputs: string[] = []): Promise<void> {
  // 'load' comes after every image has loaded or failed, so an injected onerror would have run.
  await s.page.waitForLoadState('load');
  const seen = (await s.page.evaluate(INSPECT)) as Inspection;
  s.visited++;
  assert.deepEqual([...seen.dialogs, ...s.dialogs], [], `${where}: a dialog fired`);
  assert.deepEqual(seen.onAttributes, [], `${where}: event-handler attributes in the DOM`);
  assert.deepEqual(seen.scripts, ['/static/app.js'], `${where}: scripts on the page`);
  assert.equal(seen.javascriptLinks, 0, `${where}: javascript:/data: links`);
  assert.equal(seen.injected, 0, `${where}: injected elements`);
  assert.deepEqual(s.problems, [], `${where}: page errors`);
  for (const text of expected) assert.ok(seen.text.includes(text) || seen.title.includes(text), `${where}: ${JSON.stringify(text.slice(0, 60))} is not shown as text`);
  for (const text of expectedInInputs) assert.ok(seen.inputs.includes(text), `${where}: ${JSON.stringify(text.slice(0, 60))} is not kept in a form field`);
}

/** Submits a form and waits for the page the server answers with. */
async function submit(s: Session, click: () => Promise<void>): Promise<void> {
  await Promise.all([s.page.waitForResponse((r) => r.request().method() === 'POST' && r.url().startsWith(app.url)), click()]);
  await s.page.waitForLoadState('load');
}

async function visit(s: Session, path: string, expected: string[] = [], expectedInInputs: string[] = []): Promise<void> {
  await s.page.goto(`${app.url}${path}`);
  await checkPage(s, path, expected, expectedInInputs);
}

before(async () => {
  if (skip) return;
  app = await startApp({ env: { GAME_API_TOKEN: GAME_TOKEN }, app: { bridgeConnected: () => true } });
  const player = await addUser(app.db, 'player_x', PASSWORD);
  await addUser(app.db, 'support_x', PASSWORD, 'staff');
  const admin = await addUser(app.db, 'admin_x', PASSWORD, 'admin');
  // The UI accepts no such address; stored directly, as if validation were ever loosened.
  setUserEmail(app.db, player.id, PAYLOADS[1]!.text);
  setUserEmail(app.db, admin.id, PAYLOADS[0]!.text);

  const client = new Client(app.url);
  await client.login('player_x');
  const _csrf = await client.csrf('/index.php?view=ticket_create');
  // One ticket per payload (subject and first message); the first gets every payload as a reply,
  // with files whose names are payloads too.
  for (const payload of PAYLOADS) {
    const reply = await client.postMultipart('/index.php?view=ticket_create', { _csrf, subject: payload.text, message: `${payload.text}\nhttps://example.com/${payload.text}` });
    assert.equal(reply.status, 303, payload.label);
    ticketIds.push(Number(/id=(\d+)/.exec(reply.location ?? '')![1]));
  }
  for (const payload of PAYLOADS.slice(1)) {
    const reply = await client.postMultipart(`/index.php?view=ticket&action=reply&id=${ticketIds[0]}`, { _csrf, message: payload.text });
    assert.equal(reply.status, 303, payload.label);
  }
  const files = await client.postMultipart(
    `/index.php?view=ticket&action=reply&id=${ticketIds[0]}`,
    { _csrf, message: 'Files with odd names' },
    FILE_NAMES.map((name) => ({ name, content: PNG_BYTES, type: 'image/png' })).concat([{ name: 'page.txt', content: Buffer.from('<script>alert("xss-txt")</script>'), type: 'text/html' }]),
  );
  assert.equal(files.status, 303);

  // Support: an internal note, a status change, and the admin's whisper templates.
  const staff = new Client(app.url);
  await staff.login('support_x');
  const staffCsrf = await staff.csrf('/index.php?view=tickets');
  assert.equal((await staff.post(`/index.php?view=ticket&action=note&id=${ticketIds[0]}`, { _csrf: staffCsrf, note: PAYLOADS[2]!.text })).status, 303);
  const adminClient = new Client(app.url);
  await adminClient.login('admin_x');
  const adminCsrf = await adminClient.csrf('/index.php?view=admin');
  const templates = { template_request: `${PAYLOADS[3]!.text} {message}`, template_pm_created: PAYLOADS[4]!.text, template_offline: PAYLOADS[5]!.text, template_disabled: PAYLOADS[6]!.text };
  assert.equal((await adminClient.post('/index.php?view=admin', { _csrf: adminCsrf, ...templates })).status, 303);

  // A game character whose name and messages are payloads (through the game API), with a Discord
  // member answering and claiming the ticket under a payload name (the bridge's own functions).
  const gameName = PAYLOADS[1]!.text;
  for (const payload of PAYLOADS.slice(0, 4)) {
    const response = await fetch(`${app.url}/api/game/actions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${GAME_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'ticket', via: 'request', account_id: 2000001, char_id: 150001, name: gameName, message: payload.text }),
    });
    const body = (await response.json()) as { ok: boolean; ticket_id: number };
    assert.ok(body.ok, payload.label);
    gameTicketId = body.ticket_id;
  }
  receiveDiscordStaffMessage(app.db, { ticketId: gameTicketId, discordMessageId: '900000000000000001', authorName: PAYLOADS[7]!.text, text: PAYLOADS[8]!.text, whisperMax: 200, notify: { email: false, telegram: false } });
  claimFromDiscord(app.db, gameTicketId, { id: '400000000000000009', name: PAYLOADS[9]!.text });

  // Audit rows whose actor is a payload: failed sign-ins under those names.
  const anonymous = new Client(app.url);
  for (const payload of shortPayloads) {
    const token = await anonymous.csrf();
    const reply = await anonymous.post('/index.php?view=login', { _csrf: token, username: payload.text, password: 'wrong password' }, { 'x-forwarded-for': `10.8.0.${shortPayloads.indexOf(payload) + 1}` });
    assert.equal(reply.status, 401, payload.label);
  }
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await app?.close();
});

test('the player: list, every ticket page, files, search echo, settings, a form shown again', { skip }, async () => {
  const s = await session('player_x');
  await visit(s, '/index.php?view=tickets', PAYLOADS.map((p) => p.text));
  for (const [i, id] of ticketIds.entries()) await visit(s, `/index.php?view=ticket&id=${id}`, [PAYLOADS[i]!.text]);
  // The first ticket holds every payload, the files with payload names, and no internal note.
  await visit(s, `/index.php?view=ticket&id=${ticketIds[0]}`, [...PAYLOADS.map((p) => p.text), ...FILE_NAMES]);
  assert.equal(await s.page.locator('.message-internal').count(), 0, 'the internal note stays internal');
  // Files are downloads, never rendered: the HTML one too.
  const [download] = await Promise.all([s.page.waitForEvent('download'), s.page.locator('.attachments a', { hasText: 'page.txt' }).click()]);
  assert.equal(download.suggestedFilename(), 'page.txt');
  const [odd] = await Promise.all([s.page.waitForEvent('download'), s.page.locator('.attachments a', { hasText: 'xss-file1' }).click()]);
  // Chromium itself replaces <, > and the like in a download's name.
  assert.match(odd.suggestedFilename(), /^[^<>/\\]*xss-file1[^<>/\\]*\.png$/);
  await checkPage(s, 'after downloads');

  // The search box keeps the query; the empty list says what was searched — as text.
  for (const payload of PAYLOADS) {
    const q = `${payload.text} qqzzxx`.slice(0, 200);
    if (q.split(/\s+/).length > 8) continue;
    await visit(s, `/index.php?view=tickets&status=all&q=${encodeURIComponent(q)}`, [`No tickets match`, q.trim()], [q.trim()]);
  }
  await visit(s, `/index.php?view=tickets&date_from=${encodeURIComponent(PAYLOADS[1]!.text)}`, [], [PAYLOADS[1]!.text]);
  await visit(s, '/index.php?view=settings', [], [PAYLOADS[1]!.text]);

  // A form shown again with its errors keeps the payload in the field, as a value.
  await s.page.goto(`${app.url}/index.php?view=ticket_create`);
  await s.page.getByLabel('Subject').fill(PAYLOADS[1]!.text);
  await s.page.getByLabel('Message', { exact: true }).fill(' ');
  await submit(s, () => s.page.getByRole('button', { name: 'Submit' }).click());
  await checkPage(s, 'ticket_create shown again', ['Please check the fields marked below.'], [PAYLOADS[1]!.text]);
  await s.page.goto(`${app.url}/index.php?view=ticket&id=${ticketIds[0]}`);
  await s.page.fill('#message', PAYLOADS[0]!.text + '\n' + PAYLOADS[5]!.text);
  await Promise.all([s.page.waitForURL(/#message-/), s.page.getByRole('button', { name: 'Send' }).click()]);
  await checkPage(s, 'after a reply typed in the browser', [PAYLOADS[0]!.text]);
  console.log(`inert (player): ${s.visited} page views, 0 dialogs`);
  await s.page.context().close();
});

test('Support: the queue with game and Discord names, the game ticket, the internal note, filters echoed', { skip }, async () => {
  const s = await session('support_x');
  const gameName = PAYLOADS[1]!.text;
  await visit(s, '/index.php?view=tickets&status=all', [`${gameName} (game)`, `${PAYLOADS[9]!.text} (Discord)`, ...PAYLOADS.map((p) => p.text)]);
  await visit(s, `/index.php?view=ticket&id=${gameTicketId}`, [gameName, PAYLOADS[7]!.text, PAYLOADS[8]!.text, ...PAYLOADS.slice(0, 4).map((p) => p.text)]);
  await visit(s, `/index.php?view=ticket&id=${ticketIds[0]}`, [PAYLOADS[2]!.text, ...FILE_NAMES]);
  assert.equal(await s.page.locator('.message-internal').count(), 1, 'Support sees the note');
  const owner = shortPayloads[0]!.text;
  await visit(s, `/index.php?view=tickets&owner=${encodeURIComponent(owner)}&q=${encodeURIComponent('zzqq <b>x</b>')}`, ['No tickets match'], [owner, 'zzqq <b>x</b>']);
  console.log(`inert (staff): ${s.visited} page views, 0 dialogs`);
  await s.page.context().close();
});

test('the admin: settings with payload templates, users, the audit log and its filters, a users form shown again', { skip }, async () => {
  const s = await session('admin_x');
  await visit(s, '/index.php?view=admin', [], [`${PAYLOADS[3]!.text} {message}`, PAYLOADS[4]!.text, PAYLOADS[5]!.text, PAYLOADS[6]!.text]);
  await visit(s, '/index.php?view=users', [PAYLOADS[0]!.text, PAYLOADS[1]!.text]);
  await visit(s, '/index.php?view=audit', [...shortPayloads.map((p) => p.text), `game:${PAYLOADS[1]!.text}`, `discord:${PAYLOADS[9]!.text}`]);
  await visit(s, `/index.php?view=audit&actor=${encodeURIComponent(shortPayloads[0]!.text)}`, [shortPayloads[0]!.text], [shortPayloads[0]!.text]);
  await visit(s, `/index.php?view=audit&ticket=${encodeURIComponent(PAYLOADS[1]!.text)}`, [], [PAYLOADS[1]!.text]);
  await s.page.goto(`${app.url}/index.php?view=users`);
  await s.page.fill('#new-username', PAYLOADS[1]!.text.slice(0, 60));
  await s.page.fill('#new-password', 'long enough password');
  await submit(s, () => s.page.getByRole('button', { name: 'Create account' }).click());
  await checkPage(s, 'users form shown again', ['The account was not created: check the fields marked below.'], [PAYLOADS[1]!.text.slice(0, 60)]);
  console.log(`inert (admin): ${s.visited} page views, 0 dialogs`);
  await s.page.context().close();
});

test('the hook works: a page that does run script is caught (so a silent pass means inert)', { skip }, async () => {
  const context = await browser.newContext({ bypassCSP: true });
  await context.addInitScript(HOOK);
  const page = await context.newPage();
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await page.setContent(`<p>${PAYLOADS[1]!.text}</p>${PAYLOADS[4]!.text}${PAYLOADS[7]!.text}<a href="javascript:void(0)">x</a>`);
  await page.waitForLoadState('load');
  const seen = (await page.evaluate(INSPECT)) as Inspection;
  assert.ok(seen.dialogs.length >= 2, `the unescaped payloads fired the hook: ${JSON.stringify(seen.dialogs)}`);
  assert.ok(seen.onAttributes.length >= 2, 'event-handler attributes are found');
  assert.ok(seen.injected >= 2, 'injected elements are found');
  assert.equal(seen.javascriptLinks, 1, 'javascript: links are found');
  assert.ok(!seen.text.includes('onerror'), 'markup that ran is not visible as text');
  assert.deepEqual(dialogs, [], 'the hook answers instead of the browser showing a dialog');
  await context.close();
});
