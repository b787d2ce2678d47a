// One host queue = one TCP connection (reference nvme-tcp.md §1.4, §1.7–§1.9): ICReq/ICResp,
// then commands as CapsuleCmds with in-capsule data or R2T-solicited H2CData, reads gathered
// from C2HData (SUCCESS honoured), completions matched by CID. Any protocol violation by the
// target fails every outstanding command of this queue with a typed error and closes it.

import { connect as netConnect } from 'node:net';
import type { Socket } from 'node:net';
import { PduFramer } from '../framer.js';
import { CidTable } from '../cid-table.js';
import { FLUSH_IN_GROUPS, SendQueue } from '../pdu/batch.js';
import { encodePdu } from '../pdu/codec.js';
import { PduType } from '../pdu/types.js';
import type { C2HDataPdu, ParsedPdu, Pdu, R2TPdu } from '../pdu/types.js';
import { readU16le, readU32le, writeU16le, writeU32le, writeU8 } from '../../util/bytes.js';
import { HostErrorCode, NvmeTcpError } from './errors.js';

/** A command to submit. CID, PSDT and SGL1 are filled in by the queue. */
export interface CommandInit {
  readonly opcode: number;
  readonly nsid?: number;
  readonly cdw2?: number;
  readonly cdw3?: number;
  readonly cdw10?: number;
  readonly cdw11?: number;
  readonly cdw12?: number;
  readonly cdw13?: number;
  readonly cdw14?: number;
  readonly cdw15?: number;
  /** Fabrics commands: FCTYPE (SQE byte 4; NSID is reserved for them). */
  readonly fctype?: number;
  /** Fixed CID (tests); by default the queue picks a free one. */
  readonly cid?: number;
}

/** Per-command options of HostQueue.submit: data to send, bytes to read, in-capsule data. */
export interface CommandOptions {
  /** Host→controller data. */
  readonly write?: Uint8Array;
  /** Controller→host data length. */
  readonly readLength?: number;
  /** Force where write data goes; default: in-capsule when it fits the queue's limit. */
  readonly inCapsule?: boolean;
  /**
   * Where controller→host data goes: `readLength` bytes from the start of this buffer, which
   * the result's data is then a view of (a caller that reuses its buffers saves an allocation
   * per read; a 128 KiB C2HData is gathered straight into it). Default: a buffer per command.
   */
  readonly into?: Uint8Array;
}

/** A completion as the host sees it: status, DW0/DW1 and the data read. */
export interface CommandResult {
  /** CQE status field (0 = success). */
  readonly status: number;
  readonly dw0: number;
  readonly dw1: number;
  readonly cid: number;
  /** Controller→host data (empty for commands without). */
  readonly data: Uint8Array;
  /** True when the command completed through C2HData SUCCESS (no CapsuleResp). */
  readonly viaSuccessFlag: boolean;
}

/** How HostQueue.open connects: address, port, digests, in-capsule limit. */
export interface QueueOptions {
  readonly host: string;
  readonly port: number;
  readonly hdgst?: boolean;
  readonly ddgst?: boolean;
  /** In-capsule data limit for this queue (admin/Fabrics: 8192, §1.7). */
  readonly inCapsuleLimit?: number;
  /** ICResp wait in ms (Linux: 10 s). */
  readonly icTimeoutMs?: number;
  /** TLS 1.3 with this PSK identity and TLS PSK before ICReq (TP 8011; host/auth.ts). */
  readonly tls?: { readonly identity: string; readonly key: Uint8Array };
}

interface Pending {
  readonly cid: number;
  readonly resolve: (r: CommandResult) => void;
  readonly reject: (e: Error) => void;
  readonly write: Uint8Array | undefined;
  /** Controller→host length (0: no read data). */
  readonly readLength: number;
  /** CommandOptions.into, cut to readLength. */
  readonly into: Uint8Array | undefined;
  /**
   * The read data: `into`; else the C2HData payload itself when one gathered PDU carries it all
   * (zero copy: the framer gathered it into a buffer of its own), else a buffer per command.
   */
  readBuf: Uint8Array | undefined;
  received: number;
  /** Bytes of write data already sent in R2T bursts. */
  sent: number;
}

/**
 * Receive buffer of a plain-TCP queue (the socket's `onread`): reused for every read, so no
 * buffer per socket read for V8 to collect (Node's default allocates 64 KiB per read), and a
 * 128 KiB C2HData arrives in one read rather than two or three.
 */
