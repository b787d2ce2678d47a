// The `ssd` timing model (docs/models.md): channels × dies, each die a queue (the time it is
// busy until), each channel a bus shared by its dies. Logical pages are striped over the dies
// (page p on die p mod D); a conventional namespace has one page-mapped FTL per die (ftl.ts),
// whose garbage collection occupies the die, so GC competes with host I/O for it; a zoned
// namespace maps each zone to erase blocks spread over the dies and a zone reset erases them.
//
//   read page:   die busy tR, then the page crosses the channel
//   write page:  the page crosses the channel, then the die programs it (tProg), plus whatever
//                GC the write triggered on that die (page reads tR, programs tProg, erases tBERS)
//   zone reset:  every die holding the zone erases its share of the blocks
//
// Wear follows the erase counts: Percentage Used = mean P/E cycles / rated; blocks past the
// rated count use up the spare blocks, and Available Spare below its threshold sets the SMART
// critical warning bit 0 (the namespace tells the controllers, which raise the AEN).

import { PageFtl } from './ftl.js';
import type { ModelParams } from './params.js';
import type { NsWear } from '../spec/namespace-api.js';

/** The namespace as the model sees it. */
export interface NsShape {
  readonly bytes: number;
  readonly lbaSize: number;
  /** Blocks per zone of a zoned namespace. */
  readonly zoneBlocks?: number | undefined;
  /** Write streams (FDP reclaim unit handles), ≥ 1. */
  readonly streams: number;
}

/** Pages a modelled namespace may have (the FTL keeps ~10 bytes per page in memory). */
export const MAX_MODEL_PAGES = 1 << 25;

export type Wear = NsWear;

export const WARN_SPARE = 0x01;

export class SsdModel {
  readonly params: ModelParams;
  readonly shape: NsShape;
  readonly dieCount: number;
  readonly pagesTotal: number;
  readonly #dieBusy: Float64Array;
  readonly #chanBusy: Float64Array;
  readonly ftls: readonly PageFtl[] | undefined;
  /** Zoned: erases per zone, blocks per zone. */
  readonly #zoneErases: Uint32Array | undefined;
  readonly #zoneBlocks: number;
  readonly #zoneSpareBlocks: number;
  /** Host and media page programs of a zoned namespace (the FTLs count their own). */
  #zonedPrograms = 0;
  #timing: ModelParams;

  constructor(params: ModelParams, shape: NsShape) {
    this.params = params;
    this.#timing = params;
    this.shape = shape;
    const d = params.channels * params.dies;
    this.dieCount = d;
    if (params.pageSize % shape.lbaSize !== 0) {
      throw new RangeError(
        `x-model-page-size ${params.pageSize} is not a multiple of the logical block size ${shape.lbaSize}`,
      );
    }
    const pages = Math.ceil(shape.bytes / params.pageSize);
    if (pages > MAX_MODEL_PAGES) {
      throw new RangeError(
        `the model holds at most ${MAX_MODEL_PAGES} pages of ${params.pageSize} bytes; this namespace has ${pages} (use a larger x-model-page-size or a smaller namespace)`,
      );
    }
    this.pagesTotal = pages;
    this.#dieBusy = new Float64Array(d);
    this.#chanBusy = new Float64Array(params.channels);
    const ppb = params.pagesPerBlock;
    if (shape.zoneBlocks === undefined) {
      const user = Math.ceil(pages / d);
      const reserve = 2;
      const minBlocks = Math.ceil(user / ppb) + reserve + shape.streams + 1;
      const blocks = Math.max(minBlocks, Math.ceil(user / (1 - params.spare) / ppb));
      this.ftls = Array.from(
        { length: d },
        () =>
          new PageFtl({
            blocks,
            pagesPerBlock: ppb,
            userPages: user,
            gc: params.gc,
            streams: shape.streams,
            reserveBlocks: reserve,
          }),
      );
      for (const f of this.ftls) f.wearLimit = params.peCycles;
      this.#zoneErases = undefined;
      this.#zoneBlocks = 0;
      this.#zoneSpareBlocks = 0;
    } else {
      const zonePages = Math.ceil((shape.zoneBlocks * shape.lbaSize) / params.pageSize);
      const zones = Math.ceil(pages / zonePages);
      this.ftls = undefined;
      this.#zoneErases = new Uint32Array(zones);
      this.#zoneBlocks = Math.ceil(zonePages / ppb);
      this.#zoneSpareBlocks = Math.max(
        1,
        Math.ceil((zones * this.#zoneBlocks * params.spare) / (1 - params.spare)),
      );
    }
  }

  /** Timing parameters may change at run time (qom-set); geometry may not (params.ts). */
  set timing(p: ModelParams) {
    this.#timing = p;
    if (this.ftls !== undefined && p.peCycles !== this.params.peCycles) {
      for (const f of this.ftls) f.wearLimit = p.peCycles;
    }
    if (this.ftls !== undefined) for (const f of this.ftls) f.gc = p.gc;
  }
  get timing(): ModelParams {
    return this.#timing;
  }

  #xferNs(): number {
    const r = this.#timing.channelMBps;
    return r === 0 ? 0 : (this.params.pageSize / r) * 1e3; // bytes / (MB/s) = µs → ns
  }

  /** Page range of blocks [lba, lba + nlb). */
  pages(lba: number, nlb: number): [number, number] {
    const per = this.params.pageSize / this.shape.lbaSize;
    return [Math.floor(lba / per), Math.floor((lba + nlb - 1) / per) + 1];
  }

