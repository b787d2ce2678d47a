// Where `nvmemu ndctl` finds its regions: nvdimm backing files named on the command line
// (`--backing FILE --label-size SIZE [--align SIZE] [--slot N] [--addr ADDR]`, repeatable), cut
// the way QEMU cuts them (reference qemu-pmem-ndctl.md §3.2): label area = the last label-size
// bytes, PMEM = [0, ALIGN_DOWN(size − label-size, align)). Also the small state file that
// remembers which regions and namespaces were disabled (Linux keeps that in the running kernel).

import {
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { readPmemRegions, type PmemRegionInfo } from '../../pmem/state-folder.js';
import { parseSize } from '../../config/size.js';
import { FileMedia } from '../../pmem/ndctl/media.js';
import { MIN_LABEL_AREA } from '../../pmem/ndctl/label-format.js';
import {
  openPublishedRegion,
  REGION_ALIGN,
  type Namespace,
  type RegionSpec,
} from '../../pmem/ndctl/region.js';
import { formatUuid } from '../../pmem/ndctl/guid.js';
import { alignDown, alignUp } from '../../util/u64.js';

export interface BackingSpec {
  readonly file: string;
  readonly labelSize: number;
  readonly align: number;
  readonly slot: number;
  readonly addr: number;
}

export class UsageError extends Error {}

const DEVICE_MEMORY_BASE = 4 * 1024 * 1024 * 1024;

/** Pairs the repeated --backing/--label-size/--align/--slot/--addr options by position. */
export function backingSpecs(v: {
  backing?: string[];
  'label-size'?: string[];
  align?: string[];
  slot?: string[];
  addr?: string[];
}): BackingSpec[] {
  const files = v.backing ?? [];
  if (files.length === 0) {
    throw new UsageError('no regions: give --backing FILE --label-size SIZE (see docs/ndctl.md)');
  }
  const out: BackingSpec[] = [];
  let nextAddr = DEVICE_MEMORY_BASE;
  files.forEach((file, i) => {
    const pick = (list: string[] | undefined): string | undefined =>
      list?.[i] ?? (list?.length === 1 ? list[0] : undefined);
    const labelText = pick(v['label-size']);
    if (labelText === undefined)
      throw new UsageError(`--backing ${file}: --label-size is required (0 for none)`);
    const labelSize = Number(parseSize(labelText));
    if (labelSize !== 0 && labelSize < MIN_LABEL_AREA) {
      throw new UsageError(
        `Property 'nvdimm.label-size' (0x${labelSize.toString(16)}) is required at least 0x20000`,
      );
    }
    const align = Number(parseSize(pick(v.align) ?? '4K'));
    const slotText = v.slot?.[i];
    const slot = slotText === undefined ? i : Number.parseInt(slotText, 10);
    if (!Number.isSafeInteger(slot) || slot < 0) throw new UsageError(`invalid --slot ${slotText}`);
    const addrText = v.addr?.[i];
    const addr = addrText === undefined ? alignUp(nextAddr, align) : Number(parseSize(addrText));
    out.push({ file, labelSize, align, slot, addr });
    nextAddr = addr + (existsSync(file) ? pmemSizeOf(file, labelSize, align) : 0);
  });
  return out;
}

function fileSize(file: string): number {
  const m = FileMedia.open(file, { readOnly: true });
  const s = m.size;
  m.close();
  return s;
}

function pmemSizeOf(file: string, labelSize: number, align: number): number {
  return alignDown(Math.max(0, fileSize(file) - labelSize), align);
}

export interface OpenRegions {
  readonly specs: RegionSpec[];
  readonly keys: string[];
  /**
   * What the running machine published per region (state folder); undefined for regions named
   * with --backing (nothing is known about their machine: no bad blocks, domain unknown).
   */
  readonly published: (PmemRegionInfo | undefined)[];
  /** The data folder whose machine published the regions (inject-error talks to its monitor). */
  readonly dataDir: string | undefined;
  close(): void;
}

/** The data folder `nvmemu run` uses: --data, else $NVMEMU_DATA, else ./data. */
export function dataDirOf(given: string | undefined): string {
  return resolve(given ?? process.env.NVMEMU_DATA ?? 'data');
}

/** Opens the regions a running machine published in `dataDir`/state. */
export function openPublishedRegions(dataDir: string): OpenRegions {
  const s = readPmemRegions(dataDir);
  switch (s.status) {
    case 'absent':
      throw new UsageError(
        `no regions: no running nvmemu machine publishes ${join(dataDir, 'state')}; start one (nvmemu run --data DIR) or give --backing FILE --label-size SIZE`,
      );
    case 'stale':
      throw new Error(
        `the nvmemu machine that published ${join(dataDir, 'state')} (pid ${s.owner.pid}) is no longer running`,
      );
    case 'live':
      break;
  }
  const files: FileMedia[] = [];
  const specs: RegionSpec[] = [];
  const keys: string[] = [];
  try {
    for (const info of s.regions) {
      const { spec, file } = openPublishedRegion(info, Number(info.name.slice('region'.length)));
      files.push(file);
      specs.push(spec);
      keys.push(
        realpathSync(info.backingFile) + (info.backingOffset === 0 ? '' : `@${info.backingOffset}`),
      );
    }
  } catch (e) {
    for (const f of files) f.close();
    throw e;
  }
  return {
    specs,
    keys,
    published: [...s.regions],
    dataDir,
    close: () => files.forEach((f) => f.close()),
  };
}

/** Opens every backing file and cuts it into its label and PMEM views. */
export function openRegions(backings: readonly BackingSpec[]): OpenRegions {
  const files: FileMedia[] = [];
  const specs: RegionSpec[] = [];
  const keys: string[] = [];
  try {
    backings.forEach((b, index) => {
      const f = FileMedia.open(b.file);
      files.push(f);
      const pmem = alignDown(Math.max(0, f.size - b.labelSize), b.align);
      if (pmem === 0) {
        throw new UsageError(
          `the size of memdev ${b.file} (0x${f.size.toString(16)}) is too small to contain nvdimm label (0x${b.labelSize.toString(16)}) and aligned PMEM (0x${b.align.toString(16)})`,
        );
      }
      specs.push({
        index,
        slot: b.slot,
        pmem: f.window(0, pmem),
        labels: b.labelSize === 0 ? undefined : f.window(f.size - b.labelSize, b.labelSize),
        spaStart: b.addr,
        align: REGION_ALIGN,
        numaNode: 0,
        readOnly: false,
      });
      keys.push(realpathSync(b.file));
    });
  } catch (e) {
    for (const f of files) f.close();
    throw e;
  }
  return {
    specs,
    keys,
    published: specs.map(() => undefined),
    dataDir: undefined,
    close: () => files.forEach((f) => f.close()),
  };
}

/** Disabled regions and namespaces, keyed by backing file (and label uuid, or "io"). */
export class EnableState {
  readonly #path: string;
  readonly #disabled: Set<string>;

  constructor(dataDir: string) {
    this.#path = join(dataDir, 'pmem', 'ndctl-state.json');
    let list: string[] = [];
    try {
      list =
        (JSON.parse(readFileSync(this.#path, 'utf8')) as { disabled?: string[] }).disabled ?? [];
    } catch {
      // No state yet: everything is enabled, as after a boot.
    }
    this.#disabled = new Set(list);
  }

  static regionKey(backing: string): string {
    return `${backing}`;
  }

  static namespaceKey(backing: string, ns: Namespace): string {
    return `${backing}#${ns.label === undefined ? 'io' : formatUuid(ns.label.uuid)}`;
  }

  isDisabled(key: string): boolean {
    return this.#disabled.has(key);
  }

  set(key: string, disabled: boolean): void {
    if (disabled) this.#disabled.add(key);
    else this.#disabled.delete(key);
  }

  save(): void {
    mkdirSync(dirname(this.#path), { recursive: true });
    const tmp = `${this.#path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ disabled: [...this.#disabled].sort() }, null, 2) + '\n');
    renameSync(tmp, this.#path);
  }
}
