// The contract between the controller (nvme/ctrl, nvme/subsys) and namespaces (nvme/ns).
//
// WHO IMPLEMENTS WHAT
// - nvme/ns implements NamespaceApi: Identify NS structures, the I/O command sets (NVM, zoned),
//   Format NVM of one namespace, the namespace's own state (formats, zones, write cache,
//   Error Recovery / DULBE, SMART counters).
// - nvme/ctrl calls it: admin commands (Identify, Get/Set Features, Get Log Page, Format,
//   Namespace Attachment) and the first I/O dispatch steps (reference §4.1 steps 1-2):
//     1. Flush (0x00) with NSID FFFFFFFF -> ctrl calls flush() on every attached namespace.
//     2. NSID 0 / > 256 -> 0x00b+DNR; FFFFFFFF -> 0x002+DNR [7.2]; not attached -> 0x002+DNR.
//   Everything after (format in progress 0x084, FUSE 0x002, opcode support 0x001+DNR, MDTS,
//   LBA range, ...) is execute()'s job, in the order of §4.1 steps 3-6.
// - nvme/subsys owns NSID allocation and attachment; a namespace never attaches itself.
//
// Keep this file stable: both sides code against it. Add members, do not rename them.

import type { Completion, HostData } from './transfer.js';
import type { NvmeCmd } from './command.js';
import type { MaybePromise } from '../../util/maybe.js';
import type { HostIdentity } from './host-id.js';

/** The command groups of the reservation rules (Base Spec 2.1 Figure 646). */
export type AccessGroup = 'read' | 'write';

/**
 * The reservations of a namespace as the controller sees them (nvme/ns/resv): the check every
 * command of a group passes, whether a host is registered (Set Features Host Identifier), and
 * the notifications the controllers of a host receive (set by the subsystem).
 */
export interface NsReservations {
  /** Reservation Conflict (with DNR) when `host` may not run a command of `group`, else 0. */
  check(host: string, group: AccessGroup): number;
  /** True when `host` is a registrant. */
  registered(host: string): boolean;
  /** Persist Through Power Loss state (feature 83h). */
  readonly ptpl: boolean;
  setPtpl(on: boolean): void;
  /** Delivers a notification (type 1..3) for `host` (set by the subsystem). */
  notify: ((host: string, type: number) => void) | undefined;
}

/** Block-layer accounting of one namespace (reference §3.4 LID 02h). Monotonic, never reset. */
export interface NsSmartCounters {
  /** Bytes read by accounted read commands (Read, Compare, Verify, Copy source). */
  readonly bytesRead: bigint;
  /** Bytes written by accounted write commands (Write, Copy destination). */
  readonly bytesWritten: bigint;
  /** Accounted read commands (Read, Compare, Verify, Copy). Rejected commands do not count. */
  readonly readCommands: bigint;
  /** Accounted write commands (Write, Copy). Write Zeroes, DSM and Flush do not count. */
  readonly writeCommands: bigint;
}

export interface NamespaceApi {
  /** 1..256, fixed at creation (the subsystem resolves nsid=0 before constructing it). */
  readonly nsid: number;
  /** Command Set Identifier: 0 NVM, 2 Zoned. */
  readonly csi: 0 | 2;
  /** `shared` property: attach to every controller of the subsystem (NMIC bit0 in a subsystem). */
  readonly shared: boolean;
  /** `detached` property: not attached to any controller at boot. */
  readonly detached: boolean;
  /** NSZE in logical blocks (changes on Format). */
  readonly sizeBlocks: bigint;
  /** Logical block size in bytes of the active format (DMRSL of Identify CNS 06h derives from it). */
  readonly lbaSize: number;
  /** NSFEAT bit2 (DULBE) is advertised; Set Features Error Recovery keeps bit16 only then. */
  readonly dulbeCapable: boolean;
  /** Error Recovery feature value (FID 05h): TLER 15:0, DULBE bit16. Owned by the namespace. */
  errorRecovery: number;
  /** Volatile write cache of the backend (FID 06h); shared by all controllers of the NS. */
  readonly writeCache: boolean;
  /** Enables/disables the write cache; disabling flushes first (reference §3.3 FID 06h). */
  setWriteCache(enabled: boolean): Promise<void>;

  /**
   * Identify Namespace (CNS 00h/11h), 4096 bytes. `inSubsystem` drives NMIC bit0 [7.2];
   * `anagrpid` is the ANA group the subsystem reports for it (0: none).
   */
  identify(inSubsystem: boolean, anagrpid?: number): Uint8Array;
  /** The ANA group the namespace was configured or created in (0 or absent: none). */
  readonly anagrpid?: number;
  /** Reservations (NVMe 2.0 §8.19); absent: the namespace does not support them. */
  readonly reservations?: NsReservations;
  /**
   * I/O command set specific Identify Namespace (CNS 05h/1Bh) for `csi`, 4096 bytes, or a
   * status (e.g. 0x002+DNR for CSI 2 on an NVM namespace).
   */
  identifyIoCs(csi: number): Uint8Array | number;
  /** Namespace Identification Descriptor list (CNS 03h), 4096 bytes. */
  descriptors(): Uint8Array;
  /**
   * I/O Command Set Independent Identify Namespace (CNS 08h/1Fh), 4096 bytes; `inSubsystem` as
   * for identify(). Namespaces without it answer as the controller's level refuses CNS 08h.
   */
  identifyIndependent?(inSubsystem: boolean): Uint8Array;
  /** The controller's `drive=` namespace (QEMU keeps it out of the endurance group). */
  readonly legacy?: boolean;