const RECV_BYTES = 256 * 1024;
const SGL_TRANSPORT = 0x5a;
const SGL_OFFSET = 0x01;
const EMPTY = new Uint8Array(0);

/** One NVMe/TCP queue (one TCP connection): ICReq/ICResp, command capsules, R2T/H2CData, C2HData. */
export class HostQueue {
  /** The TCP connection. */
  readonly socket: Socket;
  readonly #framer: PduFramer;
  readonly #pending = new CidTable<Pending>();
  #send = { hdgst: false, ddgst: false, pda: 0 };
  #maxH2CData = 4096;
  #nextCid = 0;
  #corked = false;
  /** PDUs queued in this turn of the event loop, sent in groups (pdu/batch.ts FlushPolicy). */
  readonly #out: SendQueue;
  #error: NvmeTcpError | undefined;
  /** The SQE being queued (see submit). */
  readonly #sqe = new Uint8Array(64);
  /** The body the framer gathered for the PDU it emits next (see #gatherBuffer). */
  #gathered: Uint8Array | undefined;
  /** Largest write sent in-capsule (bytes); larger writes wait for R2T. */
  inCapsuleLimit: number;
  /** Queue id once Connect succeeded (informational). */
  qid = -1;

  private constructor(socket: Socket, inCapsuleLimit: number, transientChunks: boolean) {
    this.socket = socket;
    this.#out = new SendQueue(socket, FLUSH_IN_GROUPS);
    this.inCapsuleLimit = inCapsuleLimit;
    this.#framer = new PduFramer(
      { role: 'host', pda: 0, transientChunks },
      {
        onPdu: (p) => this.#onPdu(p),
        gatherBuffer: (n, head) => (this.#gathered = this.#gatherBuffer(n, head)),
        onFatal: (f) =>
          this.#fail(
            new NvmeTcpError(HostErrorCode.PROTOCOL, `target protocol error: ${f.message}`),
          ),
      },
    );
  }

  /** Opens the TCP connection and performs ICReq/ICResp. */
  static async open(opts: QueueOptions): Promise<HostQueue> {
    // A plain socket reads into one buffer of the queue's (onread); TLS delivers 'data' chunks.
    let onChunk: ((chunk: Uint8Array) => void) | undefined;
    const socket =
      opts.tls === undefined
        ? await plainSocket(opts, (chunk) => onChunk?.(chunk))
        : await tlsSocket(opts, opts.tls);
    const q = new HostQueue(socket, opts.inCapsuleLimit ?? 8192, opts.tls === undefined);
    if (opts.tls === undefined) onChunk = (chunk) => q.#framer.push(chunk);
    else socket.on('data', (chunk: Buffer) => q.#framer.push(chunk));
    socket.on('error', (e) =>
      q.#fail(new NvmeTcpError(HostErrorCode.CLOSED, `connection error: ${e.message}`)),
    );
    socket.on('close', () => q.#fail(new NvmeTcpError(HostErrorCode.CLOSED, 'connection closed')));
    await q.#initialize(opts);
    return q;
  }

  #icWaiter: { resolve: () => void; reject: (e: Error) => void } | undefined;

  async #initialize(opts: QueueOptions): Promise<void> {
    const dgst = { hdgst: opts.hdgst ?? false, ddgst: opts.ddgst ?? false };
    const done = new Promise<void>((resolve, reject) => {
      this.#icWaiter = { resolve, reject };
    });
    // ICReq: PFV 0, HPDA 0, MAXR2T 0 (one R2T per command), digests as requested (§1.4).
    this.#write({ type: PduType.ICReq, pfv: 0, hpda: 0, dgst, maxr2t: 0 });
    const timer = setTimeout(
      () => this.#fail(new NvmeTcpError(HostErrorCode.TIMEOUT, 'no ICResp from the target')),
      opts.icTimeoutMs ?? 10_000,
    );
    try {
      await done;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Whether the connection is closed (commands then fail with NVME_TCP_CLOSED). */
  get closed(): boolean {
    return this.#error !== undefined;
  }

  /** Commands submitted and not yet completed. */
  get outstanding(): number {
    return this.#pending.size;
  }

  /** Submits one command; resolves with its completion (any status), rejects on transport loss. */
  submit(init: CommandInit, opts: CommandOptions = {}): Promise<CommandResult> {
    if (this.#error !== undefined) return Promise.reject(this.#error);
    const cid = init.cid ?? this.#allocCid();
    if (this.#pending.has(cid)) {
      return Promise.reject(new NvmeTcpError(HostErrorCode.USAGE, `CID ${cid} is in use`));
    }
    const write = opts.write;
    const readLength = opts.readLength ?? 0;
    if (write !== undefined && readLength > 0) {
      return Promise.reject(
        new NvmeTcpError(HostErrorCode.USAGE, 'a command moves data in one direction only'),
      );
    }
    const into = opts.into;
    if (into !== undefined && (write !== undefined || into.length < readLength)) {
      return Promise.reject(
        new NvmeTcpError(HostErrorCode.USAGE, 'into must hold readLength bytes of a read'),
      );
    }
    const length = write?.length ?? readLength;
    const inCapsule =
      write !== undefined &&
      write.length > 0 &&
      (opts.inCapsule ?? write.length <= this.inCapsuleLimit);
    // The queue's scratch SQE: the send queue copies it into the PDU's head at once.
    const sqe = buildSqe(init, cid, inCapsule ? SGL_OFFSET : SGL_TRANSPORT, length, this.#sqe);
    return new Promise<CommandResult>((resolve, reject) => {
      this.#pending.set(cid, {
        cid,
        resolve,
        reject,
        write,
        readLength,
        into:
          into === undefined || readLength === 0
            ? undefined
            : into.length === readLength
              ? into
              : into.subarray(0, readLength),
        readBuf: undefined,
        received: 0,
        sent: 0,
      });
      this.#write({
        type: PduType.CapsuleCmd,
        sqe,
        data: inCapsule && write !== undefined ? write : EMPTY,
      });
    });
  }

  /** Closes the connection; outstanding commands fail with NVME_TCP_CLOSED. */
  close(): void {
    this.#fail(new NvmeTcpError(HostErrorCode.CLOSED, 'queue closed by the host'));
  }

  #allocCid(): number {
    for (let i = 0; i < 0x10000; i++) {
      const cid = this.#nextCid;
      this.#nextCid = (cid + 1) & 0xffff;
      if (!this.#pending.has(cid)) return cid;
    }
    throw new NvmeTcpError(HostErrorCode.USAGE, 'no free command identifier');
  }

  /**
   * Memory for a PDU body the framer gathers across reads: a C2HData's place in the caller's
   * buffer when the body is exactly its data (no data digest; this host asks for no padding),
   * else a fresh buffer (its own, so the payload can become the result without a copy).
   */
  #gatherBuffer(length: number, head: Pdu): Uint8Array {
    if (head.type === PduType.C2HData && !this.#send.ddgst) {
      const into = this.#pending.get(head.cccid)?.into;
      if (into !== undefined && head.datao + length <= into.length) {
        return into.subarray(head.datao, head.datao + length);
      }
    }
    const b = Buffer.allocUnsafeSlow(length);
    return new Uint8Array(b.buffer, b.byteOffset, length);
  }

  #onPdu(p: ParsedPdu): void {
    const gathered = this.#gathered;
    this.#gathered = undefined;
    const pdu = p.pdu;
    switch (pdu.type) {
      case PduType.ICResp: {
        // §1.4: the same checks as the Linux host.
        const want = this.#send;
        if (pdu.dgst.hdgst !== want.hdgst || pdu.dgst.ddgst !== want.ddgst) {
          return this.#protocol('ICResp digest selection differs from the ICReq');
        }
        this.#send = { hdgst: pdu.dgst.hdgst, ddgst: pdu.dgst.ddgst, pda: pdu.cpda };
        this.#maxH2CData = pdu.maxh2cdata;
        const w = this.#icWaiter;
        this.#icWaiter = undefined;
        w?.resolve();
        return;
      }
      case PduType.C2HTermReq:
        return this.#fail(
          new NvmeTcpError(
            HostErrorCode.PROTOCOL,
            `target terminated the connection: FES 0x${pdu.fes.toString(16)} FEI ${pdu.fei}`,
          ),
        );
      case PduType.CapsuleResp:
        return this.#onResp(pdu.cqe);
      case PduType.C2HData:
        return this.#onData(pdu, p.dataDigestError, gathered !== undefined);
      case PduType.R2T:
        return this.#onR2T(pdu);
      case PduType.ICReq:
      case PduType.H2CTermReq:
      case PduType.CapsuleCmd:
      case PduType.H2CData:
        return this.#protocol('H2C PDU received from the target');
    }
  }

  #onResp(cqe: Uint8Array): void {
    const cid = readU16le(cqe, 12);
    const p = this.#pending.get(cid);
    if (p === undefined) return this.#protocol(`CapsuleResp for unknown CID ${cid}`);
    this.#pending.delete(cid);
    const status = readU16le(cqe, 14) >>> 1;
    let data: Uint8Array = EMPTY;
    if (status === 0 && p.readLength > 0) {
      // Data the target did not send reads as zeros, as before any C2HData arrived.
      data = p.readBuf ?? p.into?.fill(0) ?? new Uint8Array(p.readLength);
    }
    p.resolve({
      status,
      dw0: readU32le(cqe, 0),
      dw1: readU32le(cqe, 4),
      cid,
      data,
      viaSuccessFlag: false,
    });
  }

  /** `gathered`: the payload lies in a buffer of this queue's (#gatherBuffer), not the chunk. */
  #onData(pdu: C2HDataPdu, digestError: boolean, gathered: boolean): void {
    const p = this.#pending.get(pdu.cccid);
    if (p === undefined || p.readLength === 0) {
      return this.#protocol(`C2HData for unknown CID ${pdu.cccid}`);
    }
    const length = p.readLength;
    if (pdu.datao !== p.received || pdu.datao + pdu.data.length > length) {
      return this.#protocol(`C2HData out of range (DATAO ${pdu.datao})`);
    }
    if (digestError) return this.#protocol('C2HData data digest error');
    const d = pdu.data;
    let buf = p.readBuf ?? p.into;
    if (buf === undefined && gathered && pdu.datao === 0 && d.length === length) {
      // The one PDU of the read, gathered into a buffer of its own: that is the result. (Data
      // in a socket chunk is only valid now: the queue reads into one reused buffer.)
      buf = d;
    } else {
      buf ??= new Uint8Array(length);
      // Gathered into `into` already (#gatherBuffer) unless the framer had to do otherwise.
      const inPlace =
        gathered && d.buffer === buf.buffer && d.byteOffset === buf.byteOffset + pdu.datao;
      if (!inPlace) buf.set(d, pdu.datao);
    }
    p.readBuf = buf;
    p.received += pdu.data.length;
    if (pdu.success) {
      if (p.received !== length) return this.#protocol('SUCCESS before all data');
      this.#pending.delete(p.cid);
      p.resolve({ status: 0, dw0: 0, dw1: 0, cid: p.cid, data: buf, viaSuccessFlag: true });
    }
  }

  /** §1.8: answer one R2T with H2CData PDUs of at most MAXH2CDATA bytes each. */
  #onR2T(r: R2TPdu): void {
    const p = this.#pending.get(r.cccid);
    const w = p?.write;
    if (p === undefined || w === undefined) return this.#protocol(`R2T for unknown CID ${r.cccid}`);
    if (r.r2to !== p.sent || r.r2to + r.r2tl > w.length) {
      return this.#protocol(`R2T out of range (R2TO ${r.r2to}, R2TL ${r.r2tl})`);
    }
    const end = r.r2to + r.r2tl;
    for (let off = r.r2to; off < end; off += this.#maxH2CData) {
      const stop = Math.min(end, off + this.#maxH2CData);
      this.#write({
        type: PduType.H2CData,
        cccid: p.cid,
        ttag: r.ttag,
        datao: off,
        lastPdu: stop === end,
        data: w.subarray(off, stop),
      });
    }
    p.sent = end;
  }

  #protocol(message: string): void {
    this.#fail(new NvmeTcpError(HostErrorCode.PROTOCOL, message));
  }

  #fail(e: NvmeTcpError): void {
    if (this.#error !== undefined) return;
    this.#error = e;
    this.#framer.stop();
    const w = this.#icWaiter;
    this.#icWaiter = undefined;
    w?.reject(e);
    for (const p of this.#pending.values()) p.reject(e);
    this.#pending.clear();
    this.socket.destroy();
  }

  #write(pdu: Pdu): void {
    if (pdu.type === PduType.ICReq) {
      this.#send = { hdgst: pdu.dgst.hdgst, ddgst: pdu.dgst.ddgst, pda: 0 };
      for (const piece of encodePdu(pdu, { hdgst: false, ddgst: false })) this.socket.write(piece);
      return;
    }
    this.#out.pushPdu(pdu, this.#send);
    if (this.#out.due) {
      this.#out.flush();
    } else if (!this.#corked) {
      this.#corked = true;
      setImmediate(() => this.#flush());
    }
  }

  #flush(): void {
    this.#corked = false;
    this.#out.flush();
  }
}

