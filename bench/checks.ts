// Targets of issue 20, printed as PASS/MISS beside the figure and its baseline. Shared by the
// benchmarks that print their own tables (NVMe/TCP, zoned namespaces): a check is a measured
// value, the bound it must meet and the verdict, so a reader never recomputes one.

/** A bound on a measured value: `value <= bound` ('max') or `value >= bound` ('min'). */
export interface Bound {
  readonly kind: 'min' | 'max';
  readonly bound: number;
  /** How the bound reads in the table, e.g. "≥ 75%" or "≤ 4 µs". */
  readonly text: string;
}

export const atLeast = (bound: number, text: string): Bound => ({ kind: 'min', bound, text });
export const atMost = (bound: number, text: string): Bound => ({ kind: 'max', bound, text });

export function passes(value: number, b: Bound): boolean {
  return b.kind === 'min' ? value >= b.bound : value <= b.bound;
}

/** "≤ 4 µs PASS" / "≥ 75% MISS"; empty when there is no bound. */
export function verdict(value: number, b: Bound | undefined): string {
  if (b === undefined) return '';
  return `${b.text} ${passes(value, b) ? 'PASS' : 'MISS'}`;
}

/**
 * Left-aligned first column, right-aligned others, two spaces apart; a Markdown table with
 * NVMEMU_BENCH_MARKDOWN=1 (for the docs' performance sections).
 */
export function formatTable(rows: readonly (readonly string[])[]): string[] {
  if (process.env.NVMEMU_BENCH_MARKDOWN === '1') {
    const line = (r: readonly string[]): string => `| ${r.join(' | ')} |`;
    return [line(rows[0]!), line(rows[0]!.map(() => '---')), ...rows.slice(1).map(line)];
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) =>
    r
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
