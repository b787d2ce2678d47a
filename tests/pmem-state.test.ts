// The state folder other processes read: sysfs-like region files, live updates, stale owners.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  publishPmemState,
  readPmemState,
  removePmemState,
  type NvdimmDevice,
} from '../src/pmem/index.js';
import { currentBootId } from '../src/pmem/nvdimm/state.js';
import { stateDir } from '../src/pmem/state-folder.js';
import { build, scratch } from './pmem-harness.js';

let dir = '';
before(() => {
  dir = scratch('nvmemu-pmem-state-');
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('state folder', () => {
  it('describes nvdimm and virtio-pmem regions like sysfs, follows bad-block changes, and goes away', async () => {
    for (const f of ['s1.img', 's2.img']) {
      writeFileSync(join(dir, f), '');
      truncateSync(join(dir, f), 4 << 20);
    }
    const data = join(dir, 'data');
    const r = await build(
      [
        '-machine',
        'pc,nvdimm=on,nvdimm-persistence=mem-ctrl',
        '-m',
        '2G,slots=2,maxmem=8G',
        '-object',
        `memory-backend-file,id=m1,share=on,mem-path=${join(dir, 's1.img')},size=4M`,
        '-object',
        `memory-backend-file,id=m2,share=on,mem-path=${join(dir, 's2.img')},size=4M`,
        '-device',
        'virtio-pmem-pci,id=vp,memdev=m2',
        '-device',
        'nvdimm,id=nv1,memdev=m1,label-size=128K',
      ],
      data,
    );
    assert.ok(r.machine !== undefined, r.stderr);
    publishPmemState(data, r.machine.components());
    const s = readPmemState(data);
    assert.equal(s.status, 'live');
    if (s.status !== 'live') return;
    assert.deepEqual(s.owner, { pid: process.pid, bootId: currentBootId() });
    assert.deepEqual(
      s.regions.map((x) => x.name),
      ['region0', 'region1'],
    );
    assert.deepEqual(Object.fromEntries(s.regions[0]!.files), {
      align: '4096',
      backing_file: join(dir, 's1.img'),
      backing_offset: '0',
      badblocks: '',
      deep_flush_required: '1',
      devid: 'nv1',
      devtype: 'nvdimm',
      label_offset: String((4 << 20) - (128 << 10)),
      label_size: String(128 << 10),
      'nmem/dirty_shutdown': '0',
      'nmem/handle': '1',
      'nmem/id': '8680-56341200',
      persistence_domain: 'memory_controller',
      resource: '0x100400000',
      size: String((4 << 20) - (128 << 10)),
      sync: '0',
    });
    assert.deepEqual(Object.fromEntries(s.regions[1]!.files), {
      align: '4096',
      backing_file: join(dir, 's2.img'),
      backing_offset: '0',
      badblocks: '',
      deep_flush_required: '1',
      devid: 'vp',
      devtype: 'virtio-pmem',
      label_offset: '0',
      label_size: '0',
      'namespace1.0/mode': 'raw',
      'namespace1.0/size': String(4 << 20),
      persistence_domain: '',
      resource: '0x100000000',
      size: String(4 << 20),
      sync: '0',
    });
    (r.machine.component('nv1') as NvdimmDevice).injectBadBlocks(16, 8);
    const after = readPmemState(data);
    assert.equal(after.status === 'live' && after.regions[0]!.files.get('badblocks'), '16 8');
    await r.machine.shutdown();
    removePmemState(data);
    assert.deepEqual(readPmemState(data), { status: 'absent' });
  });

  it('reports the folder of a machine whose process is gone as stale, without its regions', () => {
    const data = join(dir, 'stale');
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    });
    const deadPid = Number(child.stdout);
    publishPmemState(data, []);
    writeFileSync(join(stateDir(data), 'owner'), `${deadPid} ${currentBootId()}\n`);
    assert.deepEqual(readPmemState(data), {
      status: 'stale',
      owner: { pid: deadPid, bootId: currentBootId() },
    });
    writeFileSync(join(stateDir(data), 'owner'), `${process.pid} another-boot\n`);
    assert.equal(readPmemState(data).status, 'stale');
  });
});
