// The recorder's sink (format version 3): blocks closed by check records every BLOCK bytes and
// at the end of every chunk it hands to the file, so any chunk-boundary prefix of the file (a
// killed recorder) is whole and checked; without a file, bytes() closes the open block.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BLOCK, encodeFileHeader, encodeFrame, FILE_HEADER_SIZE, RecordType } from './format.js';
import { cutFrames, parseFileHeader } from './parse.js';
import { RecordSink } from './sink.js';
import { readU32le, writeU32le } from '../util/bytes.js';

/** `n` event-typed frames of 1000 payload bytes each, numbered in their first 4 bytes. */
function fill(sink: RecordSink, n: number): void {
  sink.put(encodeFileHeader());
  sink.markChecked();
  for (let i = 0; i < n; i++) {
    const p = new Uint8Array(1000);
    writeU32le(p, 0, i);
    sink.put(encodeFrame(RecordType.EVENT, p));
  }
}

const numbers = (b: Uint8Array): number[] =>
  cutFrames(b, parseFileHeader(b)).frames.map((f) => readU32le(f.payload, 0));

describe('RecordSink (format version 3 checks)', () => {
  it('writes a file of checked blocks: every record read back, one check per block or chunk', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nvmemu-sink-'));
    try {
      const file = join(dir, 'r.nvrec');
      const sink = new RecordSink(file);
      const n = 3000; // about 3 MiB: several chunks, many blocks
      fill(sink, n);
      assert.equal(sink.flushSync(), undefined);
      const b = new Uint8Array(readFileSync(file));
      assert.equal(b.length, sink.size);
      const all = numbers(b);
      assert.deepEqual(
        all,
        Array.from({ length: n }, (_, i) => i),
      );
      // Frames of 1008 bytes: a check record closes each block of just over BLOCK bytes.
      const checks = (b.length - FILE_HEADER_SIZE - n * 1008) / 12;
      assert.ok(checks >= Math.floor((n * 1008) / BLOCK), `${checks} check records`);
      // A recorder killed after any write leaves a file that ends with a check record: every
      // prefix that ends with one is whole and checked.
      const ends: number[] = [];
      for (let at = FILE_HEADER_SIZE; at < b.length; at += 8 + readU32le(b, at + 4)) {
        if (b[at] === RecordType.CHECK) ends.push(at + 12);
      }
      assert.ok(ends.length >= checks && ends.at(-1) === b.length);
      for (const at of ends.filter((_, i) => i % 7 === 0)) {
        const cut = cutFrames(b.subarray(0, at), 3);
        assert.equal(cut.complete, true, `cut at ${at}`);
        assert.deepEqual(numbers(b.subarray(0, at)), all.slice(0, cut.frames.length));
      }
      assert.equal(cutFrames(b.subarray(0, ends[3]! - 1), 3).complete, false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('without a file, bytes() at any moment is a whole checked recording', () => {
    const sink = new RecordSink(undefined);
    fill(sink, 70);
    const first = sink.bytes();
    assert.deepEqual(
      numbers(first),
      Array.from({ length: 70 }, (_, i) => i),
    );
    sink.put(encodeFrame(RecordType.EVENT, new Uint8Array(1000)));
    assert.equal(numbers(sink.bytes()).length, 71);
    assert.equal(cutFrames(first, 3).complete, true);
  });
});
