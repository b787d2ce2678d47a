// The discovery controller (reference nvme-tcp.md §2.6, §6.15): well-known NQN, CNTRLTYPE 2, a
// fresh controller per association, and the commands a discovery controller must accept —
// Identify CNS 01h, Get Log Page 70h honouring LPO/NUMD, Set/Get Features 0Bh, AER (held).
// Connect, Property Get/Set, Keep Alive and KATO are handled by the fabrics layer.

import { writeAscii, writeU16le, writeU32le, writeU8 } from '../../util/bytes.js';
import type { NvmeCmd } from '../../nvme/spec/command.js';
import { AdminOpc } from '../../nvme/spec/opcodes.js';
import { Status, withDnr } from '../../nvme/spec/status.js';
import type { Completion, HostData } from '../../nvme/spec/transfer.js';
import {
  AdrFam,
  DISCOVERY_LOG_LID,
  DISCOVERY_NQN,
  SubType,
  TREQ_DISABLE_SQFLOW,
  TrType,
  encodeDiscoveryLog,
} from '../discovery.js';
import type { DiscoveryEntry } from '../discovery.js';
import type { FabricsController, FabricsSubsystem } from './backend.js';

/** A port the target listens on, as discovery entries describe it. */
export interface PortInfo {
  readonly portid: number;
  /** The listen address ('0.0.0.0'/'::' are replaced by the address the host reached). */
  readonly address: string;
  readonly port: number;
  /**
   * The address the discovery log names instead of `address` (`--advertise`): a host behind
   * NAT reaches 127.0.0.1 as another address (QEMU user networking: 10.0.2.2).
   */
  readonly advertise?: string;
}

/**
 * CAP: MQES 127, CQR, TO 15 (7.5 s), CSS bit 37 (NVM). The host's admin queue is still 32
 * entries (ASQSZ 32 in the log), but Linux clamps its queue_size (default 128) to MQES+1 and
 * MAXCMD for every controller and logs "queue_size 128 > ctrl sqsize 32, clamping down" on each
 * `nvme discover` when MQES is 31 (seen in the Linux 6.1 guest); nvmet reports 1023.
 */
const DISC_MQES = 127;
const DISC_CAP = BigInt(DISC_MQES) | (1n << 16n) | (15n << 24n) | (1n << 37n);
const VS_1_3 = 0x0001_0300;
const FID_ASYNC_EVENT_CONFIG = 0x0b;
const AERL = 3;

export interface DiscoverySource {
  /** The NVM subsystems to list and the port that serves them. */
  subsystems(): readonly FabricsSubsystem[];
  readonly ioPort: PortInfo;
  readonly discoveryPort: PortInfo;
}

/** The discovery subsystem served at the well-known NQN. */
export function discoverySubsystem(src: DiscoverySource): FabricsSubsystem {
  return {
    nqn: DISCOVERY_NQN,
    kind: 'discovery',
    controllers: [],
    createController: (cntlid, localAddress) => new DiscoveryController(cntlid, src, localAddress),
  };
}

function reachable(p: PortInfo, localAddress: string): string {
  if (p.advertise !== undefined) return p.advertise;
  const unspecified = p.address === '0.0.0.0' || p.address === '::' || p.address === '';
  const addr = unspecified ? localAddress : p.address;
  return addr.startsWith('::ffff:') ? addr.slice(7) : addr;
}

export class DiscoveryController implements FabricsController {
  readonly cntlid: number;
  readonly cntrltype = 2 as const;
  readonly cap = DISC_CAP;
  readonly vs = VS_1_3;
  readonly mdtsBytes = 0;
  readonly maxIoQueues = 0;
  readonly #src: DiscoverySource;
  readonly #localAddress: string;
  #aec = 0;
  readonly #aers: ((c: Completion) => void)[] = [];

  constructor(cntlid: number, src: DiscoverySource, localAddress: string) {
    this.cntlid = cntlid;
    this.#src = src;
    this.#localAddress = localAddress;
  }

  enable(): boolean {
    return true;
  }

