// The page's state panels, redrawn from each snapshot: zone maps, queues, FDP reclaim units, the
// write cache model and flush audit, SMART and endurance, pmem regions, and the feed.

import type { FeedEntry, Snapshot, NamespaceInfo } from '../wire.js';
import { bar, bytes, clock, count, figure, fill, h, pct } from './dom.js';

/** ZNS zone states (ZNS 1.1 Figure 37) → the names the API and the CSS use. */
export const ZONE_STATES: Readonly<Record<number, string>> = {
  0x1: 'empty',
  0x2: 'implicitly-open',
  0x3: 'explicitly-open',
  0x4: 'closed',
  0xd: 'read-only',
  0xe: 'full',
  0xf: 'offline',
};

/** Zones drawn per namespace (a map of more would not be readable anyway). */
const MAX_ZONES = 4096;

const limit = (n: number): string => (n === 0 ? '∞' : String(n));

function zoneMap(n: NamespaceInfo): HTMLElement {
  const z = n.zoned!;
  const counts = new Map<string, number>();
  const shown = Math.min(z.state.length, MAX_ZONES);
  const cells: HTMLElement[] = [];
  for (let i = 0; i < shown; i++) {
    const state = ZONE_STATES[z.state[i]!] ?? 'offline';
    counts.set(state, (counts.get(state) ?? 0) + 1);
    const written = z.written[i] ?? 0;
    const p = pct(written, z.zoneCapacity);
    cells.push(
      h(
        'div',
        {
          class: 'zone',
          'data-index': i,
          'data-state': state,
          'data-fill': p.toFixed(1),
          title: `zone ${i}: ${state}, write pointer ${count(written)} of ${count(z.zoneCapacity)} blocks (${p.toFixed(1)}%)`,
        },
        h('div', { class: 'zone-fill', style: `height:${p.toFixed(1)}%` }),
        z.state.length <= 256 ? h('span', { class: 'zone-i' }, String(i)) : null,
      ),
    );
  }
  const over = (used: number, max: number): string =>
    max !== 0 && used >= max ? 'chip warn' : 'chip';
  return h(
    'div',
    { class: 'zns', 'data-ns': n.label },
    h(
      'div',
      { class: 'zns-head' },
      h('strong', {}, n.label),
      h(
        'span',
        { class: 'muted' },
        ` nsid ${n.nsid} · ${z.state.length} zones × ${bytes(z.zoneSize * n.blockSize)}`,
      ),
      h(
        'span',
        { class: over(z.open, z.maxOpen), 'data-open': z.open },
        `open ${z.open} / ${limit(z.maxOpen)}`,
      ),
      h(
        'span',
        { class: over(z.active, z.maxActive), 'data-active': z.active },
        `active ${z.active} / ${limit(z.maxActive)}`,
      ),
      h(
        'span',
        { class: 'muted small' },
        `MOR ${z.maxOpen === 0 ? 'none' : z.maxOpen - 1} · MAR ${z.maxActive === 0 ? 'none' : z.maxActive - 1}`,
      ),
    ),
    h('div', { class: 'zone-grid' }, cells),
    shown < z.state.length
      ? h('div', { class: 'muted' }, `first ${shown} of ${z.state.length} zones`)
      : null,
    h(
      'div',
      { class: 'legend' },
      Object.values(ZONE_STATES).map((s) =>
        h(
          'span',
          { class: 'legend-item' },
          h('i', { class: 'swatch', 'data-state': s }),
          `${s} ${counts.get(s) ?? 0}`,
        ),
      ),
    ),
  );
}

export function renderZones(s: Snapshot): void {
  const zoned = s.namespaces.filter((n) => n.zoned !== null);
  fill(
    'zones',
    zoned.length === 0 ? h('p', { class: 'muted' }, 'no zoned namespace') : zoned.map(zoneMap),
  );
}

/** Completed commands per queue at the previous snapshot, for the rate. */
let lastQueues = new Map<string, { time: number; completed: number }>();

export function renderQueues(s: Snapshot): void {
  const now = new Map<string, { time: number; completed: number }>();
  const rate = (ctrl: string, qid: number, completed: number): string => {
    const key = `${ctrl}/${qid}`;
    now.set(key, { time: s.time, completed });
    const before = lastQueues.get(key);
    if (before === undefined || s.time <= before.time || completed < before.completed) return '';
    return ` · ${count(((completed - before.completed) * 1000) / (s.time - before.time))}/s`;
  };
  fill(
    'queues',
    s.controllers.map((c) =>
      h(
        'div',
        { class: 'ctrl' },
        h(
          'div',
          { class: 'ctrl-head' },
          h('strong', {}, c.label),
          h(
            'span',
            { class: `chip ${c.boundTo ?? 'idle'}` },
            c.boundTo === null ? 'no host' : c.boundTo === 'pci' ? 'PCIe' : 'NVMe/TCP',
          ),
          h(
            'span',
            { class: 'muted small' },
            `cntlid ${c.cntlid}${c.hostnqn === null ? '' : ` · ${c.hostnqn}`}`,
          ),
        ),
        c.queues.length === 0
          ? h('div', { class: 'muted small' }, c.enabled ? 'no queues' : 'not enabled')
          : c.queues.map((q) =>
              h(
                'div',
                { class: 'queue', 'data-qid': q.qid },
                h('span', { class: 'qname' }, q.qid === 0 ? 'admin' : `q${q.qid}`),
                bar(
                  q.outstanding,
                  q.depth,
                  `${q.outstanding} / ${q.depth}${q.queued > 0 ? ` · ${q.queued} queued` : ''}${rate(c.label, q.qid, q.completed)}`,
                  q.outstanding > 0 ? 'busy' : '',
                ),
              ),
            ),
      ),
    ),
  );
  lastQueues = now;
}

