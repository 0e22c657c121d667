// Dark mode and print (public/modes.css, issue #16), in headless Chromium. Dark: the pages follow
// prefers-color-scheme with dark surfaces, light text and axe's colour-contrast rule passing; no
// light panel is left glaring. Print: a ticket prints as its conversation and the list as a plain
// table, black on white even from a dark screen. PDFs of both are kept in a temporary folder.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startApp, tempDir, type TestApp } from '../helpers/app.js';
import {
  axeViolations,
  browserSkipReason,
  DESK_PASSWORD,
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
let staff: Page;
let player: Page;
let visitor: Page;
const OUT = skip ? '' : tempDir('tb-modes-');

before(async () => {
  if (skip) return;
  app = await startApp();
  desk = await seedDesk(app.db);
  browser = await launchBrowser();
  staff = (await openPage(browser, { axe: true, colorScheme: 'dark' })).page;
  await signIn(staff, app.url, 'admin_ada', DESK_PASSWORD);
  player = (await openPage(browser, { axe: true, colorScheme: 'dark' })).page;
  await signIn(player, app.url, 'player_one', DESK_PASSWORD);
  visitor = (await openPage(browser, { axe: true, colorScheme: 'dark' })).page;
});
after(async () => {
  await browser?.close();
  await app?.close();
});

/** Relative luminance (WCAG) of a computed colour, and its alpha. */
function luminance(color: string): { l: number; alpha: number } {
  const m = /^rgba?\((\d+), (\d+), (\d+)(?:, ([\d.]+))?\)$/.exec(color);
  assert.ok(m, `a computed colour: ${color}`);
  const [r, g, b] = [m[1], m[2], m[3]].map((v) => {
    const c = Number(v) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return { l: 0.2126 * r + 0.7152 * g + 0.0722 * b, alpha: m[4] === undefined ? 1 : Number(m[4]) };
}

interface Painted {
  what: string;
  background: string;
  color: string;
  area: number;
}

/** Every visible element with a background of its own, with its text colour and painted area. */
async function paintedSurfaces(page: Page): Promise<Painted[]> {
  return page.evaluate(() => {
    interface El {
      tagName: string;
      id: string;
      className: string | { baseVal: string };
      getBoundingClientRect(): { width: number; height: number };
    }
    const g = globalThis as unknown as {
      document: { querySelectorAll(s: string): ArrayLike<El> };
      getComputedStyle(el: El): { backgroundColor: string; color: string; display: string; visibility: string };
    };
    return Array.from(g.document.querySelectorAll('html, body, body *'))
      .map((el) => {
        const css = g.getComputedStyle(el);
        const box = el.getBoundingClientRect();
        const cls = typeof el.className === 'string' ? el.className : el.className.baseVal;
        return {
          what: `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${cls ? '.' + cls.trim().split(/\s+/).join('.') : ''}`,
          background: css.backgroundColor,
          color: css.color,
          area: css.visibility === 'hidden' ? 0 : Math.round(box.width * box.height),
        };
      })
      .filter((p) => p.area > 0 && p.background !== 'rgba(0, 0, 0, 0)');
  });
}

const DARK_PAGES: { name: string; page: () => Page; url: () => string; status?: number }[] = [
  { name: 'sign-in', page: () => visitor, url: () => '/index.php?view=login' },
  { name: 'list', page: () => player, url: () => '/index.php?view=tickets&status=all' },
  { name: 'create', page: () => player, url: () => '/index.php?view=ticket_create' },
  { name: 'ticket (player)', page: () => player, url: () => `/index.php?view=ticket&id=${desk.conversationId}` },
  { name: 'settings', page: () => player, url: () => '/index.php?view=settings' },
  { name: 'queue (staff)', page: () => staff, url: () => '/index.php?view=tickets&status=all' },
  { name: 'ticket (staff)', page: () => staff, url: () => `/index.php?view=ticket&id=${desk.conversationId}` },
  { name: 'users', page: () => staff, url: () => '/index.php?view=users' },
  { name: 'saved replies', page: () => staff, url: () => '/index.php?view=snippets' },
  { name: 'audit', page: () => staff, url: () => '/index.php?view=audit' },
  { name: 'administration', page: () => staff, url: () => '/index.php?view=admin' },
  { name: 'not found', page: () => player, url: () => '/index.php?view=ticket&id=999999', status: 404 },
];

test('dark scheme: dark surfaces, light text, colour contrast passes, no light panel left', { skip }, async () => {
  const problems: string[] = [];
  for (const { name, page: pageOf, url, status } of DARK_PAGES) {
    const page = pageOf();
    for (const viewport of [{ width: 1366, height: 900 }, PHONE]) {
      await page.setViewportSize(viewport);
      await page.emulateMedia({ colorScheme: 'dark', media: 'screen' });
      const response = await page.goto(`${app.url}${url()}`);
      assert.equal(response?.status(), status ?? 200, `${name} loads`);
      const where = `${name} at ${viewport.width} px`;

      const root = await page.evaluate(() => {
        const g = globalThis as unknown as { document: { documentElement: unknown; body: unknown }; getComputedStyle(el: unknown): { backgroundColor: string; color: string; colorScheme: string } };
        const html = g.getComputedStyle(g.document.documentElement);
        const body = g.getComputedStyle(g.document.body);
        return { scheme: html.colorScheme, background: html.backgroundColor, bodyBackground: body.backgroundColor, color: body.color };
      });
      assert.match(root.scheme, /dark/, `${where}: the page declares it can be dark (color-scheme)`);
      const background = luminance(root.bodyBackground === 'rgba(0, 0, 0, 0)' ? root.background : root.bodyBackground);
      assert.ok(background.l < 0.05, `${where}: the background is dark (${root.background})`);
      assert.ok(luminance(root.color).l > 0.6, `${where}: the text is light (${root.color})`);

      // No surface larger than a button stays light: what app.css painted white or pale must be
      // restated in modes.css (a pale panel with light text would be unreadable, a white one glaring).
      for (const surface of await paintedSurfaces(page)) {
        const { l, alpha } = luminance(surface.background);
        if (alpha > 0.5 && l > 0.6 && surface.area > 6000) problems.push(`${where}: ${surface.what} has a light background ${surface.background} (${surface.area} px²)`);
      }

      const violations = await axeViolations(page, ['color-contrast']);
      if (violations.length) problems.push(`${where}:\n${describeViolations(violations)}`);
    }
  }
  assert.deepEqual(problems, []);
});

test('light scheme stays light', { skip }, async () => {
  await player.setViewportSize({ width: 1366, height: 900 });
  await player.emulateMedia({ colorScheme: 'light', media: 'screen' });
  await player.goto(`${app.url}/index.php?view=tickets&status=all`);
  const colors = await player.evaluate(() => {
    const g = globalThis as unknown as { document: { documentElement: unknown; querySelector(s: string): unknown }; getComputedStyle(el: unknown): { backgroundColor: string; color: string } };
    return { page: g.getComputedStyle(g.document.documentElement).backgroundColor, text: g.getComputedStyle(g.document.documentElement).color, table: g.getComputedStyle(g.document.querySelector('.table')).backgroundColor };
  });
  assert.ok(luminance(colors.page).l > 0.8, `light background: ${colors.page}`);
  assert.ok(luminance(colors.table).l > 0.9, `white table: ${colors.table}`);
  assert.ok(luminance(colors.text).l < 0.05, `dark text: ${colors.text}`);
  const violations = await axeViolations(player, ['color-contrast']);
  assert.deepEqual(violations, [], describeViolations(violations));
});

/** What print leaves of the page: display of the given selectors, and the colours of the text. */
async function printed(page: Page, selectors: string[]): Promise<Record<string, string[]>> {
  return page.evaluate((list) => {
    const g = globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<unknown> }; getComputedStyle(el: unknown): { display: string } };
    const out: Record<string, string[]> = {};
    for (const s of list) out[s] = Array.from(g.document.querySelectorAll(s)).map((el) => g.getComputedStyle(el).display);
    return out;
  }, selectors);
}

/** Every element with text whose colour is not black-ish, or whose background paints. */
async function colouredText(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    interface El {
      tagName: string;
      className: string;
      childNodes: ArrayLike<{ nodeType: number; textContent: string | null }>;
    }
    const g = globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<El> }; getComputedStyle(el: El): { color: string; display: string } };
    const out: string[] = [];
    for (const el of Array.from(g.document.querySelectorAll('body *'))) {
      const css = g.getComputedStyle(el);
      const ownText = Array.from(el.childNodes).some((n) => n.nodeType === 3 && (n.textContent ?? '').trim() !== '');
      if (!ownText || css.display === 'none') continue;
      const m = /rgba?\((\d+), (\d+), (\d+)/.exec(css.color);
      if (m && Math.max(Number(m[1]), Number(m[2]), Number(m[3])) > 0x66) out.push(`${el.tagName.toLowerCase()}.${el.className}: ${css.color}`);
    }
    return out;
  });
}

