// nvmemu's own commands (QEMU's convention: an `x-` prefix for what is not a stable QEMU
// interface). Each one is backed by an accessor of the device it drives:
//   x-nvmemu-query-badblocks / -inject-badblocks / -clear-badblocks
//       nvdimm bad blocks in 512-byte sectors, region relative (what the kernel publishes in
//       regionN/badblocks and ndctl inject-error / clear-errors change); persisted by the
//       device in the state folder, so PMDK consumers see them at once;
//   x-nvmemu-power-fail
//       simulated power failure of the whole machine: unpersisted pmem stores are discarded,
//       nvdimms count an unsafe shutdown, NVMe namespaces lose what their write cache model
//       says was not durable (the same cut as x-nvmemu-power-cut, faults.ts), then the machine
//       stops (event NVMEMU_POWER_FAIL, then SHUTDOWN with reason host-error).

import type { Component } from '../../machine/registry.js';
import { cutPower } from '../../faults/power-cut.js';
import { genericError } from '../errors.js';
import type { MachineView, QmpCommand } from '../monitor.js';
import { findDevice } from './hotplug.js';

interface BadBlockDevice {
  badBlocks(): readonly { sector: number; count: number }[];
  injectBadBlocks(sector: number, count: number): void;
  clearBadBlocks(sector: number, count: number): void;
}

function badBlockDevice(machine: MachineView, id: string): BadBlockDevice {
  const e = findDevice(machine, id);
  const c: Component & Partial<Record<keyof BadBlockDevice, unknown>> = e.component;
  if (
    typeof c.badBlocks !== 'function' ||
    typeof c.injectBadBlocks !== 'function' ||
    typeof c.clearBadBlocks !== 'function'
  ) {
    throw genericError(`Device '${id}' (${e.plan.typeName}) has no bad blocks to manage`);
  }
  return c as unknown as BadBlockDevice;
}

const rangeArgs = [
  { name: 'id', type: 'string' },
  { name: 'sector', type: 'integer' },
  { name: 'count', type: 'integer' },
] as const;

function range(args: Readonly<Record<string, unknown>>): [number, number] {
  const sector = args.sector as number;
  const count = args.count as number;
  if (sector < 0) throw genericError(`Parameter 'sector' expects a value >= 0`);
  if (count < 1) throw genericError(`Parameter 'count' expects a value >= 1`);
  return [sector, count];
}

export const nvmemuCommands: readonly QmpCommand[] = [
  {
    name: 'x-nvmemu-query-badblocks',
    args: [{ name: 'id', type: 'string' }],
    run: ({ machine }, args) =>
      badBlockDevice(machine, args.id as string)
        .badBlocks()
        .map((r) => ({ sector: r.sector, count: r.count })),
  },
  {
    name: 'x-nvmemu-inject-badblocks',
    args: rangeArgs,
    run: ({ machine }, args) => {
      const d = badBlockDevice(machine, args.id as string);
      d.injectBadBlocks(...range(args));
      return {};
    },
  },
  {
    name: 'x-nvmemu-clear-badblocks',
    args: rangeArgs,
    run: ({ machine }, args) => {
      const d = badBlockDevice(machine, args.id as string);
      d.clearBadBlocks(...range(args));
      return {};
    },
  },
  {
    name: 'x-nvmemu-power-fail',
    args: [],
    run: async ({ machine, monitor }) => {
      if (machine.state !== 'running') throw genericError('the machine is not running');
      const reports = (await cutPower(machine)).pmem;
      const backends = reports.map((r) => ({
        id: r.id,
        image: r.image,
        'reverted-ranges': r.reverted.length,
      }));
      monitor.emit('NVMEMU_POWER_FAIL', { backends });
      monitor.requestQuit({ guest: false, reason: 'host-error' });
      return { backends };
    },
  },
];
