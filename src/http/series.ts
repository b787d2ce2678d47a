// The live view's time series: once per interval, the rates since the last sample (IOPS and
// throughput from the controllers' and namespaces' own counters, per-opcode counts and latency
// buckets from the command observers), kept in a bounded ring so that a page opened later still
// sees the last minutes.

import type { Controller } from '../nvme/ctrl/controller.js';
import type { Namespace } from '../nvme/ns/namespace.js';
import { BUCKETS, type CommandTelemetry } from './telemetry.js';
import type { OpcodeSample, Sample } from './wire.js';

export type { OpcodeSample, Sample };

/** Samples kept: 5 minutes at one a second. */
export const HISTORY = 300;

interface Totals {
  io: number;
  reads: number;
  writes: number;
  bytesRead: number;
  bytesWritten: number;
}

interface OpTotals {
  admin: boolean;
  name: string;
  count: number;
  errors: number;
  sumNs: number;
  buckets: Float64Array;
}

export class Series {
  readonly #samples: Sample[] = [];
  #last: { time: number; totals: Totals; ops: Map<string, OpTotals> } | undefined;

  /** Takes one sample of `ctrls` and `namespaces` (the first call only sets the baseline). */
  sample(
    ctrls: readonly Controller[],
    namespaces: readonly Namespace[],
    telemetry: CommandTelemetry,
    now = Date.now(),
  ): Sample | undefined {
    const totals: Totals = { io: 0, reads: 0, writes: 0, bytesRead: 0, bytesWritten: 0 };
    for (const c of ctrls) totals.io += c.stats.ioCommands;
    for (const ns of namespaces) {
      const s = ns.smart();
      totals.reads += Number(s.readCommands);
      totals.writes += Number(s.writeCommands);
      totals.bytesRead += Number(s.bytesRead);
      totals.bytesWritten += Number(s.bytesWritten);
    }
    const ops = new Map<string, OpTotals>();
    for (const f of telemetry.all()) {
      for (const o of f.opcodes()) {
        const key = `${o.admin ? 'admin' : 'io'}:${o.name}`;
        let t = ops.get(key);
        if (t === undefined) {
          t = {
            admin: o.admin,
            name: o.name,
            count: 0,
            errors: 0,
            sumNs: 0,
            buckets: new Float64Array(BUCKETS),
          };
          ops.set(key, t);
        }
        t.count += o.count;
        t.errors += o.errors;
        t.sumNs += o.sumNs;
        for (let k = 0; k < BUCKETS; k++) t.buckets[k]! += o.buckets[k]!;
      }
    }
    const last = this.#last;
    this.#last = { time: now, totals, ops };
    if (last === undefined || now <= last.time) return undefined;
    const secs = (now - last.time) / 1000;
    // Counters restart with a new machine (power cut): a drop is a restart, not a negative rate.
    const rate = (a: number, b: number): number => (a >= b ? (a - b) / secs : a / secs);
    const opcodes: OpcodeSample[] = [];
    for (const [key, t] of ops) {
      const p = last.ops.get(key);
      const restarted = p === undefined || t.count < p.count;
      const count = restarted ? t.count : t.count - p.count;
      if (count === 0) continue;
      const sumNs = restarted ? t.sumNs : t.sumNs - p.sumNs;
      opcodes.push({
        admin: t.admin,
        name: t.name,
        count,
        errors: restarted ? t.errors : t.errors - p.errors,
        meanUs: sumNs / count / 1000,
        buckets: Array.from(t.buckets, (v, k) => (restarted ? v : v - p.buckets[k]!)),
      });
    }
    const s: Sample = {
      time: now,
      seconds: secs,
      iops: rate(totals.io, last.totals.io),
      readIops: rate(totals.reads, last.totals.reads),
      writeIops: rate(totals.writes, last.totals.writes),
      readBytesPerSec: rate(totals.bytesRead, last.totals.bytesRead),
      writeBytesPerSec: rate(totals.bytesWritten, last.totals.bytesWritten),
      opcodes,
    };
    this.#samples.push(s);
    if (this.#samples.length > HISTORY) this.#samples.shift();
    return s;
  }

  /** The samples kept, oldest first. */
  history(): readonly Sample[] {
    return this.#samples;
  }
}
