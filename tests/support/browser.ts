// Headless Chromium for the live view's tests: Debian's `chromium` (/usr/bin/chromium, which
// .ci/run installs) driven by playwright-core, with the flags this workplace's machines need
// (no sandbox as root; no background networking, whose connections the closed network refuses).
// Resolves with the browser, or with the reason it cannot run (the test then skips and says so).

import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';

export const CHROMIUM = process.env.NVMEMU_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function openBrowser(): Promise<Browser | string> {
  if (!existsSync(CHROMIUM)) {
    return `no Chromium at ${CHROMIUM} (apt-get install chromium; .ci/run installs it)`;
  }
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (e) {
    return `playwright-core is not installed: ${(e as Error).message}`;
  }
  try {
    // playwright starts it headless with a new, empty profile of its own.
    return await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      timeout: 60_000,
    });
  } catch (e) {
    return `Chromium did not start: ${(e as Error).message.split('\n')[0] ?? ''}`;
  }
}
