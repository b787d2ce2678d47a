// NVDIMM topology lookups through sysfs (pmdk.md §2.2, §3.6, §4, §5.1). PMDK asks libndctl;
// we read the same sysfs attributes libndctl reads. The root is injectable (upstream tests mock
// BUS_DEVICE_PATH the same way), so tests and nvmemu-published trees can stand in for /sys.
//
// A source's region is found from its device number: /sys/dev/block/<maj:min> (fsdax file: the
// st_dev of the file system) or /sys/dev/char/<maj:min> (devdax: st_rdev) resolves to a path
// under .../regionN/<namespace|pfn|btt|dax>N.M/...; the first `regionN` component names the
// region and the component after it the namespace-like device.

import { readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

let sysfsRoot = '/sys';

/** Point all lookups at another sysfs tree (tests, nvmemu state trees); returns the old root. */
export function setSysfsRoot(root: string): string {
  const old = sysfsRoot;
  sysfsRoot = root;
  return old;
}

export function sysfs(...parts: string[]): string {
  return join(sysfsRoot, ...parts);
}

/** Linux dev_t → "major:minor" (glibc's gnu_dev_major/minor bit layout). */
export function devName(dev: bigint): string {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}

export interface NdDevice {
  /** e.g. "region0" */
  readonly region: string;
  /** e.g. "namespace0.0", "pfn0.1", "dax0.0" (the device under the region). */
  readonly child: string;
  /** Block device name for fsdax (e.g. "pmem0"), null for devdax. */
  readonly block: string | null;
}

function readAttr(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** Trimmed attribute of a region (e.g. 'numa_node', 'resource'), or null. */
export function regionAttr(region: string, attr: string): string | null {
  return readAttr(sysfs('bus', 'nd', 'devices', region, attr))?.trim() ?? null;
}

/** The nd region device behind a device number, or null (ordinary file systems, /dev/null...). */
export function findNdDevice(kind: 'block' | 'char', dev: bigint): NdDevice | null {
  let real: string;
  try {
    real = realpathSync(sysfs('dev', kind, devName(dev)));
  } catch {
    return null;
  }
  const parts = real.split('/');
  const i = parts.findIndex((p) => /^region\d+$/.test(p));
  if (i < 0 || i + 1 >= parts.length) return null;
  const region = parts[i]!;
  const child = parts[i + 1]!;
  const blockAt = parts.indexOf('block', i);
  const block = kind === 'block' && blockAt > 0 ? (parts[blockAt + 1] ?? null) : null;
  return { region, child, block };
}

/** Whether `/sys/dev/char/<dev>/subsystem` resolves to a directory named `dax` (§1.2). */
export function charSubsystem(
  dev: bigint,
): { ok: true; name: string } | { ok: false; errno: string } {
  try {
    return {
      ok: true,
      name: basename(realpathSync(sysfs('dev', 'char', devName(dev), 'subsystem'))),
    };
  } catch (e) {
    return { ok: false, errno: (e as NodeJS.ErrnoException).code ?? 'EIO' };
  }
}

/** Attribute of the device-dax char device (size, align), read through /sys/dev/char. */
export function daxAttr(dev: bigint, attr: string): string | null {
  return readAttr(sysfs('dev', 'char', devName(dev), attr))?.trim() ?? null;
}

/** DIMMs (nmemX) of a region, in mapping order (regionN/mappingK = "nmemX,offset,length,pos"). */
export function regionDimms(region: string): string[] {
  const out: { pos: number; dimm: string }[] = [];
  for (let k = 0; ; k++) {
    const m = regionAttr(region, `mapping${k}`);
    if (m === null) break;
    const [dimm, , , pos] = m.split(',');
    if (dimm !== undefined) out.push({ pos: Number(pos ?? k), dimm });
  }
  return out.sort((a, b) => a.pos - b.pos).map((d) => d.dimm);
}

/** nfit (or papr) attribute of a DIMM: 'dirty_shutdown', 'id'. */
export function dimmAttr(dimm: string, attr: string): string | null {
  for (const family of ['nfit', 'papr']) {
    const v = readAttr(sysfs('bus', 'nd', 'devices', dimm, family, attr));
    if (v !== null) return v.trim();
  }
  return null;
}

/**
 * eADR test of pmdk.md §2.2: at least one `region*` symlink under bus/nd/devices, and every one
 * has persistence_domain "cpu_cache\n". Any read problem counts as "not eADR".
 */
export function platformHasEadr(): boolean {
  const dir = sysfs('bus', 'nd', 'devices');
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) return false;
    names = readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isSymbolicLink() && d.name.includes('region'))
      .map((d) => d.name);
  } catch {
    return false;
  }
  if (names.length === 0) return false;
  for (const n of names) {
    const v = readAttr(join(dir, n, 'persistence_domain'));
    if (v === null || v.length > 32 || !v.endsWith('\n') || v !== 'cpu_cache\n') return false;
  }
  return true;
}
