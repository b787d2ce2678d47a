// The difference between two recordings of the same configuration (QEMU 7.2 and QEMU 10.0):
// answer by answer, status, dw0, value and data field by field (fields.ts names them). The rows
// become the table of docs/qemu-10.md; fixtures.test.ts regenerates them and compares, so the
// table cannot drift from the fixtures.

import { answerBytes, statusText, type Answer, type Fixture } from './answers.js';
import { fieldsOf, type Field } from './fields.js';

export interface DiffRow {
  readonly answer: string;
  /** Field name with its byte offset, `status`, `dw0`, `value`, or `answer`. */
  readonly field: string;
  readonly v72: string;
  readonly v10: string;
  readonly meaning: string;
  /** The field's description alone (meaning without the changed parts). */
  readonly desc?: string;
}

function int(b: Uint8Array, off: number, size: number): bigint {
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[off + i] ?? 0);
  return v;
}

function fieldValue(b: Uint8Array, f: Field): string {
  if (f.ascii === true) {
    const s = Buffer.from(b.subarray(f.off, f.off + f.size)).toString('latin1');
    return `"${s.replace(/[\0 ]+$/, '')}"`;
  }
  return `0x${int(b, f.off, f.size).toString(16)}`;
}

/** The sub-fields (or bits) of `f` that changed, as `+name`, `-name` or `name a→b`. */
function partsChanged(f: Field, a: Uint8Array, b: Uint8Array): string {
  if (f.parts === undefined) return '';
  const va = int(a, f.off, f.size);
  const vb = int(b, f.off, f.size);
  const out: string[] = [];
  let covered = 0n;
  for (const [lo, hi, name] of f.parts) {
    const mask = ((1n << BigInt(hi - lo + 1)) - 1n) << BigInt(lo);
    covered |= mask;
    const pa = (va & mask) >> BigInt(lo);
    const pb = (vb & mask) >> BigInt(lo);
    if (pa === pb) continue;
    if (lo === hi) out.push(`${pb === 1n ? '+' : '-'}${name}`);
    else out.push(`${name} 0x${pa.toString(16)}→0x${pb.toString(16)}`);
  }
  const rest = (va ^ vb) & ~covered;
  for (let i = 0n; rest >> i !== 0n; i++) {
    if (((rest >> i) & 1n) === 1n) out.push(`${((vb >> i) & 1n) === 1n ? '+' : '-'}bit ${i}`);
  }
  return out.length > 0 ? `: ${out.join(', ')}` : '';
}

function byteRange(b: Uint8Array, from: number, to: number): string {
  const n = to - from;
  const shown = Buffer.from(b.subarray(from, Math.min(to, from + 16))).toString('hex');
  return n > 16 ? `${shown}… (${n} bytes)` : shown;
}

/** Field rows for two data buffers of one answer. */
function dataRows(answer: string, a: Uint8Array, b: Uint8Array): DiffRow[] {
  const rows: DiffRow[] = [];
  const len = Math.max(a.length, b.length);
  const pa = new Uint8Array(len);
  pa.set(a);
  const pb = new Uint8Array(len);
  pb.set(b);
  const differs = (off: number, size: number): boolean => {
    for (let i = off; i < off + size && i < len; i++) if (pa[i] !== pb[i]) return true;
    return false;
  };
  const claimed = new Uint8Array(len);
  for (const f of fieldsOf(answer)) {
    if (f.off >= len) continue;
    claimed.fill(1, f.off, Math.min(len, f.off + f.size));
    if (!differs(f.off, f.size)) continue;
    rows.push({
      answer,
      field: `${f.name} (${f.off})`,
      v72: fieldValue(pa, f),
      v10: fieldValue(pb, f),
      meaning: `${f.desc}${partsChanged(f, pa, pb)}`,
      desc: f.desc,
    });
  }
  // Unclaimed bytes: runs of differing bytes, gaps of up to 3 equal bytes joined.
  let i = 0;
  while (i < len) {
    if (claimed[i] === 1 || pa[i] === pb[i]) {
      i++;
      continue;
    }
    let end = i + 1;
    for (let j = end; j < len && j < end + 4; j++) {
      if (claimed[j] === 1) break;
      if (pa[j] !== pb[j]) end = j + 1;
    }
    rows.push({
      answer,
      field: `bytes ${i}-${end - 1}`,
      v72: byteRange(pa, i, end),
      v10: byteRange(pb, i, end),
      meaning: 'unnamed bytes',
    });
    i = end;
  }
  return rows;
}

function describeAnswer(a: Answer): string {
  if (a.error !== undefined) return `error: ${a.error}`;
  if (a.status !== undefined) return statusText(a.status);
  return a.value ?? 'recorded';
}

