// NVMe multi-host state on the monitor (docs/monitor.md, docs/multipath.md):
//   x-nvmemu-set-ana-state {group, state, id?, transition?}  the state of ANA group `group`
//       through this process's controllers (an nvme device's, an nvme-subsys's, or all), with
//       an optional time in the change state first; returns the controller IDs changed
//   x-nvmemu-query-nvme  every subsystem: controller ID range, Namespace Management capacity,
//       controllers (ID, host, ANA states), namespaces (size, ANA group, attachment, created by
//       Namespace Management or configured, reservation state); HMP `info nvme` prints it.

import { setAnaState } from '../../nvme/ana-control.js';
import { NvmeDevice, NvmeSubsysDevice } from '../../nvme/index.js';
import type { Controller } from '../../nvme/ctrl/controller.js';
import type { Subsystem } from '../../nvme/subsys/subsystem.js';
import type { NamespaceApi } from '../../nvme/spec/namespace-api.js';
import { anaStateName } from '../../nvme/spec/ana.js';
import { Namespace } from '../../nvme/ns/namespace.js';
import { isEmuError } from '../../util/errors.js';
import { genericError } from '../errors.js';
import type { MachineView, QmpCommand } from '../monitor.js';

function nsInfo(s: Subsystem, ns: NamespaceApi, managed: boolean): Record<string, unknown> {
  const resv = ns instanceof Namespace ? ns.reservations.state : undefined;
  return {
    nsid: ns.nsid,
    ...(ns instanceof Namespace && ns.id !== undefined ? { id: ns.id } : {}),
    size: Number(ns.sizeBlocks) * ns.lbaSize,
    'block-size': ns.lbaSize,
    shared: ns.shared,
    created: managed,
    anagrpid: s.anaGroupOf(ns),
    'attached-cntlids': [...s.controllers.values()]
      .filter((c) => c.isAttached(ns.nsid))
      .map((c) => c.cntlid)
      .sort((a, b) => a - b),
    ...(resv !== undefined
      ? {
          reservation: {
            generation: resv.gen,
            type: resv.rtype,
            ...(resv.holder !== undefined ? { holder: resv.holder } : {}),
            ptpl: resv.ptpl,
            registrants: resv.registrants.map((r) => ({
              host: r.host,
              key: `0x${r.rkey.toString(16)}`,
              cntlid: r.cntlid,
            })),
          },
        }
      : {}),
  };
}

function ctrlInfo(c: Controller, dev: NvmeDevice): Record<string, unknown> {
  const groups = [...c.ana.states()].map(([g, st]) => ({ group: g, state: anaStateName(st) }));
  return {
    cntlid: c.cntlid,
    ...(dev.id !== undefined ? { id: dev.id } : {}),
    bound: c.boundTo?.transport ?? null,
    host: c.host.key,
    // Groups not listed are optimized.
    'ana-states': groups,
  };
}

/** x-nvmemu-query-nvme's answer. */
export function queryNvme(machine: MachineView): Record<string, unknown>[] {
  const comps = machine.components();
  const devs = comps.filter((c): c is NvmeDevice => c instanceof NvmeDevice);
  const subsystems = [...new Set(devs.map((d) => d.controller.subsys))];
  return subsystems.map((s) => {
    const subDev = comps.find(
      (c): c is NvmeSubsysDevice => c instanceof NvmeSubsysDevice && c.subsystem === s,
    );
    const managed = (nsid: number): boolean => s.nsManagement?.manages(nsid) === true;
    return {
      nqn: s.subnqn,
      ...(subDev?.id !== undefined ? { id: subDev.id } : {}),
      ...(s.cntlids !== undefined
        ? { 'cntlid-min': s.cntlids.min, 'cntlid-max': s.cntlids.max }
        : {}),
      ana: s.anaReporting,
      ...(s.capacity !== undefined
        ? { capacity: Number(s.capacity.total), unallocated: Number(s.capacity.unallocated) }
        : {}),
      controllers: devs
        .filter((d) => d.controller.subsys === s)
        .map((d) => ctrlInfo(d.controller, d)),
      namespaces: [...s.namespaces.values()]
        .sort((a, b) => a.nsid - b.nsid)
        .map((ns) => nsInfo(s, ns, managed(ns.nsid))),
    };
  });
}

/** HMP `info nvme`. */
export function formatNvmeInfo(subs: readonly Record<string, unknown>[]): string {
  const t = (x: unknown): string => (typeof x === 'string' || typeof x === 'number' ? `${x}` : '');
  let out = '';
  for (const s of subs) {
    const range =
      s['cntlid-min'] === undefined ? '' : ` cntlid ${t(s['cntlid-min'])}-${t(s['cntlid-max'])}`;
    out += `${t(s.nqn)}${range}${s.ana === true ? ' ana' : ''}\n`;
    if (s.capacity !== undefined) {
      out += `  capacity ${t(s.capacity)} bytes, ${t(s.unallocated)} unallocated\n`;
    }
    for (const c of s.controllers as Record<string, unknown>[]) {
      const ana = (c['ana-states'] as { group: number; state: string }[])
        .map((g) => ` group ${g.group} ${g.state}`)
        .join(',');
      const id = c.id === undefined ? '' : ` (${t(c.id)})`;
      out += `  controller ${t(c.cntlid)}${id}: host ${t(c.host)}${ana}\n`;
    }
    for (const n of s.namespaces as Record<string, unknown>[]) {
      const r = n.reservation as { type: number; registrants: unknown[] } | undefined;
      const ids = (n['attached-cntlids'] as number[]).join(',');
      out +=
        `  namespace ${t(n.nsid)}: ${t(n.size)} bytes${n.created === true ? ', created' : ''}` +
        `${Number(n.anagrpid) !== 0 ? `, ana group ${t(n.anagrpid)}` : ''}` +
        `, attached to ${ids === '' ? 'none' : ids}` +
        (r !== undefined && r.registrants.length > 0
          ? `, ${r.registrants.length} registrant(s), reservation type ${r.type}`
          : '') +
        '\n';
    }
  }
  return out;
}

export const nvmePathCommands: readonly QmpCommand[] = [
  {
    name: 'x-nvmemu-set-ana-state',
    args: [
      { name: 'group', type: 'integer' },
      { name: 'state', type: 'string' },
      { name: 'id', type: 'string', optional: true },
      { name: 'transition', type: 'integer', optional: true },
    ],
    run: ({ machine }, args) => {
      try {
        const cntlids = setAnaState(machine.components(), {
          group: args.group as number,
          state: args.state as string,
          ...(args.id !== undefined ? { id: args.id as string } : {}),
          ...(args.transition !== undefined ? { transitionMs: args.transition as number } : {}),
        });
        return { cntlids };
      } catch (e) {
        if (isEmuError(e)) throw genericError(e.message);
        throw e;
      }
    },
  },
  {
    name: 'x-nvmemu-query-nvme',
    args: [],
    run: ({ machine }) => queryNvme(machine),
  },
];
