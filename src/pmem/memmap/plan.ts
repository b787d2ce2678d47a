// Planning and checking `memmap=nn!ss` against an e820 table (reference qemu-pmem-ndctl.md
// §6.1–§6.5): where the range can go, the exact argument, what the kernel's map will say after
// reboot, and the warnings a user needs (alignment, KASLR, one namespace per range).

import {
  E820_PRAM,
  E820_RAM,
  applyMemmap,
  formatEntry,
  parseMemmap,
  sizeArg,
  typeName,
  MemmapError,
  type E820Entry,
  type MemmapOp,
} from './e820.js';

const MiB = 1n << 20n;
const GiB = 1n << 30n;
const FOUR_GIB = 4n * GiB;

export interface MemmapReport {
  /** The memmap= argument(s), one per range (combine with commas or give several). */
  readonly args: readonly string[];
  readonly ranges: readonly { start: bigint; size: bigint }[];
  /** The sanitized table after the kernel applied the arguments (the `user:` lines). */
  readonly userMap: readonly E820Entry[];
  readonly warnings: readonly string[];
  readonly errors: readonly string[];
}

const hex = (v: bigint): string => `0x${v.toString(16)}`;

function totalRam(t: readonly E820Entry[]): bigint {
  return t.filter((e) => e.type === E820_RAM).reduce((s, e) => s + (e.end - e.start), 0n);
}

function human(v: bigint): string {
  if (v % GiB === 0n) return `${v / GiB} GiB`;
  if (v % MiB === 0n) return `${v / MiB} MiB`;
  return `${v} bytes`;
}

/** Problems of one pmem range against the firmware table. */
function rangeChecks(
  table: readonly E820Entry[],
  start: bigint,
  size: bigint,
  arg: string,
  errors: string[],
  warnings: string[],
): void {
  const end = start + size;
  let covered = start;
  for (const e of [...table].sort((a, b) => (a.start < b.start ? -1 : 1))) {
    if (e.end <= start || e.start >= end) continue;
    if (e.start > covered) {
      errors.push(
        `${arg}: [mem ${hex(covered)}-${hex(e.start - 1n)}] is not in the e820 table (no RAM there)`,
      );
    }
    if (e.type !== E820_RAM) {
      errors.push(
        `${arg} overlaps ${typeName(e.type)} range [mem ${hex(e.start)}-${hex(e.end - 1n)}]: refusing (type 12 would take it over)`,
      );
    }
    if (e.end > covered) covered = e.end;
  }
  if (covered < end) {
    errors.push(
      `${arg}: [mem ${hex(covered)}-${hex(end - 1n)}] is not in the e820 table (no RAM there)`,
    );
  }
  if (start % (2n * MiB) !== 0n || size % (2n * MiB) !== 0n) {
    warnings.push(
      `${arg}: start or size is not 2 MiB aligned: fsdax/devdax will fail ("start ... misaligned to 0x200000"); raw and sector still work`,
    );
  } else if (start % (16n * MiB) !== 0n || size % (16n * MiB) !== 0n) {
    warnings.push(
      `${arg}: not 16 MiB aligned: ndctl refuses fsdax/devdax ("misaligned to 16M, adjust region alignment and retry") unless forced`,
    );
  } else if (start % (128n * MiB) !== 0n || size % (128n * MiB) !== 0n) {
    warnings.push(`${arg}: not 128 MiB aligned: kernels before 5.3 disable DAX on it`);
  }
}

function commonWarnings(
  table: readonly E820Entry[],
  report: { ranges: { start: bigint; size: bigint }[]; userMap: E820Entry[] },
  warnings: string[],
): void {
  const ram = totalRam(table);
  const n = report.ranges.length;
  if (ram <= 16n * GiB && n > 0) {
    warnings.push(
      'KASLR: kernels before 4.13 ignore memmap= when choosing where to decompress, so on a machine with <= 16 GiB the kernel can land inside the pmem range; add nokaslr on such kernels',
    );
  }
  if (n > 4) {
    warnings.push(
      'more than 4 memmap= ranges: the KASLR decompressor prints "Aborted memory entries scan (more than 4 memmap= args)!" and disables randomization',
    );
  }
  if (n > 1) {
    warnings.push(
      `${n} ranges give ${n} regions, each with one label-less raw namespace (namespaceN.0) that cannot be sub-divided`,
    );
  }
  const left = totalRam(report.userMap);
  if (n > 0 && left < 2n * GiB)
    warnings.push(`only ${human(left)} of usable RAM remains for the OS`);
}

function finish(
  table: readonly E820Entry[],
  ops: MemmapOp[],
  args: string[],
  ranges: { start: bigint; size: bigint }[],
  errors: string[],
  warnings: string[],
): MemmapReport {
  const userMap = errors.length === 0 ? applyMemmap(table, ops) : [];
  if (errors.length === 0) commonWarnings(table, { ranges, userMap }, warnings);
  return { args, ranges, userMap, warnings, errors };
}

export interface PlanRequest {
  readonly size: bigint;
  readonly start?: bigint;
  /** Number of ranges (namespaces); default 1. */
  readonly count?: number;
}

