// The admin command table (house rule 6): dispatch, OACS and the Commands Supported and Effects
// log all derive from it ([7.2] set, reference §3.1). Each entry says which personalities have
// the command: queue creation, deletion and Doorbell Buffer Config exist only on PCIe (queues are
// created by Connect over fabrics, there are no doorbells); Keep Alive and the Fabrics commands
// exist only over fabrics (NVMe-oF 1.1 §3). A command absent from the personality is Invalid
// Opcode, and Identify and the effects log never list it.

import { AdminOpc, Effects } from '../spec/opcodes.js';
import { Status, withDnr } from '../spec/status.js';
import { rejected, type Completion } from '../spec/transfer.js';
import type { CommandContext } from '../spec/namespace-api.js';
import type { MaybePromise } from '../../util/maybe.js';
import { formatNvm, nsAttachment } from './admin-ns.js';
import { fabricsCommand } from './fabrics.js';
import { getFeatures, setFeatures } from './features.js';
import { identify } from './identify.js';
import { getLogPage } from './logs.js';
import { nsManagement } from './ns-mgmt.js';
import type { Transport } from './params.js';
import { OK, type AdminCommandInfo, type ControllerState, type QueueCommands } from './state.js';
import { primaryOf, virtMgmt } from './virt.js';
import { directiveReceive, directiveSend } from './directives.js';

type Handler = (c: ControllerState, ctx: CommandContext) => MaybePromise<Completion>;

export interface AdminCommand extends AdminCommandInfo {
  readonly name: string;
  readonly run: Handler;
  /** The personalities that have the command (both when undefined). */
  readonly only?: Transport;
  /**
   * Whether a controller has the command, when that depends on its QEMU compatibility level
   * (spec/levels.ts) or configuration (every controller of the personality when undefined).
   */
  readonly when?: (c: ControllerState) => boolean;
  /** The effects, when they depend on the level (replaces `effects` in the effects log). */
  readonly effectsOf?: (c: ControllerState) => number;
  /** The OACS bits, when they depend on the level or configuration (replaces `oacs`). */
  readonly oacsOf?: (c: ControllerState) => number;
}

const CSUPP = Effects.CSUPP;

/** A PCIe queue command, run by the front end that owns the queues. */
const queueCommand =
  (pick: (q: QueueCommands) => (ctx: CommandContext) => Completion): Handler =>
  (c, ctx) => {
    const q = c.queueCommands;
    return q === undefined ? rejected(withDnr(Status.INVALID_OPCODE), 'opcode') : pick(q)(ctx);
  };

