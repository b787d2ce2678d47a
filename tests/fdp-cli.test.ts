// `nvmemu nvme fdp ...` and the protection options of `nvmemu nvme read/write` end to end over
// NVMe/TCP (127.0.0.1, random port): an FDP subsystem with a PI namespace (extended LBA, type
// 1) and a separate-metadata PI namespace; nvme-cli's option names and text output.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc16T10Dif } from '../src/util/crc.js';
import { nvmeCli, tcpMachine, type TcpMachine } from './support/tcp-machine.js';

const NQN = 'nqn.2019-08.org.qemu:fdpcli';

describe('nvmemu nvme fdp and PI read/write over NVMe/TCP', () => {
  let m: TcpMachine;
  const cli = (...args: string[]) => nvmeCli(args, ['--trsvcid', String(m.port), '-n', NQN]);

  before(async () => {
    m = await tcpMachine(
      'fdp-cli',
      { 'a.img': 4 << 20, 'b.img': 4 << 20 },
      (d) => [
        '-drive',
        `file=${join(d, 'a.img')},if=none,id=a,format=raw`,
        '-drive',
        `file=${join(d, 'b.img')},if=none,id=b,format=raw`,
        '-device',
        'nvme-subsys,id=s,nqn=fdpcli,fdp=on,fdp.nruh=4,fdp.runs=64K',
        '-device',
        'nvme,id=c0,serial=fdp0,subsys=s',
        '-device',
        'nvme-ns,drive=a,nsid=1,ms=8,mset=1,pi=1,fdp.ruhs=0-1',
        '-device',
        'nvme-ns,drive=b,nsid=2,ms=8,pi=1,fdp.ruhs=2',
      ],
      null,
    );
  });
  after(() => m.close());

  it('writes with PRACT (data only) and reads back 520-byte extended blocks with their tuples', async () => {
    const data = Uint8Array.from({ length: 1024 }, (_, i) => (i * 5) & 0xff);
    writeFileSync(join(m.dir, 'in'), data);
    const w = await cli(
      'write',
      '--namespace-id',
      '1',
      '-s',
      '6',
      '-c',
      '1',
      '-d',
      join(m.dir, 'in'),
      '-p',
      '0xd',
      '-r',
      '6',
      '--app-tag',
      '0x77',
      '-m',
      '0xffff',
      '-T',
      '2',
      '-S',
      '1',
    );
    assert.equal(w.code, 0, w.err);
    assert.equal(w.out, 'write: Success\n');
    const r = await cli(
      'read',
      '--namespace-id',
      '1',
      '-s',
      '6',
      '-c',
      '1',
      '-d',
      join(m.dir, 'out'),
      '-p',
      '7',
      '-r',
      '6',
      '--app-tag',
      '0x77',
      '-m',
      '0xffff',
    );
    assert.equal(r.code, 0, r.err);
    const back = readFileSync(join(m.dir, 'out'));
    assert.equal(back.length, 1040);
    assert.deepEqual(back.subarray(0, 512), Buffer.from(data.subarray(0, 512)));
    const g = crc16T10Dif(data.subarray(0, 512)).toString(16).padStart(4, '0');
    assert.equal(back.subarray(512, 520).toString('hex'), `${g}007700000006`);
    // PRACT read: checked and stripped, 512 bytes per block.
    const s = await cli(
      'read',
      '--namespace-id',
      '1',
      '-s',
      '6',
      '-c',
      '1',
      '-d',
      join(m.dir, 'out2'),
      '-p',
      '0xd',
      '-r',
      '6',
    );
    assert.equal(s.code, 0, s.err);
    assert.equal(readFileSync(join(m.dir, 'out2')).length, 1024);
    // A wrong expected application tag is reported with nvme-cli's status name, exit 1.
    const bad = await cli(
      'read',
      '--namespace-id',
      '1',
      '-s',
      '6',
      '-c',
      '0',
      '-d',
      join(m.dir, 'o3'),
      '-p',
      '2',
      '--app-tag',
      '0x78',
      '-m',
      '0xffff',
    );
    assert.equal(bad.code, 1);
    assert.match(bad.err, /E2E_APP_ERROR \(0x0283\)/);
  });

  it('refuses a separate metadata file over NVMe/TCP with a precise message', async () => {
    writeFileSync(join(m.dir, 'm'), new Uint8Array(8));
    const r = await cli(
      'write',
      '--namespace-id',
      '2',
      '-s',
      '0',
      '-c',
      '0',
      '-d',
      join(m.dir, 'in'),
      '-M',
      join(m.dir, 'm'),
      '-y',
      '8',
    );
    assert.equal(r.code, 2);
    assert.match(r.err, /NVMe\/TCP has no separate metadata buffer \(MPTR\)/);
    // PRACT on tuple-only metadata works on the separate-metadata namespace too.
    const ok = await cli(
      'write',
      '--namespace-id',
      '2',
      '-s',
      '0',
      '-c',
      '0',
      '-d',
      join(m.dir, 'in'),
      '-p',
      '8',
    );
    assert.equal(ok.code, 0, ok.err);
  });

  it('fdp configs / usage / stats / status / update / set-events / events print nvme-cli lines', async () => {
    const cfg = await cli('fdp', 'configs', '-e', '1');
    assert.equal(cfg.code, 0, cfg.err);
    assert.equal(
      cfg.out,
      'FDP Attributes: 0x80\nVendor Specific Size: 0\nNumber of Reclaim Groups: 1\nNumber of Reclaim Unit Handles: 4\n' +
        'Number of Namespaces Supported: 256\nReclaim Unit Nominal Size: 65536\nEstimated Reclaim Unit Time Limit: 0\n' +
        'Reclaim Unit Handle List:\n  [0]: Initially Isolated\n  [1]: Initially Isolated\n  [2]: Initially Isolated\n  [3]: Initially Isolated\n',
    );
    const usage = await cli('fdp', 'usage', '-e', '1');
    assert.equal(
      usage.out,
      'Reclaim Unit Handle 0 Attributes: 0x1 (Host Specified)\nReclaim Unit Handle 1 Attributes: 0x1 (Host Specified)\n' +
        'Reclaim Unit Handle 2 Attributes: 0x1 (Host Specified)\nReclaim Unit Handle 3 Attributes: 0x0 (Unused)\n',
    );
    const ev = await cli(
      'fdp',
      'set-events',
      '--namespace-id',
      '1',
      '-p',
      '1',
      '--event-types',
      '0,0x81',
      '-e',
    );
    assert.equal(ev.code, 0, ev.err);
    assert.equal(ev.out, 'set-events: Success\n');
    const st = await cli('fdp', 'status', '--namespace-id', '1');
    assert.equal(st.code, 0, st.err);
    // The earlier write (-c 1: 2 blocks, PID 1) went to RUH 1: 128 - 2 blocks remain.
    assert.equal(
      st.out,
      'Placement Identifier 0; Reclaim Unit Handle Identifier 0\n  Estimated Active Reclaim Unit Time Remaining (EARUTR): 0\n  Reclaim Unit Available Media Writes (RUAMW): 128\n\n' +
        'Placement Identifier 1; Reclaim Unit Handle Identifier 1\n  Estimated Active Reclaim Unit Time Remaining (EARUTR): 0\n  Reclaim Unit Available Media Writes (RUAMW): 126\n\n',
    );
    const up = await cli('fdp', 'update', '--namespace-id', '1', '-p', '1');
    assert.deepEqual([up.code, up.out], [0, 'update: Success\n']);
    const stats = await cli('fdp', 'stats', '-e', '1', '-o', 'json');
    const j = JSON.parse(stats.out) as { hbmw: number; mbmw: number; mbe: number };
    assert.deepEqual(j, { hbmw: 1536, mbmw: 1536 + 126 * 512, mbe: 0 });
    const host = await cli('fdp', 'events', '-e', '1', '-E');
    assert.equal(host.code, 0, host.err);
    assert.match(
      host.out,
      /^Event\[0\]\n {2}Event Type: 0x0 \(Reclaim Unit Not Fully Written\)\n {2}Event Timestamp: \d+ \(.*\)\n {2}Placement Identifier \(PID\): 0x1\n {2}Namespace Identifier \(NSID\): 1\n {2}Reclaim Group Identifier: 0\n {2}Reclaim Unit Handle Identifier 1\n\n$/,
    );
    const none = await cli('fdp', 'events', '-e', '1');
    assert.deepEqual([none.code, none.out], [0, '']);
    const badEg = await cli('fdp', 'stats', '-e', '2');
    assert.equal(badEg.code, 1);
    assert.match(badEg.err, /INVALID_FIELD\+DNR/);
  });
});
