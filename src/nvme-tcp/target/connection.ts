// One NVMe/TCP connection on the target side (reference nvme-tcp.md §1.4–§1.10): a socket, a
// PduFramer, the ICReq/ICResp exchange, and per-command data movement — in-capsule data, R2T +
// H2CData for writes beyond it, C2HData (optionally with SUCCESS) for reads, then CapsuleResp.
// What a command means (Connect, Property Get, Identify, Read ...) is the CommandSink's business.
//
// Every fatal condition goes through #fail: C2HTermReq with FES/FEI and the offending header,
// then the socket is closed. A connection only ever touches its own socket and state, so a hostile
// peer ends its own connection and nothing else.

import type { Socket } from 'node:net';
import { PduFramer } from '../framer.js';
import { CidTable } from '../cid-table.js';
import type { FramerFatal } from '../framer.js';
import { FLUSH_IN_GROUPS, SendQueue } from '../pdu/batch.js';
import { encodePdu } from '../pdu/codec.js';
import { DataOff } from '../pdu/data.js';
import { Fes, PduType } from '../pdu/types.js';
import type { FesCode, H2CDataPdu, ParsedPdu, Pdu } from '../pdu/types.js';
import { readU16le, writeU16le, writeU32le } from '../../util/bytes.js';
import { parseSqe } from '../../nvme/spec/command.js';
import type { NvmeCmd } from '../../nvme/spec/command.js';
import { Status } from '../../nvme/spec/status.js';
import type { Completion, HostData } from '../../nvme/spec/transfer.js';
import { NO_DATA } from '../../nvme/spec/transfer.js';
import { planData } from './sgl.js';
import { ioBuffer } from '../../block/drive.js';
import { IoOpc } from '../../nvme/spec/opcodes.js';
import type { MaybePromise } from '../../util/maybe.js';
import type { LimitName } from './limits.js';

/** Transport parameters of the target (defaults in DEFAULT_TARGET_OPTIONS). */
export interface TargetTransportOptions {
  /** MAXH2CDATA announced in ICResp: max data bytes per H2CData (§1.4; dword multiple ≥ 4096). */
  readonly maxH2CData: number;
  /** In-capsule data accepted on I/O queues (IOCCSZ = (64 + this) / 16). Admin is always 8192. */
  readonly inCapsuleSize: number;
  /** Max data bytes per C2HData PDU; longer reads are split into several PDUs (§1.8). */
  readonly c2hChunk: number;
  /** Max bytes solicited by one R2T; longer writes take several R2Ts (§1.8). */
  readonly r2tChunk: number;
  /** Complete successful reads with C2HData SUCCESS when the host disabled SQ flow control. */
  readonly c2hSuccess: boolean;
  /** Close a connection that sends no ICReq within this many ms (Linux waits 10 s for ICResp). */
  readonly icTimeoutMs: number;
  /** Close a connection that sends no Connect within this many ms of ICResp (limits.ts). */
  readonly connectTimeoutMs: number;
  /** R2Ts outstanding at once; further writes wait for a burst to complete (limits.ts). */
  readonly maxOutstandingR2t: number;
}

export const DEFAULT_TARGET_OPTIONS: TargetTransportOptions = {
  maxH2CData: 131072,
  inCapsuleSize: 8192,
  c2hChunk: 131072,
  r2tChunk: 1 << 20,
  c2hSuccess: true,
  icTimeoutMs: 10_000,
  connectTimeoutMs: 10_000,
  maxOutstandingR2t: 256,
};

/** The TLS session a connection came through (TP 8011): the PSK identity the host presented. */
export interface TlsSession {
  readonly identity: string;
  readonly hostnqn: string;
  readonly subnqn: string;
}

/** The fixed in-capsule limit for the admin queue and Fabrics commands (§1.7). */
export const ADMIN_IN_CAPSULE = 8192;
/** Cap on the bytes of one command when the controller reports no MDTS. */
const NO_MDTS_CAP = 32 << 20;

/** What a connection knows about its queue once Connect succeeded on it. */
export interface QueueBinding {
  readonly qid: number;
  /** 0's based SQ size from Connect. */
  readonly sqsize: number;
  /** CATTR bit 2: SQ flow control disabled (SQHD reserved; SUCCESS allowed, §1.9). */
  readonly sqFlowDisabled: boolean;
  /** Max data bytes of one command (the controller's MDTS). */
  readonly maxTransfer: number;
}

