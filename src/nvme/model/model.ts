// The device model of one namespace (docs/models.md): the seam the namespace calls. Each
// command gets a ticket (`NsCore.model`); the I/O steps report to it what they touch (reads,
// programs, deallocations, zone resets) and the model books that work on its dies; when the
// command is done, `complete` holds the completion until the model's time for it
// (scheduler.ts), or returns it at once when that time has passed. With `x-model=none` there
// is no NsModel at all and the namespace's path is unchanged.

import type { Completion } from '../spec/transfer.js';
import type { NvmeCmd } from '../spec/command.js';
import { IoOpc } from '../spec/opcodes.js';
import type { MaybePromise } from '../../util/maybe.js';
import { deadlines, nowNs } from './scheduler.js';
import { setModelProp, modelProp, type ModelParams } from './params.js';
import { SsdModel, type NsShape, type Wear } from './ssd.js';

/** What the I/O steps tell the model about one command (io.ts, rw.ts, zoned/commands.ts). */
export interface ModelTicket {
  /** Blocks [lba, lba + nlb) are read from the media. */
  read(lba: number, nlb: number): void;
  /** Blocks [lba, lba + nlb) are written. */
  program(lba: number, nlb: number): void;
  /** Blocks [lba, lba + nlb) are deallocated. */
  trim(lba: number, nlb: number): void;
  /** The zone starting at `zslba` is reset (its blocks are erased). */
  resetZone(zslba: number): void;
}

/** Placement of a write (FDP): which stream (reclaim unit handle) it goes to. */
export interface StreamSource {
  readonly phs: readonly number[];
  readonly group: { decodePid(pid: number): [number, number] };
}

class Ticket implements ModelTicket {
  end: number;
  constructor(
    readonly ssd: SsdModel | undefined,
    readonly start: number,
    readonly stream: number,
  ) {
    this.end = start;
  }
  read(lba: number, nlb: number): void {
    const s = this.ssd;
    if (s === undefined) return;
    const [p0, p1] = s.pages(lba, nlb);
    this.end = Math.max(this.end, s.read(p0, p1, this.start));
  }
  program(lba: number, nlb: number): void {
    const s = this.ssd;
    if (s === undefined) return;
    const [p0, p1] = s.pages(lba, nlb);
    this.end = Math.max(this.end, s.write(p0, p1, this.stream, this.start));
  }
  trim(lba: number, nlb: number): void {
    const s = this.ssd;
    if (s === undefined) return;
    // Only pages wholly inside the range are dropped.
    const per = s.params.pageSize / s.shape.lbaSize;
    s.trim(Math.ceil(lba / per), Math.floor((lba + nlb) / per));
  }
  resetZone(zslba: number): void {
    const s = this.ssd;
    if (s === undefined) return;
    this.end = Math.max(this.end, s.eraseZone(zslba, this.start));
  }
}

/** Latency the model added, by log2 of microseconds (for the tail). */
class LatencyStats {
  count = 0;
  sumNs = 0;
  maxNs = 0;
  readonly buckets = new Float64Array(32);
  /** The last 64 latencies, ns (a ring: entry count % 64 is the next). */
  readonly recent = new Float64Array(64);
  /** Their completion times on the model clock, ns. */
  readonly recentEnds = new Float64Array(64);
  add(ns: number, endNs: number): void {
    this.recent[this.count & 63] = ns;
    this.recentEnds[this.count & 63] = endNs;
    this.count++;
    this.sumNs += ns;
    if (ns > this.maxNs) this.maxNs = ns;
    const us = ns / 1e3;
    this.buckets[us < 1 ? 0 : Math.min(31, Math.floor(Math.log2(us)) + 1)]!++;
  }
  /** The last `n` (≤ 64) latencies in µs, oldest first. */
  recentUs(n: number): number[] {
    const k = Math.min(n, 64, this.count);
    const out: number[] = [];
    for (let i = this.count - k; i < this.count; i++) out.push(this.recent[i & 63]! / 1e3);
    return out;
  }
  /** Completion times (µs on the model clock) of the last `n` (≤ 64), oldest first. */
  recentEndsUs(n: number): number[] {
    const k = Math.min(n, 64, this.count);
    const out: number[] = [];
    for (let i = this.count - k; i < this.count; i++) out.push(this.recentEnds[i & 63]! / 1e3);
    return out;
  }
  /** Upper bound of the bucket holding quantile q, µs. */
  quantileUs(q: number): number {
    let seen = 0;
    const want = q * this.count;
    for (let i = 0; i < 32; i++) {
      seen += this.buckets[i]!;
      if (seen >= want && seen > 0) return 2 ** i;
    }
    return 0;
  }
}

const READ_CLASS = new Set<number>([IoOpc.READ, IoOpc.COMPARE, IoOpc.VERIFY]);
const WRITE_CLASS = new Set<number>([
  IoOpc.WRITE,
  IoOpc.WRITE_ZEROES,
  IoOpc.ZONE_APPEND,
  IoOpc.COPY,
]);

