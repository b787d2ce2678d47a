import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ARENA_BYTES, COPY_LIMIT, SendQueue, type BatchSocket } from './batch.js';
import { encodePdu } from './codec.js';
import { PduType, type C2HDataPdu, type Pdu } from './types.js';

const bytes = (n: number, v: number): Uint8Array => new Uint8Array(n).fill(v);
const NONE = { hdgst: false, ddgst: false };
const c2h = (cccid: number, data: Uint8Array): C2HDataPdu => ({
  type: PduType.C2HData,
  cccid,
  datao: 0,
  lastPdu: true,
  success: false,
  data,
});
const resp = (cid: number): Pdu => ({ type: PduType.CapsuleResp, cqe: bytes(16, cid) });

/** A socket that records calls and copies what it is given (as the kernel would). */
class Recorder implements BatchSocket {
  writableLength = 0;
  destroyed = false;
  readonly calls: string[] = [];
  /** The chunks as passed (references) and as they were at write time (copies). */
  readonly chunks: Uint8Array[] = [];
  readonly copies: Uint8Array[] = [];
  cork(): void {
    this.calls.push('cork');
  }
  uncork(): void {
    this.calls.push('uncork');
  }
  /** Write callbacks not yet run (the test runs them: "the kernel took it"). */
  readonly callbacks: (() => void)[] = [];
  write(chunk: Uint8Array, written?: () => void): boolean {
    this.calls.push(`write ${chunk.length}${written === undefined ? '' : ' +cb'}`);
    this.chunks.push(chunk);
    this.copies.push(chunk.slice());
    if (written !== undefined) this.callbacks.push(written);
    return true;
  }
}