/** Executes the commands of a connection (the fabrics layer). */
export interface CommandSink {
  /** The completion now when nothing had to wait, else later; never rejects. */
  execute(conn: TargetConnection, cmd: NvmeCmd, data: HostData): MaybePromise<Completion>;
  /** Called once when the connection is gone (socket closed or fatal error). */
  closed(conn: TargetConnection): void;
  /** A limit bit on this connection (logged and counted by the port). */
  bite?(conn: TargetConnection, limit: LimitName, detail: string): void;
}

const TRANSIENT_TRANSPORT_ERROR = 0x022;

let nextConnectionId = 1;
/** Read buffers kept for reuse per connection: at most this many bytes in all. */
const SPARE_BYTES = 16 << 20;

export class TargetConnection {
  readonly id = nextConnectionId++;
  readonly socket: Socket;
  readonly #sink: CommandSink;
  readonly #opts: TargetTransportOptions;
  readonly #framer: PduFramer;
  #binding: QueueBinding | undefined;
  #send = { hdgst: false, ddgst: false, pda: 0 };
  #icTimer: NodeJS.Timeout | undefined;
  /** Commands waiting for an R2T slot (maxOutstandingR2t), in arrival order. */
  readonly #r2tWaiting: Inflight[] = [];
  readonly #byCid = new CidTable<Inflight>();
  readonly #byTtag = new Map<number, Inflight>();
  #nextTtag = 1;
  #sqhd = 0;
  #corked = false;
  /** Inside #onData: what is queued leaves when the read has been framed. */
  #receiving = false;
  /** PDUs queued in this turn of the event loop, sent in groups (pdu/batch.ts FlushPolicy). */
  readonly #out: SendQueue;
  /** The CQE of the CapsuleResp being queued (see #respond). */
  readonly #cqe = new Uint8Array(16);
  /** Read buffers ready for reuse, by length (see #c2hBuffer). */
  readonly #spares = new Map<number, Uint8Array[]>();
  #spareBytes = 0;
  /** The body the framer gathered for the PDU it emits next (see FramerHandlers.gatherBuffer). */
  #gathered: Uint8Array | undefined;
  #closed = false;
  /** Why the connection ended (for logs and tests). */
  closeReason: string | undefined;
  /** The TLS session, when the connection came through TLS. */
  readonly tls: TlsSession | undefined;

