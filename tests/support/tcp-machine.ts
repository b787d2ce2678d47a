// A machine built from a command line in a fresh temporary folder and served over NVMe/TCP on
// 127.0.0.1 (random port), plus `nvmemu nvme` run in-process against it: the setup the
// end-to-end CLI tests share.

import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Machine } from '../../src/machine/machine.js';
import { machineSettings } from '../../src/machine/settings.js';
import { registerAllTypes } from '../../src/devices.js';
import { parseArgs } from '../../src/config/options.js';
import { startNvmeTcp, type NvmeTcpService } from '../../src/nvme-tcp/target/index.js';
import { nvmeCommand } from '../../src/cli/nvme/index.js';
import { bufferIo } from '../../src/cli/io.js';

export interface TcpMachine {
  readonly dir: string;
  readonly machine: Machine;
  readonly svc: NvmeTcpService;
  /** The I/O port the target listens on. */
  readonly port: number;
  /** Stops the target and the machine and removes the folder. */
  close(): Promise<void>;
}

/**
 * Creates `images` (name → size in bytes, sparse) in a fresh folder named after `prefix`, builds
 * the machine `args(dir)` describes and serves it (`discoveryPort` as startNvmeTcp takes it).
 */
export async function tcpMachine(
  prefix: string,
  images: Readonly<Record<string, number>>,
  args: (dir: string) => string[],
  discoveryPort: number | null = null,
): Promise<TcpMachine> {
  registerAllTypes();
  const dir = mkdtempSync(join(tmpdir(), `nvmemu-${prefix}-`));
  for (const [name, size] of Object.entries(images)) {
    writeFileSync(join(dir, name), '');
    truncateSync(join(dir, name), size);
  }
  const a = parseArgs(args(dir));
  const machine = await Machine.create(a.items, { settings: machineSettings(a), dataDir: dir });
  const svc = await startNvmeTcp(machine, { listen: '127.0.0.1:0', discoveryPort });
  return {
    dir,
    machine,
    svc,
    port: svc.target.ioPort.port,
    async close(): Promise<void> {
      await svc.close();
      await machine.shutdown();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface CliResult {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** `nvmemu nvme ARGS` in-process, with `extra` appended (e.g. the target's port and NQN). */
export async function nvmeCli(
  args: readonly string[],
  extra: readonly string[] = [],
): Promise<CliResult> {
  const io = bufferIo();
  const code = await nvmeCommand([...args, ...extra], io);
  return { code, out: io.stdout, err: io.stderr };
}
