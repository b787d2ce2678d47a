// The legacy namespace of `-device nvme,drive=...` (reference §1.1): QEMU builds an internal
// namespace with NSID 1 from the controller's block properties. We plan it through the
// nvme-ns check (same block-property messages, same geometry) on a view of the plan in which
// this controller is already the newest `nvme`.

import { Props, type PropValue } from '../../config/schema.js';
import type { PlanContext, Planned } from '../../machine/registry.js';
import { checkNvmeNs } from '../ns/check.js';
import type { NvmeNsConfig } from '../ns/config.js';
import { NVME_NS_PROPS } from '../ns/props.js';
import { BLOCK_PROPS } from '../../block/props.js';
import { nvmeLevel } from '../spec/levels.js';

export function planLegacyNamespace(
  props: Props,
  id: string | undefined,
  self: { readonly nsidDomain: string; readonly subsys: undefined },
  ctx: PlanContext,
): NvmeNsConfig {
  // nvme-ns properties the controller's block properties feed (computed here: config.ts and
  // this module import each other).
  const SHARED = new Set(BLOCK_PROPS.map((p) => p.name));
  const values = new Map<string, PropValue>();
  for (const def of NVME_NS_PROPS) if (def.default !== undefined) values.set(def.name, def.default);
  const given = new Set<string>();
  for (const [name, v] of props.entries()) {
    if (!SHARED.has(name)) continue;
    values.set(name, v);
    if (props.given.has(name)) given.add(name);
  }
  values.set('nsid', 1);
  // QEMU 7.2: without a subsystem a namespace is never shared; QEMU 10.0's `drive=`
  // namespace is private too (NMIC 0).
  values.set('shared', false);
  // QEMU sets up the `drive=` namespace without nvme-ns's Copy limits (0: Copy fails with
  // 0x183). nvmemu's 7.2 level has always given it nvme-ns's defaults and keeps them.
  if (!nvmeLevel(ctx.settings.compat).legacyCopyLimits) {
    for (const name of ['mssrl', 'mcl', 'msrc']) values.set(name, 0);
  }
  const selfPlan: Planned = { kind: 'device', typeName: 'nvme', id, location: '', config: self };
  const view: PlanContext = {
    ...ctx,
    planned: () => [...ctx.planned(), selfPlan],
    lookup: (key, kind) => ctx.lookup(key, kind),
    claim: (r) => ctx.claim(r),
    warn: (m) => ctx.warn(m),
  };
  return { ...checkNvmeNs(new Props(values, given), id, view), legacy: true };
}