test('print: a ticket is its conversation, black on white, even from a dark screen', { skip }, async () => {
  await staff.setViewportSize({ width: 1366, height: 900 });
  await staff.emulateMedia({ colorScheme: 'dark', media: 'print' });
  await staff.goto(`${app.url}/index.php?view=ticket&id=${desk.conversationId}`);
  const shown = await printed(staff, ['nav.sidebar', '.skip-link', 'main form', 'main button', 'main .button', '.reply', '.note', 'h1', '.conversation', '.message', '.system-line', '.facts']);
  for (const hidden of ['nav.sidebar', '.skip-link', 'main form', 'main button', 'main .button', '.reply', '.note']) {
    assert.ok(shown[hidden]!.length > 0, `the page has ${hidden} on screen`);
    assert.deepEqual([...new Set(shown[hidden])], ['none'], `${hidden} is not printed`);
  }
  for (const kept of ['h1', '.conversation', '.message', '.system-line', '.facts']) assert.ok(shown[kept]!.length > 0 && !shown[kept]!.includes('none'), `${kept} is printed`);
  assert.equal(await staff.locator('.message').count(), 3, 'the player message, the internal note and the answer');
  assert.notEqual(await staff.locator('.breadcrumb').evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { display: string } }).getComputedStyle(el).display), 'none');
  assert.match(await staff.locator('main').innerText(), new RegExp(`#${desk.conversationId}\\b`), "the ticket's number is printed");

  const layout = await staff.evaluate(() => {
    const g = globalThis as unknown as { document: { querySelector(s: string): unknown; documentElement: unknown }; getComputedStyle(el: unknown, pseudo?: string): { breakInside: string; backgroundColor: string; content: string } };
    return {
      breakInside: g.getComputedStyle(g.document.querySelector('.message')).breakInside,
      page: g.getComputedStyle(g.document.documentElement).backgroundColor,
      linkAfter: g.getComputedStyle(g.document.querySelector('main a'), '::after').content,
    };
  });
  assert.equal(layout.breakInside, 'avoid', 'a message is not split across pages when it fits on one');
  assert.ok(luminance(layout.page).l > 0.95, `white paper: ${layout.page}`);
  assert.ok(layout.linkAfter === 'none' || layout.linkAfter === 'normal', 'no URLs printed after links');
  assert.deepEqual(await colouredText(staff), [], 'all printed text is dark');

  const pdf = path.join(OUT, 'ticket.pdf');
  await staff.pdf({ path: pdf, format: 'A4' });
  assert.ok(fs.statSync(pdf).size > 1000);
  console.log(`# print: ${pdf}`);
});

