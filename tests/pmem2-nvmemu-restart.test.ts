// libpmem2 on nvmemu's emulated devices across machine runs: BYTE granularity on a cpu_cache
// (eADR) region, and the unsafe-shutdown count of a run that was SIGKILLed (the companion of
// pmem2-nvmemu.test.ts, split to keep each file fast).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PMEM2_GRANULARITY_BYTE, Pmem2Config, Pmem2Map, Pmem2Source } from '../src/pmem2/index.js';
import { errorCode as code, startRun, stopRun as stop } from './support/run.js';

const MiB = 1 << 20;
let dir = '';
const start = async (args: string[]) => (await startRun(args)).child;

function machineArgs(data: string, persistence: 'cpu' | 'mem-ctrl'): string[] {
  return [
    '--listen',
    'none',
    '--data',
    data,
    '-machine',
    `pc,nvdimm=on,nvdimm-persistence=${persistence}`,
    '-m',
    '1G,slots=4,maxmem=8G',
    '-object',
    `memory-backend-file,id=m1,share=on,mem-path=${join(dir, `nv-${persistence}.img`)},size=16M`,
    '-device',
    'nvdimm,id=nv1,memdev=m1,label-size=128K',
    '-object',
    `memory-backend-file,id=m2,share=on,mem-path=${join(dir, 'vp.img')},size=8M`,
    '-device',
    'virtio-pmem-pci,id=vp1,memdev=m2',
  ];
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'nvmemu-pmem2-'));
  for (const [f, size] of [
    ['nv-mem-ctrl.img', 16 * MiB],
    ['nv-cpu.img', 16 * MiB],
    ['vp.img', 8 * MiB],
  ] as const) {
    writeFileSync(join(dir, f), '');
    truncateSync(join(dir, f), size);
  }
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('libpmem2 across machine restarts', () => {
  it('reports BYTE granularity on a cpu_cache region and counts a SIGKILLed run as unsafe', async () => {
    const data = join(dir, 'data-cpu');
    let m = await start(machineArgs(data, 'cpu'));
    let src = Pmem2Source.fromNvmemu({ dataDir: data, device: 'nv1' });
    const map = Pmem2Map.create(
      new Pmem2Config().setRequiredStoreGranularity(PMEM2_GRANULARITY_BYTE),
      src,
    );
    assert.equal(map.storeGranularity, PMEM2_GRANULARITY_BYTE);
    assert.equal(src.deviceUsc(), 0n);
    map.delete();
    src.delete();
    await stop(m, 'SIGKILL');
    assert.equal(
      code(() => Pmem2Source.fromNvmemu({ dataDir: data, device: 'nv1' })).split(':')[0],
      'PMEM2_E_DAX_REGION_NOT_FOUND',
    );
    m = await start(machineArgs(data, 'cpu'));
    src = Pmem2Source.fromNvmemu({ dataDir: data, device: 'nv1' });
    assert.equal(src.deviceUsc(), 1n);
    src.delete();
    await stop(m, 'SIGTERM');
  });
});
