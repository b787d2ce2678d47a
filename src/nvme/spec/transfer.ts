// The transport-independent view of a command's data and of the controller, as seen by the
// code that executes a command (admin handlers here, I/O handlers in nvme/ns).
//
// A front end (the in-process host, the NVMe/TCP target, the PCI function walking PRPs/SGLs)
// turns the command's data pointer into a HostData; the executor never sees PRPs, SGLs or PDUs.
// Mapping errors surface as statuses from fromHost/toHost (e.g. 0x013+DNR PRP offset, 0x004
// transfer error) and the executor returns them unchanged (reference §2.5). Every front end
// holds the host's data in memory by the time a command runs (guest RAM, a gathered capsule),
// so moving it never waits.

export interface HostData {
  /** Bytes the command's data pointer covers (0 for commands without data). */
  readonly length: number;
  /**
   * Host → controller: `len` bytes from `offset` of the host buffer, or an NVMe status. The
   * bytes may be a view of the host buffer: valid until the command completes, not longer.
   */
  fromHost(offset: number, len: number): Uint8Array | number;
  /** Controller → host: copy `data` to `offset` of the host buffer; 0 or an NVMe status. */
  toHost(offset: number, data: Uint8Array): number;
  /**
   * A writable view of [offset, offset + len) of the host buffer, when the front end holds it as
   * one piece of memory (NVMe/TCP: the buffer C2HData is sent from; the in-process host's
   * buffer): an executor may fill it in place instead of calling toHost. Undefined otherwise.
   */
  window?(offset: number, len: number): Uint8Array | undefined;
}

/** The result of a command: status (with DNR as needed) and the CQE's DW0/DW1. */
export interface Completion {
  readonly status: number;
  readonly dw0?: number;
  readonly dw1?: number;
  /**
   * For a failure: the command field to blame ('nsid', 'cdw10.fid', 'slba', ...; see
   * ctrl/error-log.ts for the names and their Parameter Error Locations). Traced and logged,
   * never sent to the host in the CQE.
   */
  readonly field?: string;
}

/** A failed completion blaming `field` (the status carries DNR as the call site decides). */
export function rejected(status: number, field: string): Completion {
  return { status, field };
}

/** A HostData of length 0 for commands without a data buffer. */
export const NO_DATA: HostData = {
  length: 0,
  fromHost: (_offset: number, len: number) => (len === 0 ? new Uint8Array(0) : 0x004),
  toHost: (_offset: number, data: Uint8Array) => (data.length === 0 ? 0 : 0x004),
};

/**
 * A HostData over an in-memory buffer (the in-process API and tests). Accesses outside the
 * buffer are Data Transfer Error (0x004), as QEMU reports a DMA failure.
 */
export function bufferData(buf: Uint8Array): HostData {
  const inside = (offset: number, len: number): boolean =>
    offset >= 0 && len >= 0 && offset + len <= buf.length;
  return {
    length: buf.length,
    fromHost(offset: number, len: number): Uint8Array | number {
      // A copy (Uint8Array's slice, also for a Buffer): the caller's buffer may change while a
      // write's bytes are kept (write cache).
      return inside(offset, len)
        ? Uint8Array.prototype.slice.call(buf, offset, offset + len)
        : 0x004;
    },
    toHost(offset: number, data: Uint8Array): number {
      if (!inside(offset, data.length)) return 0x004;
      buf.set(data, offset);
      return 0;
    },
    window(offset: number, len: number): Uint8Array | undefined {
      return inside(offset, len) ? buf.subarray(offset, offset + len) : undefined;
    },
  };
}
