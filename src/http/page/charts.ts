// The page's time charts: IOPS and throughput (uPlot, served from the package's own copy), and
// the per-opcode latency histogram over time as a heatmap on a canvas (x: samples, y: the
// power-of-two latency buckets of src/http/telemetry.ts, colour: share of the second's commands).

import type { OpcodeSample, Sample } from '../wire.js';
import { count, h, micros } from './dom.js';
import { BUCKETS, percentileUs } from '../figures.js';

/** Samples the charts show (two minutes at one a second). */
export const WINDOW = 120;

const COLORS = {
  total: '#e6edf3',
  read: '#3fb950',
  write: '#58a6ff',
  grid: '#30363d',
  axis: '#8b949e',
};

function axes(unit: (v: number) => string): uPlot.Axis[] {
  const common = {
    stroke: COLORS.axis,
    grid: { stroke: COLORS.grid, width: 1 },
    ticks: { stroke: COLORS.grid, width: 1 },
    font: '11px system-ui, sans-serif',
  };
  return [
    { ...common, space: 70 },
    { ...common, size: 64, values: (_u: uPlot, vals: number[]) => vals.map(unit) },
  ];
}

function lineChart(
  el: HTMLElement,
  title: string,
  series: { label: string; stroke: string }[],
  unit: (v: number) => string,
): uPlot {
  const opts: uPlot.Options = {
    title,
    width: Math.max(280, el.clientWidth),
    height: 230,
    cursor: { drag: { x: false, y: false } },
    legend: { live: true },
    scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
    axes: axes(unit),
    series: [
      {},
      ...series.map((s) => ({
        label: s.label,
        stroke: s.stroke,
        width: 1.5,
        fill: `${s.stroke}1f`,
        points: { show: false },
        value: (_u: uPlot, v: number | null) => (v === null ? '–' : unit(v)),
      })),
    ],
  };
  return new uPlot(opts, [[], ...series.map(() => [])], el);
}

export class IoCharts {
  readonly #iops: uPlot;
  readonly #bw: uPlot;

  constructor(iopsEl: HTMLElement, bwEl: HTMLElement) {
    this.#iops = lineChart(
      iopsEl,
      'IOPS',
      [
        { label: 'all I/O', stroke: COLORS.total },
        { label: 'reads', stroke: COLORS.read },
        { label: 'writes', stroke: COLORS.write },
      ],
      count,
    );
    this.#bw = lineChart(
      bwEl,
      'Throughput',
      [
        { label: 'read', stroke: COLORS.read },
        { label: 'written', stroke: COLORS.write },
      ],
      (v) => `${(v / 1e6).toFixed(v >= 1e7 ? 0 : 1)} MB/s`,
    );
    const resize = (): void => {
      this.#iops.setSize({ width: Math.max(280, iopsEl.clientWidth), height: 230 });
      this.#bw.setSize({ width: Math.max(280, bwEl.clientWidth), height: 230 });
    };
    window.addEventListener('resize', resize);
  }

  update(samples: readonly Sample[]): void {
    const s = samples.slice(-WINDOW);
    const t = s.map((x) => x.time / 1000);
    this.#iops.setData([
      t,
      s.map((x) => x.iops),
      s.map((x) => x.readIops),
      s.map((x) => x.writeIops),
    ]);
    this.#bw.setData([t, s.map((x) => x.readBytesPerSec), s.map((x) => x.writeBytesPerSec)]);
  }
}

const key = (o: { admin: boolean; name: string }): string =>
  `${o.admin ? 'admin' : 'io'}:${o.name}`;

/** Heatmap colour for a share 0..1: dark blue → teal → yellow. */
function heat(share: number): string {
  const s = Math.sqrt(Math.min(1, share));
  const stops = [
    [22, 27, 34],
    [31, 111, 235],
    [63, 185, 80],
    [240, 200, 60],
  ];
  const x = s * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const [a, b] = [stops[i]!, stops[i + 1]!];
  const c = a.map((v, j) => Math.round(v + (b[j]! - v) * f));
  return `rgb(${c.join(',')})`;
}

const Y_LABELS: [number, string][] = [
  [0, '1 µs'],
  [5, '32 µs'],
  [10, '1 ms'],
  [15, '33 ms'],
  [20, '1 s'],
];

/** The latency panel: opcode tabs, the heatmap of the chosen one, and a table of all. */
export class LatencyPanel {
  #chosen = 'io:Read';
  readonly #root: HTMLElement;
  readonly #canvas = h('canvas', { class: 'heatmap', height: 200 });
  readonly #tabs = h('div', { class: 'tabs' });
  readonly #table = h('div', { class: 'lat-table' });

