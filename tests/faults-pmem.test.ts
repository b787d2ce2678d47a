// pmem faults (docs/faults.md): nvdimm bad blocks, failing virtio-pmem flushes, and the power
// cut that counts a dirty shutdown and loses unflushed stores — the same cut that takes the
// NVMe write cache — plus the monitor commands over QMP.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from '../src/config/options.js';
import { Machine } from '../src/machine/machine.js';
import { machineSettings } from '../src/machine/settings.js';
import { registerAllTypes } from '../src/devices.js';
import { machineFaults } from '../src/faults/injector.js';
import { trackWrites, powerCutMachine, restartMachine } from '../src/faults/power-cut.js';
import { NvdimmDevice, VirtioPmemDevice } from '../src/pmem/index.js';
import { startMonitors } from '../src/monitor/index.js';
import { QmpClient } from '../src/monitor/client.js';
import { controllerOf, hostOf, pattern, read, tempDir, write } from './faults-harness.js';

const dirs: (() => void)[] = [];
after(() => dirs.forEach((c) => c()));

async function pmemMachine(dir: string): Promise<Machine> {
  registerAllTypes();
  for (const [f, size] of [
    ['pm0.img', 16 << 20],
    ['vp0.img', 4 << 20],
    ['d0.img', 256 << 10],
  ] as const) {
    writeFileSync(join(dir, f), '');
    truncateSync(join(dir, f), size);
  }
  const args = parseArgs([
    '-machine',
    'pc,nvdimm=on',
    '-m',
    '512M,slots=4,maxmem=2G',
    '-object',
    `memory-backend-file,id=m0,share=on,mem-path=${join(dir, 'pm0.img')},size=16M`,
    '-device',
    'nvdimm,id=nv0,memdev=m0',
    '-object',
    `memory-backend-file,id=m1,share=on,mem-path=${join(dir, 'vp0.img')},size=4M`,
    '-device',
    'virtio-pmem-pci,id=vp0,memdev=m1',
    '-drive',
    `file=${join(dir, 'd0.img')},if=none,id=d0,format=raw`,
    '-device',
    'nvme,id=nvme0,serial=faults0,drive=d0',
  ]);
  return Machine.create(args.items, {
    settings: machineSettings(args),
    dataDir: join(dir, 'state'),
    warn: () => undefined,
  });
}

async function setup(): Promise<Machine> {
  const t = tempDir('pmem-faults');
  dirs.push(t.cleanup);
  return pmemMachine(t.dir);
}

describe('pmem faults', () => {
  it('badblocks adds sectors to the nvdimm list until cleared', async () => {
    const m = await setup();
    const nv = m.component('nv0') as NvdimmDevice;
    const f = machineFaults(m);
    const id = f.inject({ kind: 'badblocks', id: 'nv0', sector: 64, count: 8 });
    assert.deepEqual(nv.badBlocks(), [{ sector: 64, count: 8 }]);
    f.clear(id);
    assert.deepEqual(nv.badBlocks(), []);
    await m.shutdown();
  });

  it('a failing virtio-pmem flush answers 1 after N flushes, then recovers (times)', async () => {
    const m = await setup();
    const vp = m.component('vp0') as VirtioPmemDevice;
    machineFaults(m).inject({ kind: 'pmem-flush-fail', id: 'vp0', after: 1, times: 2 });
    const got: number[] = [];
    for (let i = 0; i < 4; i++) got.push(await vp.flush());
    assert.deepEqual(got, [0, 1, 1, 0]);
    await m.shutdown();
  });

  it('a failed flush makes nothing durable: the store is lost at a power cut', async () => {
    const m = await setup();
    const vp = m.component('vp0') as VirtioPmemDevice;
    vp.write(0, new Uint8Array([9, 9, 9, 9]));
    assert.equal(await vp.flush(), 0);
    machineFaults(m).inject({ kind: 'pmem-flush-fail', id: 'vp0' });
    vp.write(4096, new Uint8Array([7, 7, 7, 7]));
    assert.equal(await vp.flush(), 1);
    const { machine: m2 } = await powerCutMachine(m);
    const vp2 = m2.component('vp0') as VirtioPmemDevice;
    assert.deepEqual([...vp2.read(0, 4)], [9, 9, 9, 9]);
    assert.deepEqual([...vp2.read(4096, 4)], [0, 0, 0, 0]);
    await m2.shutdown();
  });

  it('a fault on the wrong device type is refused with the reason', async () => {
    const m = await setup();
    const f = machineFaults(m);
    assert.throws(
      () => f.inject({ kind: 'badblocks', id: 'vp0', sector: 0 }),
      /Device 'vp0' \(virtio-pmem-pci\) has no bad blocks to manage/,
    );
    assert.throws(
      () => f.inject({ kind: 'pmem-flush-fail', id: 'nv0' }),
      /Device 'nv0' \(nvdimm\) is not a virtio-pmem-pci/,
    );
    await m.shutdown();
  });
});

