// `nvmemu nvme` ana-log, resv-register/-acquire/-release/-report, create-ns and delete-ns with
// nvme-cli 2.3's options, text and JSON (nvme.c, nvme-print.c), against a served machine: two
// hosts (--hostnqn/--hostid) fence each other, the report and the ANA log print as nvme-cli
// prints them, a namespace is created, attached and deleted.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nvmeCli, tcpMachine, type TcpMachine } from './support/tcp-machine.js';

const HOST1 = ['--hostnqn', 'nqn.2014-08.org.nvmexpress:uuid:11111111-1111-1111-1111-111111111111'];
const HOST2 = [
  '--hostnqn',
  'nqn.2014-08.org.nvmexpress:uuid:22222222-2222-2222-2222-222222222222',
  '--hostid',
  '22222222-2222-2222-2222-222222222222',
];

describe('nvmemu nvme: multi-host commands', () => {
  let m: TcpMachine;
  let target: string[];
  before(async () => {
    m = await tcpMachine('climh', { 'ns.img': 1 << 20 }, (dir) => [
      '-drive',
      `file=${dir}/ns.img,if=none,id=d1,format=raw`,
      '-device',
      'nvme-subsys,id=s0,nqn=climh,nvm-capacity=8M',
      '-device',
      'nvme,id=c0,serial=climh0,subsys=s0',
      '-device',
      'nvme,id=c1,serial=climh0,subsys=s0',
      '-device',
      'nvme-ns,drive=d1,nsid=1,anagrpid=3',
    ]);
    target = ['--trsvcid', String(m.port), '-n', 'nqn.2019-08.org.qemu:climh'];
  });
  after(() => m.close());

  const nvme = (args: string[], host = HOST1) => nvmeCli([...args, ...host], target);

  it("ana-log prints nvme-cli's text and JSON", async () => {
    const t = await nvme(['ana-log']);
    assert.equal(t.code, 0, t.err);
    assert.equal(
      t.out,
      'Asymmetric Namespace Access Log for NVMe device: nqn.2019-08.org.qemu:climh\n' +
        'ANA LOG HEADER :-\nchgcnt\t:\t0\nngrps\t:\t1\nANA Log Desc :-\n' +
        'grpid\t:\t3\nnnsids\t:\t1\nchgcnt\t:\t0\nstate\t:\toptimized\n\tnsid\t:\t1\n\n',
    );
    const j = await nvme(['ana-log', '-o', 'json', '--groups']);
    assert.deepEqual(JSON.parse(j.out), {
      'Asymmetric Namespace Access Log for NVMe device': 'nqn.2019-08.org.qemu:climh',
      chgcnt: 0,
      ngrps: 1,
      'ANA DESC LIST ': [{ grpid: 3, nnsids: 0, chgcnt: 0, state: 'optimized', NSIDS: [] }],
    });
  });

  it('registers, acquires and fences another host; the report matches', async () => {
    let r = await nvme(['resv-register', '--namespace-id', '1', '--nrkey', '0xabc']);
    assert.equal(r.out, 'NVME Reservation  success\n', r.err);
    r = await nvme(['resv-register', '--namespace-id', '1', '-k', '0x123'], HOST2);
    assert.equal(r.code, 0, r.err);
    r = await nvme(['resv-acquire', '--namespace-id', '1', '-c', '0xabc', '--rtype', '1']);
    assert.equal(r.out, 'NVME Reservation Acquire success\n', r.err);
    const w = await nvme(['write-zeroes', '--namespace-id', '1', '-s', '0', '-c', '0'], HOST2);
    assert.equal(w.code, 1);
    assert.match(w.err, /RESERVATION_CONFLICT/);
    const rep = await nvme(['resv-report', '--namespace-id', '1', '-o', 'json'], HOST2);
    assert.equal(rep.code, 0, rep.err);
    const j = JSON.parse(rep.out) as {
      rtype: number;
      regctl: number;
      regctlext: { rkey: number; rcsts: number; hostid: string }[];
    };
    assert.equal(j.rtype, 1);
    assert.equal(j.regctl, 2);
    assert.deepEqual(
      j.regctlext.map((x) => [x.rkey, x.rcsts, x.hostid]),
      [
        [0xabc, 1, '11111111111111111111111111111111'],
        [0x123, 0, '22222222222222222222222222222222'],
      ],
    );
    const text = await nvme(['resv-report', '--namespace-id', '1']);
    assert.match(
      text.out,
      /^\nNVME Reservation status:\n\ngen {7}: 2\nrtype {5}: 1\nregctl {4}: 2\nptpls {5}: 0\nregctlext\[0\] :\n {2}cntlid {5}: [0-9a-f]+\n {2}rcsts {6}: 1\n {2}rkey {7}: abc\n/,
    );
    r = await nvme(['resv-release', '--namespace-id', '1', '-c', '0xabc', '--rtype', '1']);
    assert.equal(r.out, 'NVME Reservation Release success\n', r.err);
    r = await nvme(['resv-release', '--namespace-id', '1', '-c', '0x1', '--rrela', '1']);
    assert.equal(r.code, 1, 'a wrong key is a conflict');
  });

  it('creates (-b picks the format), attaches and deletes a namespace', async () => {
    const c = await nvme(['create-ns', '-s', '2048', '-c', '2048', '-b', '4096', '-m', '1']);
    assert.equal(c.out, 'create-ns: Success, created nsid:2\n', c.err);
    const a = await nvme(['attach-ns', '--namespace-id', '2', '-c', '0']);
    assert.equal(a.code, 0, a.err);
    const id = await nvme(['id-ns', '--namespace-id', '2', '-o', 'json']);
    const ns = JSON.parse(id.out) as { nsze: number; flbas: number };
    assert.deepEqual([ns.nsze, ns.flbas], [2048, 4]);
    const d = await nvme(['delete-ns', '--namespace-id', '2']);
    assert.equal(d.out, 'delete-ns: Success, deleted nsid:2\n', d.err);
    const big = await nvme(['create-ns', '-s', '1G', '-c', '1G']);
    assert.equal(big.code, 1);
    assert.match(big.err, /NS_INSUFFICIENT_CAPACITY/);
  });
});
