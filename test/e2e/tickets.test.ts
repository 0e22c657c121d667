// In a real browser, a player's whole journey with one ticket: create it with a screenshot, find it
// again by a word of a reply, see the attention badge when Support asks for an answer, answer,
// close it, and find it again under "All". Plus the tickets list on a 375 px phone.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { updateTicketStatus } from '../../src/db/tickets.js';
import { addUser, PNG_BYTES, startApp, tempDir, type TestApp } from '../helpers/app.js';
import { browserSkipReason, launchBrowser, signIn, watchedPage } from '../helpers/browser.js';

// The few browser globals used inside page.evaluate (the project's tsconfig has no DOM lib).
declare const document: { documentElement: { scrollWidth: number } };
declare function getComputedStyle(element: unknown): { backgroundColor: string };

const skip = browserSkipReason();
const SCREENSHOTS = process.env.E2E_SCREENSHOTS ?? '/tmp';
let app: TestApp;
let browser: Browser;
let pngPath: string;

before(async () => {
  if (skip) return;
  app = await startApp();
  await addUser(app.db, 'player_one', 'player-one-password');
  await addUser(app.db, 'player_two', 'player-two-password');
  // A small real PNG: the signature and an IHDR start are what the server's content check reads.
  pngPath = path.join(tempDir('tb-e2e-files-'), 'crash screen.png');
  fs.writeFileSync(pngPath, PNG_BYTES);
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await app?.close();
});

/** Clicks a submit button and waits for the page the post/redirect/get lands on. */
async function submitAndWait(page: Page, click: () => Promise<void>): Promise<void> {
  await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST' && r.url().startsWith(app.url)), click()]);
  await page.waitForLoadState('load');
}

const main = (page: Page) => page.locator('main#main');
const badge = (page: Page) => page.locator('nav.sidebar [data-waiting-count]');

function rgb(color: string): [number, number, number, number] {
  const m = /^rgba?\((\d+), (\d+), (\d+)(?:, ([\d.]+))?\)$/.exec(color);
  assert.ok(m, `a computed colour: ${color}`);
  return [Number(m[1]), Number(m[2]), Number(m[3]), m[4] === undefined ? 1 : Number(m[4])];
}

