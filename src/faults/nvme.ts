// NVMe faults: the command interceptor installed on controllers (nvme/ctrl CommandInterceptor)
// while NVMe faults exist, and the state faults that change a controller or namespace once
// they fire. Statuses are those a real drive reports (NVMe Base Spec 2.0 §4.6.1.2):
//   media-error     Unrecovered Read Error 281h (reads), Write Fault 280h (writes), no DNR
//   internal-error  Internal Error 006h, no DNR (the host may retry)
//   ns-not-ready    Namespace Not Ready 082h, no DNR (transient)
//   status          the given status
//   timeout         no completion until Abort (then Command Abort Requested 007h) or reset
//   latency         the command completes `ms` later
//   controller-fatal CSTS.CFS = 1; every command is held until the host resets the controller
//   critical-warning SMART critical warning bits (SMART AER when enabled in AEC)
//   read-only       critical warning bit 3 and every medium-changing command fails with
//                   Attempted Write to Read Only Range 182h + DNR
//   temperature     composite temperature (SMART log; AER when a threshold is crossed)
//   uncorrectable   the LBA range fails reads with 281h until rewritten (Write Uncorrectable)

import { setTimeout as sleep } from 'node:timers/promises';
import type { CommandInterceptor, Controller } from '../nvme/ctrl/controller.js';
import { COMPOSITE_TEMPERATURE, SmartWarn } from '../nvme/ctrl/smart.js';
import { rwRange } from '../nvme/ns/io.js';
import type { MediaFaultKind } from '../nvme/ns/media-faults.js';
import { onTrace, type TraceEvents } from '../trace/catalogue.js';
import type { Namespace } from '../nvme/ns/namespace.js';
import { AdminOpc, IoOpc } from '../nvme/spec/opcodes.js';
import { Status, withDnr } from '../nvme/spec/status.js';
import type { Completion } from '../nvme/spec/transfer.js';
import type { CommandContext } from '../nvme/spec/namespace-api.js';
import { FaultSpecError, MEDIA_OPCODES, WRITE_OPCODES, type FaultSpec } from './catalogue.js';
import type { ActiveFault } from './fault.js';
import type { FaultLog } from './record.js';
import { scopeControllers, nvmeScope, type FaultMachine, type NvmeScope } from './targets.js';

/** Attempted Write to Read Only Range (SCT 1, SC 82h). */
export const STATUS_READ_ONLY = 0x182;
export const STATUS_NS_NOT_READY = 0x082;

const LBA_OPCODES: ReadonlySet<number> = new Set<number>([
  IoOpc.WRITE,
  IoOpc.READ,
  IoOpc.WRITE_UNCOR,
  IoOpc.COMPARE,
  IoOpc.WRITE_ZEROES,
  IoOpc.VERIFY,
  IoOpc.ZONE_APPEND,
]);

interface Held {
  readonly ctrl: Controller;
  readonly fault: ActiveFault;
  readonly sqid: number;
  readonly cid: number;
  readonly release: (c: Completion) => void;
}

interface NvmeFault {
  readonly fault: ActiveFault;
  readonly scope: NvmeScope;
  readonly opcodes: ReadonlySet<number> | undefined;
}

export class NvmeFaults implements CommandInterceptor {
  readonly #machine: FaultMachine;
  readonly #log: FaultLog;
  readonly #faults: NvmeFault[] = [];
  readonly #held = new Set<Held>();
  /** Controllers made fatal by a fault (and which): every command is held until reset. */
  readonly #fatal = new Map<Controller, ActiveFault>();
  /** Controllers whose media is read-only, with the faults that made it so. */
  readonly #readOnly = new Map<Controller, Set<ActiveFault>>();
  readonly #installed = new Set<Controller>();
  /** Called when a fault fired for the first time (duration timers). */
  onFirstFire: ((f: ActiveFault) => void) | undefined;
  /** Called when a fault ran out (times reached). */
  onExhausted: ((f: ActiveFault) => void) | undefined;

  constructor(machine: FaultMachine, log: FaultLog) {
    this.#machine = machine;
    this.#log = log;
  }

