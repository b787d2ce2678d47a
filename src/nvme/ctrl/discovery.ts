// The admin commands of a discovery controller (NVMe-oF 1.1 §5, reference nvme-tcp.md §2.6,
// §6.15): Identify (CNS 01h), the Discovery Log Page (70h) honouring LPO and NUMD, Get/Set
// Features (Asynchronous Event Configuration, Keep Alive Timer), AER, Keep Alive and the Fabrics
// commands. Everything but Identify and the log page is the I/O controller's own handler; the
// log page's content comes from the transport that created the controller (Controller
// .discoveryLog), which knows the ports and subsystems.

import { AdminOpc, Effects } from '../spec/opcodes.js';
import { Status, withDnr } from '../spec/status.js';
import { rejected, type Completion } from '../spec/transfer.js';
import type { CommandContext } from '../spec/namespace-api.js';
import type { AdminCommand } from './admin-table.js';
import { fabricsCommand } from './fabrics.js';
import { getFeatures, setFeatures } from './features.js';
import { identifyDiscovery } from './id-ctrl.js';
import { OK, type ControllerState } from './state.js';

/** Log Identifier of the Discovery Log Page. */
export const DISCOVERY_LOG_LID = 0x70;
const CNS_CTRL = 0x01;
const CSUPP = Effects.CSUPP;

export const DISCOVERY_COMMANDS: readonly AdminCommand[] = [
  {
    opcode: AdminOpc.GET_LOG_PAGE,
    name: 'Get Log Page',
    effects: CSUPP,
    oacs: 0,
    run: discoveryLogPage,
  },
  {
    opcode: AdminOpc.IDENTIFY,
    name: 'Identify',
    effects: CSUPP,
    oacs: 0,
    run: (c, ctx) =>
      (ctx.cmd.cdw10 & 0xff) !== CNS_CTRL
        ? rejected(withDnr(Status.INVALID_FIELD), 'cdw10.cns')
        : copyOut(identifyDiscovery(c), 0, ctx),
  },
  {
    opcode: AdminOpc.SET_FEATURES,
    name: 'Set Features',
    effects: CSUPP,
    oacs: 0,
    run: setFeatures,
  },
  {
    opcode: AdminOpc.GET_FEATURES,
    name: 'Get Features',
    effects: CSUPP,
    oacs: 0,
    run: getFeatures,
  },
  {
    // Held until reset: the log never changes while the target runs.
    opcode: AdminOpc.ASYNC_EVENT_REQ,
    name: 'Asynchronous Event Request',
    effects: CSUPP,
    oacs: 0,
    run: (c, ctx) => c.aer.submit(ctx.cmd.cid),
  },
  {
    opcode: AdminOpc.KEEP_ALIVE,
    name: 'Keep Alive',
    effects: CSUPP,
    oacs: 0,
    run: (c) => {
      c.keepAlive();
      return OK;
    },
  },
  { opcode: AdminOpc.FABRICS, name: 'Fabrics', effects: 0, oacs: 0, run: fabricsCommand },
];

const BY_OPCODE = new Map(DISCOVERY_COMMANDS.map((d) => [d.opcode, d]));

export function discoveryCommand(opcode: number): AdminCommand | undefined {
  return BY_OPCODE.get(opcode);
}

/** Get Log Page of a discovery controller: LID 70h only, LPO dword aligned and within the log. */
function discoveryLogPage(c: ControllerState, ctx: CommandContext): Completion {
  const { cdw10, cdw12, cdw13 } = ctx.cmd;
  if ((cdw10 & 0xff) !== DISCOVERY_LOG_LID)
    return rejected(withDnr(Status.INVALID_FIELD), 'cdw10.lid');
  const lpo = BigInt(cdw12 >>> 0) | (BigInt(cdw13 >>> 0) << 32n);
  const log = c.discoveryLog?.() ?? new Uint8Array(1024);
  if ((lpo & 3n) !== 0n || lpo > BigInt(log.length)) {
    return rejected(withDnr(Status.INVALID_FIELD), 'lpo');
  }
  return copyOut(log, Number(lpo), ctx);
}

/** Copies `src[from..]` into the host buffer, truncated to its length, zero padded. */
function copyOut(src: Uint8Array, from: number, ctx: CommandContext): Completion {
  const out = new Uint8Array(ctx.data.length);
  out.set(src.subarray(from, from + ctx.data.length));
  return { status: ctx.data.toHost(0, out) };
}
