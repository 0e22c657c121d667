// Thai and Russian pages in headless Chromium (issue #16): screenshots of the list, a ticket and
// the create form in `th` and `ru` at 1366 and 390 px (kept in a temporary folder, printed below),
// no character of the page drawn as a missing glyph ("tofu"), and no broken layout: no sideways
// scrolling, nothing in the header, menu or table sticking out of its box.
//
// How a missing glyph is found: every distinct non-ASCII character of the page's text (text
// nodes, placeholders, field values, option labels) is drawn on a canvas in the computed font of
// the element that shows it, and compared pixel for pixel with U+10FFFD (a private-use code point
// no font has) drawn in the same font. Chromium draws a character no installed font has as that
// font's .notdef box, the same box as U+10FFFD: identical pixels mean tofu. The last test proves
// the check fails when fonts are missing: a second browser sees only the DejaVu fonts (no Thai).
//
// And the same pages in th and ru show no English word outside what people wrote (user text is
// under dir="auto"), bar names, the brand, units and abbreviations.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createWebTicket, replyAsStaff } from '../../src/tickets/service.js';
import { startApp, tempDir, type TestApp } from '../helpers/app.js';
import { browserSkipReason, DESK_PASSWORD, DESKTOP, launchBrowser, openPage, PHONE, seedDesk, signIn } from '../helpers/browser.js';

const skip = browserSkipReason();
let app: TestApp;
let browser: Browser;
let player: Page;
const ids = { th: 0, ru: 0 };
const OUT = skip ? '' : tempDir('tb-glyphs-');

const TEXT = {
  th: { subject: 'เกมค้างตอนเปิดแผนที่ในเมืองพรอนเทรา', body: 'ทุกครั้งที่กด M เกมจะปิดเอง ลองติดตั้งใหม่แล้วก็ยังเป็นอยู่ครับ', answer: 'ขอบคุณที่แจ้งมานะครับ ทีมงานกำลังตรวจสอบบันทึกของเซิร์ฟเวอร์' },
  ru: { subject: 'Игра вылетает при открытии карты в Пронтере', body: 'Каждый раз, когда нажимаю M, клиент закрывается 🙂 Переустановка не помогла.', answer: 'Спасибо за сообщение! Мы проверяем журналы сервера.' },
} as const;

before(async () => {
  if (skip) return;
  app = await startApp();
  const desk = await seedDesk(app.db);
  for (const lang of ['th', 'ru'] as const) {
    ids[lang] = createWebTicket(app.db, { user: desk.player, subject: TEXT[lang].subject, body: TEXT[lang].body, priority: 'high', uploads: [] }, { ip: null });
    replyAsStaff(
      app.db,
      { ticketId: ids[lang], user: desk.staff, body: TEXT[lang].answer, status: 'waiting_user', uploads: [] },
      { ip: null },
      { whisperMax: 200, discord: false, notify: { email: false, telegram: false } },
    );
  }
  browser = await launchBrowser();
  player = (await openPage(browser)).page;
  await signIn(player, app.url, 'player_one', DESK_PASSWORD);
});
after(async () => {
  await browser?.close();
  await app?.close();
});

interface GlyphReport {
  /** Distinct (font, character) pairs drawn. */
  checked: number;
  /** The distinct characters drawn. */
  chars: string[];
  /** The reference box had ink (else nothing could be compared). */
  referenceInked: boolean;
  missing: { char: string; code: string; font: string; where: string }[];
}

