// An NVM command set namespace over a raw-image Drive (reference qemu-nvme.md §4, §5, §3.8):
// LBA formats and geometry, Identify data, the I/O commands and Format NVM. Implements the
// controller contract of spec/namespace-api.ts.
//
// State outside the image is volatile, as in QEMU (§5.2): the active format (a Format NVM is
// lost on restart, the image is then read with the configured format again), Error Recovery,
// the write cache setting, deallocated and uncorrectable block ranges, SMART counters.

import type { Drive } from '../../block/drive.js';
import type { Component } from '../../machine/registry.js';
import type { NamespaceApi, NsSmartCounters } from '../spec/namespace-api.js';
import type { Completion } from '../spec/transfer.js';
import type { CommandContext } from '../spec/namespace-api.js';
import type { MaybePromise } from '../../util/maybe.js';
import { IoOpc } from '../spec/opcodes.js';
import { Status, withDnr } from '../spec/status.js';
import type { NvmeNsConfig } from './config.js';
import { RangeSet, type LbaRange } from './ranges.js';
import { BlockStore } from './store.js';
import { MediaFaults } from './media-faults.js';
import { buildLbaFormats, computeGeometry, type Geometry, type LbaFormatTable } from './lbaf.js';
import {
  encodeDescriptors,
  encodeIdentifyIndependent,
  encodeIdentifyNs,
  encodeIdentifyNsNvm,
  NSFEAT_DULBE,
  NSFEAT_NPDGL,
  NSFEAT_OPTPERF,
  NSTAT_READY,
} from './identify.js';
import { nvmeLevel, type NvmeLevel } from '../spec/levels.js';
import * as io from './io.js';
import * as rw from './rw.js';
import { copy } from './copy.js';
import { ZonedNs } from './zoned/zoned-ns.js';
import { zoneAppend, zoneMgmtRecv, zoneMgmtSend } from './zoned/commands.js';
import { tupleOnly, type PiFormat } from './pi/tuple.js';
import type { NvmeCmd } from '../spec/command.js';
import { enduranceGroupFor } from './fdp/group.js';
import { ioMgmtRecv, ioMgmtSend, NsFdp } from './fdp/placement.js';
import type { NsFdpPlan } from './fdp/plan.js';
import { RESCAP, Reservations } from './resv/reservations.js';
import { resvAcquire, resvRegister, resvRelease, resvReport } from './resv/commands.js';
import { NsModel, type ModelTicket } from '../model/model.js';
import { DEFAULT_PARAMS, type ModelParams } from '../model/params.js';
import type { Wear } from '../model/ssd.js';
import { ConfigError } from '../../config/errors.js';

export interface NamespaceOptions {
  /**
   * Accept Write Uncorrectable (0x04). QEMU 7.2 does not implement it (ONCS bit 1 clear,
   * Invalid Opcode); nvmemu does and advertises it (spec/opcodes.ts NVM_IO_EFFECTS), so it is
   * on by default. `false` reproduces QEMU 7.2 for tests that compare against it.
   */
  readonly writeUncorrectable?: boolean;
}

type Handler = (core: io.NsCore, ctx: CommandContext) => MaybePromise<Completion>;

/**
 * The NVM command set's I/O commands this namespace executes (house rule 6: dispatch derives
 * from the table; spec/opcodes.ts NVM_IO_EFFECTS lists the same opcodes for the effects log).
 */
const NVM_HANDLERS: ReadonlyMap<number, Handler> = new Map<number, Handler>([
  [IoOpc.FLUSH, (core) => io.flushStatus(core).then(io.done)],
  [IoOpc.WRITE, rw.write],
  [IoOpc.READ, rw.read],
  [IoOpc.COMPARE, rw.compare],
  [IoOpc.WRITE_ZEROES, rw.writeZeroes],
  [IoOpc.DSM, io.datasetManagement],
  [IoOpc.VERIFY, rw.verify],
  [IoOpc.COPY, copy],
  // Flexible Data Placement (fdp/placement.ts): FDP Disabled (0x029+DNR) outside an FDP subsystem.
  [IoOpc.IO_MGMT_RECV, (core, ctx) => ioMgmtRecv(core.fdp, ctx, core.ioMgmtNoOp)],
  [IoOpc.IO_MGMT_SEND, (core, ctx) => ioMgmtSend(core.fdp, ctx, core.ioMgmtNoOp)],
  // Reservations (resv/): the controller's gate has already checked the path (ANA).
  [IoOpc.RESV_REGISTER, (core, ctx) => resvRegister(core.resv!, ctx)],
  [IoOpc.RESV_REPORT, (core, ctx) => resvReport(core.resv!, ctx)],
  [IoOpc.RESV_ACQUIRE, (core, ctx) => resvAcquire(core.resv!, ctx)],
  [IoOpc.RESV_RELEASE, (core, ctx) => resvRelease(core.resv!, ctx)],
]);

