// The NVMe/TCP benchmark's baseline (issue 20, DESIGN.md rule 12): the best honest request/response
// exchange over the same loopback, i.e. what a good hand-written protocol would do with the same
// bytes. Each request is exactly as long as what the host library sent for one command of the
// shape (CapsuleCmd, in-capsule data or R2T-solicited H2CData), each reply exactly as long as what
// the target sent back (C2HData + CapsuleResp, R2T + CapsuleResp); the benchmark measures those
// byte counts on the NVMe connection in the same run. Unlike NVMe/TCP it needs no R2T round trip,
// no command identifiers (replies come in order on one stream) and no parsing beyond the 8-byte
// length prefix: that is the point of a baseline.
//
// Message: u32le total length (prefix included), u32le reply length, then filler up to the total.
// Per message one socket.write() of a buffer prepared once (no allocation per request); writes
// are corked and leave in the same groups as the NVMe/TCP send queue's (pdu/batch.ts
// FLUSH_IN_GROUPS: 16 messages or 32 KiB, the rest at the end of the event-loop turn), so both
// sides batch alike. The server answers each complete request with one write of a prepared reply.

import type { Socket } from 'node:net';
import { FLUSH_IN_GROUPS } from '../src/nvme-tcp/pdu/batch.js';

const PREFIX = 8;

/** Corks a socket for a turn of the event loop and uncorks in FLUSH_IN_GROUPS groups. */
class Batcher {
  readonly #socket: Socket;
  #corked = false;
  #msgs = 0;
  #bytes = 0;
  readonly #endOfTurn = (): void => this.flush();

  constructor(socket: Socket) {
    this.#socket = socket;
  }

  /** Writes one message; `deferEnd` schedules the end-of-turn flush (the client side). */
  write(msg: Buffer, deferEnd: boolean): void {
    if (!this.#corked) {
      this.#corked = true;
      this.#socket.cork();
      if (deferEnd) setImmediate(this.#endOfTurn);
    }
    this.#socket.write(msg);
    this.#msgs++;
    this.#bytes += msg.length;
    if (this.#msgs >= FLUSH_IN_GROUPS.pdus || this.#bytes >= FLUSH_IN_GROUPS.bytes) {
      // Send this group now and keep collecting the rest of the turn.
      this.#socket.uncork();
      this.#socket.cork();
      this.#msgs = 0;
      this.#bytes = 0;
    }
  }

  flush(): void {
    if (!this.#corked) return;
    this.#corked = false;
    this.#msgs = 0;
    this.#bytes = 0;
    this.#socket.uncork();
  }
}

/** A prepared message of `total` bytes asking for a reply of `reply` bytes. */
export function leanMessage(total: number, reply: number): Buffer {
  if (total < PREFIX || reply < 1) throw new RangeError(`bad lean message ${total}/${reply}`);
  const m = Buffer.alloc(total, 0xa5);
  m.writeUInt32LE(total, 0);
  m.writeUInt32LE(reply, 4);
  return m;
}

/** Client side: one connection, requests in order, replies counted by length. */
export class LeanClient {
  readonly #socket: Socket;
  readonly #batch: Batcher;
  /** Resolvers and reply lengths of the requests in flight, oldest at #head. */
  #waiters: (() => void)[] = [];
  #lengths: number[] = [];
  #head = 0;
  /** Bytes of the oldest reply received so far. */
  #have = 0;

  constructor(socket: Socket) {
    this.#socket = socket;
    this.#batch = new Batcher(socket);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk.length));
  }

  #onData(n: number): void {
    this.#have += n;
    while (this.#head < this.#lengths.length && this.#have >= this.#lengths[this.#head]!) {
      this.#have -= this.#lengths[this.#head]!;
      this.#waiters[this.#head++]!();
    }
    if (this.#head === this.#lengths.length) {
      this.#head = 0;
      this.#waiters = [];
      this.#lengths = [];
    }
  }

  /** Sends a message prepared by leanMessage; resolves when its whole reply has arrived. */
  request(msg: Buffer): Promise<void> {
    const reply = msg.readUInt32LE(4);
    this.#batch.write(msg, true);
    return new Promise((resolve) => {
      this.#waiters.push(resolve);
      this.#lengths.push(reply);
    });
  }

  destroy(): void {
    this.#socket.destroy();
  }
}

/** Server side (a net.Server connection listener): one prepared reply per complete request. */
export function leanServe(socket: Socket): void {
  socket.setNoDelay(true);
  const batch = new Batcher(socket);
  const replies = new Map<number, Buffer>();
  /** A length prefix split across chunks. */
  const carry = Buffer.alloc(PREFIX);
  let carried = 0;
  /** Bytes of the current request still to come, and its reply length. */
  let rest = 0;
  let replyLen = 0;
  socket.on('data', (chunk: Buffer) => {
    let off = 0;
    while (off < chunk.length) {
      if (rest === 0) {
        // At a message start: read the prefix, possibly across chunks.
        let prefix: Buffer;
        if (carried === 0 && chunk.length - off >= PREFIX) {
          prefix = chunk;
        } else {
          const n = Math.min(PREFIX - carried, chunk.length - off);
          chunk.copy(carry, carried, off, off + n);
          carried += n;
          off += n;
          if (carried < PREFIX) break;
          prefix = carry;
        }
        const at = prefix === carry ? 0 : off;
        const total = prefix.readUInt32LE(at);
        replyLen = prefix.readUInt32LE(at + 4);
        if (total < PREFIX || replyLen < 1) {
          socket.destroy();
          return;
        }
        rest = prefix === carry ? total - PREFIX : total;
        carried = 0;
      }
      const n = Math.min(rest, chunk.length - off);
      rest -= n;
      off += n;
      if (rest === 0) {
        let r = replies.get(replyLen);
        if (r === undefined) replies.set(replyLen, (r = Buffer.alloc(replyLen, 7)));
        batch.write(r, false);
      }
    }
    batch.flush();
  });
  socket.on('error', () => undefined);
}
