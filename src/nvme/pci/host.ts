// A PCI host bridge with one bus (bus 0) and the machine's RAM: what a CPU (the userspace
// driver, a test) sees. Configuration accesses by bus/device/function (as 0xCF8/0xCFC or
// MMCONFIG address them), memory accesses by physical address, routed to the BAR that decodes
// the address or else to RAM. A PF in slot `d` is function 0; its VFs are functions
// 1..NumVFs of the same slot (ARI: First VF Offset 1, Stride 1).

import type { BarIndex, NvmePciFunction } from './function.js';
import { GuestMemory } from './guest-memory.js';
import type { SriovPf } from './sriov.js';

interface Slot {
  readonly pf: NvmePciFunction;
  readonly sriov: SriovPf | undefined;
}

export type AccessSize = 1 | 2 | 4 | 8;

export class PciHost {
  readonly memory: GuestMemory;
  readonly #slots = new Map<number, Slot>();

  constructor(ramSize: bigint | GuestMemory) {
    this.memory = ramSize instanceof GuestMemory ? ramSize : new GuestMemory(ramSize);
  }

  /** Plugs a PF (and its SR-IOV) in `slot` (0..31); returns the slot. */
  plug(pf: NvmePciFunction, sriov?: SriovPf, slot?: number): number {
    let s = slot ?? 1;
    while (slot === undefined && this.#slots.has(s)) s++;
    if (s < 0 || s > 31 || this.#slots.has(s)) throw new RangeError(`PCI slot ${s} is not free`);
    this.#slots.set(s, { pf, sriov });
    return s;
  }

  unplug(pf: NvmePciFunction): void {
    for (const [k, v] of this.#slots) if (v.pf === pf) this.#slots.delete(k);
  }

  /** The function at devfn (slot << 3 | function, ARI numbering within the slot). */
  function(slot: number, fn: number): NvmePciFunction | undefined {
    const s = this.#slots.get(slot);
    if (s === undefined) return undefined;
    if (fn === 0) return s.pf;
    return s.sriov?.vf(fn);
  }

  /** Every function, PFs and enabled VFs. */
  functions(): NvmePciFunction[] {
    const out: NvmePciFunction[] = [];
    for (const s of this.#slots.values()) out.push(s.pf, ...(s.sriov?.vfs ?? []));
    return out;
  }

  cfgRead(slot: number, fn: number, off: number, size: 1 | 2 | 4): number {
    const f = this.function(slot, fn);
    if (f === undefined) return size === 4 ? 0xffff_ffff : (1 << (8 * size)) - 1;
    return f.cfgRead(off, size);
  }

  cfgWrite(slot: number, fn: number, off: number, size: 1 | 2 | 4, value: number): void {
    this.function(slot, fn)?.cfgWrite(off, size, value);
  }

  /** The BAR decoding `addr`, if any. */
  decode(addr: bigint): { f: NvmePciFunction; bar: BarIndex; off: number } | undefined {
    for (const f of this.functions()) {
      for (const bar of [0, 2] as const) {
        const base = f.barAddress(bar);
        if (base === undefined) continue;
        const size = BigInt(f.barSize(bar));
        if (addr >= base && addr < base + size) return { f, bar, off: Number(addr - base) };
      }
    }
    return undefined;
  }

  /** A CPU read: a BAR's MMIO, else RAM; unassigned addresses read 0. */
  read(addr: bigint, size: AccessSize): bigint {
    const d = this.decode(addr);
    if (d !== undefined) return d.f.mmioRead(d.bar, d.off, size);
    const b = this.memory.read(addr, size);
    if (b === undefined) return 0n;
    let v = 0n;
    for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
    return v;
  }

  /** A CPU write: a BAR's MMIO, else RAM; unassigned addresses drop the write. */
  write(addr: bigint, size: AccessSize, value: bigint): void {
    const d = this.decode(addr);
    if (d !== undefined) {
      d.f.mmioWrite(d.bar, d.off, size, value);
      return;
    }
    const b = new Uint8Array(size);
    for (let i = 0; i < size; i++) b[i] = Number((value >> BigInt(8 * i)) & 0xffn);
    this.memory.write(addr, b);
  }
}
