// Interoperability findings of the Linux 6.1 guest (docs/nvme-tcp.md, "What the Linux 6.1 guest
// showed") that involve the real controller behind the target: nvme-cli 2.3's
// `effects-log --csi=0` over TCP listed Create/Delete I/O SQ/CQ and Doorbell Buffer Config as
// supported, and the target executed them (a Create I/O CQ succeeded and made a queue in the
// in-process controller that no host can reach). Over fabrics they are refused like nvmet does,
// and neither the effects log nor OACS advertises them.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Machine } from '../src/machine/machine.js';
import { machineSettings } from '../src/machine/settings.js';
import { registerAllTypes } from '../src/devices.js';
import { parseArgs } from '../src/config/options.js';
import { startNvmeTcp } from '../src/nvme-tcp/target/index.js';
import type { NvmeTcpService } from '../src/nvme-tcp/target/index.js';
import { NvmeTcpController } from '../src/nvme-tcp/host/index.js';
import { AdminOpc, IoOpc } from '../src/nvme/spec/opcodes.js';
import { readU16le, readU32le } from '../src/util/bytes.js';

const NQN = 'nqn.2019-08.org.qemu:lx';
const LID_EFFECTS = 0x05;

describe('NVMe/TCP target: PCIe-only admin commands, as the Linux guest saw them', () => {
  let dir = '';
  let machine: Machine;
  let svc: NvmeTcpService;
  let c: NvmeTcpController;

  before(async () => {
    registerAllTypes();
    dir = mkdtempSync(join(tmpdir(), 'nvmemu-tcp-lx-'));
    writeFileSync(join(dir, 'nvm.img'), new Uint8Array(1 << 20));
    const a = parseArgs([
      '-drive',
      `file=${join(dir, 'nvm.img')},if=none,id=nvm,format=raw`,
      '-device',
      'nvme-subsys,id=lx,nqn=lx',
      '-device',
      'nvme,id=c0,serial=lx0,subsys=lx',
      '-device',
      'nvme-ns,drive=nvm,nsid=1',
    ]);
    machine = await Machine.create(a.items, { settings: machineSettings(a), dataDir: dir });
    svc = await startNvmeTcp(machine, { listen: '127.0.0.1:0', discoveryPort: null });
    c = await NvmeTcpController.connect({
      address: '127.0.0.1',
      port: svc.target.ioPort.port,
      subnqn: NQN,
      ioQueues: 1,
    });
  });
  after(async () => {
    await c.disconnect();
    await svc.close();
    await machine.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  // What `nvme admin-passthru` would send (valid PCIe field values).
  const pcieOnly: [string, number, number, number][] = [
    ['Create I/O Completion Queue', AdminOpc.CREATE_CQ, (63 << 16) | 5, 1],
    ['Create I/O Submission Queue', AdminOpc.CREATE_SQ, (63 << 16) | 5, (5 << 16) | 1],
    ['Delete I/O Submission Queue', AdminOpc.DELETE_SQ, 1, 0],
    ['Delete I/O Completion Queue', AdminOpc.DELETE_CQ, 1, 0],
    ['Doorbell Buffer Config', AdminOpc.DBBUF_CONFIG, 0, 0],
  ];
  for (const [name, opcode, cdw10, cdw11] of pcieOnly) {
    it(`answers ${name} with Invalid Opcode + DNR (4001h)`, async () => {
      const r = await c.adminCommand({ opcode, cdw10, cdw11 });
      assert.equal(r.status, 0x4001);
    });
  }

  it('keeps the fabrics I/O queue working after the refused queue commands', async () => {
    const r = await c.ioCommand(
      { opcode: IoOpc.READ, nsid: 1, cdw10: 0, cdw12: 0 },
      { readLength: 512 },
    );
    assert.equal(r.status, 0);
  });

  it('lists none of them in the Commands Supported and Effects log, adds Keep Alive, keeps the others', async () => {
    const log = await c.adminOk(
      'effects',
      { opcode: AdminOpc.GET_LOG_PAGE, nsid: 0xffff_ffff, cdw10: LID_EFFECTS | (1023 << 16) },
      { readLength: 4096 },
    );
    const acs = (op: number): number => readU32le(log.data, op * 4);
    for (const [, opcode] of pcieOnly) assert.equal(acs(opcode), 0, `ACS${opcode}`);
    assert.equal(acs(AdminOpc.KEEP_ALIVE), 1, 'Keep Alive (answered by the fabrics layer)');
    assert.equal(acs(AdminOpc.IDENTIFY) & 1, 1, 'Identify stays supported');
    assert.equal(acs(AdminOpc.GET_LOG_PAGE) & 1, 1, 'Get Log Page stays supported');
    assert.equal(readU32le(log.data, 1024 + IoOpc.READ * 4) & 1, 1, 'Read (IOCS) stays supported');
  });

  it('applies the effects overlay at the right place when read at an offset (LPO 16)', async () => {
    const log = await c.adminOk(
      'effects at LPO 16',
      {
        opcode: AdminOpc.GET_LOG_PAGE,
        nsid: 0xffff_ffff,
        cdw10: LID_EFFECTS | (7 << 16),
        cdw12: 16,
      },
      { readLength: 32 },
    );
    // Bytes 16..47 of the log: ACS4 (Delete CQ, refused), ACS5 (Create CQ, refused), ACS6
    // (Identify, supported) ...
    assert.equal(readU32le(log.data, 0), 0, 'ACS4');
    assert.equal(readU32le(log.data, 4), 0, 'ACS5');
    assert.equal(readU32le(log.data, 8) & 1, 1, 'ACS6');
  });

  it('clears OACS bit 8 (Doorbell Buffer Config) in Identify Controller', () => {
    assert.equal(readU16le(c.identify, 256) & 0x100, 0);
  });
});
