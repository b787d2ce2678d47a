// `/metrics`: the live view's figures in the Prometheus text format (exposition format 0.0.4),
// through prom-client's registry. Names and labels are stable (docs/live-view.md lists them):
//
//   - the device counters of QMP's x-nvmemu-query-stats, read through the same function the
//     monitor answers with (monitor/commands/stats.ts queryStats), so the two always agree;
//   - what only the live view knows: per-opcode latency histograms (command observers), queue
//     depth and occupancy, zones per state, FDP reclaim units, the write cache model, SMART,
//     the pmem power-failure model, fault records seen.
//
// Everything is read at scrape time (nothing is kept per command beyond telemetry.ts's slots).
// Labels: `controller` and `namespace` are the device id (its QOM path when it has none; a VF's
// controller is `<pf>:vfN`), `nsid` the namespace id, `queue` the queue id, `kind` admin or io,
// `opcode` the command's name in kebab case, `state` a zone state name.

import { Counter, Gauge, Histogram, Registry, type Aggregator, type MetricType } from 'prom-client';
import { queryStats } from '../monitor/commands/stats.js';
import { entries } from '../monitor/inspect.js';
import type { MachineView } from '../monitor/monitor.js';
import { ZONE_STATE_NAMES, type Snapshot } from './snapshot.js';
import { BUCKETS, opcodeLabel, type CommandTelemetry } from './telemetry.js';
import type { TraceFeed } from './feed.js';
import type { ZoneStateValue } from '../nvme/ns/zoned/state.js';

type Kind = 'counter' | 'gauge';
type Scope = 'controller' | 'namespace' | 'nvdimm';

/** QMP's x-nvmemu-query-stats, provider and stat name → the metric that carries it. */
export const QMP_METRICS: readonly {
  readonly provider: 'nvme' | 'nvme-ns' | 'nvdimm';
  readonly stat: string;
  readonly name: string;
  readonly kind: Kind;
  readonly help: string;
}[] = [
  m(
    'nvme',
    'admin-commands',
    'nvmemu_controller_admin_commands_total',
    'counter',
    'Admin commands completed',
  ),
  m(
    'nvme',
    'admin-errors',
    'nvmemu_controller_admin_errors_total',
    'counter',
    'Admin commands completed with a non-zero status',
  ),
  m(
    'nvme',
    'io-commands',
    'nvmemu_controller_io_commands_total',
    'counter',
    'I/O commands completed',
  ),
  m(
    'nvme',
    'io-errors',
    'nvmemu_controller_io_errors_total',
    'counter',
    'I/O commands completed with a non-zero status',
  ),
  m(
    'nvme',
    'attached-namespaces',
    'nvmemu_controller_attached_namespaces',
    'gauge',
    'Namespaces attached to the controller',
  ),
  m(
    'nvme',
    'aer-outstanding',
    'nvmemu_controller_aer_outstanding',
    'gauge',
    'Asynchronous Event Requests the host has outstanding',
  ),
  m(
    'nvme-ns',
    'read-commands',
    'nvmemu_namespace_read_commands_total',
    'counter',
    'Read commands accounted by SMART',
  ),
  m(
    'nvme-ns',
    'write-commands',
    'nvmemu_namespace_write_commands_total',
    'counter',
    'Write commands accounted by SMART',
  ),
  m(
    'nvme-ns',
    'bytes-read',
    'nvmemu_namespace_read_bytes_total',
    'counter',
    'Bytes read, as SMART accounts them',
  ),
  m(
    'nvme-ns',
    'bytes-written',
    'nvmemu_namespace_written_bytes_total',
    'counter',
    'Bytes written, as SMART accounts them',
  ),
  m(
    'nvme-ns',
    'media-read-errors',
    'nvmemu_namespace_media_read_errors_total',
    'counter',
    'Reads that met an injected media defect',
  ),
  m(
    'nvme-ns',
    'media-write-errors',
    'nvmemu_namespace_media_write_errors_total',
    'counter',
    'Writes that met an injected media defect',
  ),
  m(
    'nvme-ns',
    'uncorrectable-blocks',
    'nvmemu_namespace_uncorrectable_blocks',
    'gauge',
    'Blocks marked uncorrectable',
  ),
  m(
    'nvme-ns',
    'deallocated-blocks',
    'nvmemu_namespace_deallocated_blocks',
    'gauge',
    'Blocks deallocated',
  ),
  m(
    'nvdimm',
    'bad-block-ranges',
    'nvmemu_nvdimm_bad_block_ranges',
    'gauge',
    'Bad block ranges of the NVDIMM',
  ),
  m(
    'nvdimm',
    'bad-sectors',
    'nvmemu_nvdimm_bad_sectors',
    'gauge',
    'Bad 512-byte sectors of the NVDIMM',
  ),
  m(
    'nvdimm',
    'dirty-shutdowns',
    'nvmemu_nvdimm_dirty_shutdowns_total',
    'counter',
    'Dirty shutdowns the NVDIMM counted',
  ),
];

