// HMP text layouts, QEMU 7.2's where QEMU has one (hw/core/machine-hmp-cmds.c,
// softmmu/qdev-monitor.c qdev_print_props).

import type { PropDef, PropValue } from '../config/schema.js';
import type { MemoryDeviceInfo } from './inspect.js';

const hex = (v: bigint | number): string => `0x${v.toString(16)}`;

/** `info memory-devices` (reference qemu-pmem-ndctl.md §5). */
export function formatMemoryDevices(infos: readonly MemoryDeviceInfo[]): string {
  let s = '';
  for (const i of infos) {
    s += `Memory device [${i.type}]: "${i.data.id ?? ''}"\n`;
    switch (i.type) {
      case 'nvdimm':
        s +=
          `  addr: ${hex(i.data.addr)}\n  slot: ${i.data.slot}\n  node: ${i.data.node}\n` +
          `  size: ${i.data.size}\n  memdev: ${i.data.memdev}\n` +
          `  hotplugged: ${i.data.hotplugged}\n  hotpluggable: ${i.data.hotpluggable}\n`;
        break;
      case 'virtio-pmem':
        s += `  memaddr: ${hex(i.data.memaddr)}\n  size: ${i.data.size}\n  memdev: ${i.data.memdev}\n`;
        break;
    }
  }
  return s;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

/** QEMU size_to_str: the largest unit below 1024, "%0.3g". */
export function sizeToStr(v: bigint): string {
  let unit = 0;
  let div = 1n;
  while (unit < UNITS.length - 1 && v >= div * 1024n) {
    div *= 1024n;
    unit++;
  }
  const n = Number(v) / Number(div);
  return `${Number(n.toPrecision(3))} ${UNITS[unit] ?? 'B'}`;
}

/** One `name = value` line of `info qtree`, in qdev_print_props' style. */
export function formatQtreeValue(def: PropDef, v: PropValue): string {
  switch (def.type.kind) {
    case 'bool':
      return v === true ? 'true' : 'false';
    case 'size':
      return `${String(v)} (${sizeToStr(BigInt(v))})`;
    case 'uint':
    case 'uint64':
      return `${String(v)} (${hex(BigInt(v))})`;
    case 'int32':
      return String(v);
    case 'str':
    case 'link':
    case 'uuid':
    case 'enum':
      return JSON.stringify(String(v));
  }
}