  reset(): Promise<void> {
    for (const done of this.#aers.splice(0)) done({ status: Status.ABORT_SQ_DELETION });
    this.#aec = 0;
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }

  io(): Promise<Completion> {
    return Promise.resolve({ status: withDnr(Status.INVALID_OPCODE) });
  }

  /** Entries: every NVM subsystem at the I/O port, and this discovery subsystem (SUBTYPE 3). */
  entries(): DiscoveryEntry[] {
    const entry = (p: PortInfo, subtype: number, subnqn: string): DiscoveryEntry => {
      const traddr = reachable(p, this.#localAddress);
      return {
        trtype: TrType.TCP,
        adrfam: traddr.includes(':') ? AdrFam.IPV6 : AdrFam.IPV4,
        subtype,
        treq: TREQ_DISABLE_SQFLOW,
        portid: p.portid,
        cntlid: 0xffff,
        asqsz: 32,
        eflags: 0,
        trsvcid: String(p.port),
        subnqn,
        traddr,
        sectype: 0,
      };
    };
    const out = this.#src
      .subsystems()
      .filter((s) => s.kind === 'nvm')
      .map((s) => entry(this.#src.ioPort, SubType.NVME, s.nqn));
    out.push(entry(this.#src.discoveryPort, SubType.CURRENT_DISCOVERY, DISCOVERY_NQN));
    return out;
  }

  async admin(cmd: NvmeCmd, data: HostData): Promise<Completion> {
    switch (cmd.opcode) {
      case AdminOpc.IDENTIFY:
        if ((cmd.cdw10 & 0xff) !== 0x01) return { status: withDnr(Status.INVALID_FIELD) };
        return this.#copyOut(this.identify(), 0, data);
      case AdminOpc.GET_LOG_PAGE:
        return this.#getLog(cmd, data);
      case AdminOpc.SET_FEATURES:
        if ((cmd.cdw10 & 0xff) !== FID_ASYNC_EVENT_CONFIG) {
          return { status: withDnr(Status.INVALID_FIELD) };
        }
        this.#aec = cmd.cdw11 >>> 0;
        return { status: 0 };
      case AdminOpc.GET_FEATURES:
        if ((cmd.cdw10 & 0xff) !== FID_ASYNC_EVENT_CONFIG) {
          return { status: withDnr(Status.INVALID_FIELD) };
        }
        return { status: 0, dw0: this.#aec };
      case AdminOpc.ASYNC_EVENT_REQ:
        // Held until reset: the log never changes while the target runs.
        if (this.#aers.length > AERL) return { status: withDnr(Status.AER_LIMIT_EXCEEDED) };
        return new Promise((resolve) => this.#aers.push(resolve));
      default:
        return { status: withDnr(Status.INVALID_OPCODE) };
    }
  }

  /** Identify Controller of a discovery controller (§2.6). */
  identify(): Uint8Array {
    const b = new Uint8Array(4096);
    writeAscii(b, 4, 'nvmemu-discovery', 20);
    writeAscii(b, 24, 'nvmemu discovery controller', 40);
    writeAscii(b, 64, '0.1.0', 8);
    writeU16le(b, 78, this.cntlid);
    writeU32le(b, 80, this.vs);
    writeU32le(b, 92, 0);
    writeU8(b, 111, 2);
    writeU8(b, 259, AERL);
    // LPA bit 2: extended data for Get Log Page (LPO, NUMDU).
    writeU8(b, 261, 0x04);
    writeU16le(b, 320, 10);
    writeU8(b, 512, 0x66);
    writeU8(b, 513, 0x44);
    writeU16le(b, 514, DISC_MQES + 1);
    writeU32le(b, 536, 0x0000_0001);
    writeAscii(b, 768, DISCOVERY_NQN, 256, 0);
    // IOCCSZ 4 / IORCSZ 1: some newer hosts check them even for discovery; MSDBD 1.
    writeU32le(b, 1792, 4);
    writeU32le(b, 1796, 1);
    writeU8(b, 1803, 1);
    return b;
  }

  async #getLog(cmd: NvmeCmd, data: HostData): Promise<Completion> {
    const lid = cmd.cdw10 & 0xff;
    if (lid !== DISCOVERY_LOG_LID) return { status: withDnr(Status.INVALID_FIELD) };
    const lpo = BigInt(cmd.cdw12 >>> 0) | (BigInt(cmd.cdw13 >>> 0) << 32n);
    const log = encodeDiscoveryLog(1n, this.entries());
    if ((lpo & 3n) !== 0n || lpo > BigInt(log.length)) {
      return { status: withDnr(Status.INVALID_FIELD) };
    }
    return this.#copyOut(log, Number(lpo), data);
  }

  /** Copies `src[from..]` into the host buffer, truncated to its length, zero padded. */
  async #copyOut(src: Uint8Array, from: number, data: HostData): Promise<Completion> {
    const out = new Uint8Array(data.length);
    out.set(src.subarray(from, from + data.length));
    const st = await data.toHost(0, out);
    return { status: st };
  }
}
