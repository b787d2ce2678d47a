// `nvmemu top [URL|[ADDR:]PORT]`: the live view in a terminal, for machines without a browser.
// It reads a running machine's `/api` (nvmemu run --http) once per interval and redraws zones,
// queues, IOPS and latency in place; `--once` prints one frame and exits (scripts, tests).
// Without an address it reads the one the machine published in its data folder.

import { resolve } from 'node:path';
import { parseHttpSpec } from '../config/options.js';
import { hostPort } from '../http/server.js';
import type { ControllerInfo, NamespaceInfo, Sample } from '../http/wire.js';
import type { CliIo } from './io.js';
import { readLiveViewUrl } from './live-view-file.js';
import { helpText, parseOptions, UsageError, type OptionTable } from './options.js';
import { renderTop } from './top-render.js';

export const TOP_OPTIONS: OptionTable = {
  data: {
    type: 'string',
    description: 'data folder of the machine (default $NVMEMU_DATA or ./data)',
    valueName: 'DIR',
  },
  interval: {
    type: 'string',
    short: 'd',
    description: 'seconds between refreshes (default 1)',
    valueName: 'SECONDS',
  },
  once: { type: 'boolean', short: 'b', description: 'print one frame and exit (batch mode)' },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
};

const USAGE = helpText('nvmemu top', TOP_OPTIONS, {
  summary:
    'the live view in a terminal: zones, queues, IOPS and latency of a machine run with --http',
  operands: '[URL|[ADDR:]PORT]',
  footer:
    'Without an address: the live view of the machine on the data folder (its live-view.url).\n',
});

/** The view's base URL from the operand, or from the data folder. */
export function viewUrl(operand: string | undefined, dataDir: string): string {
  if (operand === undefined) {
    const url = readLiveViewUrl(dataDir);
    if (url === undefined) {
      throw new UsageError(
        `no live view in ${dataDir}: start the machine with 'nvmemu run --http PORT', or give its address`,
      );
    }
    return url;
  }
  if (/^https?:\/\//.test(operand)) return operand.endsWith('/') ? operand : `${operand}/`;
  let spec;
  try {
    spec = parseHttpSpec(operand);
  } catch {
    throw new UsageError(
      `${operand}: expected the live view's URL or [ADDR:]PORT (e.g. http://127.0.0.1:8080/ or 8080)`,
    );
  }
  return `http://${hostPort(spec.host ?? '127.0.0.1', spec.port)}/`;
}

async function getJson<T>(url: string): Promise<T> {
  const r = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return (await r.json()) as T;
}

async function frame(url: string, width: number, color: boolean): Promise<string[]> {
  const [controllers, namespaces, io] = await Promise.all([
    getJson<ControllerInfo[]>(`${url}api/controllers`),
    getJson<NamespaceInfo[]>(`${url}api/namespaces`),
    getJson<Sample[]>(`${url}api/io?last=1`),
  ]);
  return renderTop({ url, time: Date.now(), controllers, namespaces, sample: io[0] }, width, color);
}

export async function topCommand(argv: string[], io: CliIo): Promise<number> {
  let url: string;
  let intervalMs: number;
  let once: boolean;
  try {
    const { values, positionals } = parseOptions(argv, TOP_OPTIONS, { positionals: true });
    if (values.help === true) {
      io.out(USAGE);
      return 0;
    }
    if (positionals.length > 1)
      throw new UsageError(`one address at most, got ${positionals.length}`);
    const secs = Number(values.interval ?? '1');
    if (!Number.isFinite(secs) || secs < 0.1 || secs > 3600) {
      throw new UsageError(
        `--interval ${String(values.interval)}: expected seconds from 0.1 to 3600`,
      );
    }
    intervalMs = secs * 1000;
    once = values.once === true;
    const dataDir = resolve(
      typeof values.data === 'string' ? values.data : (process.env.NVMEMU_DATA ?? 'data'),
    );
    url = viewUrl(positionals[0], dataDir);
  } catch (e) {
    io.err(`nvmemu top: ${(e as Error).message}\n`);
    return 2;
  }
  const out = process.stdout;
  const tty = !once && out.isTTY === true;
  const show = async (): Promise<void> => {
    const lines = await frame(url, tty ? out.columns : 100, tty);
    if (!tty) return void io.out(`${lines.join('\n')}\n`);
    // Home, each line cleared to its end, then the rest of the screen.
    out.write(`\x1b[H${lines.map((l) => `${l}\x1b[K`).join('\n')}\n\x1b[J`);
  };
  try {
    await show();
  } catch (e) {
    io.err(`nvmemu top: cannot read the live view at ${url}: ${reason(e)}\n`);
    return 1;
  }
  if (once) return 0;
  return await loop(show, intervalMs, tty, io, url);
}

/** The innermost cause: `ECONNREFUSED` rather than fetch's "fetch failed". */
function reason(e: unknown): string {
  let cur = e as { cause?: unknown; code?: unknown; message?: unknown } | undefined;
  let text = String(cur?.message ?? e);
  for (let depth = 0; cur !== undefined && depth < 5; depth++) {
    if (typeof cur.code === 'string') return cur.code;
    if (typeof cur.message === 'string' && cur.message !== '') text = cur.message;
    cur = cur.cause as typeof cur;
  }
  return text;
}

/** Redraws until q, Ctrl-C or the view goes away; restores the terminal. */
function loop(
  show: () => Promise<void>,
  intervalMs: number,
  tty: boolean,
  io: CliIo,
  url: string,
): Promise<number> {
  const input = process.stdin;
  if (tty) process.stdout.write('\x1b[?1049h\x1b[?25l');
  return new Promise((done) => {
    let stopped = false;
    const stop = (status: number, message?: string): void => {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      process.off('SIGINT', onSig);
      process.off('SIGTERM', onSig);
      if (input.isTTY) {
        input.setRawMode(false);
        input.pause();
      }
      if (tty) process.stdout.write('\x1b[?25h\x1b[?1049l');
      if (message !== undefined) io.err(message);
      done(status);
    };
    const onSig = (): void => stop(0);
    const timer = setInterval(() => {
      show().catch((e: unknown) =>
        stop(1, `nvmemu top: the live view at ${url} went away: ${reason(e)}\n`),
      );
    }, intervalMs);
    process.on('SIGINT', onSig);
    process.on('SIGTERM', onSig);
    if (input.isTTY) {
      input.setRawMode(true);
      input.resume();
      input.on('data', (b: Buffer) => {
        const k = b.toString();
        if (k === 'q' || k === 'Q' || k === '\x03') stop(0);
      });
    }
  });
}
