// A PlatformBus over QEMU's qtest protocol (reference qemu-nvme.md header: the device is driven
// at register level through `-qtest unix:PATH` with TCG and the vCPU stopped, so no guest
// kernel runs). QEMU connects to our listening socket; each request is one text line answered
// by `OK [value]` (asynchronous `IRQ ...` lines are skipped). Configuration space goes through
// q35's MMCONFIG window (PCIEXBAR programmed at 0xB0000000), so extended capabilities (SR-IOV
// at 0x120) are reachable; devices sit on bus 0.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmuError } from '../../util/errors.js';
import type { PlatformBus, Size } from './bus.js';

const MMCONFIG = 0xb000_0000n;

export interface QtestOptions {
  /** `-device` arguments, in order (e.g. `nvme,serial=deadbeef`). */
  readonly devices: readonly string[];
  /** Further arguments before the devices (e.g. `-drive ...`). */
  readonly args?: readonly string[];
  /** Guest RAM in MiB (default 256). */
  readonly ramMb?: number;
  readonly binary?: string;
  /** Milliseconds to wait for QEMU to connect (default 10 s). */
  readonly timeoutMs?: number;
}

export class QtestBus implements PlatformBus {
  readonly ramSize: bigint;
  readonly #proc: ChildProcess;
  readonly #sock: Socket;
  readonly #dir: string;
  #buf = '';
  readonly #waiters: { resolve: (l: string) => void; reject: (e: Error) => void }[] = [];
  #stderr = '';
  #closed = false;

  private constructor(proc: ChildProcess, sock: Socket, dir: string, ramMb: number) {
    this.#proc = proc;
    this.#sock = sock;
    this.#dir = dir;
    this.ramSize = BigInt(ramMb) << 20n;
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => this.#data(d));
    const fail = (): void => {
      for (const w of this.#waiters.splice(0)) {
        w.reject(new EmuError('EMU_ERR_PROTOCOL', `QEMU qtest connection closed ${this.#stderr}`));
      }
    };
    sock.on('close', fail);
    sock.on('error', fail);
  }

  /** Starts QEMU paused with the devices and connects; rejects with QEMU's stderr on failure. */
  static async start(o: QtestOptions): Promise<QtestBus> {
    const dir = mkdtempSync(join(tmpdir(), 'nvmemu-qtest-'));
    const path = join(dir, 'qtest.sock');
    const ramMb = o.ramMb ?? 256;
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(path, resolve));
    const args = [
      '-machine',
      'q35',
      '-accel',
      'tcg',
      '-m',
      `${ramMb}M`,
      '-S',
      '-nodefaults',
      '-display',
      'none',
      '-qtest',
      `unix:${path}`,
      '-qtest-log',
      '/dev/null',
      ...(o.args ?? []),
      ...o.devices.flatMap((d) => ['-device', d]),
    ];
    const proc = spawn(o.binary ?? 'qemu-system-x86_64', args, {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    proc.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
    try {
      const sock = await new Promise<Socket>((resolve, reject) => {
        const t = setTimeout(
          () => reject(new EmuError('EMU_ERR_STATE', 'QEMU did not connect')),
          o.timeoutMs ?? 10_000,
        );
        server.once('connection', (s) => {
          clearTimeout(t);
          resolve(s);
        });
        proc.once('exit', (code) => {
          clearTimeout(t);
          reject(new EmuError('EMU_ERR_STATE', `QEMU exited (${String(code)}): ${stderr.trim()}`));
        });
        proc.once('error', (e) => {
          clearTimeout(t);
          reject(e);
        });
      });
      server.close();
      const bus = new QtestBus(proc, sock, dir, ramMb);
      // q35 PCIEXBAR (MCH 00:00.0 offset 0x60): MMCONFIG at 0xB0000000, 256 buses, enabled.
      await bus.#cmd('outl 0xcf8 0x80000064');
      await bus.#cmd('outl 0xcfc 0x0');
      await bus.#cmd('outl 0xcf8 0x80000060');
      await bus.#cmd('outl 0xcfc 0xb0000001');
      return bus;
    } catch (e) {
      server.close();
      proc.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }

  #data(d: string): void {
    this.#buf += d;
    let i;
    while ((i = this.#buf.indexOf('\n')) >= 0) {
      const line = this.#buf.slice(0, i);
      this.#buf = this.#buf.slice(i + 1);
      if (line.startsWith('IRQ')) continue;
      this.#waiters.shift()?.resolve(line);
    }
  }

  #cmd(line: string): Promise<string> {
    if (this.#closed) return Promise.reject(new EmuError('EMU_ERR_STATE', 'qtest bus closed'));
    return new Promise((resolve, reject) => {
      this.#waiters.push({
        resolve: (l) => {
          if (l.startsWith('OK')) resolve(l.slice(3));
          else reject(new EmuError('EMU_ERR_PROTOCOL', `qtest: '${line}' -> '${l}'`));
        },
        reject,
      });
      this.#sock.write(`${line}\n`);
    });
  }

  #cfgAddr(slot: number, fn: number, off: number): bigint {
    // ARI: the 8-bit function number spans device and function bits of bus 0.
    return MMCONFIG + (BigInt((slot << 3) + fn) << 12n) + BigInt(off);
  }

  async cfgRead(slot: number, fn: number, off: number, size: 1 | 2 | 4): Promise<number> {
    return Number(await this.read(this.#cfgAddr(slot, fn, off), size));
  }
  cfgWrite(slot: number, fn: number, off: number, size: 1 | 2 | 4, value: number): Promise<void> {
    return this.write(this.#cfgAddr(slot, fn, off), size, BigInt(value >>> 0));
  }

  async read(addr: bigint, size: Size): Promise<bigint> {
    const op = { 1: 'readb', 2: 'readw', 4: 'readl', 8: 'readq' }[size];
    return BigInt(await this.#cmd(`${op} 0x${addr.toString(16)}`));
  }
  async write(addr: bigint, size: Size, value: bigint): Promise<void> {
    const op = { 1: 'writeb', 2: 'writew', 4: 'writel', 8: 'writeq' }[size];
    await this.#cmd(`${op} 0x${addr.toString(16)} 0x${value.toString(16)}`);
  }
  async memRead(addr: bigint, len: number): Promise<Uint8Array> {
    if (len === 0) return new Uint8Array(0);
    const hex = await this.#cmd(`read 0x${addr.toString(16)} 0x${len.toString(16)}`);
    return Uint8Array.from(Buffer.from(hex.slice(2), 'hex'));
  }
  async memWrite(addr: bigint, data: Uint8Array): Promise<void> {
    if (data.length === 0) return;
    const hex = Buffer.from(data).toString('hex');
    await this.#cmd(`write 0x${addr.toString(16)} 0x${data.length.toString(16)} 0x${hex}`);
  }
  idle(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, 1));
  }
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.#sock.destroy();
    return new Promise((resolve) => {
      this.#proc.once('exit', () => {
        rmSync(this.#dir, { recursive: true, force: true });
        resolve();
      });
      this.#proc.kill('SIGKILL');
    });
  }
}
