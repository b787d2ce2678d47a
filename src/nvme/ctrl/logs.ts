// Get Log Page (admin 02h), reference §3.4: Error Information, SMART / Health, Firmware Slot,
// Changed Namespace List, Commands Supported and Effects, FDP, ANA (0Ch, ctrl/ana.ts) and
// Reservation Notification (80h, ctrl/resv-log.ts), with QEMU 7.2's offset, length and RAE
// rules. The Error Information log holds real entries (ctrl/error-log.ts).

import { ByteWriter, writeU32le } from '../../util/bytes.js';
import { Csi, NVM_IO_EFFECTS, ZONED_IO_EFFECTS } from '../spec/opcodes.js';
import { Status, withDnr } from '../spec/status.js';
import { rejected, type Completion } from '../spec/transfer.js';
import type { CommandContext } from '../spec/namespace-api.js';
import { AerType } from './aer.js';
import type { ControllerState } from './state.js';
import { NSID_BROADCAST } from './nsid.js';
import { FdpLid, fdpConfigsLog, fdpEventsLog, fdpStatsLog, ruhUsageLog } from '../ns/fdp/logs.js';
import { enduranceGroupOf } from '../subsys/endurance.js';
import { enduranceLog, OCP_SMART_LID, ocpSmartLog } from './endurance-log.js';
import { ANA_LSP_RGO, LID_ANA } from '../spec/ana.js';
import { AER_TYPE_IO_SPECIFIC, LID_RESV_NOTIFICATION } from './resv-log.js';

export const Lid = {
  ERROR_INFO: 0x01,
  SMART_INFO: 0x02,
  FW_SLOT_INFO: 0x03,
  CHANGED_NSLIST: 0x04,
  CMD_EFFECTS: 0x05,
  ENDGRP_INFO: 0x09,
} as const;

const fail = (s: number, field: string): Completion => rejected(withDnr(s), field);