// Runs in the page (plain JS: the project's TypeScript has no DOM types).
const FIND_TOFU = String.raw`(() => {
  const byFont = new Map();
  const add = (el, text, where) => {
    if (!text) return;
    const css = getComputedStyle(el);
    const font = css.fontStyle + ' ' + css.fontWeight + ' 32px ' + css.fontFamily;
    if (!byFont.has(font)) byFont.set(font, new Map());
    const chars = byFont.get(font);
    for (const ch of text) {
      if (ch.codePointAt(0) < 0x80 || /\s/u.test(ch) || /\p{Cf}/u.test(ch)) continue;
      if (!chars.has(ch)) chars.set(ch, where);
    }
  };
  const describe = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\s+/).join('.') : '');
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest('script, style, noscript, template')) continue;
    add(parent.tagName === 'OPTION' ? parent.closest('select') || parent : parent, node.textContent, describe(parent));
  }
  for (const field of document.querySelectorAll('input, textarea')) {
    add(field, field.getAttribute('placeholder'), describe(field) + '[placeholder]');
    if (field.type !== 'hidden' && field.type !== 'file') add(field, field.value, describe(field) + '[value]');
  }
  for (const button of document.querySelectorAll('input[type=submit], input[type=button]')) add(button, button.value, describe(button));

  const canvas = document.createElement('canvas');
  canvas.width = 160;
  canvas.height = 64;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const draw = (font, text) => {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.font = font;
    ctx.fillStyle = '#000';
    ctx.textBaseline = 'alphabetic';
    ctx.fillText(text, 40, 44);
    return new Uint32Array(ctx.getImageData(0, 0, canvas.width, canvas.height).data.buffer);
  };
  const same = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);
  let checked = 0;
  let referenceInked = true;
  const missing = [];
  for (const [font, chars] of byFont) {
    const tofu = draw(font, '\u{10FFFD}');
    if (!tofu.some((v) => v !== 0)) referenceInked = false;
    for (const [ch, where] of chars) {
      checked++;
      if (same(draw(font, ch), tofu)) missing.push({ char: ch, code: 'U+' + ch.codePointAt(0).toString(16).toUpperCase().padStart(4, '0'), font, where });
    }
  }
  const chars = [...new Set([...byFont.values()].flatMap((m) => [...m.keys()]))];
  return { checked, chars, referenceInked, missing };
})()`;

async function findTofu(page: Page): Promise<GlyphReport> {
  await page.evaluate(() => (globalThis as unknown as { document: { fonts: { ready: Promise<unknown> } } }).document.fonts.ready);
  return page.evaluate(FIND_TOFU) as Promise<GlyphReport>;
}

// Runs in the page: what sticks out. The page must not scroll sideways; in the header, the menu
// and the tickets table no element may be wider than its box (unless it scrolls or clips on
// purpose) nor reach outside its parent.
const FIND_OVERFLOW = String.raw`(() => {
  const problems = [];
  const doc = document.documentElement;
  if (doc.scrollWidth > doc.clientWidth + 1) problems.push('the page scrolls sideways: ' + doc.scrollWidth + ' px wide in ' + doc.clientWidth + ' px');
  const describe = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\s+/).join('.') : '') + ' "' + (el.textContent || '').trim().slice(0, 30) + '"';
  const hiddenOnPurpose = (el) => {
    for (let e = el; e && e !== document.body; e = e.parentElement) {
      const css = getComputedStyle(e);
      const box = e.getBoundingClientRect();
      if (css.display === 'none' || css.visibility === 'hidden' || box.width <= 1 || box.height <= 1 || css.clip !== 'auto') return true;
    }
    return false;
  };
  const clips = (css) => css.overflowX !== 'visible';
  for (const region of document.querySelectorAll('.page-head, .sidebar, .tickets-table, .table-wrap, .message-head, .meta')) {
    for (const el of [region, ...region.querySelectorAll('*')]) {
      if (hiddenOnPurpose(el)) continue;
      const css = getComputedStyle(el);
      if (!clips(css) && el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0) problems.push(describe(el) + ': content ' + el.scrollWidth + ' px wide in a ' + el.clientWidth + ' px box');
      if (el.classList.contains('table-wrap') && el.scrollWidth > el.clientWidth + 1) problems.push(describe(el) + ': the table scrolls sideways (' + el.scrollWidth + ' px in ' + el.clientWidth + ' px)');
      const parent = el.parentElement;
      if (el === region || !parent || clips(getComputedStyle(parent)) || css.position === 'absolute' || css.position === 'fixed') continue;
      const box = el.getBoundingClientRect();
      const outer = parent.getBoundingClientRect();
      if (box.right > outer.right + 1 || box.left < outer.left - 1) problems.push(describe(el) + ' reaches outside ' + describe(parent) + ' (' + Math.round(box.left) + '..' + Math.round(box.right) + ' in ' + Math.round(outer.left) + '..' + Math.round(outer.right) + ')');
    }
  }
  return [...new Set(problems)];
})()`;