type ZonedHandler = (
  zns: ZonedNs,
  core: io.NsCore,
  ctx: CommandContext,
) => MaybePromise<Completion>;

/** The Zoned command set's own commands (ZONED_IO_EFFECTS adds them to the NVM set). */
const ZONED_HANDLERS: ReadonlyMap<number, ZonedHandler> = new Map<number, ZonedHandler>([
  [IoOpc.ZONE_MGMT_SEND, zoneMgmtSend],
  [IoOpc.ZONE_MGMT_RECV, (zns, _core, ctx) => zoneMgmtRecv(zns, ctx)],
  [IoOpc.ZONE_APPEND, zoneAppend],
]);

/** CC.CSS values (Base Spec 2.0 Figure 41): all I/O command sets, admin only (0 = NVM). */
const CSS_ALL = 6;
const CSS_ADMIN_ONLY = 7;

/** Error Recovery (FID 05h) bit 16: Deallocated or Unwritten Logical Block Error Enable. */
export const ERR_REC_DULBE = 1 << 16;
/** FLBAS bit 4: metadata transferred at the end of the data LBA (extended LBA). */
const FLBAS_EXTENDED = 0x10;
/** DPS bits 2:0 (protection information type) and bit 3 (tuple first in the metadata). */
const DPS_TYPE = 0x7;
const DPS_FIRST = 0x8;

export class Namespace implements NamespaceApi, Component {
  readonly typeName = 'nvme-ns';
  readonly id: string | undefined;
  readonly nsid: number;
  readonly csi: 0 | 2;
  readonly shared: boolean;
  readonly detached: boolean;
  readonly dulbeCapable: boolean;
  readonly config: NvmeNsConfig;
  /** The QEMU compatibility level of the machine (spec/levels.ts). */
  readonly level: NvmeLevel;
  /** The controller's `drive=` namespace (QEMU keeps it out of the endurance group). */
  readonly legacy: boolean;
  errorRecovery = 0;
  /** The ANA group configured (`anagrpid`) or given at creation; 0 for none. */
  readonly anagrpid: number;
  /** Reservations (NVMe 2.0 §8.19), in memory until the machine gives them a state file. */
  readonly reservations = new Reservations();

