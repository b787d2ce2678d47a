// A seeded command fuzzer whose crashing cases are recordings (docs/record-replay.md "Fuzzing"):
// each case builds a machine on fresh zero-filled images, records it from the first command,
// and sends random admin and I/O commands through the in-process host. A case crashes when a
// command completes with Internal Error (0x006: a handler threw, or an injected fault), with a
// status outside the status table, or not at all within the deadline (Asynchronous Event
// Requests excepted: they wait by design, NVMe Base Spec 2.0 §5.2). The crashing case's
// recording is saved, so `nvmemu replay FILE` re-runs it on a fresh machine and reproduces it
// (the same completions: no divergence), and the same seed finds the same cases again.

import { mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withImagePaths } from '../config/image-paths.js';
import { parseArgs } from '../config/options.js';
import { registerAllTypes } from '../devices.js';
import { machineFaults } from '../faults/injector.js';
import { Machine } from '../machine/machine.js';
import { machineSettings } from '../machine/settings.js';
import { NvmeDevice } from '../nvme/index.js';
import { Host } from '../nvme/pci/local-host.js';
import type { CmdInit } from '../nvme/spec/command.js';
import { AdminOpc, IoOpc } from '../nvme/spec/opcodes.js';
import { isKnownStatus, statusCode } from '../nvme/spec/status.js';
import { deriveSeed, SeededRng } from '../util/rng.js';
import { Recorder } from './recorder.js';

export interface FuzzOptions {
  /** `nvmemu run` options of the machine; `file=NAME` of a declared image names it. */
  readonly argv: readonly string[];
  /** Images created zero-filled for every case (name → bytes), as in a scenario file. */
  readonly images: Readonly<Record<string, number>>;
  /** Scratch folder (one subfolder of images per case). */
  readonly dataDir: string;
  /** Where crashing cases are saved (`crash-SEED-CASE.nvrec`). */
  readonly corpus: string;
  readonly seed: number;
  readonly cases: number;
  /** Commands per case (default 32). */
  readonly commands?: number;
  /** Faults injected at the start of every case (their streams seeded from the case). */
  readonly faults?: readonly Readonly<Record<string, unknown>>[];
  /** How long a command may take before the case counts as a crash (default 2000 ms). */
  readonly deadlineMs?: number;
  /** The nvmemu version written in the recordings. */
  readonly version?: string;
}

export interface FuzzCrash {
  readonly case: number;
  /** The case's own seed (its commands and its faults' streams). */
  readonly seed: number;
  readonly file: string;
  /** The crashing command's number in the recording (1-based, file order). */
  readonly command: number;
  readonly reason: string;
}

export interface FuzzReport {
  readonly cases: number;
  readonly commands: number;
  readonly crashes: readonly FuzzCrash[];
}

/** Opcodes the generator favours (the rest of the byte range is drawn too). */
const ADMIN_OPS: readonly number[] = [
  AdminOpc.GET_LOG_PAGE,
  AdminOpc.IDENTIFY,
  AdminOpc.SET_FEATURES,
  AdminOpc.GET_FEATURES,
  AdminOpc.ABORT,
  AdminOpc.NS_MANAGEMENT,
  AdminOpc.NS_ATTACHMENT,
  AdminOpc.KEEP_ALIVE,
  AdminOpc.DIRECTIVE_RECV,
  AdminOpc.FORMAT_NVM,
];
/**
 * Admin opcodes never drawn: they take away what the host drives the case with (its I/O queue
 * pair, its doorbells, the controller's resources), which ends the case without telling
 * anything about the device.
 */
const HOST_OWNED: ReadonlySet<number> = new Set([
  AdminOpc.DELETE_SQ,
  AdminOpc.CREATE_SQ,
  AdminOpc.DELETE_CQ,
  AdminOpc.CREATE_CQ,
  AdminOpc.VIRT_MNGMT,
  AdminOpc.DBBUF_CONFIG,
]);
const IO_OPS: readonly number[] = [
  IoOpc.READ,
  IoOpc.WRITE,
  IoOpc.FLUSH,
  0x04, // Write Uncorrectable
  0x05, // Compare
  0x08, // Write Zeroes
  0x09, // Dataset Management
  0x0c, // Verify
  0x19, // Copy
];
const AER = AdminOpc.ASYNC_EVENT_REQ;
const SIZES = [0, 512, 4096, 8192];

