// The reservation state of a namespace in the data folder (docs/multipath.md), shared by every
// nvmemu process that serves the namespace: `<data>/nvme/resv/<subsystem NQN>-<nsid>.resv`.
// A fence that held on one path only would let a preempted host write through another
// (a data-loss bug), so all processes read and change one state:
//
//   - the file is mapped (MAP_SHARED) by each process; a command's check reads the header's
//     sequence number from memory and re-reads the state only when another update happened;
//   - an update takes flock(LOCK_EX) on `<file>.lock`, reads the latest state, writes the new
//     one into the slot not in use, msync()s it, then flips the header to it (two slots with a
//     CRC each: a crash leaves the old or the new state, never a mix) and bumps the sequence;
//   - notifications (§8.19.2) go into a ring of 64 events that every process delivers to its
//     own controllers of the host named, on its next look at the file (every command, and a
//     250 ms timer);
//   - each process holds flock(LOCK_SH) on the state file itself while it serves it: a process
//     that finds itself alone at start is a power-on, which clears the state unless Persist
//     Through Power Loss is set (§8.19 PTPLS). A process killed outright lets go of its locks.
//
// Layout (16 KiB, little endian):
//   0      magic "NVMRESV1", version u32 at 8, sequence u32 at 12, active slot u32 at 16,
//          last event number u32 at 20
//   4096   slot 0, 8192 slot 1: payload length u32, CRC32C of the payload u32, payload:
//          gen u32, rtype u8, ptpl u8, registrant count u16, holder index i16 (-1 none),
//          then per registrant (56 bytes): host key (ASCII, NUL padded, 40), rkey u64, cntlid u16
//   12288  event ring, 64 x 64 bytes: event number u32, notice type u8, host key at 8 (40)

