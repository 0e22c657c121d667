// In a real browser (issue #15 point 2): Support chooses a saved reply on a ticket's reply form,
// the message box fills with the placeholders replaced for this ticket (public/app.js), they edit
// it and send, and the answer is in the conversation. The player's page has no picker.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { SYSTEM_ACTOR } from '../../src/audit.js';
import { createWebTicket } from '../../src/tickets/service.js';
import { createSnippet } from '../../src/tickets/snippets.js';
import { addUser, startApp, type TestApp } from '../helpers/app.js';
import { browserSkipReason, launchBrowser, signIn, watchedPage } from '../helpers/browser.js';

const skip = browserSkipReason();
let app: TestApp;
let browser: Browser;
let ticketId: number;

before(async () => {
  if (skip) return;
  app = await startApp();
  const player = await addUser(app.db, 'player_one', 'player-one-password');
  await addUser(app.db, 'support_sam', 'support-sam-password', 'staff');
  ticketId = createWebTicket(app.db, { user: player, subject: 'Lost my mount', body: 'It is gone.', priority: 'normal', uploads: [] }, { ip: null });
  createSnippet(app.db, { name: 'Greeting', body: 'Hello {player}, {staff} here about {ticket} ($&). {unknown}' }, { actor: SYSTEM_ACTOR, ip: null });
  createSnippet(app.db, { name: 'Goodbye', body: 'Bye {player}' }, { actor: SYSTEM_ACTOR, ip: null });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await app?.close();
});

test('staff choose a saved reply, edit the filled text and send it', { skip }, async () => {
  const { page, problems } = await watchedPage(browser);
  await signIn(page, app.url, 'support_sam', 'support-sam-password');
  await page.goto(`${app.url}/index.php?view=ticket&id=${ticketId}`);
  assert.equal(await page.inputValue('#message'), '');
  await page.selectOption('#saved-reply', { label: 'Greeting' });
  const filled = `Hello player_one, support_sam here about #${ticketId} ($&). {unknown}`;
  assert.equal(await page.inputValue('#message'), filled);
  await page.fill('#message', `${filled.replace(' {unknown}', '')} Your mount is back.`);
  await Promise.all([page.waitForURL(/#message-/), page.getByRole('button', { name: 'Send' }).click()]);
  const last = page.locator('.conversation .message-staff .message-body').last();
  assert.equal((await last.innerText()).trim(), `Hello player_one, support_sam here about #${ticketId} ($&). Your mount is back.`);
  assert.equal(await page.locator('main').getAttribute('data-status'), 'answered');
  assert.deepEqual(problems, []);
});

test('the player never sees the picker', { skip }, async () => {
  const { page, problems } = await watchedPage(browser);
  await signIn(page, app.url, 'player_one', 'player-one-password');
  await page.goto(`${app.url}/index.php?view=ticket&id=${ticketId}`);
  assert.equal(await page.locator('#saved-reply').count(), 0);
  assert.equal(await page.locator('#message').count(), 1);
  assert.deepEqual(problems, []);
});