  /** Resolves and checks the target of an NVMe fault; throws FaultSpecError. */
  check(spec: FaultSpec): NvmeScope {
    const t = spec.target;
    const scope = nvmeScope(this.#machine, t.id, t.nsid);
    if (t.lba !== undefined) {
      if (scope.ns === undefined) throw new FaultSpecError(`an LBA range needs a namespace`);
      const nsze = Number(scope.ns.sizeBlocks);
      if (t.lba.end > nsze) {
        throw new FaultSpecError(
          `LBA range ${t.lba.start}+${t.lba.end - t.lba.start} exceeds namespace ${scope.ns.nsid} of '${t.id ?? ''}' (${nsze} blocks)`,
        );
      }
    }
    if (spec.kind === 'media-error' && scope.ns === undefined) {
      throw new FaultSpecError(`fault kind 'media-error' needs a namespace ('nsid')`);
    }
    if (spec.kind === 'critical-warning') {
      const pmr = scopeControllers(this.#machine, scope).every((c) => c.params.pmr);
      const allowed = pmr ? 0x3f : 0x1f;
      if ((spec.bits! & ~allowed) !== 0) {
        throw new FaultSpecError(
          `unsupported smart critical warning bits: 0x${(spec.bits! & ~allowed).toString(16)}`,
        );
      }
    }
    return scope;
  }

  add(fault: ActiveFault, scope: NvmeScope): void {
    const s = fault.spec;
    if (isMediumDefect(s) && scope.ns !== undefined) {
      this.#addDefect(fault, scope.ns);
      return;
    }
    const ops =
      s.target.opcodes ?? (s.kind === 'media-error' ? MEDIA_OPCODES[s.access!] : undefined);
    this.#faults.push({ fault, scope, opcodes: ops === undefined ? undefined : new Set(ops) });
    for (const c of scopeControllers(this.#machine, scope)) this.#install(c);
    if (fault.immediate && !isCommandKind(s))
      this.#fire(this.#faults.at(-1)!, undefined, undefined);
  }

  /**
   * A media error at a fixed LBA range with no trigger condition is a defect of the medium: it
   * goes into the namespace's own media-fault set (nvme/ns/media-faults.ts, the same as
   * x-nvmemu-inject-media-error), so it acts inside the block store after every command check and
   * a partial transfer stops at the failing block, as a failing backend does.
   */
  #addDefect(fault: ActiveFault, ns: Namespace): void {
    const s = fault.spec;
    const kind: MediaFaultKind = s.access!;
    const { start, end } = s.target.lba!;
    ns.mediaFaults.inject(kind, start, end);
    this.#defects.set(fault, { ns, kind, start, end });
    if (this.#defects.size === 1)
      this.#unsubscribe = onTrace('nvme:ns:media-error', this.#onMediaError);
    fault.undo = () => {
      ns.mediaFaults.clear(kind, start, end);
      this.#defects.delete(fault);
      if (this.#defects.size === 0) this.#unsubscribe?.();
    };
    this.#first(fault);
    this.#log.add({
      fault: fault.id,
      kind: s.kind,
      event: 'applied',
      ...(s.target.id !== undefined ? { device: s.target.id } : {}),
      nsid: ns.nsid,
      lba: start,
      detail: `${kind} defect, ${end - start} blocks`,
    });
  }

  readonly #defects = new Map<
    ActiveFault,
    { ns: Namespace; kind: MediaFaultKind; start: number; end: number }
  >();

  /** A block-store access met an injected defect: trace it and count it in SMART. */
  #unsubscribe: (() => void) | undefined;

  readonly #onMediaError = (hit: TraceEvents['nvme:ns:media-error']): void => {
    const faults = hit.source;
    for (const [fault, d] of this.#defects) {
      if (d.ns.mediaFaults !== faults || d.kind !== hit.kind) continue;
      if (hit.slba >= d.end || hit.slba + hit.nlb <= d.start) continue;
      for (const c of scopeControllers(this.#machine, { ...NO_SCOPE, ns: d.ns })) {
        c.smart.counters.mediaErrors++;
      }
      fault.seen++;
      fault.fired++;
      this.#log.add({
        fault: fault.id,
        kind: 'media-error',
        event: 'hit',
        ...(fault.spec.target.id !== undefined ? { device: fault.spec.target.id } : {}),
        nsid: hit.nsid,
        lba: hit.slba,
        status: hit.status,
        detail: `${hit.nlb} blocks`,
      });
      return;
    }
  };

  /** Ends a fault: undoes its state change; held commands stay held (a lost command). */
  remove(fault: ActiveFault): void {
    const i = this.#faults.findIndex((f) => f.fault === fault);
    if (i >= 0) this.#faults.splice(i, 1);
    fault.undo?.();
    fault.undo = undefined;
    for (const [c, set] of this.#readOnly) {
      set.delete(fault);
      if (set.size === 0) this.#readOnly.delete(c);
    }
    this.#uninstallIdle();
  }

  /** Commands held now (timeouts, fatal controllers). */
  get heldCount(): number {
    return this.#held.size;
  }

  heldCommands(): { cntlid: number; sqid: number; cid: number; fault: number }[] {
    return [...this.#held].map((h) => ({
      cntlid: h.ctrl.cntlid,
      sqid: h.sqid,
      cid: h.cid,
      fault: h.fault.id,
    }));
  }

  #install(c: Controller): void {
    if (c.interceptor !== undefined && c.interceptor !== this) {
      throw new FaultSpecError(`controller ${c.cntlid} already has another fault interceptor`);
    }
    c.interceptor = this;
    this.#installed.add(c);
  }

  #uninstallIdle(): void {
    if (this.#faults.length > 0 || this.#held.size > 0 || this.#fatal.size > 0) return;
    for (const c of this.#installed) if (c.interceptor === this) c.interceptor = undefined;
    this.#installed.clear();
  }

  // ---- CommandInterceptor ----------------------------------------------------------------------

  reset(ctrl: Controller): void {
    this.#fatal.delete(ctrl);
    for (const h of [...this.#held]) {
      if (h.ctrl !== ctrl) continue;
      this.#held.delete(h);
      this.#log.add({
        fault: h.fault.id,
        kind: h.fault.spec.kind,
        event: 'released',
        cntlid: ctrl.cntlid,
        sqid: h.sqid,
        cid: h.cid,
        detail: 'controller reset',
      });
      h.release({ status: Status.ABORT_SQ_DELETION });
    }
    this.#uninstallIdle();
  }

  async intercept<T>(
    ctrl: Controller,
    ctx: CommandContext,
    next: () => Promise<T>,
  ): Promise<T | Completion> {
    const { cmd } = ctx;
    const admin = ctx.sqid === 0;
    if (admin && cmd.opcode === AdminOpc.ABORT) {
      const aborted = this.#abort(ctrl, cmd.cdw10 & 0xffff, cmd.cdw10 >>> 16);
      // dw0 bit 0 clear: the command was aborted (Base Spec 2.0 Figure 156).
      if (aborted) return { status: 0, dw0: 0 };
    }
    const fatal = this.#fatal.get(ctrl);
    if (fatal !== undefined) return this.#hold(ctrl, ctx, fatal);
    for (const f of [...this.#faults]) {
      if (!this.#matches(f, ctrl, ctx, admin)) continue;
      if (!f.fault.fires()) continue;
      const out = await this.#act(f, ctrl, ctx, next);
      if (out !== undefined) return out;
    }
    if (!admin && WRITE_OPCODES.has(cmd.opcode) && this.#readOnly.has(ctrl)) {
      const f = [...this.#readOnly.get(ctrl)!][0]!;
      const status = withDnr(STATUS_READ_ONLY);
      this.#hit(f, ctrl, ctx, status);
      return { status };
    }
    return next();
  }

  #matches(f: NvmeFault, ctrl: Controller, ctx: CommandContext, admin: boolean): boolean {
    const s = f.fault.spec;
    const t = s.target;
    const sc = f.scope;
    if (sc.ctrls !== undefined && !sc.ctrls.has(ctrl)) return false;
    // State faults count every command of their controllers as an opportunity.
    if (!isCommandKind(s)) {
      return sc.ns === undefined || ctrl.namespaces.get(sc.ns.nsid) === sc.ns;
    }
    if (admin !== t.admin) return false;
    if (t.qid !== undefined && ctx.sqid !== t.qid) return false;
    const { cmd } = ctx;
    if (f.opcodes !== undefined && !f.opcodes.has(cmd.opcode)) return false;
    if (!admin && sc.ns !== undefined) {
      if (cmd.nsid !== sc.ns.nsid || ctrl.namespaces.get(cmd.nsid) !== sc.ns) return false;
    } else if (sc.nsid !== undefined && cmd.nsid !== sc.nsid) {
      return false;
    }
    if (t.lba !== undefined) {
      if (admin || !LBA_OPCODES.has(cmd.opcode)) return false;
      const r = rwRange(ctx);
      const start = Number(r.slba);
      if (start >= t.lba.end || start + r.nlb <= t.lba.start) return false;
    }
    return true;
  }

  /** What a firing fault does to the command; undefined lets the command go on. */
  async #act<T>(
    f: NvmeFault,
    ctrl: Controller,
    ctx: CommandContext,
    next: () => Promise<T>,
  ): Promise<T | Completion | undefined> {
    const s = f.fault.spec;
    this.#first(f.fault);
    switch (s.kind) {
      case 'media-error': {
        // As a failing medium: the command's own checks come first (a command that is also
        // invalid gets its validation status), and only then the medium fails.
        const c = (await next()) as Completion;
        if (c.status !== Status.SUCCESS) return c;
        const status = s.access === 'read' ? Status.UNRECOVERED_READ : Status.WRITE_FAULT;
        ctrl.smart.counters.mediaErrors++;
        this.#hit(f.fault, ctrl, ctx, status);
        return { status };
      }
      case 'internal-error':
        return this.#complete(f.fault, ctrl, ctx, Status.INTERNAL_DEVICE_ERROR);
      case 'ns-not-ready':
        return this.#complete(f.fault, ctrl, ctx, STATUS_NS_NOT_READY);
      case 'status':
        return this.#complete(f.fault, ctrl, ctx, s.status!);
      case 'timeout':
        return this.#hold(ctrl, ctx, f.fault);
      case 'latency':
        this.#hit(f.fault, ctrl, ctx, undefined, `+${s.delayMs} ms`);
        await sleep(s.delayMs);
        return undefined;
      case 'controller-fatal':
      case 'critical-warning':
      case 'read-only':
      case 'temperature':
      case 'uncorrectable':
        this.#fire(f, ctrl, ctx);
        return this.#fatal.has(ctrl) ? this.#hold(ctrl, ctx, f.fault) : undefined;
      case 'path-loss':
      case 'badblocks':
      case 'pmem-flush-fail':
        return undefined;
    }
  }

  #first(f: ActiveFault): void {
    if (f.firstFiredAt === undefined) {
      f.firstFiredAt = Date.now();
      f.phase = 'active';
      this.onFirstFire?.(f);
    }
    if (f.exhausted) queueMicrotask(() => this.onExhausted?.(f));
  }

  #complete(f: ActiveFault, ctrl: Controller, ctx: CommandContext, status: number): Completion {
    this.#hit(f, ctrl, ctx, status);
    return { status };
  }

  #hit(
    f: ActiveFault,
    ctrl: Controller,
    ctx: CommandContext,
    status: number | undefined,
    detail?: string,
  ): void {
    const { cmd } = ctx;
    const lba =
      ctx.sqid !== 0 && LBA_OPCODES.has(cmd.opcode) ? Number(rwRange(ctx).slba) : undefined;
    this.#log.add({
      fault: f.id,
      kind: f.spec.kind,
      event: 'hit',
      ...(f.spec.target.id !== undefined ? { device: f.spec.target.id } : {}),
      cntlid: ctrl.cntlid,
      sqid: ctx.sqid,
      cid: cmd.cid,
      opcode: cmd.opcode,
      ...(cmd.nsid !== 0 ? { nsid: cmd.nsid } : {}),
      ...(lba !== undefined ? { lba } : {}),
      ...(status !== undefined ? { status } : {}),
      ...(detail !== undefined ? { detail } : {}),
    });
  }

  #hold(ctrl: Controller, ctx: CommandContext, fault: ActiveFault): Promise<Completion> {
    this.#hit(fault, ctrl, ctx, undefined, 'held');
    return new Promise((release) => {
      this.#held.add({ ctrl, fault, sqid: ctx.sqid, cid: ctx.cmd.cid, release });
    });
  }

  #abort(ctrl: Controller, sqid: number, cid: number): boolean {
    for (const h of this.#held) {
      if (h.ctrl !== ctrl || h.sqid !== sqid || h.cid !== cid) continue;
      this.#held.delete(h);
      this.#log.add({
        fault: h.fault.id,
        kind: h.fault.spec.kind,
        event: 'released',
        cntlid: ctrl.cntlid,
        sqid,
        cid,
        status: Status.ABORT_REQUESTED,
        detail: 'Abort',
      });
      h.release({ status: Status.ABORT_REQUESTED });
      return true;
    }
    return false;
  }

  /** Applies a state fault (once); `ctrl`/`ctx` name the command it fired on, if any. */
  #fire(f: NvmeFault, ctrl: Controller | undefined, ctx: CommandContext | undefined): void {
    const fault = f.fault;
    // A state fault applies once; it stays applied until cleared (or, for CFS, a reset).
    if (fault.undo !== undefined) return;
    if (fault.firstFiredAt === undefined) this.#first(fault);
    const ctrls = scopeControllers(this.#machine, f.scope);
    const undo: (() => void)[] = [];
    const s = fault.spec;
    switch (s.kind) {
      case 'controller-fatal':
        for (const c of ctrls) {
          c.setFatalStatus();
          this.#fatal.set(c, fault);
        }
        // CSTS.CFS stays until the host resets the controller, whatever happens to the fault.
        break;
      case 'critical-warning':
      case 'read-only': {
        const bits = s.kind === 'read-only' ? SmartWarn.MEDIA_READ_ONLY : s.bits!;
        for (const c of ctrls) {
          const added = bits & ~c.smart.criticalWarning;
          c.setSmartCriticalWarning(c.smart.criticalWarning | bits);
          undo.push(() => c.setSmartCriticalWarning(c.smart.criticalWarning & ~added));
          if (s.kind === 'read-only') {
            const set = this.#readOnly.get(c) ?? new Set<ActiveFault>();
            set.add(fault);
            this.#readOnly.set(c, set);
          }
        }
        break;
      }
      case 'temperature':
        for (const c of ctrls) {
          const was = c.smart.temperature;
          c.smart.setTemperature(s.kelvin!);
          undo.push(() => c.smart.setTemperature(was === s.kelvin ? COMPOSITE_TEMPERATURE : was));
        }
        break;
      case 'uncorrectable': {
        const ns = f.scope.ns!;
        const { start, end } = s.target.lba!;
        ns.injectUncorrectable(start, end - start);
        undo.push(() => ns.ioCore().uncorrectable.remove(start, end));
        break;
      }
      default:
        return;
    }
    fault.undo = () => {
      for (const u of undo) u();
    };
    this.#log.add({
      fault: fault.id,
      kind: s.kind,
      event: 'applied',
      ...(s.target.id !== undefined ? { device: s.target.id } : {}),
      ...(ctrl !== undefined ? { cntlid: ctrl.cntlid } : {}),
      ...(ctx !== undefined ? { sqid: ctx.sqid, cid: ctx.cmd.cid, opcode: ctx.cmd.opcode } : {}),
      ...(f.scope.nsid !== undefined ? { nsid: f.scope.nsid } : {}),
    });
  }
}

const NO_SCOPE: NvmeScope = { ctrls: undefined, ns: undefined, nsid: undefined, device: undefined };

function isMediumDefect(s: FaultSpec): boolean {
  const t = s.trigger;
  return (
    s.kind === 'media-error' &&
    s.target.lba !== undefined &&
    s.target.opcodes === undefined &&
    s.target.qid === undefined &&
    t.after === 0 &&
    t.probability === 1 &&
    t.times === undefined &&
    t.durationMs === undefined
  );
}

function isCommandKind(s: FaultSpec): boolean {
  switch (s.kind) {
    case 'media-error':
    case 'internal-error':
    case 'ns-not-ready':
    case 'status':
    case 'timeout':
    case 'latency':
      return true;
    default:
      return false;
  }
}
