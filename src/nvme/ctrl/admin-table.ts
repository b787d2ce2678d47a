// The admin command table (house rule 6): dispatch, OACS and the Commands Supported and
// Effects log all derive from it. [7.2] set, reference §3.1; transport-specific entries are
// filtered by `available`.

import { AdminOpc, Effects } from '../spec/opcodes.js';
import { Status, withDnr } from '../spec/status.js';
import type { CommandContext, Completion } from '../spec/transfer.js';
import { formatNvm, nsAttachment } from './admin-ns.js';
import {
  abort,
  asyncEventRequest,
  createCq,
  createSq,
  dbbufConfig,
  deleteCq,
  deleteSq,
} from './admin-queue.js';
import type { Controller } from './controller.js';
import { getFeatures, setFeatures } from './features.js';
import { identify } from './identify.js';
import { getLogPage } from './logs.js';
import type { Deferred, Request } from './queues.js';
import { virtMgmt } from './virt.js';

type Handler = (
  c: Controller,
  ctx: CommandContext,
  req: Request,
) => Completion | Deferred | Promise<Completion | Deferred>;

export interface AdminCommand {
  readonly opcode: number;
  readonly name: string;
  readonly effects: number;
  readonly run: Handler;
  /** OACS bit advertised while the command is available. */
  readonly oacs?: number;
  readonly available?: (c: Controller) => boolean;
}

const pciOnly = (c: Controller): boolean => c.params.transport === 'pci';
const fabricsOnly = (c: Controller): boolean => c.params.transport === 'fabrics';
const CSUPP = Effects.CSUPP;

export const ADMIN_COMMANDS: readonly AdminCommand[] = [
  {
    opcode: AdminOpc.DELETE_SQ,
    name: 'Delete I/O Submission Queue',
    effects: CSUPP,
    run: deleteSq,
  },
  {
    opcode: AdminOpc.CREATE_SQ,
    name: 'Create I/O Submission Queue',
    effects: CSUPP,
    run: createSq,
  },
  { opcode: AdminOpc.GET_LOG_PAGE, name: 'Get Log Page', effects: CSUPP, run: getLogPage },
  {
    opcode: AdminOpc.DELETE_CQ,
    name: 'Delete I/O Completion Queue',
    effects: CSUPP,
    run: deleteCq,
  },
  {
    opcode: AdminOpc.CREATE_CQ,
    name: 'Create I/O Completion Queue',
    effects: CSUPP,
    run: createCq,
  },
  { opcode: AdminOpc.IDENTIFY, name: 'Identify', effects: CSUPP, run: identify },
  { opcode: AdminOpc.ABORT, name: 'Abort', effects: CSUPP, run: abort },
  { opcode: AdminOpc.SET_FEATURES, name: 'Set Features', effects: CSUPP, run: setFeatures },
  { opcode: AdminOpc.GET_FEATURES, name: 'Get Features', effects: CSUPP, run: getFeatures },
  {
    opcode: AdminOpc.ASYNC_EVENT_REQ,
    name: 'Asynchronous Event Request',
    effects: CSUPP,
    run: (c, _ctx, req) => asyncEventRequest(c, req),
  },
  {
    opcode: AdminOpc.NS_ATTACHMENT,
    name: 'Namespace Attachment',
    effects: CSUPP | Effects.NIC,
    run: nsAttachment,
    // QEMU advertises Namespace Management (bit3) although only attachment is implemented.
    oacs: 0x08,
  },
  {
    opcode: AdminOpc.KEEP_ALIVE,
    name: 'Keep Alive',
    effects: CSUPP,
    run: () => ({ status: 0 }),
    available: fabricsOnly,
  },
  {
    opcode: AdminOpc.VIRT_MNGMT,
    name: 'Virtualization Management',
    effects: CSUPP,
    run: virtMgmt,
    // [7.2] listed and executed always; OACS bit7 stays clear even with SR-IOV (measured
    // through qtest: OACS 0x10a with sriov_max_vfs=2, although reference §2.6 says +0x80).
  },
  {
    opcode: AdminOpc.DBBUF_CONFIG,
    name: 'Doorbell Buffer Config',
    effects: CSUPP,
    run: dbbufConfig,
    oacs: 0x100,
    available: pciOnly,
  },
  {
    opcode: AdminOpc.FORMAT_NVM,
    name: 'Format NVM',
    effects: CSUPP | Effects.LBCC,
    run: formatNvm,
    oacs: 0x02,
  },
];

const BY_OPCODE = new Map(ADMIN_COMMANDS.map((d) => [d.opcode, d]));

function available(c: Controller, d: AdminCommand): boolean {
  return d.available?.(c) ?? true;
}

/** The admin commands this controller supports, with their effects. */
export function adminEffects(c: Controller): [number, number][] {
  return ADMIN_COMMANDS.filter((d) => available(c, d)).map((d) => [d.opcode, d.effects]);
}

/** Identify Controller OACS derived from the table. */
export function adminOacs(c: Controller): number {
  let oacs = 0;
  for (const d of ADMIN_COMMANDS) if (available(c, d)) oacs |= d.oacs ?? 0;
  return oacs;
}

/** nvme_admin_cmd: opcode support, PSDT (PCI only allows PRPs), FUSE; then the handler. */
export async function dispatchAdmin(
  c: Controller,
  req: Request,
  ctx: CommandContext,
): Promise<Completion | Deferred> {
  const def = BY_OPCODE.get(ctx.cmd.opcode);
  if (def === undefined || !available(c, def)) return { status: withDnr(Status.INVALID_OPCODE) };
  if (c.params.transport === 'pci' && ctx.cmd.psdt !== 0) {
    return { status: withDnr(Status.INVALID_FIELD) };
  }
  if (ctx.cmd.fuse !== 0) return { status: Status.INVALID_FIELD };
  return def.run(c, ctx, req);
}
