// Golden bytes for every PDU type, hand-assembled from reference nvme-tcp.md §1.1–§1.3 (CH:
// type, flags, hlen, pdo, plen LE32; then the PDU-specific header). Digest bytes were computed
// with an independent bitwise CRC-32C (reflected 0x82F63B78, init/xorout 0xFFFFFFFF, §1.5).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodePdu, parsePdu } from './codec.js';
import { cqeCid, sqeCid } from './capsule.js';
import {
  arbC2HData,
  arbC2HTermReq,
  arbCapsuleCmd,
  arbCapsuleResp,
  arbDigests,
  arbH2CData,
  arbH2CTermReq,
  arbICReq,
  arbICResp,
  arbR2T,
  concat,
  fromHex,
  toHex,
} from './fixtures.js';
import { DEFAULT_LIMITS, PDU_INFO, PduFatal, PduType } from './types.js';
import type { Pdu, ReceiveContext } from './types.js';

const NONE = { hdgst: false, ddgst: false };
const BOTH = { hdgst: true, ddgst: true };

// A Write (opcode 01h), PSDT 01b (byte 1 = 0x40), CID 0x3006, NSID 1,
// SGL1 = Data Block with Offset (0x01) of 8 bytes: the in-capsule write of §1.7.
const WRITE_SQE = fromHex(`
  01 40 06 30 01 00 00 00 | 00 00 00 00 00 00 00 00 | 00 00 00 00 00 00 00 00
  00 00 00 00 00 00 00 00 | 08 00 00 00 00 00 00 01 | 00 00 00 00 00 00 00 00
  00 00 00 00 00 00 00 00 | 00 00 00 00 00 00 00 00`);
// Read (02h), CID 0x3005, NSID 1, SGL1 = Transport SGL Data Block 0x5A of 4096 bytes.
const READ_SQE = fromHex(`
  02 40 05 30 01 00 00 00 | 00 00 00 00 00 00 00 00 | 00 00 00 00 00 00 00 00
  00 00 00 00 00 00 00 00 | 00 10 00 00 00 00 00 5a | 00 00 00 00 00 00 00 00
  00 00 00 00 00 00 00 00 | 00 00 00 00 00 00 00 00`);
// DW0 1, DW1 0, DW2 SQHD 5 / SQID 1, DW3 CID 0x3005, status 0 (§2.9).
const CQE = fromHex('01 00 00 00 | 00 00 00 00 | 05 00 01 00 | 05 30 00 00');
const DATA8 = fromHex('01 02 03 04 05 06 07 08');
const DEADBEEF = fromHex('de ad be ef');
const zeros = (n: number): string => ' 00'.repeat(n);

interface Golden {
  name: string;
  pdu: Pdu;
  opts: { hdgst: boolean; ddgst: boolean; pda?: number };
  hex: string;
}

