// Headless Chromium (Debian's package) driven by playwright-core. Browser tests skip with a clear
// message when Chromium is missing on a developer machine; in CI (CI=true) a missing browser fails.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ElementContext as AxeElementContext } from 'axe-core';
import type AxeApi from 'axe-core';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createAccount } from '../../src/accounts.js';
import type { Db } from '../../src/db/index.js';
import { updateTicketStatus } from '../../src/db/tickets.js';
import type { User } from '../../src/db/users.js';
import { createWebTicket, addInternalNote, replyAsStaff } from '../../src/tickets/service.js';
import { createSnippet } from '../../src/tickets/snippets.js';
import { STATUSES, type Priority, type Status } from '../../src/vocabulary.js';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** undefined when the browser may run; otherwise why the tests are skipped. */
export function browserSkipReason(): string | undefined {
  if (fs.existsSync(CHROMIUM_PATH)) return undefined;
  if (process.env.CI) throw new Error(`${CHROMIUM_PATH} is missing: .ci/run installs it with apt-get install -y chromium`);
  return `Chromium not found at ${CHROMIUM_PATH} (apt-get install -y chromium); browser tests skipped`;
}

/** `env` replaces the browser's environment (e.g. FONTCONFIG_FILE for a browser with fewer fonts). */
export function launchBrowser(options: { env?: Record<string, string | undefined> } = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    ...(options.env ? { env: options.env } : {}),
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A page in a fresh context that records console errors and page errors (which must never happen). */
export async function watchedPage(browser: Browser, viewport?: { width: number; height: number }): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ acceptDownloads: true, ...(viewport ? { viewport } : {}) });
  return watched(await context.newPage());
}

/** The page with its console errors and page errors recorded. */
function watched(page: Page): { page: Page; problems: string[] } {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => problems.push(error.message));
  return { page, problems };
}

/** Signs in through the real form and waits for the tickets page. */
export async function signIn(page: Page, baseUrl: string, username: string, password: string): Promise<void> {
  await page.goto(`${baseUrl}/index.php?view=login`);
  await page.fill('#username', username);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL(/view=tickets/), page.click('button[type=submit]')]);
}

export interface PageOptions {
  viewport?: { width: number; height: number };
  colorScheme?: 'light' | 'dark';
  /** Inject axe-core into every document of the context (see `axeViolations`). */
  axe?: boolean;
}

/** Like `watchedPage`, with a colour scheme and, on request, axe-core in every document. */
export async function openPage(browser: Browser, options: PageOptions = {}): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({
    acceptDownloads: true,
    viewport: options.viewport ?? DESKTOP,
    colorScheme: options.colorScheme ?? 'light',
  });
  // The CSP (script-src 'self') refuses inline scripts; an init script goes in through the
  // DevTools protocol (Page.addScriptToEvaluateOnNewDocument), which the CSP does not govern.
  if (options.axe) await context.addInitScript({ content: axeSource() });
  return watched(await context.newPage());
}

export const DESKTOP = { width: 1366, height: 900 } as const;
export const PHONE = { width: 390, height: 844 } as const;

// ---------------------------------------------------------------------------------------------
// axe-core (dev dependency): accessibility rules run inside the page.

/** WCAG 2.0 and 2.1, levels A and AA: what the dashboard promises. */
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] as const;

let axeText: string | undefined;
export function axeSource(): string {
  axeText ??= fs.readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '../../node_modules/axe-core/axe.min.js'), 'utf8');
  return axeText;
}

export interface AxeViolation {
  rule: string;
  impact: string | null;
  help: string;
  /** One CSS selector per offending element, with axe's short reason. */
  nodes: { target: string; summary: string }[];
}

/**
 * The page's axe violations for `AXE_TAGS` (or only `rules` when given). The page must come from
 * `openPage(..., { axe: true })`; axe.run is also injected here if the document lacks it.
 */
export async function axeViolations(page: Page, rules?: string[]): Promise<AxeViolation[]> {
  if (!(await page.evaluate(() => 'axe' in globalThis))) await page.evaluate(axeSource());
  return page.evaluate(
    async ({ tags, only }) => {
      const axe = (globalThis as unknown as { axe: typeof AxeApi }).axe;
      const results = await axe.run(
        (globalThis as unknown as { document: AxeElementContext }).document,
        only ? { runOnly: { type: 'rule', values: only }, resultTypes: ['violations'] } : { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] },
      );
      return results.violations.map((v) => ({
        rule: v.id,
        impact: v.impact ?? null,
        help: v.help,
        nodes: v.nodes.map((n) => ({ target: n.target.map(String).join(' '), summary: (n.failureSummary ?? '').replace(/\s+/g, ' ').slice(0, 300) })),
      }));
    },
    { tags: [...AXE_TAGS], only: rules },
  );
}

