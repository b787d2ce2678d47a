// The fault injector of one machine: the public, in-process face of the catalogue
// (docs/faults.md). inject() checks a description completely before changing anything, then
// hands the fault to the part of the emulator it acts on; clear() undoes it; query() shows the
// live faults and the trace of what they did.
//
// Determinism: each fault draws from its own random stream, seeded by its `seed` or derived from
// the injector's seed and the fault's number, so a scenario that injects the same faults in the
// same order over the same command sequence sees the same hits.

import {
  describeSpec,
  FaultSpecError,
  NVME_KINDS,
  parseFaultSpec,
  type FaultSpec,
} from './catalogue.js';
import { ActiveFault } from './fault.js';
import { NvmeFaults } from './nvme.js';
import { PathFaults } from './path-loss.js';
import { PmemFaults } from './pmem.js';
import { FaultLog, recordJson, type FaultRecord } from './record.js';
import { deriveSeed } from '../util/rng.js';
import type { FaultMachine } from './targets.js';
import type { TcpTarget } from '../nvme-tcp/target/port.js';

export interface FaultInjectorOptions {
  /** Base seed of the fault streams (default 0). */
  readonly seed?: number;
}

export interface FaultInfo {
  readonly id: number;
  readonly spec: FaultSpec;
  readonly seed: number;
  readonly phase: ActiveFault['phase'];
  readonly seen: number;
  readonly fired: number;
}

export class FaultInjector {
  readonly #machine: FaultMachine;
  readonly log = new FaultLog();
  readonly nvme: NvmeFaults;
  readonly paths: PathFaults;
  readonly pmem: PmemFaults;
  readonly #faults = new Map<number, ActiveFault>();
  #nextId = 1;
  #seed: number;

  constructor(machine: FaultMachine, opts: FaultInjectorOptions = {}) {
    this.#machine = machine;
    this.#seed = (opts.seed ?? 0) >>> 0;
    this.nvme = new NvmeFaults(machine, this.log);
    this.paths = new PathFaults(this.log);
    this.pmem = new PmemFaults(machine, this.log);
    const started = (f: ActiveFault): void => this.#started(f);
    this.nvme.onFirstFire = started;
    this.pmem.onFirstFire = started;
    this.nvme.onExhausted = (f) => {
      // A fault that cannot fire again and changed nothing lasting is over.
      if (f.undo === undefined && this.#faults.has(f.id)) this.#end(f, 'expired');
    };
  }

  get seed(): number {
    return this.#seed;
  }

  /** Sets the base seed for faults injected from now on (x-nvmemu-fault-seed). */
  reseed(seed: number): void {
    this.#seed = seed >>> 0;
  }

  /** Serves path-loss faults on this NVMe/TCP target. */
  attachNvmeTcp(target: TcpTarget): void {
    this.paths.attach(target);
  }

  /** Injects a fault; returns its id. Throws FaultSpecError (nothing changed) on a mistake. */
  inject(description: FaultSpec | Readonly<Record<string, unknown>>): number {
    const spec = isSpec(description) ? description : parseFaultSpec(description);
    const id = this.#nextId;
    const seed = spec.seed ?? deriveSeed(this.#seed, `fault-${id}`);
    const fault = new ActiveFault(id, spec, seed);
    // Check (resolve targets) first; only then act.
    if (NVME_KINDS.has(spec.kind)) {
      const scope = this.nvme.check(spec);
      this.#accept(fault);
      this.nvme.add(fault, scope);
    } else if (spec.kind === 'path-loss') {
      if (!this.paths.attached) {
        throw new FaultSpecError(`path-loss needs the NVMe/TCP target (nvmemu run serves one)`);
      }
      this.#accept(fault);
      this.paths.add(fault);
      this.#started(fault);
    } else {
      const dev = this.pmem.check(spec);
      this.#accept(fault);
      this.pmem.add(fault, dev);
    }
    return id;
  }

  #accept(fault: ActiveFault): void {
    this.#nextId++;
    this.#faults.set(fault.id, fault);
    this.log.add({
      fault: fault.id,
      kind: fault.spec.kind,
      event: 'injected',
      ...(fault.spec.target.id !== undefined ? { device: fault.spec.target.id } : {}),
      detail: JSON.stringify(describeSpec(fault.spec)),
    });
  }

  /** A fault fired for the first time: its duration starts. */
  #started(f: ActiveFault): void {
    const d = f.spec.trigger.durationMs;
    if (d === undefined || f.timer !== undefined) return;
    f.timer = setTimeout(() => {
      if (this.#faults.has(f.id)) this.#end(f, 'expired');
    }, d);
    f.timer.unref();
  }

  /** Clears one fault, or every fault when `id` is undefined; returns how many were cleared. */
  clear(id?: number): number {
    if (id !== undefined) {
      const f = this.#faults.get(id);
      if (f === undefined) throw new FaultSpecError(`fault ${id} not found`);
      this.#end(f, 'cleared');
      return 1;
    }
    const all = [...this.#faults.values()];
    for (const f of all) this.#end(f, 'cleared');
    return all.length;
  }

  #end(f: ActiveFault, why: 'cleared' | 'expired'): void {
    this.#faults.delete(f.id);
    clearTimeout(f.timer);
    f.phase = 'ended';
    const kind = f.spec.kind;
    if (NVME_KINDS.has(kind)) this.nvme.remove(f);
    else if (kind === 'path-loss') this.paths.remove(f);
    else {
      f.undo?.();
      f.undo = undefined;
    }
    this.log.add({ fault: f.id, kind, event: why });
  }

  faults(): FaultInfo[] {
    return [...this.#faults.values()].map((f) => ({
      id: f.id,
      spec: f.spec,
      seed: f.seed,
      phase: f.phase,
      seen: f.seen,
      fired: f.fired,
    }));
  }

  history(): readonly FaultRecord[] {
    return this.log.list();
  }

  /** x-nvmemu-query-faults: live faults, held commands and the trace. */
  query(): Record<string, unknown> {
    return {
      seed: this.#seed,
      faults: this.faults().map((f) => ({
        'fault-id': f.id,
        ...describeSpec(f.spec),
        'stream-seed': f.seed,
        phase: f.phase,
        opportunities: f.seen,
        fired: f.fired,
      })),
      held: this.nvme.heldCommands(),
      history: this.log.list().map(recordJson),
    };
  }
}

function isSpec(d: FaultSpec | Readonly<Record<string, unknown>>): d is FaultSpec {
  return typeof d.target === 'object' && d.target !== null && typeof d.trigger === 'object';
}

/** One injector per machine (the monitor, scenarios and in-process users share it). */
const injectors = new WeakMap<object, FaultInjector>();

export function machineFaults(machine: FaultMachine, opts?: FaultInjectorOptions): FaultInjector {
  let i = injectors.get(machine);
  if (i === undefined) {
    i = new FaultInjector(machine, opts);
    injectors.set(machine, i);
  } else if (opts?.seed !== undefined) {
    i.reseed(opts.seed);
  }
  return i;
}
