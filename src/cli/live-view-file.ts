// `<data folder>/live-view.url`: where a running machine's live view listens (`nvmemu run
// --http`), so that `nvmemu top` finds it as `nvmemu monitor` finds `qmp.sock`. Written once
// the view listens, removed at shutdown.

import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const LIVE_VIEW_FILE = 'live-view.url';

export function publishLiveViewUrl(dataDir: string, url: string): void {
  writeFileSync(join(dataDir, LIVE_VIEW_FILE), `${url}\n`);
}

export function removeLiveViewUrl(dataDir: string): void {
  rmSync(join(dataDir, LIVE_VIEW_FILE), { force: true });
}

/** The URL a machine on `dataDir` published, or undefined when none runs with --http. */
export function readLiveViewUrl(dataDir: string): string | undefined {
  try {
    const text = readFileSync(join(dataDir, LIVE_VIEW_FILE), 'utf8').trim();
    return text === '' ? undefined : text;
  } catch {
    return undefined;
  }
}
