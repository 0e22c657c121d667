// Issue #16 on phones: the Users and Administration pages (and the other admin pages) fit a 390 px
// screen without sideways scrolling, long emails, names and errors wrapping; and the settings error
// summary takes the keyboard to the field.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { prepared } from '../../src/db/index.js';
import { setUserEmail } from '../../src/db/users.js';
import { addUser, startApp, type TestApp } from '../helpers/app.js';
import { browserSkipReason, launchBrowser, overflowOf, signIn, watchedPage } from '../helpers/browser.js';

const skip = browserSkipReason();
let app: TestApp;
let browser: Browser;
const PHONE = { width: 390, height: 844 };

before(async () => {
  if (skip) return;
  app = await startApp({ env: { SMTP_URL: 'smtp://127.0.0.1:2525' } });
  await addUser(app.db, 'phone_admin', 'phone-admin-password', 'admin');
  const long = await addUser(app.db, `player_${'x'.repeat(56)}`);
  setUserEmail(app.db, long.id, `a.very.long.address.${'y'.repeat(60)}@an-even-longer-domain-name.example.org`);
  await addUser(app.db, 'игрок_с_длинным_именем_из_россии', 'correct horse battery', 'staff');
  prepared(
    app.db,
    `INSERT INTO notification_outbox (user_id, ticket_id, channel, event, payload, dedupe_key, status, attempts, next_attempt_at, last_error, created_at)
     VALUES (?, NULL, 'email', 'verify_email', '{}', 'phone-test', 'failed', 8, 0, ?, ?)`,
  ).run(long.id, `550 5.1.1 <${'z'.repeat(80)}@example.org>: Recipient address rejected: UnknownUserWithAVeryLongUnbrokenIdentifier`, Date.now());
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await app?.close();
});

const overflow = overflowOf;

for (const [view, heading] of [['users', 'Users'], ['admin', 'Administration'], ['audit', 'Audit log'], ['snippets', 'Saved replies']] as const) {
  test(`${heading} has no sideways scrolling at 390 px`, { skip }, async () => {
    const { page, problems } = await watchedPage(browser, PHONE);
    await signIn(page, app.url, 'phone_admin', 'phone-admin-password');
    await page.goto(`${app.url}/index.php?view=${view}`);
    assert.equal(await page.locator('h1').first().textContent(), heading);
    const { page: past, widest } = await overflow(page);
    assert.ok(past <= 0, `${view}: the page is ${past} px wider than the screen`);
    assert.equal(widest, '', `${view}: ${widest} reaches past the screen`);
    assert.deepEqual(problems, []);
  });
}

test('a row error on Users stays on the page and within the screen at 390 px', { skip }, async () => {
  const { page, problems } = await watchedPage(browser, PHONE);
  await signIn(page, app.url, 'phone_admin', 'phone-admin-password');
  await page.goto(`${app.url}/index.php?view=users`);
  const row = page.locator('tr[data-user-id]', { hasText: 'player_x' });
  await row.locator('input[name=game_account]').fill('not a number');
  await row.locator('form[action*="game_account"] button').click();
  await page.waitForSelector('[data-row-error="game_account"]');
  assert.match((await page.locator('[data-row-error]').textContent()) ?? '', /Game account must be a whole number/);
  assert.equal(await page.locator('h1').first().textContent(), 'Users');
  assert.ok((await overflow(page)).page <= 0);
  // The 422 is logged by Chromium as a failed resource; expected here.
  assert.deepEqual(problems.filter((p) => !/status of 422/.test(p)), []);
});

test('the settings error summary links to the field it names', { skip }, async () => {
  const { page, problems } = await watchedPage(browser, PHONE);
  await signIn(page, app.url, 'phone_admin', 'phone-admin-password');
  await page.goto(`${app.url}/index.php?view=settings`);
  await page.fill('#current_password', 'phone-admin-password');
  await page.fill('#new_password', 'short');
  await page.fill('#confirm_password', 'short');
  await page.click('form[action*="action=password"] button[type=submit]');
  await page.waitForSelector('.error-summary[role=alert]');
  await page.click('.error-summary a[href="#new_password"]');
  assert.equal(await page.evaluate('document.activeElement && document.activeElement.id'), 'new_password');
  assert.ok((await overflow(page)).page <= 0);
  assert.deepEqual(problems.filter((p) => !/status of 422/.test(p)), []);
});
