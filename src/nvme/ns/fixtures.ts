// Test fixtures for namespaces: temporary raw images, a configuration with QEMU's defaults,
// a recording ControllerView and command contexts over in-memory buffers.

import { hostIdentity } from '../spec/host-id.js';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Drive, type DriveAio } from '../../block/drive.js';
import type { Planned } from '../../machine/registry.js';
import { makeCmd, type CmdInit } from '../spec/command.js';
import { bufferData, NO_DATA } from '../spec/transfer.js';
import type { CommandContext, ControllerView } from '../spec/namespace-api.js';
import type { NvmeNsConfig } from './config.js';
import { Namespace, type NamespaceOptions } from './namespace.js';
import { defaultDiscardGranularity } from './lbaf.js';

export const MIB = 1024 * 1024;

const CONTROLLER: Planned = {
  kind: 'device',
  typeName: 'nvme',
  id: 'c1',
  location: '-device nvme,serial=x,id=c1',
  config: undefined,
};

/** A configuration as `-device nvme-ns,drive=d` gives it, with `over` applied. */
export function nsConfig(size: bigint, over: Partial<NvmeNsConfig> = {}): NvmeNsConfig {
  const lbaSize = over.lbaSize ?? 512;
  const ms = over.ms ?? 0;
  return {
    id: undefined,
    drive: { id: 'd', file: '', readOnly: false, size },
    controller: CONTROLLER,
    inSubsystem: false,
    requestedNsid: 0,
    nsid: 1,
    shared: false,
    detached: false,
    uuid: undefined,
    nguid: undefined,
    eui64: 0n,
    lbaSize,
    physicalBlockSize: lbaSize,
    minIoSize: 0,
    optIoSize: 0,
    discardGranularity: defaultDiscardGranularity(lbaSize),
    writeCache: true,
    ms,
    mset: 0,
    pi: 0,
    pil: 0,
    pif: 0,
    mssrl: 128,
    mcl: 128,
    msrc: 127,
    zoned: undefined,
    nsze: Number(size / BigInt(lbaSize + ms)),
    ...over,
  };
}

export interface TempNs {
  readonly ns: Namespace;
  readonly drive: Drive;
  /** Closes the drive and removes the image. */
  cleanup(): Promise<void>;
}

/** A namespace over a fresh sparse image of `size` bytes. */
export async function tempNamespace(
  size: number,
  over: Partial<NvmeNsConfig> = {},
  opts: NamespaceOptions = {},
  aio?: DriveAio,
): Promise<TempNs> {
  const dir = mkdtempSync(join(tmpdir(), 'nvmemu-ns-'));
  const file = join(dir, 'img');
  writeFileSync(file, '');
  truncateSync(file, size);
  const drive = await Drive.open({
    id: 'd',
    file,
    readOnly: over.drive?.readOnly ?? false,
    ...(aio === undefined ? {} : { aio }),
  });
  const ns = new Namespace(nsConfig(BigInt(size), over), drive, opts);
  return {
    ns,
    drive,
    async cleanup(): Promise<void> {
      await ns.close();
      await drive.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type FakeCtrl = ControllerView;

/** A controller with QEMU's defaults: mdts 7 and vsl 7 (512 KiB with 4 KiB pages). */
export function fakeCtrl(over: Partial<ControllerView> = {}): FakeCtrl {
  return {
    cntlid: 0,
    mdtsBytes: 4096 << 7,
    vslBytes: 4096 << 7,
    zaslBytes: 4096 << 7,
    zonedAutoTransition: true,
    css: 0,
    lbafee: false,
    namespace: () => undefined,
    host: hostIdentity(new Uint8Array(8), 0),
    admits: () => 0,
    ...over,
  };
}

/** A command context; `data`/`meta` are host buffers (shared, so reads land in them). */
export function ctxOf(
  init: CmdInit,
  data?: Uint8Array,
  meta?: Uint8Array,
  ctrl: ControllerView = fakeCtrl(),
): CommandContext {
  return {
    cmd: makeCmd({ nsid: 1, ...init }),
    data: data === undefined ? NO_DATA : bufferData(data),
    ...(meta === undefined ? {} : { meta: bufferData(meta) }),
    sqid: 1,
    ctrl,
  };
}

/** cdw10..12 of a Read/Write-family command for `slba` and `nlb` (1's based here). */
export function rw(slba: number, nlb: number, cdw12Flags = 0): Partial<CmdInit> {
  return {
    cdw10: slba % 2 ** 32,
    cdw11: Math.floor(slba / 2 ** 32),
    cdw12: (((nlb - 1) & 0xffff) | cdw12Flags) >>> 0,
  };
}

/** Deterministic non-zero block content. */
export function pattern(len: number, seed: number): Uint8Array {
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = (i * 31 + seed * 17 + 1) & 0xff;
  return b;
}
