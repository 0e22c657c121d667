// Headless Chromium (Debian's package) driven by playwright-core. Browser tests skip with a clear
// message when Chromium is missing on a developer machine; in CI (CI=true) a missing browser fails.
import fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

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
