// Namespace Management of a subsystem (NVMe Base Spec 2.0 §5.22, §8.11; beyond QEMU 7.2, which
// advertises it but implements only attachment): namespaces created by the host on the
// subsystem's capacity (`nvm-capacity` on nvme-subsys), each backed by a new sparse image in
// the data folder, allocated but not attached until Namespace Attachment attaches them, and
// deleted with their image. The namespaces and their attachments are recorded in the data
// folder (persist/ns-mgmt-state.ts), so they are there again after a restart or a power cut.

import { randomUUID } from 'node:crypto';
import { closeSync, ftruncateSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { Drive } from '../../block/drive.js';
import type { Planned } from '../../machine/registry.js';
import { parseHexBytes } from '../../util/u64.js';
import { Status, withDnr } from '../spec/status.js';
import type { NvmeNsConfig } from '../ns/config.js';
import { BUILTIN_LBA_FORMATS, defaultDiscardGranularity } from '../ns/lbaf.js';
import { Namespace } from '../ns/namespace.js';
import { ANAGRPMAX } from '../spec/ana.js';
import {
  managedImageFile,
  nsMgmtStateFile,
  readManagedNamespaces,
  writeManagedNamespaces,
  type ManagedNsRecord,
} from '../persist/ns-mgmt-state.js';
import { FileResvStore, resvStateFile } from '../persist/resv-file.js';
import { MAX_NAMESPACES } from '../ctrl/bus.js';
import type { NsCreateArgs, NsManagement, Subsystem, SubsysController } from './subsystem.js';

/** A created namespace has no plan of its own: it belongs to the subsystem. */
const NO_PLAN: Planned = {
  kind: 'device',
  typeName: 'nvme-subsys',
  id: undefined,
  location: 'Namespace Management',
  config: undefined,
};

interface Managed {
  readonly ns: Namespace;
  readonly drive: Drive;
  readonly rec: ManagedNsRecord;
  readonly bytes: bigint;
}

/** Bytes of the image of a namespace of `nsze` blocks in format FLBAS. */
function imageBytes(nsze: bigint, flbas: number): bigint | undefined {
  const f = BUILTIN_LBA_FORMATS[flbas & 0x0f];
  return f === undefined ? undefined : nsze * BigInt(2 ** f.ds + f.ms);
}

/** The namespace configuration of a record (the image layout as for `-device nvme-ns`). */
function configOf(rec: ManagedNsRecord, file: string, subnqn: string): NvmeNsConfig {
  const f = BUILTIN_LBA_FORMATS[rec.flbas & 0x0f]!;
  const lbaSize = 2 ** f.ds;
  return {
    id: undefined,
    drive: {
      id: `${subnqn}/${rec.nsid}`,
      file,
      readOnly: false,
      size: imageBytes(rec.nsze, rec.flbas)!,
    },
    controller: NO_PLAN,
    inSubsystem: true,
    requestedNsid: rec.nsid,
    nsid: rec.nsid,
    shared: (rec.nmic & 1) === 1,
    // Allocated only: attachment follows the record (controllerAdded), never the default.
    detached: true,
    uuid: rec.uuid,
    nguid: undefined,
    eui64: 0n,
    lbaSize,
    physicalBlockSize: lbaSize,
    minIoSize: 0,
    optIoSize: 0,
    discardGranularity: defaultDiscardGranularity(lbaSize),
    writeCache: true,
    ms: f.ms,
    mset: (rec.flbas >>> 4) & 1,
    pi: rec.dps & 0x7,
    pil: (rec.dps >>> 3) & 1,
    pif: 0,
    mssrl: 128,
    mcl: 128,
    msrc: 127,
    zoned: undefined,
    nsze: Number(rec.nsze),
    ...(rec.anagrpid !== 0 ? { anagrpid: rec.anagrpid } : {}),
  };
}

export class ManagedNamespaces implements NsManagement {
  readonly #subsys: Subsystem;
  readonly #dataDir: string;
  readonly #file: string;
  readonly #total: bigint;
  readonly #managed = new Map<number, Managed>();

  private constructor(subsys: Subsystem, dataDir: string, total: bigint) {
    this.#subsys = subsys;
    this.#dataDir = dataDir;
    this.#file = nsMgmtStateFile(dataDir, subsys.subnqn);
    this.#total = total;
  }

  /**
   * Namespace Management for `subsys` with `capacity` bytes: the recorded namespaces are opened
   * and allocated again (they attach as their controllers join).
   */
  static async open(
    subsys: Subsystem,
    dataDir: string,
    capacity: bigint,
  ): Promise<ManagedNamespaces> {
    const m = new ManagedNamespaces(subsys, dataDir, capacity);
    subsys.nsManagement = m;
    try {
      for (const rec of readManagedNamespaces(m.#file)) await m.#realize(rec);
    } catch (e) {
      await m.close();
      throw e;
    }
    m.#publishCapacity();
    return m;
  }

  async #realize(rec: ManagedNsRecord): Promise<Managed> {
    const file = managedImageFile(this.#dataDir, this.#subsys.subnqn, rec.nsid);
    const cfg = configOf(rec, file, this.#subsys.subnqn);
    const drive = await Drive.open({ id: cfg.drive.id, file, readOnly: false });
    const ns = new Namespace(cfg, drive);
    try {
      ns.reservations.use(
        new FileResvStore(resvStateFile(this.#dataDir, this.#subsys.subnqn, rec.nsid)),
      );
      this.#subsys.addNamespace(ns, undefined);
    } catch (e) {
      await ns.close();
      await drive.close();
      throw e;
    }
    const m: Managed = { ns, drive, rec, bytes: drive.size };
    this.#managed.set(rec.nsid, m);
    return m;
  }

  /** Capacity not yet given to a namespace. */
  get unallocated(): bigint {
    let used = 0n;
    for (const m of this.#managed.values()) used += m.bytes;
    return this.#total - used;
  }

  #publishCapacity(): void {
    this.#subsys.capacity = { total: this.#total, unallocated: this.unallocated };
  }

  manages(nsid: number): boolean {
    return this.#managed.has(nsid);
  }

  /** The created namespaces (monitor, summary). */
  list(): readonly Namespace[] {
    return [...this.#managed.values()].map((m) => m.ns);
  }

  async create(a: NsCreateArgs): Promise<{ status: number; nsid?: number }> {
    const fail = (s: number): { status: number } => ({ status: withDnr(s) });
    if (a.nsze === 0n || a.ncap > a.nsze) return fail(Status.INVALID_FIELD);
    // Every block is backed by the image: no thin provisioning (NCAP = NSZE).
    if (a.ncap < a.nsze) return fail(Status.THIN_PROVISIONING_NOT_SUPPORTED);
    const bytes = imageBytes(a.nsze, a.flbas);
    const f = BUILTIN_LBA_FORMATS[a.flbas & 0x0f];
    if (bytes === undefined || f === undefined || (a.flbas & 0x60) !== 0) {
      return fail(Status.INVALID_FORMAT);
    }
    const pi = a.dps & 0x7;
    if (pi > 3 || (pi !== 0 && f.ms < 8)) return fail(Status.INVALID_FORMAT);
    if (a.anagrpid > ANAGRPMAX) return fail(Status.ANA_GROUP_ID_INVALID);
    if (bytes > this.unallocated) return fail(Status.NS_INSUFFICIENT_CAPACITY);
    let nsid = 1;
    while (nsid <= MAX_NAMESPACES && this.#subsys.namespaces.has(nsid)) nsid++;
    if (nsid > MAX_NAMESPACES) return fail(Status.NS_ID_UNAVAILABLE);
    const file = managedImageFile(this.#dataDir, this.#subsys.subnqn, nsid);
    mkdirSync(dirname(file), { recursive: true });
    const fd = openSync(file, 'w');
    try {
      ftruncateSync(fd, Number(bytes));
    } finally {
      closeSync(fd);
    }
    const rec: ManagedNsRecord = {
      nsid,
      nsze: a.nsze,
      flbas: a.flbas & 0x1f,
      dps: a.dps & 0xf,
      nmic: a.nmic & 1,
      anagrpid: a.anagrpid,
      uuid: parseHexBytes(randomUUID()),
      attached: [],
    };
    try {
      await this.#realize(rec);
    } catch {
      rmSync(file, { force: true });
      return { status: Status.INTERNAL_DEVICE_ERROR };
    }
    this.#save();
    return { status: 0, nsid };
  }

  async delete(nsid: number): Promise<void> {
    const m = this.#managed.get(nsid);
    if (m === undefined) return;
    this.#managed.delete(nsid);
    // Detached from every controller, each noting the change (Namespace Attribute Changed).
    this.#subsys.removeNamespace(nsid);
    await m.ns.close();
    await m.drive.close();
    rmSync(m.drive.path, { force: true });
    const resv = resvStateFile(this.#dataDir, this.#subsys.subnqn, nsid);
    rmSync(resv, { force: true });
    rmSync(`${resv}.lock`, { force: true });
    this.#save();
  }

  controllerAdded(ctrl: SubsysController): void {
    for (const m of this.#managed.values()) {
      if (m.rec.attached.includes(ctrl.cntlid) && !ctrl.isAttached(m.rec.nsid)) {
        ctrl.attachNamespace(m.ns);
      }
    }
  }

  attachmentsChanged(): void {
    for (const [nsid, m] of this.#managed) {
      const attached = [...this.#subsys.controllers.values()]
        .filter((c) => c.isAttached(nsid))
        .map((c) => c.cntlid)
        .sort((a, b) => a - b);
      this.#managed.set(nsid, { ...m, rec: { ...m.rec, attached } });
    }
    this.#save();
  }

  #save(): void {
    writeManagedNamespaces(
      this.#file,
      [...this.#managed.values()].map((m) => m.rec).sort((a, b) => a.nsid - b.nsid),
    );
    this.#publishCapacity();
  }

  /** Machine shutdown: the namespaces close (the record stays). */
  async close(): Promise<void> {
    for (const m of this.#managed.values()) {
      await m.ns.close();
      await m.drive.close();
    }
    this.#managed.clear();
    if (this.#subsys.nsManagement === this) this.#subsys.nsManagement = undefined;
  }
}
