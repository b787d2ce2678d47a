// The recorder (docs/record-replay.md): watches every NVMe controller of a machine through the
// command observers seam (Controller.observers) and writes what reached the devices: each
// command with its queue, SQE, times, data (whole or hashed) and completion; fault injections
// with their stream seeds and clears (from the injector's fault log); power cuts; hotplug.
//
// Reading host data never changes what a command sees: the recorder reads it in `end`, after
// the command ran. What the host sent is read as the command's transfer (block commands:
// exactly the namespace's transferLength; others: the buffer the front end mapped); what the
// device returned only when the command succeeded. A buffer that cannot be read then (a PCI
// mapping that fails) is recorded as "unavailable".
//
// One clock orders everything: each command begin, command end and event takes the next tick.
// Replay issues each command at its begin tick after every command that ended before it.

import { statSync } from 'node:fs';
import type { Machine } from '../machine/machine.js';
import type { OptionItem } from '../config/options.js';
import type { Controller, CommandObserver } from '../nvme/ctrl/controller.js';
import type { CommandContext } from '../nvme/spec/namespace-api.js';
import type { Completion, HostData } from '../nvme/spec/transfer.js';
import type { NvmeCmd } from '../nvme/spec/command.js';
import { NvmeDevice } from '../nvme/index.js';
import { describeSpec } from '../faults/catalogue.js';
import type { FaultInjector } from '../faults/injector.js';
import type { FaultRecord } from '../faults/record.js';
import type { PowerCutOptions } from '../faults/power-cut.js';
import { writeCacheOf } from '../faults/power-cut.js';
import { allNamespaces } from '../faults/targets.js';
import {
  commandFrameSize,
  DataKind,
  encodeFileHeader,
  encodeJsonFrame,
  RecordType,
  writeCommandFrame,
  type CommandFields,
  type DataKindValue,
  type DataMode,
  type MachineInfo,
  type PendingSection,
  type RecordedEvent,
} from './format.js';
import { RecordSink } from './sink.js';

export interface RecorderOptions {
  /** The `nvmemu run` words that built the machine (replay builds it again from them). */
  readonly argv: readonly string[];
  readonly data?: DataMode;
  /** nvmemu's version, for the machine record. */
  readonly version?: string;
  /** Write to this file (created or truncated); otherwise keep the bytes (`bytes()`). */
  readonly file?: string;
}

/**
 * Commands begun and not yet ended, without an object or a Map entry per command: a slot per
 * (queue, CID) hash, holding the context (which identifies the command: a CID may be reused, or
 * sent twice by a broken host) and its begin tick, time and controller in typed arrays. A slot
 * already taken (two commands in flight with the same hash) sends the newcomer to a Map, so any
 * number of commands can be in flight; hosts number their commands by tag, so that is rare.
 */
const SLOTS = 1024;

interface Overflow {
  readonly tick: number;
  readonly ns: number;
  readonly ctrl: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const NOTHING: PendingSection = { kind: DataKind.NONE, length: 0, bytes: undefined };

/** Files the options name (drive images, memory backends), with their size now. */
export function imagesOf(items: readonly OptionItem[], size: (p: string) => number | undefined) {
  const out: { path: string; size: number }[] = [];
  for (const it of items) {
    const v = it.values.get(it.kind === 'object' ? 'mem-path' : 'file');
    if (typeof v !== 'string') continue;
    const s = size(v);
    if (s !== undefined) out.push({ path: v, size: s });
  }
  return out;
}

export class Recorder implements CommandObserver {
  readonly data: DataMode;
  /** The one clock (a number: 2^53 ticks is beyond any recording). */
  #tick = 0;
  readonly #t0 = performance.now();
  readonly #slotCtx: (CommandContext | undefined)[] = new Array<undefined>(SLOTS).fill(undefined);
  readonly #slotTick = new Float64Array(SLOTS);
  readonly #slotNs = new Float64Array(SLOTS);
  /** Controller number and transport (bit 16) of the command in a slot. */
  readonly #slotCtrl = new Uint32Array(SLOTS);
  #inSlots = 0;
  readonly #overflow = new Map<CommandContext, Overflow>();
  readonly #index = new Map<string, number>();
  readonly #ctrlIndex = new Map<Controller, number>();
  /** Records are encoded into the sink's chunk; full chunks go to the file off the command path. */
  readonly #sink: RecordSink;
  /** The command being written, its data and metadata sections: reused, never allocated. */
  readonly #f: Mutable<CommandFields>;
  readonly #data: Mutable<PendingSection> = { ...NOTHING };
  readonly #meta: Mutable<PendingSection> = { ...NOTHING };
  #commands = 0;
  #events = 0;
  #stopped = false;
  #machine: Machine | undefined;
  #items: readonly OptionItem[] = [];
  readonly #detach: (() => void)[] = [];

