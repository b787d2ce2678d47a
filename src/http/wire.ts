// The live view's wire contract: the JSON that `/api/...` and the page's event stream carry
// (docs/live-view.md "API"). Types only, with no imports, so the page (src/http/page, compiled
// for the browser) and the server share one definition.

export interface QueueInfo {
  readonly qid: number;
  /** Entries the queue holds (SQ size; fabrics: SQSIZE + 1). */
  readonly depth: number;
  /** Commands taken from the queue and not yet completed to the host. */
  readonly outstanding: number;
  /** PCIe: entries the host placed that the controller has not fetched yet. */
  readonly queued: number;
  /** PCIe: completions waiting for room in the CQ. */
  readonly cqPending: number;
  /** Commands completed on the queue since the view started (the page derives a rate). */
  readonly completed: number;
}

export interface SmartInfo {
  readonly criticalWarning: number;
  readonly temperatureKelvin: number;
  readonly percentageUsed: number;
  readonly dataUnitsRead: number;
  readonly dataUnitsWritten: number;
  readonly hostReadCommands: number;
  readonly hostWriteCommands: number;
  readonly powerCycles: number;
  readonly powerOnHours: number;
  readonly unsafeShutdowns: number;
  readonly mediaErrors: number;
  readonly errorLogEntries: number;
}

export interface ControllerInfo {
  /** The metrics' `controller` label: the device id, or its QOM path (`:vfN` for a VF). */
  readonly label: string;
  readonly path: string;
  readonly serial: string;
  readonly cntlid: number;
  readonly subnqn: string;
  /** The front end holding it: 'pci' (PCI function or in-process host), 'fabrics', or none. */
  readonly boundTo: 'pci' | 'fabrics' | null;
  readonly enabled: boolean;
  /** NVMe/TCP: the host holding the association. */
  readonly hostnqn: string | null;
  readonly stats: {
    readonly adminCommands: number;
    readonly adminErrors: number;
    readonly ioCommands: number;
    readonly ioErrors: number;
  };
  readonly queues: readonly QueueInfo[];
  readonly smart: SmartInfo;
}

export interface ZonesInfo {
  readonly zoneSize: number;
  readonly zoneCapacity: number;
  readonly open: number;
  readonly active: number;
  /** 0 = unlimited. MOR/MAR are these minus one (0's based). */
  readonly maxOpen: number;
  readonly maxActive: number;
  /** Zone state codes (ZNS 1.1 Figure 37: 1 empty, 2 implicitly open, ... 0xf offline). */
  readonly state: readonly number[];
  /** Blocks written in each zone (write pointer − ZSLBA). */
  readonly written: readonly number[];
}

export interface WriteCacheInfo {
  /** The model watches the writes (x-nvmemu-track-writes); otherwise nothing below is known. */
  readonly tracked: boolean;
  readonly capacityBytes: number;
  readonly dirtyBytes: number;
  /** Acknowledged writes not durable (the flush audit's length). */
  readonly volatileWrites: number;
  readonly volatileBlocks: number;
  readonly writes: number;
  readonly persisted: number;
  readonly destaged: number;
  /** The oldest writes of the flush audit (at most AUDIT_HEAD). */
  readonly oldest: readonly { seq: number; lba: number; nlb: number; volatileBlocks: number }[];
}

export interface NamespaceInfo {
  /** The metrics' `namespace` label: the nvme-ns id, or its QOM path. */
  readonly label: string;
  readonly path: string;
  readonly nsid: number;
  readonly controllers: readonly string[];
  readonly blocks: number;
  readonly blockSize: number;
  readonly zoned: ZonesInfo | null;
  readonly volatileWriteCache: boolean;
  readonly writeCache: WriteCacheInfo;
  readonly smart: {
    readonly readCommands: number;
    readonly writeCommands: number;
    readonly bytesRead: number;
    readonly bytesWritten: number;
  };
  /** The device model's figures (docs/models.md), when the namespace has one. */
  readonly model?: ModelInfo;
}

