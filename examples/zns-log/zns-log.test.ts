// The zone log tested the way a storage project would: against an emulated zoned namespace
// (64 KiB zones of 512-byte blocks), across zone boundaries, and through power cuts that
// lose what was not synced. Only the public `nvmemu` entry point is used.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Machine } from 'nvmemu';
import { ZoneLog } from './zns-log.js';

/** A machine with one zoned namespace in a fresh folder; removed at the end of the scope. */
async function zonedMachine(): Promise<Machine & { [Symbol.asyncDispose](): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'zns-log-'));
  const img = join(dir, 'zns.img');
  const m = await Machine.start(
    [
      '-drive',
      `file=${img},if=none,id=z`,
      '-device',
      'nvme,id=c0,serial=znslog',
      '-device',
      'nvme-ns,drive=z,nsid=1,zoned=on,zoned.zone_size=64K',
    ],
    { dataDir: join(dir, 'data'), images: { [img]: '1M' } },
  );
  const stop = m.stop.bind(m);
  return Object.assign(m, {
    async [Symbol.asyncDispose]() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

const record = (i: number): Uint8Array =>
  new TextEncoder().encode(`record ${i} `.repeat(1 + (i % 40)));

describe('ZoneLog on an emulated zoned namespace', () => {
  it('appends across zone boundaries and reads every record back in order', async () => {
    await using m = await zonedMachine();
    const ns = m.nvme('c0').namespace(1);
    const log = await ZoneLog.open(ns);
    for (let i = 0; i < 300; i++) assert.equal(await log.append(record(i)), BigInt(i));
    await log.sync();
    const back = [];
    for await (const r of log.records()) back.push(r);
    assert.equal(back.length, 300);
    back.forEach((r, i) => assert.deepEqual(r.payload, record(i)));
    const zones = await ns.zones();
    assert.ok(zones.filter((z) => z.state === 'full').length >= 2, 'the log spans several zones');
  });

  it('keeps every synced record through a power cut and loses the rest', async () => {
    await using m = await zonedMachine();
    const ns = m.nvme('c0').namespace(1);
    const log = await ZoneLog.open(ns);
    for (let i = 0; i < 10; i++) await log.append(record(i));
    await log.sync();
    for (let i = 10; i < 15; i++) await log.append(record(i));
    const report = await m.powerCut({ mode: 'all' });
    assert.equal(report.namespaces[0]!.zonesRolledBack, 1);
    const reopened = await ZoneLog.open(ns);
    const back = [];
    for await (const r of reopened.records()) back.push(Number(r.seq));
    assert.deepEqual(back, [...Array(10).keys()]);
    // The log goes on where the durable data ends.
    assert.equal(await reopened.append(record(10)), 10n);
  });

  it('recovers a gap-free prefix whatever part of the unsynced tail survives', async () => {
    for (const seed of [1, 2, 3]) {
      await using m = await zonedMachine();
      const ns = m.nvme('c0').namespace(1);
      const log = await ZoneLog.open(ns);
      for (let i = 0; i < 20; i++) await log.append(record(i));
      await log.sync();
      for (let i = 20; i < 60; i++) await log.append(record(i));
      await m.powerCut({ mode: 'prefix', seed });
      const seqs = [];
      for await (const r of (await ZoneLog.open(ns)).records()) seqs.push(Number(r.seq));
      assert.ok(seqs.length >= 20 && seqs.length <= 60, `seed ${seed}: ${seqs.length}`);
      assert.deepEqual(seqs, [...Array(seqs.length).keys()], `seed ${seed}: no holes`);
    }
  });
});