  constructor(machine: Machine, injector: FaultInjector | undefined, opts: RecorderOptions) {
    this.data = opts.data ?? 'hash';
    // A write error (a full disk) ends the recording, never the device: the recorder stops
    // watching (once the command being told has been: observers are not removed mid-call).
    this.#sink = new RecordSink(opts.file, () => queueMicrotask(() => this.#halt()));
    this.#f = {
      ctrl: 0,
      sqid: 0,
      completed: true,
      status: 0,
      dw0: 0,
      dw1: 0,
      beginTick: 0,
      endTick: 0,
      beginNs: 0,
      elapsedNs: 0,
      transport: 0,
      cmd: undefined as unknown as NvmeCmd,
      data: this.#data,
      meta: this.#meta,
    };
    const info: MachineInfo = {
      argv: [...opts.argv],
      images: imagesOf(machine.items, fileSize),
      nvmemu: opts.version ?? '',
      data: this.data,
      trackWrites: allNamespaces(machine).some((ns) => writeCacheOf(ns) !== undefined),
      startedMs: Date.now(),
    };
    this.#put(encodeFileHeader());
    this.#sink.markChecked();
    this.#put(encodeJsonFrame(RecordType.MACHINE, info));
    this.attach(machine, injector);
  }

  /** Watches `machine` (the first one, or the one a power cut or restart built). */
  attach(machine: Machine, injector: FaultInjector | undefined): void {
    for (const d of this.#detach.splice(0)) d();
    this.#machine = machine;
    this.#items = machine.items;
    this.#watchControllers();
    machine.onComponentsChanged(() => {
      if (this.#machine !== machine || this.#stopped) return;
      this.#hotplug(machine);
      this.#watchControllers();
    });
    if (injector !== undefined) {
      this.#detach.push(injector.log.onRecord((r) => this.#fault(injector, r)));
    }
  }

  #watchControllers(): void {
    const m = this.#machine;
    if (m === undefined) return;
    for (const c of m.components()) {
      if (!(c instanceof NvmeDevice)) continue;
      const ctrl = c.controller;
      if (this.#ctrlIndex.has(ctrl)) continue;
      // A controller keeps its index across power cuts (same serial, same id).
      const key = `${c.id ?? ''}\u0000${ctrl.params.serial}`;
      let index = this.#index.get(key);
      if (index === undefined) {
        index = this.#index.size;
        this.#index.set(key, index);
        this.#event({ kind: 'controller', index, id: c.id ?? null, serial: ctrl.params.serial });
      }
      this.#ctrlIndex.set(ctrl, index);
      ctrl.observers.push(this);
      this.#detach.push(() => {
        const i = ctrl.observers.indexOf(this);
        if (i >= 0) ctrl.observers.splice(i, 1);
        this.#ctrlIndex.delete(ctrl);
      });
    }
  }

