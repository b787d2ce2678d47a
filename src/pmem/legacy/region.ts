// The emulated legacy pmem regions of a running machine: e820 type-12 ranges carved out of
// guest RAM by `memmap=nn!ss` (reference qemu-pmem-ndctl.md §6.4). Linux gives each one an
// nvdimm bus with provider "e820" (ndbusN), one label-less pmem region (no DIMMs, no mappings,
// no persistence domain) and one raw namespace namespaceN.0 → /dev/pmemN.
//
// Backing: the range is ordinary guest RAM, so its contents are volatile, like
// memory-backend-ram — gone when the machine stops. Other processes (libpmem2, `nvmemu ndctl`)
// must still map it, which anonymous memory of this process would not allow; so each region is
// a file on tmpfs (/dev/shm: shared memory, never written to disk), created empty (zeros) at
// start, deleted at stop, and deleted at the next start of the same data folder if the machine
// was killed. $NVMEMU_SHM_DIR overrides the folder (it should be a tmpfs too).

import { createHash } from 'node:crypto';
import { closeSync, ftruncateSync, openSync, readdirSync, rmSync, statfsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Component } from '../../machine/registry.js';
import { EmuError, ErrorCode } from '../../util/errors.js';
import { toSafeNumber } from '../../util/u64.js';
import { sizeArg } from '../memmap/e820.js';
import { userLines, type LegacyPlan, type LegacyRange } from './plan.js';

export const DEFAULT_SHM_DIR = '/dev/shm';

/** One e820 pmem region, published in the state folder after the machine's devices. */
export class LegacyPmemRegion implements Component {
  /** The Linux platform device that owns these regions. */
  readonly typeName = 'e820_pmem';
  readonly id = undefined;
  /** Guest-physical start and size. */
  readonly start: bigint;
  readonly size: number;
  /** The tmpfs file that holds the range (region byte 0 = file offset 0). */
  readonly path: string;
  #closed = false;

  constructor(range: LegacyRange, path: string) {
    this.start = range.start;
    this.size = toSafeNumber(range.size, 'size');
    this.path = path;
  }

  /** Stopping the machine loses the contents, as powering off loses RAM. Idempotent. */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      rmSync(this.path, { force: true });
    }
    return Promise.resolve();
  }

  describe(): string {
    const last = this.start + BigInt(this.size) - 1n;
    return `e820 pmem [mem 0x${this.start.toString(16)}-0x${last.toString(16)}] (${sizeArg(BigInt(this.size))}, volatile) in ${this.path}`;
  }
}

/** The legacy pmem of a running machine (possibly none). */
export class LegacyPmem {
  readonly plan: LegacyPlan | undefined;
  readonly regions: readonly LegacyPmemRegion[];

  private constructor(plan: LegacyPlan | undefined, regions: LegacyPmemRegion[]) {
    this.plan = plan;
    this.regions = regions;
  }

  /**
   * Removes what a killed run of this data folder left in the shm folder, then creates one
   * zero-filled (sparse) file per region. Refuses when the tmpfs cannot hold them all: a store
   * into a mapped tmpfs page that cannot be allocated kills the storing process with SIGBUS.
   */
  static create(
    plan: LegacyPlan | undefined,
    dataDir: string,
    shmDir: string = process.env.NVMEMU_SHM_DIR ?? DEFAULT_SHM_DIR,
  ): LegacyPmem {
    const prefix = filePrefix(dataDir);
    removeStale(shmDir, prefix);
    if (plan === undefined || plan.regions.length === 0) return new LegacyPmem(plan, []);
    const need = plan.regions.reduce((s, r) => s + r.size, 0n);
    let free: bigint;
    try {
      const st = statfsSync(shmDir, { bigint: true });
      free = st.bavail * st.bsize;
    } catch (e) {
      throw new LegacyPmemError(
        `legacy pmem needs a tmpfs folder for its volatile regions: ${shmDir}: ${(e as Error).message}`,
      );
    }
    if (need > free) {
      throw new LegacyPmemError(
        `legacy pmem: ${shmDir} has ${humanBytes(free)} free, the memmap= regions need ${humanBytes(need)}`,
      );
    }
    const regions: LegacyPmemRegion[] = [];
    try {
      for (const r of plan.regions) {
        const path = join(shmDir, `${prefix}0x${r.start.toString(16)}`);
        const fd = openSync(path, 'wx', 0o600);
        try {
          ftruncateSync(fd, toSafeNumber(r.size, 'size'));
        } finally {
          closeSync(fd);
        }
        regions.push(new LegacyPmemRegion(r, path));
      }
    } catch (e) {
      for (const r of regions) void r.close();
      if (e instanceof EmuError) throw e;
      throw new LegacyPmemError(`legacy pmem: ${(e as Error).message}`);
    }
    return new LegacyPmem(plan, regions);
  }

  /** Lines for `nvmemu run`'s summary: each region, then the kernel's user-defined map. */
  describe(): string[] {
    if (this.plan === undefined) return [];
    return [
      ...this.regions.map((r) => r.describe()),
      `kernel command line: ${this.plan.args.join(' ')} (user-defined physical RAM map):`,
      ...userLines(this.plan).map((l) => `  ${l}`),
    ];
  }

  async close(): Promise<void> {
    for (const r of this.regions) await r.close();
  }
}

/** "1.50 GiB" at or above 1 GiB, else "12.00 MiB". */
export function humanBytes(v: bigint): string {
  const gib = Number(v) / 2 ** 30;
  return gib >= 1 ? `${gib.toFixed(2)} GiB` : `${(Number(v) / 2 ** 20).toFixed(2)} MiB`;
}

/** `nvmemu-<16 hex digits of sha256(data folder)>-e820-`: one name space per data folder. */
export function filePrefix(dataDir: string): string {
  const h = createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 16);
  return `nvmemu-${h}-e820-`;
}

function removeStale(shmDir: string, prefix: string): void {
  let names: string[];
  try {
    names = readdirSync(shmDir);
  } catch {
    return;
  }
  for (const n of names) if (n.startsWith(prefix)) rmSync(join(shmDir, n), { force: true });
}

/** The host cannot provide the volatile backing (no tmpfs folder, not enough room). */
export class LegacyPmemError extends EmuError {
  constructor(message: string) {
    super(ErrorCode.EMU_ERR_BACKEND_IO, message);
    this.name = 'LegacyPmemError';
  }
}
