// The monitor's NVMe commands over real sockets (QMP on a unix socket, hosts over NVMe/TCP on
// 127.0.0.1): drives at run time (blockdev-add/-del, HMP drive_add), nvme-ns hotplug and unplug
// seen by a connected host through the namespace-attribute AER, media-error injection seen by
// the host as the exact status, the NVMe/TCP association list and events, per-device stats.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerAllTypes } from '../src/devices.js';
import { Machine } from '../src/machine/machine.js';
import { parseArgs } from '../src/config/options.js';
import { machineSettings } from '../src/machine/settings.js';
import { startMonitors, type RunningMonitors } from '../src/monitor/index.js';
import { QmpClient } from '../src/monitor/client.js';
import { startNvmeTcp, type NvmeTcpService } from '../src/nvme-tcp/target/index.js';
import { NvmeTcpController } from '../src/nvme-tcp/host/index.js';
import { NvmeDevice } from '../src/nvme/index.js';
import { AdminOpc, IoOpc } from '../src/nvme/spec/opcodes.js';
import { readU32le } from '../src/util/bytes.js';

const NQN = 'nqn.2019-08.org.qemu:subsys0';
const LEGACY_NQN = 'nqn.2019-08.org.qemu:leg';
const HOSTNQN = 'nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-00000000abcd';

let dir = '';
let machine: Machine;
let tcp: NvmeTcpService;
let monitors: RunningMonitors;
let bare: RunningMonitors;

async function client(path = `${dir}/q.sock`): Promise<QmpClient> {
  const c = await QmpClient.connect({ path });
  await c.negotiate();
  return c;
}

/** The error reply of a command that must fail. */
async function fails(c: QmpClient, cmd: string, args: Record<string, unknown>) {
  const r = await c.request(cmd, args);
  assert.ok(r.error !== undefined, `${cmd} ${JSON.stringify(args)} succeeded`);
  return r.error;
}

function host(
  subnqn = NQN,
  extra: { ioQueues?: number; hdgst?: boolean; ddgst?: boolean; queueSize?: number } = {},
) {
  return NvmeTcpController.connect({
    address: '127.0.0.1',
    port: tcp.target.ioPort.port,
    subnqn,
    hostnqn: HOSTNQN,
    ioQueues: 1,
    ...extra,
  });
}

/** Identify CNS 02h: the active NSIDs. */
async function activeNsids(h: NvmeTcpController): Promise<number[]> {
  const r = await h.adminOk(
    'Identify',
    { opcode: AdminOpc.IDENTIFY, cdw10: 2 },
    { readLength: 4096 },
  );
  const out: number[] = [];
  for (let i = 0; i < 1024 && readU32le(r.data, 4 * i) !== 0; i++)
    out.push(readU32le(r.data, 4 * i));
  return out;
}

/** Get Log Page 04h (Changed Namespace List), RAE=0: the NSIDs listed. */
async function changedNsList(h: NvmeTcpController): Promise<number[]> {
  const r = await h.adminOk(
    'Get Log Page 04h',
    { opcode: AdminOpc.GET_LOG_PAGE, nsid: 0xffffffff, cdw10: 0x04 | (1023 << 16) },
    { readLength: 4096 },
  );
  const out: number[] = [];
  for (let i = 0; i < 1024 && readU32le(r.data, 4 * i) !== 0; i++)
    out.push(readU32le(r.data, 4 * i));
  return out;
}

const rw = (slba: number, nlb: number) => ({ cdw10: slba, cdw11: 0, cdw12: nlb - 1 });

