// Writes docs/models-waf.svg: the FTL model's steady-state write amplification under uniform
// random page overwrites with greedy GC (points, measured as bench/models.ts does) against
// Desnoyers' analytic curve (SYSTOR 2012; src/nvme/model/desnoyers.ts), over spare factors.
//
//   npm run build && node build/bench/models-plot.js [out.svg]

import { writeFileSync } from 'node:fs';
import { greedyWaf } from '../src/nvme/model/desnoyers.js';
import { measuredWaf } from './models.js';

const W = 640;
const H = 420;
const M = { l: 60, r: 20, t: 40, b: 50 };
const X0 = 0.05;
const X1 = 0.4;
const Y1 = 10;

const x = (sf: number): number => M.l + ((sf - X0) / (X1 - X0)) * (W - M.l - M.r);
const y = (waf: number): number => H - M.b - ((waf - 1) / (Y1 - 1)) * (H - M.t - M.b);

export function plot(points: readonly { sf: number; waf: number }[]): string {
  const curve: string[] = [];
  for (let sf = X0; sf <= X1 + 1e-9; sf += 0.0025) {
    const a = greedyWaf(sf);
    if (a <= Y1) curve.push(`${x(sf).toFixed(1)},${y(a).toFixed(1)}`);
  }
  const ticks: string[] = [];
  for (let sf = 0.05; sf <= X1 + 1e-9; sf += 0.05) {
    ticks.push(
      `<line x1="${x(sf)}" y1="${H - M.b}" x2="${x(sf)}" y2="${H - M.b + 5}" stroke="#333"/>` +
        `<text x="${x(sf)}" y="${H - M.b + 18}" text-anchor="middle">${sf.toFixed(2)}</text>`,
    );
  }
  for (let w = 1; w <= Y1; w++) {
    ticks.push(
      `<line x1="${M.l - 5}" y1="${y(w)}" x2="${W - M.r}" y2="${y(w)}" stroke="#ddd"/>` +
        `<text x="${M.l - 8}" y="${y(w) + 4}" text-anchor="end">${w}</text>`,
    );
  }
  const dots = points
    .map(
      (p) =>
        `<circle cx="${x(p.sf).toFixed(1)}" cy="${y(p.waf).toFixed(1)}" r="4" fill="#d62728"/>`,
    )
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">
<rect width="${W}" height="${H}" fill="white"/>
<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">Greedy GC, uniform random page writes: FTL model vs Desnoyers (SYSTOR 2012)</text>
${ticks.join('\n')}
<line x1="${M.l}" y1="${H - M.b}" x2="${W - M.r}" y2="${H - M.b}" stroke="#333"/>
<line x1="${M.l}" y1="${M.t}" x2="${M.l}" y2="${H - M.b}" stroke="#333"/>
<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="${curve.join(' ')}"/>
${dots}
<text x="${(M.l + W - M.r) / 2}" y="${H - 12}" text-anchor="middle">spare factor Sf = (physical − user) / physical</text>
<text x="16" y="${(M.t + H - M.b) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(M.t + H - M.b) / 2})">write amplification</text>
<line x1="${W - 230}" y1="${M.t + 10}" x2="${W - 200}" y2="${M.t + 10}" stroke="#1f77b4" stroke-width="2"/>
<text x="${W - 195}" y="${M.t + 14}">analytic: α / (α + W(−α e^−α))</text>
<circle cx="${W - 215}" cy="${M.t + 30}" r="4" fill="#d62728"/>
<text x="${W - 195}" y="${M.t + 34}">FTL model (512 blocks × 128 pages)</text>
</svg>
`;
}

if (
  process.argv[1] !== undefined &&
  import.meta.url === new URL(`file://${process.argv[1]}`).href
) {
  const out = process.argv[2] ?? 'docs/models-waf.svg';
  const points: { sf: number; waf: number }[] = [];
  for (const sf of [0.07, 0.1, 0.13, 0.16, 0.2, 0.24, 0.28, 0.32, 0.36, 0.4]) {
    const waf = measuredWaf(sf);
    points.push({ sf, waf });
    process.stdout.write(
      `Sf ${sf.toFixed(2)}: FTL ${waf.toFixed(3)}, analytic ${greedyWaf(sf).toFixed(3)}\n`,
    );
  }
  writeFileSync(out, plot(points));
  process.stdout.write(`wrote ${out}\n`);
}
