// file_ram_open + the ftruncate of file_ram_alloc (QEMU 7.2 system/physmem.c): opening,
// creating or extending the backing file of a memory-backend-file, with undo actions for every
// host change (a file we created is deleted on rollback, a file we extended is truncated back).

import {
  closeSync,
  fstatSync,
  ftruncateSync,
  openSync,
  readlinkSync,
  truncateSync,
  unlinkSync,
} from 'node:fs';
import { constants as osConstants } from 'node:os';
import { EmuError, ErrorCode } from '../util/errors.js';
import { toSafeNumber } from '../util/u64.js';
import type { BackendPlan } from './config.js';
import * as libc from './libc.js';

/** A host-side failure while realizing or using a backend; `message` is QEMU's wording. */
export class BackendIoError extends EmuError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.EMU_ERR_BACKEND_IO, message, options);
  }
}

function errnoOf(e: unknown): number {
  const code = (e as { code?: unknown }).code;
  const n =
    typeof code === 'string' ? (osConstants.errno as Record<string, number>)[code] : undefined;
  return n ?? 5; // EIO
}

export function linkOf(fd: number): string {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return '';
  }
}

/** file_ram_open + the ftruncate of file_ram_alloc; registers undo for what it changed. */
export function openBackingFile(
  plan: BackendPlan,
  hooks: { readonly onRollback?: (undo: () => void) => void },
): number {
  const file = plan.file;
  if (file === undefined) throw new Error('openBackingFile without a file');
  const cantOpen = (e: unknown): BackendIoError =>
    new BackendIoError(
      `can't open backing store ${file.path} for guest RAM: ${libc.strerror(errnoOf(e))}`,
      { cause: e },
    );
  const ro = plan.readonly;
  let fd: number;
  let created = false;
  try {
    switch (file.target.kind) {
      case 'existing':
      case 'device':
        fd = openSync(file.absPath, ro ? 'r' : 'r+');
        break;
      case 'create':
        fd = openSync(file.absPath, 'wx+', 0o644);
        created = true;
        hooks.onRollback?.(() => unlinkSync(file.absPath));
        break;
      case 'temp-in-dir': {
        // QEMU names it after the sanitized canonical path of the memory region.
        const t = libc.mkstemp(
          `${file.absPath}/qemu_back_mem._objects_${plan.id.replaceAll('/', '_')}.XXXXXX`,
        );
        unlinkSync(t.path);
        fd = t.fd;
        created = true;
        break;
      }
    }
  } catch (e) {
    throw cantOpen(e);
  }
  if (file.target.kind === 'device') return fd;
  const size = fstatSync(fd, { bigint: true }).size;
  const need = plan.offset + plan.mapSize;
  if (size === 0n) {
    // Only a zero-length file is extended (never an existing non-empty one: labels at its end).
    try {
      ftruncateSync(fd, toSafeNumber(need, 'size'));
    } catch (e) {
      closeSync(fd);
      throw new BackendIoError(
        `backing store size 0x0 does not match 'size' option 0x${plan.mapSize.toString(16)}`,
        { cause: e },
      );
    }
    if (!created) hooks.onRollback?.(() => truncateSync(file.absPath, 0));
  } else if (size < need) {
    // The file shrank between check and realize.
    closeSync(fd);
    throw new BackendIoError(
      `backing store size 0x${size.toString(16)} does not match 'size' option 0x${plan.mapSize.toString(16)}`,
    );
  }
  return fd;
}