function m(
  provider: 'nvme' | 'nvme-ns' | 'nvdimm',
  stat: string,
  name: string,
  kind: Kind,
  help: string,
): (typeof QMP_METRICS)[number] {
  return { provider, stat, name, kind, help };
}

const SCOPE: Record<'nvme' | 'nvme-ns' | 'nvdimm', Scope> = {
  nvme: 'controller',
  'nvme-ns': 'namespace',
  nvdimm: 'nvdimm',
};

/** `le` of latency bucket k in seconds, printed exactly (2^k µs). */
const le = (k: number): string => (k >= BUCKETS - 1 ? '+Inf' : (2 ** k / 1e6).toString());

/**
 * A histogram whose buckets are counted elsewhere (telemetry.ts, on the command path) and read
 * at scrape time: prom-client's Histogram counts one observe() call per value, which would cost
 * the command path a label hash per command. The registry reads a metric through `get()` (and
 * `getForPromString()` when present); both return the observed buckets.
 */
const LATENCY = 'nvmemu_command_duration_seconds';
const LATENCY_HELP =
  'Command latency from the controller taking the command to its completion, while the view runs';

class ObservedHistogram extends Histogram<'controller' | 'kind' | 'opcode'> {
  constructor(
    private readonly read: () => {
      labels: { controller: string; kind: string; opcode: string };
      buckets: Float64Array;
      count: number;
      sumSeconds: number;
    }[],
  ) {
    super({
      name: LATENCY,
      help: LATENCY_HELP,
      labelNames: ['controller', 'kind', 'opcode'],
      registers: [],
    });
  }

  override get(): ReturnType<Histogram['get']> {
    const values: { labels: Record<string, string>; value: number; metricName: string }[] = [];
    for (const r of this.read()) {
      let acc = 0;
      for (let k = 0; k < BUCKETS; k++) {
        acc += r.buckets[k]!;
        values.push({
          labels: { ...r.labels, le: le(k) },
          value: acc,
          metricName: `${LATENCY}_bucket`,
        });
      }
      values.push({ labels: r.labels, value: r.sumSeconds, metricName: `${LATENCY}_sum` });
      values.push({ labels: r.labels, value: r.count, metricName: `${LATENCY}_count` });
    }
    return Promise.resolve({
      name: LATENCY,
      help: LATENCY_HELP,
      // The base class's own fields (its typings declare `type` as a numeric enum, while the
      // registry prints the string the constructor stored).
      type: (this as unknown as { type: MetricType }).type,
      values,
      aggregator: (this as unknown as { aggregator: Aggregator }).aggregator,
      collect: undefined as never,
    });
  }

  getForPromString(): ReturnType<Histogram['get']> {
    return this.get();
  }
}

export class LiveMetrics {
  readonly registry = new Registry();
  readonly #qmp = new Map<string, Gauge | Counter>();
  readonly #gauges = new Map<string, Gauge>();
  readonly #counters = new Map<string, Counter>();

