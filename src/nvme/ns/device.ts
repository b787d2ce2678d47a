// The `nvme-ns` device type of the machine registry: schema and check (config.ts, check.ts),
// and realize, which opens a Namespace over its drive. The controller side (nvme/index.ts)
// attaches it.

import type { ComponentType, Planned, RealizeContext } from '../../machine/registry.js';
import { Drive } from '../../block/drive.js';
import { nvmeNsSchema } from './props.js';
import { checkNvmeNs } from './check.js';
import { Namespace } from './namespace.js';
import type { NvmeNsConfig } from './config.js';

function isNvmeNsConfig(c: unknown): c is NvmeNsConfig {
  return typeof c === 'object' && c !== null && 'drive' in c && 'lbaSize' in c;
}

export const nvmeNsType: ComponentType = {
  kind: 'device',
  schema: nvmeNsSchema,
  bus: 'nvme-bus',
  description: 'Virtual NVMe namespace',
  hotpluggable: true,
  check: checkNvmeNs,
  async realize(plan: Planned, ctx: RealizeContext): Promise<Namespace> {
    const cfg = plan.config;
    if (!isNvmeNsConfig(cfg)) throw new TypeError(`nvme-ns: plan ${plan.location} has no config`);
    const drive = ctx.component(cfg.drive.id, 'drive');
    if (!(drive instanceof Drive)) {
      throw new TypeError(
        `nvme-ns: drive '${cfg.drive.id}' was not realized before ${plan.location}`,
      );
    }
    return Promise.resolve(new Namespace(cfg, drive));
  },
};
