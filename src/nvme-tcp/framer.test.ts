import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PduFramer } from './framer.js';
import { encodePdu } from './pdu/codec.js';
import { concat, encodeStream, frameChunks, recordingFramer } from './pdu/fixtures.js';
import { PduType } from './pdu/types.js';
import type { DigestSelection, Pdu } from './pdu/types.js';

const SQE = new Uint8Array(64).map((_, i) => i);
const CQE = new Uint8Array(16).map((_, i) => 0xf0 - i);
const BOTH: DigestSelection = { hdgst: true, ddgst: true };
const NONE: DigestSelection = { hdgst: false, ddgst: false };
const bytesOf = (n: number, seed: number): Uint8Array => new Uint8Array(n).map((_, i) => i * seed);

const icReq = (dgst: DigestSelection): Pdu => ({
  type: PduType.ICReq,
  pfv: 0,
  hpda: 0,
  dgst,
  maxr2t: 0,
});
const icResp = (dgst: DigestSelection): Pdu => ({
  type: PduType.ICResp,
  pfv: 0,
  cpda: 0,
  dgst,
  maxh2cdata: 131072,
});
const cmd = (data: Uint8Array): Pdu => ({ type: PduType.CapsuleCmd, sqe: SQE, data });
const h2c = (data: Uint8Array): Pdu => ({
  type: PduType.H2CData,
  cccid: 0x3005,
  ttag: 1,
  datao: 0,
  lastPdu: true,
  data,
});
const c2h = (data: Uint8Array): Pdu => ({
  type: PduType.C2HData,
  cccid: 9,
  datao: 512,
  lastPdu: true,
  success: false,
  data,
});

// A target-side stream with both digests: ICReq, a capsule without and one with data, an
// H2CData burst and a final H2CTermReq (§1.4, §1.8, §1.10).
const TARGET_STREAM = encodeStream('target', 0, [
  icReq(BOTH),
  cmd(new Uint8Array(0)),
  cmd(bytesOf(40, 3)),
  h2c(bytesOf(100, 7)),
  { type: PduType.H2CTermReq, fes: 2, fei: 0, data: bytesOf(24, 1) },
]);
// A host-side stream with header digest only and HPDA 2 (12-byte data alignment → padding).
const HOST_STREAM = encodeStream('host', 2, [
  icResp({ hdgst: true, ddgst: false }),
  c2h(bytesOf(33, 5)),
  { type: PduType.CapsuleResp, cqe: CQE },
  { type: PduType.R2T, cccid: 9, ttag: 4, r2to: 0, r2tl: 65536 },
  { type: PduType.C2HTermReq, fes: 1, fei: 2, data: new Uint8Array(0) },
]);

describe('PduFramer survives any split (§1.1 framing rule)', () => {
  for (const s of [TARGET_STREAM, HOST_STREAM]) {
    it(`decodes the ${s.role} golden stream whole into exactly its PDUs`, () => {
      const rec = frameChunks({ role: s.role, pda: s.pda }, s.bytes, []);
      assert.deepEqual(
        rec.pdus.map((p) => p.pdu),
        s.pdus,
      );
      assert.equal(rec.fatal.length, 0);
      assert.ok(rec.pdus.every((p) => !p.dataDigestError));
    });

    it(`decodes the ${s.role} golden stream identically when cut at each of its ${s.bytes.length} offsets`, () => {
      const whole = frameChunks({ role: s.role, pda: s.pda }, s.bytes, []);
      for (let cut = 0; cut <= s.bytes.length; cut++) {
        const rec = frameChunks({ role: s.role, pda: s.pda }, s.bytes, [cut]);
        assert.deepEqual(rec, whole, `cut at ${cut}`);
      }
    });

    it(`decodes the ${s.role} golden stream identically fed one byte at a time`, () => {
      const whole = frameChunks({ role: s.role, pda: s.pda }, s.bytes, []);
      const cuts = Array.from({ length: s.bytes.length }, (_, i) => i);
      assert.deepEqual(frameChunks({ role: s.role, pda: s.pda }, s.bytes, cuts), whole);
    });
  }
});

