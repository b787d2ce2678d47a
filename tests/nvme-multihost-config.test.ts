// The configuration of multi-host NVMe (docs/multipath.md): controller ID ranges on nvme-subsys
// (assignment, limits, overlap within a machine), what an `--instance` machine refuses because
// its state would be one process's, `anagrpid` and `nvm-capacity` checks, each with the message
// that names the property.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Machine } from '../src/machine/machine.js';
import { machineSettings } from '../src/machine/settings.js';
import { registerAllTypes } from '../src/devices.js';
import { parseArgs } from '../src/config/options.js';
import { NvmeDevice } from '../src/nvme/index.js';

/** Builds `args` (with an image `$IMG`) in a fresh folder; returns the cntlids or the error. */
async function build(args: string[], instance?: string): Promise<number[] | string> {
  registerAllTypes();
  const dir = mkdtempSync(join(tmpdir(), 'nvmemu-mhc-'));
  const img = join(dir, 'ns.img');
  writeFileSync(img, '');
  truncateSync(img, 1 << 20);
  const a = parseArgs([
    '-drive',
    `file=${img},if=none,id=d1,format=raw`,
    ...args.map((x) => x.replace('$IMG', img)),
  ]);
  const settings = { ...machineSettings(a), ...(instance !== undefined ? { instance } : {}) };
  try {
    const m = await Machine.create(a.items, { settings, dataDir: dir });
    const ids = m
      .components()
      .filter((c): c is NvmeDevice => c instanceof NvmeDevice)
      .map((c) => c.controller.cntlid);
    await m.shutdown();
    return ids;
  } catch (e) {
    return (e as Error).message;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const subsys = (props = ''): string[] => ['-device', `nvme-subsys,id=s0,nqn=s0${props}`];
const ctrl = (n: number): string[] => ['-device', `nvme,id=c${n},serial=x,subsys=s0`];

describe('controller ID ranges (nvme-subsys cntlid-min / cntlid-max)', () => {
  it('hands out IDs from cntlid-min in command-line order, SR-IOV VFs after the PF', async () => {
    assert.deepEqual(
      await build([...subsys(',cntlid-min=40,cntlid-max=50'), ...ctrl(0), ...ctrl(1)]),
      [40, 41],
    );
    assert.deepEqual(await build([...subsys(), ...ctrl(0), ...ctrl(1)]), [0, 1]);
  });

  it("runs out within the range, with QEMU's message", async () => {
    assert.match(
      String(await build([...subsys(',cntlid-min=7,cntlid-max=7'), ...ctrl(0), ...ctrl(1)])),
      /no more free controller id/,
    );
  });

  it('checks the limits and refuses overlapping ranges within a machine', async () => {
    assert.match(
      String(await build(subsys(',cntlid-max=65520'))),
      /cntlid-max 65520 is beyond the last valid controller ID \(65519\)/,
    );
    assert.match(
      String(await build(subsys(',cntlid-min=9,cntlid-max=8'))),
      /cntlid-min 9 is greater than cntlid-max 8/,
    );
    assert.match(
      String(
        await build([
          ...subsys(',cntlid-min=1,cntlid-max=10'),
          '-device',
          'nvme-subsys,id=s1,nqn=s1,cntlid-min=10,cntlid-max=20',
        ]),
      ),
      /controller IDs 10-20 overlap 1-10 of nvme-subsys 's0'/,
    );
  });
});

describe('--instance: what several processes may share', () => {
  it('serves nvme, nvme-subsys and plain nvme-ns', async () => {
    const ids = await build(
      [...subsys(',cntlid-min=3'), ...ctrl(0), '-device', 'nvme-ns,drive=d1'],
      'a',
    );
    assert.deepEqual(ids, [3]);
  });

  it('refuses what lives in one process, naming the property', async () => {
    const cases: [string[], RegExp][] = [
      [
        [...subsys(), ...ctrl(0), '-device', 'nvme-ns,drive=d1,zoned=on'],
        /zoned=on cannot be shared between nvmemu processes \(--instance a\)/,
      ],
      [subsys(',fdp=on,fdp.nruh=2'), /fdp=on cannot be shared between nvmemu processes/],
      [subsys(',nvm-capacity=1M'), /nvm-capacity cannot be shared between nvmemu processes/],
      [['-device', 'nvme,serial=x'], /nvme needs subsys= in an instance/],
      [
        ['-object', 'memory-backend-ram,id=m,size=1M'],
        /memory-backend-ram cannot be shared between nvmemu processes \(--instance a\)/,
      ],
    ];
    for (const [args, msg] of cases) assert.match(String(await build(args, 'a')), msg);
  });
});

describe('anagrpid and nvm-capacity', () => {
  it('anagrpid is 1..128 and needs an nvme-subsys', async () => {
    assert.match(
      String(await build([...subsys(), ...ctrl(0), '-device', 'nvme-ns,drive=d1,anagrpid=129'])),
      /anagrpid must be between 1 and 128/,
    );
    assert.match(
      String(await build(['-device', 'nvme,serial=x', '-device', 'nvme-ns,drive=d1,anagrpid=1'])),
      /anagrpid requires that the nvme device is linked to an nvme-subsys device/,
    );
  });
});
