// pmem faults: bad blocks of an nvdimm (the device's own list, published in the state folder
// for ndctl and libpmem2 consumers) and failing virtio-pmem flushes (the device answers
// VIRTIO_PMEM_RESP ret 1 and makes nothing durable, as when the host's fsync fails).

import type { MemoryBackend } from '../memory/backend.js';
import { NvdimmDevice, VirtioPmemDevice } from '../pmem/index.js';
import { EmuError, ErrorCode } from '../util/errors.js';
import { FaultSpecError, type FaultSpec } from './catalogue.js';
import type { ActiveFault } from './fault.js';
import type { FaultLog } from './record.js';
import { findComponent, type FaultMachine } from './targets.js';

export class PmemFaults {
  readonly #machine: FaultMachine;
  readonly #log: FaultLog;
  /** Flush faults per backend, in injection order. */
  readonly #flush = new Map<MemoryBackend, { dev: VirtioPmemDevice; faults: ActiveFault[] }>();
  onFirstFire: ((f: ActiveFault) => void) | undefined;

  constructor(machine: FaultMachine, log: FaultLog) {
    this.#machine = machine;
    this.#log = log;
  }

  check(spec: FaultSpec): NvdimmDevice | VirtioPmemDevice {
    const c = findComponent(this.#machine, spec.target.id!);
    if (spec.kind === 'badblocks') {
      if (!(c instanceof NvdimmDevice)) {
        throw new FaultSpecError(
          `Device '${spec.target.id}' (${c.typeName}) has no bad blocks to manage`,
        );
      }
      return c;
    }
    if (!(c instanceof VirtioPmemDevice)) {
      throw new FaultSpecError(
        `Device '${spec.target.id}' (${c.typeName}) is not a virtio-pmem-pci`,
      );
    }
    return c;
  }

  add(fault: ActiveFault, dev: NvdimmDevice | VirtioPmemDevice): void {
    const s = fault.spec;
    if (dev instanceof NvdimmDevice) {
      const sector = s.sector!;
      const count = s.sectors!;
      dev.injectBadBlocks(sector, count);
      fault.undo = () => dev.clearBadBlocks(sector, count);
      this.#first(fault);
      this.#log.add({
        fault: fault.id,
        kind: s.kind,
        event: 'applied',
        device: s.target.id!,
        detail: `sectors ${sector}+${count}`,
      });
      return;
    }
    const backend = dev.backend;
    let entry = this.#flush.get(backend);
    if (entry === undefined) {
      entry = { dev, faults: [] };
      this.#flush.set(backend, entry);
      const original = backend.fsync.bind(backend);
      const e = entry;
      // The device flushes through its backend's fsync(); a failing fsync is exactly what makes
      // QEMU answer ret 1. An own property shadows the method while flush faults exist.
      backend.fsync = async (): Promise<void> => {
        for (const f of e.faults) {
          if (!f.fires()) continue;
          this.#first(f);
          this.#log.add({
            fault: f.id,
            kind: 'pmem-flush-fail',
            event: 'hit',
            device: f.spec.target.id!,
            detail: 'flush answered 1',
          });
          throw new EmuError(ErrorCode.EMU_ERR_BACKEND_IO, 'injected virtio-pmem flush failure');
        }
        return original();
      };
    }
    entry.faults.push(fault);
    fault.undo = () => {
      const e = this.#flush.get(backend);
      if (e === undefined) return;
      e.faults = e.faults.filter((f) => f !== fault);
      if (e.faults.length === 0) {
        delete (backend as { fsync?: unknown }).fsync;
        this.#flush.delete(backend);
      }
    };
  }

  #first(f: ActiveFault): void {
    if (f.firstFiredAt !== undefined) return;
    f.firstFiredAt = Date.now();
    f.phase = 'active';
    this.onFirstFire?.(f);
  }
}
