// Injected media errors of one namespace (monitor x-nvmemu-inject-media-error): LBA ranges
// whose reads fail as the medium could not return the data, and ranges whose writes fail as the
// medium could not store it. They act where a real backend error acts — in the block store, after
// every command check (MDTS, LBA range, DULBE) — so a host sees exactly the status QEMU 7.2 gives
// for a failing backend: Unrecovered Read Error 0x281 for Read, Compare and Verify, Write Fault
// 0x280 for Write and Write Zeroes (reference qemu-nvme.md §4.2; NVMe Base 2.0 Figure 101),
// both without DNR (a retry may succeed once the fault is cleared).
//
// Unlike Write Uncorrectable marks, injected faults model a defect of the medium: they stay
// until cleared (a write does not repair a read fault) and survive Format NVM. Volatile like all
// namespace state outside the image (§5.2). Every hit is published on the diagnostics channel
// the `nvme:ns:media-error` trace event (the monitor turns it into NVMEMU_NVME_MEDIA_ERROR).

import { trace } from '../../trace/catalogue.js';
import { RangeSet, type LbaRange } from './ranges.js';

export type MediaFaultKind = 'read' | 'write';

/** What a hit publishes. */
export interface MediaErrorHit {
  /** The nvme-ns device id (undefined for a legacy `nvme,drive=` namespace). */
  readonly id: string | undefined;
  readonly nsid: number;
  readonly kind: MediaFaultKind;
  /** The failing store access: first block and block count. */
  readonly slba: number;
  readonly nlb: number;
  /** The NVMe status the command completes with (0x281 or 0x280). */
  readonly status: number;
}

const STATUS: Readonly<Record<MediaFaultKind, number>> = { read: 0x281, write: 0x280 };

/** Thrown by the block store for an access that meets an injected fault. */
export class MediaError extends Error {
  constructor(readonly hit: MediaErrorHit) {
    super(`injected media ${hit.kind} error at LBA ${hit.slba}`);
  }
}

export class MediaFaults {
  readonly #sets: Record<MediaFaultKind, RangeSet> = {
    read: new RangeSet(),
    write: new RangeSet(),
  };
  /** Accesses that met a fault, by kind (monotonic). */
  readonly hits: Record<MediaFaultKind, number> = { read: 0, write: 0 };

  constructor(
    readonly id: string | undefined,
    readonly nsid: number,
  ) {}

  inject(kind: MediaFaultKind, start: number, end: number): void {
    this.#sets[kind].add(start, end);
  }

  /** Clears [start, end) of `kind` (both kinds when undefined). */
  clear(kind: MediaFaultKind | undefined, start: number, end: number): void {
    for (const k of kind === undefined ? (['read', 'write'] as const) : [kind]) {
      this.#sets[k].remove(start, end);
    }
  }

  list(kind: MediaFaultKind): LbaRange[] {
    return this.#sets[kind].list();
  }

  /** Throws MediaError when [lba, lba + nlb) meets a fault of `kind` (and publishes it). */
  check(kind: MediaFaultKind, lba: number, nlb: number): void {
    if (nlb === 0 || !this.#sets[kind].intersects(lba, lba + nlb)) return;
    this.hits[kind]++;
    const hit: MediaErrorHit = {
      id: this.id,
      nsid: this.nsid,
      kind,
      slba: lba,
      nlb,
      status: STATUS[kind],
    };
    trace('nvme:ns:media-error', { ...hit, source: this });
    throw new MediaError(hit);
  }
}
