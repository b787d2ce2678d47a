// The few libc calls Node lacks (DESIGN.md "Dependencies"): mmap, munmap, msync, madvise,
// fallocate, mkstemp, flock (state files shared by processes), and for libpmem2 fcntl(F_GETFL), mprotect, ioctl and sysconf. Pointers are bigints (koffi returns `void *` as a bigint address), so
// pointer arithmetic for msync/madvise of sub-ranges is plain bigint addition.
//
// Every failing call becomes a HostCallError carrying errno, the syscall name and the
// strerror() text, so callers can word QEMU's messages ("...: No such file or directory").

import koffi from 'koffi';
import { EmuError, ErrorCode } from '../util/errors.js';

const libc = koffi.load('libc.so.6');

type Ptr = bigint;
const mmap_ = libc.func(
  'void *mmap(void *addr, size_t len, int prot, int flags, int fd, int64_t off)',
) as (addr: Ptr | null, len: number, prot: number, flags: number, fd: number, off: number) => Ptr;
const munmap_ = libc.func('int munmap(void *addr, size_t len)') as (
  addr: Ptr,
  len: number,
) => number;
const msync_ = libc.func('int msync(void *addr, size_t len, int flags)') as (
  addr: Ptr,
  len: number,
  flags: number,
) => number;
const madvise_ = libc.func('int madvise(void *addr, size_t len, int advice)') as (
  addr: Ptr,
  len: number,
  advice: number,
) => number;
const fallocate_ = libc.func('int fallocate(int fd, int mode, int64_t off, int64_t len)') as (
  fd: number,
  mode: number,
  off: number,
  len: number,
) => number;
const mkstemp_ = libc.func('int mkstemp(char *template)') as (template: Buffer) => number;
const strerror_ = libc.func('const char *strerror(int errnum)') as (errnum: number) => string;
const fcntl_ = libc.func('int fcntl(int fd, int cmd, ...)') as (fd: number, cmd: number) => number;
const mprotect_ = libc.func('int mprotect(void *addr, size_t len, int prot)') as (
  addr: Ptr,
  len: number,
  prot: number,
) => number;
const ioctl_ = libc.func('int ioctl(int fd, unsigned long req, ...)') as (
  fd: number,
  req: number,
  argType: string,
  arg: Uint8Array,
) => number;
const sysconf_ = libc.func('long sysconf(int name)') as (name: number) => number;
const flock_ = libc.func('int flock(int fd, int op)') as (fd: number, op: number) => number;

// Linux x86-64 / aarch64 values (asm-generic/mman-common.h, linux/mman.h, linux/falloc.h).
export const PROT_READ = 0x1;
export const PROT_WRITE = 0x2;
export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_SHARED_VALIDATE = 0x03;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_NORESERVE = 0x4000;
export const MAP_SYNC = 0x80000;
export const MS_SYNC = 4;
export const MADV_DONTNEED = 4;
export const MADV_REMOVE = 9;
export const MADV_MERGEABLE = 12;
export const MADV_DONTDUMP = 16;
export const MADV_POPULATE_READ = 22;
export const MADV_POPULATE_WRITE = 23;
export const FALLOC_FL_KEEP_SIZE = 0x01;
export const FALLOC_FL_PUNCH_HOLE = 0x02;
export const EOPNOTSUPP = 95;
export const EINVAL = 22;
export const PROT_EXEC = 0x4;
export const MAP_FIXED_NOREPLACE = 0x100000;
export const F_GETFL = 3;
export const O_ACCMODE = 0o3;
export const O_WRONLY = 0o1;
/** _IOWR('f', 11, struct fiemap) with sizeof(struct fiemap) == 32 (linux/fs.h, linux/fiemap.h). */
export const FS_IOC_FIEMAP = 0xc020660b;

const MAP_FAILED = 0xffff_ffff_ffff_ffffn;

/** A libc call failed; `errno` is the raw number, `message` ends with strerror(errno). */
export class HostCallError extends EmuError {
  readonly errno: number;
  readonly syscall: string;
  constructor(syscall: string, errno: number, what?: string) {
    super(ErrorCode.EMU_ERR_BACKEND_IO, `${what ?? syscall}: ${strerror(errno)}`);
    this.errno = errno;
    this.syscall = syscall;
  }
}

export function strerror(errnum: number): string {
  return strerror_(errnum);
}

export function errno(): number {
  return koffi.errno();
}

/** mmap; returns the address or throws HostCallError (never returns MAP_FAILED). */
export function mmap(
  len: number,
  prot: number,
  flags: number,
  fd: number,
  off: number,
  at?: Ptr,
): Ptr {
  const p = mmap_(at ?? null, len, prot, flags, fd, off);
  if (p === MAP_FAILED) throw new HostCallError('mmap', errno());
  return p;
}

export function munmap(addr: Ptr, len: number): void {
  if (munmap_(addr, len) !== 0) throw new HostCallError('munmap', errno());
}

export function msync(addr: Ptr, len: number): void {
  if (msync_(addr, len, MS_SYNC) !== 0) throw new HostCallError('msync', errno());
}

/** madvise; returns 0 or the errno (advice is best effort for most callers). */
export function madvise(addr: Ptr, len: number, advice: number): number {
  return madvise_(addr, len, advice) === 0 ? 0 : errno();
}

/** fallocate; returns 0 or the errno. */
export function fallocate(fd: number, mode: number, off: number, len: number): number {
  return fallocate_(fd, mode, off, len) === 0 ? 0 : errno();
}

/** mkstemp: creates a unique file from `template` (ending in XXXXXX); returns fd and name. */
export function mkstemp(template: string): { fd: number; path: string } {
  const buf = Buffer.from(template + '\0', 'utf8');
  const fd = mkstemp_(buf);
  if (fd < 0) throw new HostCallError('mkstemp', errno());
  return { fd, path: buf.subarray(0, buf.length - 1).toString('utf8') };
}

/** An ArrayBuffer aliasing `len` bytes of memory at `addr` (no copy). */
export function view(addr: Ptr, len: number): ArrayBuffer {
  return koffi.view(addr, len);
}

/** fcntl(fd, F_GETFL): the file status flags, or -errno. */
export function getFileFlags(fd: number): number {
  const r = fcntl_(fd, F_GETFL);
  return r < 0 ? -errno() : r;
}

/** mprotect; 0 or -errno. */
export function mprotect(addr: Ptr, len: number, prot: number): number {
  return mprotect_(addr, len, prot) === 0 ? 0 : -errno();
}

/** ioctl with a byte buffer argument (struct in/out); 0 or -errno. */
export function ioctlBuf(fd: number, req: number, buf: Uint8Array): number {
  return ioctl_(fd, req, 'uint8_t *', buf) < 0 ? -errno() : 0;
}

/** flock(2) operations (sys/file.h). */
export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;
export const EWOULDBLOCK = 11;

/**
 * flock(2): an advisory lock of the whole file, held by the open file description (released
 * when it is closed or the process dies). 0 or the errno (EWOULDBLOCK with LOCK_NB when held).
 */
export function flock(fd: number, op: number): number {
  return flock_(fd, op) === 0 ? 0 : errno();
}

/** sysconf(_SC_PAGESIZE). */
export const PAGE_SIZE: number = sysconf_(30);
