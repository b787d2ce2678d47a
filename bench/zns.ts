// Zoned namespace benchmark (issue 5): sequential writes at the write pointer and Zone Append
// on a zoned namespace, beside sequential writes to a regular namespace of the same size in
// the same run (the baseline). In process, so the numbers are the namespace layer's own cost:
// zone checks, write pointer accounting and the zone state journal (zoned.persist=on, one
// record per write) or none (persist=off). 64 KiB commands at QD 8 over sparse 1 GiB images.
// Then the scale checks of issue 20 (zns-scale.ts): 1,000,000 zones, report-zones of 100,000.
// NVMEMU_BENCH_ONLY=scale runs only those.

import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Drive } from '../src/block/drive.js';
import { Namespace } from '../src/nvme/ns/namespace.js';
import { ctxOf, fakeCtrl, nsConfig, rw } from '../src/nvme/ns/fixtures.js';
import { zonedParams } from '../src/nvme/ns/zoned/fixtures.js';
import { IoOpc } from '../src/nvme/spec/opcodes.js';
import type { ControllerView } from '../src/nvme/spec/namespace-api.js';
import type { Benchmark, BenchResult } from './main.js';
import { znsScale } from './zns-scale.js';

const DURATION_MS = Number(process.env.NVMEMU_BENCH_MS ?? 2000);
const LBA = 512;
const IMAGE = 1 << 30;
const ZONE = 64 << 20;
const IO = 64 * 1024;
const NLB = IO / LBA;
const QD = 8;

interface Target {
  readonly ns: Namespace;
  close(): Promise<void>;
}

async function open(dir: string, name: string, zoned: boolean, persist: boolean): Promise<Target> {
  const file = join(dir, name);
  writeFileSync(file, '');
  truncateSync(file, IMAGE);
  const drive = await Drive.open({ id: name, file, readOnly: false });
  const cfg = nsConfig(BigInt(IMAGE), {
    ...(zoned
      ? { zoned: zonedParams({ zoneSize: BigInt(ZONE), zoneCapacity: BigInt(ZONE), persist }) }
      : {}),
  });
  const ns = new Namespace(cfg, drive);
  return {
    ns,
    async close() {
      await ns.close();
      await drive.close();
    },
  };
}

/** Keeps QD commands in flight for DURATION_MS; `next` issues one (synchronously ordered). */
async function closedLoop(next: () => Promise<number>): Promise<{ ops: number; lat: number }> {
  const end = performance.now() + DURATION_MS;
  let done = 0;
  let latSum = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      const t0 = performance.now();
      const s = await next();
      if (s !== 0) throw new Error(`command failed: 0x${s.toString(16)}`);
      latSum += performance.now() - t0;
      done++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: QD }, worker));
  const secs = (performance.now() - t0) / 1000;
  return { ops: done / secs, lat: (latSum / Math.max(1, done)) * 1000 };
}

const data = new Uint8Array(IO).fill(0x5a);

/** Sequential writes, wrapping at the end of the namespace. */
function seqWrite(t: Target, ctrl: ControllerView): () => Promise<number> {
  const nsze = Number(t.ns.sizeBlocks);
  let lba = 0;
  // The reset at a wrap, while it runs: the other workers wait for it rather than write into a
  // zone that is still full (they would, the moment the reset's completion is asynchronous).
  let resetting: Promise<number> | undefined;
  return async () => {
    if (resetting !== undefined) {
      const s = await resetting;
      if (s !== 0) return s;
    }
    if (lba + NLB > nsze) {
      lba = 0;
      // A zoned namespace must be reset before it is rewritten (part of the zoned cost).
      if (t.ns.zoned !== undefined) {
        resetting = Promise.resolve(
          t.ns.execute(
            ctxOf({ opcode: IoOpc.ZONE_MGMT_SEND, cdw13: 0x104 }, undefined, undefined, ctrl),
          ),
        ).then((c) => c.status);
        const s = await resetting;
        resetting = undefined;
        if (s !== 0) return s;
      }
    }
    const at = lba;
    lba += NLB;
    return (
      await t.ns.execute(ctxOf({ opcode: IoOpc.WRITE, ...rw(at, NLB) }, data, undefined, ctrl))
    ).status;
  };
}

/** Zone Append to one zone after the other, resetting a zone once it is full. */
function zoneAppend(t: Target, ctrl: ControllerView): () => Promise<number> {
  const zones = t.ns.zoned!.table.zones;
  let zone = 0;
  // As in seqWrite: appends wait for the reset of the zone they will go to.
  let resetting: Promise<number> | undefined;
  return async () => {
    if (resetting !== undefined) {
      const s = await resetting;
      if (s !== 0) return s;
    }
    let z = zones[zone]!;
    if (z.wptr + NLB > z.zslba + z.zcap) {
      zone = (zone + 1) % zones.length;
      z = zones[zone]!;
      if (z.wptr !== z.zslba) {
        resetting = Promise.resolve(
          t.ns.execute(
            ctxOf(
              { opcode: IoOpc.ZONE_MGMT_SEND, cdw10: z.zslba, cdw13: 0x4 },
              undefined,
              undefined,
              ctrl,
            ),
          ),
        ).then((c) => c.status);
        const s = await resetting;
        resetting = undefined;
        if (s !== 0) return s;
      }
    }
    const c = await t.ns.execute(
      ctxOf({ opcode: IoOpc.ZONE_APPEND, ...rw(z.zslba, NLB) }, data, undefined, ctrl),
    );
    return c.status;
  };
}

export const znsBenchmark: Benchmark = {
  name: 'zns',
  description:
    'zoned sequential write and Zone Append (64 KiB, QD 8) beside regular sequential writes; 1,000,000 zones',
  async run(log) {
    const results = process.env.NVMEMU_BENCH_ONLY === 'scale' ? [] : await throughput(log);
    await znsScale(log);
    return results;
  },
};

async function throughput(log: (line: string) => void): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'nvmemu-bench-zns-'));
  const ctrl = fakeCtrl({ css: 6, mdtsBytes: 0, zaslBytes: 0 });
  const results: BenchResult[] = [];
  try {
    const shapes = [
      { name: 'zoned seqwrite 64k qd8 (persist=on)', persist: true, append: false },
      { name: 'zoned seqwrite 64k qd8 (persist=off)', persist: false, append: false },
      { name: 'zone append 64k qd8 (persist=on)', persist: true, append: true },
      { name: 'zone append 64k qd8 (persist=off)', persist: false, append: true },
    ];
    let n = 0;
    for (const s of shapes) {
      // The baseline runs right before each zoned shape, on a fresh image of its own, so
      // both see the same page cache and writeback pressure.
      const regular = await open(dir, `nvm-${n}.img`, false, false);
      const base = await closedLoop(seqWrite(regular, ctrl));
      await regular.close();
      const t = await open(dir, `zns-${n++}.img`, true, s.persist);
      const r = await closedLoop(s.append ? zoneAppend(t, ctrl) : seqWrite(t, ctrl));
      await t.close();
      log(
        `${s.name}: ${((r.ops * IO) / 1e6).toFixed(1)} MB/s; regular seqwrite just before: ${((base.ops * IO) / 1e6).toFixed(1)} MB/s`,
      );
      results.push({
        name: s.name,
        opsPerSec: r.ops,
        latencyUs: r.lat,
        bytesPerSec: r.ops * IO,
        baseline: { name: 'regular seqwrite 64k qd8', opsPerSec: base.ops, latencyUs: base.lat },
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}