describe('PduFramer buffering', () => {
  it('hands out data that aliases the pushed chunk when the PDU lies in one chunk', () => {
    const { framer, rec } = recordingFramer({ role: 'target' });
    framer.push(concat(encodePdu(icReq(NONE), NONE)));
    const chunk = concat(encodePdu(cmd(bytesOf(64, 1)), NONE));
    framer.push(chunk);
    const pdu = rec.pdus[1]!.pdu;
    assert.equal(pdu.type, PduType.CapsuleCmd);
    assert.equal(pdu.data.buffer, chunk.buffer);
    assert.equal(pdu.data.byteOffset, 72);
  });

  it('gathers a split PDU into a fresh buffer with the same bytes', () => {
    const { framer, rec } = recordingFramer({ role: 'target' });
    framer.push(concat(encodePdu(icReq(NONE), NONE)));
    const chunk = concat(encodePdu(cmd(bytesOf(64, 1)), NONE));
    framer.push(chunk.subarray(0, 100));
    assert.equal(framer.idle, false);
    assert.equal(framer.state, 'body');
    framer.push(chunk.subarray(100));
    assert.equal(framer.idle, true);
    const pdu = rec.pdus[1]!.pdu;
    assert.equal(pdu.type, PduType.CapsuleCmd);
    assert.notEqual(pdu.data.buffer, chunk.buffer);
    assert.deepEqual(pdu.data, bytesOf(64, 1));
  });

  it('rejects an oversized capsule from its 8-byte common header, before buffering data', () => {
    const { framer, rec } = recordingFramer({ role: 'target', limits: { maxInCapsuleData: 4096 } });
    framer.push(concat(encodePdu(icReq(NONE), NONE)));
    const big = concat(encodePdu(cmd(new Uint8Array(4097)), NONE));
    framer.push(big.subarray(0, 8));
    assert.equal(framer.state, 'failed');
    assert.deepEqual(rec.fatal[0]?.message, 'CapsuleCmd carries 4097 data bytes (limit 4096)');
  });

  it('applies limits changed with setLimits to the next PDU', () => {
    const { framer, rec } = recordingFramer({ role: 'target' });
    framer.push(concat(encodePdu(icReq(NONE), NONE)));
    framer.push(concat(encodePdu(h2c(new Uint8Array(8192)), NONE)));
    framer.setLimits({ maxH2CData: 4096 });
    framer.push(concat(encodePdu(h2c(new Uint8Array(8192)), NONE)).subarray(0, 8));
    assert.deepEqual(rec.order, ['pdu', 'pdu', 'fatal']);
    assert.equal(rec.fatal[0]?.fes, 5);
  });

  it('gathers a body that spans chunks into the buffer gatherBuffer supplies, and only then', () => {
    const asked: number[] = [];
    const supplied = new Uint8Array(4100).fill(0xcc); // dirty: every byte must be overwritten
    const got: Pdu[] = [];
    const framer = new PduFramer(
      { role: 'target' },
      {
        onPdu: (p) => got.push(p.pdu),
        onFatal: (f) => assert.fail(f.message),
        gatherBuffer: (n) => (asked.push(n), supplied),
      },
    );
    framer.push(concat(encodePdu(icReq(NONE), NONE)));
    const whole = concat(encodePdu(h2c(bytesOf(4096, 3)), { hdgst: false, ddgst: true }));
    // Within one chunk: a view of the chunk, no gathering.
    framer.setDigests(false, true);
    framer.push(whole);
    // Split inside the body: gathered into the supplied buffer (data 4096 + DDGST 4).
    framer.push(whole.subarray(0, 1000));
    framer.push(whole.subarray(1000));
    assert.deepEqual(asked, [4100]);
    assert.equal(got.length, 3);
    const data = (got[2] as { data: Uint8Array }).data;
    assert.equal(data.buffer, supplied.buffer);
    assert.deepEqual(got[2], h2c(bytesOf(4096, 3)));
  });

  it('transientChunks: one reused receive buffer, scribbled after every push, at every split', () => {
    // HOST_STREAM through a buffer a socket's onread would reuse: what the framer keeps of a
    // chunk past push() must be its own copy, and each PDU is checked while it is emitted.
    const { bytes, pdus: want } = HOST_STREAM;
    for (let cut = 1; cut < bytes.length; cut++) {
      const recv = new Uint8Array(bytes.length);
      const got: Pdu[] = [];
      const framer = new PduFramer(
        { role: 'host', pda: 2, transientChunks: true },
        {
          // Compared at once: the PDU's views are valid only during onPdu.
          onPdu: (p) => assert.deepEqual(p.pdu, want[got.push(p.pdu) - 1]),
          onFatal: (f) => assert.fail(`cut ${cut}: ${f.message}`),
        },
      );
      for (const [from, to] of [
        [0, cut],
        [cut, bytes.length],
      ] as const) {
        recv.set(bytes.subarray(from, to));
        framer.push(recv.subarray(0, to - from));
        recv.fill(0xa5);
      }
      assert.equal(got.length, want.length, `cut ${cut}`);
    }
  });

  it('ignores the content of padding bytes (§1.6: not covered by any digest)', () => {
    const bytes = concat(encodePdu(h2c(bytesOf(16, 3)), { hdgst: true, ddgst: true, pda: 7 }));
    bytes.fill(0xee, 28, 32); // header 24 + HDGST 4, data at PDO 32
    const rec = frameChunks({ role: 'target', pda: 7 }, concat([encodeIc(BOTH), bytes]), []);
    assert.deepEqual(rec.order, ['pdu', 'pdu']);
    assert.deepEqual(rec.pdus[1]!.pdu, h2c(bytesOf(16, 3)));
    assert.equal(rec.pdus[1]!.dataDigestError, false);
  });
});

