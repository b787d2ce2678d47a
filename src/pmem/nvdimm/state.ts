// Per-DIMM state that outlives the emulator: the dirty-shutdown (unsafe shutdown) count, the
// "mapped writable" marker that lets the next start detect a crash, and injected bad blocks
// (reference qemu-pmem-ndctl.md §11). Stored as a small JSON file in `<dataDir>/pmem/`, keyed
// by the backing file (real path + offset), written crash-safely (temp file, fsync, rename,
// fsync of the folder) so a crash during the write leaves the old or the new state, never a
// torn one. Ram and temp-file backends have no identity across runs: their state lives in
// memory only.

import { createHash } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

/** A bad-block range in 512-byte sectors, region relative (sysfs `badblocks` units). */
export interface BadRange {
  readonly sector: number;
  readonly count: number;
}

export interface Marker {
  readonly pid: number;
  readonly bootId: string;
}

interface StateJson {
  readonly version: 1;
  readonly backing: string;
  readonly dirtyShutdown: number;
  readonly mapped: Marker | null;
  readonly badblocks: readonly BadRange[];
}

export function currentBootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}

/** Whether the process that wrote `m` may still be running (same boot, pid exists). */
export function markerAlive(m: Marker): boolean {
  if (m.bootId !== currentBootId()) return false;
  try {
    process.kill(m.pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM';
  }
}

/** Writes `text` to `path` so that readers see either the old or the new content. */
export function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  const fd = openSync(tmp, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dir = openSync(join(path, '..'), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

/** Sorted, merged insertion of [sector, sector+count). */
export function addRange(list: readonly BadRange[], sector: number, count: number): BadRange[] {
  const all = [...list, { sector, count }].sort((a, b) => a.sector - b.sector);
  const out: { sector: number; count: number }[] = [];
  for (const r of all) {
    const last = out.at(-1);
    if (last !== undefined && r.sector <= last.sector + last.count) {
      last.count = Math.max(last.count, r.sector + r.count - last.sector);
    } else {
      out.push({ ...r });
    }
  }
  return out;
}

/** Removes [sector, sector+count) from the list (splitting ranges as needed). */
export function removeRange(list: readonly BadRange[], sector: number, count: number): BadRange[] {
  const end = sector + count;
  const out: BadRange[] = [];
  for (const r of list) {
    const rEnd = r.sector + r.count;
    if (rEnd <= sector || r.sector >= end) {
      out.push(r);
      continue;
    }
    if (r.sector < sector) out.push({ sector: r.sector, count: sector - r.sector });
    if (rEnd > end) out.push({ sector: end, count: rEnd - end });
  }
  return out;
}

export class DimmState {
  /** Undefined for backends without identity across runs (ram, temp file). */
  readonly path: string | undefined;
  readonly backing: string;
  /** Whether the state file was created by this run (a failed start deletes it again). */
  readonly created: boolean;
  dirtyShutdown: number;
  mapped: Marker | null;
  badblocks: BadRange[];

  private constructor(path: string | undefined, backing: string, json: StateJson | undefined) {
    this.path = path;
    this.backing = backing;
    this.created = json === undefined;
    this.dirtyShutdown = json?.dirtyShutdown ?? 0;
    this.mapped = json?.mapped ?? null;
    this.badblocks = [...(json?.badblocks ?? [])];
  }

  /** Loads (or starts) the state of the DIMM backed by `file` at `offset`. */
  static load(dataDir: string, file: string | undefined, offset: bigint): DimmState {
    if (file === undefined) return new DimmState(undefined, '', undefined);
    const backing = `${realpathSync(file)}:${offset}`;
    const key = createHash('sha256').update(backing).digest('hex').slice(0, 16);
    const dir = join(dataDir, 'pmem');
    mkdirSync(dir, { recursive: true });
    const path = join(dir, `dimm-${key}.json`);
    let json: StateJson | undefined;
    try {
      json = JSON.parse(readFileSync(path, 'utf8')) as StateJson;
    } catch (e) {
      if ((e as { code?: string }).code !== 'ENOENT') throw e;
    }
    return new DimmState(path, backing, json);
  }

  save(): void {
    if (this.path === undefined) return;
    const json: StateJson = {
      version: 1,
      backing: this.backing,
      dirtyShutdown: this.dirtyShutdown,
      mapped: this.mapped,
      badblocks: this.badblocks,
    };
    writeAtomic(this.path, JSON.stringify(json, null, 2) + '\n');
  }

  /** Removes a state file this run created (rollback of a failed start). */
  discard(): void {
    if (this.path !== undefined && this.created) {
      try {
        unlinkSync(this.path);
      } catch {
        // Already gone.
      }
    }
  }
}
