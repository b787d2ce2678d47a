// x-nvmemu-power-fail over QMP: pmem loses what was not persisted, the machine stops, clients
// hear NVMEMU_POWER_FAIL then SHUTDOWN (reason host-error).

import { it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerAllTypes } from '../src/devices.js';
import { Machine } from '../src/machine/machine.js';
import { parseArgs } from '../src/config/options.js';
import { machineSettings } from '../src/machine/settings.js';
import { startMonitors } from '../src/monitor/index.js';
import { QmpClient } from '../src/monitor/client.js';
import { NvdimmDevice } from '../src/pmem/index.js';

it('discards unpersisted nvdimm stores, reports them and stops the machine', async () => {
  registerAllTypes();
  const dir = mkdtempSync(join(tmpdir(), 'nvmemu-pf-'));
  const img = join(dir, 'pm0.img');
  writeFileSync(img, '');
  truncateSync(img, 16 << 20);
  const args = parseArgs([
    '-machine',
    'pc,nvdimm=on',
    '-m',
    '512M,slots=2,maxmem=2G',
    '-object',
    `memory-backend-file,id=m0,share=on,mem-path=${img},size=16M`,
    '-device',
    'nvdimm,id=nv0,memdev=m0',
  ]);
  const machine = await Machine.create(args.items, {
    settings: machineSettings(args),
    dataDir: join(dir, 'state'),
    warn: () => undefined,
  });
  let quits = 0;
  const mons = await startMonitors(
    machine,
    { qmp: [`unix:${dir}/q.sock,server=on,wait=off`], monitor: [] },
    { quit: () => void quits++, version: '0.0.0', now: () => 1000 },
  );
  try {
    const dimm = machine.component('nv0');
    assert.ok(dimm instanceof NvdimmDevice);
    dimm.write(0, new Uint8Array([1, 2, 3, 4])); // stored, never flushed
    const c = await QmpClient.connect({ path: join(dir, 'q.sock') });
    await c.negotiate();
    const r = (await c.execute('x-nvmemu-power-fail')) as {
      backends: { id: string; image: string; 'reverted-ranges': number }[];
    };
    assert.equal(r.backends.length, 1);
    assert.equal(r.backends[0]?.id, 'm0');
    assert.equal(r.backends[0]?.image, 'file');
    assert.ok((r.backends[0]?.['reverted-ranges'] ?? 0) >= 1);
    assert.deepEqual(
      c.events.map((e) => e.event),
      ['NVMEMU_POWER_FAIL', 'SHUTDOWN'],
    );
    assert.deepEqual(c.events[1]?.data, { guest: false, reason: 'host-error' });
    await new Promise((res) => setImmediate(res));
    assert.equal(quits, 1);
    assert.deepEqual([...readFileSync(img).subarray(0, 4)], [0, 0, 0, 0]);
    c.close();
  } finally {
    await mons.close();
    await machine.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
});