const SCRIPT = { th: /\p{Script=Thai}/u, ru: /\p{Script=Cyrillic}/u } as const;

const PAGES = [
  { name: 'list', url: () => '/index.php?view=tickets' },
  { name: 'ticket', url: (lang: 'th' | 'ru') => `/index.php?view=ticket&id=${ids[lang]}` },
  { name: 'create', url: () => '/index.php?view=ticket_create' },
] as const;

for (const lang of ['th', 'ru'] as const) {
  for (const { name, url } of PAGES) {
    test(`${lang}: ${name} page draws every character and keeps its layout`, { skip }, async () => {
      const problems: string[] = [];
      for (const viewport of [DESKTOP, PHONE]) {
        await player.setViewportSize(viewport);
        const target = url(lang);
        await player.goto(`${app.url}${target}${target.includes('?') ? '&' : '?'}lang=${lang}`);
        assert.equal(await player.locator('html').getAttribute('lang'), lang, '<html lang> names the language');
        const shot = path.join(OUT, `${lang}-${name}-${viewport.width}.png`);
        await player.screenshot({ path: shot, fullPage: true });
        assert.ok(fs.statSync(shot).size > 5000, 'a screenshot was written');

        const glyphs = await findTofu(player);
        assert.ok(glyphs.referenceInked, 'the reference box of a missing glyph has ink');
        assert.ok(glyphs.chars.some((ch) => SCRIPT[lang].test(ch)), `characters of the page's language were checked (${glyphs.chars.join('')})`);
        for (const m of glyphs.missing) problems.push(`${viewport.width} px: missing glyph ${m.code} "${m.char}" in ${m.where} (${m.font})`);
        for (const p of (await player.evaluate(FIND_OVERFLOW)) as string[]) problems.push(`${viewport.width} px: ${p}`);
      }
      await player.setViewportSize(DESKTOP);
      assert.deepEqual(problems, [], `screenshots in ${OUT}`);
    });
  }
}

// Runs in the page: the words in Latin letters a person reads (text, placeholders, tooltips,
// labels for screen readers, confirmations), leaving out what people wrote (under dir="auto", as
// user text must be), parts marked in another language (lang=...), hidden decoration and code.
const LATIN_WORDS = String.raw`(() => {
  const pageLang = document.documentElement.lang;
  const skipped = (el) => !el || el.closest('script, style, noscript, template, code, [dir=auto], [aria-hidden=true]') || (el.closest('[lang]') && el.closest('[lang]').lang !== pageLang);
  const words = [];
  const add = (text, where) => {
    for (const m of (text || '').matchAll(/[A-Za-z][A-Za-z_'’.-]*[A-Za-z]/g)) words.push(m[0] + ' (' + where + ')');
  };
  const describe = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\s+/).join('.') : '');
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) if (!skipped(node.parentElement)) add(node.textContent, describe(node.parentElement));
  for (const el of document.querySelectorAll('[placeholder], [title], [aria-label], [alt], [data-confirm], input[type=submit], input[type=button]')) {
    if (skipped(el)) continue;
    for (const name of ['placeholder', 'title', 'aria-label', 'alt', 'data-confirm']) add(el.getAttribute(name), describe(el) + '[' + name + ']');
    if (el.type === 'submit' || el.type === 'button') add(el.value, describe(el) + '[value]');
  }
  return words;
})()`;

