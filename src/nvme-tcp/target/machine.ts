// Adapts the machine's `-device nvme` controllers (nvme/ctrl Controller) to FabricsController,
// and groups them into subsystems by SUBNQN, as QEMU builds the topology (issue 4): each
// controller keeps its fixed cntlid; a controller without `subsys=` is alone in its implicit
// subsystem.
//
// Admin commands go through the controller's admin queue (submit/reap), so AER holding,
// queue-full behaviour and error accounting stay the controller's. I/O commands call the
// controller's I/O dispatch directly: over fabrics every I/O queue is its own TCP connection with
// its own flow control, so an SQ ring between the socket and the namespace would only add cost.

import type { Machine } from '../../machine/machine.js';
import { NvmeDevice } from '../../nvme/index.js';
import type { Controller } from '../../nvme/ctrl/controller.js';
import { dispatchIo, dispatchIoNow } from '../../nvme/ctrl/io.js';
import { Reg } from '../../nvme/ctrl/regs.js';
import type { NvmeCmd } from '../../nvme/spec/command.js';
import { Status } from '../../nvme/spec/status.js';
import type { Completion, HostData } from '../../nvme/spec/transfer.js';
import type { FabricsController, FabricsSubsystem } from './backend.js';

/** Admin queue entries programmed at enable: Linux keeps up to 31 commands + 1 AER (§3.3). */
const ADMIN_DEPTH = 64;

interface Backlog {
  readonly cmd: NvmeCmd;
  readonly data: HostData;
  readonly resolve: (c: Completion) => void;
}

export class MachineController implements FabricsController {
  readonly ctrl: Controller;
  readonly cntrltype = 1 as const;
  readonly #pending = new Map<number, (c: Completion) => void>();
  readonly #backlog: Backlog[] = [];
  #reaping = false;

  constructor(ctrl: Controller) {
    this.ctrl = ctrl;
    ctrl.onInterrupt = (cqid) => {
      if (cqid === 0 && !this.#reaping) {
        this.#reaping = true;
        queueMicrotask(() => this.#reap());
      }
    };
  }

  get cntlid(): number {
    return this.ctrl.cntlid;
  }
  get cap(): bigint {
    return this.ctrl.readReg64(Reg.CAP);
  }
  get vs(): number {
    return this.ctrl.readReg32(Reg.VS);
  }
  get mdtsBytes(): number {
    return this.ctrl.mdtsBytes;
  }
  get maxIoQueues(): number {
    return this.ctrl.params.maxIoqpairs;
  }

  /** CC.EN 0→1 through the registers, with an in-process admin queue pair (no guest memory). */
  enable(cc: number): boolean {
    const c = this.ctrl;
    c.writeReg32(Reg.AQA, ((ADMIN_DEPTH - 1) << 16) | (ADMIN_DEPTH - 1));
    c.writeReg64(Reg.ASQ, 0x10000n);
    c.writeReg64(Reg.ACQ, 0x20000n);
    c.writeReg32(Reg.CC, (cc & ~(3 << 14)) >>> 0);
    return c.enabled;
  }

  reset(): Promise<void> {
    this.ctrl.writeReg32(Reg.CC, 0);
    for (const done of this.#pending.values()) done({ status: Status.ABORT_SQ_DELETION });
    this.#pending.clear();
    for (const b of this.#backlog.splice(0)) b.resolve({ status: Status.ABORT_SQ_DELETION });
    return Promise.resolve();
  }

  /** CC.SHN: every attached namespace flushes and shuts down; awaited, unlike a PCI write. */
  async shutdown(): Promise<void> {
    await Promise.allSettled([...this.ctrl.namespaces.values()].map((ns) => ns.shutdown()));
  }

  admin(cmd: NvmeCmd, data: HostData): Promise<Completion> {
    // The data is already mapped by the transport: present it as PRP-less (PSDT 0) so the PCI
    // personality's "admin commands use PRPs" rule does not refuse the SGL the host used.
    const c: NvmeCmd = { ...cmd, psdt: 0 };
    return new Promise((resolve) => {
      this.#backlog.push({ cmd: c, data, resolve });
      this.#drain();
    });
  }

  async io(sqid: number, cmd: NvmeCmd, data: HostData): Promise<Completion> {
    return this.#counted(
      sqid,
      cmd,
      await dispatchIo(this.ctrl, { cmd, data, sqid, ctrl: this.ctrl }),
    );
  }

  ioNow(sqid: number, cmd: NvmeCmd, data: HostData): Completion | undefined {
    const c = dispatchIoNow(this.ctrl, { cmd, data, sqid, ctrl: this.ctrl });
    return c === undefined ? undefined : this.#counted(sqid, cmd, c);
  }

  #counted(sqid: number, cmd: NvmeCmd, c: Completion): Completion {
    if (c.status !== 0) {
      this.ctrl.notifyError({ sqid, cid: cmd.cid, nsid: cmd.nsid, status: c.status });
    }
    return c;
  }

  #drain(): void {
    while (this.#backlog.length > 0) {
      const b = this.#backlog[0]!;
      this.#pending.set(b.cmd.cid, b.resolve);
      if (!this.ctrl.submit(0, b.cmd, b.data)) {
        this.#pending.delete(b.cmd.cid);
        if (this.ctrl.sqs[0] === undefined) {
          this.#backlog.shift();
          b.resolve({ status: Status.COMMAND_SEQUENCE_ERROR });
          continue;
        }
        return;
      }
      this.#backlog.shift();
    }
  }

