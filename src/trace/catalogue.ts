// The one catalogue of nvmemu's trace events (DESIGN: src/trace), as QEMU keeps its
// hw/nvme/trace-events: every event is declared here once, with its kind and the shape of what
// it carries, and published on a node:diagnostics_channel named after it. Kinds follow QEMU's
// three sections:
//   success  something the device did (a controller was enabled, an association began)
//   err      a guest or host mistake the device rejected (house rule 2: a status, never a crash)
//   ub       an access whose behaviour the specification leaves undefined (traced, tolerated)
//
// Publishing costs one property read when nobody listens (Channel.hasSubscribers), so events
// sit on the command path. Subscribers get the typed payload; a payload is never changed after
// publishing. Payloads carry identifiers, never secrets or data buffers.

import { channel, type Channel } from 'node:diagnostics_channel';

export type TraceKind = 'success' | 'err' | 'ub';

/** The payload of every event, by name. */
export interface TraceEvents {
  /** An NVMe command completed with a non-zero status (one per failed command). */
  'nvme:cmd:err': {
    /** The controller: its serial and CNTLID. */
    readonly serial: string;
    readonly cntlid: number;
    readonly sqid: number;
    readonly cid: number;
    readonly opcode: number;
    /** The command's name from the command tables ('Identify', 'Read', ...). */
    readonly command: string;
    readonly nsid: number;
    /** SCT << 8 | SC, with DNR as completed. */
    readonly status: number;
    readonly dnr: boolean;
    /** The offending command field ('nsid', 'cdw10.fid', 'slba', ...), when one is to blame. */
    readonly field: string | undefined;
    readonly lba: bigint | undefined;
  };
  /** A controller changed state: enabled, reset, shut down, bound to or released by a front end. */
  'nvme:ctrl:state': {
    readonly serial: string;
    readonly cntlid: number;
    readonly event:
      'enabled' | 'enable-failed' | 'reset' | 'shutdown' | 'bound' | 'released' | 'removed';
    /** pci or fabrics, for bound/released; the reason for enable-failed and released. */
    readonly detail: string | undefined;
  };
  /** A doorbell write the specification calls an error (§3.1.4.x): reported, ignored. */
  'nvme:pci:doorbell-err': {
    readonly cntlid: number;
    readonly offset: number;
    readonly value: number;
    readonly reason: 'invalid register' | 'invalid value';
  };
  /** A block-store access met an injected media defect (nvme/ns/media-faults.ts). */
  'nvme:ns:media-error': {
    /** The nvme-ns device id (undefined for a legacy `nvme,drive=` namespace). */
    readonly id: string | undefined;
    readonly nsid: number;
    readonly kind: 'read' | 'write';
    /** The failing store access: first block and block count. */
    readonly slba: number;
    readonly nlb: number;
    /** The NVMe status the command completes with (0x281 or 0x280). */
    readonly status: number;
    /** The fault set that was hit (identity only: subscribers match it against theirs). */
    readonly source: object;
  };
  /** A fault was injected, applied, hit, released, expired or cleared (src/faults/record.ts). */
  'faults:record': {
    readonly seq: number;
    readonly fault: number;
    readonly kind: string;
    readonly event: string;
    readonly device?: string;
    readonly cntlid?: number;
    readonly sqid?: number;
    readonly cid?: number;
    readonly opcode?: number;
    readonly nsid?: number;
    readonly lba?: number;
    readonly status?: number;
    readonly detail?: string;
  };
}

export type TraceName = keyof TraceEvents;

/** Kind and one-line meaning of every event (docs/architecture.md lists them from here). */
export const TRACE_CATALOGUE: { readonly [K in TraceName]: { kind: TraceKind; summary: string } } =
  {
    'nvme:cmd:err': { kind: 'err', summary: 'a command completed with an error status' },
    'nvme:ctrl:state': { kind: 'success', summary: 'controller enabled/reset/bound/released' },
    'nvme:pci:doorbell-err': {
      kind: 'ub',
      summary: 'doorbell write to a missing queue or out of range',
    },
    'nvme:ns:media-error': { kind: 'err', summary: 'an injected media defect failed an access' },
    'faults:record': { kind: 'success', summary: 'a fault was injected, fired or cleared' },
  };

/** The diagnostics channel name of an event: `nvmemu:<name>`. */
export function channelName(name: TraceName): string {
  return `nvmemu:${name}`;
}

const channels = new Map<TraceName, Channel>();

function channelOf(name: TraceName): Channel {
  let c = channels.get(name);
  if (c === undefined) {
    c = channel(channelName(name));
    channels.set(name, c);
  }
  return c;
}

/** True when someone listens (build an expensive payload only then). */
export function tracing(name: TraceName): boolean {
  return channelOf(name).hasSubscribers;
}

/** Publishes one event (nothing happens without subscribers). */
export function trace<K extends TraceName>(name: K, event: TraceEvents[K]): void {
  const c = channelOf(name);
  if (c.hasSubscribers) c.publish(event);
}

/** Subscribes to one event; returns the unsubscribe function. */
export function onTrace<K extends TraceName>(
  name: K,
  fn: (event: TraceEvents[K]) => void,
): () => void {
  const c = channelOf(name);
  const listener = (m: unknown): void => fn(m as TraceEvents[K]);
  c.subscribe(listener);
  return () => void c.unsubscribe(listener);
}