  constructor(
    private readonly view: MachineView,
    private readonly telemetry: CommandTelemetry,
    private readonly feed: TraceFeed,
  ) {
    for (const q of QMP_METRICS) {
      const labelNames = q.provider === 'nvme-ns' ? ['namespace', 'nsid'] : [SCOPE[q.provider]];
      const cfg = {
        name: q.name,
        help: `${q.help} (QMP x-nvmemu-query-stats ${q.provider} ${q.stat})`,
        labelNames,
        registers: [this.registry],
      };
      this.#qmp.set(
        `${q.provider}/${q.stat}`,
        q.kind === 'counter' ? new Counter(cfg) : new Gauge(cfg),
      );
    }
    const g = (name: string, help: string, labelNames: string[]): void =>
      void this.#gauges.set(
        name,
        new Gauge({ name, help, labelNames, registers: [this.registry] }),
      );
    const c = (name: string, help: string, labelNames: string[]): void =>
      void this.#counters.set(
        name,
        new Counter({ name, help, labelNames, registers: [this.registry] }),
      );
    g('nvmemu_controller_info', 'Controller identity (value 1)', [
      'controller',
      'serial',
      'cntlid',
      'subnqn',
      'transport',
    ]);
    g('nvmemu_queue_depth', 'Entries the submission queue holds', ['controller', 'queue']);
    g('nvmemu_queue_outstanding', 'Commands taken from the queue and not yet completed', [
      'controller',
      'queue',
    ]);
    g('nvmemu_zones', 'Zones per zone state', ['namespace', 'state']);
    g('nvmemu_zones_open', 'Open zones (implicitly and explicitly)', ['namespace']);
    g('nvmemu_zones_active', 'Active zones (open and closed)', ['namespace']);
    g('nvmemu_zones_max_open', 'Maximum open zones (MOR + 1; 0 = no limit)', ['namespace']);
    g('nvmemu_zones_max_active', 'Maximum active zones (MAR + 1; 0 = no limit)', ['namespace']);
    c(
      'nvmemu_fdp_host_written_bytes_total',
      'FDP host bytes with metadata written (log 22h HBMW)',
      ['subsystem'],
    );
    c(
      'nvmemu_fdp_media_written_bytes_total',
      'FDP media bytes with metadata written (log 22h MBMW)',
      ['subsystem'],
    );
    c('nvmemu_fdp_media_erased_bytes_total', 'FDP media bytes erased (log 22h MBE)', ['subsystem']);
    g(
      'nvmemu_fdp_reclaim_unit_available_blocks',
      'Blocks still writable in the current reclaim unit',
      ['subsystem', 'handle', 'group'],
    );
    c('nvmemu_fdp_reclaim_unit_rollovers_total', 'Reclaim units the handle filled and left', [
      'subsystem',
      'handle',
      'group',
    ]);
    g('nvmemu_write_cache_dirty_bytes', 'Bytes in the volatile write cache model, not durable', [
      'namespace',
    ]);
    g(
      'nvmemu_write_cache_volatile_writes',
      'Acknowledged writes a power cut would lose now (flush audit)',
      ['namespace'],
    );
    g('nvmemu_smart_critical_warning', 'SMART critical warning bits', ['controller']);
    g('nvmemu_smart_temperature_kelvin', 'SMART composite temperature', ['controller']);
    c('nvmemu_smart_data_units_read_total', 'SMART data units read (1000 × 512 bytes)', [
      'controller',
    ]);
    c('nvmemu_smart_data_units_written_total', 'SMART data units written (1000 × 512 bytes)', [
      'controller',
    ]);
    c('nvmemu_smart_power_cycles_total', 'SMART power cycles', ['controller']);
    c('nvmemu_smart_power_on_hours_total', 'SMART power-on hours', ['controller']);
    c('nvmemu_smart_unsafe_shutdowns_total', 'SMART unsafe shutdowns', ['controller']);
    c('nvmemu_smart_media_errors_total', 'SMART media and data integrity errors', ['controller']);
    c('nvmemu_smart_error_log_entries_total', 'SMART number of error information log entries', [
      'controller',
    ]);
    g(
      'nvmemu_pmem_units',
      'Units of the power-failure model per state (dirty, flushed, persisted)',
      ['region', 'state'],
    );
    g('nvmemu_pmem_unit_bytes', 'Bytes per unit of the power-failure model (64: cache lines)', [
      'region',
    ]);
    c(
      'nvmemu_fault_events_total',
      'Fault records seen while the view runs, by fault kind and event',
      ['fault', 'event'],
    );
    this.registry.registerMetric(new ObservedHistogram(() => this.#latency()));
  }

  #latency(): ReturnType<ConstructorParameters<typeof ObservedHistogram>[0]> {
    return this.telemetry.all().flatMap((f) =>
      f.opcodes().map((o) => ({
        labels: {
          controller: this.#labelOf(f.ctrl),
          kind: o.admin ? 'admin' : 'io',
          opcode: opcodeLabel(o.name),
        },
        buckets: o.buckets,
        count: o.count,
        sumSeconds: o.sumNs / 1e9,
      })),
    );
  }

  /** Controller labels of the last refresh. */
  #ctrlLabels = new Map<unknown, string>();
  #labelOf(ctrl: unknown): string {
    return this.#ctrlLabels.get(ctrl) ?? '?';
  }

  /** The exposition text of everything now; `snap` is the machine as the view read it. */
  async text(snap: Snapshot, ctrlLabels: ReadonlyMap<unknown, string>): Promise<string> {
    this.#ctrlLabels = new Map(ctrlLabels);
    this.#refresh(snap);
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  #refresh(snap: Snapshot): void {
    for (const x of this.#qmp.values()) x.reset();
    for (const x of this.#gauges.values()) x.reset();
    for (const x of this.#counters.values()) x.reset();
    const labelOf = new Map<string, string>();
    for (const e of entries(this.view)) labelOf.set(e.path, e.component.id ?? e.path);
    let nsid = 0;
    for (const r of queryStats(this.view, {})) {
      const provider = r.provider;
      // The monitor's and the NVMe/TCP target's own counters are the monitor's to show.
      if (provider === 'monitor' || provider === 'nvme-tcp') continue;
      const label = labelOf.get(r['qom-path']) ?? r['qom-path'];
      nsid = Number(r.stats.find((s) => s.name === 'nsid')?.value ?? 0);
      for (const s of r.stats) {
        const metric = this.#qmp.get(`${provider}/${s.name}`);
        if (metric === undefined) continue;
        const labels: Record<string, string> =
          provider === 'nvme-ns'
            ? { namespace: label, nsid: String(nsid) }
            : { [SCOPE[provider]]: label };
        set(metric, labels, Number(s.value));
      }
    }
    const G = (name: string): Gauge => this.#gauges.get(name)!;
    const C = (name: string): Counter => this.#counters.get(name)!;
    for (const c of snap.controllers) {
      const controller = c.label;
      G('nvmemu_controller_info').set(
        {
          controller,
          serial: c.serial,
          cntlid: String(c.cntlid),
          subnqn: c.subnqn,
          transport: c.boundTo ?? 'none',
        },
        1,
      );
      for (const q of c.queues) {
        G('nvmemu_queue_depth').set({ controller, queue: String(q.qid) }, q.depth);
        G('nvmemu_queue_outstanding').set({ controller, queue: String(q.qid) }, q.outstanding);
      }
      const s = c.smart;
      G('nvmemu_smart_critical_warning').set({ controller }, s.criticalWarning);
      G('nvmemu_smart_temperature_kelvin').set({ controller }, s.temperatureKelvin);
      C('nvmemu_smart_data_units_read_total').inc({ controller }, s.dataUnitsRead);
      C('nvmemu_smart_data_units_written_total').inc({ controller }, s.dataUnitsWritten);
      C('nvmemu_smart_power_cycles_total').inc({ controller }, s.powerCycles);
      C('nvmemu_smart_power_on_hours_total').inc({ controller }, s.powerOnHours);
      C('nvmemu_smart_unsafe_shutdowns_total').inc({ controller }, s.unsafeShutdowns);
      C('nvmemu_smart_media_errors_total').inc({ controller }, s.mediaErrors);
      C('nvmemu_smart_error_log_entries_total').inc({ controller }, s.errorLogEntries);
    }
    for (const n of snap.namespaces) {
      const namespace = n.label;
      if (n.zoned !== null) {
        const z = n.zoned;
        const per = new Map<string, number>(Object.values(ZONE_STATE_NAMES).map((s) => [s, 0]));
        for (const st of z.state) {
          const name = ZONE_STATE_NAMES[st as ZoneStateValue];
          per.set(name, (per.get(name) ?? 0) + 1);
        }
        for (const [state, count] of per) G('nvmemu_zones').set({ namespace, state }, count);
        G('nvmemu_zones_open').set({ namespace }, z.open);
        G('nvmemu_zones_active').set({ namespace }, z.active);
        G('nvmemu_zones_max_open').set({ namespace }, z.maxOpen);
        G('nvmemu_zones_max_active').set({ namespace }, z.maxActive);
      }
      if (n.writeCache.tracked) {
        G('nvmemu_write_cache_dirty_bytes').set({ namespace }, n.writeCache.dirtyBytes);
        G('nvmemu_write_cache_volatile_writes').set({ namespace }, n.writeCache.volatileWrites);
      }
    }
    for (const f of snap.fdp) {
      const subsystem = f.subnqn;
      C('nvmemu_fdp_host_written_bytes_total').inc({ subsystem }, f.hostBytesWritten);
      C('nvmemu_fdp_media_written_bytes_total').inc({ subsystem }, f.mediaBytesWritten);
      C('nvmemu_fdp_media_erased_bytes_total').inc({ subsystem }, f.mediaBytesErased);
      for (const h of f.handles) {
        if (h.attribute === 'unused') continue;
        h.groups.forEach((g, i) => {
          const labels = { subsystem, handle: String(h.id), group: String(i) };
          G('nvmemu_fdp_reclaim_unit_available_blocks').set(labels, g.available);
          C('nvmemu_fdp_reclaim_unit_rollovers_total').inc(labels, g.rollovers);
        });
      }
    }
    for (const p of snap.pmem) {
      if (p.unitSize === 0) continue;
      const region = p.label;
      G('nvmemu_pmem_unit_bytes').set({ region }, p.unitSize);
      G('nvmemu_pmem_units').set({ region, state: 'dirty' }, p.dirty);
      G('nvmemu_pmem_units').set({ region, state: 'flushed' }, p.flushed);
      G('nvmemu_pmem_units').set({ region, state: 'persisted' }, p.persisted);
    }
    for (const [key, n] of this.feed.faultCounts()) {
      const [fault = '', event = ''] = key.split(':');
      C('nvmemu_fault_events_total').inc({ fault, event }, n);
    }
  }
}

function set(metric: Gauge | Counter, labels: Record<string, string>, v: number): void {
  if (metric instanceof Counter) metric.inc(labels, v);
  else metric.set(labels, v);
}