  #reap(): void {
    this.#reaping = false;
    for (const cqe of this.ctrl.reap(0)) {
      const done = this.#pending.get(cqe.cid);
      this.#pending.delete(cqe.cid);
      done?.({ status: cqe.status, dw0: cqe.dw0, dw1: cqe.dw1 });
    }
    this.#drain();
  }
}

const vfControllers = new WeakMap<Controller, MachineController>();

function vfController(c: Controller): MachineController {
  let m = vfControllers.get(c);
  if (m === undefined) {
    m = new MachineController(c);
    vfControllers.set(c, m);
  }
  return m;
}

/** The machine's NVM subsystems (one per SUBNQN), controllers in cntlid order. */
export function machineSubsystems(
  machine: Machine,
  allowedHosts: ReadonlyMap<string, readonly string[]> = new Map(),
): { subsystems: FabricsSubsystem[]; warnings: string[] } {
  const groups = new Map<
    string,
    { subsys: object; ctrls: MachineController[]; devs: NvmeDevice[] }
  >();
  const warnings: string[] = [];
  for (const comp of machine.components()) {
    if (!(comp instanceof NvmeDevice)) continue;
    const ctrl = comp.controller;
    const nqn = ctrl.subsys.subnqn;
    const g = groups.get(nqn);
    if (g === undefined) {
      groups.set(nqn, { subsys: ctrl.subsys, ctrls: [new MachineController(ctrl)], devs: [comp] });
    } else if (g.subsys === ctrl.subsys) {
      g.ctrls.push(new MachineController(ctrl));
      g.devs.push(comp);
    } else {
      // Two implicit subsystems with one serial share a SUBNQN in QEMU too; only the first is
      // reachable over fabrics.
      warnings.push(`nvme ${comp.id ?? ''}: SUBNQN ${nqn} already served; not exported`);
    }
  }
  const subsystems = [...groups.entries()].map(([nqn, g]) => ({
    nqn,
    kind: 'nvm' as const,
    // SR-IOV: an online VF's secondary controller is a controller of the subsystem too; the
    // list is read at each Connect so VFs brought online later are reachable.
    get controllers(): MachineController[] {
      const vfs = g.devs.flatMap((d) => d.secondaryControllers()).map(vfController);
      return [...g.ctrls, ...vfs].sort((a, b) => a.cntlid - b.cntlid);
    },
    allowedHosts: allowedHosts.get(nqn),
  }));
  return { subsystems, warnings };
}
