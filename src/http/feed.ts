// The live view's fault and trace feed: the events of the trace catalogue (src/trace/catalogue.ts)
// while the view runs, newest last, in a bounded ring. Injected faults are marked: a fault
// record is one, and a failed command or media error is one when a fault decided it (the
// fault's `hit` record names the same controller, queue and command just before the command
// completes, see faults/nvme.ts; an injected media defect is a fault by construction).

import { onTrace, TRACE_CATALOGUE, type TraceName } from '../trace/catalogue.js';
import type { FeedEntry } from './wire.js';

export type { FeedEntry };
import { CODE_MASK, statusName } from '../nvme/spec/status.js';

/** Default ring size; older entries drop off. */
export const FEED_LIMIT = 500;

const hex = (n: number): string => `0x${n.toString(16).padStart(3, '0')}`;

function flat(o: object): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(o)) {
    if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') out[k] = v;
    else if (typeof v === 'bigint') out[k] = v.toString();
  }
  return out;
}

export class TraceFeed {
  readonly #entries: FeedEntry[] = [];
  readonly #limit: number;
  readonly #unsubscribe: (() => void)[] = [];
  /** Commands a fault decided, `cntlid:sqid:cid` → fault id (until the command completes). */
  readonly #hits = new Map<string, number>();
  /** Namespaces whose last access met an injected media defect: nsid → status, fault id. */
  readonly #media = new Map<number, { status: number; fault: number | undefined }>();
  #seq = 0;
  readonly #counts = new Map<string, number>();
  /** Called after each new entry (the server pushes it to the page). */
  onEntry: ((e: FeedEntry) => void) | undefined;

  constructor(opts: { readonly limit?: number; readonly now?: () => number } = {}) {
    this.#limit = opts.limit ?? FEED_LIMIT;
    const now = opts.now ?? Date.now;
    const add = (
      event: TraceName,
      text: string,
      injected: boolean,
      fault: number | undefined,
      data: Record<string, string | number | boolean>,
    ): void => {
      const e: FeedEntry = {
        seq: ++this.#seq,
        time: now(),
        event,
        kind: TRACE_CATALOGUE[event].kind,
        text,
        injected,
        fault,
        data,
      };
      this.#entries.push(e);
      if (this.#entries.length > this.#limit) this.#entries.shift();
      this.onEntry?.(e);
    };
    this.#unsubscribe.push(
      onTrace('faults:record', (r) => {
        const key = `${r.kind}:${r.event}`;
        this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
        if (r.event === 'hit' && r.cntlid !== undefined && r.sqid !== undefined) {
          this.#hits.set(`${r.cntlid}:${r.sqid}:${r.cid ?? -1}`, r.fault);
          if (this.#hits.size > 4096) this.#hits.clear();
        }
        const media = r.nsid === undefined ? undefined : this.#media.get(r.nsid);
        if (r.event === 'hit' && r.kind === 'media-error' && media !== undefined) {
          media.fault = r.fault;
        }
        const where = [
          r.device,
          r.cntlid === undefined ? undefined : `cntlid ${r.cntlid}`,
          r.sqid === undefined ? undefined : `sq ${r.sqid}`,
          r.cid === undefined ? undefined : `cid ${r.cid}`,
          r.nsid === undefined ? undefined : `nsid ${r.nsid}`,
          r.lba === undefined ? undefined : `lba ${r.lba}`,
        ].filter((x) => x !== undefined);
        const status = r.status === undefined ? '' : ` → ${statusText(r.status)}`;
        const detail = r.detail === undefined ? '' : ` (${r.detail})`;
        add(
          'faults:record',
          `fault ${r.fault} ${r.kind} ${r.event}${where.length > 0 ? ` on ${where.join(', ')}` : ''}${status}${detail}`,
          true,
          r.fault,
          flat(r),
        );
      }),
      onTrace('nvme:cmd:err', (e) => {
        const key = `${e.cntlid}:${e.sqid}:${e.cid}`;
        let fault = this.#hits.get(key);
        let injected = fault !== undefined;
        this.#hits.delete(key);
        const media = this.#media.get(e.nsid);
        if (
          !injected &&
          media !== undefined &&
          (media.status & CODE_MASK) === (e.status & CODE_MASK)
        ) {
          injected = true;
          fault = media.fault;
          this.#media.delete(e.nsid);
        }
        const field = e.field === undefined ? '' : ` [${e.field}]`;
        const lba = e.lba === undefined ? '' : ` lba ${e.lba}`;
        add(
          'nvme:cmd:err',
          `${e.serial}/${e.cntlid} sq ${e.sqid} cid ${e.cid} ${e.command}${lba} nsid ${e.nsid}: ${statusText(e.status)}${field}`,
          injected,
          fault,
          flat(e),
        );
      }),
      onTrace('nvme:ns:media-error', (e) => {
        const { source: _source, ...rest } = e;
        this.#media.set(e.nsid, { status: e.status, fault: undefined });
        add(
          'nvme:ns:media-error',
          `${e.id ?? `nsid ${e.nsid}`}: injected media defect, ${e.kind} of blocks ${e.slba}+${e.nlb}: ${statusText(e.status)}`,
          true,
          undefined,
          flat(rest),
        );
      }),
      onTrace('nvme:ctrl:state', (e) => {
        add(
          'nvme:ctrl:state',
          `${e.serial}/${e.cntlid} ${e.event}${e.detail === undefined ? '' : ` (${e.detail})`}`,
          false,
          undefined,
          flat(e),
        );
      }),
      onTrace('nvme:pci:doorbell-err', (e) => {
        add(
          'nvme:pci:doorbell-err',
          `cntlid ${e.cntlid} doorbell 0x${e.offset.toString(16)} = ${e.value}: ${e.reason}`,
          false,
          undefined,
          flat(e),
        );
      }),
    );
  }

  /** Entries after `seq` (all kept ones by default), oldest first. */
  since(seq = 0): FeedEntry[] {
    const i = this.#entries.findIndex((e) => e.seq > seq);
    return i < 0 ? [] : this.#entries.slice(i);
  }

  /** Fault records seen, by `kind:event` (the metrics' nvmemu_fault_events_total). */
  faultCounts(): ReadonlyMap<string, number> {
    return this.#counts;
  }

  get lastSeq(): number {
    return this.#seq;
  }

  close(): void {
    for (const u of this.#unsubscribe.splice(0)) u();
  }
}

function statusText(status: number): string {
  return `${hex(status & CODE_MASK)} ${statusName(status)}`;
}
