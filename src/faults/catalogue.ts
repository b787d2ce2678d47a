// The fault catalogue (docs/faults.md): what can be injected, at what, and when. One parse
// function turns the loose record a user writes (QMP arguments, a scenario step, the in-process
// API) into a checked FaultSpec before anything is touched (house rule 1).
//
// A fault has a kind (what goes wrong), a target (which device, namespace, LBA range, opcode,
// queue it applies to) and a trigger (when): by default at once and for every matching command;
// `after` N matching commands pass first, `probability` p fires per matching command under the
// fault's seed, `times` caps the firings, `duration` ms ends the fault after it first fired.

import { AdminOpc, IoOpc } from '../nvme/spec/opcodes.js';
import { ANA_STATE_NAMES, ANAGRPMAX, anaStateName, type AnaStateValue } from '../nvme/spec/ana.js';
import { EmuError, ErrorCode } from '../util/errors.js';

/** Every kind, in the order docs/faults.md lists them. */
export const FAULT_KINDS = [
  'media-error',
  'uncorrectable',
  'internal-error',
  'ns-not-ready',
  'status',
  'timeout',
  'latency',
  'controller-fatal',
  'critical-warning',
  'read-only',
  'temperature',
  'ana-state',
  'path-loss',
  'badblocks',
  'pmem-flush-fail',
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];

/** Kinds decided per NVMe command (the others change device state once they fire). */
export const COMMAND_KINDS: ReadonlySet<FaultKind> = new Set<FaultKind>([
  'media-error',
  'internal-error',
  'ns-not-ready',
  'status',
  'timeout',
  'latency',
]);

/** Kinds that act on NVMe controllers/namespaces (they install the command interceptor). */
export const NVME_KINDS: ReadonlySet<FaultKind> = new Set<FaultKind>([
  ...COMMAND_KINDS,
  'uncorrectable',
  'controller-fatal',
  'critical-warning',
  'read-only',
  'temperature',
  'ana-state',
]);

export interface FaultTarget {
  /** Device id: an nvme controller, an nvme-ns, an nvdimm or a virtio-pmem-pci. */
  readonly id?: string;
  readonly nsid?: number;
  /** LBA range [start, end) of the namespace. */
  readonly lba?: { readonly start: number; readonly end: number };
  /** Opcodes matched (I/O opcodes, or admin opcodes when `admin`). Undefined: any. */
  readonly opcodes?: readonly number[];
  /** Match admin commands (queue 0) instead of I/O commands. */
  readonly admin: boolean;
  /** Submission queue id (I/O queue, or 0 with `admin`). */
  readonly qid?: number;
  /** path-loss: the NVM subsystem whose associations lose their path (default: every one). */
  readonly subnqn?: string;
}

export interface FaultTrigger {
  /** Matching opportunities (commands, flushes) that pass before the fault may fire. */
  readonly after: number;
  /** Chance to fire per opportunity once `after` passed (1 = always). */
  readonly probability: number;
  /** Maximum firings (undefined: no limit). */
  readonly times?: number;
  /** The fault ends this many ms after it first fired (undefined: until cleared). */
  readonly durationMs?: number;
}

export interface FaultSpec {
  readonly kind: FaultKind;
  readonly target: FaultTarget;
  readonly trigger: FaultTrigger;
  /** Seed of this fault's random stream (default: derived from the injector's seed). */
  readonly seed?: number;
  /** media-error: which accesses fail. */
  readonly access?: 'read' | 'write';
  /** status: the completion status (SCT << 8 | SC, DNR bit 14 allowed). */
  readonly status?: number;
  /** latency: added delay in ms. */
  readonly delayMs?: number;
  /** critical-warning: SMART critical warning bits to set. */
  readonly bits?: number;
  /** temperature: composite temperature in Kelvin. */
  readonly kelvin?: number;
  /** ana-state: the ANA group and the state its controllers report while the fault lasts. */
  readonly anaGroup?: number;
  readonly anaState?: AnaStateValue;
  /** path-loss: connections closed or silently stalled. */
  readonly mode?: 'drop' | 'stall';
  /** badblocks: 512-byte sectors, region relative. */
  readonly sector?: number;
  readonly sectors?: number;
}

/** A user mistake in a fault description (QMP GenericError, scenario error, API throw). */
export class FaultSpecError extends EmuError {
  constructor(message: string) {
    super(ErrorCode.EMU_ERR_CONFIG, message);
  }
}

const IO_NAMES: Readonly<Record<string, number>> = {
  flush: IoOpc.FLUSH,
  write: IoOpc.WRITE,
  read: IoOpc.READ,
  'write-uncorrectable': IoOpc.WRITE_UNCOR,
  compare: IoOpc.COMPARE,
  'write-zeroes': IoOpc.WRITE_ZEROES,
  dsm: IoOpc.DSM,
  verify: IoOpc.VERIFY,
  copy: IoOpc.COPY,
  'zone-mgmt-send': IoOpc.ZONE_MGMT_SEND,
  'zone-mgmt-recv': IoOpc.ZONE_MGMT_RECV,
  'zone-append': IoOpc.ZONE_APPEND,
};