  /** Reads pages [p0, p1) from `now`; the time the last one is out. */
  read(p0: number, p1: number, now: number): number {
    const t = this.#timing;
    const d = this.dieCount;
    const x = this.#xferNs();
    let end = now;
    for (let p = p0; p < p1; p++) {
      const die = p % d;
      if (this.ftls !== undefined && !this.ftls[die]!.mapped(Math.floor(p / d))) continue;
      const ch = die % this.params.channels;
      const sensed = Math.max(now, this.#dieBusy[die]!) + t.tReadUs * 1e3;
      const out = Math.max(sensed, this.#chanBusy[ch]!) + x;
      this.#chanBusy[ch] = out;
      this.#dieBusy[die] = out;
      if (out > end) end = out;
    }
    return end;
  }

  /** Writes pages [p0, p1) through `stream` from `now`; the time the last is programmed. */
  write(p0: number, p1: number, stream: number, now: number): number {
    const t = this.#timing;
    const d = this.dieCount;
    const x = this.#xferNs();
    let end = now;
    for (let p = p0; p < p1; p++) {
      const die = p % d;
      const ch = die % this.params.channels;
      const inDie = Math.max(now, this.#chanBusy[ch]!) + x;
      this.#chanBusy[ch] = inDie;
      let busy: number;
      if (this.ftls !== undefined) {
        const w = this.ftls[die]!.write(Math.floor(p / d), stream);
        busy = w.programs * t.tProgUs + w.reads * t.tReadUs + w.erases * t.tEraseUs;
      } else {
        this.#zonedPrograms++;
        busy = t.tProgUs;
      }
      const done = Math.max(inDie, this.#dieBusy[die]!) + busy * 1e3;
      this.#dieBusy[die] = done;
      if (done > end) end = done;
    }
    return end;
  }

  /** Deallocate: the FTL forgets the pages (no media time). */
  trim(p0: number, p1: number): void {
    const f = this.ftls;
    if (f === undefined) return;
    const d = this.dieCount;
    // A partial page at either end still holds live blocks: only whole pages are trimmed.
    for (let p = p0; p < p1; p++) f[p % d]!.trim(Math.floor(p / d));
  }

  /** Zone reset of the zone holding `lba`: its blocks are erased on every die. */
  eraseZone(lba: number, now: number): number {
    const z = this.#zoneErases;
    const zb = this.shape.zoneBlocks;
    if (z === undefined || zb === undefined) return now;
    const zone = Math.floor(lba / zb);
    if (zone >= z.length) return now;
    z[zone]!++;
    const perDie = Math.ceil(this.#zoneBlocks / this.dieCount);
    const t = this.#timing.tEraseUs * 1e3 * perDie;
    let end = now;
    for (let die = 0; die < this.dieCount; die++) {
      const done = Math.max(now, this.#dieBusy[die]!) + t;
      this.#dieBusy[die] = done;
      if (done > end) end = done;
    }
    return end;
  }

  /** Format NVM: every mapping goes (the erase counts stay: they are the media's). */
  clear(): void {
    for (const f of this.ftls ?? []) f.clear();
  }

  get hostPages(): number {
    return this.ftls?.reduce((a, f) => a + f.hostPages, 0) ?? this.#zonedPrograms;
  }
  get mediaPages(): number {
    return this.ftls?.reduce((a, f) => a + f.mediaPages, 0) ?? this.#zonedPrograms;
  }
  get gcRuns(): number {
    return this.ftls?.reduce((a, f) => a + f.gcRuns, 0) ?? 0;
  }
  get erases(): number {
    if (this.ftls !== undefined) return this.ftls.reduce((a, f) => a + f.totalErases, 0);
    let n = 0;
    for (const e of this.#zoneErases!) n += e * this.#zoneBlocks;
    return n;
  }

  /** Host and media pages per stream (FDP reclaim unit handle). */
  streamPages(): { host: number; media: number }[] {
    const out = Array.from({ length: this.shape.streams }, () => ({ host: 0, media: 0 }));
    for (const f of this.ftls ?? []) {
      for (let s = 0; s < out.length; s++) {
        out[s]!.host += f.hostPagesByStream[s]!;
        out[s]!.media += f.mediaPagesByStream[s]!;
      }
    }
    return out;
  }

  wear(): Wear {
    const rated = this.#timing.peCycles;
    let blocks: number;
    let worn: number;
    let spare: number;
    let maxPe = 0;
    if (this.ftls !== undefined) {
      blocks = 0;
      worn = 0;
      spare = 0;
      for (const f of this.ftls) {
        blocks += f.blocks;
        worn += f.worn;
        spare += f.spareBlocks;
        if (f.maxErases > maxPe) maxPe = f.maxErases;
      }
    } else {
      const z = this.#zoneErases!;
      blocks = z.length * this.#zoneBlocks + this.#zoneSpareBlocks;
      worn = 0;
      for (const e of z) {
        if (e >= rated) worn += this.#zoneBlocks;
        if (e > maxPe) maxPe = e;
      }
      spare = this.#zoneSpareBlocks;
    }
    const meanPe = this.erases / blocks;
    const percentageUsed = Math.min(255, Math.floor((100 * meanPe) / rated));
    const availableSpare = Math.max(0, Math.floor(100 - (100 * worn) / Math.max(1, spare)));
    const threshold = this.#timing.spareThreshold;
    return {
      percentageUsed,
      availableSpare,
      availableSpareThreshold: threshold,
      criticalWarning: availableSpare < threshold ? WARN_SPARE : 0,
      meanPe,
      maxPe,
      mediaBytesWritten: BigInt(this.mediaPages) * BigInt(this.params.pageSize),
    };
  }
}
