// `-append "... memmap=nn!ss ..."`: the legacy pmem regions a Linux guest of this machine would
// get from its kernel command line (reference qemu-pmem-ndctl.md §6; the DRAM-emulation recipe).
// Parse and check only — no side effects (region.ts creates the backing).
//
// The ranges are checked against the machine's own firmware table (machine-e820.ts) with the
// planner's checker (`nvmemu memmap check`), so the same argument gets the same verdict here and
// there. Rule: every pmem range must lie inside usable RAM of that table. An overlap with a
// reserved range is refused with the planner's message; so is a range (partly) outside RAM,
// although Linux 6.1 accepts it (measured: `memmap=256M!100G` on a 2 GiB guest gives a region
// at 0x1900000000 with numa_node -1) — there is no guest RAM behind it to emulate.
//
// Linux does not merge adjacent type-12 entries (e820_nomerge(): each PRAM range is its own
// region; measured: memmap=256M!1G memmap=64M!1280M gives two regions), so the `user:` lines
// and the regions here keep every pmem range separate.

import { ConfigError } from '../../config/errors.js';
import type { MachineSettings } from '../../machine/registry.js';
import {
  E820_PRAM,
  MemmapError,
  applyMemmap,
  formatEntry,
  parseMemmap,
  sizeArg,
  type E820Entry,
} from '../memmap/e820.js';
import { checkMemmap } from '../memmap/plan.js';
import { machineE820 } from './machine-e820.js';

/** One legacy pmem region: an e820 type-12 range (end exclusive). */
export interface LegacyRange {
  readonly start: bigint;
  readonly size: bigint;
}

export interface LegacyPlan {
  /** The `memmap=` parameters of the command line, in order, as typed. */
  readonly args: readonly string[];
  /** The machine's firmware table (`BIOS-e820:` lines). */
  readonly firmware: readonly E820Entry[];
  /** The table after the kernel applied the arguments (`user:` lines). */
  readonly userMap: readonly E820Entry[];
  /** Type-12 ranges in address order: region0, region1, … of the e820 bus. */
  readonly regions: readonly LegacyRange[];
  /** Planner warnings that concern the emulated region (alignment, RAM left). */
  readonly warnings: readonly string[];
}

/**
 * Kernel command-line words as the kernel's next_arg() splits them: whitespace outside double
 * quotes separates parameters; quotes around the whole word or around the value are dropped;
 * `--` ends the kernel's parameters (the rest go to init).
 */
export function kernelParams(cmdline: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < cmdline.length) {
    while (i < cmdline.length && /\s/.test(cmdline[i]!)) i++;
    if (i >= cmdline.length) break;
    let quoted = false;
    let word = '';
    for (; i < cmdline.length; i++) {
      const c = cmdline[i]!;
      if (c === '"') quoted = !quoted;
      else if (!quoted && /\s/.test(c)) break;
      word += c;
    }
    if (word === '--') break;
    out.push(unquote(word));
  }
  return out;
}

function unquote(word: string): string {
  let w = word.startsWith('"') ? word.slice(1) : word;
  if (w.endsWith('"')) w = w.slice(0, -1);
  const eq = w.indexOf('=');
  if (eq >= 0 && w[eq + 1] === '"') w = w.slice(0, eq + 1) + w.slice(eq + 2);
  return w;
}

/** The `memmap=` parameters of a command line. */
export function memmapParams(cmdline: string): string[] {
  return kernelParams(cmdline).filter((w) => w.startsWith('memmap='));
}

/**
 * Planner warnings left out here: those that only concern booting a real kernel (KASLR's
 * decompressor), the count of regions the summary already shows, and the claim that adjacent
 * ranges merge, which Linux 6.1 does not do for type 12 (see above). The rest (alignment, RAM
 * left for the OS) still matter to the region.
 */
const LEFT_OUT = [
  /^KASLR: /,
  /^more than 4 memmap= ranges/,
  /^\d+ ranges give \d+ regions/,
  /^ranges at 0x[0-9a-f]+ and 0x[0-9a-f]+ are adjacent/,
];