const GOLDEN: Golden[] = [
  {
    name: 'ICReq as Linux sends it with --hdr-digest (PFV 0, HPDA 0, DGST 01h, MAXR2T 0)',
    pdu: { type: PduType.ICReq, pfv: 0, hpda: 0, dgst: { hdgst: true, ddgst: false }, maxr2t: 0 },
    opts: BOTH, // IC PDUs never carry digests whatever was negotiated
    hex: `00 00 80 00 80 00 00 00 | 00 00 | 00 | 01 | 00 00 00 00 | ${zeros(112)}`,
  },
  {
    name: 'ICResp with both digests, CPDA 0, MAXH2CDATA 128 KiB',
    pdu: { type: PduType.ICResp, pfv: 0, cpda: 0, dgst: BOTH, maxh2cdata: 131072 },
    opts: BOTH,
    hex: `01 00 80 00 80 00 00 00 | 00 00 | 00 | 03 | 00 00 02 00 | ${zeros(112)}`,
  },
  {
    name: 'H2CTermReq FES 01h FEI 2 carrying an 8-byte offending CH (PDO 0, PLEN 32)',
    pdu: { type: PduType.H2CTermReq, fes: 1, fei: 2, data: fromHex('04 00 48 00 48 00 00 00') },
    opts: BOTH,
    hex: `02 00 18 00 20 00 00 00 | 01 00 | 02 00 00 00 | ${zeros(10)} | 04 00 48 00 48 00 00 00`,
  },
  {
    name: 'C2HTermReq FES 03h without data',
    pdu: { type: PduType.C2HTermReq, fes: 3, fei: 0, data: new Uint8Array(0) },
    opts: NONE,
    hex: `03 00 18 00 18 00 00 00 | 03 00 | 00 00 00 00 | ${zeros(10)}`,
  },
  {
    name: 'CapsuleCmd without data and digests (PDO 0, PLEN 72)',
    pdu: { type: PduType.CapsuleCmd, sqe: READ_SQE, data: new Uint8Array(0) },
    opts: NONE,
    hex: `04 00 48 00 48 00 00 00 | ${toHex(READ_SQE)}`,
  },
  {
    name: 'CapsuleCmd with 8 in-capsule bytes and both digests (PDO 76, PLEN 88)',
    pdu: { type: PduType.CapsuleCmd, sqe: WRITE_SQE, data: DATA8 },
    opts: BOTH,
    hex: `04 03 48 4c 58 00 00 00 | ${toHex(WRITE_SQE)} | 1d c0 de b4 | ${toHex(DATA8)} | 81 1f 89 46`,
  },
  {
    name: 'CapsuleCmd with HDGST and CPDA 3 pads 4 zero bytes to PDO 80 (§1.6)',
    pdu: { type: PduType.CapsuleCmd, sqe: WRITE_SQE, data: DATA8 },
    opts: { hdgst: true, ddgst: false, pda: 3 },
    hex: `04 01 48 50 58 00 00 00 | ${toHex(WRITE_SQE)} | 1a 9f 0a c4 | 00 00 00 00 | ${toHex(DATA8)}`,
  },
  {
    name: 'CapsuleResp without digest (PLEN 24)',
    pdu: { type: PduType.CapsuleResp, cqe: CQE },
    opts: NONE,
    hex: `05 00 18 00 18 00 00 00 | ${toHex(CQE)}`,
  },
  {
    name: 'CapsuleResp with HDGST (PLEN 28) and no DDGST since it has no data',
    pdu: { type: PduType.CapsuleResp, cqe: CQE },
    opts: BOTH,
    hex: `05 01 18 00 1c 00 00 00 | ${toHex(CQE)} | e3 96 9f cb`,
  },
  {
    name: 'H2CData LAST_PDU, CCCID 7, TTAG 1, DATAO 4096, DATAL 4 (PDO 24, PLEN 28)',
    pdu: {
      type: PduType.H2CData,
      cccid: 7,
      ttag: 1,
      datao: 4096,
      lastPdu: true,
      data: DEADBEEF,
    },
    opts: NONE,
    hex: `06 04 18 18 1c 00 00 00 | 07 00 | 01 00 | 00 10 00 00 | 04 00 00 00 | 00 00 00 00 | de ad be ef`,
  },
  {
    name: 'C2HData LAST_PDU|SUCCESS with both digests (FLAGS 0Fh, PDO 28, PLEN 36)',
    pdu: {
      type: PduType.C2HData,
      cccid: 0x3005,
      datao: 0,
      lastPdu: true,
      success: true,
      data: DEADBEEF,
    },
    opts: BOTH,
    hex: `07 0f 18 1c 24 00 00 00 | 05 30 | 00 00 | 00 00 00 00 | 04 00 00 00 | 00 00 00 00
          | b6 88 73 64 | de ad be ef | 8e 77 dc f1`,
  },
  {
    name: 'R2T CCCID 7, TTAG 1, R2TO 0, R2TL 8192',
    pdu: { type: PduType.R2T, cccid: 7, ttag: 1, r2to: 0, r2tl: 8192 },
    opts: NONE,
    hex: `09 00 18 00 18 00 00 00 | 07 00 | 01 00 | 00 00 00 00 | 00 20 00 00 | 00 00 00 00`,
  },
];

