// pmem2_source (pmdk.md §1.2 "Source", §3.7, §5.1, §11 items 12–13).

import { closeSync, constants as fsc, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { constants } from 'node:os';
import { strerror, O_ACCMODE, O_WRONLY, PAGE_SIZE, getFileFlags } from '../memory/libc.js';
import { fail, failSilently } from './errors.js';
import {
  resolveNvmemu,
  windowBadBlocks,
  type NvmemuSourceOptions,
  type NvmemuWindow,
} from './nvmemu.js';
import {
  charSubsystem,
  daxAttr,
  dimmAttr,
  findNdDevice,
  regionAttr,
  regionDimms,
  type NdDevice,
} from './nd.js';

/** What a source is: anonymous memory, a regular file, or a device DAX. */
export type SourceKind = 'anon' | 'reg' | 'devdax';

const EBADF = constants.errno.EBADF;
const S_IFMT = 0o170000;

function errnoOf(e: unknown): number {
  const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
  return (constants.errno as Record<string, number>)[code] ?? constants.errno.EIO;
}

/** What pmem2_source_from_fd records; the map keeps a copy of it (§3.1). */
export class Pmem2Source {
  /** anon, reg (a file) or devdax. */
  readonly kind: SourceKind;
  /** -1 for anonymous sources. */
  readonly fd: number;
  /** Size of an anonymous source (0 otherwise). */
  readonly anonSize: number;
  /** st_rdev (devdax) and st_dev (file system) as bigints. */
  readonly rdev: bigint;
  /** st_dev of a file source. */
  readonly dev: bigint;
  /** Set for sources on an nvmemu emulated device: the window of the backing file they map. */
  readonly emu: NvmemuWindow | null;
  #ownsFd = false;

  private constructor(
    kind: SourceKind,
    fd: number,
    anonSize: number,
    rdev: bigint,
    dev: bigint,
    emu: NvmemuWindow | null = null,
  ) {
    this.kind = kind;
    this.fd = fd;
    this.anonSize = anonSize;
    this.rdev = rdev;
    this.dev = dev;
    this.emu = emu;
  }

  /**
   * A source on an nvmemu emulated device (docs/pmem2.md "Emulated devices"): a region (by
   * device id or name), a namespace, or the region whose backing file is `path`, found in the
   * running machine's state folder. The backing file is opened read-write (read-only if that is
   * refused) and closed by delete(); offsets are relative to the device or namespace data.
   */
  static fromNvmemu(opts: NvmemuSourceOptions): Pmem2Source {
    const w = resolveNvmemu(opts);
    let fd: number;
    try {
      fd = openSync(w.region.backingFile, fsc.O_RDWR);
    } catch {
      try {
        fd = openSync(w.region.backingFile, fsc.O_RDONLY);
      } catch (e) {
        const n = errnoOf(e);
        throw fail(-n, `open: ${strerror(n)}`);
      }
    }
    const st = fstatSync(fd, { bigint: true });
    const s = new Pmem2Source('reg', fd, 0, st.rdev, st.dev, w);
    s.#ownsFd = true;
    return s;
  }

  /** File offset of source byte 0 (the emulated window's start; 0 otherwise). */
  get fileOffset(): number {
    return this.emu?.fileOffset ?? 0;
  }

  /** Device DAX semantics (private mappings refused): real devdax or an emulated devdax namespace. */
  get isDevdax(): boolean {
    return this.kind === 'devdax' || this.emu?.mode === 'devdax';
  }

  /** pmem2_source_from_fd: the checks and codes of §1.2 in upstream order. */
  static fromFd(fd: number): Pmem2Source {
    if (fd < 0) throw failSilently('PMEM2_E_INVALID_FILE_HANDLE');
    const fl = getFileFlags(fd);
    if (fl < 0) {
      if (fl === -EBADF) throw fail('PMEM2_E_INVALID_FILE_HANDLE', `fcntl: ${strerror(EBADF)}`);
      throw fail(fl, `fcntl: ${strerror(-fl)}`);
    }
    if ((fl & O_ACCMODE) === O_WRONLY)
      throw fail('PMEM2_E_INVALID_FILE_HANDLE', 'fd must be open with O_RDONLY or O_RDWR');
    let st;
    try {
      st = fstatSync(fd, { bigint: true });
    } catch (e) {
      const n = errnoOf(e);
      if (n === EBADF) throw fail('PMEM2_E_INVALID_FILE_HANDLE', `fstat: ${strerror(n)}`);
      throw fail(-n, `fstat: ${strerror(n)}`);
    }
    const fmt = Number(st.mode) & S_IFMT;
    if (fmt === fsc.S_IFREG) return new Pmem2Source('reg', fd, 0, st.rdev, st.dev);
    if (fmt === fsc.S_IFDIR)
      throw fail('PMEM2_E_INVALID_FILE_TYPE', 'cannot set fd to directory in pmem2_source_from_fd');
    if (fmt !== fsc.S_IFCHR)
      throw fail('PMEM2_E_INVALID_FILE_TYPE', `file type 0${fmt.toString(8)} not supported`);
    const sub = charSubsystem(st.rdev);
    if (!sub.ok) {
      const n = (constants.errno as Record<string, number>)[sub.errno] ?? constants.errno.EIO;
      throw fail(-n, `realpath: ${strerror(n)}`);
    }
    if (sub.name !== 'dax') throw failSilently('PMEM2_E_INVALID_FILE_TYPE');
    return new Pmem2Source('devdax', fd, 0, st.rdev, st.dev);
  }

  /** pmem2_source_from_anon: any size, including 0 (fails later with SOURCE_EMPTY). */
  static fromAnon(size: number): Pmem2Source {
    return new Pmem2Source('anon', -1, size, 0n, 0n);
  }

  /**
   * Convenience beyond libpmem2: open `path` (read-write unless `readOnly`) and own the fd; the
   * fd is closed by delete(). Open errors are -errno with "open: <strerror>".
   */
  static fromPath(path: string, opts: { readOnly?: boolean } = {}): Pmem2Source {
    let fd: number;
    try {
      fd = openSync(path, opts.readOnly === true ? fsc.O_RDONLY : fsc.O_RDWR);
    } catch (e) {
      const n = errnoOf(e);
      throw fail(-n, `open: ${strerror(n)}`);
    }
    try {
      const s = Pmem2Source.fromFd(fd);
      s.#ownsFd = true;
      return s;
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /** pmem2_source_delete: the fd stays open unless fromPath opened it. */
  delete(): void {
    if (this.#ownsFd) {
      this.#ownsFd = false;
      closeSync(this.fd);
    }
  }

  /** pmem2_source_get_fd */
  getFd(): number {
    if (this.kind === 'anon')
      throw fail(
        'PMEM2_E_FILE_DESCRIPTOR_NOT_SET',
        'File descriptor is not set, source type does not support fd',
      );
    return this.fd;
  }

  /** pmem2_source_size: queried live (the fd must still be open). */
  size(): number {
    switch (this.kind) {
      case 'anon':
        return this.anonSize;
      case 'reg': {
        if (this.emu !== null) return this.emu.size;
        let st;
        try {
          st = fstatSync(this.fd, { bigint: true });
        } catch (e) {
          const n = errnoOf(e);
          throw fail('PMEM2_E_INVALID_FILE_HANDLE', `fstat: ${strerror(n)}`);
        }
        if (st.size < 0n) throw fail('PMEM2_E_INVALID_FILE_HANDLE', 'kernel says size is negative');
        return Number(st.size);
      }
      case 'devdax': {
        const v = daxAttr(this.rdev, 'size');
        if (v === null) throw fail('PMEM2_E_DAX_REGION_NOT_FOUND', 'Cannot find dax region');
        return Number(v);
      }
    }
  }

  /** pmem2_source_alignment: page size, or the device-dax `align` attribute. */
  alignment(): number {
    let a = this.emu?.alignment ?? PAGE_SIZE;
    if (this.kind === 'devdax') {
      const v = daxAttr(this.rdev, 'align');
      if (v === null) throw fail('PMEM2_E_INVALID_ALIGNMENT_FORMAT', 'cannot read dax alignment');
      a = Number(v);
    }
    if (!Number.isSafeInteger(a) || a <= 0 || (a & (a - 1)) !== 0)
      throw fail(
        'PMEM2_E_INVALID_ALIGNMENT_VALUE',
        `invalid alignment ${a} (must be a power of two)`,
      );
    return a;
  }

  /** The nd region behind this source, if any (fsdax: st_dev; devdax: st_rdev). */
  ndDevice(): NdDevice | null {
    if (this.kind === 'anon' || this.emu !== null) return null;
    return this.kind === 'devdax'
      ? findNdDevice('char', this.rdev)
      : findNdDevice('block', this.dev);
  }

  /** pmem2_source_numa_node */
  numaNode(): number {
    if (this.kind === 'anon')
      throw fail('PMEM2_E_NOSUPP', 'Anonymous sources are not bound to numa nodes.');
    if (this.emu !== null) return 0; // nvmemu has one NUMA node
    const nd = this.ndDevice();
    if (nd === null) throw fail('PMEM2_E_DAX_REGION_NOT_FOUND', 'unknown region');
    return Number(regionAttr(nd.region, 'numa_node') ?? '-1');
  }

  /** pmem2_source_device_usc: sum of the region's DIMM dirty_shutdown counts (§5.1). */
  deviceUsc(): bigint {
    if (this.kind === 'anon')
      throw fail('PMEM2_E_NOSUPP', 'Anonymous source does not support unsafe shutdown count');
    const msg = 'Unsafe shutdown count is not supported for this source';
    if (this.emu !== null) {
      // The count of this run of the machine: it changes only when a run ends uncleanly.
      const dimm = this.emu.region.dimm;
      if (dimm === undefined) throw fail('PMEM2_E_NOSUPP', msg);
      return BigInt(dimm.dirtyShutdown);
    }
    const nd = this.ndDevice();
    if (nd === null) throw fail('PMEM2_E_NOSUPP', msg);
    let sum = 0n;
    for (const dimm of regionDimms(nd.region)) {
      const v = dimmAttr(dimm, 'dirty_shutdown');
      if (v === null || !/^\d+$/.test(v)) throw fail('PMEM2_E_NOSUPP', msg);
      sum += BigInt(v);
    }
    return sum;
  }

  /**
   * pmem2_source_device_id: the DIMM unique ids concatenated. The C API's two modes (size query
   * with id == NULL, then fill) collapse to returning the string; the C layer re-creates both
   * modes and BUFFER_TOO_SMALL. No region → NOSUPP without a message (✔ upstream).
   */
  deviceId(): string {
    if (this.emu !== null) {
      if (this.emu.region.dimm === undefined) throw failSilently('PMEM2_E_NOSUPP');
      return this.emu.region.dimm.id;
    }
    const nd = this.kind === 'anon' ? null : this.ndDevice();
    if (nd === null) throw failSilently('PMEM2_E_NOSUPP');
    let id = '';
    for (const dimm of regionDimms(nd.region)) {
      const v = dimmAttr(dimm, 'id');
      if (v === null) throw fail('PMEM2_E_NOSUPP', 'DIMM does not provide a unique id');
      id += v;
    }
    return id;
  }

  #mcsafeCheck(op: 'read' | 'write', size: number, offset: number): void {
    if (this.kind === 'anon')
      throw fail(
        'PMEM2_E_SOURCE_TYPE_NOT_SUPPORTED',
        "operation doesn't support provided source type, only sources created from file " +
          'descriptor or file handle are supported',
      );
    const fsize = BigInt(this.size());
    const room = BigInt.asUintN(64, fsize - BigInt(offset));
    if (BigInt(size) > room)
      throw fail(
        'PMEM2_E_LENGTH_OUT_OF_RANGE',
        `size of ${op} ${size} from offset ${offset} goes beyond the file length ${room}`,
      );
  }

  /**
   * pmem2_source_pread_mcsafe. Regular files use pread (EIO → IO_FAIL). Device DAX is read
   * through a temporary mapping by the caller-facing helper in map.ts (Node cannot catch
   * SIGBUS, so a poisoned page there ends the process instead of returning IO_FAIL).
   */
  preadMcsafe(buf: Uint8Array, offset: number): void {
    this.#mcsafeCheck('read', buf.length, offset);
    this.#io(buf, offset, 'read');
  }

  /** pmem2_source_pwrite_mcsafe */
  pwriteMcsafe(buf: Uint8Array, offset: number): void {
    this.#mcsafeCheck('write', buf.length, offset);
    this.#io(buf, offset, 'write');
  }

  #io(buf: Uint8Array, offset: number, op: 'read' | 'write'): void {
    if (this.kind === 'devdax')
      throw fail('PMEM2_E_NOSUPP', `${op} of device DAX through mcsafe is not supported`);
    // Emulated poison: a read touching a bad block fails as the pmem driver's would (EIO).
    if (op === 'read' && this.emu !== null && buf.length > 0) {
      const hit = windowBadBlocks(this.emu).some(
        (b) => b.offset < offset + buf.length && offset < b.offset + b.length,
      );
      if (hit) throw fail('PMEM2_E_IO_FAIL', `pread: ${strerror(constants.errno.EIO)}`);
    }
    let done = 0;
    try {
      while (done < buf.length) {
        const n =
          op === 'read'
            ? readSync(this.fd, buf, done, buf.length - done, this.fileOffset + offset + done)
            : writeSync(this.fd, buf, done, buf.length - done, this.fileOffset + offset + done);
        if (n === 0) break;
        done += n;
      }
    } catch (e) {
      const n = errnoOf(e);
      if (n === constants.errno.EIO) throw fail('PMEM2_E_IO_FAIL', `p${op}: ${strerror(n)}`);
      throw fail(-n, `p${op}: ${strerror(n)}`);
    }
  }
}
