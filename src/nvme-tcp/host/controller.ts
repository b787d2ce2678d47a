// NVMe/TCP host controller (reference nvme-tcp.md §3.1): the Linux host's connect sequence —
// admin queue, Connect, Property Get CAP, CC (config, then EN), CSTS.RDY, Identify Controller,
// Set Features Number of Queues, one TCP connection + Connect per I/O queue — then Keep Alive
// every KATO/2 and an orderly shutdown (CC.SHN, CSTS.SHST) on disconnect.
//
// Security (docs/security.md): with `tls` every queue's connection starts with a TLS 1.3 PSK
// handshake; when a queue's Connect answers AUTHREQ.ATR the queue authenticates with
// DH-HMAC-CHAP (host/auth.ts) before anything else runs on it, as Linux does per queue.

import { randomUUID } from 'node:crypto';
import { readU16le, readU32le, readU8, writeAscii, writeU16le } from '../../util/bytes.js';
import { AdminOpc } from '../../nvme/spec/opcodes.js';
import { HostErrorCode, NvmeStatusError, NvmeTcpError } from './errors.js';
import { HostQueue } from './queue.js';
import type { CommandInit, CommandOptions, CommandResult, QueueOptions } from './queue.js';
import {
  AUTHREQ_ASCR,
  AUTHREQ_ATR,
  authenticateQueue,
  hostSecrets,
  NvmeAuthError,
  tlsCredentials,
  type DhchapOptions,
  type HostSecrets,
  type TlsOptions,
} from './auth.js';
import type { Negotiated } from '../auth/common.js';

/** NVMe/TCP's IANA port for I/O controllers. */
export const DEFAULT_IO_PORT = 4420;
/** NVMe/TCP's IANA port for discovery controllers. */
export const DEFAULT_DISCOVERY_PORT = 8009;
const FABRICS = 0x7f;
const FC_PROPERTY_SET = 0x00;
const FC_CONNECT = 0x01;
const FC_PROPERTY_GET = 0x04;
const FC_DISCONNECT = 0x08;

/** What NvmeTcpController.connect connects to and how (queues, digests, Keep Alive). */
export interface ConnectOptions {
  /** Target address (IPv4/IPv6/host name). */
  readonly address: string;
  /** Default 4420. */
  readonly port?: number;
  readonly subnqn: string;
  /** Default: a per-process `nqn.2014-08.org.nvmexpress:uuid:<uuid>`. */
  readonly hostnqn?: string;
  /** 16 bytes; default derived from the default host NQN's UUID. */
  readonly hostid?: Uint8Array;
  /** I/O queues to create (default 1; 0 = admin only). */
  readonly ioQueues?: number;
  /** I/O queue entries (default 128, clamped to CAP.MQES+1 and MAXCMD). */
  readonly queueSize?: number;
  readonly hdgst?: boolean;
  readonly ddgst?: boolean;
  /** Keep Alive Timeout in ms (default 5000; 0 disables Keep Alive). */
  readonly kato?: number;
  /** Requested controller id (default 0xFFFF, dynamic). */
  readonly cntlid?: number;
  /**
   * CATTR bit 2 on I/O queues (default true): SQ flow control disabled, which lets the target
   * complete a successful read with C2HData SUCCESS and no CapsuleResp (§1.9), one PDU fewer
   * each way. The library never reads SQHD (callers keep at most the queue size in flight), so
   * disabling is what it actually does; false asks for SQHD in every CQE, as Linux does.
   */
  readonly disableSqFlow?: boolean;
  /** Skip Identify/queue setup (discovery controllers need only Identify and Get Log Page). */
  readonly discovery?: boolean;
  /** DH-HMAC-CHAP secrets (`nvme connect --dhchap-secret [--dhchap-ctrl-secret]`). */
  readonly dhchap?: DhchapOptions;
  /** TLS 1.3 with a PSK on every queue (`nvme connect --tls --tls-key`). */
  readonly tls?: TlsOptions;
}

const DEFAULT_UUID = randomUUID();
/** The host NQN used when ConnectOptions.hostnqn is not given: one UUID NQN per process. */
export const DEFAULT_HOSTNQN = `nqn.2014-08.org.nvmexpress:uuid:${DEFAULT_UUID}`;

function uuidBytes(uuid: string): Uint8Array {
  return Uint8Array.from(Buffer.from(uuid.replace(/-/g, ''), 'hex'));
}

