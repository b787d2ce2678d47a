// The live view's page: follows the server's event stream (`/events`: a `hello` with the
// snapshot, the history and the feed, then a `tick` per interval) and redraws the panels.

import type { FeedEntry, Sample, Snapshot, StreamHello, StreamTick } from '../wire.js';
import { fill, h } from './dom.js';
import { IoCharts, LatencyPanel } from './charts.js';
import {
  renderCache,
  renderFdp,
  renderFeed,
  renderPmem,
  renderQueues,
  renderSmart,
  renderZones,
} from './panels.js';

const HISTORY = 300;
const FEED = 500;

let samples: Sample[] = [];
let feed: FeedEntry[] = [];
let charts: IoCharts | undefined;
let latency: LatencyPanel | undefined;

function byId(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`page element #${id} missing`);
  return el;
}

function status(live: boolean, text: string): void {
  const el = byId('status');
  el.dataset.live = String(live);
  fill('status-text', text);
}

function summary(s: Snapshot, version: string): void {
  const zoned = s.namespaces.filter((n) => n.zoned !== null).length;
  fill(
    'summary',
    h('span', {}, `${s.controllers.length} controller${s.controllers.length === 1 ? '' : 's'}`),
    h(
      'span',
      {},
      `${s.namespaces.length} namespace${s.namespaces.length === 1 ? '' : 's'}${zoned > 0 ? ` (${zoned} zoned)` : ''}`,
    ),
    h('span', {}, `${s.pmem.length} pmem region${s.pmem.length === 1 ? '' : 's'}`),
    version === '' ? null : h('span', { class: 'muted' }, `nvmemu ${version}`),
  );
}

function render(s: Snapshot): void {
  renderZones(s);
  renderQueues(s);
  renderFdp(s);
  renderCache(s);
  renderSmart(s);
  renderPmem(s);
  renderFeed(feed);
  charts?.update(samples);
  latency?.update(samples);
  document.body.dataset.updated = String(s.time);
}

let version = '';

function start(): void {
  charts = new IoCharts(byId('chart-iops'), byId('chart-bw'));
  latency = new LatencyPanel(byId('latency'));
  const es = new EventSource('/events');
  es.addEventListener('hello', (ev: MessageEvent<string>) => {
    const m = JSON.parse(ev.data) as StreamHello;
    version = m.version;
    samples = [...m.history];
    feed = [...m.feed];
    status(true, 'live');
    summary(m.snapshot, version);
    render(m.snapshot);
  });
  es.addEventListener('tick', (ev: MessageEvent<string>) => {
    const m = JSON.parse(ev.data) as StreamTick;
    if (m.sample !== null) samples.push(m.sample);
    if (samples.length > HISTORY) samples = samples.slice(-HISTORY);
    feed.push(...m.feed);
    if (feed.length > FEED) feed = feed.slice(-FEED);
    status(true, `live · ${new Date(m.snapshot.time).toLocaleTimeString()}`);
    summary(m.snapshot, version);
    render(m.snapshot);
  });
  es.addEventListener('error', () => status(false, 'disconnected: retrying…'));
}

start();
