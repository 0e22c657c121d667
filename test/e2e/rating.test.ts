// Issue #18: the "How did we do?" form in headless Chromium, with the keyboard only: Tab into the
// choices, arrows to 4, Tab to the comment, Enter on the button; the thank-you flash and the
// rating shown instead of the form. axe-core at zero violations on the form, its error state and
// the page after, in light and dark colour schemes.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ticketRating } from '../../src/db/ratings.js';
import { startApp, type TestApp } from '../helpers/app.js';
import { axeViolations, browserSkipReason, DESK_PASSWORD, describeViolations, launchBrowser, openPage, seedDesk, signIn, type Desk } from '../helpers/browser.js';

const skip = browserSkipReason();
let app: TestApp;
let browser: Browser;
let desk: Desk;

before(async () => {
  if (skip) return;
  app = await startApp();
  desk = await seedDesk(app.db);
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await app?.close();
});

async function noViolations(page: Page, what: string): Promise<void> {
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    const violations = await axeViolations(page);
    assert.equal(violations.length, 0, `${what} (${colorScheme}):\n${describeViolations(violations)}`);
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

const focused = (page: Page) => page.evaluate(() => (globalThis as unknown as { document: { activeElement: { id: string } | null } }).document.activeElement?.id ?? '');

test('rating a closed ticket with the keyboard: choose 4, a comment, send; thank-you flash and the rating shown', { skip }, async () => {
  const { page, problems } = await openPage(browser, { axe: true });
  try {
    await signIn(page, app.url, 'player_one', DESK_PASSWORD);
    const id = desk.ticketIds.closed;
    await page.goto(`${app.url}/index.php?view=ticket&id=${id}`);
    const form = page.locator('[data-rate-form]');
    assert.equal(await form.locator('h2').textContent(), 'How did we do?');
    assert.equal(await form.locator('fieldset legend').textContent(), 'Your rating');
    await noViolations(page, 'the rating form');

    // Sent without a choice: the page comes back with the choices marked and the comment kept.
    await page.focus('.closed-note a');
    await page.keyboard.press('Tab');
    assert.equal(await focused(page), 'rating-1', 'Tab reaches the first choice');
    await page.keyboard.press('Tab');
    assert.equal(await focused(page), 'rate-comment', 'one Tab stop for the whole group');
    await page.keyboard.type('Fast answer.');
    await page.keyboard.press('Tab');
    await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.keyboard.press('Enter')]);
    await page.waitForLoadState('load');
    assert.equal(await page.locator('#rating-error').textContent(), 'Choose a rating from 1 (very poor) to 5 (excellent).');
    assert.equal(await page.locator('#rate-comment').inputValue(), 'Fast answer.');
    assert.equal(await focused(page), 'rating-1', 'the focus goes to the choices');
    await noViolations(page, 'the rating form with its error');

    // Space picks 1, the arrows move the choice to 4.
    await page.keyboard.press('Space');
    for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowRight');
    assert.equal(await focused(page), 'rating-4');
    assert.equal(await page.locator('#rating-4').isChecked(), true);
    assert.equal(await page.locator('label[for="rating-4"]').textContent(), '4 – Good');
    await page.keyboard.press('Tab');
    assert.equal(await focused(page), 'rate-comment');
    await page.keyboard.press('End');
    await page.keyboard.type(' Thanks!');
    await page.keyboard.press('Tab');
    await Promise.all([page.waitForURL(/#rate$/), page.keyboard.press('Enter')]);
    await page.waitForLoadState('load');

    assert.equal((await page.locator('[data-flash]').textContent())?.trim(), 'Thank you for your rating.');
    assert.equal(await page.locator('[data-rate-form]').count(), 0, 'the form is gone');
    const given = page.locator('#rate[data-rating="4"]');
    assert.match((await given.textContent()) ?? '', /You rated this ticket 4\/5 \(Good\)\.[\s\S]*Fast answer\. Thanks!/);
    assert.deepEqual({ rating: ticketRating(app.db, id)?.rating, comment: ticketRating(app.db, id)?.comment }, { rating: 4, comment: 'Fast answer. Thanks!' });
    await noViolations(page, 'the rating given');
    // The 422 of the form sent without a choice is the browser's console line for that answer, meant.
    assert.deepEqual(problems.filter((p) => !/status of 422 .*action=rate/.test(p)), []);
  } finally {
    await page.context().close();
  }
});
