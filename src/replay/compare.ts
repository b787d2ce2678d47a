// What counts as a divergence between a recorded command and its replay (or its counterpart in
// another recording): the status, CQE DW0/DW1, the data the device returned (whole or hashed),
// and the time the controller took, outside a tolerance. One module so `nvmemu replay` and
// `nvmemu replay --diff` judge alike.

import { AdminOpc, IO_COMMAND_NAMES } from '../nvme/spec/opcodes.js';
import { DataKind, dataHash, type Section } from './format.js';

export type DivergenceKind =
  'status' | 'dw0' | 'dw1' | 'data' | 'time' | 'completion' | 'event' | 'command';

export interface Divergence {
  /** The command's number in the recording (1-based, file order), or 0 for an event. */
  readonly index: number;
  readonly ctrl: number;
  readonly sqid: number;
  readonly opcode: number;
  /** The command's name (`Write`, `admin 0x06`). */
  readonly name: string;
  readonly what: DivergenceKind;
  readonly expected: string;
  readonly got: string;
}

/** Admin opcode names for reports (the few a reader meets most). */
const ADMIN_NAMES: ReadonlyMap<number, string> = new Map([
  [AdminOpc.DELETE_SQ, 'Delete I/O SQ'],
  [AdminOpc.CREATE_SQ, 'Create I/O SQ'],
  [AdminOpc.GET_LOG_PAGE, 'Get Log Page'],
  [AdminOpc.DELETE_CQ, 'Delete I/O CQ'],
  [AdminOpc.CREATE_CQ, 'Create I/O CQ'],
  [0x06, 'Identify'],
  [0x09, 'Set Features'],
  [AdminOpc.GET_FEATURES, 'Get Features'],
  [AdminOpc.ASYNC_EVENT_REQ, 'Asynchronous Event Request'],
  [0x80, 'Format NVM'],
]);

export function commandName(sqid: number, opcode: number): string {
  const hex = `0x${opcode.toString(16).padStart(2, '0')}`;
  if (sqid === 0) return ADMIN_NAMES.get(opcode) ?? `admin ${hex}`;
  return IO_COMMAND_NAMES.get(opcode) ?? `I/O ${hex}`;
}

/**
 * Data that changes on its own between runs (not a divergence): the error and SMART logs and the
 * persistent event log (counters, power-on time), the Timestamp feature. CDW10 holds the LID
 * (Get Log Page, bits 7:0) or the FID (Get Features, bits 7:0).
 */
export function volatileData(sqid: number, opcode: number, cdw10: number): boolean {
  if (sqid !== 0) return false;
  if (opcode === AdminOpc.GET_LOG_PAGE) return [0x01, 0x02, 0x0d].includes(cdw10 & 0xff);
  return opcode === AdminOpc.GET_FEATURES && (cdw10 & 0xff) === 0x0e;
}

const hex = (n: number, w = 4): string => `0x${(n >>> 0).toString(16).padStart(w, '0')}`;

function hashOf(s: Section): string | undefined {
  if (s.kind === DataKind.HASH) return Buffer.from(s.bytes).toString('hex');
  if (s.kind === DataKind.WHOLE) return Buffer.from(dataHash(s.bytes)).toString('hex');
  return undefined;
}

/** Where two data sections first differ ('' when they agree or cannot be compared). */
export function compareSections(a: Section, b: Section): string {
  if (a.kind === DataKind.WHOLE && b.kind === DataKind.WHOLE) {
    const n = Math.min(a.bytes.length, b.bytes.length);
    for (let i = 0; i < n; i++) {
      if (a.bytes[i] !== b.bytes[i]) {
        return `byte ${i}: ${hex(a.bytes[i]!, 2)} → ${hex(b.bytes[i]!, 2)}`;
      }
    }
    return a.bytes.length === b.bytes.length ? '' : `length ${a.bytes.length} → ${b.bytes.length}`;
  }
  const ha = hashOf(a);
  const hb = hashOf(b);
  if (ha === undefined || hb === undefined) return '';
  return ha === hb ? '' : `hash ${ha} → ${hb}`;
}

/** One side of a comparison: a completion and what it returned. */
export interface Observed {
  readonly completed: boolean;
  readonly status: number;
  readonly dw0: number;
  readonly dw1: number;
  readonly elapsedNs: bigint;
  /** What the device returned (reads); NONE when not compared. */
  readonly returned: Section;
}

export interface CompareOptions {
  /** Time divergence beyond this many ms (Infinity: not compared). */
  readonly timeToleranceMs: number;
}

/** The divergences between an expected and an observed completion. */
export function compareCompletion(
  head: Omit<Divergence, 'what' | 'expected' | 'got'>,
  cdw10: number,
  want: Observed,
  got: Observed,
  opts: CompareOptions,
): Divergence[] {
  const out: Divergence[] = [];
  const d = (what: DivergenceKind, expected: string, g: string): void => {
    out.push({ ...head, what, expected, got: g });
  };
  if (want.completed !== got.completed) {
    d(
      'completion',
      want.completed ? `completed (${hex(want.status)})` : 'no completion',
      got.completed ? `completed (${hex(got.status)})` : 'no completion',
    );
    return out;
  }
  if (!want.completed) return out;
  if (want.status !== got.status) d('status', hex(want.status), hex(got.status));
  const vol = volatileData(head.sqid, head.opcode, cdw10);
  if (!vol && want.dw0 !== got.dw0) d('dw0', hex(want.dw0, 8), hex(got.dw0, 8));
  if (!vol && want.dw1 !== got.dw1) d('dw1', hex(want.dw1, 8), hex(got.dw1, 8));
  if (!vol && want.status === got.status) {
    const where = compareSections(want.returned, got.returned);
    if (where !== '') d('data', 'recorded data', where);
  }
  const ms = Number(got.elapsedNs - want.elapsedNs) / 1e6;
  if (Math.abs(ms) > opts.timeToleranceMs) {
    const f = (ns: bigint): string => `${(Number(ns) / 1e6).toFixed(3)} ms`;
    d('time', f(want.elapsedNs), `${f(got.elapsedNs)} (tolerance ${opts.timeToleranceMs} ms)`);
  }
  return out;
}

/** A divergence as one line of a report. */
export function formatDivergence(x: Divergence): string {
  const who =
    x.index === 0 ? 'event' : `command ${x.index} (ctrl ${x.ctrl}, sq ${x.sqid}, ${x.name})`;
  return `${who}: ${x.what}: expected ${x.expected}, got ${x.got}`;
}
