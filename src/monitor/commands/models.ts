// Device models through the monitor (docs/models.md; nvmemu's own, hence `x-nvmemu-`):
//   x-nvmemu-query-models {id?, nsid?, reset?}  -> [{id, nsid, kind, waf, erases, ...}]
// The `x-model*` properties of an nvme-ns change at run time with qom-set (qom.ts calls
// `modelQomSet` below): timing and wear thresholds do; FTL geometry is refused with the reason.

import { ConfigError } from '../../config/errors.js';
import { Namespace } from '../../nvme/ns/namespace.js';
import { isModelProp } from '../../nvme/model/params.js';
import type { Component } from '../../machine/registry.js';
import type { Args } from '../args.js';
import { genericError } from '../errors.js';
import { entries } from '../inspect.js';
import type { MachineView, QmpCommand } from '../monitor.js';
import { findNamespace } from './nvme.js';

/** qom-get of an `x-model*` property of a namespace with a model (else undefined). */
export function modelQomGet(c: Component, name: string): string | number | undefined {
  if (!(c instanceof Namespace) || !isModelProp(name)) return undefined;
  return c.model?.get(name);
}

/** qom-set of an `x-model*` property; false when `name` is not one (or `c` no namespace). */
export function modelQomSet(c: Component, name: string, value: unknown): boolean {
  if (!(c instanceof Namespace) || !isModelProp(name)) return false;
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
    throw genericError(`Parameter '${name}' expects a string or a number`);
  }
  try {
    c.setModelProp(name, value);
  } catch (e) {
    if (e instanceof ConfigError) throw genericError(e.message);
    throw e;
  }
  return true;
}

function modelled(machine: MachineView): { id: string; ns: Namespace }[] {
  const out: { id: string; ns: Namespace }[] = [];
  for (const e of entries(machine)) {
    const c = e.component;
    if (c instanceof Namespace && c.model !== undefined)
      out.push({ id: e.plan.id ?? e.path, ns: c });
  }
  return out;
}

export const modelCommands: readonly QmpCommand[] = [
  {
    name: 'x-nvmemu-query-models',
    args: [
      { name: 'id', type: 'string', optional: true },
      { name: 'nsid', type: 'integer', optional: true },
      { name: 'reset', type: 'boolean', optional: true },
    ],
    run: ({ machine }, args: Args) => {
      let list = modelled(machine);
      if (args.id !== undefined) {
        const t = findNamespace(machine, args.id as string, args.nsid as number | undefined);
        if (!(t.ns instanceof Namespace) || t.ns.model === undefined) {
          throw genericError(`Namespace ${t.ns.nsid} of '${t.id}' has no device model (x-model)`);
        }
        list = [{ id: t.id, ns: t.ns }];
      }
      return list.map(({ id, ns }) => {
        const m = ns.model!;
        const f = { id, nsid: ns.nsid, ...m.figures() };
        if (args.reset === true) m.resetLatency();
        return f;
      });
    },
  },
];