import { closeSync, fstatSync, ftruncateSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { crc32c } from '../../util/crc.js';
import { viewOf } from '../../util/bytes.js';
import {
  LOCK_EX,
  LOCK_NB,
  LOCK_SH,
  LOCK_UN,
  MAP_SHARED,
  PROT_READ,
  PROT_WRITE,
  flock,
  mmap,
  msync,
  munmap,
  view,
} from '../../memory/libc.js';
import {
  EMPTY,
  MAX_HOST_KEY,
  MAX_REGISTRANTS,
  powerOn,
  type Notice,
  type Outcome,
  type ResvData,
  type ResvNoticeType,
} from '../ns/resv/model.js';
import type { ResvStore } from '../ns/resv/store.js';
import { DeviceStateFileError, fileSafe } from './state-file.js';
import { join } from 'node:path';

const MAGIC = 'NVMRESV1';
const VERSION = 1;
const FILE_SIZE = 16384;
const PAGE = 4096;
const SLOT_HEAD = 8;
const STATE_HEAD = 10;
const REG_SIZE = 56;
const RING = 12288;
const RING_ENTRIES = 64;
const EVENT_SIZE = 64;
const POLL_MS = 250;

/** The state file of namespace `nsid` of the subsystem `subnqn` in data folder `dataDir`. */
export function resvStateFile(dataDir: string, subnqn: string, nsid: number): string {
  return join(dataDir, 'nvme', 'resv', `${fileSafe(subnqn)}-${nsid}.resv`);
}

function putKey(v: DataView, off: number, key: string): void {
  for (let i = 0; i < MAX_HOST_KEY; i++)
    v.setUint8(off + i, i < key.length ? key.charCodeAt(i) : 0);
}

function getKey(b: Uint8Array, off: number): string {
  const field = b.subarray(off, off + MAX_HOST_KEY);
  const end = field.indexOf(0);
  return Buffer.from(end < 0 ? field : field.subarray(0, end)).toString('latin1');
}

/** The slot payload of `d`. */
export function encodeResv(d: ResvData): Uint8Array {
  const out = new Uint8Array(STATE_HEAD + REG_SIZE * d.registrants.length);
  const v = viewOf(out);
  v.setUint32(0, d.gen, true);
  v.setUint8(4, d.rtype);
  v.setUint8(5, d.ptpl ? 1 : 0);
  v.setUint16(6, d.registrants.length, true);
  const holder = d.holder === undefined ? -1 : d.registrants.findIndex((r) => r.host === d.holder);
  v.setInt16(8, holder, true);
  d.registrants.forEach((r, i) => {
    const o = STATE_HEAD + REG_SIZE * i;
    putKey(v, o, r.host);
    v.setBigUint64(o + MAX_HOST_KEY, r.rkey, true);
    v.setUint16(o + MAX_HOST_KEY + 8, r.cntlid, true);
  });
  return out;
}

/** Decodes a slot payload; undefined when it is not one. */
export function decodeResv(p: Uint8Array): ResvData | undefined {
  if (p.length < STATE_HEAD) return undefined;
  const v = viewOf(p);
  const n = v.getUint16(6, true);
  const holderIdx = v.getInt16(8, true);
  if (n > MAX_REGISTRANTS || p.length !== STATE_HEAD + REG_SIZE * n || holderIdx >= n) {
    return undefined;
  }
  const registrants = Array.from({ length: n }, (_, i) => {
    const o = STATE_HEAD + REG_SIZE * i;
    return {
      host: getKey(p, o),
      rkey: v.getBigUint64(o + MAX_HOST_KEY, true),
      cntlid: v.getUint16(o + MAX_HOST_KEY + 8, true),
    };
  });
  return {
    gen: v.getUint32(0, true),
    rtype: v.getUint8(4),
    ptpl: v.getUint8(5) !== 0,
    holder: holderIdx < 0 ? undefined : registrants[holderIdx]!.host,
    registrants,
  };
}

export class FileResvStore implements ResvStore {
  readonly file: string;
  onNotice: ((n: Notice) => void) | undefined;
  readonly #fd: number;
  readonly #lockFd: number;
  readonly #addr: bigint;
  readonly #bytes: Uint8Array;
  readonly #v: DataView;
  #seq = -1;
  #data: ResvData = EMPTY;
  #lastEvent = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  /**
   * Opens (creating) the state file of a namespace. When no other process serves it, this is a
   * power-on: the state is cleared unless PTPL is set. Throws DeviceStateFileError for a file
   * that is not a reservation state file.
   */
  constructor(file: string) {
    this.file = file;
    mkdirSync(dirname(file), { recursive: true });
    this.#fd = openSync(file, 'a+');
    this.#lockFd = openSync(`${file}.lock`, 'a+');
    let mapped: bigint | undefined;
    try {
      this.#locked(LOCK_EX, () => {
        if (fstatSync(this.#fd).size === 0) ftruncateSync(this.#fd, FILE_SIZE);
      });
      mapped = mmap(FILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, this.#fd, 0);
      this.#addr = mapped;
      this.#bytes = new Uint8Array(view(mapped, FILE_SIZE));
      this.#v = viewOf(this.#bytes);
      this.#open();
    } catch (e) {
      if (mapped !== undefined) munmap(mapped, FILE_SIZE);
      closeSync(this.#lockFd);
      closeSync(this.#fd);
      throw e;
    }
    this.#timer = setInterval(() => this.#deliverPending(), POLL_MS);
    this.#timer.unref();
  }

  #open(): void {
    const alone = flock(this.#fd, LOCK_EX | LOCK_NB) === 0;
    this.#locked(LOCK_EX, () => {
      if (fstatSync(this.#fd).size !== FILE_SIZE) this.#damaged('has the wrong size');
      const magic = Buffer.from(this.#bytes.subarray(0, 8)).toString('latin1');
      if (magic === '\0'.repeat(8)) this.#format();
      else if (magic !== MAGIC || this.#v.getUint32(8, true) !== VERSION) this.#foreign();
      this.#load();
      this.#lastEvent = this.#v.getUint32(20, true);
      if (alone) {
        // Nobody else serves the namespace: the subsystem is powering on (§8.19 PTPLS).
        const next = powerOn(this.#data);
        if (next !== this.#data) this.#store(next, []);
      }
    });
    // Held while this process serves the namespace (other processes see it is not alone).
    flock(this.#fd, LOCK_SH);
  }

  #format(): void {
    this.#bytes.fill(0);
    Buffer.from(MAGIC, 'latin1').forEach((c, i) => (this.#bytes[i] = c));
    this.#v.setUint32(8, VERSION, true);
    this.#writeSlot(0, encodeResv(EMPTY));
    this.#v.setUint32(16, 0, true);
    msync(this.#addr, FILE_SIZE);
  }

  #foreign(): never {
    throw new DeviceStateFileError(
      `reservation state file '${this.file}' is not an nvmemu reservation state file; remove it`,
    );
  }

  #damaged(what: string): never {
    throw new DeviceStateFileError(
      `reservation state file '${this.file}' ${what}; remove it (the reservations are lost)`,
    );
  }

  #locked<T>(op: number, fn: () => T): T {
    flock(this.#lockFd, op);
    try {
      return fn();
    } finally {
      flock(this.#lockFd, LOCK_UN);
    }
  }

  /** Reads the active slot (under the lock). */
  #load(): void {
    const slot = this.#v.getUint32(16, true);
    if (slot > 1) this.#damaged('names no valid slot');
    const at = PAGE * (1 + slot);
    const len = this.#v.getUint32(at, true);
    if (len > PAGE - SLOT_HEAD) this.#damaged('has a damaged slot');
    const payload = this.#bytes.slice(at + SLOT_HEAD, at + SLOT_HEAD + len);
    if (crc32c(payload) !== this.#v.getUint32(at + 4, true)) this.#damaged('fails its CRC');
    const d = decodeResv(payload);
    if (d === undefined) this.#damaged('holds a damaged state');
    this.#data = d;
    this.#seq = this.#v.getUint32(12, true);
  }

  #writeSlot(slot: number, payload: Uint8Array): void {
    const at = PAGE * (1 + slot);
    this.#v.setUint32(at, payload.length, true);
    this.#v.setUint32(at + 4, crc32c(payload), true);
    this.#bytes.set(payload, at + SLOT_HEAD);
  }

  /** Stores `next` and appends `notices` (under the exclusive lock). */
  #store(next: ResvData, notices: readonly Notice[]): void {
    const slot = 1 - this.#v.getUint32(16, true);
    this.#writeSlot(slot, encodeResv(next));
    msync(this.#addr + BigInt(PAGE * (1 + slot)), PAGE);
    let last = this.#v.getUint32(20, true);
    for (const n of notices) {
      last = (last + 1) >>> 0;
      const at = RING + EVENT_SIZE * (last % RING_ENTRIES);
      this.#v.setUint32(at, last, true);
      this.#v.setUint8(at + 4, n.type);
      putKey(this.#v, at + 8, n.host);
    }
    this.#v.setUint32(16, slot, true);
    this.#v.setUint32(20, last, true);
    const seq = (this.#v.getUint32(12, true) + 1) >>> 0;
    this.#v.setUint32(12, seq, true);
    msync(this.#addr, PAGE);
    msync(this.#addr + BigInt(RING), FILE_SIZE - RING);
    this.#data = next;
    this.#seq = seq;
  }

  /** Events other processes appended since we last looked (at most the ring's 64). */
  #takeEvents(): Notice[] {
    const last = this.#v.getUint32(20, true);
    const out: Notice[] = [];
    const from = Math.max(this.#lastEvent + 1, last - RING_ENTRIES + 1);
    for (let n = from; n <= last; n++) {
      const at = RING + EVENT_SIZE * (n % RING_ENTRIES);
      if (this.#v.getUint32(at, true) !== n >>> 0) continue;
      out.push({
        type: this.#v.getUint8(at + 4) as ResvNoticeType,
        host: getKey(this.#bytes, at + 8),
      });
    }
    this.#lastEvent = last;
    return out;
  }

  #deliverPending(): void {
    if (this.#closed || this.#v.getUint32(12, true) === this.#seq) return;
    const events = this.#locked(LOCK_SH, () => {
      this.#load();
      return this.#takeEvents();
    });
    for (const n of events) this.onNotice?.(n);
  }

  read(): ResvData {
    if (this.#v.getUint32(12, true) !== this.#seq) this.#deliverPending();
    return this.#data;
  }

  update(op: (d: ResvData) => Outcome): Outcome {
    const { out, events } = this.#locked(LOCK_EX, () => {
      this.#load();
      const events = this.#takeEvents();
      const out = op(this.#data);
      if (out.next !== undefined) {
        this.#store(out.next, out.notices ?? []);
        // Our own notices are delivered below, not again from the ring.
        this.#lastEvent = this.#v.getUint32(20, true);
      }
      return { out, events };
    });
    for (const n of [...events, ...(out.notices ?? [])]) this.onNotice?.(n);
    return out;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    munmap(this.#addr, FILE_SIZE);
    closeSync(this.#lockFd);
    closeSync(this.#fd);
  }
}