export function getLogPage(c: ControllerState, ctx: CommandContext): Completion {
  const { cdw10, cdw11, cdw12, cdw13, cdw14 } = ctx.cmd;
  const lid = cdw10 & 0xff;
  const rae = ((cdw10 >>> 15) & 1) === 1;
  const numd = ((((cdw11 & 0xffff) << 16) >>> 0) | (cdw10 >>> 16)) >>> 0;
  // (NUMD + 1) * 4 computed in 32 bits: NUMD = FFFFFFFFh wraps to 0 bytes.
  const len = Number((BigInt(numd + 1) * 4n) & 0xffff_ffffn);
  const off = (BigInt(cdw13) << 32n) | BigInt(cdw12);
  if ((off & 3n) !== 0n) return fail(Status.INVALID_FIELD, 'lpo');
  if (c.mdtsBytes !== 0 && len > c.mdtsBytes) return fail(Status.INVALID_FIELD, 'cdw10.numd');
  let log: Uint8Array;
  let after: (() => void) | undefined;
  switch (lid) {
    case Lid.ERROR_INFO:
      log = c.errors.page();
      if (!rae) after = () => c.aer.clear(AerType.ERROR);
      break;
    case Lid.SMART_INFO: {
      if (off >= 512n) return fail(Status.INVALID_FIELD, 'lpo');
      const nsid = ctx.cmd.nsid;
      let nss;
      if (nsid === NSID_BROADCAST) {
        nss = [...c.namespaces.values()];
      } else {
        const ns = c.namespaces.get(nsid);
        if (ns === undefined) return fail(Status.INVALID_NSID, 'nsid');
        nss = [ns];
      }
      log = c.smart.log(nss, c.params.clock.nowMs(), c.errors.count);
      if (!rae) after = () => c.aer.clear(AerType.SMART);
      break;
    }
    case Lid.FW_SLOT_INFO: {
      const w = new ByteWriter(512);
      w.u8(0x01); // AFI: slot 1 active
      w.offset = 8;
      w.ascii(c.params.firmwareRevision.slice(0, 8), 8);
      log = w.buf;
      break;
    }
    case Lid.CHANGED_NSLIST: {
      log = new Uint8Array(4096);
      const ids = [...c.changedNsids].sort((a, b) => a - b);
      if (ids.length > 1024) writeU32le(log, 0, 0xffff_ffff);
      else ids.forEach((id, i) => writeU32le(log, 4 * i, id));
      after = () => {
        c.changedNsids.clear();
        if (!rae) c.aer.clear(AerType.NOTICE);
      };
      break;
    }
    case Lid.CMD_EFFECTS:
      log = commandEffects(c, cdw14 >>> 24);
      break;
    case Lid.ENDGRP_INFO: {
      // Where the subsystem has an endurance group (subsys/endurance.ts); LSI names it.
      const g = enduranceGroupOf(c.subsys, c.level);
      if (g === undefined) return fail(Status.INVALID_FIELD, 'cdw10.lid');
      if (cdw11 >>> 16 !== g.id) return fail(Status.INVALID_FIELD, 'cdw11');
      log = enduranceLog(g.figures());
      break;
    }
    case OCP_SMART_LID:
      // Vendor specific: the OCP extended SMART log with `ocp=on` (QEMU 10.0).
      if (!c.params.ocp) return fail(Status.INVALID_FIELD, 'cdw10.lid');
      log = ocpSmartLog(c.namespaces.values());
      if (!rae) after = () => c.aer.clear(AerType.SMART);
      break;
    case LID_ANA: {
      // Only an ANA subsystem has the log (Linux reads it when CMIC bit 3 is set).
      if (!c.subsys.anaReporting) return fail(Status.INVALID_FIELD, 'cdw10.lid');
      const rgo = ((cdw10 >>> 8) & ANA_LSP_RGO) !== 0;
      log = c.ana.log(c.subsys.anaGroups(c), rgo);
      if (!rae) after = () => c.aer.clear(AerType.NOTICE);
      break;
    }
    case LID_RESV_NOTIFICATION:
      log = c.resvLog.page();
      after = () => {
        c.resvLog.consume();
        if (!rae) c.aer.clear(AER_TYPE_IO_SPECIFIC);
      };
      break;
    case FdpLid.CONFIGS:
    case FdpLid.RUH_USAGE:
    case FdpLid.STATS:
    case FdpLid.EVENTS: {
      // Endurance group scope: LSI (cdw11 31:16) names group 1, the subsystem's only one.
      if (cdw11 >>> 16 !== 1) return fail(Status.INVALID_FIELD, 'cdw11');
      const g = c.subsys.fdp;
      if (lid === FdpLid.CONFIGS) log = fdpConfigsLog(g);
      else if (g === undefined) return fail(Status.FDP_DISABLED, 'cdw11');
      else if (lid === FdpLid.RUH_USAGE) log = ruhUsageLog(g);
      else if (lid === FdpLid.STATS) log = fdpStatsLog(g);
      // LSP bit 0 (cdw10 bit 8): host events, else controller events.
      else log = fdpEventsLog(g, ((cdw10 >>> 8) & 1) === 1);
      break;
    }
    default:
      return fail(Status.INVALID_FIELD, 'cdw10.lid');
  }
  if (off >= BigInt(log.length)) return fail(Status.INVALID_FIELD, 'lpo');
  const start = Number(off);
  const part = log.subarray(start, start + Math.min(log.length - start, len));
  // QEMU clears the event state before the transfer, whatever its outcome.
  after?.();
  return { status: ctx.data.toHost(0, part) };
}

/** LID 05h: admin table + the I/O set chosen by CC.CSS (read live, as QEMU does). */
function commandEffects(c: ControllerState, csi: number): Uint8Array {
  const log = new Uint8Array(4096);
  for (const a of c.adminCommands()) writeU32le(log, 4 * a.opcode, a.effects);
  const css = (c.cc >>> 4) & 0x7;
  let io: ReadonlyMap<number, number> | undefined;
  if (css === 0) io = NVM_IO_EFFECTS;
  else if (css === 6)
    io = csi === Csi.NVM ? NVM_IO_EFFECTS : csi === Csi.ZONED ? ZONED_IO_EFFECTS : undefined;
  if (io !== undefined) for (const [opc, eff] of io) writeU32le(log, 1024 + 4 * opc, eff);
  return log;
}
