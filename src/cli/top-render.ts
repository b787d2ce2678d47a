// One frame of `nvmemu top`: I/O rates, per-command latency, queues and zone maps, as text
// lines no wider than the terminal. Pure: the data in, the lines out (colour optional).

import { percentileUs } from '../http/figures.js';
import type { ControllerInfo, NamespaceInfo, Sample } from '../http/wire.js';

export interface TopData {
  readonly url: string;
  readonly time: number;
  readonly controllers: readonly ControllerInfo[];
  readonly namespaces: readonly NamespaceInfo[];
  /** The newest sample, when the view has taken one. */
  readonly sample: Sample | undefined;
}

/** ANSI styles (empty strings without colour). */
interface Style {
  readonly bold: string;
  readonly dim: string;
  readonly reset: string;
  readonly state: Readonly<Record<number, string>>;
}

const PLAIN: Style = { bold: '', dim: '', reset: '', state: {} };
const ANSI: Style = {
  bold: '\x1b[1m',
  dim: '\x1b[2m',
  reset: '\x1b[0m',
  state: {
    0x2: '\x1b[32m', // implicitly open: green
    0x3: '\x1b[34m', // explicitly open: blue
    0x4: '\x1b[33m', // closed: yellow
    0xd: '\x1b[90m', // read only: grey
    0xe: '\x1b[35m', // full: magenta
    0xf: '\x1b[31m', // offline: red
  },
};

/** One letter per zone state (ZNS 1.1 Figure 37), shown in the map and its legend. */
export const ZONE_LETTERS: Readonly<Record<number, string>> = {
  0x1: '.',
  0x2: 'i',
  0x3: 'e',
  0x4: 'c',
  0xd: 'r',
  0xe: 'F',
  0xf: 'X',
};

/** Eighths of a cell: the write pointer's fill of a zone. */
const FILL = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

const n = (v: number): string => Math.round(v).toLocaleString('en-US');
const us = (v: number): string =>
  v === Infinity
    ? '>1 s'
    : v >= 1e6
      ? `${(v / 1e6).toFixed(1)} s`
      : v >= 1000
        ? `${(v / 1000).toFixed(1)} ms`
        : `${Math.round(v)} µs`;
const mb = (v: number): string => `${(v / 1e6).toFixed(1)} MB/s`;
const pad = (s: string, w: number): string => (s.length >= w ? s : s + ' '.repeat(w - s.length));
const lpad = (s: string, w: number): string => (s.length >= w ? s : ' '.repeat(w - s.length) + s);

export function renderTop(d: TopData, width: number, color: boolean): string[] {
  const st = color ? ANSI : PLAIN;
  const w = Math.max(40, width);
  const out: string[] = [];
  const head = (t: string): void => void out.push('', `${st.bold}${t}${st.reset}`);
  out.push(
    `${st.bold}nvmemu top${st.reset} ${d.url}  ${new Date(d.time).toLocaleTimeString()}  ${st.dim}(q quits)${st.reset}`,
  );
  const s = d.sample;
  head('I/O');
  out.push(
    s === undefined
      ? '  no sample yet'
      : `  ${n(s.iops)} IOPS (reads ${n(s.readIops)}, writes ${n(s.writeIops)})   read ${mb(s.readBytesPerSec)}   written ${mb(s.writeBytesPerSec)}`,
  );
  head('LATENCY                   per s       mean        p50        p99   errors');
  const ops = [...(s?.opcodes ?? [])].sort((a, b) => b.count - a.count);
  if (ops.length === 0) out.push('  no commands completed in the last interval');
  for (const o of ops) {
    out.push(
      `  ${pad(o.name, 22)}${lpad(n(o.count / (s?.seconds ?? 1)), 7)}${lpad(us(o.meanUs), 11)}` +
        `${lpad(`≤${us(percentileUs(o.buckets, 0.5))}`, 11)}${lpad(`≤${us(percentileUs(o.buckets, 0.99))}`, 11)}` +
        `${lpad(n(o.errors), 9)}`,
    );
  }
  head('QUEUES               outstanding / depth');
  for (const c of d.controllers) {
    const via = c.boundTo === null ? 'no host' : c.boundTo === 'pci' ? 'PCIe' : 'NVMe/TCP';
    const qs = c.queues.map(
      (q) => `${q.qid === 0 ? 'admin' : `q${q.qid}`} ${q.outstanding}/${q.depth}`,
    );
    out.push(...wrap(`  ${pad(c.label, 12)} ${pad(via, 9)} ${qs.join('  ') || '-'}`, w, 25));
  }
  const zoned = d.namespaces.filter((x) => x.zoned !== null);
  for (const ns of zoned) {
    const z = ns.zoned!;
    const lim = (v: number): string => (v === 0 ? '∞' : String(v));
    head(
      `ZONES ${ns.label} (nsid ${ns.nsid}): ${z.state.length} zones, open ${z.open}/${lim(z.maxOpen)}, active ${z.active}/${lim(z.maxActive)}`,
    );
    const per = Math.max(10, w - 4);
    for (let i = 0; i < z.state.length; i += per) {
      const states = z.state.slice(i, i + per);
      const letters = states
        .map(
          (code) =>
            `${st.state[code] ?? ''}${ZONE_LETTERS[code] ?? '?'}${st.state[code] === undefined ? '' : st.reset}`,
        )
        .join('');
      const fills = states
        .map((code, j) => {
          const f = (z.written[i + j] ?? 0) / z.zoneCapacity;
          return `${st.state[code] ?? ''}${FILL[Math.min(8, Math.ceil(f * 8))]}${st.state[code] === undefined ? '' : st.reset}`;
        })
        .join('');
      out.push(`  ${letters}`, `  ${fills}`);
    }
    out.push(
      `  ${st.dim}. empty  i implicitly open  e explicitly open  c closed  F full  r read-only  X offline; bar: write pointer${st.reset}`,
    );
  }
  return out;
}

/** Splits a long line at spaces, continuation lines indented by `indent`. */
function wrap(line: string, width: number, indent: number): string[] {
  if (line.length <= width) return [line];
  const out: string[] = [];
  let cur = '';
  for (const word of line.split(/(?<=\S)\s{2}/)) {
    if (cur !== '' && cur.length + word.length + 2 > width) {
      out.push(cur);
      cur = ' '.repeat(indent) + word.trimStart();
    } else {
      cur = cur === '' ? word : `${cur}  ${word}`;
    }
  }
  if (cur !== '') out.push(cur);
  return out;
}
