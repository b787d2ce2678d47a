// `nvmemu monitor [SOCKET]`: an interactive HMP client for a running nvmemu (or QEMU) over its
// QMP socket. Each line goes through QMP `human-monitor-command`; history (in memory) and Tab
// completion (commands, `info` subcommands, device and object ids) come from node:readline.
// Without a TTY it reads commands line by line, so it can be scripted:
//   echo 'info memory-devices' | nvmemu monitor data/qmp.sock
// SOCKET: a unix socket path or tcp:HOST:PORT; default $NVMEMU_DATA/qmp.sock or data/qmp.sock.

import { join, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { QmpAddress, QmpClient } from '../monitor/client.js';
import type { CliIo } from './io.js';
import { parseOptions, type OptionTable } from './options.js';
import type { Leaf } from './tree.js';

const USAGE = `Usage: nvmemu monitor [SOCKET]
  SOCKET  QMP socket of a running nvmemu: a unix socket path or tcp:HOST:PORT
          (default: $NVMEMU_DATA/qmp.sock, else ./data/qmp.sock)

Options:
  -h, --help  show this help

Each line is an HMP command (help, info ..., device_add, quit). 'quit' stops the machine,
as in QEMU; Ctrl-D (end of input) leaves the client and the machine keeps running.
`;

export function parseAddress(text: string): QmpAddress {
  const m = /^tcp:(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(text);
  if (m !== null) return { host: m[1] ?? m[2] ?? '', port: Number(m[3]) };
  return { path: text.startsWith('unix:') ? text.slice(5) : text };
}

/** Ids for completion: devices with an id, then objects. */
async function fetchIds(c: QmpClient): Promise<string[]> {
  const out: string[] = [];
  for (const path of ['/machine/peripheral', '/objects']) {
    try {
      const list = (await c.execute('qom-list', { path })) as { name: string }[];
      out.push(...list.map((p) => p.name).filter((n) => n !== 'type'));
    } catch {
      // A peer without these containers just completes less.
    }
  }
  return out;
}

/** The client loop over any streams (tests pass PassThroughs). Resolves with an exit status. */
export async function runMonitorClient(
  addr: QmpAddress,
  input: Readable & { isTTY?: boolean },
  output: Writable,
  io: CliIo,
): Promise<number> {
  // The QMP client and HMP completion load with the command (the leaf itself is help).
  const { QmpClient } = await import('../monitor/client.js');
  const { completeHmp, PROMPT } = await import('../monitor/hmp-session.js');
  const { createInterface } = await import('node:readline');
  let c: QmpClient;
  try {
    c = await QmpClient.connect(addr);
    await c.negotiate();
  } catch (e) {
    const where = 'path' in addr ? addr.path : `${addr.host}:${addr.port}`;
    const code = (e as NodeJS.ErrnoException).code;
    const hint =
      code === 'ENOENT' || code === 'ECONNREFUSED'
        ? `\n  no machine serves that socket: start one with 'nvmemu run' (its monitor is` +
          ` <data folder>/qmp.sock), or name the socket: nvmemu monitor PATH|tcp:HOST:PORT`
        : '';
    io.err(`nvmemu monitor: cannot connect to ${where}: ${(e as Error).message}${hint}\n`);
    return 1;
  }
  const tty = input.isTTY === true;
  let ids = await fetchIds(c);
  const rl = createInterface({
    input,
    output,
    terminal: tty,
    historySize: 1000,
    completer: (line: string) => completeHmp(line, ids),
  });
  const pkg = (c.greeting.QMP as { version?: { package?: string } } | undefined)?.version?.package;
  if (tty) {
    output.write(
      `${pkg ?? 'QMP'} monitor - type 'help' for more information\n` +
        `'quit' stops the machine; Ctrl-D leaves this client only (the machine keeps running)\n`,
    );
  }
  rl.setPrompt(tty ? PROMPT : '');
  rl.prompt();
  let status = 0;
  const done = new Promise<void>((r) => {
    rl.on('close', () => r());
    void c.closed.then(() => {
      rl.close();
      r();
    });
  });
  let chain: Promise<void> = Promise.resolve();
  rl.on('line', (line) => {
    chain = chain.then(async () => {
      if (line.trim() === '') return rl.prompt();
      const r = await c.request('human-monitor-command', { 'command-line': line });
      if (r.error !== undefined) {
        if (r.error.class === 'Disconnected') return;
        output.write(`Error: ${r.error.desc}\n`);
        status = 1;
      } else {
        output.write(String(r.return).replace(/\r\n/g, '\n'));
      }
      if (/^(device_add|object_add|device_del|object_del)\b/.test(line)) ids = await fetchIds(c);
      rl.prompt();
    });
  });
  await done;
  await chain;
  c.close();
  return status;
}

const OPTIONS: OptionTable = {
  help: { type: 'boolean', short: 'h', description: 'show this help' },
};

export async function monitorCommand(argv: string[], io: CliIo): Promise<number> {
  let positionals: string[];
  try {
    const r = parseOptions(argv, OPTIONS, { positionals: true });
    if (r.values.help === true) {
      io.out(USAGE);
      return 0;
    }
    positionals = r.positionals;
  } catch (e) {
    io.err(`nvmemu monitor: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (positionals.length > 1) {
    io.err(USAGE);
    return 2;
  }
  const target = positionals[0] ?? join(resolve(process.env.NVMEMU_DATA ?? 'data'), 'qmp.sock');
  return await runMonitorClient(parseAddress(target), process.stdin, process.stdout, io);
}

export const MONITOR_LEAF: Leaf = {
  kind: 'leaf',
  name: 'monitor',
  summary: 'interactive HMP client of a running machine',
  options: OPTIONS,
  complete: 'files',
  run: monitorCommand,
};