before(async () => {
  registerAllTypes();
  dir = mkdtempSync(join(tmpdir(), 'nvmemu-qmp-nvme-'));
  for (const [f, mib] of [
    ['d0.img', 4],
    ['d9.img', 1],
    ['hd1.img', 2],
    ['hd2.img', 1],
  ] as const) {
    writeFileSync(join(dir, f), new Uint8Array(mib << 20));
  }
  const args = parseArgs([
    '-drive',
    `file=${dir}/d0.img,if=none,id=d0,format=raw`,
    '-drive',
    `file=${dir}/d9.img,if=none,id=d9,format=raw`,
    '-device',
    'nvme-subsys,id=subsys0,nqn=subsys0',
    '-device',
    'nvme,id=nvme0,serial=s0,subsys=subsys0',
    '-device',
    'nvme,id=nvme1,serial=s0,subsys=subsys0',
    '-device',
    'nvme-ns,id=ns1,drive=d0,nsid=1',
    '-device',
    'nvme,id=nvme9,serial=leg,drive=d9',
  ]);
  machine = await Machine.create(args.items, {
    settings: machineSettings(args),
    dataDir: join(dir, 'state'),
    warn: () => undefined,
  });
  tcp = await startNvmeTcp(machine, { listen: '127.0.0.1:0', discoveryPort: null });
  monitors = await startMonitors(
    machine,
    { qmp: [`unix:${dir}/q.sock,server=on,wait=off`], monitor: [] },
    { quit: () => undefined, version: '1.0.0', nvmeTcp: tcp },
  );
  bare = await startMonitors(
    machine,
    { qmp: [`unix:${dir}/bare.sock,server=on,wait=off`], monitor: [] },
    { quit: () => undefined, version: '1.0.0' },
  );
});

