// An HMP terminal on a socket or on stdio: a banner, the "(qemu) " prompt (kept so that
// scripts written for QEMU's monitor find it), one command per line, output after each.
// Socket output uses CRLF line ends as QEMU's does; a line longer than the endpoint's cap
// (default MAX_LINE) is answered with one error and dropped up to its newline, so that its
// tail is never run as a command (limits.ts).

import { createInterface, type Interface } from 'node:readline';
import type { Duplex, Readable, Writable } from 'node:stream';
import { Hmp, HMP_COMMAND_NAMES, HMP_INFO_NAMES } from './hmp.js';
import { DEFAULT_HMP_LINE_BYTES } from './limits.js';
import type { Monitor } from './monitor.js';

export const PROMPT = '(qemu) ';
export const MAX_LINE = DEFAULT_HMP_LINE_BYTES;

export const banner = (version: string): string =>
  `nvmemu ${version} monitor - type 'help' for more information\n`;

/** HMP on a connected socket; `maxLine` caps one command line (bytes). */
export function serveHmpSocket(
  monitor: Monitor,
  sock: Duplex,
  opts: { readonly maxLine?: number; readonly endpoint?: string } = {},
): void {
  const maxLine = opts.maxLine ?? MAX_LINE;
  const hmp = new Hmp(monitor);
  const write = (text: string) => {
    if (sock.writable) sock.write(text.replace(/\r?\n/g, '\r\n'));
  };
  sock.setEncoding('utf8');
  write(banner(monitor.hooks.version) + PROMPT);
  let buf = '';
  /** Dropping the rest of an overlong line, up to and including its newline. */
  let skipping = false;
  let chain: Promise<void> = Promise.resolve();
  sock.on('data', (chunk: string) => {
    if (skipping) {
      const end = chunk.indexOf('\n');
      if (end < 0) return;
      skipping = false;
      chunk = chunk.slice(end + 1);
    }
    buf += chunk;
    let nl = buf.indexOf('\n');
    while (nl >= 0) {
      const line = buf.slice(0, nl).replace(/\r$/, '');
      buf = buf.slice(nl + 1);
      if (line.length > maxLine) overlong();
      else chain = chain.then(async () => write((await hmp.execute(line)) + PROMPT));
      nl = buf.indexOf('\n');
    }
    if (buf.length > maxLine) {
      buf = '';
      skipping = true;
      overlong();
    }
  });
  function overlong(): void {
    monitor.counters.oversizedMessages++;
    monitor.log(
      `monitor ${opts.endpoint ?? 'HMP'}: dropped an HMP line longer than ${maxLine} bytes (x-max-message-size)`,
    );
    chain = chain.then(() => write(`Error: command line longer than ${maxLine} bytes\n${PROMPT}`));
  }
  sock.on('end', () => void chain.then(() => sock.end()));
  sock.on('error', () => sock.destroy());
}

/** Completion shared by `-monitor stdio` and `nvmemu monitor`: commands, info subcommands, ids. */
export function completeHmp(line: string, ids: readonly string[]): [string[], string] {
  const words = line.split(/\s+/);
  const last = words.at(-1) ?? '';
  let pool: readonly string[];
  if (words.length <= 1) pool = HMP_COMMAND_NAMES;
  else if (words[0] === 'info' && words.length === 2) pool = HMP_INFO_NAMES;
  else if (words[0] === 'help' && words.length === 2) pool = HMP_COMMAND_NAMES;
  else pool = ids;
  const hits = pool.filter((c) => c.startsWith(last));
  return [hits.length > 0 ? [...hits] : [...pool], last];
}

/** HMP on stdio (or any stream pair) with line editing, history and completion on a TTY. */
export function serveHmpStdio(
  monitor: Monitor,
  input: Readable & { isTTY?: boolean },
  output: Writable,
): { close(): void } {
  const hmp = new Hmp(monitor);
  const ids = () => [...monitor.machine.plans()].flatMap((p) => (p.id !== undefined ? [p.id] : []));
  const rl: Interface = createInterface({
    input,
    output,
    terminal: input.isTTY === true,
    historySize: 1000,
    completer: (line: string) => completeHmp(line, ids()),
  });
  rl.setPrompt(PROMPT);
  output.write(banner(monitor.hooks.version));
  rl.prompt();
  let chain: Promise<void> = Promise.resolve();
  rl.on('line', (line) => {
    chain = chain.then(async () => {
      output.write(await hmp.execute(line));
      rl.prompt();
    });
  });
  return { close: () => rl.close() };
}
