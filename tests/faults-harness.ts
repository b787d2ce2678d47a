// Shared setup of the fault and power-cut tests: a small machine in a temporary folder, an
// in-process host with one I/O queue pair, and read/write helpers that return the status.

import { existsSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from '../src/config/options.js';
import { Machine } from '../src/machine/machine.js';
import { machineSettings } from '../src/machine/settings.js';
import { registerAllTypes } from '../src/devices.js';
import { NvmeDevice } from '../src/nvme/index.js';
import { Host } from '../src/nvme/pci/local-host.js';
import type { Controller } from '../src/nvme/ctrl/controller.js';
import { IoOpc } from '../src/nvme/spec/opcodes.js';
import type { Namespace } from '../src/nvme/ns/namespace.js';

export const BLOCK = 512;

export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `nvmemu-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A machine with one controller `nvme0` (subsystem `subsys0`) and namespace `ns1` over a
 * `sizeKiB` image; `extraNs` adds more `-device` options (drives are created as needed).
 */
export async function nvmeMachine(
  dir: string,
  opts: {
    sizeKiB?: number;
    ns?: string;
    extra?: readonly string[];
    images?: readonly string[];
  } = {},
): Promise<Machine> {
  registerAllTypes();
  const size = (opts.sizeKiB ?? 256) * 1024;
  for (const img of ['d0.img', ...(opts.images ?? [])]) {
    // Sparse images of `size` bytes (kept when they exist: restarts reuse them).
    const path = join(dir, img);
    if (!existsSync(path)) {
      writeFileSync(path, new Uint8Array(0));
      truncateSync(path, size);
    }
  }
  const args = parseArgs([
    '-drive',
    `file=${join(dir, 'd0.img')},if=none,id=d0,format=raw`,
    '-device',
    'nvme-subsys,id=subsys0,nqn=subsys0',
    '-device',
    'nvme,id=nvme0,serial=faults0,subsys=subsys0',
    '-device',
    `nvme-ns,id=ns1,drive=d0,nsid=1${opts.ns ?? ''}`,
    ...(opts.extra ?? []),
  ]);
  return Machine.create(args.items, { settings: machineSettings(args), dataDir: dir });
}

export function controllerOf(m: Machine, id = 'nvme0'): Controller {
  const d = m.component(id);
  if (!(d instanceof NvmeDevice)) throw new Error(`${id} is not an nvme device`);
  return d.controller;
}

export function namespaceOf(m: Machine, id = 'ns1'): Namespace {
  return m.component(id) as Namespace;
}

/** Enables the controller and creates one I/O queue pair. */
export async function hostOf(m: Machine, id = 'nvme0'): Promise<Host> {
  const h = new Host(controllerOf(m, id));
  h.enable();
  await h.createIoQueues(1, 64);
  return h;
}

/** A block filled with a recognisable pattern. */
export function pattern(lba: number, gen: number, nlb = 1): Uint8Array {
  const b = new Uint8Array(nlb * BLOCK);
  for (let i = 0; i < b.length; i += 4) {
    const v = ((lba + Math.floor(i / BLOCK)) * 65537 + gen * 257 + i) >>> 0;
    b[i] = v & 0xff;
    b[i + 1] = (v >>> 8) & 0xff;
    b[i + 2] = (v >>> 16) & 0xff;
    b[i + 3] = gen & 0xff;
  }
  return b;
}

export async function write(
  h: Host,
  lba: number,
  data: Uint8Array,
  opts: { fua?: boolean; nsid?: number; sqid?: number } = {},
): Promise<number> {
  const nlb = data.length / BLOCK;
  const cqe = await h.command(
    opts.sqid ?? 1,
    {
      opcode: IoOpc.WRITE,
      nsid: opts.nsid ?? 1,
      cdw10: lba,
      cdw12: (nlb - 1) | (opts.fua === true ? 1 << 30 : 0),
    },
    data,
  );
  return cqe.status;
}

export async function read(
  h: Host,
  lba: number,
  nlb = 1,
  nsid = 1,
): Promise<{ status: number; data: Uint8Array }> {
  const buf = new Uint8Array(nlb * BLOCK);
  const cqe = await h.command(1, { opcode: IoOpc.READ, nsid, cdw10: lba, cdw12: nlb - 1 }, buf);
  return { status: cqe.status, data: buf };
}

export async function flush(h: Host, nsid = 1): Promise<number> {
  return (await h.command(1, { opcode: IoOpc.FLUSH, nsid })).status;
}
