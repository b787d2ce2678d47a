// `nvmemu nvme zns ...` and `nvmemu nvme copy` end to end over NVMe/TCP (127.0.0.1, random
// ports) against a machine with a zoned namespace: nvme-cli 2.3's command names, options,
// messages and JSON fields (the report-zones text and JSON were compared with nvme-cli 2.3 in
// the Linux guest, docs/zns.md).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nvmeCommand } from '../src/cli/nvme/index.js';
import { bufferIo } from '../src/cli/io.js';
import { nvmeCli, tcpMachine, type TcpMachine } from './support/tcp-machine.js';

const NQN = 'nqn.2019-08.org.qemu:znscli';

describe('nvmemu nvme zns / copy against a served zoned namespace', () => {
  let m: TcpMachine;
  const cli = (...args: string[]) => nvmeCli(args, ['--trsvcid', String(m.port), '-n', NQN]);
  const zns = (cmd: string, ...args: string[]) => cli('zns', cmd, '--namespace-id', '2', ...args);

  before(async () => {
    m = await tcpMachine(
      'zns-cli',
      { 'nvm.img': 8 << 20, 'zns.img': 8 << 20 },
      (d) => [
        '-drive',
        `file=${join(d, 'nvm.img')},if=none,id=nvm,format=raw`,
        '-drive',
        `file=${join(d, 'zns.img')},if=none,id=zns,format=raw`,
        '-device',
        'nvme-subsys,id=s,nqn=znscli',
        '-device',
        'nvme,id=c0,serial=zns0,subsys=s',
        '-device',
        'nvme-ns,drive=nvm,nsid=1',
        '-device',
        'nvme-ns,drive=zns,nsid=2,zoned=on,zoned.zone_size=1M,zoned.descr_ext_size=64,zoned.max_open=4,zoned.max_active=6',
      ],
      null,
    );
  });
  after(() => m.close());

  it('zns id-ctrl and id-ns print nvme-cli fields', async () => {
    const c = await zns('id-ctrl', '-o', 'json');
    assert.equal(c.code, 0, c.err);
    assert.deepEqual(JSON.parse(c.out), { zasl: 0 });
    const n = await zns('id-ns');
    assert.equal(n.code, 0, n.err);
    assert.match(
      n.out,
      /^ZNS Command Set Identify Namespace:\nzoc {5}: 0\nozcs {4}: 0\nmar {5}: 0x5\nmor {5}: 0x3\n/,
    );
    assert.match(n.out, /\nlbafe  0: zsze:0x800 zdes:1 \(in use\)\n/);
    const j = JSON.parse((await zns('id-ns', '-o', 'json')).out) as Record<string, unknown>;
    assert.deepEqual(Object.keys(j), [
      'zoc',
      'ozcs',
      'mar',
      'mor',
      'rrl',
      'frl',
      'rrl1',
      'rrl2',
      'rrl3',
      'frl1',
      'frl2',
      'frl3',
      'numzrwa',
      'zrwafg',
      'zrwasz',
      'zrwacap',
      'lbafe',
    ]);
  });

  it('report-zones text and JSON as nvme-cli 2.3 prints them', async () => {
    const t = await zns('report-zones', '-d', '2');
    assert.equal(t.code, 0, t.err);
    assert.equal(
      t.out,
      'nr_zones: 8\n' +
        'SLBA: 0          WP: 0          Cap: 0x800      State: 0x10 Type: 0x2  Attrs: 0    AttrsInfo: 0   \n' +
        'SLBA: 0x800      WP: 0x800      Cap: 0x800      State: 0x10 Type: 0x2  Attrs: 0    AttrsInfo: 0   \n',
    );
    assert.equal((await zns('finish-zone', '-s', '0x800')).code, 0);
    const j = await zns('report-zones', '-o', 'json', '-s', '0x800', '-d', '1');
    // A Full zone's WP (2^64 - 1) is a plain JSON number, as nvme-cli prints it.
    assert.equal(
      j.out,
      '{\n  "nr_zones": 8,\n  "zone_list": [\n    {\n      "slba": 2048,\n      "wp": 18446744073709551615,\n      "cap": 2048,\n      "state": "FULL",\n      "type": "SEQWRITE_REQ",\n      "attrs": 0\n    }\n  ]\n}\n',
    );
  });

  it('zone-append prints the assigned LBA; open/close/reset/offline print nvme-cli messages', async () => {
    const data = join(m.dir, 'payload');
    writeFileSync(data, 'hello zones');
    const a1 = await zns('zone-append', '-s', '0x1000', '-z', '4096', '-d', data);
    assert.deepEqual([a1.code, a1.out], [0, 'Success appended data to LBA 1000\n']);
    const a2 = await zns('zone-append', '-s', '0x1000', '-z', '512', '-d', data);
    assert.equal(a2.out, 'Success appended data to LBA 1008\n');
    const o = await zns('open-zone', '-s', '0x1800');
    assert.equal(o.out, 'zns-open-zone: Success, action:3 zone:1800 all:0 zcapc:0 nsid:2\n');
    const r = await zns('reset-zone', '--select-all');
    assert.equal(r.out, 'zns-reset-zone: Success, action:4 zone:0 all:1 zcapc:0 nsid:2\n');
    const off = await zns('offline-zone', '-s', '0x0');
    assert.equal(off.code, 1);
    assert.match(off.err, /zns offline-zone failed: ZONE_INVAL_TRANSITION\+DNR \(0x41bf\)/);
  });

  it('set-zone-desc and the extended report show the extension data', async () => {
    const ext = join(m.dir, 'ext');
    writeFileSync(ext, Buffer.alloc(64, 0xab));
    const s = await zns('set-zone-desc', '-s', '0x2000', '-d', ext);
    assert.deepEqual([s.code, s.out], [0, 'set-zone-desc: Success, zone:2000 nsid:2\n']);
    const j = JSON.parse(
      (await zns('report-zones', '-e', '-o', 'json', '-s', '0x2000', '-d', '1')).out,
    ) as {
      zone_list: Record<string, unknown>[];
    };
    assert.equal(j.zone_list[0]!.state, 'CLOSED');
    assert.equal(j.zone_list[0]!.ext_data, 'ab'.repeat(64));
    const f = await zns('report-zones', '-S', '4', '-o', 'json');
    assert.equal((JSON.parse(f.out) as { nr_zones: number }).nr_zones, 1, 'state filter');
  });

  it('changed-zone-list reports the target refusing log BFh (QEMU 7.2 has no such log)', async () => {
    const c = await zns('changed-zone-list');
    assert.equal(c.code, 1);
    assert.match(c.err, /Get Log Page 0xbf failed: INVALID_FIELD\+DNR \(0x4002\)/);
  });

  it('copy copies ranges on the NVM namespace and reports statuses with nvme-cli words', async () => {
    const data = join(m.dir, 'blk');
    writeFileSync(data, Buffer.alloc(1024, 0x5a));
    const base = ['--trsvcid', String(m.port), '-n', NQN, '--namespace-id', '1'];
    const w = await nvmeCommand(
      ['write', ...base, '--start-block', '4', '-c', '1', '-d', data],
      bufferIo(),
    );
    assert.equal(w, 0);
    const c = await cli(
      'copy',
      '--namespace-id',
      '1',
      '--sdlba',
      '100',
      '--slbs',
      '4',
      '--blocks',
      '1',
    );
    assert.deepEqual([c.code, c.out], [0, 'NVMe Copy: success\n']);
    const bad = await cli(
      'copy',
      '--namespace-id',
      '1',
      '--sdlba',
      '0',
      '--slbs',
      '0',
      '--blocks',
      '200',
    );
    assert.equal(bad.code, 1);
    assert.match(bad.err, /copy failed: CMD_SIZE_LIMIT\+DNR \(0x4183\)/);
    const usage = await cli('copy', '--slbs', '1,2', '--blocks', '1');
    assert.equal(usage.code, 2);
  });
});