/** A modelled namespace's figures: kind, write amplification, wear, latency the model adds. */
export interface ModelInfo {
  readonly kind: string;
  readonly waf: number | null;
  readonly erases: number | null;
  readonly percentageUsed: number | null;
  readonly availableSpare: number | null;
  readonly meanLatencyUs: number;
  readonly p99LatencyUs: number;
}

export interface FdpInfo {
  readonly subnqn: string;
  readonly reclaimUnitBytes: number;
  readonly reclaimGroups: number;
  readonly hostBytesWritten: number;
  readonly mediaBytesWritten: number;
  readonly mediaBytesErased: number;
  readonly handles: readonly {
    readonly id: number;
    readonly attribute: 'unused' | 'host' | 'ctrl';
    /** Blocks of a fresh reclaim unit. */
    readonly unitBlocks: number;
    /** Per reclaim group: blocks still writable in the current unit, units filled before. */
    readonly groups: readonly { readonly available: number; readonly rollovers: number }[];
  }[];
}

export interface PmemInfo {
  readonly label: string;
  readonly type: 'nvdimm' | 'virtio-pmem-pci';
  readonly size: number;
  /** Durability granularity of the power-failure model (memory/persistence.ts). */
  readonly granularity: string;
  /** Bytes per unit of the model (64 for cache lines, the page size for pages; 0: none). */
  readonly unitSize: number;
  /** Units stored to and not flushed. */
  readonly dirty: number;
  /** Units flushed, not yet drained (cache-line granularity). */
  readonly flushed: number;
  /** Units whose content is durable. */
  readonly persisted: number;
  readonly badBlocks: readonly { sector: number; count: number }[];
  readonly dirtyShutdowns: number | null;
}

export interface Snapshot {
  readonly time: number;
  readonly controllers: readonly ControllerInfo[];
  readonly namespaces: readonly NamespaceInfo[];
  readonly fdp: readonly FdpInfo[];
  readonly pmem: readonly PmemInfo[];
}

export interface OpcodeSample {
  readonly admin: boolean;
  readonly name: string;
  /** Commands completed in the interval, and those with a non-zero status. */
  readonly count: number;
  readonly errors: number;
  /** Mean latency in microseconds over the interval (0 when none completed). */
  readonly meanUs: number;
  /** Completions per latency bucket in the interval (telemetry.ts BUCKETS). */
  readonly buckets: readonly number[];
}

export interface Sample {
  /** End of the interval, milliseconds since the epoch. */
  readonly time: number;
  /** Seconds the interval lasted. */
  readonly seconds: number;
  /** I/O commands completed per second (all opcodes, every controller). */
  readonly iops: number;
  readonly readIops: number;
  readonly writeIops: number;
  /** Bytes per second read and written by the namespaces (SMART's accounting). */
  readonly readBytesPerSec: number;
  readonly writeBytesPerSec: number;
  readonly opcodes: readonly OpcodeSample[];
}

export interface FeedEntry {
  /** 1, 2, ... in arrival order (a client asks for what came after the last it saw). */
  readonly seq: number;
  /** Milliseconds since the epoch. */
  readonly time: number;
  /** The trace event's name ('nvme:cmd:err', 'faults:record', ...). */
  readonly event: string;
  readonly kind: 'success' | 'err' | 'ub';
  /** One line for people. */
  readonly text: string;
  /** An injected fault caused it (or it is a fault record). */
  readonly injected: boolean;
  /** The id of that fault, when known. */
  readonly fault: number | undefined;
  /** The event's fields (numbers and strings only; 64-bit values as decimal strings). */
  readonly data: Readonly<Record<string, string | number | boolean>>;
}

/** What the page's stream carries at start (`hello`) and at every tick (`tick`). */
export interface StreamHello {
  readonly version: string;
  readonly intervalMs: number;
  readonly snapshot: Snapshot;
  readonly history: readonly Sample[];
  readonly feed: readonly FeedEntry[];
}
export interface StreamTick {
  readonly snapshot: Snapshot;
  readonly sample: Sample | null;
  readonly feed: readonly FeedEntry[];
}
