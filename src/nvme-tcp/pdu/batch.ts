// Sending the PDUs queued in a turn of the event loop (target connection and host queue alike),
// at its end or in groups along the way (FlushPolicy).
// PDU heads are encoded straight into one send arena, and small payloads (4 KiB reads, CQEs) are
// copied after them — one syscall and one stream write instead of dozens, and no buffer per
// header — while large payloads go by reference through the socket's writev, so a 128 KiB read
// is never copied a second time just to be sent.
//
// The arena is reused from its start once the socket has handed everything to the kernel
// (writableLength 0 after the write: Node keeps no reference to a buffer whose write completed
// synchronously); while the socket still holds some, new pieces go after what it holds. A fresh
// buffer per turn made ~130 KiB of external memory per flush at QD32, and that churn is what drove
// V8 into back-to-back mark-compacts (measured: 30% of the target's time in-process).

import { encodePdu } from './codec.js';
import type { EncodeOptions } from './codec.js';
import type { Pdu } from './types.js';

/**
 * When a turn produces many PDUs they leave in groups rather than all at the turn's end: the
 * peer starts on the first group while this side still works on the rest, so host and target
 * overlap instead of taking turns (measured on 2 cores, QD32 4 KiB reads: 73 K → 90 K IOPS).
 * A group closes at `bytes` queued or `pdus` PDUs, whichever comes first.
 */
export interface FlushPolicy {
  readonly bytes: number;
  readonly pdus: number;
}

/** Everything at the end of the turn (one syscall per turn). */
export const FLUSH_PER_TURN: FlushPolicy = { bytes: Infinity, pdus: Infinity };

/**
 * What the target (completions) and the host library (commands) use: groups of 32 KiB or 16
 * PDUs. Measured on the QD32 benchmarks against 8, 16 and 32 PDUs per group and per-turn.
 */
export const FLUSH_IN_GROUPS: FlushPolicy = { bytes: 32 * 1024, pdus: 16 };

/** Pieces at least this long are written by reference, not copied. */
export const COPY_LIMIT = 16 * 1024;
/** Send arena size (a flush larger than this continues in a fresh arena). */
export const ARENA_BYTES = 256 * 1024;

/** The minimal socket surface a send queue needs (net.Socket satisfies it). */
export interface BatchSocket {
  readonly writableLength: number;
  readonly destroyed: boolean;
  cork(): void;
  uncork(): void;
  write(chunk: Uint8Array, written?: () => void): boolean;
}

/** A fresh arena: a plain view (a Buffer's subarray costs a species lookup per call). */
function newArena(): Uint8Array {
  const b = Buffer.allocUnsafeSlow(ARENA_BYTES);
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

export class SendQueue {
  readonly #socket: BatchSocket;
  #arena: Uint8Array = newArena();
  /** Bytes of the arena in use; [#segStart, #used) is the segment not yet in #units. */
  #used = 0;
  #segStart = 0;
  /** Write units of this turn, in order: arena segments and large pieces by reference. */
  #units: Uint8Array[] = [];
  /** whenWritten callbacks to run once the next flush's writes are done. */
  #waiters: (() => void)[] = [];

  readonly #policy: FlushPolicy;
  /** Bytes and PDUs queued since the last flush. */
  #bytes = 0;
  #pdus = 0;

  constructor(socket: BatchSocket, policy: FlushPolicy = FLUSH_PER_TURN) {
    this.#socket = socket;
    this.#policy = policy;
  }

  /**
   * Encodes one PDU into the queue: its head in the arena, its data and DDGST after it (see
   * push). True when the data was copied (the caller may reuse its memory at once); false when
   * it is held by reference until written (whenWritten).
   */
  pushPdu(pdu: Pdu, opts: EncodeOptions): boolean {
    const pieces = encodePdu(pdu, opts, this.#headAlloc);
    this.#bytes += pieces[0]!.length;
    let copied = true;
    for (let i = 1; i < pieces.length; i++) copied = this.push(pieces[i]!) && copied;
    this.#pdus++;
    return copied;
  }

  /** encodePdu's head memory: the next `length` bytes of the arena, zeroed (they were used). */
  readonly #headAlloc = (length: number): Uint8Array => {
    this.#room(length);
    const head = this.#arena.subarray(this.#used, this.#used + length);
    head.fill(0);
    this.#used += length;
    return head;
  };

  /** Moves to a fresh arena when `length` more bytes do not fit in this one. */
  #room(length: number): void {
    if (this.#used + length > this.#arena.length) {
      this.#cut();
      this.#arena = newArena();
      this.#used = 0;
      this.#segStart = 0;
    }
  }

  /** The group is complete (FlushPolicy): flush now rather than at the end of the turn. */
  get due(): boolean {
    return this.#bytes >= this.#policy.bytes || this.#pdus >= this.#policy.pdus;
  }

  /** True when something is queued. */
  get pending(): boolean {
    return this.#units.length > 0 || this.#used > this.#segStart;
  }

  /**
   * Queues `piece`. Returns true when it was copied (the caller may reuse its memory at once),
   * false when it is held by reference until written.
   */
  push(piece: Uint8Array): boolean {
    this.#bytes += piece.length;
    if (piece.length >= COPY_LIMIT) {
      this.#cut();
      this.#units.push(piece);
      return false;
    }
    this.#room(piece.length);
    this.#arena.set(piece, this.#used);
    this.#used += piece.length;
    return true;
  }

  /**
   * Runs `fn` once everything queued so far has been written (the socket holds no reference to
   * it any more): how a caller learns that a piece pushed by reference may be reused. Never runs
   * if the socket is destroyed first.
   */
  whenWritten(fn: () => void): void {
    this.#waiters.push(fn);
  }

  /** Writes everything queued (one writev when there are several units); drops it if destroyed. */
  flush(): void {
    this.#bytes = 0;
    this.#pdus = 0;
    this.#cut();
    const units = this.#units;
    const waiters = this.#waiters;
    if (units.length === 0 && waiters.length === 0) return;
    this.#units = [];
    this.#waiters = [];
    const socket = this.#socket;
    if (!socket.destroyed) {
      // Writes complete in order: the last one's callback covers everything before it.
      const last = units.length === 0 ? new Uint8Array(0) : units.pop()!;
      const done = waiters.length === 0 ? undefined : () => waiters.forEach((fn) => fn());
      if (units.length === 0) {
        socket.write(last, done);
      } else {
        socket.cork();
        for (const u of units) socket.write(u);
        socket.write(last, done);
        socket.uncork();
      }
    }
    // Otherwise the kernel did not take it all and the stream holds views of [0, #used): later
    // pieces go after them, and push() moves to a fresh arena when this one is full.
    if (socket.writableLength === 0 || socket.destroyed) {
      this.#used = 0;
      this.#segStart = 0;
    }
  }

  #cut(): void {
    if (this.#used > this.#segStart) {
      this.#units.push(this.#arena.subarray(this.#segStart, this.#used));
      this.#segStart = this.#used;
    }
  }
}