export function renderFdp(s: Snapshot): void {
  fill(
    'fdp',
    s.fdp.length === 0
      ? h('p', { class: 'muted' }, 'no FDP subsystem (nvme-subsys fdp=on)')
      : s.fdp.map((f) => {
          const waf =
            f.hostBytesWritten === 0 ? '–' : (f.mediaBytesWritten / f.hostBytesWritten).toFixed(2);
          return h(
            'div',
            { class: 'fdp' },
            h(
              'div',
              { class: 'ctrl-head' },
              h('strong', {}, f.subnqn),
              h(
                'span',
                { class: 'muted small' },
                `RU ${bytes(f.reclaimUnitBytes)} · ${f.reclaimGroups} group(s)`,
              ),
            ),
            h(
              'div',
              { class: 'figs' },
              figure('host written', bytes(f.hostBytesWritten)),
              figure('media written', bytes(f.mediaBytesWritten)),
              figure('write amplification', waf),
              figure('media erased', bytes(f.mediaBytesErased)),
            ),
            f.handles
              .filter((r) => r.attribute !== 'unused')
              .map((r) =>
                h(
                  'div',
                  { class: 'ruh', 'data-ruh': r.id },
                  h(
                    'span',
                    { class: 'qname' },
                    `RUH ${r.id}`,
                    h('span', { class: 'kind' }, r.attribute),
                  ),
                  h(
                    'div',
                    { class: 'ru-groups' },
                    r.groups.map((g, i) =>
                      bar(
                        r.unitBlocks - g.available,
                        r.unitBlocks,
                        `RG ${i}: ${pct(r.unitBlocks - g.available, r.unitBlocks).toFixed(0)}% · ↻ ${g.rollovers}`,
                        'ru',
                      ),
                    ),
                  ),
                ),
              ),
          );
        }),
  );
}

export function renderCache(s: Snapshot): void {
  fill(
    'cache',
    s.namespaces.map((n) => {
      const w = n.writeCache;
      return h(
        'div',
        { class: 'cache', 'data-ns': n.label },
        h(
          'div',
          { class: 'ctrl-head' },
          h('strong', {}, n.label),
          h(
            'span',
            { class: `chip ${n.volatileWriteCache ? '' : 'idle'}` },
            n.volatileWriteCache ? 'volatile cache on' : 'write through',
          ),
        ),
        !w.tracked
          ? h(
              'div',
              { class: 'muted small' },
              'not tracked (x-nvmemu-track-writes attaches the model)',
            )
          : [
              bar(
                w.dirtyBytes,
                w.capacityBytes,
                `${bytes(w.dirtyBytes)} dirty of ${bytes(w.capacityBytes)}`,
                w.dirtyBytes > 0 ? 'dirty' : '',
              ),
              h(
                'div',
                { class: 'small' },
                w.volatileWrites === 0
                  ? h('span', { class: 'ok' }, '✓ every acknowledged write is durable')
                  : h(
                      'span',
                      { class: 'warn-t' },
                      `${count(w.volatileWrites)} writes (${count(w.volatileBlocks)} blocks) a power cut would lose`,
                    ),
                h(
                  'span',
                  { class: 'muted' },
                  ` · ${count(w.persisted)} persisted, ${count(w.destaged)} destaged`,
                ),
              ),
              w.oldest.length === 0
                ? null
                : h(
                    'div',
                    { class: 'audit' },
                    w.oldest.map((a) =>
                      h('span', { class: 'audit-e' }, `#${a.seq} lba ${a.lba}+${a.nlb}`),
                    ),
                  ),
            ],
      );
    }),
  );
}