  constructor(root: HTMLElement) {
    this.#root = root;
    root.replaceChildren(this.#tabs, h('div', { class: 'heat-wrap' }, this.#canvas), this.#table);
  }

  update(samples: readonly Sample[]): void {
    const s = samples.slice(-WINDOW);
    // Opcodes seen in the window, most frequent first.
    const totals = new Map<string, { admin: boolean; name: string; n: number }>();
    for (const x of s) {
      for (const o of x.opcodes) {
        const t = totals.get(key(o)) ?? { admin: o.admin, name: o.name, n: 0 };
        t.n += o.count;
        totals.set(key(o), t);
      }
    }
    const ops = [...totals.entries()].sort((a, b) => b[1].n - a[1].n);
    if (!totals.has(this.#chosen) && ops[0] !== undefined) this.#chosen = ops[0][0];
    this.#tabs.replaceChildren(
      ...(ops.length === 0 ? [h('span', { class: 'muted' }, 'no commands completed yet')] : []),
      ...ops.map(([k, o]) => {
        const b = h(
          'button',
          { class: k === this.#chosen ? 'tab on' : 'tab', 'data-op': k },
          o.name,
        );
        b.addEventListener('click', () => {
          this.#chosen = k;
          this.update(samples);
        });
        return b;
      }),
    );
    this.#draw(s);
    this.#summary(
      s,
      ops.map(([k]) => k),
    );
  }

  #draw(s: readonly Sample[]): void {
    const c = this.#canvas;
    const width = Math.max(300, this.#root.clientWidth);
    if (c.width !== width) c.width = width;
    const ctx = c.getContext('2d');
    if (ctx === null) return;
    const left = 56;
    const H = c.height - 18;
    ctx.fillStyle = '#0d1117';
    ctx.fillRect(0, 0, c.width, c.height);
    const colW = (c.width - left) / WINDOW;
    const rowH = H / BUCKETS;
    const start = WINDOW - s.length;
    s.forEach((x, i) => {
      const o = x.opcodes.find((y) => key(y) === this.#chosen);
      if (o === undefined) return;
      o.buckets.forEach((n, k) => {
        if (n === 0) return;
        ctx.fillStyle = heat(n / o.count);
        ctx.fillRect(
          left + (start + i) * colW,
          H - (k + 1) * rowH,
          Math.ceil(colW),
          Math.ceil(rowH),
        );
      });
    });
    ctx.fillStyle = '#8b949e';
    ctx.font = '11px system-ui, sans-serif';
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (const [k, label] of Y_LABELS) ctx.fillText(label, left - 6, H - (k + 0.5) * rowH);
    ctx.textAlign = 'left';
    ctx.textBaseline = 'top';
    ctx.fillText(`${WINDOW} s ago`, left, H + 4);
    ctx.textAlign = 'right';
    ctx.fillText('now', c.width - 2, H + 4);
  }

  #summary(s: readonly Sample[], order: readonly string[]): void {
    const last = s.at(-1);
    const row = (o: OpcodeSample | undefined, k: string): HTMLElement => {
      const [kind = '', name = ''] = k.split(/:(.*)/);
      const rate = o === undefined || last === undefined ? 0 : o.count / last.seconds;
      return h(
        'tr',
        { class: k === this.#chosen ? 'on' : undefined },
        h('td', {}, name, h('span', { class: 'kind' }, kind)),
        h('td', { class: 'num' }, o === undefined ? '–' : count(rate)),
        h('td', { class: 'num' }, o === undefined ? '–' : micros(o.meanUs)),
        h(
          'td',
          { class: 'num' },
          o === undefined ? '–' : `≤ ${micros(percentileUs(o.buckets, 0.5))}`,
        ),
        h(
          'td',
          { class: 'num' },
          o === undefined ? '–' : `≤ ${micros(percentileUs(o.buckets, 0.99))}`,
        ),
        h(
          'td',
          { class: o !== undefined && o.errors > 0 ? 'num bad' : 'num' },
          o === undefined ? '–' : count(o.errors),
        ),
      );
    };
    this.#table.replaceChildren(
      h(
        'table',
        {},
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ...['command', 'per s', 'mean', 'p50', 'p99', 'errors'].map((t) => h('th', {}, t)),
          ),
        ),
        h(
          'tbody',
          {},
          ...order.map((k) =>
            row(
              last?.opcodes.find((o) => key(o) === k),
              k,
            ),
          ),
        ),
      ),
    );
  }
}
