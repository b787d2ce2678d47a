// The recording sequence (probe.ts) on nvmemu's own PCI function: a machine built in-process
// from the configuration's QEMU command line (configs.ts) at a QEMU compatibility level, its
// PCI host driven by the same userspace driver over the in-process PlatformBus. The answers
// are keyed like the QEMU fixtures, so a test compares them key by key.

import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from '../../src/config/options.js';
import { registerAllTypes } from '../../src/devices.js';
import { Machine } from '../../src/machine/machine.js';
import { machineSettings } from '../../src/machine/settings.js';
import { DmaAllocator, InProcessBus, NvmeDriver } from '../../src/nvme/driver/index.js';
import { NvmeDevice } from '../../src/nvme/index.js';
import type { Answer } from './answers.js';
import {
  devicesFor,
  driveArgs,
  IMAGE_MB,
  type FidelityConfig,
  type QemuVersion,
} from './configs.js';
import { probe } from './probe.js';

/** The recorder's QEMU ran with 512 MiB; the driver allocates from [1 MiB, 512 MiB). */
const RAM_MB = 512;

/** `-machine` type selecting each compatibility level. */
const MACHINE: Record<QemuVersion, string> = { '7.2': 'q35', '10.0': 'pc-q35-10.0' };

export interface Replayed {
  readonly answers: Readonly<Record<string, Answer>>;
  readonly notes: readonly string[];
}

/**
 * Runs probe.ts against nvmemu for configuration `c` with the device list recorded from QEMU
 * `v` (7.2's lacks the FDP properties), at compatibility level `level` (default `v`), with
 * fresh zero-filled images of IMAGE_MB MiB.
 */
export async function replay(
  c: FidelityConfig,
  v: QemuVersion,
  level: QemuVersion = v,
): Promise<Replayed> {
  registerAllTypes();
  const dir = mkdtempSync(join(tmpdir(), `fidelity-nvmemu-${c.name}-`));
  const image = (i: number): string => join(dir, `${c.name}${i}.img`);
  for (let i = 0; i < c.images; i++) {
    writeFileSync(image(i), '');
    truncateSync(image(i), IMAGE_MB << 20);
  }
  const args = parseArgs([
    '-machine',
    MACHINE[level],
    '-m',
    `${RAM_MB}M`,
    ...driveArgs(c, image),
    ...devicesFor(c, v).flatMap((d) => ['-device', d]),
  ]);
  const m = await Machine.create(args.items, {
    settings: machineSettings(args),
    dataDir: dir,
    warn: () => undefined,
  });
  try {
    const dev = m.components().find((x): x is NvmeDevice => x instanceof NvmeDevice);
    if (dev?.pci === undefined || dev.pciHost === undefined) {
      throw new Error(`${c.name}: no nvme PCI function`);
    }
    const d = await NvmeDriver.attach(new InProcessBus(dev.pciHost), {
      slot: dev.pci.slot,
      dma: new DmaAllocator(0x10_0000n, BigInt(RAM_MB) << 20n),
    });
    const r = await probe(d, c);
    return { answers: r.answers, notes: r.notes };
  } finally {
    await m.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
}