function plainSocket(opts: QueueOptions, onChunk: (chunk: Uint8Array) => void): Promise<Socket> {
  const recv = new Uint8Array(RECV_BYTES);
  return new Promise<Socket>((resolve, reject) => {
    const s = netConnect({
      host: opts.host,
      port: opts.port,
      noDelay: true,
      onread: {
        buffer: recv,
        callback: (n: number): boolean => {
          onChunk(recv.subarray(0, n));
          return true;
        },
      },
    });
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', (e) =>
      reject(
        new NvmeTcpError(
          HostErrorCode.CONNECT,
          `cannot connect to ${opts.host}:${opts.port}: ${e.message}`,
          { cause: e },
        ),
      ),
    );
  });
}

/** TLS 1.3 with the PSK (TP 8011); the handshake failing is a connection error. */
async function tlsSocket(
  opts: QueueOptions,
  tls: { readonly identity: string; readonly key: Uint8Array },
): Promise<Socket> {
  // node:tls loads with the first TLS connection: every plain `nvmemu nvme` command would
  // pay its load (~30 ms of CPU) otherwise (docs/architecture.md "Module loading").
  const { connectTlsPsk } = await import('../tls/socket.js');
  try {
    const s = await connectTlsPsk({
      host: opts.host,
      port: opts.port,
      identity: tls.identity,
      key: tls.key,
      timeoutMs: opts.icTimeoutMs ?? 10_000,
    });
    s.setNoDelay(true);
    return s;
  } catch (e) {
    throw new NvmeTcpError(
      HostErrorCode.CONNECT,
      `TLS handshake with ${opts.host}:${opts.port} failed: ${tlsFailure(e as Error)}`,
      { cause: e },
    );
  }
}

