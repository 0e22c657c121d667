// The tickets list as people read it (issue #16), in Chromium: a long unbroken subject wraps on the
// list and the ticket page at desktop and phone widths; on a phone the filters fold behind one
// button (and show without JavaScript); the confirmation after creating a ticket is said in the
// live region; the list in Russian and Brazilian Portuguese has none of its English words left.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { User } from '../../src/db/users.js';
import { createWebTicket } from '../../src/tickets/service.js';
import { addUser, startApp, type TestApp } from '../helpers/app.js';
import { browserSkipReason, launchBrowser, signIn, watchedPage } from '../helpers/browser.js';

const skip = browserSkipReason();
const SCREENSHOTS = process.env.E2E_SCREENSHOTS ?? '/tmp';
/** A pasted error code: 300 characters and no space to break at. */
const LONG_WORD = `ERR_${'0xDEADBEEF_'.repeat(27)}`.slice(0, 300);
let app: TestApp;
let browser: Browser;
let player: User;
let longTicket: number;

before(async () => {
  if (skip) return;
  app = await startApp();
  player = await addUser(app.db, 'wrapper', 'wrapper-password');
  await addUser(app.db, 'gm_wrap', 'gm-wrap-password', 'staff');
  longTicket = createWebTicket(
    app.db,
    { user: player, subject: LONG_WORD, body: `The client says ${LONG_WORD} and closes.`, priority: 'high', uploads: [] },
    { ip: null },
  );
  createWebTicket(app.db, { user: player, subject: 'Ошибка при входе', body: 'Не могу войти.', priority: 'normal', uploads: [] }, { ip: null });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await app?.close();
});

/** The page's width beyond the window, in CSS pixels (0 when nothing scrolls sideways). */
async function sidewaysScroll(page: Page): Promise<number> {
  return page.evaluate('document.documentElement.scrollWidth - window.innerWidth') as Promise<number>;
}

for (const viewport of [
  { width: 1366, height: 800 },
  { width: 390, height: 844 },
]) {
  test(`a 300-character unbroken subject wraps at ${viewport.width} px: list and ticket page`, { skip }, async () => {
    for (const [who, password] of [
      ['wrapper', 'wrapper-password'],
      ['gm_wrap', 'gm-wrap-password'],
    ] as const) {
      const { page, problems } = await watchedPage(browser, viewport);
      await signIn(page, app.url, who, password);
      await page.goto(`${app.url}/index.php?view=tickets&status=all`);
      assert.equal(await page.locator(`tr[data-ticket-id="${longTicket}"]`).count(), 1);
      await page.screenshot({ path: `${SCREENSHOTS}/e2e-long-list-${who}-${viewport.width}.png`, fullPage: true });
      assert.equal(await sidewaysScroll(page), 0, `${who}: the list does not scroll sideways at ${viewport.width} px`);
      const cell = (await page.locator(`tr[data-ticket-id="${longTicket}"] td.subject`).boundingBox())!;
      assert.ok(cell.x >= 0 && cell.x + cell.width <= viewport.width, `${who}: the subject cell is on screen: x=${cell.x} width=${cell.width}`);
      const table = await page.locator('.table-wrap').evaluate((el) => {
        const box = el as unknown as { scrollWidth: number; clientWidth: number };
        return box.scrollWidth - box.clientWidth;
      });
      assert.ok(table <= 1, `${who}: the table's columns stay on screen (${table} px beyond)`);

      await page.goto(`${app.url}/index.php?view=ticket&id=${longTicket}`);
      await page.screenshot({ path: `${SCREENSHOTS}/e2e-long-ticket-${who}-${viewport.width}.png`, fullPage: true });
      assert.equal(await sidewaysScroll(page), 0, `${who}: the ticket page does not scroll sideways at ${viewport.width} px`);
      const h1 = (await page.locator('h1').boundingBox())!;
      assert.ok(h1.x + h1.width <= viewport.width, `${who}: the title wraps: x=${h1.x} width=${h1.width}`);
      assert.deepEqual(problems, []);
      await page.context().close();
    }
  });
}

test('on a phone the filters fold behind one Filters button that says how many are on', { skip }, async () => {
  const { page, problems } = await watchedPage(browser, { width: 390, height: 844 });
  await signIn(page, app.url, 'wrapper', 'wrapper-password');
  const toggle = page.getByRole('button', { name: /^Filters/ });
  const filters = page.locator('#ticket-filters');
  assert.equal(await toggle.count(), 1, 'one button');
  assert.ok(await toggle.isVisible());
  assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
  assert.equal(await filters.isVisible(), false, 'folded at first');
  assert.ok(await page.locator(`tr[data-ticket-id="${longTicket}"]`).isVisible(), 'the tickets come first');
  await toggle.click();
  assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
  assert.ok(await filters.isVisible(), 'one press opens them');
  assert.ok(await page.locator('#filter-q').isVisible());
  await page.screenshot({ path: `${SCREENSHOTS}/e2e-390-filters-open.png`, fullPage: true });
  assert.equal(await sidewaysScroll(page), 0);

  await page.selectOption('#filter-status', 'all');
  await page.fill('#filter-q', 'Ошибка');
  await Promise.all([page.waitForURL(/q=/), page.getByRole('button', { name: 'Filter', exact: true }).click()]);
  assert.match((await toggle.textContent()) ?? '', /Filters\s*\(2 active\)/, 'the button counts the filters in use');
  assert.equal(await filters.isVisible(), false);

  // Compact cards: subject, whose turn, status and last update; the wide columns are not shown.
  const card = page.locator('tbody tr[data-ticket-id]').first();
  for (const part of ['td.subject', '.turn', 'td.cell-status', 'td.cell-updated time']) assert.ok(await card.locator(part).isVisible(), part);
  for (const part of ['td.cell-id', 'td.cell-count', 'td.cell-created']) assert.equal(await card.locator(part).isVisible(), false, part);
  assert.deepEqual(problems, []);
  await page.context().close();

  // On a desktop the button is not there and the filters are.
  const desk = await watchedPage(browser, { width: 1366, height: 800 });
  await signIn(desk.page, app.url, 'wrapper', 'wrapper-password');
  assert.equal(await desk.page.getByRole('button', { name: /^Filters/ }).isVisible(), false);
  assert.ok(await desk.page.locator('#ticket-filters').isVisible());
  await desk.page.context().close();
});