function ctxFor(pdu: Pdu, opts: { hdgst: boolean; ddgst: boolean; pda?: number }): ReceiveContext {
  return {
    role: PDU_INFO[pdu.type].dir === 'h2c' ? 'target' : 'host',
    hdgst: opts.hdgst,
    ddgst: opts.ddgst,
    pda: opts.pda ?? 0,
    limits: DEFAULT_LIMITS,
  };
}

describe('encodePdu golden bytes (§1.1–§1.3)', () => {
  for (const g of GOLDEN) {
    it(`encodes ${g.name}`, () => {
      assert.equal(toHex(concat(encodePdu(g.pdu, g.opts))), toHex(fromHex(g.hex)));
    });
    it(`parses ${g.name} back to the same value`, () => {
      const r = parsePdu(fromHex(g.hex), ctxFor(g.pdu, g.opts));
      assert.ok(!(r instanceof PduFatal), r instanceof PduFatal ? r.message : '');
      assert.deepEqual(r.pdu, g.pdu);
      assert.equal(r.dataDigestError, false);
      assert.equal(r.header.length, PDU_INFO[g.pdu.type].hlen);
    });
  }

  it('passes data through by reference as its own piece: [header, data, ddgst]', () => {
    const data = new Uint8Array(4096);
    const pieces = encodePdu({ type: PduType.CapsuleCmd, sqe: WRITE_SQE, data }, BOTH);
    assert.equal(pieces.length, 3);
    assert.equal(pieces[1], data);
    assert.deepEqual(
      pieces.map((p) => p.length),
      [76, 4096, 4],
    );
  });

  it('emits a single piece for PDUs without data', () => {
    assert.equal(
      encodePdu({ type: PduType.R2T, cccid: 1, ttag: 2, r2to: 0, r2tl: 1 }, BOTH).length,
      1,
    );
  });

  it('refuses to encode SUCCESS without LAST_PDU (our bug, §1.9)', () => {
    const bad: Pdu = {
      type: PduType.C2HData,
      cccid: 1,
      datao: 0,
      lastPdu: false,
      success: true,
      data: DEADBEEF,
    };
    assert.throws(() => encodePdu(bad, NONE), {
      message: 'C2HData SUCCESS requires LAST_PDU (§1.9)',
    });
  });

  it('refuses a TermReq with more than 128 bytes of data', () => {
    const bad: Pdu = { type: PduType.C2HTermReq, fes: 1, fei: 0, data: new Uint8Array(129) };
    assert.throws(() => encodePdu(bad, NONE), { message: 'C2HTermReq data 129 > 128' });
  });
});

describe('sqeCid / cqeCid', () => {
  it('reads the CID at SQE bytes 2–3 and CQE bytes 12–13', () => {
    assert.equal(sqeCid(READ_SQE), 0x3005);
    assert.equal(sqeCid(WRITE_SQE), 0x3006);
    assert.equal(cqeCid(CQE), 0x3005);
  });
});

describe('encodePdu → parsePdu round trip', () => {
  const arbAny = fc.oneof(
    arbICReq,
    arbICResp,
    arbH2CTermReq,
    arbC2HTermReq,
    arbCapsuleCmd,
    arbCapsuleResp,
    arbH2CData,
    arbC2HData,
    arbR2T,
  );
  it('returns every PDU unchanged for any digest setting and PDA', () => {
    fc.assert(
      fc.property(arbAny, arbDigests, fc.integer({ min: 0, max: 31 }), (pdu, dg, pda) => {
        const opts = { ...dg, pda };
        const r = parsePdu(concat(encodePdu(pdu, opts)), ctxFor(pdu, opts));
        assert.ok(!(r instanceof PduFatal), r instanceof PduFatal ? r.message : '');
        assert.deepEqual(r.pdu, pdu);
        assert.equal(r.dataDigestError, false);
      }),
      { numRuns: 300 },
    );
  });
});
