// Properties of the NVMe/TCP receive path (codec + digests + framer) over generated streams:
// any chunking of a valid stream yields exactly its PDUs, and any corruption of a stream yields
// PDUs followed by at most one fatal error — never a throw — identically for every chunking
// (DESIGN.md rule 4; reference nvme-tcp.md §1.1, §1.10).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { arbCuts, arbStream, concat, frameChunks } from '../src/nvme-tcp/pdu/fixtures.js';
import type { PduStream } from '../src/nvme-tcp/pdu/fixtures.js';
import { Fes, PduType } from '../src/nvme-tcp/pdu/types.js';

const withCuts = (s: fc.Arbitrary<PduStream>): fc.Arbitrary<[PduStream, number[]]> =>
  s.chain((stream) => fc.tuple(fc.constant(stream), arbCuts(stream.bytes.length)));

describe('NVMe/TCP framing over generated streams', () => {
  it('decodes every valid stream into exactly its PDUs under any chunking', () => {
    fc.assert(
      fc.property(withCuts(arbStream), ([s, cuts]) => {
        const rec = frameChunks({ role: s.role, pda: s.pda }, s.bytes, cuts);
        assert.deepEqual(rec.fatal, []);
        assert.deepEqual(
          rec.pdus.map((p) => p.pdu),
          s.pdus,
        );
        assert.ok(rec.pdus.every((p) => !p.dataDigestError));
      }),
      { numRuns: 300 },
    );
  });

  // Corruptions: overwrite bytes, drop a range, or insert bytes, anywhere in a valid stream.
  const arbCorrupted = arbStream.chain((s) => {
    const n = s.bytes.length;
    const pos = fc.integer({ min: 0, max: n - 1 });
    const edit = fc.oneof(
      fc
        .array(fc.tuple(pos, fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 })
        .map((edits) => {
          const b = s.bytes.slice();
          for (const [p, v] of edits) b[p] = v;
          return b;
        }),
      fc
        .tuple(pos, fc.integer({ min: 1, max: 64 }))
        .map(([p, len]) => concat([s.bytes.subarray(0, p), s.bytes.subarray(p + len)])),
      fc.tuple(pos, fc.uint8Array({ minLength: 1, maxLength: 16 })).map(([p, ins]) => {
        const b = new Uint8Array(n + ins.length);
        b.set(s.bytes.subarray(0, p));
        b.set(ins, p);
        b.set(s.bytes.subarray(p), p + ins.length);
        return b;
      }),
    );
    return edit.chain((bytes) => fc.tuple(fc.constant({ ...s, bytes }), arbCuts(bytes.length)));
  });

  it('never throws on a corrupted stream and ends with at most one fatal error, whatever the chunking', () => {
    const validFes: number[] = Object.values(Fes);
    fc.assert(
      fc.property(arbCorrupted, ([s, cuts]) => {
        const whole = frameChunks({ role: s.role, pda: s.pda }, s.bytes, []);
        const chunked = frameChunks({ role: s.role, pda: s.pda }, s.bytes, cuts);
        assert.deepEqual(chunked, whole);
        assert.ok(whole.fatal.length <= 1);
        if (whole.fatal.length === 1) {
          assert.equal(whole.order.at(-1), 'fatal');
          assert.ok(validFes.includes(whole.fatal[0]!.fes));
          assert.ok(whole.fatal[0]!.header.length >= 8 && whole.fatal[0]!.header.length <= 128);
        }
        // Nothing follows a TermReq either.
        const t = whole.pdus.findIndex(
          (p) => p.pdu.type === PduType.H2CTermReq || p.pdu.type === PduType.C2HTermReq,
        );
        if (t >= 0) assert.equal(t, whole.order.length - 1);
      }),
      { numRuns: 400 },
    );
  });
});
