// Incremental NVMe/TCP receive framer (reference nvme-tcp.md §1.1, §1.10; DESIGN.md rule 4).
// TCP delivers arbitrary slices of the PDU stream, so the framer walks explicit states —
// commonHeader (8 bytes) → header (HLEN + HDGST) → body (PLEN − header) — and validates each
// announced length before it buffers a byte of what that length covers. It has one fatal exit:
// onFatal with the FES/FEI to put in a TermReq, after which it accepts nothing more.
//
// Zero copy: when a header or body lies within one pushed chunk the emitted PDU aliases that
// chunk (callers must not reuse pushed buffers; Node socket chunks are never reused). Pieces split
// across chunks are gathered into one fresh buffer of exactly the validated size. A receiver that
// reads into one reused buffer (a socket's `onread`) sets `transientChunks`: the framer then copies
// what it keeps of a chunk past push() — a split header, a few bytes at most — and the PDUs it
// emits are valid only during onPdu.

import assert from 'node:assert/strict';
import { completePdu, parsePduHeader } from './pdu/codec.js';
import { EMPTY } from './pdu/empty.js';
import { checkCommonHeader, readCommonHeader } from './pdu/header.js';
import type { FrameLayout } from './pdu/header.js';
import {
  CH_LEN,
  DEFAULT_LIMITS,
  Fes,
  MAX_PDA,
  PduFatal,
  PduType,
  TERM_MAX_DATA,
  pduInfo,
} from './pdu/types.js';
import type { DataLimits, FesCode, ParsedPdu, Pdu, ReceiveContext } from './pdu/types.js';

/**
 * commonHeader/header/body: inside the PDU stream. terminated: a TermReq arrived or stop() was
 * called; later bytes are ignored. failed: onFatal was emitted; later bytes are ignored.
 */
export type FramerState = 'commonHeader' | 'header' | 'body' | 'terminated' | 'failed';

export interface FramerFatal {
  readonly fes: FesCode;
  readonly fei: number | undefined;
  readonly message: string;
  /**
   * Copy of the offending PDU's header as far as it was received (the 8-byte CH when the CH itself
   * was rejected, else HLEN bytes; ≤ 128): the data of the TermReq to send (§1.10).
   */
  readonly header: Uint8Array;
}

export interface FramerOptions {
  /** 'target' accepts ICReq, H2CTermReq, CapsuleCmd, H2CData; 'host' the C2H types. */
  readonly role: 'target' | 'host';
  /** This side's own data alignment (the CPDA a target announces, the HPDA a host sends). */
  readonly pda?: number;
  readonly limits?: Partial<DataLimits>;
  /** Pushed bytes are valid only during push() (a reused receive buffer); see the top. */
  readonly transientChunks?: boolean;
}

export interface FramerHandlers {
  onPdu(received: ParsedPdu): void;
  onFatal(error: FramerFatal): void;
  /**
   * Memory to gather a PDU body that spans chunks into (`length` bytes, contents irrelevant:
   * every byte is written before the PDU is emitted), given the PDU's parsed header. Lets a
   * target reuse the buffers of completed writes instead of a fresh one per 128 KiB H2CData,
   * and a host gather a C2HData straight into the caller's buffer; undefined or absent: a fresh
   * buffer.
   */
  gatherBuffer?(length: number, head: Pdu): Uint8Array | undefined;
}

export class PduFramer {
  readonly #handlers: FramerHandlers;
  readonly #role: 'target' | 'host';
  #ctx: ReceiveContext;
  #state: FramerState = 'commonHeader';
  /** ICReq (target) / ICResp (host) has been received. */
  #initialized = false;
  #busy = false;
  readonly #transient: boolean;

  // The piece being gathered across chunks, when it did not fit in one.
  #partial: Uint8Array | undefined;
  #filled = 0;

