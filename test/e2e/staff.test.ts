// In a real browser: Support answers a ticket asking for the player's answer (waiting_user), the
// player sees the red badge, replies, and the ticket becomes answered (issue: staff console).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { createWebTicket } from '../../src/tickets/service.js';
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
  ticketId = createWebTicket(app.db, { user: player, subject: 'My mount disappeared', body: 'It was there yesterday.', priority: 'normal', uploads: [] }, { ip: null });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await app?.close();
});

async function signedIn(username: string, password: string) {
  const { page, problems } = await watchedPage(browser);
  await signIn(page, app.url, username, password);
  return { context: page.context(), page, problems };
}

test('staff answer with waiting_user; the player sees the badge, replies; the ticket is answered', { skip }, async () => {
  const staff = await signedIn('support_sam', 'support-sam-password');
  assert.equal(await staff.page.locator('h1').textContent(), 'Ticket queue');
  assert.equal(await staff.page.locator('[data-support-count]').getAttribute('data-support-count'), '1');
  const row = staff.page.locator(`tr[data-ticket-id="${ticketId}"]`);
  assert.match(await row.innerText(), /player_one[\s\S]*Website/);
  await Promise.all([staff.page.waitForURL(new RegExp(`view=ticket&id=${ticketId}`)), row.locator('td.subject a').click()]);

  await staff.page.getByLabel('Note').fill('Checked the logs: the mount expired.');
  await Promise.all([staff.page.waitForURL(/#message-/), staff.page.getByRole('button', { name: 'Add note' }).click()]);
  await staff.page.selectOption('#set-assignee', { label: 'support_sam' });
  await Promise.all([staff.page.waitForLoadState('load'), staff.page.getByRole('button', { name: 'Assign', exact: true }).click()]);
  assert.equal(await staff.page.locator('[data-assignee-id]').innerText(), 'support_sam');
  assert.equal(await staff.page.locator('[data-flash]').innerText(), 'Assigned to support_sam.');

  await staff.page.fill('#message', 'Did you renew the rental before it expired?');
  await staff.page.selectOption('#reply-status', 'waiting_user');
  await Promise.all([staff.page.waitForURL(/#message-/), staff.page.getByRole('button', { name: 'Send' }).click()]);
  assert.equal(await staff.page.locator('main').getAttribute('data-status'), 'waiting_user');
  await staff.page.screenshot({ path: '/tmp/e2e-staff-ticket.png', fullPage: true });

  const player = await signedIn('player_one', 'player-one-password');
  const badge = player.page.locator('[data-waiting-count]');
  assert.equal(await badge.getAttribute('data-waiting-count'), '1');
  assert.ok(await badge.isVisible());
  const playerRow = player.page.locator(`tr[data-ticket-id="${ticketId}"]`);
  assert.equal(await playerRow.getAttribute('data-status'), 'waiting_user');
  await Promise.all([player.page.waitForURL(new RegExp(`view=ticket&id=${ticketId}`)), playerRow.locator('td.subject a').click()]);
  assert.ok(await player.page.locator('.message-staff', { hasText: 'Did you renew the rental' }).isVisible());
  assert.equal(await player.page.locator('text=Checked the logs').count(), 0, 'the internal note stays internal');
  assert.ok(await player.page.locator('.system-line', { hasText: 'Status changed from Open to Waiting for you by support_sam.' }).isVisible());

  await player.page.fill('#message', 'No, I forgot. Can you help?');
  await Promise.all([player.page.waitForURL(/#message-/), player.page.getByRole('button', { name: 'Send' }).click()]);
  assert.equal(await player.page.locator('main').getAttribute('data-status'), 'answered');
  assert.equal(await player.page.locator('[data-waiting-count]').getAttribute('data-waiting-count'), '0');
  assert.equal(await player.page.locator('[data-waiting-count]').isVisible(), false);

  await staff.page.goto(`${app.url}/index.php?view=tickets&assignee=mine`);
  assert.equal(await staff.page.locator(`tr[data-ticket-id="${ticketId}"]`).getAttribute('data-status'), 'answered');
  await staff.page.screenshot({ path: '/tmp/e2e-staff-queue.png', fullPage: true });
  assert.deepEqual([...staff.problems, ...player.problems], []);
  await staff.context.close();
  await player.context.close();
});
