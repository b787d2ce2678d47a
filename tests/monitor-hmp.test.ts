// HMP: a terminal on a unix socket (`-monitor unix:...`), `nvmemu monitor` over QMP, the
// chardev option syntax, and a client written by someone else (socat) when it is installed.
// Texts are QEMU 7.2's (read off qemu-system-x86_64 7.2's monitor) where QEMU has them.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { registerAllTypes } from '../src/devices.js';
import { Machine } from '../src/machine/machine.js';
import { parseArgs } from '../src/config/options.js';
import { machineSettings } from '../src/machine/settings.js';
import { ConfigError } from '../src/config/errors.js';
import { parseChardev, startMonitors, type RunningMonitors } from '../src/monitor/index.js';
import { QmpClient } from '../src/monitor/client.js';
import { runMonitorClient } from '../src/cli/monitor.js';
import { bufferIo } from '../src/cli/io.js';

let dir = '';
let machine: Machine;
let monitors: RunningMonitors;
let quits = 0;

before(async () => {
  registerAllTypes();
  dir = mkdtempSync(join(tmpdir(), 'nvmemu-hmp-'));
  for (const f of ['pm0.img', 'pm1.img', 'pm2.img']) {
    writeFileSync(join(dir, f), '');
    truncateSync(join(dir, f), 64 << 20);
  }
  const args = parseArgs([
    '-machine',
    'pc,nvdimm=on',
    '-m',
    '512M,slots=4,maxmem=4G',
    '-object',
    `memory-backend-file,id=m0,share=on,mem-path=${dir}/pm0.img,size=64M`,
    '-device',
    'nvdimm,id=nv0,memdev=m0',
  ]);
  machine = await Machine.create(args.items, {
    settings: machineSettings(args),
    dataDir: join(dir, 'state'),
    warn: () => undefined,
  });
  monitors = await startMonitors(
    machine,
    { qmp: [], monitor: [`unix:${dir}/h.sock,server,nowait`], defaultSocket: `${dir}/qmp.sock` },
    { quit: () => void quits++, version: '9.8.7' },
  );
});

after(async () => {
  await monitors.close();
  await machine.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

/** Sends lines to the HMP socket; resolves with everything received once `prompts` prompts came. */
function hmpSession(lines: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(join(dir, 'h.sock'));
    let got = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      got += d;
      if (got.split('(qemu) ').length - 1 === lines.length + 1) {
        s.end();
        resolve(got);
      }
    });
    s.on('error', reject);
    s.write(lines.map((l) => `${l}\r\n`).join(''));
  });
}

