// The fault trace: every injection, firing and clear-down as a typed record, kept in a bounded
// history (x-nvmemu-query-faults) and published as the `faults:record` trace event
// (the monitor turns it into the NVMEMU_FAULT event).

import { channelName, trace } from '../trace/catalogue.js';
import type { FaultKind } from './catalogue.js';

/** The diagnostics channel fault records are published on (the `faults:record` trace event). */
export const FAULT_CHANNEL = channelName('faults:record');

/**
 * What happened: injected (accepted), applied (a state fault took effect), hit (a command or
 * flush met the fault), released (a held command completed by Abort or reset), expired
 * (duration over), cleared (by the user).
 */
export type FaultEvent = 'injected' | 'applied' | 'hit' | 'released' | 'expired' | 'cleared';

export interface FaultRecord {
  /** Position in the injector's sequence (1, 2, ...): equal seeds give equal sequences. */
  readonly seq: number;
  readonly fault: number;
  readonly kind: FaultKind;
  readonly event: FaultEvent;
  /** Where it acted: device id, controller id, queue, command, namespace, LBA. */
  readonly device?: string;
  readonly cntlid?: number;
  readonly sqid?: number;
  readonly cid?: number;
  readonly opcode?: number;
  readonly nsid?: number;
  readonly lba?: number;
  /** The NVMe status the command completed with, when the fault decided it. */
  readonly status?: number;
  readonly detail?: string;
}

export type RecordInit = Omit<FaultRecord, 'seq'>;

export class FaultLog {
  readonly #records: FaultRecord[] = [];
  #seq = 0;
  readonly #listeners = new Set<(r: FaultRecord) => void>();

  constructor(readonly limit = 10_000) {}

  add(init: RecordInit): FaultRecord {
    const r: FaultRecord = { seq: ++this.#seq, ...init };
    this.#records.push(r);
    if (this.#records.length > this.limit) this.#records.shift();
    trace('faults:record', r);
    for (const l of this.#listeners) l(r);
    return r;
  }

  list(): readonly FaultRecord[] {
    return this.#records;
  }

  onRecord(fn: (r: FaultRecord) => void): () => void {
    this.#listeners.add(fn);
    return () => void this.#listeners.delete(fn);
  }
}

/** The record in QMP form (kebab-case keys, as the other x-nvmemu queries). */
export function recordJson(r: FaultRecord): Record<string, unknown> {
  return {
    seq: r.seq,
    'fault-id': r.fault,
    kind: r.kind,
    event: r.event,
    ...(r.device !== undefined ? { device: r.device } : {}),
    ...(r.cntlid !== undefined ? { cntlid: r.cntlid } : {}),
    ...(r.sqid !== undefined ? { sqid: r.sqid } : {}),
    ...(r.cid !== undefined ? { cid: r.cid } : {}),
    ...(r.opcode !== undefined ? { opcode: r.opcode } : {}),
    ...(r.nsid !== undefined ? { nsid: r.nsid } : {}),
    ...(r.lba !== undefined ? { lba: r.lba } : {}),
    ...(r.status !== undefined ? { status: r.status } : {}),
    ...(r.detail !== undefined ? { detail: r.detail } : {}),
  };
}