  #hotplug(machine: Machine): void {
    const before = this.#items;
    const now = machine.items;
    this.#items = now;
    for (const it of before) {
      if (now.includes(it)) continue;
      const id = it.values.get('id');
      if (typeof id === 'string') this.#event({ kind: 'hotplug-del', item: { kind: it.kind, id } });
    }
    for (const it of now) {
      if (before.includes(it)) continue;
      const values = Object.fromEntries(it.values) as Record<string, string | number | boolean>;
      this.#event({
        kind: 'hotplug-add',
        item: { kind: it.kind, values, json: it.json, location: it.location },
      });
    }
  }

  #fault(injector: FaultInjector, r: FaultRecord): void {
    if (this.#stopped) return;
    if (r.event === 'injected') {
      const f = injector.faults().find((x) => x.id === r.fault);
      if (f === undefined) return;
      // The stream seed makes the replayed fault fire on the same commands.
      this.#event({
        kind: 'fault-inject',
        fault: r.fault,
        spec: { ...describeSpec(f.spec), seed: f.seed },
      });
    } else if (r.event === 'cleared') {
      this.#event({ kind: 'fault-clear', fault: r.fault });
    }
  }

  /** The write cache model was attached (x-nvmemu-track-writes): replay attaches it too. */
  trackWrites(): void {
    this.#event({ kind: 'track-writes' });
  }

  /**
   * A power cut is about to happen: commands in flight never complete (recorded so), and the
   * cut with its seed and mode is an event. Call attach() with the rebuilt machine after.
   */
  powerCut(opts: PowerCutOptions): void {
    this.#flushBegun();
    this.#event({ kind: 'power-cut', seed: (opts.seed ?? 0) >>> 0, mode: opts.mode ?? 'all' });
    for (const d of this.#detach.splice(0)) d();
    this.#machine = undefined;
  }

  // ---- CommandObserver ----------------------------------------------------------------------

  begin(ctrl: Controller, ctx: CommandContext): void {
    if (this.#stopped) return;
    const index = this.#ctrlIndex.get(ctrl);
    if (index === undefined) return;
    const tick = ++this.#tick;
    const ns = Math.round((performance.now() - this.#t0) * 1e6);
    const who = index | (ctrl.transport === 'fabrics' ? 0x10000 : 0);
    const i = slotOf(ctx);
    if (this.#slotCtx[i] === undefined) {
      this.#slotCtx[i] = ctx;
      this.#slotTick[i] = tick;
      this.#slotNs[i] = ns;
      this.#slotCtrl[i] = who;
      this.#inSlots++;
    } else {
      this.#overflow.set(ctx, { tick, ns, ctrl: who });
    }
  }

  end(_ctrl: Controller, ctx: CommandContext, c: Completion, elapsedNs: bigint): void {
    const f = this.#f;
    const i = slotOf(ctx);
    if (this.#slotCtx[i] === ctx) {
      this.#slotCtx[i] = undefined;
      this.#inSlots--;
      this.#began(this.#slotTick[i]!, this.#slotNs[i]!, this.#slotCtrl[i]!);
    } else {
      const o = this.#overflow.get(ctx);
      if (o === undefined) return;
      this.#overflow.delete(ctx);
      this.#began(o.tick, o.ns, o.ctrl);
    }
    f.sqid = ctx.sqid;
    this.#sections(ctx, (c.status & 0x7ff) === 0);
    f.completed = true;
    f.status = c.status;
    f.dw0 = c.dw0 ?? 0;
    f.dw1 = c.dw1 ?? 0;
    f.elapsedNs = Number(elapsedNs);
    this.#command(ctx.cmd);
  }

  /** The begin half of the command being written. */
  #began(tick: number, ns: number, who: number): void {
    const f = this.#f;
    f.beginTick = tick;
    f.beginNs = ns;
    f.ctrl = who & 0xffff;
    f.transport = who > 0xffff ? 1 : 0;
  }

  /** Fills the data and metadata sections of a command that ran. */
  #sections(ctx: CommandContext, ok: boolean): void {
    const dir = ctx.cmd.opcode & 3;
    // Bidirectional (3) and no-data (0) opcodes carry nothing the recorder can read safely.
    if (dir === 0 || dir === 3) {
      set(this.#data, DataKind.NONE, 0, undefined);
      set(this.#meta, DataKind.NONE, 0, undefined);
      return;
    }
    const toDevice = dir === 1;
    const ns = ctx.sqid === 0 ? undefined : ctx.ctrl.namespace(ctx.cmd.nsid);
    const t = ns?.transferLength(ctx.cmd);
    // What the command transfers, within the host's buffer: a buffer shorter than the transfer
    // (the command failed to map it) is kept as it was, so the replay fails the same way.
    const dataLen = Math.min(t?.data ?? ctx.data.length, ctx.data.length);
    const metaLen = ctx.meta === undefined ? 0 : Math.min(t?.meta ?? 0, ctx.meta.length);
    // A failed command returned nothing: only the buffer sizes are kept (replay needs them).
    if (!toDevice && !ok) {
      set(this.#data, DataKind.NONE, dataLen, undefined);
      set(this.#meta, DataKind.NONE, metaLen, undefined);
      return;
    }
    const hash = this.data === 'hash-all' || (this.data === 'hash' && !toDevice);
    this.#section(this.#data, ctx.data, dataLen, hash);
    if (ctx.meta === undefined) set(this.#meta, DataKind.NONE, 0, undefined);
    else this.#section(this.#meta, ctx.meta, metaLen, hash);
  }

  /** `s`: a view of the host buffer (valid until the command's end returns) and how to keep it. */
  #section(s: Mutable<PendingSection>, d: HostData, len: number, hash: boolean): void {
    if (len === 0) return set(s, DataKind.NONE, 0, undefined);
    const bytes = d.window?.(0, len) ?? d.fromHost(0, len);
    if (typeof bytes === 'number' || bytes.length !== len) {
      return set(s, DataKind.UNAVAILABLE, len, undefined);
    }
    set(s, hash ? DataKind.HASH : DataKind.WHOLE, len, bytes);
  }

  /** Writes the command `cmd` with its begin half, completion and sections already in `#f`. */
  #command(cmd: NvmeCmd): void {
    this.#commands++;
    const f = this.#f;
    f.endTick = f.completed ? ++this.#tick : 0;
    f.cmd = cmd;
    const n = commandFrameSize(f);
    const at = this.#sink.reserve(n);
    this.#sink.advance(writeCommandFrame(this.#sink.store, at, f));
    // The sections point into host buffers that are the host's again once end() returns.
    this.#data.bytes = undefined;
    this.#meta.bytes = undefined;
  }

  /** Commands begun and never completed are recorded as such (power cut, stop), in begin order. */
  #flushBegun(): void {
    const f = this.#f;
    const open: { ctx: CommandContext; tick: number; ns: number; ctrl: number }[] = [];
    for (let i = 0; i < SLOTS && open.length < this.#inSlots; i++) {
      const ctx = this.#slotCtx[i];
      if (ctx === undefined) continue;
      open.push({ ctx, tick: this.#slotTick[i]!, ns: this.#slotNs[i]!, ctrl: this.#slotCtrl[i]! });
    }
    for (const [ctx, o] of this.#overflow) open.push({ ctx, ...o });
    this.#slotCtx.fill(undefined);
    this.#inSlots = 0;
    this.#overflow.clear();
    open.sort((a, b) => a.tick - b.tick);
    for (const b of open) {
      this.#began(b.tick, b.ns, b.ctrl);
      f.sqid = b.ctx.sqid;
      if ((b.ctx.cmd.opcode & 3) === 1) {
        this.#section(this.#data, b.ctx.data, b.ctx.data.length, this.data === 'hash-all');
      } else {
        set(this.#data, DataKind.NONE, 0, undefined);
      }
      set(this.#meta, DataKind.NONE, 0, undefined);
      f.completed = false;
      f.status = 0;
      f.dw0 = 0;
      f.dw1 = 0;
      f.elapsedNs = 0;
      this.#command(b.ctx.cmd);
    }
  }

  #event(e: DistributiveOmit<RecordedEvent, 'tick'>): void {
    this.#events++;
    this.#put(encodeJsonFrame(RecordType.EVENT, { ...e, tick: ++this.#tick }));
  }

  #put(b: Uint8Array): void {
    this.#sink.put(b);
  }

  /** Stops watching after a write error; stop() then returns the counts and the error. */
  #halt(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const d of this.#detach.splice(0)) d();
    this.#sink.flushSync();
  }

  /** Counts so far, and the write error that ended the recording early, if one did. */
  get stats(): { commands: number; events: number; bytes: number; error?: string } {
    const failure = this.#sink.failure;
    return {
      commands: this.#commands,
      events: this.#events,
      bytes: this.#sink.size,
      ...(failure === undefined ? {} : { error: failure.message }),
    };
  }

  /** The recording's bytes so far (a recorder without a file). */
  bytes(): Uint8Array {
    return this.#sink.bytes();
  }

  /**
   * Ends the recording: in-flight commands as never completed, then the end record; every
   * byte is in the file when this returns (`error` in the result says when it is not).
   */
  stop(): { commands: number; events: number; bytes: number; error?: string } {
    if (this.#stopped) return this.stats;
    this.#flushBegun();
    this.#stopped = true;
    for (const d of this.#detach.splice(0)) d();
    this.#put(
      encodeJsonFrame(RecordType.END, {
        commands: this.#commands,
        events: this.#events,
        ticks: this.#tick,
      }),
    );
    this.#sink.flushSync();
    return this.stats;
  }
}

/** Sets the fields of a reused section. */
function set(
  s: Mutable<PendingSection>,
  kind: DataKindValue,
  length: number,
  bytes: Uint8Array | undefined,
): void {
  s.kind = kind;
  s.length = length;
  s.bytes = bytes;
}

/** The slot of a command: its CID and queue, hashed. */
function slotOf(ctx: CommandContext): number {
  return (ctx.cmd.cid + ctx.sqid * 97) & (SLOTS - 1);
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function fileSize(p: string): number | undefined {
  try {
    return statSync(p).size;
  } catch {
    return undefined;
  }
}
