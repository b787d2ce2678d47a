// The worked example of docs/pmem2.md: a persistent append-only log on a file, checked with the
// crash-state explorer. The buggy variant forgets to persist the record before publishing the
// new tail; the explorer must find a crash image where the tail covers a record that never
// reached media, and the fixed variant must pass every image.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  PMEM2_F_MEM_NOFLUSH,
  PMEM2_GRANULARITY_CACHE_LINE,
  Pmem2Config,
  Pmem2Map,
  Pmem2Source,
  exploreCrashStates,
  formatFailure,
} from '../src/pmem2/index.js';
import { readU32le, readU64le, writeU32le, writeU64le } from '../src/util/bytes.js';

const HEADER = 64; // tail (u64) lives alone in the first cache line
const dir = mkdtempSync(join(tmpdir(), 'pmem2-example-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Append one record: [u32 length][payload], then publish the new tail (an 8-byte store). */
function append(map: Pmem2Map, payload: Uint8Array, buggy: boolean): void {
  const tail = Number(readU64le(map.bytes, 0));
  const rec = new Uint8Array(4 + payload.length);
  writeU32le(rec, 0, payload.length);
  rec.set(payload, 4);
  // The bug: NOFLUSH leaves the record in the CPU cache; the fix persists it before the tail.
  map.memcpy(HEADER + tail, rec, buggy ? PMEM2_F_MEM_NOFLUSH : 0);
  writeU64le(map.bytes, 0, BigInt(tail + rec.length));
  map.persist(0, 8);
}

/** Recovery-time check: every record below the tail is complete and holds its expected bytes. */
function checkLog(img: Uint8Array): string | null {
  const tail = Number(readU64le(img, 0));
  let at = 0;
  let n = 0;
  while (at < tail) {
    const len = readU32le(img, HEADER + at);
    if (len === 0 || at + 4 + len > tail) return `record ${n} at ${at} has length ${len}`;
    for (let i = 0; i < len; i++)
      if (img[HEADER + at + 4 + i] !== n + 1) return `record ${n} byte ${i} is not ${n + 1}`;
    at += 4 + len;
    n++;
  }
  return null;
}

function logMap(name: string): Pmem2Map {
  const path = join(dir, name);
  writeFileSync(path, Buffer.alloc(64 * 1024));
  const src = Pmem2Source.fromPath(path);
  // Pretend the file is on DAX (what an emulated nvdimm with memory_controller gives).
  process.env.PMEM2_FORCE_GRANULARITY = 'CACHE_LINE';
  try {
    const cfg = new Pmem2Config()
      .setRequiredStoreGranularity(PMEM2_GRANULARITY_CACHE_LINE)
      .setPowerFailSimulation(true);
    return Pmem2Map.create(cfg, src);
  } finally {
    delete process.env.PMEM2_FORCE_GRANULARITY;
    src.delete();
  }
}

const workload = (buggy: boolean) => (map: Pmem2Map) => {
  for (let i = 0; i < 5; i++) append(map, new Uint8Array(20 + 30 * i).fill(i + 1), buggy);
};

describe('pmem2 worked example: persistent log', () => {
  it('finds the planted missing-persist bug and names the operations before the crash', () => {
    const map = logMap('buggy');
    const report = exploreCrashStates(map, workload(true), checkLog, { seed: 42 });
    map.delete();
    assert.equal(report.ok, false);
    const f = report.failure!;
    assert.equal(f.message, 'record 0 at 0 has length 0');
    assert.equal(f.point, 2); // the persist of the first tail update
    assert.deepEqual(
      f.ops.map((o) => [o.seq, o.kind, o.offset, o.length, o.flags]),
      [
        [1, 'memcpy', 64, 24, PMEM2_F_MEM_NOFLUSH],
        [2, 'persist', 0, 8],
      ].map((x) => (x.length === 4 ? [...x, 0] : x)),
    );
    // The tail's line was flushed and survived; the record's line (64..127) was still dirty.
    assert.deepEqual(f.choices, [{ offset: 0, length: 64, kept: 'flushed' }]);
    assert.match(formatFailure(f), /#1 memcpy\(offset 64, length 24, flags 0x20\)/);
  });

  it('passes every crash image once the record is persisted before the tail', () => {
    const map = logMap('fixed');
    const report = exploreCrashStates(map, workload(false), checkLog, { seed: 42 });
    map.delete();
    assert.equal(report.failure, null);
    assert.equal(report.ok, true);
    assert.equal(report.points, 12); // start, 10 persist points (5 × data + tail), end
    assert.ok(report.images >= report.points);
  });
});
