// Monitor limits (issue 19): the QMP/HMP message size cap and resynchronisation after an
// oversized message, the per-endpoint session cap, and the loopback-only default of QMP over TCP.
// Every limit that bites leaves a log line and bumps a counter (x-nvmemu-query-stats provider
// "monitor").

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerAllTypes } from '../src/devices.js';
import { Machine } from '../src/machine/machine.js';
import { parseArgs } from '../src/config/options.js';
import { machineSettings } from '../src/machine/settings.js';
import { parseChardev, startMonitors, type RunningMonitors } from '../src/monitor/index.js';
import { QmpClient } from '../src/monitor/client.js';
import { JsonStream } from '../src/monitor/json.js';

let dir = '';
let machine: Machine;
let monitors: RunningMonitors;
const logs: string[] = [];

/** A raw line-oriented peer: sends bytes, collects parsed JSON messages. */
class RawQmp {
  readonly sock: Socket;
  readonly messages: unknown[] = [];
  readonly #stream = new JsonStream();
  #waiters: (() => void)[] = [];
  closed = false;

  constructor(path: string) {
    this.sock = connect(path);
    this.sock.setEncoding('utf8');
    this.sock.on('data', (c: string) => {
      for (const item of this.#stream.push(c)) this.messages.push(item.ok ? item.value : item);
      for (const w of this.#waiters.splice(0)) w();
    });
    this.sock.on('close', () => {
      this.closed = true;
      for (const w of this.#waiters.splice(0)) w();
    });
  }

  async waitFor(n: number, timeoutMs = 5000): Promise<unknown[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length < n && !this.closed) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${n} messages`);
      await new Promise<void>((r) => {
        this.#waiters.push(r);
        setTimeout(r, 50);
      });
    }
    return this.messages;
  }

  send(text: string): void {
    this.sock.write(text);
  }
}

before(async () => {
  registerAllTypes();
  dir = mkdtempSync(join(tmpdir(), 'nvmemu-qmp-limits-'));
  const args = parseArgs(['-machine', 'pc']);
  machine = await Machine.create(args.items, {
    settings: machineSettings(args),
    dataDir: join(dir, 'state'),
    warn: () => undefined,
  });
  monitors = await startMonitors(
    machine,
    {
      qmp: [
        `unix:${dir}/q.sock,server=on,wait=off`,
        `unix:${dir}/small.sock,server=on,wait=off,x-max-sessions=2,x-max-message-size=256`,
      ],
      monitor: [`unix:${dir}/h.sock,server=on,wait=off,x-max-message-size=128`],
    },
    { quit: () => undefined, version: '9.8.7', log: (l) => void logs.push(l) },
  );
});

after(async () => {
  await monitors.close();
  await machine.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

describe('QMP message size', () => {
  it('answers an oversized request with an error and keeps serving the connection', async () => {
    const c = new RawQmp(`${dir}/q.sock`);
    await c.waitFor(1); // greeting
    c.send('{"execute": "qmp_capabilities"}\n');
    await c.waitFor(2);
    // 1.5 MiB inside a string argument: over the 1 MiB default.
    c.send(`{"execute": "query-status", "arguments": {"x": "${'a'.repeat(1.5 * 1024 * 1024)}"}}\n`);
    c.send('{"execute": "query-status", "id": 7}\n');
    const got = await c.waitFor(4);
    assert.deepEqual(got[2], {
      error: { class: 'GenericError', desc: 'JSON parse error, message too long' },
    });
    assert.deepEqual(got[3], {
      return: { status: 'running', singlestep: false, running: true },
      id: 7,
    });
    c.sock.destroy();
  });
});

/** The counters of the "monitor" stats provider, by name. */
async function counters(): Promise<Record<string, number>> {
  const c = await QmpClient.connect({ path: `${dir}/q.sock` });
  await c.negotiate();
  const r = (await c.execute('x-nvmemu-query-stats', {
    providers: [{ provider: 'monitor' }],
  })) as { 'qom-path': string; stats: { name: string; value: number }[] }[];
  c.close();
  assert.equal(r.length, 1);
  assert.equal(r[0]!['qom-path'], '/monitor');
  return Object.fromEntries(r[0]!.stats.map((x) => [x.name, x.value]));
}

describe('QMP message size (configured per endpoint)', () => {
  it('applies x-max-message-size, counts and logs the oversized message', async () => {
    const before = (await counters())['oversized-messages'] ?? 0;
    const c = new RawQmp(`${dir}/small.sock`);
    await c.waitFor(1);
    c.send(`{"execute": "qmp_capabilities", "arguments": {}, "id": "${'p'.repeat(300)}"}`);
    c.send('{"execute": "qmp_capabilities", "id": 2}');
    const got = await c.waitFor(3);
    assert.deepEqual(got.slice(1), [
      { error: { class: 'GenericError', desc: 'JSON parse error, message too long' } },
      { return: {}, id: 2 },
    ]);
    c.sock.destroy();
    assert.equal((await counters())['oversized-messages'], before + 1);
    assert.ok(
      logs.includes(
        `nvmemu: monitor unix:${dir}/small.sock: dropped a QMP message longer than 256 bytes (x-max-message-size)`,
      ),
      logs.join('\n'),
    );
  });
});

describe('HMP line size', () => {
  it('drops an overlong line up to its newline and runs the next line', async () => {
    const sock = connect(`${dir}/h.sock`);
    sock.setEncoding('utf8');
    let text = '';
    sock.on('data', (d: string) => (text += d));
    // The tail of the long line would be a valid command if it were run on its own.
    sock.write(`${'x'.repeat(200)} ${'y'.repeat(100)}\r\ninfo version\r\n`);
    const deadline = Date.now() + 20_000; // generous: a loaded machine answers late
    while (!/9\.8\.7/.test(text) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    sock.destroy();
    const lines = text.split('\r\n');
    assert.ok(lines.includes('(qemu) Error: command line longer than 128 bytes'), text);
    assert.ok(!/unknown command/.test(text), `the tail of the long line ran: ${text}`);
    assert.match(text, /9\.8\.7/);
  });
});

describe('session limits', () => {
  it('refuses the session over x-max-sessions with an error, a log line and a counter', async () => {
    const before = await counters();
    const a = await QmpClient.connect({ path: `${dir}/small.sock` });
    const b = await QmpClient.connect({ path: `${dir}/small.sock` });
    await assert.rejects(QmpClient.connect({ path: `${dir}/small.sock` }), {
      message: 'QMP session refused: too many monitor sessions on this endpoint (limit 2)',
    });
    const during = await counters();
    assert.equal(during['sessions-refused'], (before['sessions-refused'] ?? 0) + 1);
    assert.equal(during['sessions-open'], (before['sessions-open'] ?? 0) + 2);
    assert.ok(
      logs.includes(
        `nvmemu: monitor unix:${dir}/small.sock: refused a QMP session: 2 open (x-max-sessions=2)`,
      ),
      logs.join('\n'),
    );
    // A closed session frees its place.
    a.close();
    await new Promise((r) => setTimeout(r, 100));
    const c = await QmpClient.connect({ path: `${dir}/small.sock` });
    await c.negotiate();
    c.close();
    b.close();
  });

  it('parses and bounds the limit options', () => {
    const spec = parseChardev(
      '-qmp',
      'unix:/tmp/q,server=on,x-max-sessions=3,x-max-message-size=4096',
    );
    assert.deepEqual(spec, {
      kind: 'unix',
      path: '/tmp/q',
      wait: true,
      maxSessions: 3,
      maxMessageBytes: 4096,
    });
    const bad: [string, string][] = [
      ['x-max-sessions=0', "Parameter 'x-max-sessions' expects an integer from 1 to 1024"],
      ['x-max-sessions=abc', "Parameter 'x-max-sessions' expects an integer from 1 to 1024"],
      [
        'x-max-message-size=10',
        "Parameter 'x-max-message-size' expects an integer from 64 to 67108864",
      ],
      [
        'x-max-message-size=1e6',
        "Parameter 'x-max-message-size' expects an integer from 64 to 67108864",
      ],
    ];
    for (const [opt, message] of bad) {
      assert.throws(() => parseChardev('-qmp', `unix:/tmp/q,server=on,${opt}`), { message });
    }
  });
});

describe('QMP over TCP binds loopback only unless asked', () => {
  const refused = (h: string) =>
    `refusing to listen on '${h}': a monitor controls host files; use a loopback address (127.0.0.1) or add x-allow-remote=on`;
  const cases: [string, string | undefined][] = [
    ['tcp:127.0.0.1:4444', undefined],
    ['tcp:127.1.2.3:4444', undefined],
    ['tcp:[::1]:4444', undefined],
    ['tcp:localhost:4444', undefined],
    ['tcp:0.0.0.0:4444', refused('0.0.0.0')],
    ['tcp::4444', refused('*')],
    ['tcp:[::]:4444', refused('::')],
    ['tcp:192.0.2.7:4444', refused('192.0.2.7')],
  ];
  for (const [addr, error] of cases) {
    it(`${addr} → ${error === undefined ? 'accepted' : 'refused'}`, () => {
      const text = `${addr},server=on,wait=off`;
      if (error === undefined) assert.equal(parseChardev('-qmp', text).kind, 'tcp');
      else assert.throws(() => parseChardev('-qmp', text), { message: error });
      // x-allow-remote=on is the explicit opt-in.
      assert.equal(parseChardev('-qmp', `${text},x-allow-remote=on`).kind, 'tcp');
    });
  }
});
