import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BUCKETS, bucketBound, bucketOf, opcodeLabel } from './telemetry.js';
import { percentileUs } from './figures.js';

describe('latency buckets', () => {
  it('a duration goes to the smallest power-of-two µs bound at or above it', () => {
    const cases: [number, number][] = [
      [0, 0],
      [1000, 0],
      [1001, 1],
      [2000, 1],
      [2001, 2],
      [4000, 2],
      [999_999, 10],
      [1_024_000, 10],
      [1_024_001, 11],
      [1_048_576_000, 20],
      [1_048_576_001, 21],
      [60e9, 21],
    ];
    for (const [ns, k] of cases) {
      assert.equal(bucketOf(ns), k, `${ns} ns`);
      assert.ok(ns / 1e9 <= bucketBound(k), `${ns} ns ≤ bound of ${k}`);
      if (k > 0) assert.ok(ns / 1e9 > bucketBound(k - 1), `${ns} ns > bound of ${k - 1}`);
    }
    assert.equal(bucketBound(BUCKETS - 1), Infinity);
  });

  it('percentiles are the bucket bound where the share is reached', () => {
    const b = new Array<number>(BUCKETS).fill(0);
    b[3] = 50; // ≤ 8 µs
    b[5] = 49; // ≤ 32 µs
    b[10] = 1; // ≤ 1024 µs
    assert.equal(percentileUs(b, 0.5), 8);
    assert.equal(percentileUs(b, 0.9), 32);
    assert.equal(percentileUs(b, 0.999), 1024);
    assert.equal(percentileUs(new Array<number>(BUCKETS).fill(0), 0.5), 0);
  });

  it('opcode labels are the command names in kebab case', () => {
    assert.equal(opcodeLabel('Read'), 'read');
    assert.equal(opcodeLabel('Zone Management Send'), 'zone-management-send');
    assert.equal(opcodeLabel('I/O Management Receive'), 'i-o-management-receive');
    assert.equal(opcodeLabel('admin 0xc5'), 'admin-0xc5');
  });
});
