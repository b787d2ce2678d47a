// libpmem2 on nvmemu's emulated devices across machine runs: BYTE granularity on a cpu_cache
// (eADR) region, and the unsafe-shutdown count of a run that was SIGKILLed (the companion of
// pmem2-nvmemu.test.ts, split to keep each file fast).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { PMEM2_GRANULARITY_BYTE, Pmem2Config, Pmem2Map, Pmem2Source } from '../src/pmem2/index.js';
import { errorCode as code, startRun, stopRun as stop } from './support/run.js';
import { pmemMachineFolder, type PmemMachineFolder } from './support/pmem-machine.js';

let dir = '';
const start = async (args: string[]) => (await startRun(args)).child;

let folder: PmemMachineFolder | undefined;
before(() => {
  folder = pmemMachineFolder();
  dir = folder.dir;
});
after(() => folder?.remove());
const machineArgs = (data: string, persistence: 'cpu' | 'mem-ctrl'): string[] =>
  folder!.args(data, persistence);

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