/** OpenSSL's error as one readable line: its code and the TLS alert the peer sent. */
function tlsFailure(e: Error & { code?: string }): string {
  const alert = /SSL alert number (\d+)/.exec(e.message)?.[1];
  if (alert === undefined) return e.message.trim();
  // RFC 8446 §6.2: the server sends illegal_parameter (47) / decrypt_error (51) when the PSK
  // binder does not verify, handshake_failure (40) when it has no PSK for the identity.
  const why: Record<string, string> = {
    '40': 'the target has no PSK for this identity',
    '47': 'the target could not verify the PSK: the keys or their derivation differ',
    '51': 'the target could not verify the PSK: the keys or their derivation differ',
  };
  return `${e.code ?? 'TLS error'} (TLS alert ${alert}${why[alert] === undefined ? '' : `: ${why[alert]}`})`;
}

/**
 * The 64-byte SQE with PSDT 01b and one SGL descriptor (§1.7), written field by field into `b`
 * (zeroed first; default a fresh array).
 */
export function buildSqe(
  init: CommandInit,
  cid: number,
  sglId: number,
  length: number,
  b = new Uint8Array(64),
): Uint8Array {
  b.fill(0);
  writeU8(b, 0, init.opcode);
  writeU8(b, 1, 0x40);
  writeU16le(b, 2, cid);
  // Zeroed above: fields left at zero (most of them, per command) cost no write.
  if (init.fctype !== undefined) writeU8(b, 4, init.fctype);
  else if (init.nsid) writeU32le(b, 4, init.nsid >>> 0);
  if (init.cdw2) writeU32le(b, 8, init.cdw2 >>> 0);
  if (init.cdw3) writeU32le(b, 12, init.cdw3 >>> 0);
  // SGL1 address (bytes 24..31) stays 0: transport data block, or in-capsule at offset 0.
  writeU32le(b, 32, length);
  writeU8(b, 39, sglId);
  if (init.cdw10) writeU32le(b, 40, init.cdw10 >>> 0);
  if (init.cdw11) writeU32le(b, 44, init.cdw11 >>> 0);
  if (init.cdw12) writeU32le(b, 48, init.cdw12 >>> 0);
  if (init.cdw13) writeU32le(b, 52, init.cdw13 >>> 0);
  if (init.cdw14) writeU32le(b, 56, init.cdw14 >>> 0);
  if (init.cdw15) writeU32le(b, 60, init.cdw15 >>> 0);
  return b;
}