  /**
   * Runs an I/O command whose NSID is this namespace (reference §4.1 steps 3-6 onwards). The
   * completion comes at once when nothing in the command had to wait (util/maybe.ts).
   */
  execute(ctx: CommandContext): MaybePromise<Completion>;
  /**
   * The bytes a block command (Read, Write, Compare, Zone Append) moves through the data
   * pointer and the metadata pointer in the active format (§9.1: interleaved metadata, PRACT
   * with tuple-only metadata moving data only); undefined for other commands. PCI maps exactly
   * this much (QEMU nvme_map_data); fabrics requires the SGL to describe exactly `data`.
   */
  transferLength(cmd: NvmeCmd): { readonly data: number; readonly meta: number } | undefined;
  /**
   * Format NVM of this namespace (reference §3.8): `lbaf` already includes LBAFU<<4 when the
   * host enabled LBAFEE. Returns 0x10a+DNR / 0x002+DNR per §3.8; zeroes the namespace.
   */
  format(lbaf: number, ses: number, pi: number, pil: number, mset: number): Promise<Completion>;

  /** SMART/Health accounting (reference §3.4 LID 02h). */
  smart(): NsSmartCounters;
  /** Wear of the media behind the namespace, when a device model gives one (docs/models.md). */
  wear?(): NsWear | undefined;
  /** Calls `fn` with wear critical warning bits as they appear; returns the unsubscribe. */
  watchWear?(fn: (bits: number) => void): () => void;

  /** Makes written data durable (Flush, write cache disable, shutdown). Rejects on I/O error. */
  flush(): Promise<void>;
  /** Controller shutdown (CC.SHN): zoned namespaces close open zones (reference §2.4). */
  shutdown(): Promise<void>;
  /** Releases host resources; idempotent. */
  close(): Promise<void>;
}

/** What a command executor may know about, and ask of, the controller running it. */
export interface ControllerView {
  /** Controller ID (CNTLID). */
  readonly cntlid: number;
  /** Maximum data transfer in bytes (4 KiB << MDTS); 0 = no limit (mdts=0). */
  readonly mdtsBytes: number;
  /** Verify size limit in bytes (4 KiB << vsl). */
  readonly vslBytes: number;
  /** Zone Append size limit in bytes (4 KiB << zoned.zasl), or mdtsBytes when zasl is 0. */
  readonly zaslBytes: number;
  /** `zoned.auto_transition`: implicitly open zones may be closed to free open resources. */
  readonly zonedAutoTransition: boolean;
  /** CC.CSS latched at enable: 0 NVM only, 6 all I/O command sets, 7 admin only. */
  readonly css: number;
  /** Host Behavior Support LBAFEE (LBA Format Extension Enable). */
  readonly lbafee: boolean;
  /** An attached namespace of this controller (for cross-namespace operations). */
  namespace(nsid: number): NamespaceApi | undefined;
  /**
   * The Timestamp feature's value now (48-bit ms, byte 6 its attributes): what QEMU 10.0
   * stamps FDP events with. Absent: events carry the wall clock in ms.
   */
  timestamp?(): bigint;
  /** The host the controller acts for (reservations register hosts). */
  readonly host: HostIdentity;
  /**
   * 0 when this controller's host may run a command of `group` (undefined: a command of
   * neither group) on `ns` through this controller now, else the status: the ANA state of the
   * path (§8.20.3), then reservations (§8.19, Figure 646). Every I/O command passes it once;
   * Copy asks it for each source namespace.
   */
  admits(ns: NamespaceApi, group: AccessGroup | undefined): number;
}

/** Everything an executor needs for one command. */
export interface CommandContext {
  readonly cmd: NvmeCmd;
  /** The data buffer (DPTR). */
  readonly data: HostData;
  /** The separate metadata buffer (MPTR), when the front end provides one. */
  readonly meta?: HostData;
  readonly sqid: number;
  readonly ctrl: ControllerView;
}

/** Wear figures of a modelled namespace (SMART bytes 0, 3-5; log 09h), model/ssd.ts. */
export interface NsWear {
  readonly percentageUsed: number;
  readonly availableSpare: number;
  readonly availableSpareThreshold: number;
  /** SMART critical warning bits the wear sets (bit 0: spare below threshold). */
  readonly criticalWarning: number;
  readonly meanPe: number;
  readonly maxPe: number;
  readonly mediaBytesWritten: bigint;
}