/** The 1024-byte Connect data (§2.2). */
export function connectData(
  hostid: Uint8Array,
  cntlid: number,
  subnqn: string,
  hostnqn: string,
): Uint8Array {
  const d = new Uint8Array(1024);
  d.set(hostid.subarray(0, 16), 0);
  writeU16le(d, 16, cntlid);
  writeAscii(d, 256, subnqn, 256, 0);
  writeAscii(d, 512, hostnqn, 256, 0);
  return d;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** An NVMe-oF controller association over TCP: admin queue, I/O queues, Keep Alive, orderly shutdown. */
export class NvmeTcpController {
  /** The admin queue (qid 0). */
  readonly admin: HostQueue;
  /** The I/O queues, qid 1.. in order. */
  readonly io: HostQueue[] = [];
  /** The options the association was made with. */
  readonly opts: ConnectOptions;
  /** Controller ID the target assigned (Connect response DW0). */
  cntlid = 0;
  /** The CAP property (Property Get offset 0). */
  cap = 0n;
  /** The VS property (NVMe version). */
  vs = 0;
  /** Identify Controller data (4096 bytes). */
  identify: Uint8Array = new Uint8Array(0);
  /** What the admin queue's last DH-HMAC-CHAP transaction negotiated (undefined: none ran). */
  negotiated: Negotiated | undefined;
  /** The PSK identity every queue presented (undefined: no TLS). */
  readonly tlsIdentity: string | undefined;
  readonly #secrets: HostSecrets | undefined;
  readonly #queueOpts: Omit<QueueOptions, 'inCapsuleLimit'>;
  /** Whether the target asked the queues to authenticate (AUTHREQ.ATR on the admin queue). */
  #authRequired = false;
  #tid = 0;
  #ka: NodeJS.Timeout | undefined;
  #rr = 0;
  #closed = false;

  private constructor(
    admin: HostQueue,
    opts: ConnectOptions,
    queueOpts: Omit<QueueOptions, 'inCapsuleLimit'>,
    secrets: HostSecrets | undefined,
  ) {
    this.admin = admin;
    this.opts = opts;
    this.#queueOpts = queueOpts;
    this.#secrets = secrets;
    this.tlsIdentity = queueOpts.tls?.identity;
  }

  /** Connects the admin queue and `ioQueues` I/O queues; rejects with a typed error. */
  static async connect(opts: ConnectOptions): Promise<NvmeTcpController> {
    const port = opts.port ?? DEFAULT_IO_PORT;
    const dg = { hdgst: opts.hdgst ?? false, ddgst: opts.ddgst ?? false };
    // Keys are parsed before any socket opens: a malformed one is a usage error.
    const secrets = opts.dhchap === undefined ? undefined : hostSecrets(opts.dhchap);
    const hostnqn = opts.hostnqn ?? DEFAULT_HOSTNQN;
    const tls = opts.tls === undefined ? undefined : tlsCredentials(opts.tls, hostnqn, opts.subnqn);
    const queueOpts = { host: opts.address, port, ...dg, ...(tls === undefined ? {} : { tls }) };
    const admin = await HostQueue.open(queueOpts);
    const c = new NvmeTcpController(admin, opts, queueOpts, secrets);
    try {
      await c.#setUp();
    } catch (e) {
      c.#teardown();
      throw e;
    }
    return c;
  }

  /** The host NQN this association connected as. */
  get hostnqn(): string {
    return this.opts.hostnqn ?? DEFAULT_HOSTNQN;
  }

  /** MAXCMD, MDTS (bytes; 0 = none), IOCCSZ of the Identify data. */
  get mdtsBytes(): number {
    const mdts = readU8(this.identify, 77);
    return mdts === 0 ? 0 : 4096 * 2 ** mdts;
  }

  async #setUp(): Promise<void> {
    const kato = this.opts.kato ?? (this.opts.discovery === true ? 0 : 5000);
    const r = await this.#connectQueue(this.admin, 0, 31, kato, this.opts.cntlid ?? 0xffff);
    this.cntlid = r.dw0 & 0xffff;
    this.admin.qid = 0;
    this.#authRequired = (r.dw0 & AUTHREQ_ATR) !== 0;
    await this.#authenticateIfAsked(this.admin, 0, r.dw0);
    this.cap = await this.propertyGet(0x00, true);
    if (((this.cap >> 48n) & 0xfn) !== 0n) {
      throw new NvmeTcpError(HostErrorCode.PROTOCOL, 'Minimum device page size too large');
    }
    // CC: IOSQES 6, IOCQES 4, CSS 110b when CAP.CSS bit 43 (I/O command sets) else NVM (§2.3).
    const css = ((this.cap >> 43n) & 1n) === 1n ? 6 : 0;
    const cc = (4 << 20) | (6 << 16) | (css << 4);
    await this.propertySet(0x14, BigInt(cc));
    await this.propertyGet(0x14);
    await this.propertySet(0x14, BigInt(cc | 1));
    const timeoutMs = (Number((this.cap >> 24n) & 0xffn) + 1) * 500;
    const start = Date.now();
    for (;;) {
      const csts = Number(await this.propertyGet(0x1c));
      if ((csts & 2) !== 0) throw new NvmeTcpError(HostErrorCode.PROTOCOL, 'CSTS.CFS set');
      if ((csts & 1) !== 0) break;
      if (Date.now() - start > timeoutMs) {
        throw new NvmeTcpError(HostErrorCode.TIMEOUT, 'Device not ready; aborting initialisation');
      }
      await sleep(2);
    }
    this.vs = Number(await this.propertyGet(0x08));
    const id = await this.adminOk(
      'Identify Controller',
      { opcode: AdminOpc.IDENTIFY, cdw10: 1 },
      {
        readLength: 4096,
      },
    );
    this.identify = id.data;
    if (readU16le(id.data, 78) !== this.cntlid) {
      throw new NvmeTcpError(HostErrorCode.PROTOCOL, 'Mismatching cntlid');
    }
    if (kato > 0) {
      this.#ka = setInterval(() => {
        this.admin.submit({ opcode: AdminOpc.KEEP_ALIVE }).catch(() => undefined);
      }, kato / 2);
      this.#ka.unref();
    }
    const want = this.opts.discovery === true ? 0 : (this.opts.ioQueues ?? 1);
    if (want === 0) return;
    const nq = await this.adminOk('Set Features Number of Queues', {
      opcode: AdminOpc.SET_FEATURES,
      cdw10: 0x07,
      cdw11: (want - 1) | ((want - 1) << 16),
    });
    const granted = Math.min(want, (nq.dw0 & 0xffff) + 1, ((nq.dw0 >>> 16) & 0xffff) + 1);
    const maxcmd = readU16le(this.identify, 514);
    const mqes = Number(this.cap & 0xffffn);
    let sqsize = Math.min((this.opts.queueSize ?? 128) - 1, mqes);
    if (maxcmd > 0) sqsize = Math.min(sqsize, maxcmd - 1);
    const ioccsz = readU32le(this.identify, 1792);
    const inCapsule = ioccsz >= 4 ? ioccsz * 16 - 64 : 0;
    for (let qid = 1; qid <= granted; qid++) {
      const q = await HostQueue.open({ ...this.#queueOpts, inCapsuleLimit: 8192 });
      this.io.push(q);
      const rq = await this.#connectQueue(q, qid, sqsize, 0, this.cntlid);
      q.qid = qid;
      q.inCapsuleLimit = inCapsule;
      await this.#authenticateIfAsked(q, qid, rq.dw0);
    }
  }

  /** AUTHREQ of a Connect response: authenticate the queue when ATR asks (Linux's rule). */
  async #authenticateIfAsked(q: HostQueue, qid: number, dw0: number): Promise<void> {
    if ((dw0 & AUTHREQ_ASCR) !== 0) {
      throw new NvmeAuthError(
        `qid ${qid}: the target asks for secure channel concatenation (AUTHREQ.ASCR), which is not supported`,
      );
    }
    if ((dw0 & AUTHREQ_ATR) === 0) return;
    const negotiated = await this.#authenticate(q, qid);
    if (qid === 0) this.negotiated = negotiated;
  }

  async #authenticate(q: HostQueue, qid: number): Promise<Negotiated> {
    if (this.#secrets === undefined) {
      throw new NvmeAuthError(
        `qid ${qid}: the target requires in-band authentication (AUTHREQ.ATR) and no ` +
          'DH-HMAC-CHAP secret was given (dhchap / --dhchap-secret)',
      );
    }
    this.#tid = (this.#tid + 1) & 0xffff;
    return authenticateQueue(
      q,
      qid,
      this.#tid,
      { hostnqn: this.hostnqn, subnqn: this.opts.subnqn },
      this.#secrets,
    );
  }

  /**
   * Re-authentication (what writing a new key to Linux's dhchap_secret does): a new
   * DH-HMAC-CHAP transaction on the admin queue, then on each I/O queue. The queues stay usable
   * meanwhile; a failure rejects with NvmeAuthError and the target ends the association.
   */
  async reauthenticate(): Promise<Negotiated> {
    if (!this.#authRequired) {
      throw new NvmeAuthError('the target did not ask this association to authenticate');
    }
    const n = await this.#authenticate(this.admin, 0);
    this.negotiated = n;
    for (const q of this.io) await this.#authenticate(q, q.qid);
    return n;
  }

  async #connectQueue(
    q: HostQueue,
    qid: number,
    sqsize: number,
    kato: number,
    cntlid: number,
  ): Promise<CommandResult> {
    const hostid = this.opts.hostid ?? uuidBytes(DEFAULT_UUID);
    const cattr = qid > 0 && (this.opts.disableSqFlow ?? true) ? 4 : 0;
    const r = await q.submit(
      {
        opcode: FABRICS,
        fctype: FC_CONNECT,
        cdw10: qid << 16,
        cdw11: sqsize | (cattr << 16),
        cdw12: kato,
      },
      { write: connectData(hostid, cntlid, this.opts.subnqn, this.hostnqn), inCapsule: true },
    );
    if (r.status !== 0) {
      throw new NvmeStatusError(`Connect (qid ${qid})`, r.status, r.dw0, {
        opcode: FABRICS,
        fctype: FC_CONNECT,
        queue: qid === 0 ? 'admin' : 'io',
      });
    }
    return r;
  }

  /** Property Get (§2.3); 8-byte access for CAP. */
  async propertyGet(ofst: number, size8 = false): Promise<bigint> {
    const r = await this.admin.submit({
      opcode: FABRICS,
      fctype: FC_PROPERTY_GET,
      cdw10: size8 ? 1 : 0,
      cdw11: ofst,
    });
    if (r.status !== 0) {
      throw new NvmeStatusError('Property Get', r.status, r.dw0, {
        opcode: FABRICS,
        fctype: FC_PROPERTY_GET,
        queue: 'admin',
      });
    }
    return BigInt(r.dw0) | (size8 ? BigInt(r.dw1) << 32n : 0n);
  }

  /** Property Set (Fabrics 1.1 §3.4); 8-byte access with `size8`. */
  async propertySet(ofst: number, value: bigint, size8 = false): Promise<void> {
    const r = await this.admin.submit({
      opcode: FABRICS,
      fctype: FC_PROPERTY_SET,
      cdw10: size8 ? 1 : 0,
      cdw11: ofst,
      cdw12: Number(value & 0xffff_ffffn),
      cdw13: Number((value >> 32n) & 0xffff_ffffn),
    });
    if (r.status !== 0) {
      throw new NvmeStatusError('Property Set', r.status, r.dw0, {
        opcode: FABRICS,
        fctype: FC_PROPERTY_SET,
        queue: 'admin',
      });
    }
  }

  /** Any admin command; resolves with its completion whatever the status. */
  adminCommand(init: CommandInit, opts?: CommandOptions): Promise<CommandResult> {
    return this.admin.submit(init, opts);
  }

  /** An admin command that must succeed (throws NvmeStatusError otherwise). */
  async adminOk(what: string, init: CommandInit, opts?: CommandOptions): Promise<CommandResult> {
    const r = await this.admin.submit(init, opts);
    if (r.status !== 0) {
      throw new NvmeStatusError(what, r.status, r.dw0, {
        opcode: init.opcode,
        ...(init.fctype === undefined ? {} : { fctype: init.fctype }),
        queue: 'admin',
      });
    }
    return r;
  }

  /** An I/O command on `qid` (default: round robin over the I/O queues). */
  ioCommand(init: CommandInit, opts?: CommandOptions, qid?: number): Promise<CommandResult> {
    const n = this.io.length;
    if (n === 0) {
      return Promise.reject(new NvmeTcpError(HostErrorCode.USAGE, 'no I/O queues connected'));
    }
    const q = qid !== undefined ? this.io[qid - 1] : this.io[this.#rr++ % n];
    if (q === undefined) {
      return Promise.reject(new NvmeTcpError(HostErrorCode.USAGE, `no I/O queue ${qid}`));
    }
    return q.submit(init, opts);
  }

  /** Fabrics Disconnect on one queue (qid 0: the association). */
  async fabricsDisconnect(qid: number): Promise<CommandResult> {
    const q = qid === 0 ? this.admin : this.io[qid - 1];
    if (q === undefined) throw new NvmeTcpError(HostErrorCode.USAGE, `no queue ${qid}`);
    return q.submit({ opcode: FABRICS, fctype: FC_DISCONNECT });
  }

  /**
   * Ends the association the way Linux does (§2.5): I/O sockets close, then CC.SHN = 01b and
   * CSTS.SHST polled up to 5 s on the admin queue, then the admin socket closes.
   */
  async disconnect(opts: { shutdown?: boolean } = {}): Promise<void> {
    if (this.#closed) return;
    clearInterval(this.#ka);
    for (const q of this.io) q.close();
    if ((opts.shutdown ?? true) && !this.admin.closed) {
      try {
        const cc = Number(await this.propertyGet(0x14));
        await this.propertySet(0x14, BigInt((cc & ~(3 << 14)) | (1 << 14)));
        const start = Date.now();
        while (Date.now() - start < 5000) {
          if ((Number(await this.propertyGet(0x1c)) & 0xc) === 0x8) break;
          await sleep(10);
        }
      } catch {
        // The association is going away either way.
      }
    }
    this.#teardown();
  }

  #teardown(): void {
    this.#closed = true;
    clearInterval(this.#ka);
    for (const q of this.io) q.close();
    this.admin.close();
  }
}
