// Guest RAM for the PCI front end: a sparse array of 4 KiB pages in [0, size). Pages are
// allocated on first write and read as zeros before that, so a "4 GiB guest" costs only what
// the driver touches. Accesses outside RAM fail (false/undefined): the device turns that into
// a DMA error status (reference qemu-nvme.md §2.5), the driver into a typed error.

const PAGE_SHIFT = 12;
const PAGE = 1 << PAGE_SHIFT;

export class GuestMemory {
  readonly #pages = new Map<number, Uint8Array>();

  constructor(
    /** RAM size in bytes (QEMU `-m`). */
    readonly size: bigint,
  ) {}

  /** True when [addr, addr+len) lies inside RAM. */
  contains(addr: bigint, len: number): boolean {
    return addr >= 0n && len >= 0 && addr + BigInt(len) <= this.size;
  }

  /** `len` bytes at `addr`, or undefined when the range leaves RAM. */
  read(addr: bigint, len: number): Uint8Array | undefined {
    if (!this.contains(addr, len)) return undefined;
    const out = new Uint8Array(len);
    this.#walk(addr, len, (page, pageOff, bufOff, n) => {
      const p = this.#pages.get(page);
      if (p !== undefined) out.set(p.subarray(pageOff, pageOff + n), bufOff);
    });
    return out;
  }

  /** Copies `data` to `addr`; false (nothing written) when the range leaves RAM. */
  write(addr: bigint, data: Uint8Array): boolean {
    if (!this.contains(addr, data.length)) return false;
    this.#walk(addr, data.length, (page, pageOff, bufOff, n) => {
      let p = this.#pages.get(page);
      if (p === undefined) {
        p = new Uint8Array(PAGE);
        this.#pages.set(page, p);
      }
      p.set(data.subarray(bufOff, bufOff + n), pageOff);
    });
    return true;
  }

  /** Bytes actually allocated (for tests and diagnostics). */
  get allocatedBytes(): number {
    return this.#pages.size * PAGE;
  }

  #walk(
    addr: bigint,
    len: number,
    fn: (page: number, pageOff: number, bufOff: number, n: number) => void,
  ): void {
    let done = 0;
    while (done < len) {
      const a = addr + BigInt(done);
      const page = Number(a >> BigInt(PAGE_SHIFT));
      const pageOff = Number(a & BigInt(PAGE - 1));
      const n = Math.min(PAGE - pageOff, len - done);
      fn(page, pageOff, done, n);
      done += n;
    }
  }
}