function place(table: readonly E820Entry[], size: bigint, count: number): bigint | undefined {
  const ram = table.filter((e) => e.type === E820_RAM);
  const high = ram.filter((e) => e.end > FOUR_GIB);
  const low = ram.filter((e) => e.end <= FOUR_GIB);
  for (const align of [GiB, 128n * MiB, 16n * MiB, 2n * MiB]) {
    for (const e of [...high, ...low]) {
      let s = e.start > FOUR_GIB || e.end <= FOUR_GIB ? e.start : FOUR_GIB;
      s = ((s + align - 1n) / align) * align;
      // count ranges back to back: the kernel never merges type-12 entries (e820_nomerge).
      const need = size * BigInt(count);
      if (s + need <= e.end) return s;
    }
  }
  return undefined;
}

/** `nvmemu memmap plan`. */
export function planMemmap(table: readonly E820Entry[], req: PlanRequest): MemmapReport {
  const errors: string[] = [];
  const warnings: string[] = [];
  const count = req.count ?? 1;
  if (req.size <= 0n) throw new MemmapError('size must be positive');
  const start = req.start ?? place(table, req.size, count);
  if (start === undefined) {
    const largest = table
      .filter((e) => e.type === E820_RAM)
      .reduce((m, e) => (e.end - e.start > m ? e.end - e.start : m), 0n);
    errors.push(
      `no usable RAM range holds ${count} x ${sizeArg(req.size)} (largest usable range: ${human(largest)})`,
    );
    return { args: [], ranges: [], userMap: [], warnings, errors };
  }
  const ranges = Array.from({ length: count }, (_, i) => ({
    start: start + BigInt(i) * req.size,
    size: req.size,
  }));
  const args = ranges.map((r) => `memmap=${sizeArg(r.size)}!${sizeArg(r.start)}`);
  ranges.forEach((r, i) => rangeChecks(table, r.start, r.size, args[i]!, errors, warnings));
  return finish(
    table,
    args.flatMap((a) => parseMemmap(a)),
    args,
    ranges,
    errors,
    warnings,
  );
}

/** `nvmemu memmap check ARG...`: validates given memmap= values against the table. */
export function checkMemmap(table: readonly E820Entry[], argsIn: readonly string[]): MemmapReport {
  const errors: string[] = [];
  const warnings: string[] = [];
  const ops: MemmapOp[] = [];
  const ranges: { start: bigint; size: bigint }[] = [];
  const args: string[] = [];
  // Each comma-separated part is checked under the text the user wrote.
  const parts = argsIn.flatMap((a) => (a.startsWith('memmap=') ? a.slice(7) : a).split(','));
  for (const part of parts) {
    const parsed = parseMemmap(part);
    ops.push(...parsed);
    for (const op of parsed) {
      if (op.kind !== 'add' || op.type !== E820_PRAM) continue;
      const text = `memmap=${part}`;
      args.push(text);
      ranges.push({ start: op.start, size: op.size });
      rangeChecks(table, op.start, op.size, text, errors, warnings);
    }
  }
  if (ranges.length === 0)
    warnings.push('no memmap=nn!ss range: nothing becomes persistent memory');
  const sorted = [...ranges].sort((a, b) => (a.start < b.start ? -1 : 1));
  for (let i = 1; i < sorted.length; i++) {
    const p = sorted[i - 1]!;
    const c = sorted[i]!;
    if (c.start < p.start + p.size)
      errors.push(`ranges at ${hex(p.start)} and ${hex(c.start)} overlap`);
  }
  return finish(table, ops, args, ranges, errors, warnings);
}

const GRUB = (arg: string): string[] => [
  'GRUB (then reboot):',
  `  Debian/Ubuntu: add ${arg} to GRUB_CMDLINE_LINUX in /etc/default/grub, then: sudo update-grub`,
  `  RHEL/Fedora:   sudo grubby --update-kernel=ALL --args="${arg}"`,
  `  SUSE:          add ${arg} to GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub, then: sudo grub2-mkconfig -o /boot/grub2/grub.cfg`,
  `  Arch:          add ${arg} to GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub, then: sudo grub-mkconfig -o /boot/grub/grub.cfg`,
];

/** The text `nvmemu memmap plan|check` prints. */
export function formatReport(r: MemmapReport, withGrub: boolean): string {
  const lines: string[] = [];
  if (r.errors.length === 0 && r.args.length > 0) {
    const joined = r.args.join(' ');
    lines.push(`Kernel command line: ${joined}`, '');
    if (withGrub) lines.push(...GRUB(joined), '');
    lines.push('Expected after reboot (dmesg: user-defined physical RAM map):');
    for (const e of r.userMap) lines.push(`  ${formatEntry(e, 'user')}`);
    lines.push('');
    r.ranges.forEach((x, i) =>
      lines.push(
        `region${i}: ${hex(x.start)}+${sizeArg(x.size)} -> namespace${i}.0, /dev/pmem${i} (ndctl provider e820, mode raw)`,
      ),
    );
  }
  for (const w of r.warnings) lines.push(`Warning: ${w}`);
  for (const e of r.errors) lines.push(`Error: ${e}`);
  return `${lines.join('\n')}\n`;
}
