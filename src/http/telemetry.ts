// Per-command counts and latency for the live view, through the controller's command observers
// (nvme/ctrl/controller.ts CommandObserver): installed on every controller of the machine while
// the view runs and removed when it stops, so the command path pays nothing otherwise.
//
// An observer does the least it can per command: one array slot per (admin|io, opcode), a
// bucket index from the elapsed time, three additions. Names, labels and rates are worked out
// when someone reads (a scrape, the page's once-a-second tick), never on the command path.
//
// Buckets are powers of two of microseconds (figures.ts).

import type { CommandObserver, Controller } from '../nvme/ctrl/controller.js';
import type { CommandContext } from '../nvme/spec/namespace-api.js';
import type { Completion } from '../nvme/spec/transfer.js';
import { IO_COMMAND_NAMES } from '../nvme/spec/opcodes.js';
import { adminCommand } from '../nvme/ctrl/admin-table.js';
import { discoveryCommand } from '../nvme/ctrl/discovery.js';

import { BUCKETS } from './figures.js';

export { BUCKETS };

/** Upper bound of bucket `k` in seconds (Infinity for the last one). */
export function bucketBound(k: number): number {
  return k >= BUCKETS - 1 ? Infinity : 2 ** k / 1e6;
}

/** Bucket of a duration in nanoseconds. */
export function bucketOf(ns: number): number {
  if (ns <= 1000) return 0;
  // ceil(log2(µs)) for µs > 1: the smallest k with µs ≤ 2^k.
  const us = Math.ceil(ns / 1000);
  const k = 32 - Math.clz32(us - 1);
  return k < BUCKETS - 1 ? k : BUCKETS - 1;
}

/** What one (kind, opcode) of one controller accumulated since the view started. */
export class OpcodeFigures {
  count = 0;
  errors = 0;
  /** Sum of the durations, in nanoseconds. */
  sumNs = 0;
  readonly buckets = new Float64Array(BUCKETS);
  constructor(
    readonly admin: boolean,
    readonly opcode: number,
    /** The command's name from the command tables ("Read", "Identify", ...). */
    readonly name: string,
  ) {}
}

/** The figures of one controller: a slot per admin (0..255) and I/O (256..511) opcode. */
export class ControllerFigures {
  readonly slots: (OpcodeFigures | undefined)[] = new Array<OpcodeFigures | undefined>(512);
  /** Commands completed per queue id (admin 0). */
  readonly queues: Float64Array;
  readonly observer: CommandObserver;

  constructor(readonly ctrl: Controller) {
    this.queues = new Float64Array(ctrl.baseParams.maxIoqpairs + 1);
    this.observer = {
      end: (_c: Controller, ctx: CommandContext, c: Completion, elapsedNs: bigint): void => {
        const admin = ctx.sqid === 0;
        const op = ctx.cmd.opcode;
        const i = admin ? op : 256 + op;
        const f = this.slots[i] ?? this.#slot(i, admin, op);
        const ns = Number(elapsedNs);
        f.count++;
        f.sumNs += ns;
        f.buckets[bucketOf(ns)]!++;
        if (c.status !== 0) f.errors++;
        if (ctx.sqid < this.queues.length) this.queues[ctx.sqid]!++;
      },
    };
  }

  #slot(i: number, admin: boolean, op: number): OpcodeFigures {
    const f = new OpcodeFigures(admin, op, opcodeName(this.ctrl, admin, op));
    this.slots[i] = f;
    return f;
  }

  /** The opcodes seen so far. */
  opcodes(): OpcodeFigures[] {
    return this.slots.filter((f): f is OpcodeFigures => f !== undefined);
  }
}

/** The name of an opcode as the controller's command tables give it. */
export function opcodeName(ctrl: Controller, admin: boolean, op: number): string {
  const hex = `0x${op.toString(16).padStart(2, '0')}`;
  if (!admin) return IO_COMMAND_NAMES.get(op) ?? `I/O ${hex}`;
  const d =
    ctrl.type === 'discovery' ? discoveryCommand(op) : adminCommand(op, ctrl.transport, ctrl);
  return d?.name ?? `admin ${hex}`;
}

/** A label value from a command name: "Zone Management Send" → "zone-management-send". */
export function opcodeLabel(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

/**
 * The observers of a set of controllers. `sync` installs one on every controller it is given
 * and forgets (and uninstalls from) the ones no longer given; `stop` uninstalls all.
 */
export class CommandTelemetry {
  readonly #figures = new Map<Controller, ControllerFigures>();

  /** Keeps the observers on exactly `ctrls` (hotplug, power cuts replace controllers). */
  sync(ctrls: readonly Controller[]): void {
    const want = new Set(ctrls);
    for (const [c, f] of this.#figures) {
      if (!want.has(c)) {
        uninstall(c, f.observer);
        this.#figures.delete(c);
      }
    }
    for (const c of ctrls) {
      if (this.#figures.has(c)) continue;
      const f = new ControllerFigures(c);
      c.observers.push(f.observer);
      this.#figures.set(c, f);
    }
  }

  /** The figures of a controller (undefined when it is not observed). */
  of(ctrl: Controller): ControllerFigures | undefined {
    return this.#figures.get(ctrl);
  }

  all(): ControllerFigures[] {
    return [...this.#figures.values()];
  }

  stop(): void {
    for (const [c, f] of this.#figures) uninstall(c, f.observer);
    this.#figures.clear();
  }
}

function uninstall(c: Controller, o: CommandObserver): void {
  const i = c.observers.indexOf(o);
  if (i >= 0) c.observers.splice(i, 1);
}