  // The PDU in progress.
  #ch: Uint8Array = EMPTY;
  #layout: FrameLayout | undefined;
  #header: Uint8Array = EMPTY;
  #head: Pdu | undefined;

  constructor(options: FramerOptions, handlers: FramerHandlers) {
    this.#handlers = handlers;
    this.#role = options.role;
    this.#transient = options.transientChunks === true;
    const pda = options.pda ?? 0;
    checkPda(pda);
    this.#ctx = {
      role: options.role,
      hdgst: false,
      ddgst: false,
      pda,
      limits: { ...DEFAULT_LIMITS, ...options.limits },
    };
  }

  get state(): FramerState {
    return this.#state;
  }

  /** True after the ICReq (target) or ICResp (host) has been received. */
  get initialized(): boolean {
    return this.#initialized;
  }

  /** True between PDUs with nothing buffered (a socket closing now cuts no PDU in half). */
  get idle(): boolean {
    return this.#state === 'commonHeader' && this.#partial === undefined;
  }

  get digests(): { readonly hdgst: boolean; readonly ddgst: boolean } {
    return { hdgst: this.#ctx.hdgst, ddgst: this.#ctx.ddgst };
  }

  /**
   * Digests in force for PDUs after the IC exchange. The framer adopts the DGST bits of the
   * received ICReq/ICResp by itself (targets mirror the request, §1.4); call this from the onPdu
   * handler of that PDU to override.
   */
  setDigests(hdgst: boolean, ddgst: boolean): void {
    this.#assertBetweenPdus('setDigests');
    this.#ctx = { ...this.#ctx, hdgst, ddgst };
  }

  /** Change this side's data alignment (e.g. a target echoing the host's HPDA as CPDA). */
  setDataAlignment(pda: number): void {
    this.#assertBetweenPdus('setDataAlignment');
    checkPda(pda);
    this.#ctx = { ...this.#ctx, pda };
  }

  /** Tighten or relax the per-PDU data caps (e.g. after Connect tells the queue type). */
  setLimits(limits: Partial<DataLimits>): void {
    this.#assertBetweenPdus('setLimits');
    this.#ctx = { ...this.#ctx, limits: { ...this.#ctx.limits, ...limits } };
  }

  /** Stop framing (the connection is being torn down); later bytes are ignored. */
  stop(): void {
    if (this.#state !== 'failed') this.#state = 'terminated';
    this.#reset();
  }

  /** Feed the next slice of the byte stream. Emits zero or more PDUs, or one fatal error. */
  push(data: Uint8Array): void {
    assert(!this.#busy, 'PduFramer.push called re-entrantly from a handler');
    this.#busy = true;
    // Socket chunks are Buffers, whose subarray goes through Buffer's species constructor; one
    // plain view per chunk makes every slice below a cheap Uint8Array, and the PDUs handed out
    // have one type whichever way the bytes arrived.
    const chunk =
      data.constructor === Uint8Array
        ? data
        : new Uint8Array(data.buffer, data.byteOffset, data.length);
    try {
      let pos = 0;
      while (pos < chunk.length) {
        switch (this.#state) {
          case 'terminated':
          case 'failed':
            return;
          case 'commonHeader': {
            if (this.#partial === undefined && chunk.length - pos >= CH_LEN) {
              pos = this.#inPlace(chunk, pos);
              break;
            }
            pos = this.#collect(chunk, pos, CH_LEN);
            const ch = this.#take();
            if (ch !== undefined) this.#onCommonHeader(ch);
            break;
          }
          case 'header': {
            const layout = this.#layoutNow();
            pos = this.#collect(chunk, pos, layout.headerLen - CH_LEN);
            const rest = this.#take();
            if (rest !== undefined) this.#onHeader(joinAdjacent(this.#ch, rest), layout);
            break;
          }
          case 'body': {
            const layout = this.#layoutNow();
            pos = this.#collect(chunk, pos, layout.plen - layout.headerLen);
            const body = this.#take();
            if (body !== undefined) this.#finish(body, layout);
            break;
          }
        }
      }
      if (this.#transient) this.#keepAcrossChunks();
    } finally {
      this.#busy = false;
    }
  }

  /**
   * transientChunks: the chunk is about to be overwritten; copy the pieces of the PDU in
   * progress that may still be views of it (the CH; the header, whose parse is redone on the
   * copy so no field of the head keeps a view either). Gathered pieces are already owned.
   */
  #keepAcrossChunks(): void {
    if (this.#state === 'header') {
      this.#ch = this.#ch.slice();
    } else if (this.#state === 'body') {
      this.#header = this.#header.slice();
      const head = parsePduHeader(this.#header, this.#layoutNow());
      // The same bytes parsed before, so they parse again.
      assert(!(head instanceof PduFatal), 'a header that parsed once fails on its copy');
      this.#head = head;
    }
  }

  /**
   * The common case, a chunk holding at least the next common header: the same three phases,
   * each on a view of the chunk, without gathering (a PDU the chunk does not hold entirely goes
   * on through the states as usual). Returns the new position.
   */
  #inPlace(chunk: Uint8Array, start: number): number {
    const layout = this.#checkCh(chunk, start);
    if (layout === undefined) return start + CH_LEN;
    this.#layout = layout;
    this.#state = 'header';
    if (chunk.length - start < layout.plen) {
      // The rest comes in later chunks: keep the CH (a view only now it is needed).
      this.#ch = chunk.subarray(start, start + CH_LEN);
      return start + CH_LEN;
    }
    if (this.#onHeader(chunk.subarray(start, start + layout.headerLen), layout)) {
      this.#finish(chunk.subarray(start + layout.headerLen, start + layout.plen), layout);
    }
    return start + layout.plen;
  }

  #onCommonHeader(ch: Uint8Array): void {
    const layout = this.#checkCh(ch, 0);
    if (layout === undefined) return;
    this.#ch = ch;
    this.#layout = layout;
    this.#state = 'header';
  }

  /** The layout of the CH at `off` of `b`, or undefined once the framer failed on it. */
  #checkCh(b: Uint8Array, off: number): FrameLayout | undefined {
    const fields = readCommonHeader(b, off);
    const seq = this.#sequenceError(fields.type);
    const layout = seq ?? checkCommonHeader(fields, this.#ctx);
    if (!(layout instanceof PduFatal)) return layout;
    this.#fail(layout, b.subarray(off, off + CH_LEN));
    return undefined;
  }

  /** True when the header was accepted and the PDU has a body still to come. */
  #onHeader(header: Uint8Array, layout: FrameLayout): boolean {
    const head = parsePduHeader(header, layout);
    if (head instanceof PduFatal) {
      this.#fail(head, header.subarray(0, layout.info.hlen));
      return false;
    }
    this.#header = header;
    this.#head = head;
    this.#state = 'body';
    if (layout.plen > layout.headerLen) return true;
    this.#finish(EMPTY, layout);
    return false;
  }

  #finish(body: Uint8Array, layout: FrameLayout): void {
    const head = this.#head;
    assert(head !== undefined, 'PDU body without a parsed header');
    const { pdu, dataDigestError } = completePdu(head, layout, body);
    const header = layout.hasHdgst ? this.#header.subarray(0, layout.info.hlen) : this.#header;
    this.#reset();
    // State first, so a handler that calls setDigests/stop sees a framer between PDUs.
    switch (pdu.type) {
      case PduType.ICReq:
      case PduType.ICResp:
        this.#initialized = true;
        this.#ctx = { ...this.#ctx, hdgst: pdu.dgst.hdgst, ddgst: pdu.dgst.ddgst };
        this.#state = 'commonHeader';
        break;
      case PduType.H2CTermReq:
      case PduType.C2HTermReq:
        // §1.10: the peer stops processing and closes; nothing after a TermReq is meaningful.
        this.#state = 'terminated';
        break;
      default:
        this.#state = 'commonHeader';
    }
    this.#handlers.onPdu({ pdu, dataDigestError, header });
  }

  /**
   * §1.4/§1.10: nothing but ICReq (ICResp on a host) may come first, and only once. TermReqs
   * are allowed at any time (SPDK answers a bad ICReq with one). Types invalid for this role are
   * left to checkCommonHeader (FES 01h, invalid PDU type).
   */
  #sequenceError(type: number): PduFatal | undefined {
    const info = pduInfo(type);
    const accepted = this.#role === 'target' ? 'h2c' : 'c2h';
    if (info === undefined || info.dir !== accepted || info.data === 'term') return undefined;
    const ic = this.#role === 'target' ? PduType.ICReq : PduType.ICResp;
    const icName = this.#role === 'target' ? 'ICReq' : 'ICResp';
    if (!this.#initialized && type !== ic) {
      return new PduFatal(Fes.SequenceError, undefined, `${info.name} before ${icName}`);
    }
    if (this.#initialized && type === ic) {
      return new PduFatal(Fes.SequenceError, undefined, `second ${icName}`);
    }
    return undefined;
  }

  #fail(error: PduFatal, header: Uint8Array): void {
    this.#state = 'failed';
    this.#reset();
    this.#handlers.onFatal({
      fes: error.fes,
      fei: error.fei,
      message: error.message,
      header: header.slice(0, TERM_MAX_DATA),
    });
  }

  /** Gather `need` bytes starting at `pos`; returns the new position. See #take. */
  #collect(chunk: Uint8Array, pos: number, need: number): number {
    if (this.#partial === undefined) {
      if (chunk.length - pos >= need) {
        this.#partial = chunk.subarray(pos, pos + need);
        this.#filled = need;
        return pos + need;
      }
      // Not zeroed: #take hands the piece out only once every byte of it has been written.
      const head = this.#head;
      const supplied =
        this.#state === 'body' && head !== undefined
          ? this.#handlers.gatherBuffer?.(need, head)
          : undefined;
      if (supplied !== undefined) {
        assert(supplied.length === need, 'gatherBuffer returned the wrong length');
        this.#partial = supplied;
      } else {
        const b = Buffer.allocUnsafeSlow(need);
        this.#partial = new Uint8Array(b.buffer, b.byteOffset, need);
      }
      this.#filled = 0;
    }
    const n = Math.min(need - this.#filled, chunk.length - pos);
    this.#partial.set(chunk.subarray(pos, pos + n), this.#filled);
    this.#filled += n;
    return pos + n;
  }

  /** The gathered piece once complete (and forget it), else undefined. */
  #take(): Uint8Array | undefined {
    const p = this.#partial;
    if (p === undefined || this.#filled < p.length) return undefined;
    this.#partial = undefined;
    this.#filled = 0;
    return p;
  }

  #layoutNow(): FrameLayout {
    assert(this.#layout !== undefined, 'framer state without a layout');
    return this.#layout;
  }

  #reset(): void {
    this.#partial = undefined;
    this.#filled = 0;
    this.#ch = EMPTY;
    this.#layout = undefined;
    this.#header = EMPTY;
    this.#head = undefined;
  }

  #assertBetweenPdus(what: string): void {
    assert(
      this.#state !== 'header' && this.#state !== 'body',
      `${what} while a PDU is half received`,
    );
  }
}

function checkPda(pda: number): void {
  assert(Number.isInteger(pda) && pda >= 0 && pda <= MAX_PDA, `PDA ${pda} out of range`);
}

/** `a` then `b` as one array: a view when they are adjacent in memory, else a copy. */
function joinAdjacent(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.buffer === b.buffer && a.byteOffset + a.length === b.byteOffset) {
    return new Uint8Array(a.buffer, a.byteOffset, a.length + b.length);
  }
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