test('without JavaScript a phone shows the filters (no dead button)', { skip }, async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, javaScriptEnabled: false });
  const page = await context.newPage();
  await signIn(page, app.url, 'wrapper', 'wrapper-password');
  assert.equal(await page.locator('[data-filters-toggle]').isVisible(), false);
  assert.ok(await page.locator('#ticket-filters').isVisible());
  assert.ok(await page.locator('#filter-q').isVisible());
  await context.close();
});

test('after creating a ticket the confirmation is said in the live region', { skip }, async () => {
  const { page, problems } = await watchedPage(browser, { width: 1366, height: 800 });
  await signIn(page, app.url, 'wrapper', 'wrapper-password');
  await Promise.all([page.waitForURL(/view=ticket_create/), page.getByRole('link', { name: 'Create ticket' }).first().click()]);
  assert.equal(await page.locator('#subject').getAttribute('data-draft'), 'create');
  assert.equal(await page.locator('#message').getAttribute('data-draft'), 'create');
  await page.getByLabel('Subject').fill('The shop takes my zeny twice');
  await page.getByLabel('Message', { exact: true }).fill('Bought one potion, paid for two.');
  await Promise.all([page.waitForURL(/view=ticket&id=\d+/), page.getByRole('button', { name: 'Submit' }).click()]);
  const id = /id=(\d+)/.exec(page.url())![1];
  const region = page.getByRole('status');
  assert.equal(await region.getAttribute('aria-live'), 'polite');
  assert.equal((await region.locator('[data-flash]').textContent())?.trim(), `Ticket #${id} created. Support will answer here.`);
  assert.ok(await region.locator('[data-flash]').isVisible());
  await page.reload();
  assert.equal(await page.locator('[data-flash]').count(), 0, 'said once');
  assert.deepEqual(problems, []);
});

/** Every word a person reads on the page: text, and the attributes that are read or shown. */
const PAGE_WORDS = `(() => {
  const parts = [document.body.innerText, document.title];
  for (const el of document.querySelectorAll('body *')) {
    for (const name of ['title', 'aria-label', 'placeholder', 'alt', 'data-label', 'data-confirm']) {
      const value = el.getAttribute(name);
      if (value) parts.push(value);
    }
    if (el.tagName === 'OPTION') parts.push(el.textContent);
  }
  return parts.join('\\n');
})()`;

/** The list's own English words (the brand "ticketbridge" is not one). */
const ENGLISH = [
  'Subject', 'Status', 'Priority', 'Messages', 'Created', 'Updated', 'Create ticket', 'Filters', 'Filter', 'Reset',
  'Search', 'Showing', 'Page', 'All except closed', 'Date from', 'Date to', 'Your turn', 'Waiting', 'Support',
  'Settings', 'Sign out', 'Signed in', 'Player', 'Previous', 'Next', 'Open', 'Normal', 'High', 'answer', 'ticket waiting',
];

for (const [lang, allowed] of [
  ['ru', []],
  // "Normal" is also the Portuguese word for the normal priority.
  ['pt-BR', ['Normal']],
] as const) {
  test(`the list in ?lang=${lang} has none of its English words (desktop and phone)`, { skip }, async () => {
    for (const viewport of [
      { width: 1366, height: 800 },
      { width: 390, height: 844 },
    ]) {
      const { page, problems } = await watchedPage(browser, viewport);
      await signIn(page, app.url, 'wrapper', 'wrapper-password');
      await page.goto(`${app.url}/index.php?view=tickets&lang=${lang}`);
      assert.equal(await page.getAttribute('html', 'lang'), lang);
      await page.screenshot({ path: `${SCREENSHOTS}/e2e-list-${lang}-${viewport.width}.png`, fullPage: true });
      // The subjects are the player's own words, kept as written; everything around them is translated.
      const words = ((await page.evaluate(PAGE_WORDS)) as string).replaceAll(LONG_WORD, '');
      const left = ENGLISH.filter((word) => !(allowed as readonly string[]).includes(word) && new RegExp(`\\b${word}\\b`).test(words));
      assert.deepEqual(left, [], `English left in the ${lang} list at ${viewport.width} px`);
      assert.equal(await sidewaysScroll(page), 0);

      await page.goto(`${app.url}/index.php?view=ticket_create`);
      assert.equal(await page.getAttribute('html', 'lang'), lang, 'the language follows to the next page');
      const createWords = (await page.evaluate(PAGE_WORDS)) as string;
      const leftOnCreate = ['Subject', 'Priority', 'Message', 'Attachments', 'Submit', 'Back to tickets', 'Optional'].filter((word) => new RegExp(`\\b${word}\\b`).test(createWords));
      assert.deepEqual(leftOnCreate, [], `English left on the ${lang} create page`);
      assert.deepEqual(problems, []);
      await page.context().close();
    }
  });
}
