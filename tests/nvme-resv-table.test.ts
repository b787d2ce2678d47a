// Every command the reservation rules name, through the controllers' one command route, for
// each of the six reservation types and each role: the holder, a registrant that does not hold
// the reservation, and a host that is not registered (NVMe Base Spec 2.1 Figure 645 "Command
// Behavior in the Presence of a Reservation" and Figure 646, the command groups: Read, Compare,
// Verify read; Write, Write Zeroes, Write Uncorrectable, Dataset Management, Flush, Copy and the
// admin Format NVM write). src/nvme/ns/resv/model.test.ts checks the model per group; this table
// checks that each command reaches the model in its group, over NVMe/TCP with three hosts.
// Zone commands are in the same RESV_GROUP table and need a zoned namespace: not repeated here.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NvmeTcpController, type CommandResult } from '../src/nvme-tcp/host/index.js';
import { AdminOpc, IoOpc } from '../src/nvme/spec/opcodes.js';
import { Status, withDnr } from '../src/nvme/spec/status.js';
import { writeU16le, writeU32le, writeU64le } from '../src/util/bytes.js';
import { tcpMachine, type TcpMachine } from './support/tcp-machine.js';

const NQN = 'nqn.2019-08.org.qemu:rtab';
const CONFLICT = withDnr(Status.RESERVATION_CONFLICT);

const args = (dir: string): string[] => [
  '-drive',
  `file=${dir}/ns.img,if=none,id=d1,format=raw`,
  '-device',
  'nvme-subsys,id=s0,nqn=rtab',
  ...['c0', 'c1', 'c2'].flatMap((id) => ['-device', `nvme,id=${id},serial=rtab0,subsys=s0`]),
  '-device',
  'nvme-ns,drive=d1,nsid=1',
];

type Role = 'H' | 'R' | 'N';
const KEY: Record<Role, bigint> = { H: 0x1111n, R: 0x2222n, N: 0x3333n };

/** Figure 645, per role: [read group, write group], Y allowed, N Reservation Conflict. */
const FIGURE_645: Record<number, Record<Role, string>> = {
  1: { H: 'YY', R: 'YN', N: 'YN' }, // Write Exclusive
  2: { H: 'YY', R: 'NN', N: 'NN' }, // Exclusive Access
  3: { H: 'YY', R: 'YY', N: 'YN' }, // Write Exclusive - Registrants Only
  4: { H: 'YY', R: 'YY', N: 'NN' }, // Exclusive Access - Registrants Only
  5: { H: 'YY', R: 'YY', N: 'YN' }, // Write Exclusive - All Registrants
  6: { H: 'YY', R: 'YY', N: 'NN' }, // Exclusive Access - All Registrants
};

const keys = (a: bigint, b = 0n): Uint8Array => {
  const d = new Uint8Array(16);
  writeU64le(d, 0, a);
  writeU64le(d, 8, b);
  return d;
};

/** DSM: one range (context attributes, NLB, SLBA) of 8 blocks at LBA 64, deallocate. */
const dsmRange = (): Uint8Array => {
  const d = new Uint8Array(16);
  writeU32le(d, 4, 8);
  writeU64le(d, 8, 64n);
  return d;
};
/** Copy: one source range descriptor (format 0): LBA 0, one block (NLB 0's based). */
const copyRange = (): Uint8Array => {
  const d = new Uint8Array(32);
  writeU64le(d, 8, 0n);
  writeU16le(d, 16, 0);
  return d;
};

interface Cmd {
  readonly name: string;
  readonly group: 'read' | 'write';
  run(c: NvmeTcpController): Promise<CommandResult>;
}

