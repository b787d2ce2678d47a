// The data-folder lock of `nvmemu run`: one machine per data folder. Two machines on one
// folder would share images, zone journals, the pmem state folder and `qmp.sock` (the second
// would unlink the first's socket and take its monitor). The lock is a file holding the
// owner's PID, created with O_EXCL; a lock whose process is gone (or whose PID now belongs to a
// program that is not node) is stale and taken over.

import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { EmuError, ErrorCode } from '../util/errors.js';

export const LOCK_FILE = 'nvmemu.lock';

/** A held lock. */
export interface DataLock {
  readonly path: string;
  /** Removes the lock file if it is still ours. Idempotent. */
  release(): void;
}

/** Raised when another live machine holds the folder (code EMU_ERR_STATE). */
export class DataFolderLocked extends EmuError {
  readonly pid: number;
  readonly folder: string;
  constructor(folder: string, pid: number) {
    super(
      ErrorCode.EMU_ERR_STATE,
      `data folder ${folder} is in use by another nvmemu (PID ${pid})\n` +
        `  stop that machine first (nvmemu monitor ${join(folder, 'qmp.sock')}, then 'quit'),` +
        ` or give this one its own folder with --data DIR`,
    );
    this.pid = pid;
    this.folder = folder;
  }
}

/** Whether `pid` is a live process that may be an nvmemu (node) process. */
export function holderAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    // EPERM: alive but another user's.
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // A recycled PID: on Linux the command line tells whether it is still a node program.
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
    return /node|nvmemu/.test(cmdline);
  } catch {
    return true;
  }
}

function readHolder(path: string): number {
  try {
    return Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
  } catch {
    return Number.NaN;
  }
}

/**
 * Takes the lock of `folder` (which exists) for this process. Throws DataFolderLocked naming
 * the holder when a live process has it; takes a stale lock over.
 */
export function lockDataFolder(folder: string): DataLock {
  const path = join(folder, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o644);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = readHolder(path);
      if (holderAlive(pid)) throw new DataFolderLocked(folder, pid);
      // Stale: its machine died without cleaning up. Another starter racing for the same
      // stale lock either wins the O_EXCL create below or sees ours and stops.
      unlinkSync(path);
      continue;
    }
    try {
      writeSync(fd, `${process.pid}\n`);
    } finally {
      closeSync(fd);
    }
    let held = true;
    return {
      path,
      release() {
        if (!held) return;
        held = false;
        if (readHolder(path) === process.pid) unlinkSync(path);
      },
    };
  }
  throw new DataFolderLocked(folder, readHolder(path));
}