const ADMIN_NAMES: Readonly<Record<string, number>> = {
  'get-log-page': AdminOpc.GET_LOG_PAGE,
  identify: AdminOpc.IDENTIFY,
  abort: AdminOpc.ABORT,
  'set-features': AdminOpc.SET_FEATURES,
  'get-features': AdminOpc.GET_FEATURES,
  'async-event-request': AdminOpc.ASYNC_EVENT_REQ,
  'format-nvm': AdminOpc.FORMAT_NVM,
  'create-sq': AdminOpc.CREATE_SQ,
  'create-cq': AdminOpc.CREATE_CQ,
  'delete-sq': AdminOpc.DELETE_SQ,
  'delete-cq': AdminOpc.DELETE_CQ,
};

/** Opcodes that change the medium (read-only media refuses them). */
export const WRITE_OPCODES: ReadonlySet<number> = new Set<number>([
  IoOpc.WRITE,
  IoOpc.WRITE_UNCOR,
  IoOpc.WRITE_ZEROES,
  IoOpc.DSM,
  IoOpc.COPY,
  IoOpc.ZONE_APPEND,
  IoOpc.ZONE_MGMT_SEND,
]);

/** Opcodes a media-error of each access type applies to by default. */
export const MEDIA_OPCODES: Readonly<Record<'read' | 'write', readonly number[]>> = {
  read: [IoOpc.READ, IoOpc.COMPARE, IoOpc.VERIFY, IoOpc.COPY],
  write: [IoOpc.WRITE, IoOpc.WRITE_ZEROES, IoOpc.COPY, IoOpc.ZONE_APPEND],
};

/** Record keys a fault description may use. */
const KEYS = new Set([
  'kind',
  'id',
  'nsid',
  'lba',
  'count',
  'opcode',
  'admin',
  'qid',
  'subnqn',
  'after',
  'probability',
  'times',
  'duration',
  'seed',
  'type',
  'status',
  'ms',
  'bits',
  'kelvin',
  'mode',
  'sector',
  'group',
  'state',
]);

type Loose = Readonly<Record<string, unknown>>;

function int(
  r: Loose,
  key: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  const v = r[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new FaultSpecError(`fault '${key}' expects an integer in [${min}, ${max}]`);
  }
  return v;
}

