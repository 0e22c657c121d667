// In a real browser (issue #16): typed text survives an expired session (public/app.js keeps
// drafts in localStorage until a success flash), the message just sent is highlighted (:target),
// and a reply refused because the ticket was closed can be taken to a new ticket.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { User } from '../../src/db/users.js';
import { closeTicket, createWebTicket } from '../../src/tickets/service.js';
import { SESSION_COOKIE } from '../../src/web/deps.js';
import { addUser, startApp, type TestApp } from '../helpers/app.js';
import { browserSkipReason, launchBrowser, signIn, watchedPage } from '../helpers/browser.js';

// Run in the page by page.evaluate (the tests are compiled without the DOM library).
declare const localStorage: { getItem(key: string): string | null } & Record<string, unknown>;
declare function getComputedStyle(element: unknown): { outlineStyle: string };

const skip = browserSkipReason();
let app: TestApp;
let browser: Browser;
let player: User;

before(async () => {
  if (skip) return;
  app = await startApp();
  player = await addUser(app.db, 'draft_player', 'draft-player-password');
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await app?.close();
});

const newTicket = (subject: string) => createWebTicket(app.db, { user: player, subject, body: `About ${subject}`, priority: 'normal', uploads: [] }, { ip: null });
const drafts = (page: Page) => page.evaluate(() => Object.fromEntries(Object.keys(localStorage).filter((k) => k.startsWith('draft:')).map((k) => [k, localStorage.getItem(k)])));

test('a reply typed while the session expired comes back after signing in; once sent it is highlighted and the draft is gone', { skip }, async () => {
  const id = newTicket('Session runs out');
  const { page, problems } = await watchedPage(browser);
  await signIn(page, app.url, 'draft_player', 'draft-player-password');
  await page.goto(`${app.url}/index.php?view=ticket&id=${id}`);
  const text = 'I wrote this slowly.\nThe second line matters too.';
  await page.fill('#message', text);
  assert.deepEqual(await drafts(page), { [`draft:ticket:${id}:message`]: text }, 'kept while typing');

  // The session ends (expired, signed out elsewhere): the cookie is gone when the form is sent.
  await page.context().clearCookies({ name: SESSION_COOKIE });
  await Promise.all([page.waitForURL(/view=login/), page.getByRole('button', { name: 'Send' }).click()]);
  assert.match(page.url(), new RegExp(`next=${encodeURIComponent(`/index.php?view=ticket&id=${id}`).replace(/[?]/g, '\\?')}`));
  assert.equal(await page.locator('[data-flash].flash-info').count(), 0);

  await page.fill('#username', 'draft_player');
  await page.fill('#password', 'draft-player-password');
  await Promise.all([page.waitForURL(new RegExp(`view=ticket&id=${id}$`)), page.click('button[type=submit]')]);
  assert.equal(await page.inputValue('#message'), text, 'the text is back');

  await Promise.all([page.waitForURL(/#message-\d+$/), page.getByRole('button', { name: 'Send' }).click()]);
  assert.equal(await page.locator('[data-flash]').innerText(), 'Reply sent. It is highlighted below.');
  const target = page.locator('.conversation > li:target');
  assert.equal(await target.count(), 1, 'the new message is the :target');
  assert.match(await target.innerText(), /I wrote this slowly\./);
  const outline = await target.evaluate((el) => getComputedStyle(el).outlineStyle);
  assert.equal(outline, 'solid', 'and it is highlighted');
  assert.equal(await page.inputValue('#message'), '', 'the form is empty again');
  assert.deepEqual(await drafts(page), {}, 'the success flash ends the draft');
  await page.screenshot({ path: '/tmp/e2e-draft-highlight.png', fullPage: true });

  await page.reload();
  assert.equal(await page.inputValue('#message'), '');
  assert.deepEqual(problems, []);
  await page.context().close();
});

test('a failed send keeps the draft; a reply refused because the ticket closed can start a new ticket', { skip }, async () => {
  const id = newTicket('Closed in another tab');
  const { page, problems } = await watchedPage(browser);
  await signIn(page, app.url, 'draft_player', 'draft-player-password');
  await page.goto(`${app.url}/index.php?view=ticket&id=${id}`);
  await page.fill('#message', 'One more detail');
  closeTicket(app.db, id, player, { ip: null }, { email: false, telegram: false });
  await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Send' }).click()]);
  await page.waitForSelector('[data-kept-text]');
  assert.equal(await page.inputValue('#kept-message'), 'One more detail');
  await Promise.all([page.waitForURL(/view=ticket_create/), page.getByRole('link', { name: 'Open a new ticket with this text' }).click()]);
  const kept = await drafts(page);
  assert.equal(kept['draft:create:message'], 'One more detail', 'the new ticket’s form is filled from it');
  assert.equal(kept['draft:create:subject'], `Follow-up to ticket #${id}`);
  assert.equal(kept[`draft:ticket:${id}:message`], undefined, 'the closed ticket’s draft is done with');
  // The 409 answer itself is logged by Chromium as a failed resource: expected here.
  assert.deepEqual(problems.filter((p) => !/status of 409/.test(p)), []);
  await page.context().close();
});
