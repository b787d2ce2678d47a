// The QMP server over real sockets (unix and tcp): protocol, every command, errors with QEMU
// 7.2's classes and texts (read off qemu-system-x86_64 7.2 over QMP), hotplug of pmem devices.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerAllTypes } from '../src/devices.js';
import { Machine } from '../src/machine/machine.js';
import { parseArgs } from '../src/config/options.js';
import { machineSettings } from '../src/machine/settings.js';
import { startMonitors, type RunningMonitors } from '../src/monitor/index.js';
import { QmpClient, type QmpAddress } from '../src/monitor/client.js';

let dir = '';
let machine: Machine;
let monitors: RunningMonitors;
let quits = 0;
let unixAddr: QmpAddress;
let tcpAddr: QmpAddress;
const NOW = 1_795_291_867_860; // fixed clock: 1795291867 s + 860000 µs

async function client(addr: QmpAddress = unixAddr): Promise<QmpClient> {
  const c = await QmpClient.connect(addr);
  await c.negotiate();
  return c;
}

before(async () => {
  registerAllTypes();
  dir = mkdtempSync(join(tmpdir(), 'nvmemu-qmp-'));
  for (const f of ['pm0.img', 'pm1.img', 'pm2.img', 'd.img']) {
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
    '-drive',
    `file=${dir}/d.img,if=none,id=d0,format=raw`,
    '-device',
    'nvme,id=nvme0,serial=abc,drive=d0',
  ]);
  machine = await Machine.create(args.items, {
    settings: machineSettings(args),
    dataDir: join(dir, 'state'),
    warn: () => undefined,
  });
  monitors = await startMonitors(
    machine,
    {
      qmp: [`unix:${dir}/q.sock,server=on,wait=off`, 'tcp:127.0.0.1:0,server=on,wait=off'],
      monitor: [],
    },
    { quit: () => void quits++, version: '9.8.7', now: () => NOW },
  );
  const [u, t] = monitors.describe();
  assert.equal(u, `QMP monitor: unix:${dir}/q.sock`);
  unixAddr = { path: `${dir}/q.sock` };
  const port = Number(/:(\d+)$/.exec(t ?? '')?.[1]);
  tcpAddr = { host: '127.0.0.1', port };
});