after(async () => {
  await monitors.close();
  await bare.close();
  await tcp.close();
  await machine.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

describe('drives at run time', () => {
  it('blockdev-add refuses bad arguments with QEMU 7.2 texts before anything changes', async () => {
    const c = await client();
    const file = { driver: 'file', filename: `${dir}/hd1.img` };
    const cases: [Record<string, unknown>, string][] = [
      [{ driver: 'raw', file }, "'node-name' must be specified for the root node"],
      [{ driver: 'foo', 'node-name': 'x' }, "Parameter 'driver' does not accept value 'foo'"],
      [
        { driver: 'qcow2', 'node-name': 'x', file },
        "blockdev-add driver 'qcow2' is not supported by nvmemu (raw images only)",
      ],
      [{ driver: 'raw', 'node-name': 'x' }, "Parameter 'file' is missing"],
      [{ driver: 'file', 'node-name': 'x' }, "Parameter 'filename' is missing"],
      [{ driver: 'raw', 'node-name': '1x', file }, "Invalid node-name: '1x'"],
      [{ driver: 'raw', 'node-name': 'd0', file }, 'node-name=d0 is conflicting with a device id'],
      [
        { driver: 'raw', 'node-name': 'x', file, 'read-only': 'yes' },
        "Invalid parameter type for 'read-only', expected: boolean",
      ],
      [
        { driver: 'file', 'node-name': 'x', filename: `${dir}/none.img` },
        `Could not open '${dir}/none.img': No such file or directory`,
      ],
      [{ driver: 'raw', 'node-name': 'x', file, bogus: 1 }, "Parameter 'bogus' is unexpected"],
      [{ driver: 7 }, "Invalid parameter type for 'driver', expected: string"],
    ];
    for (const [args, desc] of cases) {
      assert.deepEqual(await fails(c, 'blockdev-add', args), { class: 'GenericError', desc });
    }
    assert.equal(machine.plans().filter((p) => p.kind === 'drive').length, 2, 'no drive was added');
    c.close();
  });

  it('blockdev-add adds a raw drive once; blockdev-del removes only monitor-owned, unused nodes', async () => {
    const c = await client();
    const args = {
      driver: 'raw',
      'node-name': 'hd1',
      file: { driver: 'file', filename: `${dir}/hd1.img` },
    };
    assert.deepEqual(await c.request('blockdev-add', args), { return: {} });
    assert.deepEqual(await fails(c, 'blockdev-add', args), {
      class: 'GenericError',
      desc: "Duplicate nodes with node-name='hd1'",
    });
    assert.deepEqual(await fails(c, 'blockdev-del', { 'node-name': 'nope' }), {
      class: 'GenericError',
      desc: "Failed to find node with node-name='nope'",
    });
    assert.deepEqual(await fails(c, 'blockdev-del', { 'node-name': 'd0' }), {
      class: 'GenericError',
      desc: 'Node d0 is not owned by the monitor',
    });
    const f = { driver: 'file', 'node-name': 'tmp1', filename: `${dir}/hd2.img` };
    assert.deepEqual(await c.request('blockdev-add', f), { return: {} });
    assert.deepEqual(await c.request('blockdev-del', { 'node-name': 'tmp1' }), { return: {} });
    assert.equal(machine.component('tmp1', 'drive'), undefined);
    c.close();
  });

  it('HMP drive_add adds an if=none drive and prints OK; other interfaces are refused', async () => {
    const c = await client();
    const hmp = (line: string) => c.execute('human-monitor-command', { 'command-line': line });
    assert.equal(await hmp(`drive_add 0 if=none,file=${dir}/hd2.img,id=hd2,format=raw`), 'OK\r\n');
    assert.notEqual(machine.component('hd2', 'drive'), undefined);
    assert.equal(
      await hmp(`drive_add 0 if=ide,file=${dir}/hd2.img,id=hd3`),
      'Error: if=ide is not supported by nvmemu: attach the drive to a device with if=none,id=ID and -device ...,drive=ID\r\n',
    );
    assert.equal(
      await hmp(`drive_add -n 0 node-name=x`),
      'Error: drive_add -n is not supported by nvmemu: use QMP blockdev-add\r\n',
    );
    assert.deepEqual(await c.request('blockdev-del', { 'node-name': 'hd2' }), { return: {} });
    c.close();
  });
});

describe('nvme-ns hotplug seen by a host over NVMe/TCP', () => {
  it('announces the new namespace with the Notice AER on every controller, and its removal', async () => {
    const c = await client();
    const h = await host();
    try {
      const connected = await c.nextEvent('NVMEMU_NVME_TCP_ASSOCIATION');
      assert.deepEqual(connected?.data, {
        action: 'connected',
        subnqn: NQN,
        hostnqn: HOSTNQN,
        cntlid: h.cntlid,
        'peer-address': '127.0.0.1',
        'peer-port': h.admin.socket.localPort,
      });
      assert.deepEqual(await activeNsids(h), [1]);
      const aer = h.adminCommand({ opcode: AdminOpc.ASYNC_EVENT_REQ });
      assert.deepEqual(
        await c.request('device_add', { driver: 'nvme-ns', id: 'ns2', drive: 'hd1', bus: 'nvme0' }),
        { return: {} },
      );
      // Notice, namespace attribute changed, log 04h (reference qemu-nvme.md §3.6).
      assert.deepEqual([(await aer).status, (await aer).dw0], [0, 0x0004_0002]);
      assert.deepEqual(await changedNsList(h), [2]);
      assert.deepEqual(await activeNsids(h), [1, 2]);
      // Shared (the default): attached to the other controller too, which noted the change.
      const other = machine.component('nvme1') as NvmeDevice;
      assert.equal(other.controller.isAttached(2), true);
      assert.deepEqual([...other.controller.changedNsids], [2]);
      assert.equal(await c.execute('qom-get', { path: 'ns2', property: 'hotplugged' }), true);

      const data = new Uint8Array(4096).fill(0x5a);
      const w = await h.ioCommand({ opcode: IoOpc.WRITE, nsid: 2, ...rw(8, 8) }, { write: data });
      assert.equal(w.status, 0);
      const r = await h.ioCommand(
        { opcode: IoOpc.READ, nsid: 2, ...rw(8, 8) },
        { readLength: 4096 },
      );
      assert.deepEqual([r.status, r.data], [0, data]);

      assert.deepEqual(await fails(c, 'blockdev-del', { 'node-name': 'hd1' }), {
        class: 'GenericError',
        desc: 'Node hd1 is in use',
      });

      const aer2 = h.adminCommand({ opcode: AdminOpc.ASYNC_EVENT_REQ });
      assert.deepEqual(await c.request('device_del', { id: 'ns2' }), { return: {} });
      assert.deepEqual((await c.nextEvent('DEVICE_DELETED'))?.data, {
        device: 'ns2',
        path: '/machine/peripheral/ns2',
      });
      assert.deepEqual([(await aer2).status, (await aer2).dw0], [0, 0x0004_0002]);
      assert.deepEqual(await changedNsList(h), [2]);
      assert.deepEqual(await activeNsids(h), [1]);
      const gone = await h.ioCommand(
        { opcode: IoOpc.READ, nsid: 2, ...rw(0, 1) },
        { readLength: 512 },
      );
      assert.equal(gone.status, 0x4002, 'Invalid Field + DNR: not attached');
      assert.equal(other.controller.isAttached(2), false);
      // The drive is free again, and the NSID can be reused.
      assert.deepEqual(await c.request('blockdev-del', { 'node-name': 'hd1' }), { return: {} });
    } finally {
      await h.disconnect();
    }
    const ended = await c.nextEvent('NVMEMU_NVME_TCP_ASSOCIATION');
    assert.equal(ended?.data?.action, 'disconnected');
    assert.equal(ended?.data?.hostnqn, HOSTNQN);
    c.close();
  });
});

describe('NVMe media-error injection', () => {
  it('a host reads Unrecovered Read Error and writes Write Fault where errors were injected', async () => {
    const c = await client();
    const h = await host();
    try {
      const inject = (args: Record<string, unknown>) =>
        c.execute('x-nvmemu-inject-media-error', args);
      assert.deepEqual(await inject({ id: 'ns1', lba: 100, count: 8 }), {});
      assert.deepEqual(
        await inject({ id: 'nvme0', nsid: 1, lba: 200, count: 1, type: 'write' }),
        {},
      );
      assert.deepEqual(await c.execute('x-nvmemu-query-media-errors', { id: 'ns1' }), [
        { type: 'read', lba: 100, count: 8 },
        { type: 'write', lba: 200, count: 1 },
      ]);
      const read = await h.ioCommand(
        { opcode: IoOpc.READ, nsid: 1, ...rw(96, 8) },
        { readLength: 4096 },
      );
      assert.equal(read.status, 0x281, 'Unrecovered Read Error, no DNR');
      assert.deepEqual((await c.nextEvent('NVMEMU_NVME_MEDIA_ERROR'))?.data, {
        device: 'ns1',
        nsid: 1,
        type: 'read',
        lba: 96,
        count: 8,
        status: 0x281,
      });
      const write = await h.ioCommand(
        { opcode: IoOpc.WRITE, nsid: 1, ...rw(199, 2) },
        { write: new Uint8Array(1024) },
      );
      assert.equal(write.status, 0x280, 'Write Fault, no DNR');
      assert.equal((await c.nextEvent('NVMEMU_NVME_MEDIA_ERROR'))?.data?.type, 'write');
      const ok = await h.ioCommand(
        { opcode: IoOpc.READ, nsid: 1, ...rw(108, 8) },
        { readLength: 4096 },
      );
      assert.equal(ok.status, 0);

      assert.deepEqual(
        await c.execute('x-nvmemu-clear-media-errors', { id: 'ns1', lba: 100, count: 4 }),
        {},
      );
      assert.deepEqual(await c.execute('x-nvmemu-query-media-errors', { id: 'ns1' }), [
        { type: 'read', lba: 104, count: 4 },
        { type: 'write', lba: 200, count: 1 },
      ]);
      assert.deepEqual(await c.execute('x-nvmemu-clear-media-errors', { id: 'ns1' }), {});
      assert.deepEqual(await c.execute('x-nvmemu-query-media-errors', { id: 'ns1' }), []);
      const again = await h.ioCommand(
        { opcode: IoOpc.READ, nsid: 1, ...rw(96, 8) },
        { readLength: 4096 },
      );
      assert.equal(again.status, 0);
    } finally {
      await h.disconnect();
    }
    c.close();
  });

  it('refuses bad targets and ranges with the right error class', async () => {
    const c = await client();
    const cases: [Record<string, unknown>, string, string][] = [
      [{ id: 'nope', lba: 0, count: 1 }, 'DeviceNotFound', "Device 'nope' not found"],
      [{ id: 'nvme0', lba: 0, count: 1 }, 'GenericError', "Parameter 'nsid' is missing"],
      [
        { id: 'nvme0', nsid: 7, lba: 0, count: 1 },
        'GenericError',
        "Namespace 7 not found on controller 'nvme0'",
      ],
      [
        { id: 'ns1', nsid: 2, lba: 0, count: 1 },
        'GenericError',
        "Device 'ns1' is namespace 1, not 2",
      ],
      [
        { id: 'subsys0', lba: 0, count: 1 },
        'GenericError',
        "Device 'subsys0' (nvme-subsys) is not an NVMe controller or namespace",
      ],
      [
        { id: 'ns1', lba: 8190, count: 4 },
        'GenericError',
        "LBA range 8190+4 exceeds namespace 1 of 'ns1' (8192 blocks)",
      ],
      [{ id: 'ns1', lba: -1, count: 1 }, 'GenericError', "Parameter 'lba' expects a value >= 0"],
      [{ id: 'ns1', lba: 0, count: 0 }, 'GenericError', "Parameter 'count' expects a value >= 1"],
      [
        { id: 'ns1', lba: 0, count: 1, type: 'both' },
        'GenericError',
        "Parameter 'type' does not accept value 'both'",
      ],
      [
        { id: 'ns1', lba: '0', count: 1 },
        'GenericError',
        "Invalid parameter type for 'lba', expected: integer",
      ],
      [{ id: 'ns1', count: 1 }, 'GenericError', "Parameter 'lba' is missing"],
    ];
    for (const [args, cls, desc] of cases) {
      assert.deepEqual(await fails(c, 'x-nvmemu-inject-media-error', args), { class: cls, desc });
    }
    assert.deepEqual(await c.execute('x-nvmemu-query-media-errors', { id: 'ns1' }), []);
    c.close();
  });
});

describe('NVMe/TCP associations and stats', () => {
  it('lists each association with host NQN, cntlid, queues, peer address and digests', async () => {
    const c = await client();
    const h = await host(NQN, { ioQueues: 2, hdgst: true, ddgst: true, queueSize: 64 });
    try {
      const q = (await c.execute('x-nvmemu-query-nvme-tcp')) as {
        listen: unknown;
        subsystems: unknown;
        associations: Record<string, unknown>[];
      };
      assert.deepEqual(q.listen, { address: '127.0.0.1', port: tcp.target.ioPort.port });
      assert.deepEqual(q.subsystems, [
        { nqn: NQN, cntlids: [0, 1] },
        { nqn: LEGACY_NQN, cntlids: [0] },
      ]);
      const peer = (i: number) => (i === 0 ? h.admin : h.io[i - 1]!).socket.localPort;
      assert.deepEqual(q.associations, [
        {
          subnqn: NQN,
          'subsystem-type': 'nvm',
          hostnqn: HOSTNQN,
          cntlid: h.cntlid,
          ready: true,
          kato: 5000,
          'peer-address': '127.0.0.1',
          'peer-port': peer(0),
          'header-digest': true,
          'data-digest': true,
          'io-queues': 2,
          authentication: 'none',
          queues: [0, 1, 2].map((qid) => ({
            qid,
            sqsize: qid === 0 ? 31 : 63,
            'peer-address': '127.0.0.1',
            'peer-port': peer(qid),
            'header-digest': true,
            'data-digest': true,
          })),
        },
      ]);
    } finally {
      await h.disconnect();
    }
    await c.nextEvent('NVMEMU_NVME_TCP_ASSOCIATION');
    assert.equal((await c.nextEvent('NVMEMU_NVME_TCP_ASSOCIATION'))?.data?.action, 'disconnected');
    const after = (await c.execute('x-nvmemu-query-nvme-tcp')) as { associations: unknown[] };
    assert.deepEqual(after.associations, []);
    c.close();
  });

  it('answers a GenericError where the machine serves no NVMe/TCP', async () => {
    const c = await client(`${dir}/bare.sock`);
    assert.deepEqual(await fails(c, 'x-nvmemu-query-nvme-tcp', {}), {
      class: 'GenericError',
      desc: 'NVMe/TCP is not served by this machine (nvmemu run --listen none)',
    });
    c.close();
  });

  it('counts commands, errors and bytes per controller and namespace', async () => {
    const c = await client();
    const h = await host(LEGACY_NQN);
    try {
      await c.execute('x-nvmemu-inject-media-error', { id: 'nvme9', lba: 50, count: 1 });
      const block = new Uint8Array(4096).fill(1);
      for (const slba of [0, 8, 16]) {
        const w = await h.ioCommand(
          { opcode: IoOpc.WRITE, nsid: 1, ...rw(slba, 8) },
          { write: block },
        );
        assert.equal(w.status, 0);
      }
      for (const slba of [0, 8, 48]) {
        await h.ioCommand({ opcode: IoOpc.READ, nsid: 1, ...rw(slba, 8) }, { readLength: 4096 });
      }
    } finally {
      await h.disconnect();
    }
    const all = (await c.execute('x-nvmemu-query-stats', {
      'qom-path': '/machine/peripheral/nvme9',
    })) as { provider: string; 'qom-path': string; stats: { name: string; value: number }[] }[];
    assert.deepEqual(
      all.map((r) => [r.provider, r['qom-path']]),
      [
        ['nvme', '/machine/peripheral/nvme9'],
        ['nvme-ns', '/machine/peripheral/nvme9'],
      ],
    );
    const ctrl = Object.fromEntries(all[0]!.stats.map((s) => [s.name, s.value]));
    assert.equal(ctrl['io-commands'], 6);
    assert.equal(ctrl['io-errors'], 1);
    assert.equal(ctrl['attached-namespaces'], 1);
    assert.ok((ctrl['admin-commands'] ?? 0) > 0, 'Identify and friends at connect');
    assert.deepEqual(all[1]!.stats, [
      { name: 'nsid', value: 1 },
      { name: 'read-commands', value: 2 },
      { name: 'write-commands', value: 3 },
      { name: 'bytes-read', value: 8192 },
      { name: 'bytes-written', value: 12288 },
      { name: 'media-read-errors', value: 1 },
      { name: 'media-write-errors', value: 0 },
      { name: 'uncorrectable-blocks', value: 0 },
      { name: 'deallocated-blocks', value: 0 },
    ]);
    const filtered = await c.execute('x-nvmemu-query-stats', {
      providers: [{ provider: 'nvme-ns', names: ['nsid', 'bytes-written'] }],
    });
    assert.deepEqual(filtered, [
      {
        provider: 'nvme-ns',
        'qom-path': '/machine/peripheral/ns1',
        stats: [
          { name: 'nsid', value: 1 },
          { name: 'bytes-written', value: 0 },
        ],
      },
      {
        provider: 'nvme-ns',
        'qom-path': '/machine/peripheral/nvme9',
        stats: [
          { name: 'nsid', value: 1 },
          { name: 'bytes-written', value: 12288 },
        ],
      },
    ]);
    const errors: [unknown, string][] = [
      [
        { providers: [{ provider: 'kvm' }] },
        "Parameter 'providers[0].provider' does not accept value 'kvm'",
      ],
      [{ providers: 'nvme' }, "Invalid parameter type for 'providers', expected: array"],
      [{ providers: [{}] }, "Parameter 'providers[0].provider' is missing"],
      [{ providers: [{ provider: 'nvme', x: 1 }] }, "Parameter 'providers[0].x' is unexpected"],
      [{ 'qom-path': 5 }, "Invalid parameter type for 'qom-path', expected: string"],
    ];
    for (const [args, desc] of errors) {
      assert.deepEqual(await fails(c, 'x-nvmemu-query-stats', args as Record<string, unknown>), {
        class: 'GenericError',
        desc,
      });
    }
    await c.execute('x-nvmemu-clear-media-errors', { id: 'nvme9' });
    c.close();
  });
});