/** One random command: queue, SQE fields, data buffer length. */
function randomCommand(rng: SeededRng): { sqid: number; init: CmdInit; len: number } {
  const admin = rng.below(4) === 0;
  const ops = admin ? ADMIN_OPS : IO_OPS;
  let opcode = rng.below(5) === 0 ? rng.below(256) : ops[rng.below(ops.length)]!;
  if (admin && HOST_OWNED.has(opcode)) opcode = AdminOpc.IDENTIFY;
  const small = (n: number): number => (rng.below(3) === 0 ? rng.nextU32() : rng.below(n));
  const nsids = [0, 1, 1, 1, 2, 0xffff_ffff];
  return {
    sqid: admin ? 0 : 1,
    init: {
      opcode,
      nsid: rng.below(8) === 0 ? rng.nextU32() : nsids[rng.below(nsids.length)]!,
      cdw10: small(64),
      cdw11: small(4),
      cdw12: small(16),
      cdw13: small(4),
      cdw14: small(4),
      cdw15: small(4),
    },
    len: SIZES[rng.below(SIZES.length)]!,
  };
}

/** Runs `cases` cases; saves each crashing one as a recording in `corpus`. */
export async function fuzzMachine(o: FuzzOptions): Promise<FuzzReport> {
  registerAllTypes();
  mkdirSync(o.corpus, { recursive: true });
  const crashes: FuzzCrash[] = [];
  let commands = 0;
  for (let k = 0; k < o.cases; k++) {
    const seed = deriveSeed(o.seed, `case ${k}`);
    const r = await fuzzCase(o, k, seed);
    commands += r.commands;
    if (r.crash !== undefined) crashes.push(r.crash);
  }
  return { cases: o.cases, commands, crashes };
}

async function fuzzCase(
  o: FuzzOptions,
  k: number,
  seed: number,
): Promise<{ commands: number; crash?: FuzzCrash }> {
  const dir = join(o.dataDir, `case-${k}`);
  mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of Object.entries(o.images)) {
    writeFileSync(join(dir, name), '');
    truncateSync(join(dir, name), bytes);
  }
  const argv = withImagePaths(o.argv, o.images, dir);
  const args = parseArgs(argv);
  const machine = await Machine.create(args.items, {
    settings: machineSettings(args),
    dataDir: dir,
    warn: () => undefined,
  });
  const injector = machineFaults(machine, { seed });
  const rec = new Recorder(machine, injector, {
    argv,
    data: 'whole',
    ...(o.version !== undefined ? { version: o.version } : {}),
  });
  const rng = new SeededRng(seed);
  let sent = 0;
  let reason: string | undefined;
  try {
    const dev = machine.components().find((c): c is NvmeDevice => c instanceof NvmeDevice);
    if (dev === undefined) throw new Error('the fuzzed machine has no nvme controller');
    for (const f of o.faults ?? []) injector.inject(f);
    const h = new Host(dev.controller);
    h.enable();
    await h.createIoQueues(1, 64);
    const n = o.commands ?? 32;
    for (let i = 0; i < n && reason === undefined; i++) {
      const c = randomCommand(rng);
      sent++;
      reason = await send(h, c, o.deadlineMs ?? 2000);
    }
  } finally {
    rec.stop();
    injector.clear();
    if (machine.state === 'running') await machine.shutdown();
  }
  if (reason === undefined) return { commands: sent };
  const file = join(o.corpus, `crash-${o.seed}-${k}.nvrec`);
  writeFileSync(file, rec.bytes());
  // The recording's commands: the two queue-creating admin commands, then the case's.
  const crash = { case: k, seed, file, command: 2 + sent, reason };
  return { commands: sent, crash };
}

/** Sends one command; returns why it is a crash, or undefined. */
async function send(
  h: Host,
  c: { sqid: number; init: CmdInit; len: number },
  deadlineMs: number,
): Promise<string | undefined> {
  const what = `${c.sqid === 0 ? 'admin' : 'I/O'} opcode 0x${c.init.opcode.toString(16)}`;
  const before = h.ctrl.internalErrors;
  const done = h.command(c.sqid, c.init, c.len === 0 ? undefined : new Uint8Array(c.len));
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), deadlineMs)));
  try {
    const cqe = await Promise.race([done, late]);
    if (cqe === undefined) {
      done.catch(() => undefined);
      // An Asynchronous Event Request completes only when an event happens.
      return c.sqid === 0 && c.init.opcode === AER
        ? undefined
        : `${what}: no completion within ${deadlineMs} ms`;
    }
    if (statusCode(cqe.status) === 0x006) {
      return `${what}: Internal Error${h.ctrl.internalErrors > before ? ' (a handler threw)' : ''}`;
    }
    if (!isKnownStatus(cqe.status)) {
      return `${what}: status 0x${cqe.status.toString(16)} is not in the status table`;
    }
    return undefined;
  } catch (e) {
    return `${what}: the host failed: ${(e as Error).message}`;
  } finally {
    clearTimeout(timer);
  }
}