describe('one power cut for pmem and NVMe', () => {
  it('counts a dirty shutdown and an unsafe shutdown; both survive a clean restart', async () => {
    const m = await setup();
    trackWrites(m);
    const h = await hostOf(m);
    assert.equal(await write(h, 0, pattern(0, 1)), 0);
    const nv = m.component('nv0') as NvdimmDevice;
    const before = nv.dirtyShutdown;
    const { machine: m2, report } = await powerCutMachine(m);
    assert.equal(report.pmem.length, 2);
    assert.equal((m2.component('nv0') as NvdimmDevice).dirtyShutdown, before + 1);
    assert.equal(controllerOf(m2).smart.counters.unsafeShutdowns, 1n);
    const h2 = await hostOf(m2);
    assert.deepEqual((await read(h2, 0)).data, new Uint8Array(512), 'the unflushed write is lost');
    const m3 = await restartMachine(m2);
    assert.equal((m3.component('nv0') as NvdimmDevice).dirtyShutdown, before + 1);
    assert.equal(controllerOf(m3).smart.counters.unsafeShutdowns, 1n);
    assert.equal(controllerOf(m3).smart.counters.powerCycles, 2n);
    await m3.shutdown();
  });
});

describe('monitor', () => {
  it('injects, queries and clears faults over QMP, with NVMEMU_FAULT events', async () => {
    const t = tempDir('pmem-qmp');
    dirs.push(t.cleanup);
    const m = await pmemMachine(t.dir);
    let quits = 0;
    const mons = await startMonitors(
      m,
      { qmp: [`unix:${t.dir}/q.sock,server=on,wait=off`], monitor: [] },
      { quit: () => void quits++, version: '0.0.0', now: () => 1000 },
    );
    const c = await QmpClient.connect({ path: join(t.dir, 'q.sock') });
    await c.negotiate();
    assert.deepEqual(
      await c.execute('x-nvmemu-inject-fault', { kind: 'badblocks', id: 'nv0', sector: 8 }),
      {
        'fault-id': 1,
      },
    );
    assert.deepEqual(await c.request('x-nvmemu-inject-fault', { kind: 'timeout', id: 'zz' }), {
      error: { class: 'GenericError', desc: "Device 'zz' not found" },
    });
    const q = (await c.execute('x-nvmemu-query-faults')) as {
      faults: { 'fault-id': number; kind: string; phase: string }[];
      history: { event: string }[];
    };
    assert.deepEqual(
      q.faults.map((f) => [f['fault-id'], f.kind, f.phase]),
      [[1, 'badblocks', 'active']],
    );
    assert.deepEqual(
      q.history.map((r) => r.event),
      ['injected', 'applied'],
    );
    assert.deepEqual(await c.execute('x-nvmemu-clear-fault', {}), { cleared: 1 });
    assert.deepEqual(
      c.events.filter((e) => e.event === 'NVMEMU_FAULT').map((e) => e.data?.event),
      ['injected', 'applied', 'cleared'],
    );
    assert.deepEqual(await c.execute('x-nvmemu-track-writes', {}), { namespaces: 1 });
    const cut = (await c.execute('x-nvmemu-power-cut', { seed: 5 })) as Record<string, unknown>;
    assert.equal(cut.restarted, false);
    assert.deepEqual(cut['unsafe-shutdowns'], { faults0: 1 });
    assert.ok(c.events.some((e) => e.event === 'NVMEMU_POWER_CUT'));
    c.close();
    await mons.close();
    await new Promise((r) => setImmediate(r));
    assert.equal(quits, 1, 'without a restarting host the machine stops');
    await m.shutdown();
  });
});