  constructor(socket: Socket, sink: CommandSink, opts: TargetTransportOptions, tls?: TlsSession) {
    this.socket = socket;
    this.tls = tls;
    this.#out = new SendQueue(socket, FLUSH_IN_GROUPS);
    this.#sink = sink;
    this.#opts = opts;
    this.#framer = new PduFramer(
      {
        role: 'target',
        pda: 0,
        limits: { maxInCapsuleData: ADMIN_IN_CAPSULE, maxH2CData: opts.maxH2CData },
      },
      {
        onPdu: (p) => this.#onPdu(p),
        onFatal: (f) => this.#onFramerFatal(f),
        gatherBuffer: (n) => (this.#gathered = this.#c2hBuffer(n, false)),
      },
    );
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', () => this.close('socket error'));
    socket.on('close', () => this.close('socket closed'));
    this.#icTimer = setTimeout(() => {
      this.#sink.bite?.(this, 'ic-timeout', `no ICReq within ${opts.icTimeoutMs} ms`);
      this.close('no ICReq');
    }, opts.icTimeoutMs);
    this.#icTimer.unref();
  }

  /** The peer as `address:port` (log lines). */
  get peer(): string {
    const a = this.socket.remoteAddress ?? '?';
    return `${a.includes(':') ? `[${a}]` : a}:${this.socket.remotePort ?? 0}`;
  }

  /** Digests negotiated by ICReq/ICResp (§1.4): header (HDGST) and data (DDGST). */
  get digests(): { readonly header: boolean; readonly data: boolean } {
    return { header: this.#send.hdgst, data: this.#send.ddgst };
  }

  get binding(): QueueBinding | undefined {
    return this.#binding;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Outstanding commands (tests check cleanup). */
  get inflight(): number {
    return this.#byCid.size;
  }

  /** Called by the sink when Connect succeeds on this connection. */
  bind(binding: QueueBinding): void {
    this.#binding = binding;
    clearTimeout(this.#icTimer);
    if (binding.qid > 0) {
      this.#framer.setLimits({ maxInCapsuleData: Math.max(this.#opts.inCapsuleSize, 0) });
    }
  }

  /** Ends the connection without a TermReq (teardown, Disconnect, KATO expiry). */
  close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.closeReason = reason;
    clearTimeout(this.#icTimer);
    this.#framer.stop();
    this.#byCid.clear();
    this.#byTtag.clear();
    this.#r2tWaiting.length = 0;
    this.#flush();
    this.socket.end();
    this.socket.destroySoon();
    this.#sink.closed(this);
  }

  /** Closes once everything queued so far has been written (after a Disconnect response). */
  closeAfterFlush(reason: string): void {
    this.#flush();
    this.socket.write(new Uint8Array(0), () => this.close(reason));
  }

  // ---- receive path ----

  /**
   * One socket read: the PDUs it completes, then what they queued leaves at once — as a hand-
   * written server answers at the end of its read handler — rather than from a setImmediate at
   * the end of the turn (one callback and loop phase less per read; at QD1 that is every command).
   * Completions that arrive later (promises) still leave at the end of their turn (#write).
   */
  #onData(chunk: Buffer): void {
    this.#receiving = true;
    try {
      this.#framer.push(chunk);
    } finally {
      this.#receiving = false;
    }
    this.#flush();
  }

  #onPdu(p: ParsedPdu): void {
    const body = this.#gathered;
    this.#gathered = undefined;
    if (this.#closed) return;
    const pdu = p.pdu;
    switch (pdu.type) {
      case PduType.ICReq: {
        clearTimeout(this.#icTimer);
        // From ICResp to Connect (limits.ts connect-timeout); bind() stops it.
        const ms = this.#opts.connectTimeoutMs;
        this.#icTimer = setTimeout(() => {
          this.#sink.bite?.(this, 'connect-timeout', `no Connect within ${ms} ms of ICResp`);
          this.close('no Connect');
        }, ms);
        this.#icTimer.unref();
        // Padding toward the host is implemented by encodePdu, so any HPDA is honoured (§1.6);
        // CPDA stays 0 because Linux refuses anything else (§1.4).
        this.#send = { hdgst: pdu.dgst.hdgst, ddgst: pdu.dgst.ddgst, pda: pdu.hpda };
        this.#write({
          type: PduType.ICResp,
          pfv: 0,
          cpda: 0,
          dgst: pdu.dgst,
          maxh2cdata: this.#opts.maxH2CData,
        });
        return;
      }
      case PduType.H2CTermReq:
        return this.close(`H2CTermReq FES ${pdu.fes}`);
      case PduType.CapsuleCmd:
        return this.#onCapsule(pdu.sqe, pdu.data, p.dataDigestError, body);
      case PduType.H2CData:
        return this.#onH2CData(pdu, p.dataDigestError, p.header, body);
      case PduType.ICResp:
      case PduType.C2HTermReq:
      case PduType.CapsuleResp:
      case PduType.C2HData:
      case PduType.R2T:
        // The framer accepts only H2C types on a target.
        return this.#fail(Fes.InvalidHeaderField, 0, p.header, 'C2H PDU on a target');
    }
  }

  /** `body`: the gathered buffer `inCapsule` lies in, when the framer gathered it (#gathered). */
  #onCapsule(
    sqe: Uint8Array,
    inCapsule: Uint8Array,
    digestError: boolean,
    body: Uint8Array | undefined,
  ): void {
    const cid = readU16le(sqe, 2);
    const b = this.#binding;
    if (b !== undefined && !b.sqFlowDisabled) this.#sqhd = (this.#sqhd + 1) % (b.sqsize + 1);
    // Twice the SQ size like nvmet's allocation: room for the out-of-band AER (§2.1).
    const limit = b === undefined ? 2 : 2 * (b.sqsize + 1);
    if (this.#byCid.size >= limit) {
      return this.#fail(Fes.SequenceError, undefined, sqe, `more than ${limit} commands`);
    }
    if (this.#byCid.has(cid)) return this.#respond(cid, { status: 0x003 });
    const cmd = parseSqe(sqe);
    if (digestError) return this.#respond(cid, { status: TRANSIENT_TRANSPORT_ERROR });
    const maxTransfer = b?.maxTransfer ?? ADMIN_IN_CAPSULE;
    const plan = planData(sqe, inCapsule.length, maxTransfer > 0 ? maxTransfer : NO_MDTS_CAP);
    if (typeof plan === 'number') return this.#respond(cid, { status: plan });
    // One object per command, built with its final shape (no spreads: V8 clones those slowly).
    switch (plan.kind) {
      case 'none': {
        const f = new Inflight(cmd, cid, 0, false, undefined);
        this.#byCid.set(cid, f);
        return this.#execute(f, NO_DATA);
      }
      case 'inCapsule': {
        const f = new Inflight(cmd, cid, inCapsule.length, false, inCapsule);
        f.pooled = body;
        this.#byCid.set(cid, f);
        return this.#execute(f, f);
      }
      case 'c2h': {
        // A Read fills its whole buffer when it succeeds (the controller checks the SGL length
        // equals the transfer over fabrics); any other command may leave bytes unwritten, which
        // must read as zeros, not as an earlier command's data.
        const read = b !== undefined && b.qid > 0 && cmd.opcode === IoOpc.READ;
        const buf = this.#c2hBuffer(plan.length, !read);
        const f = new Inflight(cmd, cid, plan.length, true, buf);
        this.#byCid.set(cid, f);
        return this.#execute(f, f);
      }
      case 'r2t': {
        // The buffer is made on the first H2CData (see #onH2CData).
        const f = new Inflight(cmd, cid, plan.length, false, undefined);
        this.#byCid.set(cid, f);
        if (this.#byTtag.size >= this.#opts.maxOutstandingR2t) {
          this.#r2tWaiting.push(f);
          const n = this.#opts.maxOutstandingR2t;
          this.#sink.bite?.(this, 'max-r2t', `${n} R2Ts outstanding; a write waits`);
          return;
        }
        return this.#solicit(f);
      }
    }
  }

  /** One R2T for the next burst (MAXR2T 0: one outstanding per command, §1.8). */
  #solicit(f: Inflight): void {
    let ttag = this.#nextTtag;
    while (this.#byTtag.has(ttag)) ttag = (ttag % 0xfffe) + 1;
    this.#nextTtag = (ttag % 0xfffe) + 1;
    f.ttag = ttag;
    f.burstEnd = Math.min(f.length, f.received + this.#opts.r2tChunk);
    this.#byTtag.set(ttag, f);
    this.#write({
      type: PduType.R2T,
      cccid: f.cid,
      ttag,
      r2to: f.received,
      r2tl: f.burstEnd - f.received,
    });
  }

  #onH2CData(
    pdu: H2CDataPdu,
    digestError: boolean,
    header: Uint8Array,
    body: Uint8Array | undefined,
  ): void {
    const f = this.#byTtag.get(pdu.ttag);
    if (f === undefined) {
      return this.#fail(Fes.InvalidHeaderField, DataOff.ttag, header, `unknown TTAG ${pdu.ttag}`);
    }
    if (pdu.cccid !== f.cid) {
      return this.#fail(Fes.InvalidHeaderField, DataOff.cccid, header, 'CCCID/TTAG mismatch');
    }
    if (pdu.datao !== f.received || pdu.datao + pdu.data.length > f.burstEnd) {
      return this.#fail(Fes.DataOutOfRange, undefined, header, 'H2CData outside the R2T');
    }
    if (f.buf === undefined && pdu.data.length === f.length) {
      // One H2CData carries the whole write: use its payload in place (zero copy; it aliases a
      // socket chunk, never reused, or a gathered body, reused only after completion).
      f.buf = pdu.data;
      f.pooled = body;
    } else {
      f.buf ??= ioBuffer(f.length);
      f.buf.set(pdu.data, f.received);
      if (body !== undefined) this.#recycle(body);
    }
    f.received += pdu.data.length;
    if (digestError) f.digestError = true;
    if (f.received < f.burstEnd) {
      if (pdu.lastPdu) return this.#fail(Fes.InvalidHeaderField, 1, header, 'early LAST_PDU');
      return;
    }
    this.#byTtag.delete(f.ttag);
    if (f.received < f.length) return this.#solicit(f);
    this.#nextWaitingWrite();
    // §1.5: a bad data digest fails the command (SPDK's 22h), the connection stays up.
    if (f.digestError) return this.#respond(f.cid, { status: TRANSIENT_TRANSPORT_ERROR });
    this.#execute(f, f.buf === undefined ? NO_DATA : f);
  }

  /** An R2T slot is free: solicit the oldest waiting write. */
  #nextWaitingWrite(): void {
    const next = this.#r2tWaiting.shift();
    if (next !== undefined && this.#byCid.get(next.cid) === next) this.#solicit(next);
  }

  #execute(f: Inflight, data: HostData): void {
    const done = this.#sink.execute(this, f.cmd, data);
    if (!(done instanceof Promise)) return this.#complete(f, done);
    done.then(
      (c) => this.#complete(f, c),
      () => this.#complete(f, { status: Status.INTERNAL_DEVICE_ERROR }),
    );
  }

  // ---- send path ----

  #complete(f: Inflight, c: Completion): void {
    if (this.#closed || this.#byCid.get(f.cid) !== f) return;
    // The command is over: its write data may serve as another PDU's body (see Inflight.pooled).
    if (f.pooled !== undefined) this.#recycle(f.pooled);
    if (c.status === 0 && f.c2h && f.buf !== undefined) {
      // A read: all data before the CQE (§1.8), split per c2hChunk.
      const success =
        this.#opts.c2hSuccess &&
        this.#binding?.sqFlowDisabled === true &&
        (c.dw0 ?? 0) === 0 &&
        (c.dw1 ?? 0) === 0;
      const chunk = this.#opts.c2hChunk;
      let copied = true;
      for (let off = 0; off < f.length; off += chunk) {
        const end = Math.min(f.length, off + chunk);
        const last = end === f.length;
        copied =
          this.#write({
            type: PduType.C2HData,
            cccid: f.cid,
            datao: off,
            lastPdu: last,
            success: last && success,
            data: off === 0 && end === f.length ? f.buf : f.buf.subarray(off, end),
          }) && copied;
      }
      // Once the data is copied or written, the buffer can serve another read (see #c2hBuffer).
      const buf = f.buf;
      if (copied) this.#recycle(buf);
      else this.#out.whenWritten(() => this.#recycle(buf));
      if (success) {
        this.#byCid.delete(f.cid);
        return;
      }
    }
    this.#respond(f.cid, c);
  }

  #respond(cid: number, c: Completion): void {
    this.#byCid.delete(cid);
    // Reused: the send queue copies it into the PDU's head at once.
    const cqe = this.#cqe;
    writeU32le(cqe, 0, (c.dw0 ?? 0) >>> 0);
    writeU32le(cqe, 4, (c.dw1 ?? 0) >>> 0);
    writeU16le(cqe, 8, this.#sqhd);
    writeU16le(cqe, 10, this.#binding?.qid ?? 0);
    writeU16le(cqe, 12, cid);
    writeU16le(cqe, 14, (c.status & 0x7fff) << 1);
    this.#write({ type: PduType.CapsuleResp, cqe });
  }

  /**
   * Queue one PDU; it leaves with its group or at the end of this turn of the event loop.
   * Returns true when every piece was copied into the send queue (the caller may reuse the
   * data's memory).
   */
  #write(pdu: Pdu): boolean {
    if (this.#closed) return false;
    const copied = this.#out.pushPdu(pdu, this.#send);
    if (this.#out.due) {
      this.#out.flush();
    } else if (!this.#corked && !this.#receiving) {
      this.#corked = true;
      setImmediate(() => this.#flush());
    }
    return copied;
  }

  /**
   * A buffer for controller-to-host data, zeroed unless `zero` is false (the command writes it
   * whole). Buffers whose data has been copied into the send queue or written to the socket are
   * reused: a fresh buffer per read is external memory that V8 must account and collect, and at
   * tens of thousands of 4 KiB reads (or 128 KiB reads at 700 MB/s) per second that churn forces
   * back-to-back full GCs.
   */
  #c2hBuffer(length: number, zero: boolean): Uint8Array {
    const spare = this.#spares.get(length)?.pop();
    if (spare === undefined) return ioBuffer(length, zero);
    this.#spareBytes -= length;
    if (zero) spare.fill(0);
    return spare;
  }

  #recycle(buf: Uint8Array): void {
    if (this.#closed || this.#spareBytes + buf.length > SPARE_BYTES) return;
    let list = this.#spares.get(buf.length);
    if (list === undefined) this.#spares.set(buf.length, (list = []));
    list.push(buf);
    this.#spareBytes += buf.length;
  }

  #flush(): void {
    this.#corked = false;
    this.#out.flush();
  }

  // ---- fatal errors ----

  #onFramerFatal(f: FramerFatal): void {
    if (f.fes === Fes.DataLimitExceeded && f.header[0] === PduType.CapsuleCmd) {
      this.#sink.bite?.(this, 'in-capsule-size', f.message);
    }
    this.#fail(f.fes, f.fei, f.header, f.message);
  }

  /** The one fatal exit: C2HTermReq (never digested, §1.10), then close. */
  #fail(fes: FesCode, fei: number | undefined, header: Uint8Array, message: string): void {
    if (this.#closed) return;
    this.#flush();
    const data = header.slice(0, 128);
    for (const piece of encodePdu(
      { type: PduType.C2HTermReq, fes, fei: fei ?? 0, data },
      { hdgst: false, ddgst: false },
    )) {
      this.socket.write(piece);
    }
    this.close(`fatal: ${message}`);
  }
}