describe('HMP on a socket', () => {
  it('greets, prompts "(qemu) " and answers each line with CRLF line ends', async () => {
    const out = await hmpSession(['info status', 'info memory_size_summary']);
    assert.equal(
      out,
      "nvmemu 9.8.7 monitor - type 'help' for more information\r\n(qemu) " +
        'VM status: running\r\n(qemu) ' +
        'base memory: 536870912\r\nplugged memory: 67108864\r\n(qemu) ',
    );
  });

  const cases: [string, string][] = [
    [
      'info memory-devices',
      'Memory device [nvdimm]: "nv0"\r\n  addr: 0x100000000\r\n  slot: 0\r\n  node: 0\r\n' +
        '  size: 67108864\r\n  memdev: /objects/m0\r\n  hotplugged: false\r\n  hotpluggable: true\r\n',
    ],
    ['help device_del', 'device_del device -- remove device\r\n'],
    ['help object_del', 'object_del id -- destroy QOM object\r\n'],
    [
      'help object_add',
      'object_add [qom-type=]type,id=str[,prop=value][,...] -- create QOM object\r\n',
    ],
    [
      'help device_add',
      'device_add driver[,prop=value][,...] -- add device, like -device on the command line\r\n',
    ],
    ['help quit', 'quit|q  -- quit the emulator\r\n'],
    ['help help', 'help|? [cmd] -- show the help\r\n'],
    ['frob', "unknown command: 'frob'\r\n"],
    ['info frob', "unknown command: 'info frob'\r\n"],
    ['object_del', 'object_del: string expected\r\nTry "help object_del" for more information\r\n'],
    ['device_del nv0', 'Error: nvdimm device hot unplug is not supported yet.\r\n'],
    ['device_del zz', "Error: Device 'zz' not found\r\n"],
    ['object_del m0', "Error: object 'm0' is in use, can not be deleted\r\n"],
    ['object_del zz', "Error: object 'zz' not found\r\n"],
    ['device_add nvdimm,id=x,memdev=m0,node=abc', "Error: Parameter 'node' expects integer\r\n"],
    ['qom-get nv0 slot', '0\r\n'],
    ['qom-get /machine/peripheral/nv0 memdev', '"m0"\r\n'],
    ['qom-list /objects', 'type (string)\r\nm0 (child<memory-backend-file>)\r\n'],
  ];
  for (const [line, expected] of cases) {
    it(`answers "${line}" as QEMU does`, async () => {
      const out = await hmpSession([line]);
      assert.equal(out.split('(qemu) ')[1], expected);
    });
  }

  it('hotplugs with object_add + device_add and shows the device in info memory-devices and info qtree', async () => {
    const out = await hmpSession([
      `object_add memory-backend-file,id=m1,mem-path=${dir}/pm1.img,size=64M,share=on`,
      `object_add memory-backend-file,id=m1,mem-path=${dir}/pm1.img,size=64M,share=on`,
      'device_add virtio-pmem-pci,id=vp1,memdev=m1',
      'device_del vp1',
      'info memory-devices',
      'info qtree',
    ]);
    const parts = out.split('(qemu) ');
    assert.equal(parts[1], '');
    assert.equal(parts[2], "Error: Duplicate ID 'm1' for object\r\n");
    assert.equal(parts[3], '');
    assert.equal(parts[4], 'Error: virtio based memory devices cannot be unplugged.\r\n');
    assert.ok(
      parts[5]?.endsWith(
        'Memory device [virtio-pmem]: "vp1"\r\n  memaddr: 0x104000000\r\n  size: 67108864\r\n  memdev: /objects/m1\r\n',
      ),
      parts[5],
    );
    assert.ok(
      parts[6]?.startsWith(
        'bus: main-system-bus\r\n  type System\r\n  dev: nvdimm, id "nv0"\r\n    addr = 4294967296 (0x100000000)\r\n',
      ),
      parts[6],
    );
    assert.ok(
      parts[6]?.includes(
        '  dev: virtio-pmem-pci, id "vp1"\r\n    memaddr = 4362076160 (0x104000000)\r\n    memdev = "m1"\r\n',
      ),
      parts[6],
    );
  });

  it('a client that half-closes still gets its answer', async () => {
    const out = await new Promise<string>((resolve) => {
      const s = connect(join(dir, 'h.sock'));
      let got = '';
      s.setEncoding('utf8');
      s.on('data', (d: string) => (got += d));
      s.on('close', () => resolve(got));
      s.end('info status\n');
    });
    assert.ok(out.endsWith('(qemu) VM status: running\r\n(qemu) '), out);
  });
});

describe('nvmemu monitor (HMP client over QMP)', () => {
  it('runs piped commands against the default socket and prints QEMU texts with LF', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let text = '';
    output.on('data', (d: Buffer) => (text += d.toString()));
    const io = bufferIo();
    const done = runMonitorClient({ path: join(dir, 'qmp.sock') }, input, output, io);
    input.end('info status\ndevice_del zz\nhelp qom-get\n');
    assert.equal(await done, 0);
    assert.equal(
      text,
      "VM status: running\nError: Device 'zz' not found\nqom-get path property -- print QOM property\n",
    );
    assert.equal(io.stderr, '');
  });

  it('reports a socket nobody listens on and exits 1', async () => {
    const io = bufferIo();
    const status = await runMonitorClient(
      { path: join(dir, 'none.sock') },
      new PassThrough(),
      new PassThrough(),
      io,
    );
    assert.equal(status, 1);
    assert.match(io.stderr, /^nvmemu monitor: cannot connect to .*none\.sock: .*ENOENT/);
  });
});

