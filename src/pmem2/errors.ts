// libpmem2 error model (pmdk.md §1.2 "Errors", §1.4, §11 items 1–2).
//
// C functions return 0 or a negative code: a PMEM2_E_* value (≤ -100000) or -errno. The TS API
// throws Pmem2Error whose `code` is PMDK's constant name ('PMEM2_E_LENGTH_UNALIGNED', or the errno
// name such as 'EACCES') and whose `errno` is the negative number the C function would return.
//
// pmem2_errormsg() is per thread in C and never cleared by the release library: a failure that
// logs nothing leaves the previous, unrelated text in place. A JS module instance is per isolate
// (worker threads get their own), so a module-level variable has the same scope as C's TLS.

import { constants } from 'node:os';
import { EmuError } from '../util/errors.js';
import { log } from './env.js';

/** PMEM2_E_* values from libpmem2/base.h (pmdk.md §1.4); -100002 is unassigned upstream. */
export const PMEM2_E = {
  PMEM2_E_UNKNOWN: -100000,
  PMEM2_E_NOSUPP: -100001,
  PMEM2_E_FILE_HANDLE_NOT_SET: -100003,
  PMEM2_E_INVALID_FILE_HANDLE: -100004,
  PMEM2_E_INVALID_FILE_TYPE: -100005,
  PMEM2_E_MAP_RANGE: -100006,
  PMEM2_E_MAPPING_EXISTS: -100007,
  PMEM2_E_GRANULARITY_NOT_SET: -100008,
  PMEM2_E_GRANULARITY_NOT_SUPPORTED: -100009,
  PMEM2_E_OFFSET_OUT_OF_RANGE: -100010,
  PMEM2_E_OFFSET_UNALIGNED: -100011,
  PMEM2_E_INVALID_ALIGNMENT_FORMAT: -100012,
  PMEM2_E_INVALID_ALIGNMENT_VALUE: -100013,
  PMEM2_E_INVALID_SIZE_FORMAT: -100014,
  PMEM2_E_LENGTH_UNALIGNED: -100015,
  PMEM2_E_MAPPING_NOT_FOUND: -100016,
  PMEM2_E_BUFFER_TOO_SMALL: -100017,
  PMEM2_E_SOURCE_EMPTY: -100018,
  PMEM2_E_INVALID_SHARING_VALUE: -100019,
  PMEM2_E_SRC_DEVDAX_PRIVATE: -100020,
  PMEM2_E_INVALID_ADDRESS_REQUEST_TYPE: -100021,
  PMEM2_E_ADDRESS_UNALIGNED: -100022,
  PMEM2_E_ADDRESS_NULL: -100023,
  PMEM2_E_DEEP_FLUSH_RANGE: -100024,
  PMEM2_E_INVALID_REGION_FORMAT: -100025,
  PMEM2_E_DAX_REGION_NOT_FOUND: -100026,
  PMEM2_E_INVALID_DEV_FORMAT: -100027,
  PMEM2_E_CANNOT_READ_BOUNDS: -100028,
  PMEM2_E_NO_BAD_BLOCK_FOUND: -100029,
  PMEM2_E_LENGTH_OUT_OF_RANGE: -100030,
  PMEM2_E_INVALID_PROT_FLAG: -100031,
  PMEM2_E_NO_ACCESS: -100032,
  PMEM2_E_VM_RESERVATION_NOT_EMPTY: -100033,
  PMEM2_E_MAP_EXISTS: -100034,
  PMEM2_E_FILE_DESCRIPTOR_NOT_SET: -100035,
  PMEM2_E_SOURCE_TYPE_NOT_SUPPORTED: -100036,
  PMEM2_E_IO_FAIL: -100037,
} as const;

/** A PMEM2_E_* error name. */
export type Pmem2Code = keyof typeof PMEM2_E;

const byValue = new Map<number, string>(Object.entries(PMEM2_E).map(([k, v]) => [v, k]));
const errnoNames = new Map<number, string>(
  Object.entries(constants.errno).map(([k, v]) => [v, k] as [number, string]),
);

/** Name for a negative return value: the PMEM2_E_* constant or the errno name ('EACCES'). */
export function codeName(ret: number): string {
  return byValue.get(ret) ?? errnoNames.get(-ret) ?? `E${-ret}`;
}

/** A failed libpmem2 call. `errno` is the C return value (always negative). */
export class Pmem2Error extends EmuError {
  /** The C return value (negative errno or PMEM2_E_* value). */
  readonly errno: number;
  constructor(errno: number, message: string) {
    super(codeName(errno), message);
    this.errno = errno;
  }
}

let lastMessage = '';

/** pmem2_errormsg(): the calling thread's last error text (sticky, never cleared). */
export function errormsg(): string {
  return lastMessage;
}

/** Record `message` as the thread's error text and build the error (the ERR() path). */
export function fail(ret: Pmem2Code | number, message: string): Pmem2Error {
  const n = typeof ret === 'number' ? ret : PMEM2_E[ret];
  lastMessage = message;
  log(1, codeName(n), message);
  return new Pmem2Error(n, message);
}

/**
 * A failure that upstream reports without setting a message (e.g. source_from_fd(-1), or a char
 * device that is not devdax): errormsg() keeps the previous text (pmdk.md §1.2, ✔ verified).
 */
export function failSilently(ret: Pmem2Code | number): Pmem2Error {
  const n = typeof ret === 'number' ? ret : PMEM2_E[ret];
  return new Pmem2Error(n, lastMessage);
}

/**
 * pmem2_perror(format, ...): "prefix: message\n" on stderr. The prefix is already formatted by
 * the caller (printf formatting has no TS equivalent worth imitating; use template strings).
 */
export function perror(
  prefix: string,
  write: (s: string) => void = (s) => process.stderr.write(s),
): void {
  write(`${prefix}: ${lastMessage}\n`);
}

/** pmem2_err_to_errno (header-only upstream): NOSUPP → ENOTSUP, other PMEM2_E_* → EINVAL. */
export function errToErrno(err: number): number {
  if (err > 0) throw new RangeError(`pmem2_err_to_errno: positive error ${err}`);
  if (err === PMEM2_E.PMEM2_E_NOSUPP) return constants.errno.ENOTSUP;
  if (err <= PMEM2_E.PMEM2_E_UNKNOWN) return constants.errno.EINVAL;
  return -err;
}

/** The C-layer wrapper: run `fn`, return 0 or the thrown Pmem2Error's number. */
export function toRet(fn: () => void): number {
  try {
    fn();
    return 0;
  } catch (e) {
    if (e instanceof Pmem2Error) return e.errno;
    throw e;
  }
}