export function renderSmart(s: Snapshot): void {
  fill(
    'smart',
    s.controllers.map((c) => {
      const m = c.smart;
      return h(
        'div',
        { class: 'smart' },
        h(
          'div',
          { class: 'ctrl-head' },
          h('strong', {}, c.label),
          h('span', { class: 'muted small' }, c.serial),
        ),
        h(
          'div',
          { class: 'figs' },
          figure(
            'critical warning',
            `0x${m.criticalWarning.toString(16).padStart(2, '0')}`,
            m.criticalWarning !== 0 ? 'bad' : '',
          ),
          figure('temperature', `${m.temperatureKelvin - 273} °C`),
          figure('percentage used', `${m.percentageUsed}%`),
          figure('data read', bytes(m.dataUnitsRead * 512000)),
          figure('data written', bytes(m.dataUnitsWritten * 512000)),
          figure('host reads', count(m.hostReadCommands)),
          figure('host writes', count(m.hostWriteCommands)),
          figure('power cycles', count(m.powerCycles)),
          figure('power-on hours', count(m.powerOnHours)),
          figure('unsafe shutdowns', count(m.unsafeShutdowns), m.unsafeShutdowns > 0 ? 'warn' : ''),
          figure('media errors', count(m.mediaErrors), m.mediaErrors > 0 ? 'bad' : ''),
          figure(
            'error log entries',
            count(m.errorLogEntries),
            m.errorLogEntries > 0 ? 'warn' : '',
          ),
        ),
      );
    }),
  );
}

export function renderPmem(s: Snapshot): void {
  fill(
    'pmem',
    s.pmem.length === 0
      ? h('p', { class: 'muted' }, 'no nvdimm or virtio-pmem device')
      : s.pmem.map((p) => {
          const units = p.dirty + p.flushed + p.persisted;
          const unit = p.unitSize === 64 ? 'lines' : 'pages';
          const bad = p.badBlocks.reduce((n, b) => n + b.count, 0);
          return h(
            'div',
            { class: 'pmem', 'data-region': p.label },
            h(
              'div',
              { class: 'ctrl-head' },
              h('strong', {}, p.label),
              h(
                'span',
                { class: 'muted small' },
                `${p.type} · ${bytes(p.size)} · ${p.granularity}`,
              ),
            ),
            p.unitSize === 0
              ? h(
                  'div',
                  { class: 'muted small' },
                  'not in the power-failure model (nothing written survives a restart, or everything does)',
                )
              : [
                  h(
                    'div',
                    {
                      class: 'stack',
                      title: `${p.dirty} dirty, ${p.flushed} flushed, ${p.persisted} persisted ${unit}`,
                    },
                    h('div', {
                      class: 's-dirty',
                      style: `width:${Math.max(p.dirty > 0 ? 0.5 : 0, pct(p.dirty, units)).toFixed(2)}%`,
                    }),
                    h('div', {
                      class: 's-flushed',
                      style: `width:${Math.max(p.flushed > 0 ? 0.5 : 0, pct(p.flushed, units)).toFixed(2)}%`,
                    }),
                    h('div', { class: 's-persisted', style: 'flex:1' }),
                  ),
                  h(
                    'div',
                    { class: 'figs' },
                    figure(`dirty ${unit}`, count(p.dirty), p.dirty > 0 ? 'warn' : ''),
                    figure(`flushed ${unit}`, count(p.flushed)),
                    figure(`persisted ${unit}`, count(p.persisted), 'ok'),
                  ),
                ],
            h(
              'div',
              { class: 'figs' },
              figure(
                'bad blocks',
                bad === 0 ? 'none' : `${count(bad)} sectors`,
                bad > 0 ? 'bad' : '',
              ),
              p.dirtyShutdowns === null
                ? null
                : figure(
                    'dirty shutdowns',
                    count(p.dirtyShutdowns),
                    p.dirtyShutdowns > 0 ? 'warn' : '',
                  ),
            ),
            p.badBlocks.length === 0
              ? null
              : h(
                  'div',
                  { class: 'audit' },
                  p.badBlocks
                    .slice(0, 8)
                    .map((b) =>
                      h('span', { class: 'audit-e bad' }, `sector ${b.sector}+${b.count}`),
                    ),
                ),
          );
        }),
  );
}

const FEED_SHOWN = 200;

export function renderFeed(entries: readonly FeedEntry[]): void {
  const rows = entries.slice(-FEED_SHOWN).reverse();
  fill(
    'feed',
    rows.length === 0
      ? h(
          'p',
          { class: 'muted' },
          'no events yet: injected faults, failed commands and controller state changes appear here',
        )
      : h(
          'ol',
          { class: 'feed' },
          rows.map((e) =>
            h(
              'li',
              {
                class: e.injected ? 'injected' : e.kind,
                'data-event': e.event,
                'data-fault': e.fault,
                'data-seq': e.seq,
              },
              h('time', {}, clock(e.time)),
              h(
                'span',
                { class: `badge ${e.injected ? 'fault' : e.kind}` },
                e.injected ? 'FAULT' : e.kind === 'err' ? 'ERROR' : e.kind === 'ub' ? 'UB' : 'INFO',
              ),
              h('span', { class: 'text' }, e.text),
            ),
          ),
        ),
  );
}