test("a player's ticket from creation to closing", { skip }, async () => {
  const { page, problems } = await watchedPage(browser);
  await signIn(page, app.url, 'player_one', 'player-one-password');

  // 1. Create a ticket with a screenshot attached.
  await Promise.all([page.waitForURL(/view=ticket_create/), page.getByRole('link', { name: 'Create ticket' }).first().click()]);
  assert.equal(await page.locator('h1').textContent(), 'Create ticket');
  await page.getByLabel('Subject').fill('Game crashes when opening the map');
  await page.getByLabel('Priority').selectOption('high');
  await page.getByLabel('Message', { exact: true }).fill('Every time I press M the client closes.\nScreenshot attached.');
  await page.setInputFiles('#attachments', pngPath);
  await Promise.all([page.waitForURL(/view=ticket&id=\d+/), page.getByRole('button', { name: 'Submit' }).click()]);

  const ticketId = Number(await main(page).getAttribute('data-ticket-id'));
  assert.ok(Number.isInteger(ticketId) && ticketId > 0, 'the ticket page names the ticket on <main>');
  assert.equal(await main(page).getAttribute('data-status'), 'open');
  assert.equal(await main(page).getAttribute('data-priority'), 'high');
  assert.equal(await page.locator('h1').textContent(), 'Game crashes when opening the map');
  const link = page.locator('.attachments a', { hasText: 'crash screen.png' });
  assert.ok(await link.isVisible(), 'the attachment is listed under the first message');
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  assert.equal(download.suggestedFilename(), 'crash screen.png');
  assert.deepEqual(fs.readFileSync((await download.path())!), PNG_BYTES, 'the download is the uploaded file, byte for byte');
  await page.screenshot({ path: `${SCREENSHOTS}/e2e-ticket-open.png`, fullPage: true });

  // 2. A reply with a distinctive word, then the search finds the ticket by it.
  await page.fill('#message', 'It also happens in the zanzibar dungeon.');
  await submitAndWait(page, () => page.getByRole('button', { name: 'Send' }).click());
  assert.match(page.url(), new RegExp(`view=ticket&id=${ticketId}#message-\\d+$`));
  assert.ok(await page.locator('.message-body', { hasText: 'zanzibar dungeon' }).isVisible());
  assert.equal(await main(page).getAttribute('data-status'), 'open', 'a reply to an open ticket keeps it open');

  await page.goto(`${app.url}/index.php?view=tickets`);
  await page.fill('#filter-q', 'zanzibar');
  await Promise.all([page.waitForURL(/q=zanzibar/), page.getByRole('button', { name: 'Filter' }).click()]);
  assert.equal(await page.locator('#filter-q').inputValue(), 'zanzibar', 'the search stays in the field');
  assert.equal(await page.locator(`tr[data-ticket-id="${ticketId}"]`).count(), 1);

  await page.fill('#filter-q', 'qwxplorfz');
  await Promise.all([page.waitForURL(/q=qwxplorfz/), page.getByRole('button', { name: 'Filter' }).click()]);
  assert.equal(await page.locator('tbody tr[data-ticket-id]').count(), 0);
  const noMatch = (await page.locator('tr.empty td').innerText()).trim();
  assert.match(noMatch, /search “qwxplorfz”/, 'the empty state names the search that hides tickets');

  // 3. Support asks for the player's answer (no staff UI yet: straight to the database).
  updateTicketStatus(app.db, ticketId, 'waiting_user', Date.now());
  await page.goto(`${app.url}/index.php?view=tickets`);
  assert.equal(await badge(page).getAttribute('data-waiting-count'), '1');
  assert.ok(await badge(page).isVisible(), 'the badge shows');
  assert.equal((await badge(page).locator('.badge-count').innerText()).trim(), '1');
  assert.equal((await badge(page).locator('.visually-hidden').textContent())?.trim(), '1 ticket waiting for your answer', 'the badge’s meaning for screen readers');
  assert.match((await page.getByRole('link', { name: /Tickets/ }).first().textContent()) ?? '', /1 ticket waiting for your answer/);
  const [r, g, b, alpha] = rgb(await badge(page).evaluate((el) => getComputedStyle(el).backgroundColor));
  assert.ok(alpha > 0, 'the badge has a background');
  assert.ok(r > 150 && r > g + 60 && r > b + 60, `the badge is red: rgb(${r}, ${g}, ${b})`);
  const row = page.locator(`tr[data-ticket-id="${ticketId}"]`);
  assert.equal(await row.getAttribute('data-status'), 'waiting_user');
  assert.ok(await row.locator('.status-waiting_user').isVisible());
  await page.screenshot({ path: `${SCREENSHOTS}/e2e-list-waiting.png`, fullPage: true });

  await page.click('[data-sidebar-toggle]');
  assert.equal(await page.locator('body.sidebar-collapsed').count(), 1);
  assert.ok(await badge(page).isVisible(), 'collapsed: the badge stays, as a dot');
  assert.equal(await badge(page).locator('.badge-count').isVisible(), false, 'collapsed: the dot has no number');
  const dot = (await badge(page).boundingBox())!;
  assert.ok(dot.width > 0 && dot.width <= 14 && dot.height <= 14, `a small dot: ${dot.width}x${dot.height}`);
  await page.screenshot({ path: `${SCREENSHOTS}/e2e-list-collapsed.png`, fullPage: true });
  await page.click('[data-sidebar-toggle]');
  assert.equal(await page.locator('body.sidebar-collapsed').count(), 0);
  assert.ok(await badge(page).locator('.badge-count').isVisible(), 'expanded: the number is back');

  // 4. The player answers: waiting_user becomes answered and the badge goes away.
  await Promise.all([page.waitForURL(new RegExp(`view=ticket&id=${ticketId}$`)), row.locator('td.subject a').click()]);
  assert.equal(await main(page).getAttribute('data-status'), 'waiting_user');
  await page.fill('#message', 'Here is the log you asked for.');
  await submitAndWait(page, () => page.getByRole('button', { name: 'Send' }).click());
  assert.equal(await main(page).getAttribute('data-status'), 'answered');
  assert.ok(await page.locator('.message-body', { hasText: 'Here is the log you asked for.' }).isVisible());
  assert.equal(await badge(page).getAttribute('data-waiting-count'), '0');
  assert.equal(await badge(page).isVisible(), false, 'no badge when nothing waits for the player');
  await page.screenshot({ path: `${SCREENSHOTS}/e2e-ticket-answered.png`, fullPage: true });

  // 5. Close: no more replies, and the default list hides it until "All" is chosen.
  // Close asks first: cancelling changes nothing, confirming closes.
  const questions: string[] = [];
  page.once('dialog', (dialog) => {
    questions.push(dialog.message());
    void dialog.dismiss();
  });
  await page.getByRole('button', { name: 'Close' }).click();
  assert.match(questions[0] ?? '', /Close this ticket\?/);
  assert.equal(await main(page).getAttribute('data-status'), 'answered', 'cancelled: still answered');
  page.once('dialog', (dialog) => void dialog.accept());
  await submitAndWait(page, () => page.getByRole('button', { name: 'Close' }).click());
  assert.equal(await main(page).getAttribute('data-status'), 'closed');
  assert.equal(await page.locator('#message').count(), 0, 'no reply form on a closed ticket');
  assert.equal(await page.getByRole('button', { name: 'Close' }).count(), 0);
  assert.match(await page.locator('.closed-note').innerText(), /This ticket is closed/);
  await page.screenshot({ path: `${SCREENSHOTS}/e2e-ticket-closed.png`, fullPage: true });

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /Tickets/ }).click();
  await page.waitForURL(/view=tickets$/);
  assert.equal(await row.count(), 0, 'closed tickets are hidden by default');
  assert.match(await page.locator('tr.empty td').innerText(), /All except closed/);
  assert.equal(await page.locator('#filter-status').inputValue(), '');
  await page.selectOption('#filter-status', 'all');
  await Promise.all([page.waitForURL(/status=all/), page.getByRole('button', { name: 'Filter' }).click()]);
  assert.equal(await row.getAttribute('data-status'), 'closed');
  assert.equal(await page.locator('#filter-status').inputValue(), 'all', 'the chosen status stays selected');
  await page.screenshot({ path: `${SCREENSHOTS}/e2e-list-all.png`, fullPage: true });

  // 6. Nothing went wrong in the browser along the way.
  assert.deepEqual(problems, []);
});

