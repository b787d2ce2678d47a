// The FDP workload of the `fdp` configuration (NS 1: placement handles 0-3 -> RUH 0-3; NS 2:
// the controller-assigned handle; 1 MiB reclaim units = 2048 blocks of 512 bytes): set a host
// timestamp, enable every event type, write with and without placement, abandon a partly
// written unit (RUH Update), fill one unit exactly, write with an invalid placement
// identifier, then read RUH status and logs 09h, 20h-23h. Which events QEMU logs for these
// steps is the point of recording them.

import { AdminOpc, IoOpc } from '../../src/nvme/spec/opcodes.js';
import type { Recorder } from './recorder.js';

/** Event types of TP 4146 Figure 'FDP Event Types': host 00h-03h, controller 80h-81h. */
const EVENT_TYPES = [0x00, 0x01, 0x02, 0x03, 0x80, 0x81];
const BLOCK = 512;

/** A placed write of `nlb` blocks at `slba`: DTYPE 2 (data placement), DSPEC = PID. */
async function placedWrite(
  r: Recorder,
  key: string,
  nsid: number,
  slba: number,
  nlb: number,
  pid?: number,
): Promise<void> {
  const fill = new Uint8Array(nlb * BLOCK).fill(0xa5);
  await r.send(
    key,
    1,
    {
      opcode: IoOpc.WRITE,
      nsid,
      cdw10: slba,
      cdw12: (pid !== undefined ? 2 << 20 : 0) | (nlb - 1),
      cdw13: pid !== undefined ? pid << 16 : 0,
    },
    0,
    fill,
  );
}

/** A fixed host timestamp (ms), so event timestamps show QEMU's value and attribute byte. */
const HOST_TIMESTAMP = 0x0123_4567_89abn;

export async function fdpWorkload(r: Recorder): Promise<void> {
  // Under qtest the virtual clock stands still: timestamps are this value plus 0 ms.
  const ts = new Uint8Array(8);
  for (let i = 0; i < 6; i++) ts[i] = Number((HOST_TIMESTAMP >> BigInt(8 * i)) & 0xffn);
  await r.send(
    'fdp set-features fid=0x0e timestamp',
    0,
    { opcode: AdminOpc.SET_FEATURES, cdw10: 0x0e },
    0,
    ts,
  );
  await r.send(
    'fdp get-features fid=0x0e timestamp',
    0,
    { opcode: AdminOpc.GET_FEATURES, cdw10: 0x0e },
    4096,
  );
  for (const ph of [0, 1, 2]) {
    await r.send(
      `fdp set-features fid=0x1e nsid=1 ph=${ph} enable all types`,
      0,
      {
        opcode: AdminOpc.SET_FEATURES,
        nsid: 1,
        cdw10: 0x1e,
        cdw11: (EVENT_TYPES.length << 16) | ph,
        cdw12: 1,
      },
      0,
      Uint8Array.from(EVENT_TYPES),
    );
  }
  await r.send(
    'fdp get-features fid=0x1e nsid=1 ph=0 noet=255 after enable',
    0,
    { opcode: AdminOpc.GET_FEATURES, nsid: 1, cdw10: 0x1e, cdw11: 0xff << 16 },
    4096,
  );
  await placedWrite(r, 'fdp write nsid=1 lba=0 nlb=8 pid=1', 1, 0, 8, 1);
  await placedWrite(r, 'fdp write nsid=1 lba=8 nlb=8 pid=0', 1, 8, 8, 0);
  await placedWrite(r, 'fdp write nsid=1 lba=16 nlb=8 unplaced', 1, 16, 8);
  await placedWrite(r, 'fdp write nsid=2 lba=0 nlb=8 unplaced', 2, 0, 8);
  await placedWrite(r, 'fdp write nsid=1 lba=24 nlb=8 pid=7 (invalid)', 1, 24, 8, 7);
  await r.send(
    'fdp ruh status nsid=1 before update',
    1,
    { opcode: IoOpc.IO_MGMT_RECV, nsid: 1, cdw10: 1, cdw11: 1023 },
    4096,
  );
  // RUH Update of PID 1 (NPID 0's based = 0): the unit written above is abandoned.
  const pids = new Uint8Array(2);
  pids[0] = 1;
  await r.send(
    'fdp ruh update nsid=1 pid=1',
    1,
    { opcode: IoOpc.IO_MGMT_SEND, nsid: 1, cdw10: 1 },
    0,
    pids,
  );
  // Fill the unit of PID 2: 2048 blocks in 8 writes of 256 (128 KiB, below MDTS).
  for (let i = 0; i < 8; i++) {
    await placedWrite(
      r,
      `fdp write nsid=1 lba=${1024 + 256 * i} nlb=256 pid=2 (${i + 1}/8)`,
      1,
      1024 + 256 * i,
      256,
      2,
    );
  }
  await r.send(
    'fdp ruh status nsid=1 after',
    1,
    { opcode: IoOpc.IO_MGMT_RECV, nsid: 1, cdw10: 1, cdw11: 1023 },
    4096,
  );
  await r.send(
    'fdp ruh status nsid=2 after',
    1,
    { opcode: IoOpc.IO_MGMT_RECV, nsid: 2, cdw10: 1, cdw11: 1023 },
    4096,
  );
  await r.log('fdp log lid=0x09 lsi=1', { lid: 0x09, lsi: 1 });
  for (const lid of [0x20, 0x21, 0x22]) {
    await r.log(`fdp log lid=0x${lid.toString(16)} lsi=1`, { lid, lsi: 1 });
  }
  await r.log('fdp log lid=0x23 host events', { lid: 0x23, lsp: 1, lsi: 1 });
  await r.log('fdp log lid=0x23 controller events', { lid: 0x23, lsp: 0, lsi: 1 });
  await r.log('fdp log lid=0x02 smart', { lid: 0x02 });
}