export const ADMIN_COMMANDS: readonly AdminCommand[] = [
  {
    opcode: AdminOpc.DELETE_SQ,
    name: 'Delete I/O Submission Queue',
    effects: CSUPP,
    oacs: 0,
    run: queueCommand((q) => (ctx) => q.deleteSq(ctx)),
    only: 'pci',
  },
  {
    opcode: AdminOpc.CREATE_SQ,
    name: 'Create I/O Submission Queue',
    effects: CSUPP,
    oacs: 0,
    run: queueCommand((q) => (ctx) => q.createSq(ctx)),
    only: 'pci',
  },
  {
    opcode: AdminOpc.GET_LOG_PAGE,
    name: 'Get Log Page',
    effects: CSUPP,
    oacs: 0,
    run: getLogPage,
  },
  {
    opcode: AdminOpc.DELETE_CQ,
    name: 'Delete I/O Completion Queue',
    effects: CSUPP,
    oacs: 0,
    run: queueCommand((q) => (ctx) => q.deleteCq(ctx)),
    only: 'pci',
  },
  {
    opcode: AdminOpc.CREATE_CQ,
    name: 'Create I/O Completion Queue',
    effects: CSUPP,
    oacs: 0,
    run: queueCommand((q) => (ctx) => q.createCq(ctx)),
    only: 'pci',
  },
  { opcode: AdminOpc.IDENTIFY, name: 'Identify', effects: CSUPP, oacs: 0, run: identify },
  { opcode: AdminOpc.ABORT, name: 'Abort', effects: CSUPP, oacs: 0, run: abort },
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
    opcode: AdminOpc.ASYNC_EVENT_REQ,
    name: 'Asynchronous Event Request',
    effects: CSUPP,
    oacs: 0,
    run: (c, ctx) => c.aer.submit(ctx.cmd.cid),
  },
  {
    // Beyond QEMU 7.2 (which advertises OACS bit 3 but implements only attachment): create and
    // delete on the subsystem's capacity (ctrl/ns-mgmt.ts, subsys/ns-mgmt.ts).
    opcode: AdminOpc.NS_MANAGEMENT,
    name: 'Namespace Management',
    effects: CSUPP | Effects.NCC | Effects.NIC,
    run: nsManagement,
    oacs: 0x08,
  },
  {
    opcode: AdminOpc.NS_ATTACHMENT,
    name: 'Namespace Attachment',
    effects: CSUPP | Effects.NIC,
    // QEMU 10.0 adds Controller Capability Change.
    effectsOf: (c) => c.level.nsAttachmentEffects,
    run: nsAttachment,
    oacs: 0x08,
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
    only: 'fabrics',
  },
  {
    opcode: AdminOpc.VIRT_MNGMT,
    name: 'Virtualization Management',
    effects: CSUPP,
    run: virtMgmt,
    // [7.2] listed and executed always; OACS bit7 stays clear even with SR-IOV (measured
    // through qtest: OACS 0x10a with sriov_max_vfs=2, although reference §2.6 says +0x80).
    // QEMU 10.0: only an SR-IOV primary has it, and advertises it (OACS 0x1aa).
    oacs: 0,
    when: (c) => !c.level.virtMgmtOnSriovOnly || primaryOf(c) !== undefined,
    oacsOf: (c) => (c.level.virtMgmtOnSriovOnly ? 0x80 : 0),
  },
  {
    opcode: AdminOpc.DBBUF_CONFIG,
    name: 'Doorbell Buffer Config',
    effects: CSUPP,
    run: queueCommand((q) => (ctx) => q.dbbufConfig(ctx)),
    oacs: 0x100,
    only: 'pci',
    // `dbcs=off` (QEMU 10.0) removes it.
    when: (c) => c.params.dbcs,
  },
  {
    opcode: AdminOpc.DIRECTIVE_SEND,
    name: 'Directive Send',
    effects: CSUPP,
    oacs: 0x20,
    run: directiveSend,
    when: (c) => c.level.directives,
  },
  {
    opcode: AdminOpc.DIRECTIVE_RECV,
    name: 'Directive Receive',
    effects: CSUPP,
    oacs: 0x20,
    run: directiveReceive,
    when: (c) => c.level.directives,
  },
  {
    // The Fabrics command set (Property Get/Set, Connect, Disconnect, Authentication): not an
    // admin command of the effects log (effects 0: unlisted, as nvmet).
    opcode: AdminOpc.FABRICS,
    name: 'Fabrics',
    effects: 0,
    oacs: 0,
    run: fabricsCommand,
    only: 'fabrics',
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

/** Whether controller `c` presenting `transport` has command `d`. */
function has(d: AdminCommand, transport: Transport, c: ControllerState): boolean {
  return (d.only === undefined || d.only === transport) && (d.when?.(c) ?? true);
}

/** The entry of `opcode` when controller `c` presenting `transport` has it. */
export function adminCommand(
  opcode: number,
  transport: Transport,
  c: ControllerState,
): AdminCommand | undefined {
  const d = BY_OPCODE.get(opcode);
  return d !== undefined && has(d, transport, c) ? d : undefined;
}

/**
 * The commands of controller `c` presenting `transport` that the effects log lists, with the
 * effects and OACS bits of its level and configuration.
 */
export function listedAdminCommands(transport: Transport, c: ControllerState): AdminCommandInfo[] {
  return ADMIN_COMMANDS.filter((d) => d.effects !== 0 && has(d, transport, c)).map((d) =>
    d.effectsOf === undefined && d.oacsOf === undefined
      ? d
      : {
          opcode: d.opcode,
          effects: d.effectsOf?.(c) ?? d.effects,
          oacs: d.oacsOf?.(c) ?? d.oacs,
        },
  );
}

/**
 * Abort: dw0 bit0 = 1 ("not aborted") unless the CID is an outstanding AER, which then
 * completes with 0x007. In-flight I/O is never aborted (QEMU 7.2 cancels asynchronously and
 * still reports 1; here commands simply run to completion). The SQID must name a queue.
 */
function abort(c: ControllerState, ctx: CommandContext): Completion {
  const sqid = ctx.cmd.cdw10 & 0xffff;
  const cid = ctx.cmd.cdw10 >>> 16;
  const exists = c.queueCommands?.hasSq(sqid) ?? (sqid === 0 || c.fabrics?.hasQueue(sqid) === true);
  if (!exists) return rejected(withDnr(Status.INVALID_FIELD), 'cdw10.sqid');
  if (sqid === 0 && c.aer.abort(cid)) return { status: 0, dw0: 0 };
  return { status: 0, dw0: 1 };
}