/** Rows for one answer key present in both recordings (or either). */
export function answerRows(key: string, a: Answer | undefined, b: Answer | undefined): DiffRow[] {
  if (a === undefined || b === undefined) {
    return [
      {
        answer: key,
        field: 'answer',
        v72: a === undefined ? 'not asked' : describeAnswer(a),
        v10: b === undefined ? 'not asked' : describeAnswer(b),
        meaning: 'asked in one version only (it depends on an earlier answer)',
      },
    ];
  }
  const rows: DiffRow[] = [];
  if (a.status !== b.status) {
    rows.push({
      answer: key,
      field: 'status',
      v72: a.status !== undefined ? statusText(a.status) : describeAnswer(a),
      v10: b.status !== undefined ? statusText(b.status) : describeAnswer(b),
      meaning: 'completion status',
    });
  }
  if (a.dw0 !== b.dw0 && a.status === b.status) {
    rows.push({
      answer: key,
      field: 'dw0',
      v72: a.dw0 ?? '',
      v10: b.dw0 ?? '',
      meaning: 'completion dword 0',
    });
  }
  if (a.value !== b.value) {
    rows.push({
      answer: key,
      field: 'value',
      v72: a.value ?? '',
      v10: b.value ?? '',
      meaning: 'value read',
    });
  }
  if (a.data !== undefined && b.data !== undefined && a.data !== b.data) {
    rows.push(...dataRows(key, answerBytes(a), answerBytes(b)));
  }
  return rows;
}

/** All rows of two fixtures of one configuration, in the recording order. */
export function fixtureRows(f72: Fixture, f10: Fixture): DiffRow[] {
  const keys = [...new Set([...Object.keys(f72.answers), ...Object.keys(f10.answers)])];
  return keys.flatMap((k) => answerRows(k, f72.answers[k], f10.answers[k]));
}

export interface TableRow extends DiffRow {
  /** Configurations where the row appears with these values. */
  readonly configs: readonly string[];
}

/** Rows of several configurations merged: equal rows list every configuration they occur in. */
export function mergedRows(pairs: readonly (readonly [Fixture, Fixture])[]): TableRow[] {
  const out = new Map<string, { row: DiffRow; configs: string[] }>();
  for (const [f72, f10] of pairs) {
    for (const row of fixtureRows(f72, f10)) {
      const id = JSON.stringify([row.answer, row.field, row.v72, row.v10]);
      const e = out.get(id);
      if (e === undefined) out.set(id, { row, configs: [f72.config] });
      else if (!e.configs.includes(f72.config)) e.configs.push(f72.config);
    }
  }
  return [...out.values()].map(({ row, configs }) => ({ ...row, configs }));
}

export interface NewAnswerRow {
  readonly answer: string;
  readonly field: string;
  readonly value: string;
  readonly meaning: string;
  readonly configs: readonly string[];
}

/**
 * What QEMU 10.0 answers with data where 7.2 failed (or was not asked): its non-zero fields,
 * so the new structures (CNS 08h, 19h, logs 09h, 20h-23h, RUH Status, ...) are specified too.
 */
export function newAnswerRows(pairs: readonly (readonly [Fixture, Fixture])[]): NewAnswerRow[] {
  const out = new Map<string, { row: Omit<NewAnswerRow, 'configs'>; configs: string[] }>();
  for (const [f72, f10] of pairs) {
    for (const [key, b] of Object.entries(f10.answers)) {
      const a = f72.answers[key];
      if (b.status !== '0x0000' || b.data === undefined || a?.status === '0x0000') continue;
      const rows = dataRows(key, new Uint8Array(b.len ?? 0), answerBytes(b));
      if (rows.length === 0)
        rows.push({
          answer: key,
          field: 'data',
          v72: '',
          v10: 'all zero',
          meaning: `${b.len} bytes`,
        });
      for (const r of rows) {
        const row = {
          answer: key,
          field: r.field,
          value: r.v10,
          meaning: r.meaning.replace(/: .*$/, ''),
        };
        const id = JSON.stringify([row.answer, row.field, row.value]);
        const e = out.get(id);
        if (e === undefined) out.set(id, { row, configs: [f10.config] });
        else if (!e.configs.includes(f10.config)) e.configs.push(f10.config);
      }
    }
  }
  return [...out.values()].map(({ row, configs }) => ({ ...row, configs }));
}

const esc = (s: string): string => s.replace(/\|/g, '\\|');

/** Markdown table of merged rows (`all` when a row holds in every configuration). */
export function renderTable(rows: readonly TableRow[], allConfigs: readonly string[]): string {
  const lines = [
    '| answer | field (offset) | QEMU 7.2 | QEMU 10.0 | configurations | meaning |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    const configs = allConfigs.every((c) => r.configs.includes(c)) ? 'all' : r.configs.join(', ');
    lines.push(
      `| ${esc(r.answer)} | ${esc(r.field)} | ${esc(r.v72)} | ${esc(r.v10)} | ${configs} | ${esc(r.meaning)} |`,
    );
  }
  return lines.join('\n');
}

export function renderNewAnswers(
  rows: readonly NewAnswerRow[],
  allConfigs: readonly string[],
): string {
  const lines = [
    '| answer | field (offset) | QEMU 10.0 | configurations | meaning |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    const configs = allConfigs.every((c) => r.configs.includes(c)) ? 'all' : r.configs.join(', ');
    lines.push(
      `| ${esc(r.answer)} | ${esc(r.field)} | ${esc(r.value)} | ${configs} | ${esc(r.meaning)} |`,
    );
  }
  return lines.join('\n');
}

/** The cells of every body row of the first Markdown table in `text` (for the drift test). */
export function parseTable(text: string): string[][] {
  const rows: string[][] = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t.startsWith('|')) {
      if (rows.length > 0) break;
      continue;
    }
    const cells = t
      .slice(1, -1)
      .split(/(?<!\\)\|/)
      .map((c) => c.trim().replace(/\\\|/g, '|'));
    if (cells.every((c) => /^:?-+:?$/.test(c))) continue;
    rows.push(cells);
  }
  return rows.slice(1);
}