function str(r: Loose, key: string): string | undefined {
  const v = r[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new FaultSpecError(`fault '${key}' expects a string`);
  return v;
}

function need<T>(v: T | undefined, kind: string, key: string): T {
  if (v === undefined) throw new FaultSpecError(`fault kind '${kind}' needs '${key}'`);
  return v;
}

function opcodes(v: unknown, admin: boolean): number[] | undefined {
  if (v === undefined) return undefined;
  const names = admin ? ADMIN_NAMES : IO_NAMES;
  const one = (x: unknown): number => {
    if (typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 0xff) return x;
    if (typeof x === 'string' && names[x] !== undefined) return names[x];
    throw new FaultSpecError(
      `fault 'opcode' expects an opcode number or one of: ${Object.keys(names).join(', ')}`,
    );
  };
  return Array.isArray(v) ? v.map(one) : [one(v)];
}

/** Checks a loose fault description and returns the typed spec (nothing is changed). */
export function parseFaultSpec(r: Loose): FaultSpec {
  for (const k of Object.keys(r)) {
    if (!KEYS.has(k)) throw new FaultSpecError(`fault has no parameter '${k}'`);
  }
  const kindRaw = str(r, 'kind');
  const kind = FAULT_KINDS.find((k) => k === kindRaw);
  if (kind === undefined) {
    throw new FaultSpecError(
      kindRaw === undefined
        ? `fault needs 'kind' (${FAULT_KINDS.join(', ')})`
        : `unknown fault kind '${kindRaw}' (${FAULT_KINDS.join(', ')})`,
    );
  }
  const admin = r.admin === true;
  if (r.admin !== undefined && typeof r.admin !== 'boolean') {
    throw new FaultSpecError(`fault 'admin' expects a boolean`);
  }
  const lba = int(r, 'lba', 0);
  const count = int(r, 'count', 1);
  if (count !== undefined && lba === undefined && r.sector === undefined) {
    throw new FaultSpecError(`fault 'count' needs 'lba' (or 'sector')`);
  }
  const id = str(r, 'id');
  const nsid = int(r, 'nsid', 1, 0xffff_ffff);
  const qid = int(r, 'qid', 0, 0xffff);
  const subnqn = str(r, 'subnqn');
  const ops = opcodes(r.opcode, admin);
  const target: FaultTarget = {
    admin,
    ...(id !== undefined ? { id } : {}),
    ...(nsid !== undefined ? { nsid } : {}),
    ...(lba !== undefined ? { lba: { start: lba, end: lba + (count ?? 1) } } : {}),
    ...(ops !== undefined ? { opcodes: ops } : {}),
    ...(qid !== undefined ? { qid } : {}),
    ...(subnqn !== undefined ? { subnqn } : {}),
  };
  const p = r.probability;
  if (p !== undefined && (typeof p !== 'number' || !(p > 0 && p <= 1))) {
    throw new FaultSpecError(`fault 'probability' expects a number in (0, 1]`);
  }
  const times = int(r, 'times', 1);
  const duration = int(r, 'duration', 1);
  const trigger: FaultTrigger = {
    after: int(r, 'after', 0) ?? 0,
    probability: p ?? 1,
    ...(times !== undefined ? { times } : {}),
    ...(duration !== undefined ? { durationMs: duration } : {}),
  };
  const seed = int(r, 'seed', 0, 0xffff_ffff);
  const spec: FaultSpec = { kind, target, trigger, ...(seed !== undefined ? { seed } : {}) };
  return { ...spec, ...kindParams(kind, r, target) };
}

/** The parameters of each kind, checked (exhaustive over FaultKind). */
function kindParams(kind: FaultKind, r: Loose, t: FaultTarget): Partial<FaultSpec> {
  switch (kind) {
    case 'media-error': {
      const type = str(r, 'type') ?? 'read';
      if (type !== 'read' && type !== 'write') {
        throw new FaultSpecError(`fault 'type' expects 'read' or 'write'`);
      }
      need(t.id, kind, 'id');
      return { access: type };
    }
    case 'uncorrectable':
      need(t.id, kind, 'id');
      need(t.lba, kind, 'lba');
      return {};
    case 'status':
      return { status: need(int(r, 'status', 1, 0x7fff), kind, 'status') };
    case 'latency':
      return { delayMs: need(int(r, 'ms', 0, 600_000), kind, 'ms') };
    case 'critical-warning':
      return { bits: need(int(r, 'bits', 1, 0xff), kind, 'bits') };
    case 'temperature':
      return { kelvin: need(int(r, 'kelvin', 0, 0xffff), kind, 'kelvin') };
    case 'ana-state': {
      const name = need(str(r, 'state'), kind, 'state');
      const state = ANA_STATE_NAMES.get(name);
      if (state === undefined) {
        throw new FaultSpecError(
          `fault 'state' expects one of: ${[...ANA_STATE_NAMES.keys()].join(', ')}`,
        );
      }
      return { anaGroup: need(int(r, 'group', 1, ANAGRPMAX), kind, 'group'), anaState: state };
    }
    case 'path-loss': {
      const mode = str(r, 'mode') ?? 'drop';
      if (mode !== 'drop' && mode !== 'stall') {
        throw new FaultSpecError(`fault 'mode' expects 'drop' or 'stall'`);
      }
      return { mode };
    }
    case 'badblocks':
      need(t.id, kind, 'id');
      return {
        sector: need(int(r, 'sector', 0), kind, 'sector'),
        sectors: int(r, 'count', 1) ?? 1,
      };
    case 'pmem-flush-fail':
      need(t.id, kind, 'id');
      return {};
    case 'internal-error':
    case 'ns-not-ready':
    case 'timeout':
    case 'controller-fatal':
    case 'read-only':
      return {};
  }
}

/** The description of a spec in QMP/JSON form (the inverse of parseFaultSpec). */
export function describeSpec(s: FaultSpec): Record<string, unknown> {
  const t = s.target;
  return {
    kind: s.kind,
    ...(t.id !== undefined ? { id: t.id } : {}),
    ...(t.nsid !== undefined ? { nsid: t.nsid } : {}),
    ...(t.lba !== undefined && s.kind !== 'badblocks'
      ? { lba: t.lba.start, count: t.lba.end - t.lba.start }
      : {}),
    ...(t.opcodes !== undefined ? { opcode: [...t.opcodes] } : {}),
    ...(t.admin ? { admin: true } : {}),
    ...(t.qid !== undefined ? { qid: t.qid } : {}),
    ...(t.subnqn !== undefined ? { subnqn: t.subnqn } : {}),
    ...(s.trigger.after !== 0 ? { after: s.trigger.after } : {}),
    ...(s.trigger.probability !== 1 ? { probability: s.trigger.probability } : {}),
    ...(s.trigger.times !== undefined ? { times: s.trigger.times } : {}),
    ...(s.trigger.durationMs !== undefined ? { duration: s.trigger.durationMs } : {}),
    ...(s.seed !== undefined ? { seed: s.seed } : {}),
    ...(s.access !== undefined ? { type: s.access } : {}),
    ...(s.status !== undefined ? { status: s.status } : {}),
    ...(s.delayMs !== undefined ? { ms: s.delayMs } : {}),
    ...(s.bits !== undefined ? { bits: s.bits } : {}),
    ...(s.kelvin !== undefined ? { kelvin: s.kelvin } : {}),
    ...(s.mode !== undefined ? { mode: s.mode } : {}),
    ...(s.sector !== undefined ? { sector: s.sector, count: s.sectors } : {}),
    ...(s.anaGroup !== undefined ? { group: s.anaGroup } : {}),
    ...(s.anaState !== undefined ? { state: anaStateName(s.anaState) } : {}),
  };
}
