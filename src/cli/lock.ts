// The data-folder lock of `nvmemu run`: one machine per data folder. Two machines on one
// folder would share images, zone journals, the pmem state folder and `qmp.sock` (the second
// would unlink the first's socket and take its monitor). The lock is a file holding the
// owner's PID, created with O_EXCL; a lock whose process is gone (or whose PID now belongs to a
// program that is not node) is stale and taken over.

import {
  appendFileSync,
  closeSync,
  openSync,
  readdirSync,
  readFileSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
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

/** The lock file of instance `name` (`run --instance NAME`, docs/multipath.md). */
export function instanceLockFile(name: string): string {
  return `nvmemu-${name}.lock`;
}

/** The live instances of `folder` other than `self`: name and PID. */
function liveInstances(folder: string, self?: string): { name: string; pid: number }[] {
  const out: { name: string; pid: number }[] = [];
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return out;
  }
  for (const f of names) {
    const m = /^nvmemu-(.+)\.lock$/.exec(f);
    if (m === null || m[1] === self) continue;
    const pid = readHolder(join(folder, f));
    if (holderAlive(pid)) out.push({ name: m[1]!, pid });
  }
  return out;
}

/** Raised when plain runs and instances would share a folder (code EMU_ERR_STATE). */
class MixedUse extends EmuError {
  constructor(message: string) {
    super(ErrorCode.EMU_ERR_STATE, message);
  }
}

/**
 * Takes the lock of `folder` (which exists) for this process. Throws DataFolderLocked naming
 * the holder when a live process has it; takes a stale lock over. With `instance`, this process
 * is one of several serving the folder (`run --instance NAME`): it takes `nvmemu-NAME.lock`,
 * and refuses a folder a plain run holds (and a plain run refuses a folder instances serve).
 */
export function lockDataFolder(folder: string, instance?: string): DataLock {
  if (instance !== undefined) {
    const plain = readHolder(join(folder, LOCK_FILE));
    if (holderAlive(plain)) {
      throw new MixedUse(
        `data folder ${folder} is in use by an nvmemu without --instance (PID ${plain})\n` +
          '  only processes that all give --instance NAME may share a data folder',
      );
    }
  } else {
    const [other] = liveInstances(folder);
    if (other !== undefined) {
      throw new MixedUse(
        `data folder ${folder} is served by nvmemu --instance ${other.name} (PID ${other.pid})\n` +
          '  give this one --instance NAME too (docs/multipath.md), or its own folder with --data DIR',
      );
    }
  }
  const path = join(folder, instance === undefined ? LOCK_FILE : instanceLockFile(instance));
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

/** A subsystem's controller ID range in one instance. */
export interface CntlidClaim {
  readonly nqn: string;
  readonly min: number;
  readonly max: number;
}

/** The claims recorded in an instance's lock file (lines `cntlid NQN MIN MAX`). */
function claimsOf(path: string): CntlidClaim[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').flatMap((line) => {
    const m = /^cntlid (\S+) (\d+) (\d+)$/.exec(line);
    return m === null ? [] : [{ nqn: m[1]!, min: Number(m[2]), max: Number(m[3]) }];
  });
}

/**
 * Records this instance's controller ID ranges in its lock file after checking them against
 * every other live instance of the folder: two processes serving one NQN are two paths only
 * with distinct controller IDs (Linux refuses a second controller with an ID in use). Throws
 * naming the other instance and the fix.
 */
export function claimCntlids(
  lock: DataLock,
  folder: string,
  instance: string,
  claims: readonly CntlidClaim[],
): void {
  for (const other of liveInstances(folder, instance)) {
    for (const theirs of claimsOf(join(folder, instanceLockFile(other.name)))) {
      const mine = claims.find(
        (c) => c.nqn === theirs.nqn && c.min <= theirs.max && theirs.min <= c.max,
      );
      if (mine === undefined) continue;
      throw new MixedUse(
        `controller IDs ${mine.min}-${mine.max} of ${mine.nqn} overlap ${theirs.min}-${theirs.max} ` +
          `of --instance ${other.name} (PID ${other.pid})\n` +
          '  give each process its own range: -device nvme-subsys,...,cntlid-min=N,cntlid-max=M',
      );
    }
  }
  appendFileSync(lock.path, claims.map((c) => `cntlid ${c.nqn} ${c.min} ${c.max}\n`).join(''));
}