/**
 * The legacy pmem regions of `append` on this machine, or undefined when the command line has
 * no `memmap=`. A refused argument is a ConfigError located at `-append` carrying the planner's
 * (or the kernel's) message.
 */
export function planLegacyPmem(
  settings: Pick<MachineSettings, 'type' | 'ramSize'>,
  append: string | undefined,
): LegacyPlan | undefined {
  const args = memmapParams(append ?? '');
  if (args.length === 0) return undefined;
  const firmware = machineE820(settings);
  const fail = (message: string): ConfigError => new ConfigError(message, 'memmap', '-append');
  let report: ReturnType<typeof checkMemmap>;
  try {
    // Each argument alone first, so that a malformed one is named.
    for (const a of args) parseMemmap(a);
    report = checkMemmap(firmware, args);
  } catch (e) {
    if (e instanceof MemmapError) {
      const bad = args.find((a) => !parses(a)) ?? args.join(' ');
      throw fail(`${bad}: ${e.message}`);
    }
    throw e;
  }
  if (report.errors.length > 0) throw fail(report.errors[0]!);
  const ops = args.flatMap((a) => parseMemmap(a));
  const userMap = splitPram(applyMemmap(firmware, ops), boundaries(firmware, ops));
  const regions = userMap
    .filter((e) => e.type === E820_PRAM)
    .map((e) => ({ start: e.start, size: e.end - e.start }));
  // A `%…+12` retype can make type 12 out of something other than RAM; hold every resulting
  // region to the same rule as the `!` ranges, naming the argument that made it.
  for (const r of regions) {
    const as = `memmap=${sizeArg(r.size)}!0x${r.start.toString(16)}`;
    const again = checkMemmap(firmware, [as]);
    if (again.errors.length > 0) {
      const by = args.find((a) => makesPram(a, r)) ?? as;
      throw fail(again.errors[0]!.replace(as, by));
    }
  }
  const warnings = report.warnings.filter(
    (w) => !LEFT_OUT.some((re) => re.test(w)) && !(regions.length > 0 && NO_RANGE.test(w)),
  );
  return { args, firmware, userMap, regions, warnings };
}

/** checkMemmap only counts `!` ranges; a `%…+12` retype makes regions too. */
const NO_RANGE = /^no memmap=nn!ss range/;

/** Whether one of the argument's operations turns part of `r` into type 12. */
function makesPram(arg: string, r: LegacyRange): boolean {
  return parseMemmap(arg).some(
    (op) =>
      ((op.kind === 'add' && op.type === E820_PRAM) ||
        (op.kind === 'retype' && op.to === E820_PRAM)) &&
      op.start < r.start + r.size &&
      r.start < op.start + op.size,
  );
}

function parses(a: string): boolean {
  try {
    parseMemmap(a);
    return true;
  } catch {
    return false;
  }
}

/** Every address where an input entry of the kernel's table starts or ends. */
function boundaries(
  firmware: readonly E820Entry[],
  ops: readonly ReturnType<typeof parseMemmap>[number][],
): bigint[] {
  const points = firmware.flatMap((e) => [e.start, e.end]);
  for (const op of ops) {
    if (op.kind === 'add' || op.kind === 'retype') points.push(op.start, op.start + op.size);
  }
  return points;
}

/**
 * e820__update_table starts a new entry at every change point inside a type-12 span
 * (e820_nomerge), where the planner's sanitize merges equal neighbours.
 */
function splitPram(map: readonly E820Entry[], points: readonly bigint[]): E820Entry[] {
  const out: E820Entry[] = [];
  for (const e of map) {
    if (e.type !== E820_PRAM) {
      out.push(e);
      continue;
    }
    const cuts = [...new Set(points.filter((p) => p > e.start && p < e.end))].sort((a, b) =>
      a < b ? -1 : 1,
    );
    let s = e.start;
    for (const c of [...cuts, e.end]) {
      out.push({ start: s, end: c, type: E820_PRAM });
      s = c;
    }
  }
  return out;
}

/** The kernel's "user-defined physical RAM map" lines for the plan. */
export function userLines(plan: LegacyPlan): string[] {
  return plan.userMap.map((e) => formatEntry(e, 'user'));
}
