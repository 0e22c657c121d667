// axe-core at zero violations (WCAG 2.0/2.1 A and AA) on every page of the dashboard, in headless
// Chromium at desktop (1366 px) and phone (390 px) widths, in light and dark colour schemes
// (issue #16). One browser; one signed-in page per person, each page loaded once and checked in
// the four combinations. A failure lists every violation as "rule (impact): selector — reason".
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startApp, type TestApp } from '../helpers/app.js';
import {
  axeViolations,
  browserSkipReason,
  DESK_PASSWORD,
  DESKTOP,
  describeViolations,
  launchBrowser,
  openPage,
  PHONE,
  seedDesk,
  signIn,
  type Desk,
} from '../helpers/browser.js';

const skip = browserSkipReason();
let app: TestApp;
let browser: Browser;
let desk: Desk;
type Who = 'visitor' | 'player' | 'newcomer' | 'staff' | 'admin' | 'translated';
const pages = new Map<Who, { page: Page; problems: string[] }>();

before(async () => {
  if (skip) return;
  app = await startApp();
  desk = await seedDesk(app.db);
  browser = await launchBrowser();
  const users: Record<Exclude<Who, 'visitor' | 'translated'>, string> = { player: 'player_one', newcomer: 'new_player', staff: 'support_sam', admin: 'admin_ada' };
  pages.set('visitor', await openPage(browser, { axe: true }));
  for (const [who, username] of Object.entries(users) as [Who, string][]) {
    const opened = await openPage(browser, { axe: true });
    await signIn(opened.page, app.url, username, DESK_PASSWORD);
    pages.set(who, opened);
  }
});
after(async () => {
  await browser?.close();
  await app?.close();
});

const COMBINATIONS = [
  { width: 'desktop', viewport: DESKTOP, colorScheme: 'light' },
  { width: 'desktop', viewport: DESKTOP, colorScheme: 'dark' },
  { width: 'phone', viewport: PHONE, colorScheme: 'light' },
  { width: 'phone', viewport: PHONE, colorScheme: 'dark' },
] as const;

/** Loads `url` as `who` (after `prepare`, if any), then runs axe in every combination. */
async function checkPage(who: Who, url: string, expectStatus = 200, prepare?: (page: Page) => Promise<void>): Promise<void> {
  const { page, problems } = pages.get(who)!;
  await page.setViewportSize(DESKTOP);
  await page.emulateMedia({ colorScheme: 'light' });
  const response = await page.goto(`${app.url}${url}`);
  assert.equal(response?.status(), expectStatus, `${url} answers ${expectStatus}`);
  if (prepare) await prepare(page);
  const found: string[] = [];
  for (const { width, viewport, colorScheme } of COMBINATIONS) {
    await page.setViewportSize(viewport);
    await page.emulateMedia({ colorScheme });
    const violations = await axeViolations(page);
    if (violations.length) found.push(`[${width} ${colorScheme}]\n${describeViolations(violations)}`);
  }
  // The browser logs every 4xx answer of a document as an error: only the expected one is fine.
  const unexpected = problems.splice(0).filter((p) => !/^Failed to load resource: the server responded with a status of (401|404|422)\b/.test(p));
  assert.deepEqual(unexpected, [], 'no console or page errors');
  assert.equal(found.length, 0, `axe violations on ${url} as ${who}:\n${found.join('\n')}`);
}

test('the check finds what it looks for: planted violations are reported', { skip }, async () => {
  const { page } = pages.get('visitor')!;
  await page.goto(`${app.url}/index.php?view=login`);
  await page.evaluate(() => {
    const doc = (globalThis as unknown as { document: { getElementById(id: string): { removeAttribute(name: string): void; id: string } | null } }).document;
    doc.getElementById('username')!.id = 'renamed'; // the label's for= now points nowhere
  });
  await page.emulateMedia({ colorScheme: 'light' });
  const violations = await axeViolations(page);
  assert.ok(violations.some((v) => v.rule === 'label' && v.nodes.some((n) => n.target.includes('#renamed'))), describeViolations(violations));
});

test('sign-in page', { skip }, () => checkPage('visitor', '/index.php?view=login'));
test('sign-in page with an error', { skip }, () =>
  checkPage('visitor', '/index.php?view=login', 200, async (page) => {
    await page.fill('#username', 'nobody');
    await page.fill('#password', 'wrong password');
    await Promise.all([page.waitForURL(/view=login/), page.click('button[type=submit]')]);
    await page.waitForLoadState('load');
  }));
test('error page (404) for a visitor', { skip }, () => checkPage('visitor', '/no-such-page', 404));