  readonly #formats: LbaFormatTable;
  #flbas: number;
  #dps: number;
  #writeCache: boolean;
  #formatting = false;
  /** Commands still running (Format waits for them before zeroing the image). */
  readonly #inflight = new Set<Promise<Completion>>();
  #closed = false;
  readonly #writeUncorrectable: boolean;
  readonly #store: BlockStore;
  /** The zone state of a zoned namespace (`zoned=on`). */
  readonly #zoned: ZonedNs | undefined;
  readonly #dealloc = new RangeSet();
  readonly #uncorrectable = new RangeSet();
  readonly #stats: io.IoStats = {
    bytesRead: 0n,
    bytesWritten: 0n,
    readCommands: 0n,
    writeCommands: 0n,
  };

  constructor(cfg: NvmeNsConfig, drive: Drive, opts: NamespaceOptions = {}) {
    this.config = cfg;
    this.level = nvmeLevel(cfg.compat);
    this.legacy = cfg.legacy === true;
    this.id = cfg.id;
    this.nsid = cfg.nsid;
    this.shared = cfg.shared;
    this.detached = cfg.detached;
    this.#writeCache = cfg.writeCache;
    this.anagrpid = cfg.anagrpid ?? 0;
    // Uncorrectable ranges are this process's knowledge: not offered on a shared image.
    this.#writeUncorrectable = (opts.writeUncorrectable ?? true) && cfg.sharedImage !== true;
    this.#formats = buildLbaFormats(cfg.lbaSize, cfg.ms);
    const extended = cfg.ms > 0 && cfg.mset !== 0;
    this.#flbas = this.#formats.initialIndex | (extended ? FLBAS_EXTENDED : 0);
    this.#dps = cfg.pi === 0 ? 0 : cfg.pi | (cfg.pil !== 0 ? 0x08 : 0);
    this.#store = new BlockStore(drive, this.#computeGeometry(drive.size));
    this.mediaFaults = new MediaFaults(cfg.id, cfg.nsid);
    this.#store.faults = this.mediaFaults;
    const z = cfg.zoned;
    this.csi = z === undefined ? 0 : 2;
    this.#zoned =
      z === undefined
        ? undefined
        : new ZonedNs(z, cfg.lbaSize, this.#store.geometry.nsze, this.#store, {
            // zoned.persist (nvmemu): zone state in a file beside the image (zoned/journal.ts).
            ...(z.persist ? { stateFile: `${drive.path}.zones` } : {}),
            readOnly: drive.readOnly,
          });
    this.fdp = this.#initFdp((cfg as { fdp?: NsFdpPlan }).fdp);
    // QEMU disables DULBE when the zone size is not a multiple of the deallocation granularity.
    const granularity = Math.floor(cfg.discardGranularity / cfg.lbaSize);
    // A shared image keeps no deallocation state (io.ts NsCore.sharedImage): no DULBE.
    this.dulbeCapable =
      cfg.sharedImage !== true &&
      (this.#zoned === undefined || granularity === 0 || this.#zoned.zsze % granularity === 0);
    if (cfg.model !== undefined) this.#model = this.#newModel(cfg.model);
  }

  // ---- The device model (model/, docs/models.md) ----------------------------------------------

  /** Absent until an `x-model*` property is given (on the command line or by qom-set). */
  #model: NsModel | undefined;
  readonly #wearWatchers = new Set<(bits: number) => void>();

  #newModel(params: ModelParams): NsModel {
    try {
      return new NsModel(
        params,
        {
          bytes: Number(this.sizeBlocks) * this.lbaSize,
          lbaSize: this.lbaSize,
          zoneBlocks: this.#zoned?.zsze,
          streams: this.fdp?.phs.length ?? 1,
        },
        (bits) => this.#wearWatchers.forEach((fn) => fn(bits)),
      );
    } catch (e) {
      if (e instanceof RangeError) throw new ConfigError(e.message, 'x-model');
      throw e;
    }
  }

  /** The device model, when one was configured. */
  get model(): NsModel | undefined {
    return this.#model;
  }

  /** qom-set of an `x-model*` property: creates the model on first use. */
  setModelProp(prop: string, value: string | number | boolean): void {
    const m = this.#model ?? this.#newModel(DEFAULT_PARAMS);
    m.set(prop, value);
    this.#model = m;
  }

  /** Wear of the modelled media (SMART, log 09h), when the model is `ssd`. */
  wear(): Wear | undefined {
    return this.#model?.wear();
  }

  /** Calls `fn` with new wear critical warning bits; returns the unsubscribe. */
  watchWear(fn: (bits: number) => void): () => void {
    this.#wearWatchers.add(fn);
    return () => void this.#wearWatchers.delete(fn);
  }

  /** Injected media errors (monitor x-nvmemu-inject-media-error; see media-faults.ts). */
  readonly mediaFaults: MediaFaults;
  /** Placement handles in the subsystem's FDP endurance group (`fdp=on`). */
  readonly fdp: NsFdp | undefined;

  #computeGeometry(imageSize: bigint): Geometry {
    const index = this.#flbas & 0x0f;
    const format = this.#formats.formats[index];
    if (format === undefined) throw new RangeError(`FLBAS index ${index} has no LBA format`);
    return computeGeometry(
      format,
      index,
      (this.#flbas & FLBAS_EXTENDED) !== 0,
      imageSize,
      this.config.discardGranularity,
    );
  }

  /** Claims the planned handles in the endurance group shared by the subsystem's namespaces. */
  #initFdp(plan: NsFdpPlan | undefined): NsFdp | undefined {
    if (plan === undefined) return undefined;
    const group = enduranceGroupFor(plan.key, plan.params);
    for (const id of plan.phs) {
      group.claim(id, plan.ctrl ? 'ctrl' : 'host', plan.lbafi, this.config.lbaSize);
    }
    return new NsFdp(group, this.nsid, plan.phs, this.config.lbaSize);
  }

  /** The active format and derived sizes. */
  get geometry(): Geometry {
    return this.#store.geometry;
  }
  get sizeBlocks(): bigint {
    return BigInt(this.#zoned?.nsze ?? this.geometry.nsze);
  }
  /** The zone state of a zoned namespace (host-side inspection and fault injection). */
  get zoned(): ZonedNs | undefined {
    return this.#zoned;
  }
  get lbaSize(): number {
    return this.geometry.lbaSize;
  }

  /** `nvmemu run`'s summary line. */
  describe(): string {
    const g = this.geometry;
    const bytes = this.sizeBlocks * BigInt(g.lbaSize);
    const format = `${g.lbaSize} B${g.ms > 0 ? ` + ${g.ms} B metadata` : ''} blocks`;
    const kind =
      this.#zoned === undefined ? '' : `, zoned (${this.#zoned.table.zones.length} zones)`;
    const attach = this.detached ? ', detached' : this.shared ? ', shared' : ', private';
    const id = this.id === undefined ? '' : ` '${this.id}'`;
    return `nvme-ns${id} nsid ${this.nsid}: ${bytes} bytes, ${format}${kind}${attach}`;
  }
  /** DMRSL contribution for Identify CNS 06h (blocks). */
  get dmrsl(): number {
    return this.geometry.dmrsl;
  }
  get writeCache(): boolean {
    return this.#writeCache;
  }
  get formatInProgress(): boolean {
    return this.#formatting;
  }

  async setWriteCache(enabled: boolean): Promise<void> {
    if (!enabled && this.#writeCache) await this.flush();
    this.#writeCache = enabled;
  }

  /**
   * NMIC bit 0: a shared namespace in a subsystem ([7.2] an explicit one; QEMU 10.0 gives every
   * controller a subsystem, so any shared `nvme-ns`).
   */
  #nmic(inSubsystem: boolean): number {
    return this.shared && (inSubsystem || this.level.implicitSubsystem) ? 1 : 0;
  }

  /**
   * Endurance group 1 (subsys/endurance.ts): every namespace of an FDP subsystem, and at the
   * 10.0 level every `nvme-ns` namespace (not the `drive=` one).
   */
  get endgid(): number {
    return this.fdp !== undefined || (this.level.enduranceGroupAlways && !this.legacy) ? 1 : 0;
  }

  identify(inSubsystem: boolean, anagrpid = 0): Uint8Array {
    const g = this.geometry;
    const lvl = this.level;
    return encodeIdentifyNs({
      // A zoned namespace is whole zones (reference §5.1).
      nsze: this.#zoned?.nsze ?? g.nsze,
      nsfeat:
        (this.dulbeCapable ? NSFEAT_DULBE : 0) | NSFEAT_OPTPERF | (lvl.npdgl ? NSFEAT_NPDGL : 0),
      formats: this.#formats.formats,
      flbas: this.#flbas,
      dps: this.#dps,
      nmic: this.#nmic(inSubsystem),
      npdg: g.npdg,
      mssrl: this.config.mssrl,
      mcl: this.config.mcl,
      msrc: this.config.msrc,
      nguid: this.config.nguid,
      eui64: this.config.eui64,
      endgid: this.endgid,
      dlfeat: lvl.dlfeat,
      anagrpid,
      rescap: RESCAP,
    });
  }

  /**
   * CNS 08h/1Fh. QEMU 10.0's `drive=` namespace answers all zeros (it is set up without the
   * fields nvme-ns fills), every other one NMIC, ENDGID and NSTAT ready.
   */
  identifyIndependent(inSubsystem: boolean): Uint8Array {
    if (this.legacy) return encodeIdentifyIndependent({ nmic: 0, endgid: 0, nstat: 0 });
    return encodeIdentifyIndependent({
      nmic: this.#nmic(inSubsystem),
      endgid: this.endgid,
      nstat: NSTAT_READY,
    });
  }

  identifyIoCs(csi: number): Uint8Array | number {
    if (csi === 0) {
      // NPDGL/NPDAL (QEMU 10.0): the deallocation granularity in blocks.
      const npdgl = this.level.npdgl
        ? Math.floor(this.config.discardGranularity / this.lbaSize)
        : 0;
      return encodeIdentifyNsNvm(this.config.pif, this.#formats.initialIndex, npdgl);
    }
    if (csi === 2 && this.#zoned !== undefined) {
      return this.#zoned.identify(this.#formats.formats.length);
    }
    return withDnr(Status.INVALID_FIELD);
  }

  descriptors(): Uint8Array {
    return encodeDescriptors(this.config.uuid, this.config.nguid, this.config.eui64, this.csi);
  }

  /**
   * §4.1 steps 3-6: format in progress, FUSE, opcode support, then the command. Completes at
   * once when nothing in the command has to wait (util/maybe.ts).
   */
  execute(ctx: CommandContext): MaybePromise<Completion> {
    const m = this.#model;
    const running =
      m === undefined || !m.active ? this.#dispatch(ctx, undefined) : this.#modelled(m, ctx);
    if (running instanceof Promise) {
      this.#inflight.add(running);
      const settled = (): void => void this.#inflight.delete(running);
      running.then(settled, settled);
    }
    return running;
  }

  /** The command with a model ticket; its completion waits for the model's time. */
  #modelled(m: NsModel, ctx: CommandContext): MaybePromise<Completion> {
    const ticket = m.ticket(ctx.cmd, this.fdp);
    return m.complete(ticket, ctx.cmd.opcode, this.#dispatch(ctx, ticket));
  }

  #dispatch(ctx: CommandContext, ticket: ModelTicket | undefined): MaybePromise<Completion> {
    if (this.#closed) return { status: Status.INTERNAL_DEVICE_ERROR };
    if (this.#formatting) return { status: Status.FORMAT_IN_PROGRESS };
    if (ctx.cmd.fuse !== 0) return { status: Status.INVALID_FIELD };
    // CC.CSS selects the opcodes (reference §2.3, QEMU 7.2): admin only -> none; NVM only ->
    // the NVM set, also on a zoned namespace (whose write rules still apply); all -> own set.
    const css = ctx.ctrl.css;
    if (css === CSS_ADMIN_ONLY) return { status: withDnr(Status.INVALID_OPCODE) };
    const zns = this.#zoned;
    const zoned =
      zns !== undefined && css === CSS_ALL ? ZONED_HANDLERS.get(ctx.cmd.opcode) : undefined;
    if (zoned !== undefined) return zoned(zns!, this.#core(ticket), ctx);
    const handler = this.#handler(ctx.cmd.opcode);
    if (handler === undefined) return { status: withDnr(Status.INVALID_OPCODE) };
    return handler(this.#core(ticket), ctx);
  }

  transferLength(cmd: NvmeCmd): { readonly data: number; readonly meta: number } | undefined {
    switch (cmd.opcode) {
      case IoOpc.READ:
      case IoOpc.WRITE:
      case IoOpc.COMPARE:
      case IoOpc.ZONE_APPEND:
        break;
      default:
        return undefined;
    }
    const g = this.geometry;
    const pi = this.protection;
    const nlb = (cmd.cdw12 & 0xffff) + 1;
    const pract = ((cmd.cdw12 >>> 29) & 1) === 1;
    const stripped = pi !== undefined && pract && tupleOnly(pi);
    const metaBytes = stripped ? 0 : nlb * g.ms;
    return g.extended
      ? { data: nlb * g.lbaSize + metaBytes, meta: 0 }
      : { data: nlb * g.lbaSize, meta: metaBytes };
  }

  #handler(opcode: number): Handler | undefined {
    if (opcode === IoOpc.WRITE_UNCOR && this.#writeUncorrectable) return io.writeUncorrectable;
    return NVM_HANDLERS.get(opcode);
  }

  /** Opcodes execute() accepts (for the Commands Supported and Effects log and ONCS). */
  supportedOpcodes(): number[] {
    const ops = [...NVM_HANDLERS.keys()];
    if (this.#writeUncorrectable) ops.push(IoOpc.WRITE_UNCOR);
    if (this.#zoned !== undefined) ops.push(...ZONED_HANDLERS.keys());
    return ops.sort((a, b) => a - b);
  }

  /** Protection information of the active format, when DPS selects a type. */
  get protection(): PiFormat | undefined {
    const type = this.#dps & DPS_TYPE;
    if (type === 0) return undefined;
    return {
      type: type as 1 | 2 | 3,
      pif: this.config.pif === 2 ? 2 : 0,
      first: (this.#dps & DPS_FIRST) !== 0,
      ms: this.geometry.ms,
      lbaSize: this.geometry.lbaSize,
    };
  }

  /** The I/O state handlers work on (also the source side of a cross-namespace Copy). */
  ioCore(): io.NsCore {
    return this.#core(undefined);
  }

  #core(model: ModelTicket | undefined): io.NsCore {
    // One object literal per command (spreads of optional parts cost more than the command).
    const zoned = this.#zoned;
    return {
      pi: this.protection,
      fdp: this.fdp,
      peer: this.#peer,
      store: this.#store,
      // Bounds of a zoned namespace are whole zones; the image layout (metaOffset) is not.
      geometry:
        zoned === undefined ? this.#store.geometry : { ...this.#store.geometry, nsze: zoned.nsze },
      dealloc: this.#dealloc,
      uncorrectable: this.#uncorrectable,
      writeCache: this.#writeCache,
      dulbe: this.dulbeCapable && (this.errorRecovery & ERR_REC_DULBE) !== 0,
      stats: this.#stats,
      copyLimits: this.config,
      zoned,
      ioMgmtNoOp: this.level.ioMgmtNoOpWithoutFdp,
      resv: this.reservations,
      sharedImage: this.config.sharedImage === true,
      model,
    };
  }

  readonly #peer = (ns: NamespaceApi): io.NsCore | undefined =>
    ns instanceof Namespace ? ns.ioCore() : undefined;

  /**
   * Format NVM of this namespace (§3.8). Checks in QEMU's order: a PI type needs a format
   * with at least the tuple's metadata bytes (8, or 16 for pif 2), else Invalid Format. While
   * the image is zeroed, I/O completes with Format In Progress (0x084); afterwards every
   * block reads with all-ones tuples (never written).
   */
  async format(
    lbaf: number,
    _ses: number,
    pi: number,
    pil: number,
    mset: number,
  ): Promise<Completion> {
    if (this.#formatting) return { status: Status.FORMAT_IN_PROGRESS };
    if (this.#zoned !== undefined) return { status: withDnr(Status.INVALID_FORMAT) };
    const fmt = this.#formats.formats[lbaf];
    if (fmt === undefined) return { status: withDnr(Status.INVALID_FORMAT) };
    const tuple = this.config.pif === 2 ? 16 : 8;
    if (pi !== 0 && fmt.ms < tuple) return { status: withDnr(Status.INVALID_FORMAT) };
    if (pi > 3) return { status: withDnr(Status.INVALID_FIELD) };
    // Other processes read a shared image with the configured format: erasing is all a
    // Format may do to it (a new format would be this process's alone).
    if (this.config.sharedImage === true && !this.#sameFormat(lbaf, pi, pil, mset)) {
      return { status: withDnr(Status.INVALID_FORMAT) };
    }
    this.#formatting = true;
    try {
      // Commands accepted before the format finish first; new ones see Format In Progress.
      await Promise.allSettled([...this.#inflight]);
      await this.#store.zeroImage();
    } catch {
      return { status: Status.INTERNAL_DEVICE_ERROR };
    } finally {
      this.#formatting = false;
    }
    this.#flbas = (lbaf & 0x0f) | ((mset & 1) << 4) | (((lbaf >> 4) & 0x3) << 5);
    this.#dps = (pi & DPS_TYPE) | ((pil & 1) << 3);
    this.#store.geometry = this.#computeGeometry(this.#store.drive.size);
    this.#dealloc.clear();
    this.#uncorrectable.clear();
    this.#model?.format();
    return { status: Status.SUCCESS };
  }

  #sameFormat(lbaf: number, pi: number, pil: number, mset: number): boolean {
    const flbas = (lbaf & 0x0f) | ((mset & 1) << 4) | (((lbaf >> 4) & 0x3) << 5);
    return flbas === this.#flbas && ((pi & DPS_TYPE) | ((pil & 1) << 3)) === this.#dps;
  }

  smart(): NsSmartCounters {
    return { ...this.#stats };
  }

  async flush(): Promise<void> {
    await this.#store.flush();
    // The zone state file is made durable with the data it describes.
    this.#zoned?.flush();
  }

  async shutdown(): Promise<void> {
    // Zones close as on a power cycle (reference §2.4), then everything is made durable.
    this.#zoned?.shutdown();
    await this.flush();
  }

  async close(): Promise<void> {
    this.#closed = true;
    // A stop is not a power cut: what a write cache model holds reaches the image.
    if (this.#store.journal !== undefined) await this.#store.flush();
    this.#zoned?.close();
    this.reservations.close();
    return Promise.resolve();
  }

  // Host-side inspection and fault injection (in-process API, tests).

  /** Marks [slba, slba + nlb) uncorrectable, as Write Uncorrectable would. */
  injectUncorrectable(slba: number, nlb: number): void {
    if (slba + nlb > this.geometry.nsze) throw new RangeError('range outside the namespace');
    this.#uncorrectable.add(slba, slba + nlb);
  }
  deallocatedRanges(): LbaRange[] {
    return this.#dealloc.list();
  }
  uncorrectableRanges(): LbaRange[] {
    return this.#uncorrectable.list();
  }
}
