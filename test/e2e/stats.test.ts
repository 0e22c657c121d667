// view=stats in headless Chromium (issue #18): the page of the fixed data set (test/helpers/statsData.ts)
// at 1366 and 390 px, light and dark, without sideways scrolling and with zero axe violations;
// the date form changes the range; the CSV link downloads the figures.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { addUser, startApp, type TestApp } from '../helpers/app.js';
import { axeViolations, browserSkipReason, DESKTOP, describeViolations, launchBrowser, openPage, overflowOf, PHONE, signIn } from '../helpers/browser.js';
import { EXPECTED, seedStats, STATS_FROM, STATS_TO, STATS_TZ, type StatsTickets } from '../helpers/statsData.js';

const skip = browserSkipReason();
const PASSWORD = 'stats-password-long-enough';
let app: TestApp;
let browser: Browser;
let tickets: StatsTickets;
let page: Page;
let problems: string[];

before(async () => {
  if (skip) return;
  app = await startApp({ env: { TZ: STATS_TZ } });
  const people = {
    ada: await addUser(app.db, 'ada', PASSWORD, 'admin'),
    sam: await addUser(app.db, 'sam', PASSWORD, 'staff'),
    zed: await addUser(app.db, 'zed_with_a_rather_long_staff_member_name_that_must_wrap', PASSWORD, 'staff'),
    pat: await addUser(app.db, 'pat', PASSWORD),
  };
  tickets = seedStats(app.db, people);
  browser = await launchBrowser();
  ({ page, problems } = await openPage(browser, { axe: true }));
  await signIn(page, app.url, 'sam', PASSWORD);
});
after(async () => {
  await browser?.close();
  await app?.close();
});


const url = () => `${app.url}/index.php?view=stats&from=${STATS_FROM}&to=${STATS_TO}`;

test('the stats page at 1366 and 390 px, light and dark: every figure, no sideways scroll, no axe violation', { skip }, async () => {
  const found: string[] = [];
  for (const viewport of [DESKTOP, PHONE]) {
    // Loaded at each width, as a phone or a desktop opens it (the sidebar's state is set on load).
    await page.setViewportSize(viewport);
    const response = await page.goto(url());
    assert.equal(response?.status(), 200);
    for (const colorScheme of ['light', 'dark'] as const) {
      await page.setViewportSize(viewport);
      await page.emulateMedia({ colorScheme });
      const label = `${viewport.width} px ${colorScheme}`;
      const { page: past, most, widest } = await overflowOf(page);
      assert.ok(past <= 0, `${label}: the page scrolls sideways by ${past} px (${widest})`);
      assert.ok(most <= 1, `${label}: ${widest} reaches past the edge`);
      for (const [name, text] of [
        ['opened-total', String(EXPECTED.opened.web + EXPECTED.opened.game)],
        ['closed-total', String(EXPECTED.closed.web + EXPECTED.closed.game)],
        ['first-response-median', EXPECTED.firstResponse.medianText],
        ['first-response-p90', EXPECTED.firstResponse.p90Text],
        ['resolution-median', EXPECTED.resolution.medianText],
        ['resolution-p90', EXPECTED.resolution.p90Text],
      ] as const) {
        const cell = page.locator(`[data-stat="${name}"]`);
        assert.ok(await cell.isVisible(), `${label}: ${name} shown`);
        assert.equal((await cell.innerText()).trim(), text, `${label}: ${name}`);
      }
      assert.ok(await page.locator(`[data-stat="backlog-open-oldest"] a[data-ticket="${tickets.t5}"]`).isVisible(), `${label}: the oldest open ticket linked`);
      const violations = await axeViolations(page);
      if (violations.length) found.push(`[${label}]\n${describeViolations(violations)}`);
    }
  }
  assert.equal(found.length, 0, `axe violations:\n${found.join('\n')}`);
  assert.deepEqual(problems.splice(0), [], 'no console or page errors');
});

test('the sidebar leads to it, and the date form changes the range', { skip }, async () => {
  await page.setViewportSize(DESKTOP);
  await page.emulateMedia({ colorScheme: 'light' });
  await page.goto(`${app.url}/index.php?view=tickets`);
  await Promise.all([page.waitForURL(/view=stats/), page.click('a.nav-item[href="/index.php?view=stats"]')]);
  await page.fill('#stats-from', STATS_FROM);
  await page.fill('#stats-to', STATS_FROM);
  await Promise.all([page.waitForURL(/from=2026-01-10&to=2026-01-10/), page.click('form.filters button[type=submit]')]);
  assert.equal((await page.locator('[data-stat="opened-total"]').innerText()).trim(), '6');
  // A range backwards: the form comes back with the error at the field, and axe still finds nothing.
  await page.fill('#stats-from', STATS_TO);
  await page.fill('#stats-to', STATS_FROM);
  await Promise.all([page.waitForURL(/from=2026-01-12/), page.click('form.filters button[type=submit]')]);
  assert.equal(await page.locator('#stats-to').getAttribute('aria-invalid'), 'true');
  assert.ok(await page.locator('#stats-to-error').isVisible());
  assert.deepEqual(describeViolations(await axeViolations(page)), '');
  problems.splice(0).forEach((p) => assert.match(p, /status of 422/));
});

test('the CSV link downloads the figures', { skip }, async () => {
  await page.goto(url());
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('a[download]')]);
  const file = await download.path();
  const text = fs.readFileSync(file, 'utf8');
  assert.match(text, /"tickets","opened_total","7"/);
  assert.match(text, /"times","resolution_p90_seconds","367200"/);
  assert.match(download.suggestedFilename(), /^stats-2026-01-10-2026-01-12\.csv$/);
});
