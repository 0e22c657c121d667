// Headless Chromium (Debian's package) driven by playwright-core. Browser tests skip with a clear
// message when Chromium is missing on a developer machine; in CI (CI=true) a missing browser fails.
import fs from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** undefined when the browser may run; otherwise why the tests are skipped. */
export function browserSkipReason(): string | undefined {
  if (fs.existsSync(CHROMIUM_PATH)) return undefined;
  if (process.env.CI) throw new Error(`${CHROMIUM_PATH} is missing: .ci/run installs it with apt-get install -y chromium`);
  return `Chromium not found at ${CHROMIUM_PATH} (apt-get install -y chromium); browser tests skipped`;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
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
  const page = await context.newPage();
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
