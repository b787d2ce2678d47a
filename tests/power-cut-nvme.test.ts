// Power cuts of an NVMe namespace with the write cache model (docs/faults.md "Power cuts"):
// what a real drive keeps when the power goes — flushed and FUA data, and everything with the
// volatile write cache disabled — and what it loses, and the flush audit that names the loss.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Machine } from '../src/machine/machine.js';
import { flushAudit, trackWrites, powerCutMachine } from '../src/faults/power-cut.js';
import { AdminOpc } from '../src/nvme/spec/opcodes.js';
import { ZoneState } from '../src/nvme/ns/zoned/state.js';
import {
  controllerOf,
  flush,
  namespaceOf,
  hostOf,
  nvmeMachine,
  pattern,
  read,
  tempDir,
  write,
  BLOCK,
} from './faults-harness.js';

const dirs: (() => void)[] = [];
after(() => dirs.forEach((c) => c()));

async function setup(ns = ''): Promise<Machine> {
  const t = tempDir('cut');
  dirs.push(t.cleanup);
  const m = await nvmeMachine(t.dir, { ns });
  trackWrites(m);
  return m;
}

const zeros = new Uint8Array(BLOCK);

describe('power cut with the volatile write cache enabled', () => {
  it('loses writes that were never flushed and keeps flushed ones', async () => {
    const m = await setup();
    const h = await hostOf(m);
    assert.equal(await write(h, 0, pattern(0, 1)), 0);
    assert.equal(await flush(h), 0);
    assert.equal(await write(h, 0, pattern(0, 2)), 0);
    assert.equal(await write(h, 5, pattern(5, 2)), 0);
    const { machine: m2, report } = await powerCutMachine(m, { seed: 1 });
    assert.equal(report.namespaces[0]!.cut!.volatileWrites, 2);
    assert.deepEqual(
      report.namespaces[0]!.cut!.lost.map((w) => [w.lba, w.nlb]),
      [
        [0, 1],
        [5, 1],
      ],
    );
    const h2 = await hostOf(m2);
    assert.deepEqual((await read(h2, 0)).data, pattern(0, 1));
    assert.deepEqual((await read(h2, 5)).data, zeros);
    await m2.shutdown();
  });

  it('keeps a FUA write but not the cached write before it', async () => {
    const m = await setup();
    const h = await hostOf(m);
    await write(h, 1, pattern(1, 1));
    await write(h, 2, pattern(2, 1), { fua: true });
    const { machine: m2 } = await powerCutMachine(m);
    const h2 = await hostOf(m2);
    assert.deepEqual((await read(h2, 1)).data, zeros);
    assert.deepEqual((await read(h2, 2)).data, pattern(2, 1));
    await m2.shutdown();
  });

  it('a FUA rewrite of a cached block supersedes the older cached write', async () => {
    const m = await setup();
    const h = await hostOf(m);
    await write(h, 3, pattern(3, 1));
    await write(h, 3, pattern(3, 2), { fua: true });
    const { machine: m2, report } = await powerCutMachine(m, { mode: 'subset', seed: 9 });
    assert.equal(report.namespaces[0]!.cut!.volatileWrites, 0);
    const h2 = await hostOf(m2);
    assert.deepEqual((await read(h2, 3)).data, pattern(3, 2));
    await m2.shutdown();
  });

  it('counts an unsafe shutdown in SMART and a power cycle on the restarted controller', async () => {
    const m = await setup();
    await hostOf(m);
    const { machine: m2, report } = await powerCutMachine(m);
    assert.deepEqual(report.unsafeShutdowns, { faults0: 1 });
    const h2 = await hostOf(m2);
    const log = new Uint8Array(512);
    const cqe = await h2.admin(
      { opcode: AdminOpc.GET_LOG_PAGE, nsid: 0xffffffff, cdw10: 0x02 | (127 << 16) },
      log,
    );
    assert.equal(cqe.status, 0);
    assert.equal(log[112], 1, 'power cycles');
    assert.equal(log[144], 1, 'unsafe shutdowns');
    const { machine: m3 } = await powerCutMachine(m2);
    assert.equal(controllerOf(m3).smart.counters.unsafeShutdowns, 2n);
    assert.equal(controllerOf(m3).smart.counters.powerCycles, 2n);
    await m3.shutdown();
  });

  it('the flush audit lists acknowledged writes that were never made durable', async () => {
    const m = await setup();
    const h = await hostOf(m);
    await write(h, 10, pattern(10, 1, 4));
    await write(h, 20, pattern(20, 1), { fua: true });
    await write(h, 30, pattern(30, 1, 2));
    const a = flushAudit(m);
    assert.deepEqual(
      a.map((x) => ({ ...x, volatile: x.volatile.map((w) => [w.lba, w.nlb, w.volatileBlocks]) })),
      [
        {
          device: 'ns1',
          nsid: 1,
          writeCache: true,
          tracked: true,
          volatile: [
            [10, 4, 4],
            [30, 2, 2],
          ],
        },
      ],
    );
    await flush(h);
    assert.deepEqual(flushAudit(m)[0]!.volatile, []);
    await m.shutdown();
  });
});

