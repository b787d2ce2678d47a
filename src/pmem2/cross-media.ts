// The store explorer over a program's run (docs/pmem2.md "Store explorer"), and one crash
// across media: a program that writes a simulated pmem map and NVMe namespaces (through the
// in-process host or any front end of these controllers) is traced in one order, so a crash at
// one instant cuts both. The NVMe side is what the write cache model (nvme/ns/write-cache.ts,
// attached with faults/power-cut.ts trackWrites) says a power cut could lose at that instant:
// its durable pre-images and its cached writes, each kept or lost as its 'subset' cut does.

import type { Controller, CommandObserver } from '../nvme/ctrl/controller.js';
import { IoOpc } from '../nvme/spec/opcodes.js';
import { writeCacheOf } from '../faults/power-cut.js';
import { Namespace } from '../nvme/ns/namespace.js';
import type { Pmem2Map } from './map.js';
import { StoreTracer, type NvmeState, type StoreTrace } from './store-trace.js';
import {
  exploreTrace,
  type StoreCheck,
  type StoreExploreOptions,
  type StoreReport,
} from './explore-stores.js';

/** Options of traceStores/exploreStores: those of exploreTrace plus the NVMe controllers sharing the crash. */
export interface RunExploreOptions extends StoreExploreOptions {
  /** Controllers whose namespaces (with the write cache model attached) share the crash. */
  readonly nvme?: readonly Controller[];
  /** Record a stack per store (default true; costs about 2 µs a store). */
  readonly stacks?: boolean;
}

/** Watches NVMe writes and flushes; after each, the write cache state goes into the trace. */
function watchNvme(tracer: StoreTracer, ctrls: readonly Controller[]): () => void {
  const current = new Map<number, Map<number, Uint8Array>>();
  const namespaces = (): Namespace[] =>
    ctrls
      .flatMap((c) => [...c.namespaces.values()])
      .filter((n): n is Namespace => n instanceof Namespace);
  const state = (): NvmeState => ({
    namespaces: namespaces().flatMap((ns) => {
      const m = writeCacheOf(ns);
      if (m === undefined) return [];
      const snap = m.snapshot();
      return [
        {
          nsid: ns.nsid,
          lbaSize: ns.lbaSize,
          current: new Map(current.get(ns.nsid) ?? []),
          durable: snap.durable,
          cached: snap.cached,
        },
      ];
    }),
  });
  const obs: CommandObserver = {
    end: (_c, ctx, done) => {
      if (ctx.sqid === 0 || (done.status & 0x7ff) !== 0) return;
      const op = ctx.cmd.opcode;
      if (op !== IoOpc.WRITE && op !== IoOpc.FLUSH) return;
      if (op === IoOpc.WRITE) {
        const ns = ctx.ctrl.namespace(ctx.cmd.nsid);
        const len = ns?.transferLength(ctx.cmd)?.data ?? 0;
        const bytes = ctx.data.window?.(0, len) ?? ctx.data.fromHost(0, len);
        if (ns !== undefined && typeof bytes !== 'number') {
          const map = current.get(ns.nsid) ?? new Map<number, Uint8Array>();
          current.set(ns.nsid, map);
          const slba = Number(BigInt(ctx.cmd.cdw10 >>> 0) | (BigInt(ctx.cmd.cdw11 >>> 0) << 32n));
          for (let k = 0; k * ns.lbaSize < bytes.length; k++) {
            map.set(slba + k, bytes.slice(k * ns.lbaSize, (k + 1) * ns.lbaSize));
          }
        }
      }
      const what =
        op === IoOpc.WRITE
          ? `write nsid ${ctx.cmd.nsid} lba ${ctx.cmd.cdw10}`
          : `flush nsid ${ctx.cmd.nsid}`;
      tracer.nvme(state(), what);
    },
  };
  for (const c of ctrls) c.observers.push(obs);
  return () => {
    for (const c of ctrls) {
      const i = c.observers.indexOf(obs);
      if (i >= 0) c.observers.splice(i, 1);
    }
  };
}

/** Runs `run` once on a simulated map (and NVMe controllers), recording its store trace. */
export async function traceStores(
  map: Pmem2Map,
  run: (map: Pmem2Map) => void | Promise<void>,
  opts: RunExploreOptions = {},
): Promise<StoreTrace> {
  const sim = map.sim;
  if (sim === null)
    throw new Error('the store explorer needs a map created with setPowerFailSimulation(true)');
  if (sim.granularity === 2) {
    throw new Error(
      'the store explorer models cache lines and eADR; PAGE maps: use exploreCrashStates',
    );
  }
  const tracer = new StoreTracer(map.bytes, { stacks: opts.stacks ?? true });
  const prev = sim.tracer;
  sim.tracer = tracer;
  const unwatch = watchNvme(tracer, opts.nvme ?? []);
  try {
    await run(map);
  } finally {
    sim.tracer = prev;
    unwatch();
  }
  return tracer.finish();
}

/**
 * Runs the program once and checks every crash state its stores allow (model and engine per
 * `opts`; the map's granularity picks the default model: BYTE → eadr, else cacheline).
 */
export async function exploreStores(
  map: Pmem2Map,
  run: (map: Pmem2Map) => void | Promise<void>,
  check: StoreCheck,
  opts: RunExploreOptions = {},
): Promise<StoreReport & { trace: StoreTrace }> {
  const trace = await traceStores(map, run, opts);
  const model = opts.model ?? (map.sim?.granularity === 0 ? 'eadr' : 'cacheline');
  return { ...exploreTrace(trace, check, { ...opts, model }), trace };
}
