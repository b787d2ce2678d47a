// libc calls libpmem2 needs beyond src/memory/libc.ts (which covers mmap, munmap, msync, madvise,
// fallocate, strerror): fcntl(F_GETFL) for fd validation, mprotect for the flush kernels, and
// ioctl(FS_IOC_FIEMAP) for bad-block extents (pmdk.md §1.2 source_from_fd, §4).
// Kept separate so the lead can fold them into src/memory/libc.ts later.

import koffi from 'koffi';
import { errno as lastErrno } from '../memory/libc.js';

const libc = koffi.load('libc.so.6');

const fcntl_ = libc.func('int fcntl(int fd, int cmd, ...)') as (fd: number, cmd: number) => number;
const mprotect_ = libc.func('int mprotect(void *addr, size_t len, int prot)') as (
  addr: bigint,
  len: number,
  prot: number,
) => number;
const ioctl_ = libc.func('int ioctl(int fd, unsigned long req, ...)') as (
  fd: number,
  req: number,
  argType: string,
  arg: Uint8Array,
) => number;

export const F_GETFL = 3;
export const O_ACCMODE = 0o3;
export const O_WRONLY = 0o1;
export const PROT_EXEC = 0x4;
export const MAP_FIXED_NOREPLACE = 0x100000;
/** _IOWR('f', 11, struct fiemap) with sizeof(struct fiemap) == 32 (linux/fs.h, linux/fiemap.h). */
export const FS_IOC_FIEMAP = 0xc020660b;

/** fcntl(fd, F_GETFL): flags, or -errno. */
export function getFileFlags(fd: number): number {
  const r = fcntl_(fd, F_GETFL);
  return r < 0 ? -lastErrno() : r;
}

/** mprotect; 0 or -errno. */
export function mprotect(addr: bigint, len: number, prot: number): number {
  return mprotect_(addr, len, prot) === 0 ? 0 : -lastErrno();
}

/** ioctl with a byte buffer argument (struct in/out); 0 or -errno. */
export function ioctlBuf(fd: number, req: number, buf: Uint8Array): number {
  return ioctl_(fd, req, 'uint8_t *', buf) < 0 ? -lastErrno() : 0;
}

const sysconf_ = libc.func('long sysconf(int name)') as (name: number) => number;
/** sysconf(_SC_PAGESIZE). */
export const PAGE_SIZE: number = sysconf_(30);
