// An HMP terminal on a socket or on stdio: a banner, the "(qemu) " prompt (kept so that
// scripts written for QEMU's monitor find it), one command per line, output after each.
// Socket output uses CRLF line ends as QEMU's does; a line longer than MAX_LINE is dropped
// with an error instead of being buffered without bound.

import { createInterface, type Interface } from 'node:readline';
import type { Duplex, Readable, Writable } from 'node:stream';
import { Hmp, HMP_COMMAND_NAMES, HMP_INFO_NAMES } from './hmp.js';
import type { Monitor } from './monitor.js';

export const PROMPT = '(qemu) ';
export const MAX_LINE = 64 * 1024;

export const banner = (version: string): string =>
  `nvmemu ${version} monitor - type 'help' for more information\n`;

/** HMP on a connected socket. */
export function serveHmpSocket(monitor: Monitor, sock: Duplex): void {
  const hmp = new Hmp(monitor);
  const write = (text: string) => {
    if (sock.writable) sock.write(text.replace(/\r?\n/g, '\r\n'));
  };
  sock.setEncoding('utf8');
  write(banner(monitor.hooks.version) + PROMPT);
  let buf = '';
  let chain: Promise<void> = Promise.resolve();
  sock.on('data', (chunk: string) => {
    buf += chunk;
    let nl = buf.indexOf('\n');
    while (nl >= 0) {
      const line = buf.slice(0, nl).replace(/\r$/, '');
      buf = buf.slice(nl + 1);
      chain = chain.then(async () => write((await hmp.execute(line)) + PROMPT));
      nl = buf.indexOf('\n');
    }
    if (buf.length > MAX_LINE) {
      buf = '';
      chain = chain.then(() =>
        write(`Error: command line longer than ${MAX_LINE} bytes\n${PROMPT}`),
      );
    }
  });
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