function encodeIc(dgst: DigestSelection, role: 'target' | 'host' = 'target'): Uint8Array {
  return concat(encodePdu(role === 'target' ? icReq(dgst) : icResp(dgst), NONE));
}

describe('PduFramer digests (§1.5)', () => {
  it('adopts the digests of the ICReq it receives', () => {
    const { framer } = recordingFramer({ role: 'target' });
    assert.deepEqual(framer.digests, NONE);
    framer.push(encodeIc({ hdgst: true, ddgst: false }));
    assert.equal(framer.initialized, true);
    assert.deepEqual(framer.digests, { hdgst: true, ddgst: false });
  });

  it('lets the ICReq handler override the digests with setDigests', () => {
    const pdus: Pdu[] = [];
    const framer = new PduFramer(
      { role: 'target' },
      {
        onPdu: (p) => {
          pdus.push(p.pdu);
          if (p.pdu.type === PduType.ICReq) framer.setDigests(false, false);
        },
        onFatal: (e) => assert.fail(e.message),
      },
    );
    framer.push(concat([encodeIc(BOTH), ...encodePdu(cmd(bytesOf(8, 1)), NONE)]));
    assert.deepEqual(pdus, [icReq(BOTH), cmd(bytesOf(8, 1))]);
  });

  it('reports a data digest error on a capsule without failing the connection', () => {
    const bad = concat(encodePdu(cmd(bytesOf(32, 5)), BOTH));
    bad[76 + 3]! ^= 0x01; // a data byte (header 72 + HDGST 4)
    const good = concat(encodePdu(cmd(new Uint8Array(0)), BOTH));
    const rec = frameChunks({ role: 'target' }, concat([encodeIc(BOTH), bad, good]), []);
    assert.deepEqual(rec.order, ['pdu', 'pdu', 'pdu']);
    assert.equal(rec.pdus[1]!.dataDigestError, true);
    assert.equal(rec.pdus[2]!.dataDigestError, false);
    assert.equal(rec.pdus[1]!.pdu.type, PduType.CapsuleCmd);
  });

  it('reports a corrupted DDGST on C2HData to the host as a data digest error', () => {
    const bad = concat(encodePdu(c2h(bytesOf(20, 9)), BOTH));
    bad[bad.length - 1]! ^= 0xff;
    const rec = frameChunks({ role: 'host' }, concat([encodeIc(BOTH, 'host'), bad]), []);
    assert.deepEqual(rec.order, ['pdu', 'pdu']);
    assert.deepEqual(rec.pdus[1]!.pdu, c2h(bytesOf(20, 9)));
    assert.equal(rec.pdus[1]!.dataDigestError, true);
  });

  it('refuses setDigests while a PDU is half received (our invariant)', () => {
    const { framer } = recordingFramer({ role: 'target' });
    framer.push(encodeIc(NONE));
    framer.push(concat(encodePdu(cmd(new Uint8Array(0)), NONE)).subarray(0, 30));
    assert.throws(() => framer.setDigests(true, true), {
      message: 'setDigests while a PDU is half received',
    });
  });
});