describe('power cut with the volatile write cache disabled', () => {
  it('keeps every completed write (write-cache=off)', async () => {
    const m = await setup(',write-cache=off');
    const h = await hostOf(m);
    for (let i = 0; i < 8; i++) assert.equal(await write(h, i, pattern(i, 7)), 0);
    assert.deepEqual(flushAudit(m)[0]!.volatile, []);
    const { machine: m2 } = await powerCutMachine(m, { mode: 'subset', seed: 3 });
    const h2 = await hostOf(m2);
    for (let i = 0; i < 8; i++) assert.deepEqual((await read(h2, i)).data, pattern(i, 7));
    await m2.shutdown();
  });

  it('Set Features VWC=0 flushes what was cached, and later writes are durable', async () => {
    const m = await setup();
    const h = await hostOf(m);
    await write(h, 0, pattern(0, 1));
    const cqe = await h.admin({ opcode: AdminOpc.SET_FEATURES, cdw10: 0x06, cdw11: 0 });
    assert.equal(cqe.status, 0);
    await write(h, 1, pattern(1, 1));
    const { machine: m2 } = await powerCutMachine(m);
    const h2 = await hostOf(m2);
    assert.deepEqual((await read(h2, 0)).data, pattern(0, 1));
    assert.deepEqual((await read(h2, 1)).data, pattern(1, 1));
    await m2.shutdown();
  });
});

describe('power cut of a zoned namespace with persisted zone state', () => {
  it('moves the write pointer back to the first lost block and keeps the flushed part', async () => {
    const t = tempDir('cut-zns');
    dirs.push(t.cleanup);
    // 256 KiB = 512 blocks; zones of 64 KiB (128 blocks).
    const m = await nvmeMachine(t.dir, { ns: ',zoned=on,zoned.zone_size=64K,zoned.persist=on' });
    trackWrites(m);
    const h = await hostOf(m);
    assert.equal(await write(h, 0, pattern(0, 1, 4)), 0);
    assert.equal(await flush(h), 0);
    assert.equal(await write(h, 4, pattern(4, 1, 4)), 0);
    assert.equal(await write(h, 128, pattern(128, 1, 2), { fua: true }), 0);
    const { machine: m2, report } = await powerCutMachine(m);
    assert.equal(report.namespaces[0]!.zonesRolledBack, 1);
    const zones = namespaceOf(m2).zoned!.table.zones;
    assert.deepEqual([zones[0]!.wp, zones[0]!.state, zones[1]!.wp], [4, ZoneState.CLOSED, 130]);
    const h2 = await hostOf(m2);
    assert.deepEqual((await read(h2, 0, 4)).data, pattern(0, 1, 4));
    assert.deepEqual((await read(h2, 128, 2)).data, pattern(128, 1, 2));
    await m2.shutdown();
  });

  it('recovers every zone when the power goes in the middle of a background compaction', async () => {
    const t = tempDir('cut-zns-compacting');
    dirs.push(t.cleanup);
    // 500,000 zones of 64 KiB (a sparse image): the compaction's scan takes many loop turns.
    const zones = 500_000;
    const m = await nvmeMachine(t.dir, {
      sizeKiB: zones * 64,
      ns: ',zoned=on,zoned.zone_size=64K,zoned.persist=on',
    });
    trackWrites(m);
    const h = await hostOf(m);
    const Z = 128;
    const last = (zones - 1) * Z;
    assert.equal(await write(h, 0, pattern(0, 1, 4)), 0);
    assert.equal(await write(h, last, pattern(last, 1, 3)), 0);
    assert.equal(await flush(h), 0);
    assert.equal(await write(h, 4, pattern(4, 1, 4)), 0); // lost
    assert.equal(await write(h, Z, pattern(Z, 1, 2), { fua: true }), 0); // kept
    assert.equal(await write(h, 2 * Z, pattern(2 * Z, 1, 5)), 0); // lost: zone 2 Empty again
    const journal = namespaceOf(m).zoned!.journal!;
    journal.compactSoon();
    assert.ok(journal.compacting);
    const mid = 300_000 * Z;
    assert.equal(await write(h, mid, pattern(mid, 1, 6), { fua: true }), 0); // during it: kept
    assert.ok(journal.compacting, 'the cut comes while the compaction runs');
    const { machine: m2, report } = await powerCutMachine(m);
    assert.equal(report.namespaces[0]!.zonesRolledBack, 2);
    const table = namespaceOf(m2).zoned!.table;
    const got = [0, 1, 2, 300_000, zones - 1].map((i) => [table.stateOf(i), table.wpOf(i)]);
    assert.deepEqual(got, [
      [ZoneState.CLOSED, 4],
      [ZoneState.CLOSED, Z + 2],
      [ZoneState.EMPTY, 2 * Z],
      [ZoneState.CLOSED, mid + 6],
      [ZoneState.CLOSED, last + 3],
    ]);
    let changed = 0;
    for (let i = 0; i < zones; i++) if (!table.isDefault(i)) changed++;
    assert.equal(changed, 4, 'no other zone left its initial state');
    assert.equal(existsSync(join(t.dir, 'd0.img.zones.tmp')), false);
    await m2.shutdown();
  });
});
