// Registration of the persistent-memory types (issue #6) and the machine-level hooks the machine
// and the monitor call: power failure, `info memory-devices`.

import type { Props } from '../config/schema.js';
import { MemoryBackend, type PowerFailReport } from '../memory/backend.js';
import { FILE_SCHEMA, RAM_SCHEMA, checkBackend, type BackendPlan } from '../memory/config.js';
import type { InFlightChooser } from '../memory/persistence.js';
import {
  registerType,
  type Component,
  type ComponentType,
  type PlanContext,
  type Planned,
  type RealizeContext,
} from '../machine/registry.js';
import { EmuError, ErrorCode } from '../util/errors.js';
import { NVDIMM_SCHEMA, checkNvdimm, type NvdimmPlan } from './nvdimm/config.js';
import { NvdimmDevice, type MemoryDeviceInfo } from './nvdimm/device.js';
import { VIRTIO_PMEM_SCHEMA, checkVirtioPmem, type VirtioPmemPlan } from './virtio-pmem/config.js';
import { VirtioPmemDevice } from './virtio-pmem/device.js';

export { MemoryBackend, NvdimmDevice, VirtioPmemDevice };
export type { MemoryDeviceInfo, PowerFailReport };

/** QEMU 7.2's device_del refusals (§3.5, §4.3). */
export const NVDIMM_UNPLUG_REFUSAL = 'nvdimm device hot unplug is not supported yet.';
export const VIRTIO_PMEM_UNPLUG_REFUSAL = 'virtio based memory devices cannot be unplugged.';

/** PlanContext as the machine may extend it for `device_add` (see the report to the lead). */
type CheckContext = PlanContext & { readonly hotplug?: boolean };

function backendOf(ctx: RealizeContext, memdev: string): MemoryBackend {
  const c = ctx.component(memdev, 'object');
  if (!(c instanceof MemoryBackend)) {
    throw new EmuError(
      ErrorCode.EMU_ERR_STATE,
      `memdev ${memdev} is not a realized memory backend`,
    );
  }
  return c;
}

function backendType(schema: typeof RAM_SCHEMA, typeName: BackendPlan['typeName']): ComponentType {
  return {
    kind: 'object',
    schema,
    description: '',
    hotpluggable: true,
    check: (props: Props, id: string | undefined, ctx: PlanContext) =>
      checkBackend(typeName, props, id, ctx),
    realize: async (plan: Planned, ctx: RealizeContext) =>
      await MemoryBackend.open(plan.config as BackendPlan, {
        onRollback: (undo) => ctx.onRollback(undo),
      }),
  };
}

export const NVDIMM_TYPE: ComponentType = {
  kind: 'device',
  schema: NVDIMM_SCHEMA,
  description: 'DIMM memory module',
  hotpluggable: true,
  unplugRefusal: NVDIMM_UNPLUG_REFUSAL,
  check: (props, id, ctx: CheckContext) => checkNvdimm(props, id, ctx),
  realize: (plan, ctx) => {
    const cfg = plan.config as NvdimmPlan;
    return Promise.resolve(
      NvdimmDevice.realize(cfg, backendOf(ctx, cfg.memdev), ctx.dataDir, (undo) =>
        ctx.onRollback(undo),
      ),
    );
  },
};

export const VIRTIO_PMEM_TYPE: ComponentType = {
  kind: 'device',
  schema: VIRTIO_PMEM_SCHEMA,
  bus: 'PCI',
  description: '',
  hotpluggable: true,
  unplugRefusal: VIRTIO_PMEM_UNPLUG_REFUSAL,
  check: (props, id, ctx: CheckContext) => checkVirtioPmem(props, id, ctx),
  realize: (plan, ctx) => {
    const cfg = plan.config as VirtioPmemPlan;
    return Promise.resolve(new VirtioPmemDevice(cfg, backendOf(ctx, cfg.memdev)));
  },
};

let registered = false;

/** Registers memory-backend-file/-ram (objects) and nvdimm/virtio-pmem-pci (devices). Idempotent. */
export function registerPmemTypes(): void {
  if (registered) return;
  registered = true;
  registerType(backendType(RAM_SCHEMA, 'memory-backend-ram'));
  registerType(backendType(FILE_SCHEMA, 'memory-backend-file'));
  registerType(NVDIMM_TYPE);
  registerType(VIRTIO_PMEM_TYPE);
}

/**
 * Simulated power failure of a whole machine: every nvdimm counts an unsafe shutdown (when it
 * was mapped writable), every memory backend discards what did not persist (see
 * memory/persistence.ts) and is unmapped. Nothing else is closed cleanly: the machine must
 * then drop its components without calling close(). `keep` chooses which in-flight cache
 * lines survive (default: none).
 */
export async function powerFailComponents(
  components: readonly Component[],
  keep?: InFlightChooser,
): Promise<PowerFailReport[]> {
  for (const c of components) {
    if (c instanceof NvdimmDevice) c.powerFail();
    else if (c instanceof VirtioPmemDevice) await c.close();
  }
  const reports: PowerFailReport[] = [];
  for (const c of components) {
    if (c instanceof MemoryBackend && !c.closed) reports.push(await c.powerFail(keep));
  }
  return reports;
}

/** QMP query-memory-devices, in realization order. */
export function queryMemoryDevices(components: readonly Component[]): MemoryDeviceInfo[] {
  const out: MemoryDeviceInfo[] = [];
  for (const c of components) {
    if (c instanceof NvdimmDevice || c instanceof VirtioPmemDevice) out.push(c.info());
  }
  return out;
}

/** HMP `info memory-devices` text (§5). */
export function formatMemoryDevices(infos: readonly MemoryDeviceInfo[]): string {
  let s = '';
  for (const i of infos) {
    s += `Memory device [${i.type}]: "${i.data.id ?? ''}"\n`;
    switch (i.type) {
      case 'nvdimm':
        s += `  addr: 0x${i.data.addr.toString(16)}\n  slot: ${i.data.slot}\n  node: ${i.data.node}\n`;
        s += `  size: ${i.data.size}\n  memdev: ${i.data.memdev}\n`;
        s += `  hotplugged: ${i.data.hotplugged}\n  hotpluggable: ${i.data.hotpluggable}\n`;
        break;
      case 'virtio-pmem':
        s += `  memaddr: 0x${i.data.memaddr.toString(16)}\n  size: ${i.data.size}\n  memdev: ${i.data.memdev}\n`;
        break;
    }
  }
  return s;
}

export { publishPmemState, readPmemState, removePmemState } from './state-folder.js';