test('print: the list is a plain table, also from a narrow window', { skip }, async () => {
  for (const [who, page] of [['player', player], ['staff', staff]] as const) {
    // 600 px is under the phone breakpoint (700 px), as an A4 page can be.
    await page.setViewportSize({ width: 600, height: 900 });
    await page.emulateMedia({ colorScheme: 'dark', media: 'print' });
    await page.goto(`${app.url}/index.php?view=tickets&status=all`);
    const shown = await printed(page, ['nav.sidebar', '.filters', '.page-head .button', '.pager', '.tickets-table', '.tickets-table thead', '.tickets-table tbody tr', '.tickets-table td']);
    for (const hidden of ['nav.sidebar', '.filters', '.page-head .button', '.pager']) assert.deepEqual([...new Set(shown[hidden])], ['none'], `${who}: ${hidden} is not printed`);
    assert.deepEqual(shown['.tickets-table'], ['table']);
    assert.deepEqual(shown['.tickets-table thead'], ['table-header-group'], `${who}: the column names are printed`);
    assert.deepEqual([...new Set(shown['.tickets-table tbody tr'])], ['table-row']);
    assert.deepEqual([...new Set(shown['.tickets-table td'])], ['table-cell']);
    const labels = await page.evaluate(() => {
      const g = globalThis as unknown as { document: { querySelector(s: string): unknown }; getComputedStyle(el: unknown, pseudo: string): { content: string } };
      return g.getComputedStyle(g.document.querySelector('.tickets-table td'), '::before').content;
    });
    assert.ok(labels === 'none' || labels === 'normal', `${who}: no card labels in the printed table`);
    assert.deepEqual(await colouredText(page), [], `${who}: all printed text is dark`);
    const pdf = path.join(OUT, `list-${who}.pdf`);
    await page.pdf({ path: pdf, format: 'A4' });
    console.log(`# print: ${pdf}`);
  }
});