describe('-qmp / -monitor syntax', () => {
  const ok: [string, unknown][] = [
    ['unix:/tmp/q.sock,server=on,wait=off', { kind: 'unix', path: '/tmp/q.sock', wait: false }],
    ['unix:/tmp/q.sock,server,nowait', { kind: 'unix', path: '/tmp/q.sock', wait: false }],
    ['unix:/tmp/q.sock,server=on', { kind: 'unix', path: '/tmp/q.sock', wait: true }],
    [
      'tcp:127.0.0.1:4444,server=on,wait=off',
      { kind: 'tcp', host: '127.0.0.1', port: 4444, wait: false },
    ],
    ['tcp:[::1]:4444,server=on,wait=off', { kind: 'tcp', host: '::1', port: 4444, wait: false }],
    [
      'tcp:0.0.0.0:4444,server=on,wait=off,x-allow-remote=on',
      { kind: 'tcp', host: '0.0.0.0', port: 4444, wait: false },
    ],
    ['stdio', { kind: 'stdio' }],
    ['none', { kind: 'none' }],
  ];
  for (const [text, expected] of ok) {
    it(`parses ${text}`, () => assert.deepEqual(parseChardev('-qmp', text), expected));
  }
  const bad: [string, string][] = [
    [
      'tcp:0.0.0.0:4444,server=on,wait=off',
      "refusing to listen on '0.0.0.0': a monitor controls host files; use a loopback address (127.0.0.1) or add x-allow-remote=on",
    ],
    [
      'tcp::4444,server=on,wait=off',
      "refusing to listen on '*': a monitor controls host files; use a loopback address (127.0.0.1) or add x-allow-remote=on",
    ],
    [
      'unix:/tmp/q.sock',
      'nvmemu monitors only listen: add server=on (client mode is not supported)',
    ],
    ['unix:/tmp/q.sock,server=on,wait=maybe', "Parameter 'wait' expects 'on' or 'off'"],
    ['unix:/tmp/q.sock,server=on,bogus=1', "Invalid parameter 'bogus'"],
    ['tcp:127.0.0.1,server=on', "address '127.0.0.1' is not HOST:PORT"],
    ['vc:80Cx24C', "chardev: 'vc' is not supported by nvmemu (use unix:, tcp:, stdio or none)"],
  ];
  for (const [text, message] of bad) {
    it(`refuses ${text}`, () => {
      assert.throws(
        () => parseChardev('-qmp', text),
        (e: unknown) =>
          e instanceof ConfigError && e.message === message && e.location === `-qmp ${text}`,
      );
    });
  }
});

describe('a client written by someone else', () => {
  const socat = spawnSync('socat', ['-V'], { encoding: 'utf8' });
  const missing = socat.error !== undefined;
  it(
    'socat with scripted JSON negotiates, runs commands and gets QEMU-shaped answers',
    { skip: missing ? 'socat is not installed (apt-get install socat)' : false },
    async () => {
      const script =
        '{"execute":"qmp_capabilities"}\n{"execute":"query-status","id":"s"}\n{"execute":"foo"}\n';
      // Async: the server runs in this process, so the event loop must stay free.
      const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>(
        (resolve) => {
          const p = spawn('socat', ['-t', '2', '-', `UNIX-CONNECT:${join(dir, 'qmp.sock')}`]);
          let stdout = '';
          let stderr = '';
          p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
          p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
          p.on('close', (status) => resolve({ status, stdout, stderr }));
          p.stdin.end(script);
        },
      );
      const lines = r.stdout.trim().split('\n');
      assert.equal(
        lines[0],
        '{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": "nvmemu 9.8.7"}, "capabilities": ["oob"]}}',
      );
      assert.deepEqual(lines.slice(1), [
        '{"return": {}}',
        '{"return": {"status": "running", "singlestep": false, "running": true}, "id": "s"}',
        '{"error": {"class": "CommandNotFound", "desc": "The command foo has not been found"}}',
      ]);
    },
  );
});

describe('quit', () => {
  it('HMP quit emits SHUTDOWN (host-qmp-quit) to QMP clients and asks the host to stop', async () => {
    const watcher = await QmpClient.connect({ path: join(dir, 'qmp.sock') });
    await watcher.negotiate();
    const before = quits;
    await hmpSession(['quit']);
    const e = await watcher.nextEvent('SHUTDOWN');
    assert.deepEqual(e?.data, { guest: false, reason: 'host-qmp-quit' });
    assert.equal(quits, before + 1);
    watcher.close();
  });
});