/** Latin-letter words a th or ru page may show: names, the brand, units and abbreviations. */
function allowedWord(word: string): boolean {
  if (/^[A-Z]{2,5}$/.test(word) || /^(Ki|Mi|Gi)B$/.test(word)) return true; // UTC, PDF, ZIP, MB, MiB
  if (['ticketbridge', 'Discord', 'Telegram', 'player_one', 'support_sam', 'new_player', 'admin_ada'].includes(word)) return true;
  // The languages' own names in the language menu (catalogue key language.name).
  return LANGUAGE_NAMES.has(word);
}
const LANGUAGE_NAMES = new Set(
  fs
    .readdirSync(path.join(import.meta.dirname, '../../locales'))
    .flatMap((file) => String((JSON.parse(fs.readFileSync(path.join(import.meta.dirname, '../../locales', file), 'utf8')) as Record<string, unknown>)['language.name'] ?? '').split(/[^A-Za-z]+/))
    .filter(Boolean),
);

for (const lang of ['th', 'ru'] as const) {
  test(`${lang}: list, ticket and create pages have no English words but what people wrote`, { skip }, async () => {
    const found: string[] = [];
    for (const { name, url } of PAGES) {
      const target = url(lang);
      await player.goto(`${app.url}${target}${target.includes('?') ? '&' : '?'}lang=${lang}`);
      const words = ((await player.evaluate(LATIN_WORDS)) as string[]).filter((w) => !allowedWord(w.replace(/ \(.*$/, '')));
      found.push(...[...new Set(words)].map((w) => `${name}: ${w}`));
    }
    assert.equal(found.length, 0, `English words on ${lang} pages (word (element)):\n${found.join('\n')}`);
  });
}

test('screenshots folder', { skip }, () => {
  const shots = fs.readdirSync(OUT).filter((f) => f.endsWith('.png'));
  console.log(`# screenshots (${shots.length}): ${OUT}`);
  assert.ok(shots.length > 0);
});

test('the check finds tofu: a code point no font has, and Thai in a browser without Thai fonts', { skip }, async () => {
  // In the normal browser: U+0E5C is unassigned (after the last Thai character).
  await player.goto(`${app.url}/index.php?view=ticket_create&lang=th`);
  await player.fill('#subject', 'ทดสอบ \u0E5C');
  const planted = await findTofu(player);
  assert.deepEqual(planted.missing.map((m) => m.code), ['U+0E5C'], 'only the unassigned code point is tofu');

  // A second browser that sees only the DejaVu fonts: Thai has no glyphs there.
  const dir = tempDir('tb-fonts-');
  const conf = path.join(dir, 'fonts.conf');
  fs.writeFileSync(
    conf,
    `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n  <dir>/usr/share/fonts/truetype/dejavu</dir>\n  <cachedir>${dir}/cache</cachedir>\n</fontconfig>\n`,
  );
  const bare = await launchBrowser({ env: { ...process.env, FONTCONFIG_FILE: conf } });
  try {
    const { page } = await openPage(bare);
    await signIn(page, app.url, 'player_one', DESK_PASSWORD);
    await page.goto(`${app.url}/index.php?view=ticket&id=${ids.th}&lang=th`);
    await page.screenshot({ path: path.join(OUT, 'negative-th-without-thai-fonts.png'), fullPage: true });
    const report = await findTofu(page);
    const thai = report.missing.filter((m) => /\p{Script=Thai}/u.test(m.char));
    assert.ok(thai.length >= 20, `the Thai characters are found missing (${thai.length}: ${thai.map((m) => m.char).join('')})`);
    assert.equal(report.missing.filter((m) => /\p{Script=Cyrillic}/u.test(m.char)).length, 0, 'DejaVu has Cyrillic: none of it is reported');
  } finally {
    await bare.close();
  }
});
