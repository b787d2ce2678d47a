// Records QEMU's own NVMe device answers as JSON fixtures (tests/fixtures/qemu/<version>/).
// Not a test: run it through tests/fidelity/record-qemu.sh, which prepares the QEMU 10.0
// chroot. Each configuration of configs.ts gets a fresh QEMU (q35, TCG, vCPU stopped, qtest)
// with fresh 64 MiB images; the userspace driver runs probe.ts against slot 1.
//
//   node build/tests/fidelity/record-qemu.js --version 7.2|10.0 [--binary PATH]
//        [--out DIR] [--config NAME]...

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DmaAllocator, NvmeDriver, QtestBus } from '../../src/nvme/driver/index.js';
import type { Fixture } from './answers.js';
import {
  CONFIGS,
  configNamed,
  devicesFor,
  driveArgs,
  IMAGE_MB,
  type FidelityConfig,
  type QemuVersion,
} from './configs.js';
import { probe } from './probe.js';

const RAM_MB = 512;

function qemuVersionLine(binary: string): string {
  const r = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${binary} --version failed: ${r.stderr}`);
  return r.stdout.split('\n')[0]!.trim();
}

async function recordOne(
  c: FidelityConfig,
  version: QemuVersion,
  binary: string,
  qemu: string,
): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), `fidelity-${c.name}-`));
  const image = (i: number): string => join(dir, `${c.name}${i}.img`);
  for (let i = 0; i < c.images; i++) {
    writeFileSync(image(i), '');
    truncateSync(image(i), IMAGE_MB << 20);
  }
  const devices = devicesFor(c, version);
  const args = driveArgs(c, image);
  // The command line as stored: image paths relative, as a reader would write them.
  const shown = [
    ...driveArgs(c, (i) => `${c.name}${i}.img`),
    ...devices.flatMap((d) => ['-device', d]),
  ];
  const notes: string[] = [];
  if (version === '7.2' && c.note72 !== undefined) notes.push(c.note72);
  const base = {
    format: 1 as const,
    qemu,
    version,
    config: c.name,
    title: c.title,
    commandLine: shown,
  };
  let bus: QtestBus | undefined;
  try {
    try {
      bus = await QtestBus.start({ devices, args, binary, ramMb: RAM_MB, timeoutMs: 30_000 });
    } catch (e) {
      const msg = (e as Error).message.replace(/^QEMU exited \(\d+\): /, '');
      return { ...base, startError: msg, notes, answers: {} };
    }
    const d = await NvmeDriver.attach(bus, {
      slot: 1,
      dma: new DmaAllocator(0x10_0000n, BigInt(RAM_MB) << 20n),
    });
    const r = await probe(d, c);
    return { ...base, notes: [...notes, ...r.notes], answers: r.answers };
  } finally {
    await bus?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      version: { type: 'string' },
      binary: { type: 'string' },
      out: { type: 'string', default: 'tests/fixtures/qemu' },
      config: { type: 'string', multiple: true },
    },
  });
  const version = values.version;
  if (version !== '7.2' && version !== '10.0') {
    throw new Error('--version must be 7.2 or 10.0');
  }
  const binary = values.binary ?? 'qemu-system-x86_64';
  const qemu = qemuVersionLine(binary);
  if (!qemu.includes(`version ${version}.`)) {
    throw new Error(`${binary} is '${qemu}', not QEMU ${version}`);
  }
  const configs = values.config?.map(configNamed) ?? CONFIGS;
  const outDir = join(values.out, version);
  mkdirSync(outDir, { recursive: true });
  for (const c of configs) {
    const t0 = Date.now();
    const f = await recordOne(c, version, binary, qemu);
    writeFileSync(join(outDir, `${c.name}.json`), `${JSON.stringify(f, null, 1)}\n`);
    const n = Object.keys(f.answers).length;
    const how = f.startError !== undefined ? `refused: ${f.startError}` : `${n} answers`;
    console.log(`${version} ${c.name}: ${how} (${Date.now() - t0} ms)`);
  }
}

main().catch((e: unknown) => {
  console.error(`record-qemu: ${(e as Error).message}`);
  process.exitCode = 1;
});
