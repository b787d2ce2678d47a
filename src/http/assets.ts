// The page's static assets, all shipped in the package (the page works offline): the HTML and
// CSS below, the page's scripts compiled from src/http/page (build/src/http/page/*.js), and
// uPlot's own files from the `uplot` dependency. Read once, then served from memory.

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>nvmemu live view</title>
<link rel="icon" href="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Crect width='16' height='16' rx='3' fill='%233fb950'/%3E%3C/svg%3E">
<link rel="stylesheet" href="/assets/uplot.css">
<link rel="stylesheet" href="/assets/style.css">
<script src="/assets/uplot.js"></script>
<script type="module" src="/assets/page/main.js"></script>
</head>
<body>
<header>
  <h1>nvmemu <span>live view</span></h1>
  <div id="summary" class="summary"></div>
  <div id="status" class="status" data-live="false"><i></i><span id="status-text">connecting…</span></div>
</header>
<main>
  <section class="card span2" id="io-card"><h2>I/O</h2><div class="charts"><div id="chart-iops"></div><div id="chart-bw"></div></div></section>
  <section class="card" id="latency-card"><h2>Latency per command <small>histogram over time</small></h2><div id="latency"></div></section>
  <section class="card span3" id="zones-card"><h2>Zones <small>state and write pointer</small></h2><div id="zones"></div></section>
  <section class="card" id="queues-card"><h2>Queues <small>outstanding / depth</small></h2><div id="queues"></div></section>
  <section class="card" id="fdp-card"><h2>Flexible Data Placement <small>reclaim units</small></h2><div id="fdp"></div></section>
  <section class="card" id="cache-card"><h2>Write cache <small>and flush audit</small></h2><div id="cache"></div></section>
  <section class="card" id="smart-card"><h2>SMART <small>and endurance</small></h2><div id="smart"></div></section>
  <section class="card" id="pmem-card"><h2>Persistent memory <small>power-failure model</small></h2><div id="pmem"></div></section>
  <section class="card" id="feed-card"><h2>Faults and trace <small>newest first</small></h2><div id="feed"></div></section>
</main>
</body>
</html>
`;

const STYLE_CSS = `:root {
  --bg: #0d1117; --card: #161b22; --line: #30363d; --text: #e6edf3; --muted: #8b949e;
  --green: #3fb950; --blue: #58a6ff; --amber: #d29922; --purple: #a371f7; --red: #f85149;
  --gray: #6e7681; --empty: #21262d;
  color-scheme: dark;
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text);
  font: 13px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; }
header { display: flex; align-items: center; gap: 24px; padding: 12px 20px;
  border-bottom: 1px solid var(--line); background: var(--card); position: sticky; top: 0; z-index: 5; }