test('tickets list: a new player with none', { skip }, () => checkPage('newcomer', '/index.php?view=tickets'));
test('tickets list: a player with tickets in every status', { skip }, () => checkPage('player', '/index.php?view=tickets&status=all'));
test('tickets list: a search with no match', { skip }, () => checkPage('player', '/index.php?view=tickets&q=qwxplorfz'));
test('create a ticket', { skip }, () => checkPage('player', '/index.php?view=ticket_create'));
test('create a ticket: the form sent empty', { skip }, () =>
  checkPage('player', '/index.php?view=ticket_create', 200, async (page) => {
    await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.click('main button[type=submit]')]);
    await page.waitForLoadState('load');
    assert.ok((await page.locator('[aria-invalid="true"]').count()) > 0, 'the empty form comes back with its fields marked');
  }));
test('ticket page (player)', { skip }, () => checkPage('player', `/index.php?view=ticket&id=${desk.conversationId}`));
test('ticket page (player) after a reply', { skip }, () =>
  checkPage('player', `/index.php?view=ticket&id=${desk.ticketIds.in_progress}`, 200, async (page) => {
    await page.fill('#message', 'Still happening after the patch.');
    await Promise.all([page.waitForURL(/#message-\d+/), page.click('.reply button[type=submit]')]);
    await page.waitForLoadState('load');
  }));
test('ticket page (player): closed', { skip }, () => checkPage('player', `/index.php?view=ticket&id=${desk.ticketIds.closed}`));
test('settings', { skip }, () => checkPage('player', '/index.php?view=settings'));
test('error page (404) for a signed-in player', { skip }, () => checkPage('player', '/index.php?view=ticket&id=999999', 404));

test('tickets list (Support queue)', { skip }, () => checkPage('staff', '/index.php?view=tickets&status=all'));
test('tickets list: a Support search, ordered by newest match', { skip }, () =>
  checkPage('staff', '/index.php?view=tickets&status=all&q=ticket', 200, async (page) => {
    assert.equal(await page.locator('[data-search-order]').count(), 1, 'the page says how its results are ordered');
  }));
test('ticket page (Support, with an internal note)', { skip }, () => checkPage('staff', `/index.php?view=ticket&id=${desk.conversationId}`));

test('users (admin)', { skip }, () => checkPage('admin', '/index.php?view=users'));
test('saved replies (admin)', { skip }, () => checkPage('admin', '/index.php?view=snippets'));
test('statistics (staff)', { skip }, () => checkPage('staff', '/index.php?view=stats'));
test('audit log (admin)', { skip }, () => checkPage('admin', '/index.php?view=audit'));
test('administration (admin)', { skip }, () => checkPage('admin', '/index.php?view=admin'));

// The same pages in Thai and Russian (a page of its own: ?lang= stays in the context's cookie).
for (const lang of ['th', 'ru'] as const) {
  test(`player pages in ${lang}`, { skip }, async () => {
    const opened = await openPage(browser, { axe: true });
    await signIn(opened.page, app.url, 'player_one', DESK_PASSWORD);
    pages.set('translated', opened);
    try {
      for (const url of ['/index.php?view=tickets', `/index.php?view=ticket&id=${desk.conversationId}`, '/index.php?view=ticket_create', '/index.php?view=settings']) {
        await checkPage('translated', `${url}&lang=${lang}`);
        assert.equal(await opened.page.locator('html').getAttribute('lang'), lang);
      }
    } finally {
      await opened.page.context().close();
      pages.delete('translated');
    }
  });
}

// ---------------------------------------------------------------------------------------------
// The keyboard path: with Tab and Enter only, a player skips the menu, opens a ticket from the
// list and replies. Every stop on the way is visible and shows where the focus is.

interface FocusStop {
  /** e.g. `a "#3"`, `textarea#message`. */
  label: string;
  inMain: boolean;
  /** Within `tbody tr[data-ticket-id]`: that row's ticket id. */
  rowTicket: string | null;
  id: string;
  visible: boolean;
  /** An outline or a box-shadow marks the focused element. */
  ring: boolean;
}

async function focusStop(page: Page): Promise<FocusStop | null> {
  return page.evaluate(() => {
    interface El {
      tagName: string;
      id: string;
      textContent: string | null;
      closest(selector: string): El | null;
      getAttribute(name: string): string | null;
      getBoundingClientRect(): { width: number; height: number };
      matches(selector: string): boolean;
    }
    const doc = (globalThis as unknown as { document: { activeElement: El | null; body: El } }).document;
    const style = (globalThis as unknown as { getComputedStyle(el: El): { outlineStyle: string; outlineWidth: string; boxShadow: string; visibility: string } }).getComputedStyle;
    const el = doc.activeElement;
    if (!el || el === doc.body) return null;
    const box = el.getBoundingClientRect();
    const css = style(el);
    return {
      label: `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''} "${(el.textContent ?? '').trim().slice(0, 40)}"`,
      inMain: el.closest('main') !== null,
      rowTicket: el.closest('tbody tr[data-ticket-id]')?.getAttribute('data-ticket-id') ?? null,
      id: el.id,
      visible: box.width > 0 && box.height > 0 && css.visibility !== 'hidden',
      // A date field's own parts (its calendar button) take the focus inside the field's shadow
      // tree: the field then is not :focus, and Chromium draws that part's ring itself.
      ring: !el.matches(':focus') || (css.outlineStyle !== 'none' && css.outlineWidth !== '0px') || css.boxShadow !== 'none',
    };
  });
}

/** Presses Tab until `done` holds for the focused element (at most `max` presses); every stop must be visible with a ring. */
async function tabUntil(page: Page, done: (stop: FocusStop) => boolean, max = 80): Promise<FocusStop[]> {
  const path: FocusStop[] = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const stop = await focusStop(page);
    if (!stop) continue;
    path.push(stop);
    assert.ok(stop.visible, `the focus never rests on something invisible: ${stop.label}`);
    assert.ok(stop.ring, `the focused element shows a focus ring: ${stop.label}`);
    if (done(stop)) return path;
  }
  assert.fail(`not reached with ${max} presses of Tab; stops: ${path.map((s) => s.label).join(', ')}`);
}

test('keyboard only: skip link, list to ticket, reply', { skip }, async () => {
  const { page, problems } = await openPage(browser);
  await signIn(page, app.url, 'player_one', DESK_PASSWORD);
  await page.goto(`${app.url}/index.php?view=tickets`);

  // The first Tab shows the skip link; Enter on it moves the focus past the menu.
  await page.keyboard.press('Tab');
  const first = await focusStop(page);
  assert.ok(first && (await page.locator('.skip-link').evaluate((el, active) => el === active, await page.evaluateHandle(() => (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement))), `the first stop is the skip link, not ${first?.label}`);
  const skipBox = (await page.locator('.skip-link').boundingBox())!;
  assert.ok(skipBox.y >= 0 && skipBox.height > 0, 'the focused skip link is on screen');
  assert.ok(first.visible && first.ring);
  await page.keyboard.press('Enter');
  assert.match(page.url(), /#main$/);
  await page.keyboard.press('Tab');
  const afterSkip = await focusStop(page);
  assert.ok(afterSkip?.inMain, `after the skip link the next stop is in the page's content, not the menu: ${afterSkip?.label}`);

  // On to the ticket's row, and Enter opens it.
  const ticket = String(desk.conversationId);
  await tabUntil(page, (stop) => stop.rowTicket === ticket);
  await Promise.all([page.waitForURL(new RegExp(`view=ticket&id=${ticket}`)), page.keyboard.press('Enter')]);

  // To the message box, type, then to Send, and Enter sends.
  await tabUntil(page, (stop) => stop.id === 'message');
  await page.keyboard.type('Typed with the keyboard only.');
  const toSend = await tabUntil(page, (stop) => /^button "/.test(stop.label) && stop.inMain, 10);
  assert.match(toSend.at(-1)!.label, /^button/);
  assert.equal(await page.locator('.reply button[type=submit]').evaluate((el, active) => el === active, await page.evaluateHandle(() => (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement)), true, 'the focus is on the reply form\'s submit button');
  await Promise.all([page.waitForURL(/#message-\d+/), page.keyboard.press('Enter')]);
  assert.ok(await page.locator('.message-body', { hasText: 'Typed with the keyboard only.' }).isVisible(), 'the reply is in the conversation');
  assert.deepEqual(problems, []);
  await page.context().close();
});

test('one tab stop per row of the tickets list', { skip }, async () => {
  for (const [who, viewport] of [['player', DESKTOP], ['player', PHONE], ['staff', DESKTOP], ['staff', PHONE]] as const) {
    const { page } = pages.get(who)!;
    await page.setViewportSize(viewport);
    await page.goto(`${app.url}/index.php?view=tickets&status=all`);
    const counts = await page.locator('tbody tr[data-ticket-id]').evaluateAll((rows) =>
      rows.map((row) => {
        const r = row as unknown as { getAttribute(n: string): string; querySelectorAll(s: string): ArrayLike<{ getBoundingClientRect(): { width: number; height: number } }> };
        const focusable = Array.from(r.querySelectorAll('a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])'));
        return { id: r.getAttribute('data-ticket-id'), stops: focusable.filter((el) => el.getBoundingClientRect().width > 0).length };
      }),
    );
    assert.ok(counts.length >= 4, `${who}: the list has rows`);
    const wrong = counts.filter((row) => row.stops !== 1).map(({ id, stops }) => `#${id}: ${stops}`);
    assert.deepEqual(wrong, [], `${who} at ${viewport.width} px: rows with other than one tab stop (ticket: stops)`);
  }
});