/** Figures for QMP (x-nvmemu-query-models) and the live view. */
export interface ModelFigures {
  readonly kind: string;
  readonly commands: number;
  readonly meanLatencyUs: number;
  readonly p99LatencyUs: number;
  readonly maxLatencyUs: number;
  readonly hostPages?: number;
  readonly mediaPages?: number;
  readonly waf?: number;
  readonly erases?: number;
  readonly gcRuns?: number;
  readonly percentageUsed?: number;
  readonly availableSpare?: number;
  readonly meanPe?: number;
  readonly maxPe?: number;
  /** Per FDP placement handle: write amplification of its reclaim units. */
  readonly handles?: readonly { readonly handle: number; readonly waf: number }[];
}

export class NsModel {
  #params: ModelParams;
  readonly #shape: NsShape;
  #ssd: SsdModel | undefined;
  latency = new LatencyStats();
  #warned = 0;
  #erasesSeen = 0;

  /** Throws RangeError when the ssd model cannot hold the namespace (too many pages). */
  constructor(
    params: ModelParams,
    shape: NsShape,
    /** Called with the wear's critical warning bits when new ones appear (the AEN source). */
    readonly onWarning: (bits: number) => void = () => {},
  ) {
    this.#params = params;
    this.#shape = shape;
    if (params.kind === 'ssd') this.#ssd = new SsdModel(params, shape);
  }

  get params(): ModelParams {
    return this.#params;
  }
  get ssd(): SsdModel | undefined {
    return this.#ssd;
  }
  get active(): boolean {
    return this.#params.kind !== 'none';
  }

  /** qom-get of an `x-model*` property. */
  get(prop: string): string | number | undefined {
    return modelProp(this.#params, prop);
  }

  /** qom-set of an `x-model*` property (ConfigError with the reason when refused). */
  set(prop: string, value: string | number | boolean): void {
    const next = setModelProp(this.#params, prop, value);
    if (next.kind === 'ssd' && this.#ssd === undefined) {
      this.#ssd = new SsdModel(next, this.#shape);
    }
    this.#params = next;
    if (this.#ssd !== undefined) this.#ssd.timing = next;
  }

  /** The ticket of one command (FDP writes go to their placement handle's stream). */
  ticket(cmd: NvmeCmd, fdp: StreamSource | undefined): ModelTicket & { readonly start: number } {
    const ssd = this.#params.kind === 'ssd' ? this.#ssd : undefined;
    let stream = 0;
    if (fdp !== undefined && ((cmd.cdw12 >>> 20) & 0xf) === 2) {
      const [, ph] = fdp.group.decodePid(cmd.cdw13 >>> 16);
      if (ph < fdp.phs.length && ph < this.#shape.streams) stream = ph;
    }
    return new Ticket(ssd, nowNs(), stream);
  }

  /** Holds `result` until the model's completion time of the command `ticket` followed. */
  complete(
    ticket: ModelTicket & { readonly start: number },
    opcode: number,
    result: MaybePromise<Completion>,
  ): MaybePromise<Completion> {
    const t = ticket as Ticket;
    const p = this.#params;
    let end: number;
    if (p.kind === 'fixed') {
      const us = READ_CLASS.has(opcode)
        ? p.readUs
        : WRITE_CLASS.has(opcode)
          ? p.writeUs
          : p.otherUs;
      end = t.start + us * 1e3;
    } else {
      end = t.end;
      this.#checkWear();
    }
    // Whole nanoseconds: start is a large float, so end - start carries rounding (4000 µs read
    // back as 4000.00000000006); every modelled time is a whole number of ns.
    this.latency.add(Math.round(end - t.start), end);
    if (end <= t.start) return result;
    if (result instanceof Promise) return result.then((c) => deadlines.at(end, c));
    return deadlines.at(end, result);
  }

  /** Starts the latency figures afresh (x-nvmemu-query-models with reset). */
  resetLatency(): void {
    this.latency = new LatencyStats();
  }

  /** Format NVM: the mapping is forgotten. */
  format(): void {
    this.#ssd?.clear();
  }

  wear(): Wear | undefined {
    return this.#ssd?.wear();
  }

  #checkWear(): void {
    const s = this.#ssd;
    if (s === undefined) return;
    const erases = s.erases;
    if (erases === this.#erasesSeen) return;
    this.#erasesSeen = erases;
    const bits = s.wear().criticalWarning;
    const raised = bits & ~this.#warned;
    this.#warned = bits;
    if (raised !== 0) this.onWarning(raised);
  }

  figures(): ModelFigures {
    const l = this.latency;
    const base = {
      kind: this.#params.kind,
      commands: l.count,
      meanLatencyUs: l.count === 0 ? 0 : l.sumNs / l.count / 1e3,
      p99LatencyUs: l.quantileUs(0.99),
      maxLatencyUs: l.maxNs / 1e3,
    };
    const s = this.#ssd;
    if (s === undefined) return base;
    const w = s.wear();
    const host = s.hostPages;
    const media = s.mediaPages;
    const streams = s.streamPages();
    return {
      ...base,
      hostPages: host,
      mediaPages: media,
      waf: host === 0 ? 1 : media / host,
      erases: s.erases,
      gcRuns: s.gcRuns,
      percentageUsed: w.percentageUsed,
      availableSpare: w.availableSpare,
      meanPe: w.meanPe,
      maxPe: w.maxPe,
      ...(streams.length > 1
        ? {
            handles: streams.map((x, handle) => ({
              handle,
              waf: x.host === 0 ? 1 : x.media / x.host,
            })),
          }
        : {}),
    };
  }
}
