// mbind(2) for backends with `host-nodes`/`policy` (QEMU 7.2 host_memory_backend_memory_complete).
// glibc has no wrapper (libnuma does), so this goes through syscall(2).

import koffi from 'koffi';
import type { HostMemPolicy } from './config.js';

const libc = koffi.load('libc.so.6');
const syscall = libc.func('long syscall(long number, ...)') as (
  ...args: unknown[]
) => number | bigint;

const SYS_MBIND: Partial<Record<string, number>> = { x64: 237, arm64: 235 };
const MPOL: Record<HostMemPolicy, number> = { default: 0, preferred: 1, bind: 2, interleave: 3 };
const MPOL_MF_STRICT = 1;
const MPOL_MF_MOVE = 2;
/** MAX_NODES + 1 bits, as QEMU passes (old kernels cut off the last node). */
const MASK_BITS = 129;

/** Binds [addr, addr+len) to `nodes`; returns 0 or the errno. */
export function mbind(
  addr: bigint,
  len: number,
  policy: HostMemPolicy,
  nodes: readonly number[],
): number {
  const nr = SYS_MBIND[process.arch];
  if (nr === undefined) return 38; // ENOSYS
  const mask = new BigUint64Array(Math.ceil(MASK_BITS / 64));
  for (const n of nodes) mask[n >> 6] = (mask[n >> 6] ?? 0n) | (1n << BigInt(n & 63));
  const flags = MPOL_MF_STRICT | MPOL_MF_MOVE;
  const rc = syscall(
    nr,
    'void *',
    addr,
    'unsigned long',
    len,
    'int',
    MPOL[policy],
    'uint64_t *',
    mask,
    'unsigned long',
    MASK_BITS,
    'unsigned int',
    flags,
  );
  return Number(rc) === 0 ? 0 : koffi.errno();
}