/** Violations as readable lines: "rule (impact): target — reason". */
export function describeViolations(violations: AxeViolation[]): string {
  return violations.flatMap((v) => v.nodes.map((n) => `${v.rule} (${v.impact}): ${n.target} — ${n.summary || v.help}`)).join('\n');
}

// ---------------------------------------------------------------------------------------------
// A desk with something on every page: a player with a ticket in every status and priority (one
// with a Support reply and an internal note), a new player with none, Support, an admin, a saved
// reply, and the audit rows all of that wrote.

export const DESK_PASSWORD = 'desk-password-long-enough';

export interface Desk {
  player: User;
  newcomer: User;
  staff: User;
  admin: User;
  /** The player's ticket with a conversation (player, Support, internal note), status answered. */
  conversationId: number;
  /** Every ticket of the player, by status. */
  ticketIds: Record<Status, number>;
}

export async function seedDesk(db: Db, subjects: Partial<Record<Status, string>> = {}): Promise<Desk> {
  const player = await createAccount(db, { username: 'player_one', password: DESK_PASSWORD, role: 'user' });
  const newcomer = await createAccount(db, { username: 'new_player', password: DESK_PASSWORD, role: 'user' });
  const staff = await createAccount(db, { username: 'support_sam', password: DESK_PASSWORD, role: 'staff' });
  const admin = await createAccount(db, { username: 'admin_ada', password: DESK_PASSWORD, role: 'admin' });
  const context = { ip: '127.0.0.1' };
  const priorities: Record<Status, Priority> = { open: 'normal', in_progress: 'high', answered: 'low', waiting_user: 'urgent', closed: 'normal' };
  const ticketIds = {} as Record<Status, number>;
  let now = Date.now() - 3_600_000;
  for (const status of STATUSES) {
    const subject = subjects[status] ?? `Ticket that is ${status.replace('_', ' ')}`;
    const id = createWebTicket(db, { user: player, subject, body: `About ${subject}.\nSecond line.`, priority: priorities[status], uploads: [] }, context, (now += 60_000));
    if (status !== 'open') updateTicketStatus(db, id, status, (now += 60_000));
    ticketIds[status] = id;
  }
  const conversationId = ticketIds.answered;
  updateTicketStatus(db, conversationId, 'open', (now += 60_000));
  addInternalNote(db, conversationId, 'Checked the server logs: the item was sold at 14:02.', staff, context, (now += 60_000));
  replyAsStaff(
    db,
    { ticketId: conversationId, user: staff, body: 'Thanks for the report. We are looking at the logs.', status: 'answered', uploads: [] },
    context,
    { whisperMax: 200, discord: false, notify: { email: false, telegram: false } },
    (now += 60_000),
  );
  createSnippet(db, { name: 'Greeting', body: 'Hello {player}, thanks for writing to us.' }, { actor: { id: admin.id, name: admin.username }, ip: null });
  return { player, newcomer, staff, admin, conversationId, ticketIds };
}

/**
 * How far the page, and the widest box in main, reach past the screen's right edge (px), with that
 * box named. Visually hidden boxes (the phone layout's column headers, screen-reader labels: 1 px
 * and clipped) do not count. Evaluated in the page (a string: the project's tsconfig has no DOM lib).
 */
const OVERFLOW = `(() => {
  const width = document.documentElement.clientWidth;
  let widest = '';
  let most = 0;
  for (const el of document.querySelectorAll('main *')) {
    const box = el.getBoundingClientRect();
    const hidden = el.closest('thead, .visually-hidden');
    if (box.width === 0 || (hidden && hidden.getBoundingClientRect().width <= 1)) continue;
    if (box.right - width > most) {
      most = box.right - width;
      widest = el.tagName.toLowerCase() + '.' + [...el.classList].join('.') + ' (' + Math.round(box.right) + ' px)';
    }
  }
  return { page: document.documentElement.scrollWidth - width, most, widest };
})()`;

export async function overflowOf(page: Page): Promise<{ page: number; most: number; widest: string }> {
  return (await page.evaluate(OVERFLOW)) as { page: number; most: number; widest: string };
}
