// The version printed by `nvmemu --version` and reported by the monitor.
import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function version(): string {
  if (cached === undefined) {
    const pkgUrl = new URL('../../../package.json', import.meta.url);
    cached = (JSON.parse(readFileSync(pkgUrl, 'utf8')) as { version: string }).version;
  }
  return cached;
}