describe('PduFramer lifecycle', () => {
  it('accepts an H2CTermReq before the ICReq and then ignores everything', () => {
    const term: Pdu = { type: PduType.H2CTermReq, fes: 6, fei: 10, data: new Uint8Array(0) };
    const bytes = concat([...encodePdu(term, NONE), new Uint8Array([0xff, 0xff, 0xff])]);
    const rec = frameChunks({ role: 'target' }, bytes, []);
    assert.deepEqual(
      rec.pdus.map((p) => p.pdu),
      [term],
    );
    assert.equal(rec.fatal.length, 0);
  });

  it('accepts a C2HTermReq before the ICResp (SPDK answers a bad ICReq with one)', () => {
    const term: Pdu = { type: PduType.C2HTermReq, fes: 1, fei: 8, data: bytesOf(128, 1) };
    const { framer, rec } = recordingFramer({ role: 'host' });
    framer.push(concat(encodePdu(term, NONE)));
    assert.equal(framer.state, 'terminated');
    assert.deepEqual(rec.pdus[0]?.pdu, term);
  });

  it('emits nothing after its one fatal error', () => {
    const { framer, rec } = recordingFramer({ role: 'target' });
    framer.push(new Uint8Array([0x05, 0, 24, 0, 24, 0, 0, 0]));
    framer.push(encodeIc(NONE));
    framer.push(encodeIc(NONE));
    assert.equal(framer.state, 'failed');
    assert.deepEqual(rec.order, ['fatal']);
    assert.deepEqual(rec.fatal[0]?.header, new Uint8Array([0x05, 0, 24, 0, 24, 0, 0, 0]));
  });

  it('ignores bytes after stop()', () => {
    const { framer, rec } = recordingFramer({ role: 'target' });
    framer.push(encodeIc(NONE).subarray(0, 50));
    framer.stop();
    framer.push(encodeIc(NONE));
    assert.equal(framer.state, 'terminated');
    assert.deepEqual(rec.order, []);
  });

  it('refuses to be pushed re-entrantly from a handler (our invariant)', () => {
    const framer: PduFramer = new PduFramer(
      { role: 'target' },
      {
        onPdu: () => framer.push(new Uint8Array(1)),
        onFatal: () => undefined,
      },
    );
    assert.throws(() => framer.push(encodeIc(NONE)), {
      message: 'PduFramer.push called re-entrantly from a handler',
    });
  });
});

describe('PduFramer context changes and repeated headers', () => {
  it('checks the next CH against digests changed by setDigests, even bytes accepted before', () => {
    const { framer, rec } = recordingFramer({ role: 'target' });
    const capsule = concat(encodePdu(cmd(new Uint8Array(0)), NONE));
    framer.push(concat([encodeIc(NONE), capsule, capsule]));
    framer.setDigests(true, false);
    framer.push(capsule);
    assert.deepEqual(rec.order, ['pdu', 'pdu', 'pdu', 'fatal']);
    assert.equal(rec.fatal[0]?.fes, 1);
    assert.equal(rec.fatal[0]?.fei, 1);
    assert.equal(rec.fatal[0]?.message, 'CapsuleCmd HDGSTF clear but header digest was negotiated');
  });

  it('rejects a repeated ICReq byte for byte identical to the first as a sequence error', () => {
    const { framer, rec } = recordingFramer({ role: 'target' });
    framer.push(concat([encodeIc(NONE), encodeIc(NONE)]));
    assert.deepEqual(rec.order, ['pdu', 'fatal']);
    assert.equal(rec.fatal[0]?.fes, 2);
    assert.equal(rec.fatal[0]?.message, 'second ICReq');
  });

  it('decodes many distinct capsule shapes, repeated, exactly as encoded', () => {
    const shapes = Array.from({ length: 12 }, (_, i) => cmd(bytesOf(4 * (i + 1), i + 1)));
    const pdus = [icReq(NONE), ...shapes, ...shapes, ...shapes.slice().reverse()];
    const s = encodeStream('target', 0, pdus);
    const rec = frameChunks({ role: 'target' }, s.bytes, []);
    assert.equal(rec.fatal.length, 0);
    assert.deepEqual(
      rec.pdus.map((p) => p.pdu),
      pdus,
    );
  });
});