test('on a 375 px phone the create form works and the tickets list does not scroll sideways', { skip }, async () => {
  const { page, problems } = await watchedPage(browser, { width: 375, height: 740 });
  await signIn(page, app.url, 'player_two', 'player-two-password');

  await Promise.all([page.waitForURL(/view=ticket_create/), page.getByRole('link', { name: 'Create ticket' }).first().click()]);
  for (const selector of ['#subject', '#priority', '#message', '#attachments', 'main button[type=submit]']) {
    const box = (await page.locator(selector).boundingBox())!;
    assert.ok(box, `${selector} is rendered`);
    assert.ok(box.x >= 0 && box.x + box.width <= 375, `${selector} fits the screen: x=${box.x} width=${box.width}`);
    assert.ok(box.width >= 44 && box.height >= 24, `${selector} is big enough to tap: ${box.width}x${box.height}`);
  }
  assert.ok((await page.locator('#subject').boundingBox())!.width >= 200, 'the subject field is wide enough to type in');
  await page.getByLabel('Subject').fill('Cannot buy the premium pass on my phone with a long subject line');
  await page.getByLabel('Priority').selectOption('urgent');
  await page.getByLabel('Message', { exact: true }).fill('The shop button does nothing.');
  await page.setInputFiles('#attachments', pngPath);
  await page.screenshot({ path: `${SCREENSHOTS}/e2e-375-create.png`, fullPage: true });
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 375), 'the create form does not scroll sideways');
  await Promise.all([page.waitForURL(/view=ticket&id=\d+/), page.getByRole('button', { name: 'Submit' }).click()]);
  assert.equal(await main(page).getAttribute('data-priority'), 'urgent');
  await page.screenshot({ path: `${SCREENSHOTS}/e2e-375-ticket.png`, fullPage: true });
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 375), 'the ticket page does not scroll sideways');

  await page.goto(`${app.url}/index.php?view=tickets`);
  assert.equal(await page.locator('tbody tr[data-ticket-id]').count(), 1);
  const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  await page.screenshot({ path: `${SCREENSHOTS}/e2e-375-list.png`, fullPage: true });
  assert.ok(scrollWidth <= 375, `no horizontal scroll: scrollWidth ${scrollWidth}`);
  assert.deepEqual(problems, []);
});
