import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { COPY_LIMIT, coalesce, writeBatch } from './batch.js';

const bytes = (n: number, v: number): Uint8Array => new Uint8Array(n).fill(v);
const sum = (ps: readonly Uint8Array[]): number => ps.reduce((n, p) => n + p.length, 0);

describe('coalesce (one turn of queued PDUs → write units)', () => {
  it('passes a lone piece through by reference', () => {
    const p = bytes(72, 1);
    const units = coalesce([p], 72);
    assert.equal(units.length, 1);
    assert.equal(units[0], p);
  });

  it('copies a batch of small pieces into one buffer with the same bytes in order', () => {
    const pieces = [bytes(24, 1), bytes(4096, 2), bytes(24, 3)];
    const units = coalesce(pieces, sum(pieces));
    assert.equal(units.length, 1);
    assert.deepEqual([...units[0]!], [...pieces[0]!, ...pieces[1]!, ...pieces[2]!]);
  });

  it('sends large payloads by reference between copied runs of small pieces', () => {
    const big = bytes(COPY_LIMIT, 9);
    const pieces = [bytes(24, 1), bytes(8, 2), big, bytes(24, 3)];
    const units = coalesce(pieces, sum(pieces));
    assert.deepEqual(
      units.map((u) => u.length),
      [32, COPY_LIMIT, 24],
    );
    assert.equal(units[1], big);
    assert.equal(units[2], pieces[3]);
    assert.deepEqual([...units[0]!], [...pieces[0]!, ...pieces[1]!]);
  });
});

describe('writeBatch', () => {
  function recorder(): { calls: string[]; socket: Parameters<typeof writeBatch>[0] } {
    const calls: string[] = [];
    return {
      calls,
      socket: {
        cork: () => void calls.push('cork'),
        uncork: () => void calls.push('uncork'),
        write: (c) => (calls.push(`write ${c.length}`), true),
      },
    };
  }

  it('writes one unit without corking', () => {
    const r = recorder();
    writeBatch(r.socket, [bytes(24, 0), bytes(24, 0)], 48);
    assert.deepEqual(r.calls, ['write 48']);
  });

  it('corks several units into one writev', () => {
    const r = recorder();
    const pieces = [bytes(24, 0), bytes(COPY_LIMIT * 2, 0), bytes(24, 0)];
    writeBatch(r.socket, pieces, sum(pieces));
    assert.deepEqual(r.calls, [
      'cork',
      'write 24',
      `write ${COPY_LIMIT * 2}`,
      'write 24',
      'uncork',
    ]);
  });
});
