// Test fixtures for the NVMe/TCP wire layer: hex helpers, fast-check arbitraries of valid PDUs and
// PDU streams, and a recorder for framer output. Imported by tests only (fast-check is a
// devDependency); nothing in the product imports this module.

import fc from 'fast-check';
import { PduFramer } from '../framer.js';
import type { FramerFatal, FramerOptions } from '../framer.js';
import { encodePdu } from './codec.js';
import { MIN_MAXH2CDATA, PduType } from './types.js';
import type { DigestSelection, ParsedPdu, Pdu } from './types.js';

/** Bytes from hex text; spaces, newlines and `|` separators are ignored. */
export function fromHex(text: string): Uint8Array {
  const clean = text.replace(/[\s|]/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-f]/i.test(clean)) throw new Error(`bad hex: ${text}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');
}

export function concat(pieces: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of pieces) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Everything a framer emitted, in order. */
export interface Recording {
  readonly pdus: ParsedPdu[];
  readonly fatal: FramerFatal[];
  /** Event order, e.g. ['pdu', 'pdu', 'fatal']. */
  readonly order: ('pdu' | 'fatal')[];
}

export function recordingFramer(options: FramerOptions): { framer: PduFramer; rec: Recording } {
  const rec: Recording = { pdus: [], fatal: [], order: [] };
  const framer = new PduFramer(options, {
    onPdu: (p) => {
      rec.pdus.push(p);
      rec.order.push('pdu');
    },
    onFatal: (e) => {
      rec.fatal.push(e);
      rec.order.push('fatal');
    },
  });
  return { framer, rec };
}

/** Feed `stream` cut at the given offsets (sorted, within 0..length) and record the output. */
export function frameChunks(options: FramerOptions, stream: Uint8Array, cuts: number[]): Recording {
  const { framer, rec } = recordingFramer(options);
  let prev = 0;
  for (const c of [...cuts].sort((a, b) => a - b).concat(stream.length)) {
    framer.push(stream.subarray(prev, c));
    prev = c;
  }
  return rec;
}

// ---- arbitraries of valid PDUs ----

const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const bytes = (minLength: number, maxLength: number): fc.Arbitrary<Uint8Array> =>
  fc.uint8Array({ minLength, maxLength });
const pda = fc.integer({ min: 0, max: 31 });
/** fc.record, but yielding plain objects (fast-check's have a null prototype, which
 * assert.deepStrictEqual would report as a difference from the parsed values). */
function rec<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model).map((o): T => ({ ...o }));
}
export const arbDigests: fc.Arbitrary<DigestSelection> = rec({
  hdgst: fc.boolean(),
  ddgst: fc.boolean(),
});

export const arbICReq = rec({
  type: fc.constant(PduType.ICReq),
  pfv: fc.constant(0),
  hpda: pda,
  dgst: arbDigests,
  maxr2t: u32,
});
export const arbICResp = rec({
  type: fc.constant(PduType.ICResp),
  pfv: fc.constant(0),
  cpda: pda,
  dgst: arbDigests,
  maxh2cdata: fc.integer({ min: MIN_MAXH2CDATA / 4, max: 0x3fff_ffff }).map((x) => x * 4),
});
export const arbH2CTermReq = rec({
  type: fc.constant(PduType.H2CTermReq),
  fes: u16,
  fei: u32,
  data: bytes(0, 128),
});
export const arbC2HTermReq = rec({
  type: fc.constant(PduType.C2HTermReq),
  fes: u16,
  fei: u32,
  data: bytes(0, 128),
});
export const arbCapsuleCmd = rec({
  type: fc.constant(PduType.CapsuleCmd),
  sqe: bytes(64, 64),
  data: fc.oneof(bytes(0, 0), bytes(1, 300)),
});
export const arbCapsuleResp = rec({
  type: fc.constant(PduType.CapsuleResp),
  cqe: bytes(16, 16),
});
export const arbH2CData = rec({
  type: fc.constant(PduType.H2CData),
  cccid: u16,
  ttag: u16,
  datao: u32,
  lastPdu: fc.boolean(),
  data: bytes(1, 300),
});
export const arbC2HData = rec({
  type: fc.constant(PduType.C2HData),
  cccid: u16,
  datao: u32,
  lastPdu: fc.boolean(),
  success: fc.boolean(),
  data: bytes(1, 300),
}).map((p) => ({ ...p, success: p.success && p.lastPdu }));
export const arbR2T = rec({
  type: fc.constant(PduType.R2T),
  cccid: u16,
  ttag: u16,
  r2to: u32,
  r2tl: fc.integer({ min: 1, max: 0xffff_ffff }),
});

/** A valid stream for one receiver: IC PDU, then PDUs of its direction, maybe a final TermReq. */
export interface PduStream {
  readonly role: 'target' | 'host';
  /** The receiver's PDA, used by the sender to pad data. */
  readonly pda: number;
  readonly pdus: Pdu[];
  readonly bytes: Uint8Array;
}

/** Encode `pdus` as a sender would: IC PDU first, later PDUs with its negotiated digests. */
export function encodeStream(role: 'target' | 'host', pdaValue: number, pdus: Pdu[]): PduStream {
  const pieces: Uint8Array[] = [];
  let dgst: DigestSelection = { hdgst: false, ddgst: false };
  for (const p of pdus) {
    pieces.push(...encodePdu(p, { ...dgst, pda: pdaValue }));
    if (p.type === PduType.ICReq || p.type === PduType.ICResp) dgst = p.dgst;
  }
  return { role, pda: pdaValue, pdus, bytes: concat(pieces) };
}

export const arbStream: fc.Arbitrary<PduStream> = fc.oneof(
  fc
    .tuple(
      pda,
      arbICReq,
      fc.array(fc.oneof(arbCapsuleCmd, arbH2CData), { maxLength: 8 }),
      fc.option(arbH2CTermReq, { nil: undefined }),
    )
    .map(([p, ic, body, term]) =>
      encodeStream('target', p, [ic, ...body, ...(term === undefined ? [] : [term])]),
    ),
  fc
    .tuple(
      pda,
      arbICResp,
      fc.array(fc.oneof(arbCapsuleResp, arbC2HData, arbR2T), { maxLength: 8 }),
      fc.option(arbC2HTermReq, { nil: undefined }),
    )
    .map(([p, ic, body, term]) =>
      encodeStream('host', p, [ic, ...body, ...(term === undefined ? [] : [term])]),
    ),
);

/** Sorted cut offsets inside a stream of `length` bytes. */
export function arbCuts(length: number): fc.Arbitrary<number[]> {
  return fc.array(fc.integer({ min: 0, max: length }), { maxLength: 24 });
}