describe('SendQueue (one turn of queued PDUs → writes)', () => {
  it('copies small pieces, in order, into one write', () => {
    const s = new Recorder();
    const q = new SendQueue(s);
    const pieces = [bytes(24, 1), bytes(4096, 2), bytes(24, 3)];
    assert.deepEqual(
      pieces.map((p) => q.push(p)),
      [true, true, true],
    );
    q.flush();
    assert.deepEqual(s.calls, ['write 4144']);
    assert.deepEqual([...s.copies[0]!], [...pieces[0]!, ...pieces[1]!, ...pieces[2]!]);
    assert.equal(q.pending, false);
  });

  it('sends a large payload by reference between copied runs, corked into one writev', () => {
    const s = new Recorder();
    const q = new SendQueue(s);
    const big = bytes(COPY_LIMIT, 9);
    assert.equal(q.push(bytes(24, 1)), true);
    assert.equal(q.push(big), false);
    assert.equal(q.push(bytes(24, 3)), true);
    q.flush();
    assert.deepEqual(s.calls, ['cork', 'write 24', `write ${COPY_LIMIT}`, 'write 24', 'uncork']);
    assert.equal(s.chunks[1], big);
  });

  it('reuses its arena from the start only when the previous write left nothing buffered in the socket', () => {
    const s = new Recorder();
    const q = new SendQueue(s);
    q.push(bytes(8, 1));
    q.flush();
    q.push(bytes(8, 2));
    q.flush();
    assert.equal(s.chunks[0]!.buffer, s.chunks[1]!.buffer, 'written synchronously: reused');
    s.writableLength = 8; // the stream still holds the last chunk
    q.push(bytes(8, 3));
    q.flush();
    q.push(bytes(8, 4));
    q.flush();
    const [held, next] = [s.chunks[2]!, s.chunks[3]!];
    assert.ok(
      next.buffer !== held.buffer || next.byteOffset >= held.byteOffset + held.length,
      'continues after the held chunk',
    );
    assert.deepEqual([...held], new Array<number>(8).fill(3), 'held chunk untouched');
    s.writableLength = 0;
    q.push(bytes(8, 5));
    q.flush(); // nothing held after this write…
    q.push(bytes(8, 6));
    q.flush(); // …so this one starts the arena over
    assert.equal(s.chunks[5]!.buffer, s.chunks[4]!.buffer);
    assert.equal(s.chunks[5]!.byteOffset, s.chunks[0]!.byteOffset, 'drained: from the start again');
  });

  it('continues in a fresh arena when one turn outgrows it', () => {
    const s = new Recorder();
    const q = new SendQueue(s);
    const piece = bytes(COPY_LIMIT - 1, 5);
    const n = Math.ceil(ARENA_BYTES / piece.length) + 1;
    for (let i = 0; i < n; i++) q.push(piece);
    q.flush();
    const written = s.copies.reduce((t, c) => t + c.length, 0);
    assert.equal(written, n * piece.length);
    assert.equal(s.calls[0], 'cork');
    assert.ok(s.copies.every((c) => c.every((x) => x === 5)));
  });

  it('drops what is queued when the socket is already destroyed', () => {
    const s = new Recorder();
    s.destroyed = true;
    const q = new SendQueue(s);
    q.push(bytes(24, 1));
    q.flush();
    assert.deepEqual(s.calls, []);
    assert.equal(q.pending, false);
  });

  it('reports a group due at its byte or PDU count, whichever comes first, and restarts after a flush', () => {
    const q = new SendQueue(new Recorder(), { bytes: 8192, pdus: 3 });
    assert.equal(q.pushPdu(c2h(1, bytes(4096, 2)), NONE), true);
    assert.equal(q.due, false);
    q.pushPdu(c2h(2, bytes(4096, 2)), NONE);
    assert.equal(q.due, true, '2 × (24 + 4096) = 8240 bytes ≥ 8192');
    q.flush();
    assert.equal(q.due, false);
    q.pushPdu(resp(1), NONE);
    q.pushPdu(resp(2), NONE);
    assert.equal(q.due, false);
    q.pushPdu(resp(3), NONE);
    assert.equal(q.due, true, 'three PDUs');
  });

  it('never reports a group due under the default per-turn policy', () => {
    const q = new SendQueue(new Recorder());
    for (let i = 0; i < 1000; i++) q.pushPdu(c2h(i, bytes(4096, i & 0xff)), NONE);
    assert.equal(q.due, false);
  });

  it('sends PDUs encoded in its arena byte for byte as encodePdu makes them, over a dirty arena', () => {
    const s = new Recorder();
    const q = new SendQueue(s);
    // Fill the arena with 0xff so a head field left unwritten would show.
    q.push(bytes(ARENA_BYTES - 1024, 0xff));
    q.flush();
    const opts = [NONE, { hdgst: true, ddgst: true, pda: 3 }];
    const pdus: Pdu[] = [
      resp(7),
      c2h(9, bytes(4096, 5)),
      { ...c2h(10, bytes(COPY_LIMIT, 6)), success: true },
      { type: PduType.R2T, cccid: 3, ttag: 4, r2to: 8192, r2tl: 4096 },
    ];
    const want: Uint8Array[] = [];
    for (const o of opts) {
      for (const p of pdus) {
        q.pushPdu(p, o);
        want.push(...encodePdu(p, o));
      }
    }
    q.flush();
    assert.deepEqual(Buffer.concat(s.copies.slice(1)), Buffer.concat(want));
  });

  it('tells when a piece held by reference has been written, after everything before it', () => {
    const s = new Recorder();
    const q = new SendQueue(s);
    const big = bytes(COPY_LIMIT, 9);
    q.push(bytes(24, 1));
    assert.equal(q.push(big), false, 'held by reference');
    q.push(bytes(24, 2));
    let released = 0;
    q.whenWritten(() => released++);
    assert.equal(released, 0);
    q.flush();
    assert.deepEqual(s.calls, [
      'cork',
      'write 24',
      `write ${COPY_LIMIT}`,
      'write 24 +cb',
      'uncork',
    ]);
    assert.equal(released, 0, 'not before the socket says so');
    s.callbacks.shift()!();
    assert.equal(released, 1);
    // With nothing queued, an empty write carries the callback behind what the socket holds.
    q.whenWritten(() => released++);
    q.flush();
    assert.deepEqual(s.calls.at(-1), 'write 0 +cb');
    s.callbacks.shift()!();
    assert.equal(released, 2);
  });
});