h1 { font-size: 17px; margin: 0; font-weight: 600; letter-spacing: .2px; }
h1 span { color: var(--green); font-weight: 500; }
.summary { display: flex; gap: 16px; color: var(--text); flex: 1; }
.summary span + span::before { content: "·"; color: var(--muted); margin-right: 16px; }
.status { display: flex; align-items: center; gap: 8px; color: var(--muted); }
.status i { width: 9px; height: 9px; border-radius: 50%; background: var(--red); }
.status[data-live="true"] i { background: var(--green); box-shadow: 0 0 6px var(--green); }
main { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 14px; padding: 14px 20px 24px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; min-width: 0; }
.span2 { grid-column: span 2; } .span3 { grid-column: span 3; }
@media (max-width: 1100px) { main { grid-template-columns: minmax(0, 1fr); } .span2, .span3 { grid-column: span 1; } }
h2 { font-size: 13px; margin: 0 0 10px; text-transform: uppercase; letter-spacing: .6px; color: var(--muted); font-weight: 600; }
h2 small { text-transform: none; letter-spacing: 0; font-weight: 400; margin-left: 6px; color: var(--gray); }
.muted { color: var(--muted); } .small { font-size: 12px; } .ok { color: var(--green); } .warn-t { color: var(--amber); }
.charts { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
.uplot { font-family: inherit; } .u-title { font-size: 12px !important; font-weight: 600 !important; color: var(--text); }
.u-legend { font-size: 11px; color: var(--muted); } .u-legend .u-marker { border-radius: 2px; }
.tabs { display: flex; flex-wrap: wrap; gap: 6px; margin-bottom: 8px; }
.tab { background: var(--empty); color: var(--text); border: 1px solid var(--line); border-radius: 12px;
  padding: 2px 10px; font: inherit; font-size: 12px; cursor: pointer; }
.tab.on { background: #1f6feb; border-color: #1f6feb; }
.heat-wrap { border: 1px solid var(--line); border-radius: 4px; overflow: hidden; }
.heatmap { display: block; width: 100%; height: 200px; }
table { width: 100%; border-collapse: collapse; margin-top: 8px; font-size: 12px; }
th { text-align: left; color: var(--muted); font-weight: 500; border-bottom: 1px solid var(--line); padding: 3px 4px; }
td { padding: 3px 4px; border-bottom: 1px solid #21262d; } td.num, th:not(:first-child) { text-align: right; white-space: nowrap; }
tr.on td { background: #1f6feb22; } td.bad { color: var(--red); }
.kind { color: var(--gray); font-size: 11px; margin-left: 6px; }
.zns + .zns { margin-top: 16px; }
.zns-head { display: flex; align-items: baseline; gap: 10px; margin-bottom: 8px; flex-wrap: wrap; }
.chip { border: 1px solid var(--line); border-radius: 10px; padding: 0 8px; font-size: 12px; color: var(--text); }
.chip.warn { border-color: var(--amber); color: var(--amber); }
.chip.pci { border-color: var(--green); color: var(--green); } .chip.fabrics { border-color: var(--blue); color: var(--blue); }
.chip.idle { color: var(--muted); }
.zone-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(34px, 1fr)); gap: 4px; }
.zone { position: relative; height: 34px; border-radius: 3px; background: var(--empty);
  border: 1px solid var(--line); overflow: hidden; }
.zone-fill { position: absolute; left: 0; right: 0; bottom: 0; opacity: .85; }
.zone-i { position: absolute; left: 3px; top: 1px; font-size: 10px; color: #e6edf3cc; text-shadow: 0 0 2px #000; }
.zone[data-state="implicitly-open"] { border-color: var(--green); } .zone[data-state="implicitly-open"] .zone-fill { background: var(--green); }
.zone[data-state="explicitly-open"] { border-color: var(--blue); } .zone[data-state="explicitly-open"] .zone-fill { background: var(--blue); }
.zone[data-state="closed"] { border-color: var(--amber); } .zone[data-state="closed"] .zone-fill { background: var(--amber); }
.zone[data-state="full"] { border-color: var(--purple); } .zone[data-state="full"] .zone-fill { background: var(--purple); }
.zone[data-state="read-only"] { border-color: var(--gray); } .zone[data-state="read-only"] .zone-fill { background: var(--gray); }
.zone[data-state="offline"] { border-color: var(--red); background: repeating-linear-gradient(45deg, #f8514933 0 4px, transparent 4px 8px); }
.legend { display: flex; flex-wrap: wrap; gap: 14px; margin-top: 8px; color: var(--muted); font-size: 12px; }
.legend-item { display: inline-flex; align-items: center; gap: 5px; }
.swatch { width: 11px; height: 11px; border-radius: 2px; background: var(--empty); border: 1px solid var(--line); display: inline-block; }
.swatch[data-state="implicitly-open"] { background: var(--green); } .swatch[data-state="explicitly-open"] { background: var(--blue); }
.swatch[data-state="closed"] { background: var(--amber); } .swatch[data-state="full"] { background: var(--purple); }
.swatch[data-state="read-only"] { background: var(--gray); } .swatch[data-state="offline"] { background: var(--red); }
.ctrl + .ctrl, .fdp + .fdp, .cache + .cache, .smart + .smart, .pmem + .pmem { margin-top: 12px; padding-top: 10px; border-top: 1px solid var(--line); }
.ctrl-head { display: flex; align-items: baseline; gap: 8px; margin-bottom: 6px; flex-wrap: wrap; }
.queue, .ruh { display: grid; grid-template-columns: 84px 1fr; align-items: center; gap: 8px; margin: 3px 0; }
.qname { color: var(--muted); font-size: 12px; }
.bar { position: relative; height: 18px; background: var(--empty); border-radius: 3px; overflow: hidden; }
.bar-fill { position: absolute; inset: 0 auto 0 0; background: #1f6feb; }
.bar.busy .bar-fill { background: var(--green); } .bar.dirty .bar-fill { background: var(--amber); } .bar.ru .bar-fill { background: var(--purple); }
.bar-label { position: relative; padding-left: 6px; font-size: 11px; line-height: 18px; white-space: nowrap; }
.ru-groups { display: grid; gap: 3px; }
.figs { display: grid; grid-template-columns: repeat(auto-fill, minmax(98px, 1fr)); gap: 6px; margin: 6px 0; }
.fig { background: #0d1117; border: 1px solid #21262d; border-radius: 4px; padding: 4px 7px; display: flex; flex-direction: column; }
.fig-v { font-size: 14px; font-variant-numeric: tabular-nums; } .fig-k { font-size: 11px; color: var(--muted); }
.fig.bad .fig-v { color: var(--red); } .fig.warn .fig-v { color: var(--amber); } .fig.ok .fig-v { color: var(--green); }
.audit { display: flex; flex-wrap: wrap; gap: 4px; margin-top: 4px; }
.audit-e { font: 11px ui-monospace, "DejaVu Sans Mono", monospace; background: #d2992222; color: var(--amber); border-radius: 3px; padding: 0 5px; }
.audit-e.bad { background: #f8514922; color: var(--red); }
.stack { display: flex; height: 12px; border-radius: 3px; overflow: hidden; margin: 6px 0; background: var(--empty); }
.s-dirty { background: var(--red); } .s-flushed { background: var(--amber); } .s-persisted { background: #238636; }
#feed-card { grid-column: span 1; }
.feed { list-style: none; margin: 0; padding: 0; max-height: 360px; overflow: auto;
  font: 12px/1.5 ui-monospace, "DejaVu Sans Mono", monospace; }
.feed li { display: grid; grid-template-columns: 92px 52px 1fr; gap: 8px; padding: 2px 4px; border-bottom: 1px solid #21262d; }
.feed li.injected { background: #f8514914; }
.feed time { color: var(--gray); }
.badge { font-size: 10px; text-align: center; border-radius: 3px; padding: 0 4px; align-self: center; font-family: system-ui, sans-serif; font-weight: 600; }
.badge.fault { background: var(--red); color: #fff; } .badge.err { background: #d2992233; color: var(--amber); }
.badge.ub { background: #a371f733; color: var(--purple); } .badge.success { background: #30363d; color: var(--muted); }
.text { word-break: break-word; }
`;

interface Asset {
  readonly type: string;
  readonly bytes: string | Uint8Array;
}

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';
const require = createRequire(import.meta.url);

/** URL path → where the bytes come from. */
const SOURCES: ReadonlyMap<string, () => Promise<Asset>> = new Map([
  ['/index.html', () => Promise.resolve({ type: 'text/html; charset=utf-8', bytes: INDEX_HTML })],
  ['/assets/style.css', () => Promise.resolve({ type: CSS, bytes: STYLE_CSS })],
  ['/assets/uplot.js', () => file(require.resolve('uplot/dist/uPlot.iife.min.js'), JS)],
  ['/assets/uplot.css', () => file(require.resolve('uplot/dist/uPlot.min.css'), CSS)],
  ...['main', 'charts', 'panels', 'dom'].map(
    (m) =>
      [
        `/assets/page/${m}.js`,
        () => file(fileURLToPath(new URL(`./page/${m}.js`, import.meta.url)), JS),
      ] as const,
  ),
  // Shared with the server: the latency buckets (the page's modules import it as ../figures.js).
  ['/assets/figures.js', () => file(fileURLToPath(new URL('./figures.js', import.meta.url)), JS)],
]);

/** The paths served besides `/`. */
export const ASSET_PATHS: ReadonlySet<string> = new Set(SOURCES.keys());

const cache = new Map<string, Promise<Asset>>();

/** The asset at `path` (undefined when there is none). */
export function asset(path: string): Promise<Asset> | undefined {
  const src = SOURCES.get(path);
  if (src === undefined) return undefined;
  let a = cache.get(path);
  if (a === undefined) {
    a = src();
    // A failed read is retried on the next request (and answered 500 now).
    a.catch(() => cache.delete(path));
    cache.set(path, a);
  }
  return a;
}

async function file(path: string, type: string): Promise<Asset> {
  return { type, bytes: await readFile(path) };
}
