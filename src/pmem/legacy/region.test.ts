import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  statfsSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planLegacyPmem } from './plan.js';
import { LegacyPmem, LegacyPmemError, filePrefix, humanBytes } from './region.js';

const G = 1n << 30n;
let shm = '';
before(() => {
  shm = mkdtempSync(join(tmpdir(), 'nvmemu-shm-'));
});
after(() => rmSync(shm, { recursive: true, force: true }));

const plan = (append: string) => planLegacyPmem({ type: 'pc', ramSize: 2n * G }, append);

describe('the volatile backing of legacy pmem regions', () => {
  it('creates one zero-filled file per region, private to the user, and removes it at close', async () => {
    const lp = LegacyPmem.create(plan('memmap=16M!1G memmap=8M!0x50000000'), '/data/a', shm);
    const prefix = filePrefix('/data/a');
    assert.match(prefix, /^nvmemu-[0-9a-f]{16}-e820-$/);
    assert.deepEqual(readdirSync(shm).sort(), [`${prefix}0x40000000`, `${prefix}0x50000000`]);
    const st = statSync(join(shm, `${prefix}0x40000000`));
    assert.deepEqual([st.size, st.mode & 0o777], [16 << 20, 0o600]);
    assert.ok(readFileSync(join(shm, `${prefix}0x50000000`)).every((b) => b === 0));
    assert.deepEqual(
      lp.regions.map((r) => [r.start, r.size, r.typeName, r.id]),
      [
        [0x40000000n, 16 << 20, 'e820_pmem', undefined],
        [0x50000000n, 8 << 20, 'e820_pmem', undefined],
      ],
    );
    assert.deepEqual(lp.describe().slice(0, 3), [
      `e820 pmem [mem 0x40000000-0x40ffffff] (16M, volatile) in ${join(shm, `${prefix}0x40000000`)}`,
      `e820 pmem [mem 0x50000000-0x507fffff] (8M, volatile) in ${join(shm, `${prefix}0x50000000`)}`,
      'kernel command line: memmap=16M!1G memmap=8M!0x50000000 (user-defined physical RAM map):',
    ]);
    assert.equal(
      lp.describe()[7],
      '  user: [mem 0x0000000040000000-0x0000000040ffffff] persistent (type 12)',
    );
    await lp.close();
    await lp.close();
    assert.deepEqual(readdirSync(shm), []);
  });

  it('removes what a killed run of the same data folder left, and nothing of other folders', async () => {
    const mine = `${filePrefix('/data/a')}0x40000000`;
    const other = `${filePrefix('/data/b')}0x40000000`;
    writeFileSync(join(shm, mine), 'stale');
    writeFileSync(join(shm, other), 'alive');
    const none = LegacyPmem.create(undefined, '/data/a', shm);
    assert.deepEqual([none.regions, none.describe()], [[], []]);
    assert.deepEqual(readdirSync(shm), [other]);
    writeFileSync(join(shm, mine), 'stale');
    const lp = LegacyPmem.create(plan('memmap=4M!1G'), '/data/a', shm);
    assert.equal(readFileSync(join(shm, mine)).length, 4 << 20);
    assert.ok(readFileSync(join(shm, mine)).every((b) => b === 0));
    await lp.close();
    rmSync(join(shm, other));
  });

  it('prints host sizes in GiB, below 1 GiB in MiB', () => {
    assert.deepEqual([humanBytes(3n << 29n), humanBytes(64n << 20n)], ['1.50 GiB', '64.00 MiB']);
  });

  it('refuses regions the folder has no room for, before creating any', () => {
    const st = statfsSync(shm, { bigint: true });
    const free = st.bavail * st.bsize;
    assert.throws(
      () =>
        LegacyPmem.create(
          planLegacyPmem({ type: 'pc', ramSize: 2n << 50n }, 'memmap=1P!4G'),
          '/d',
          shm,
        ),
      (e: unknown) => {
        assert.ok(e instanceof LegacyPmemError);
        assert.equal(e.code, 'EMU_ERR_BACKEND_IO');
        assert.equal(
          e.message,
          `legacy pmem: ${shm} has ${humanBytes(free)} free, the memmap= regions need 1048576.00 GiB`,
        );
        return true;
      },
    );
    assert.deepEqual(readdirSync(shm), []);
  });

  it('refuses a missing shm folder with a message naming it', () => {
    const missing = join(shm, 'nope');
    assert.throws(() => LegacyPmem.create(plan('memmap=4M!1G'), '/d', missing), {
      code: 'EMU_ERR_BACKEND_IO',
      message: `legacy pmem needs a tmpfs folder for its volatile regions: ${missing}: ENOENT: no such file or directory, statfs '${missing}'`,
    });
  });
});