after(async () => {
  await monitors.close();
  await machine.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

describe('QMP protocol', () => {
  it('creates the unix socket owner-only (0600)', () => {
    assert.equal(statSync(`${dir}/q.sock`).mode & 0o777, 0o600);
  });

  for (const [name, addr] of [
    ['unix', () => unixAddr],
    ['tcp', () => tcpAddr],
  ] as const) {
    it(`greets on ${name} with QEMU's shape, nvmemu's package and the oob capability`, async () => {
      const c = await QmpClient.connect(addr());
      assert.deepEqual(c.greeting, {
        QMP: {
          version: { qemu: { micro: 0, minor: 2, major: 7 }, package: 'nvmemu 9.8.7' },
          capabilities: ['oob'],
        },
      });
      c.close();
    });
  }

  it('refuses commands before qmp_capabilities, then accepts them, and negotiates only once', async () => {
    const c = await QmpClient.connect(tcpAddr);
    assert.deepEqual(await c.request('query-status'), {
      error: {
        class: 'CommandNotFound',
        desc: "Expecting capabilities negotiation with 'qmp_capabilities'",
      },
    });
    assert.deepEqual(await c.request('qmp_capabilities', { enable: ['foo'] }), {
      error: { class: 'GenericError', desc: "Parameter 'null' does not accept value 'foo'" },
    });
    assert.deepEqual(await c.request('qmp_capabilities', undefined, 1), { return: {}, id: 1 });
    assert.deepEqual(await c.request('qmp_capabilities'), {
      error: {
        class: 'CommandNotFound',
        desc: 'Capabilities negotiation is already complete, command ignored',
      },
    });
    c.close();
  });

  it('echoes any JSON id with the answer', async () => {
    const c = await client();
    assert.deepEqual(await c.request('query-version', undefined, { a: [1, 'x'] }), {
      return: { qemu: { micro: 0, minor: 2, major: 7 }, package: 'nvmemu 9.8.7' },
      id: { a: [1, 'x'] },
    });
    c.close();
  });

  const malformed: [string, string, Record<string, unknown>][] = [
    [
      'a JSON syntax error',
      '{"execute": bad}\n',
      {
        error: {
          class: 'GenericError',
          desc: 'JSON parse error, Unexpected token \'b\', "{"execute": bad}" is not valid JSON',
        },
      },
    ],
    [
      'an array',
      '[1,2]\n',
      { error: { class: 'GenericError', desc: 'QMP input must be a JSON object' } },
    ],
    [
      'an unknown member',
      '{"foo":1}\n',
      { error: { class: 'GenericError', desc: "QMP input member 'foo' is unexpected" } },
    ],
    [
      'a non-string execute',
      '{"execute":1}\n',
      { error: { class: 'GenericError', desc: "QMP input member 'execute' must be a string" } },
    ],
    [
      'array arguments',
      '{"execute":"query-status","arguments":[]}\n',
      { error: { class: 'GenericError', desc: "QMP input member 'arguments' must be an object" } },
    ],
    [
      'an extra member next to an id',
      '{"execute":"query-status","id":5,"extra":1}\n',
      { id: 5, error: { class: 'GenericError', desc: "QMP input member 'extra' is unexpected" } },
    ],
    [
      'no execute',
      '{"id":7}\n',
      { error: { class: 'GenericError', desc: "QMP input lacks member 'execute'" }, id: 7 },
    ],
    [
      'an unknown command',
      '{"execute":"foo"}\n',
      { error: { class: 'CommandNotFound', desc: 'The command foo has not been found' } },
    ],
  ];
  for (const [what, text, expected] of malformed) {
    it(`answers ${what} with the right error and keeps serving`, async () => {
      const c = await client();
      assert.deepEqual(await c.sendRaw(text), expected);
      assert.deepEqual(await c.request('query-status'), {
        return: { status: 'running', singlestep: false, running: true },
      });
      c.close();
    });
  }

  it('splits requests at any byte and handles several per write', async () => {
    const c = await client();
    const text = '{"execute":"query-status","id":1}{"execute":"query-version","id":2}\n';
    const p = c.sendRawMany(text.slice(0, 7), 2);
    await new Promise((r) => setTimeout(r, 20));
    await c.sendRawMany(text.slice(7), 0);
    const [a, b] = await p;
    assert.equal(a?.id, 1);
    assert.deepEqual(b?.id, 2);
    c.close();
  });

  it('answers a client that half-closed its side, then closes', async () => {
    const c = await client();
    const reply = c.request('query-status', undefined, 'last');
    c.endInput();
    assert.deepEqual(await reply, {
      return: { status: 'running', singlestep: false, running: true },
      id: 'last',
    });
    await c.closed;
  });

  it('serves several clients at once', async () => {
    const cs = await Promise.all([client(), client(tcpAddr), client()]);
    const replies = await Promise.all(cs.map((c, i) => c.request('query-status', undefined, i)));
    assert.deepEqual(
      replies.map((r) => r.id),
      [0, 1, 2],
    );
    for (const c of cs) c.close();
  });
});

describe('QMP argument checks (before any side effect)', () => {
  const cases: [string, string, Record<string, unknown> | undefined, string][] = [
    ['a missing argument', 'object-del', undefined, "Parameter 'id' is missing"],
    ['a missing argument in an empty object', 'device_del', {}, "Parameter 'id' is missing"],
    [
      'a wrong argument type',
      'object-del',
      { id: 5 },
      "Invalid parameter type for 'id', expected: string",
    ],
    [
      'a wrong integer type',
      'x-nvmemu-inject-badblocks',
      { id: 'nv0', sector: 'x', count: 1 },
      "Invalid parameter type for 'sector', expected: integer",
    ],
    ['an unexpected argument', 'query-status', { x: 1 }, "Parameter 'x' is unexpected"],
    [
      'a device property of the wrong type (QemuOpts wording, as QEMU 7.2)',
      'device_add',
      { driver: 'nvdimm', id: 'nv3', memdev: 'm0', node: 'x' },
      "Parameter 'node' expects integer",
    ],
    [
      'an unknown device property',
      'device_add',
      { driver: 'nvdimm', id: 'nv3', bogus: 1 },
      "Property 'nvdimm.bogus' not found",
    ],
    [
      'an unknown driver',
      'device_add',
      { driver: 'nosuch', id: 'x' },
      "'nosuch' is not a valid device model name",
    ],
    ['a device_add without driver', 'device_add', { id: 'x' }, "Parameter 'driver' is missing"],
    [
      'an object-add without id',
      'object-add',
      { 'qom-type': 'memory-backend-file', 'mem-path': '/x', size: 1 },
      "Parameter 'id' is missing",
    ],
    [
      'an unknown object type',
      'object-add',
      { 'qom-type': 'nosuch', id: 'm9' },
      "Parameter 'qom-type' does not accept value 'nosuch'",
    ],
    [
      'a busy memdev',
      'device_add',
      { driver: 'nvdimm', id: 'nv9', memdev: 'm0' },
      "can't use already busy memdev: m0",
    ],
  ];
  for (const [what, cmd, args, desc] of cases) {
    it(`answers ${what} with GenericError "${desc}"`, async () => {
      const c = await client();
      const before = machine.plans().length;
      assert.deepEqual(await c.request(cmd, args), { error: { class: 'GenericError', desc } });
      assert.equal(machine.plans().length, before);
      c.close();
    });
  }
});

describe('QMP commands', () => {
  it('query-commands lists every command once, qmp_capabilities included', async () => {
    const c = await client();
    const names = ((await c.execute('query-commands')) as { name: string }[]).map((x) => x.name);
    assert.deepEqual([...names].sort(), [
      'blockdev-add',
      'blockdev-del',
      'device_add',
      'device_del',
      'human-monitor-command',
      'object-add',
      'object-del',
      'qmp_capabilities',
      'qom-get',
      'qom-list',
      'qom-set',
      'query-commands',
      'query-memory-devices',
      'query-memory-size-summary',
      'query-status',
      'query-version',
      'quit',
      'system_powerdown',
      'x-nvmemu-clear-badblocks',
      'x-nvmemu-clear-fault',
      'x-nvmemu-clear-media-errors',
      'x-nvmemu-fault-seed',
      'x-nvmemu-flush-audit',
      'x-nvmemu-inject-badblocks',
      'x-nvmemu-inject-fault',
      'x-nvmemu-inject-media-error',
      'x-nvmemu-pci-reset',
      'x-nvmemu-power-cut',
      'x-nvmemu-power-fail',
      'x-nvmemu-query-badblocks',
      'x-nvmemu-query-faults',
      'x-nvmemu-query-media-errors',
      'x-nvmemu-query-models',
      'x-nvmemu-query-nvme',
      'x-nvmemu-query-nvme-tcp',
      'x-nvmemu-query-record',
      'x-nvmemu-query-sriov',
      'x-nvmemu-query-stats',
      'x-nvmemu-record-start',
      'x-nvmemu-record-stop',
      'x-nvmemu-set-ana-state',
      'x-nvmemu-sriov-numvfs',
      'x-nvmemu-track-writes',
    ]);
    c.close();
  });

  it('hotplugs a backend and an nvdimm that appear at once in query-memory-devices', async () => {
    const c = await client();
    assert.deepEqual(
      await c.execute('object-add', {
        'qom-type': 'memory-backend-file',
        id: 'm1',
        'mem-path': `${dir}/pm1.img`,
        size: 64 << 20,
        share: true,
      }),
      {},
    );
    assert.deepEqual(
      await c.execute('device_add', { driver: 'nvdimm', id: 'nv1', memdev: 'm1' }),
      {},
    );
    const devs = (await c.execute('query-memory-devices')) as { data: Record<string, unknown> }[];
    assert.deepEqual(devs[0], {
      type: 'nvdimm',
      data: {
        id: 'nv0',
        addr: 0x1_0000_0000,
        slot: 0,
        node: 0,
        size: 64 << 20,
        memdev: '/objects/m0',
        hotplugged: false,
        hotpluggable: true,
      },
    });
    assert.equal(devs[1]?.data.id, 'nv1');
    assert.equal(devs[1]?.data.addr, 0x1_0400_0000);
    assert.equal(devs[1]?.data.slot, 1);
    assert.deepEqual(await c.execute('query-memory-size-summary'), {
      'base-memory': 512 << 20,
      'plugged-memory': 128 << 20,
    });
    c.close();
  });

  it("hotplugs virtio-pmem-pci and refuses to unplug it with QEMU 7.2's message", async () => {
    const c = await client();
    await c.execute('object-add', {
      'qom-type': 'memory-backend-file',
      id: 'm2',
      'mem-path': `${dir}/pm2.img`,
      size: 64 << 20,
    });
    await c.execute('device_add', { driver: 'virtio-pmem-pci', id: 'vp2', memdev: 'm2' });
    const devs = (await c.execute('query-memory-devices')) as { type: string; data: unknown }[];
    assert.deepEqual(devs.at(-1), {
      type: 'virtio-pmem',
      data: { id: 'vp2', memaddr: 0x1_0800_0000, size: 64 << 20, memdev: '/objects/m2' },
    });
    assert.deepEqual(await c.request('device_del', { id: 'vp2' }), {
      error: { class: 'GenericError', desc: 'virtio based memory devices cannot be unplugged.' },
    });
    c.close();
  });

  it('refuses device_del of an nvdimm, of an unknown id, and object-del of a backend in use', async () => {
    const c = await client();
    assert.deepEqual(await c.request('device_del', { id: 'nv0' }), {
      error: { class: 'GenericError', desc: 'nvdimm device hot unplug is not supported yet.' },
    });
    assert.deepEqual(await c.request('device_del', { id: 'zz' }), {
      error: { class: 'DeviceNotFound', desc: "Device 'zz' not found" },
    });
    assert.deepEqual(await c.request('object-del', { id: 'm0' }), {
      error: { class: 'GenericError', desc: "object 'm0' is in use, can not be deleted" },
    });
    assert.deepEqual(await c.request('object-del', { id: 'zz' }), {
      error: { class: 'GenericError', desc: "object 'zz' not found" },
    });
    c.close();
  });

  it('gets and sets smart_critical_warning on nvme, refusing unsupported bits', async () => {
    const c = await client();
    const path = '/machine/peripheral/nvme0';
    const prop = 'smart_critical_warning';
    assert.equal(await c.execute('qom-get', { path, property: prop }), 0);
    const bad: [unknown, string][] = [
      [64, 'unsupported smart critical warning bits: 0x40'],
      ['x', "Parameter 'smart_critical_warning' expects uint64"],
      [256, "Parameter 'smart_critical_warning' expects uint8_t"],
    ];
    for (const [value, desc] of bad) {
      assert.deepEqual(await c.request('qom-set', { path, property: prop, value }), {
        error: { class: 'GenericError', desc },
      });
    }
    assert.deepEqual(await c.request('qom-set', { path, property: prop }), {
      error: { class: 'GenericError', desc: "Parameter 'value' is missing" },
    });
    assert.deepEqual(await c.execute('qom-set', { path, property: prop, value: 2 }), {});
    assert.equal(await c.execute('qom-get', { path, property: prop }), 2);
    await c.execute('qom-set', { path, property: prop, value: 0 });
    c.close();
  });

  it("lists and reads QOM properties with assigned values and QEMU's errors", async () => {
    const c = await client();
    const list = (await c.execute('qom-list', { path: '/machine/peripheral' })) as unknown[];
    assert.deepEqual(list.slice(0, 3), [
      { name: 'type', type: 'string' },
      { name: 'nv0', type: 'child<nvdimm>' },
      { name: 'nvme0', type: 'child<nvme>' },
    ]);
    const nv = (await c.execute('qom-list', { path: '/machine/peripheral/nv0' })) as {
      name: string;
      type: string;
    }[];
    assert.deepEqual(
      nv.find((p) => p.name === 'memdev'),
      {
        name: 'memdev',
        type: 'link<memory-backend>',
      },
    );
    assert.equal(await c.execute('qom-get', { path: 'nv0', property: 'addr' }), 0x1_0000_0000);
    assert.equal(await c.execute('qom-get', { path: '/objects/m0', property: 'share' }), true);
    assert.equal(
      await c.execute('qom-get', { path: '/machine/peripheral/nvme0', property: 'serial' }),
      'abc',
    );
    assert.deepEqual(
      await c.request('qom-get', { path: '/machine/peripheral/nv0', property: 'nope' }),
      {
        error: { class: 'GenericError', desc: "Property 'nvdimm.nope' not found" },
      },
    );
    assert.deepEqual(await c.request('qom-get', { path: '/nope', property: 'size' }), {
      error: { class: 'DeviceNotFound', desc: "Device '/nope' not found" },
    });
    assert.deepEqual(
      await c.request('qom-set', { path: '/machine/peripheral/nv0', property: 'node', value: 1 }),
      {
        error: {
          class: 'GenericError',
          desc: "Attempt to set property 'node' on device 'nv0' (type 'nvdimm') after it was realized",
        },
      },
    );
    c.close();
  });

  it('injects, lists and clears nvdimm bad blocks', async () => {
    const c = await client();
    await c.execute('x-nvmemu-inject-badblocks', { id: 'nv0', sector: 8, count: 2 });
    assert.deepEqual(await c.execute('x-nvmemu-query-badblocks', { id: 'nv0' }), [
      { sector: 8, count: 2 },
    ]);
    await c.execute('x-nvmemu-clear-badblocks', { id: 'nv0', sector: 8, count: 2 });
    assert.deepEqual(await c.execute('x-nvmemu-query-badblocks', { id: 'nv0' }), []);
    assert.deepEqual(await c.request('x-nvmemu-query-badblocks', { id: 'nvme0' }), {
      error: { class: 'GenericError', desc: "Device 'nvme0' (nvme) has no bad blocks to manage" },
    });
    c.close();
  });

  it('runs HMP through human-monitor-command with CRLF line ends', async () => {
    const c = await client();
    assert.equal(
      await c.execute('human-monitor-command', { 'command-line': 'info status' }),
      'VM status: running\r\n',
    );
    assert.equal(
      await c.execute('human-monitor-command', { 'command-line': 'device_del zz' }),
      "Error: Device 'zz' not found\r\n",
    );
    c.close();
  });

  it('system_powerdown emits POWERDOWN then SHUTDOWN with timestamps, answers, then asks to quit', async () => {
    const c = await client();
    const watcher = await client(tcpAddr);
    const before = quits;
    assert.deepEqual(await c.request('system_powerdown'), { return: {} });
    assert.deepEqual(c.events, [
      { timestamp: { seconds: 1795291867, microseconds: 860000 }, event: 'POWERDOWN' },
      {
        timestamp: { seconds: 1795291867, microseconds: 860000 },
        event: 'SHUTDOWN',
        data: { guest: true, reason: 'guest-shutdown' },
      },
    ]);
    assert.equal((await watcher.nextEvent('POWERDOWN'))?.event, 'POWERDOWN');
    await new Promise((r) => setImmediate(r));
    assert.equal(quits, before + 1);
    // quit after that asks again but says SHUTDOWN only once.
    assert.deepEqual(await c.request('quit'), { return: {} });
    assert.equal(c.events.filter((e) => e.event === 'SHUTDOWN').length, 1);
    c.close();
    watcher.close();
  });
});