/**
 * One command in flight on the connection, and the command's data as the controller sees it
 * (HostData over `buf`): one object per command rather than two. `buf` is the read buffer sent
 * as C2HData at completion (`c2h`), or the write data already in memory (in-capsule, or
 * gathered from H2CData); a command without data is given NO_DATA instead.
 */
class Inflight implements HostData {
  readonly cmd: NvmeCmd;
  readonly cid: number;
  /** Bytes the command's SGL describes (HostData.length when it has data). */
  readonly length: number;
  /** Controller→host data: sent as C2HData before the CQE. */
  readonly c2h: boolean;
  buf: Uint8Array | undefined;
  /**
   * The gathered PDU body the write data lives in (in-capsule or one whole H2CData), returned
   * to the spares once the command has completed: HostData.fromHost's bytes are valid only
   * until then (nvme/spec/transfer.ts), so nothing holds them longer.
   */
  pooled: Uint8Array | undefined = undefined;
  /** R2T flow: bytes received so far, end of the current burst, tag. */
  received = 0;
  burstEnd = 0;
  ttag = 0;
  digestError = false;

  constructor(
    cmd: NvmeCmd,
    cid: number,
    length: number,
    c2h: boolean,
    buf: Uint8Array | undefined,
  ) {
    this.cmd = cmd;
    this.cid = cid;
    this.length = length;
    this.c2h = c2h;
    this.buf = buf;
  }

  /** Host→controller data already in memory. */
  fromHost(offset: number, len: number): Uint8Array | number {
    const buf = this.buf;
    if (!this.c2h && buf !== undefined && offset >= 0 && len >= 0 && offset + len <= buf.length) {
      return offset === 0 && len === buf.length ? buf : buf.subarray(offset, offset + len);
    }
    return Status.DATA_TRANSFER_ERROR;
  }

  /** Controller→host data gathered into `buf`, sent as C2HData at completion. */
  toHost(offset: number, data: Uint8Array): number {
    const buf = this.buf;
    if (!this.c2h || buf === undefined || offset < 0 || offset + data.length > buf.length) {
      return Status.DATA_TRANSFER_ERROR;
    }
    buf.set(data, offset);
    return 0;
  }

  window(offset: number, len: number): Uint8Array | undefined {
    const buf = this.buf;
    if (!this.c2h || buf === undefined || offset < 0 || len < 0 || offset + len > buf.length) {
      return undefined;
    }
    return offset === 0 && len === buf.length ? buf : buf.subarray(offset, offset + len);
  }
}