// Reads look at LBA 0, which no command here writes, so a Compare against zeros succeeds.
const COMMANDS: readonly Cmd[] = [
  {
    name: 'Read',
    group: 'read',
    run: (c) => c.ioCommand({ opcode: IoOpc.READ, nsid: 1 }, { readLength: 512 }),
  },
  {
    name: 'Compare',
    group: 'read',
    run: (c) => c.ioCommand({ opcode: IoOpc.COMPARE, nsid: 1 }, { write: new Uint8Array(512) }),
  },
  { name: 'Verify', group: 'read', run: (c) => c.ioCommand({ opcode: IoOpc.VERIFY, nsid: 1 }) },
  {
    name: 'Write',
    group: 'write',
    run: (c) =>
      c.ioCommand(
        { opcode: IoOpc.WRITE, nsid: 1, cdw10: 16 },
        { write: new Uint8Array(512).fill(7) },
      ),
  },
  {
    name: 'Write Zeroes',
    group: 'write',
    run: (c) => c.ioCommand({ opcode: IoOpc.WRITE_ZEROES, nsid: 1, cdw10: 17 }),
  },
  {
    name: 'Write Uncorrectable',
    group: 'write',
    run: (c) => c.ioCommand({ opcode: IoOpc.WRITE_UNCOR, nsid: 1, cdw10: 200 }),
  },
  {
    name: 'Dataset Management',
    group: 'write',
    run: (c) =>
      c.ioCommand({ opcode: IoOpc.DSM, nsid: 1, cdw10: 0, cdw11: 1 << 2 }, { write: dsmRange() }),
  },
  { name: 'Flush', group: 'write', run: (c) => c.ioCommand({ opcode: IoOpc.FLUSH, nsid: 1 }) },
  {
    name: 'Copy',
    group: 'write',
    // SDLBA 32 (CDW10-11), NR 0 (one range), format 0.
    run: (c) =>
      c.ioCommand({ opcode: IoOpc.COPY, nsid: 1, cdw10: 32, cdw12: 0 }, { write: copyRange() }),
  },
  {
    name: 'Format NVM',
    group: 'write',
    // The format the namespace has (LBAF 0, no PI): only the reservation decides.
    run: (c) => c.adminCommand({ opcode: AdminOpc.FORMAT_NVM, nsid: 1, cdw10: 0 }),
  },
];

describe('Figure 645/646 per command: six types × the commands × holder, registrant, other', () => {
  let m: TcpMachine;
  const hosts = {} as Record<Role, NvmeTcpController>;
  before(async () => {
    m = await tcpMachine('rtab', { 'ns.img': 1 << 20 }, args);
    for (const [i, role] of (['H', 'R', 'N'] as const).entries()) {
      hosts[role] = await NvmeTcpController.connect({
        address: '127.0.0.1',
        port: m.port,
        subnqn: NQN,
        hostnqn: `nqn.2014-08.org.nvmexpress:uuid:0000000${i + 1}-0000-0000-0000-000000000000`,
        hostid: new Uint8Array(16).fill(i + 1),
        ioQueues: 1,
        kato: 0,
      });
    }
  });
  after(async () => {
    for (const c of Object.values(hosts)) await c.disconnect();
    await m.close();
  });

  const ok = async (what: string, r: Promise<CommandResult>): Promise<void> =>
    assert.equal((await r).status, 0, what);

  for (const [rtype, roles] of Object.entries(FIGURE_645).map(
    ([t, r]) => [Number(t), r] as const,
  )) {
    it(`type ${rtype}`, async () => {
      const { H, R } = hosts;
      await ok(
        'register H',
        H.ioCommand({ opcode: IoOpc.RESV_REGISTER, nsid: 1 }, { write: keys(0n, KEY.H) }),
      );
      await ok(
        'register R',
        R.ioCommand({ opcode: IoOpc.RESV_REGISTER, nsid: 1 }, { write: keys(0n, KEY.R) }),
      );
      await ok(
        'acquire',
        H.ioCommand(
          { opcode: IoOpc.RESV_ACQUIRE, nsid: 1, cdw10: rtype << 8 },
          { write: keys(KEY.H) },
        ),
      );
      const got: string[] = [];
      const want: string[] = [];
      for (const role of ['H', 'R', 'N'] as const) {
        for (const cmd of COMMANDS) {
          const allowed = roles[role][cmd.group === 'read' ? 0 : 1] === 'Y';
          const status = (await cmd.run(hosts[role])).status;
          got.push(`${role} ${cmd.name}: ${status === 0 ? 'ok' : `0x${status.toString(16)}`}`);
          want.push(`${role} ${cmd.name}: ${allowed ? 'ok' : `0x${CONFLICT.toString(16)}`}`);
        }
      }
      assert.deepEqual(got, want);
      // Clear (RRELA 1): no reservation and no registrant for the next type.
      await ok(
        'clear',
        H.ioCommand(
          { opcode: IoOpc.RESV_RELEASE, nsid: 1, cdw10: (rtype << 8) | 1 },
          { write: keys(KEY.H).subarray(0, 8) },
        ),
      );
    });
  }
});
