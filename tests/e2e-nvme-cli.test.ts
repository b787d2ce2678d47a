// `nvmemu nvme ...` end to end: the built CLI (spawned) and the in-process command against a
// machine served over NVMe/TCP on 127.0.0.1 (random ports): nvme-cli's command names, options,
// JSON field names and exit statuses.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { nvmeCli, tcpMachine, type TcpMachine } from './support/tcp-machine.js';

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const NQN = 'nqn.2019-08.org.qemu:clisub';

describe('nvmemu nvme against a served machine', () => {
  let m: TcpMachine;
  const target = () => ['-t', 'tcp', '-a', '127.0.0.1', '-n', NQN];
  const port = () => String(m.port);
  const cli = (...args: string[]) => nvmeCli(args);

  before(async () => {
    m = await tcpMachine(
      'cli',
      { 'nvm.img': 2 << 20 },
      (d) => [
        '-drive',
        `file=${join(d, 'nvm.img')},if=none,id=nvm,format=raw`,
        '-device',
        'nvme-subsys,id=s,nqn=clisub',
        '-device',
        'nvme,id=c0,serial=cli0,subsys=s',
        '-device',
        'nvme-ns,drive=nvm,nsid=1',
      ],
      0,
    );
  });
  after(() => m.close());

  it('discover -o json lists the subsystem with nvme-cli field names (spawned CLI)', async () => {
    const { stdout } = await run(process.execPath, [
      MAIN,
      'nvme',
      'discover',
      '-t',
      'tcp',
      '-a',
      '127.0.0.1',
      '-s',
      String(m.svc.target.discoveryPort!.port),
      '-o',
      'json',
    ]);
    const j = JSON.parse(stdout) as { genctr: number; records: Record<string, unknown>[] };
    assert.deepEqual(j.records[0], {
      trtype: 'tcp',
      adrfam: 'ipv4',
      subtype: 'nvme subsystem',
      treq: 'not specified, sq flow control disable supported',
      portid: 1,
      trsvcid: port(),
      subnqn: NQN,
      traddr: '127.0.0.1',
      eflags: 'none',
      sectype: 'none',
    });
    assert.equal(j.records[1]?.subtype, 'current discovery subsystem');
  });

  it('write then read through the spawned CLI round-trips the data file', async () => {
    const src = join(m.dir, 'in.bin');
    const dst = join(m.dir, 'out.bin');
    const data = Buffer.alloc(4096, 0x5a);
    writeFileSync(src, data);
    const w = await run(process.execPath, [
      MAIN,
      'nvme',
      'write',
      ...target(),
      '--trsvcid',
      port(),
      '--namespace-id',
      '1',
      '-s',
      '16',
      '-c',
      '7',
      '-z',
      '4096',
      '-d',
      src,
    ]);
    assert.equal(w.stdout, 'write: Success\n');
    const r = await run(process.execPath, [
      MAIN,
      'nvme',
      'read',
      ...target(),
      '--trsvcid',
      port(),
      '--nsid',
      '1',
      '-s',
      '16',
      '-c',
      '7',
      '-z',
      '4096',
      '-d',
      dst,
    ]);
    assert.equal(r.stdout, 'read: Success\n');
    assert.deepEqual(readFileSync(dst), data);
  });

  it('id-ctrl -o json reports the fabrics fields under nvme-cli names', async () => {
    const r = await cli('id-ctrl', ...target(), '-s', port(), '-o', 'json');
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out) as Record<string, unknown>;
    assert.deepEqual(
      [j.sn, j.cntlid, j.cntrltype, j.subnqn, j.sqes, j.cqes, j.msdbd, j.icdoff],
      ['cli0', 0, 1, NQN, 0x66, 0x44, 1, 0],
    );
    assert.equal(typeof j.ioccsz, 'number');
  });

  it('id-ns, list-ns, list and ns-descs describe the namespace', async () => {
    const ns = JSON.parse(
      (await cli('id-ns', ...target(), '-s', port(), '--namespace-id', '1', '-o', 'json')).out,
    ) as Record<string, unknown>;
    assert.deepEqual([ns.nsze, ns.ncap, (ns.lbafs as unknown[]).length > 0], [4096, 4096, true]);
    const l = await cli('list-ns', ...target(), '-s', port());
    assert.equal(l.out, '[   0]:0x1\n');
    const list = JSON.parse((await cli('list', ...target(), '-s', port(), '-o', 'json')).out) as {
      Devices: Record<string, unknown>[];
    };
    assert.deepEqual(
      [list.Devices[0]?.NameSpace, list.Devices[0]?.SectorSize, list.Devices[0]?.MaximumLBA],
      [1, 512, 4096],
    );
    const d = await cli('ns-descs', ...target(), '-s', port(), '--nsid', '1', '-o', 'json');
    assert.equal(d.code, 0, d.err);
  });

  it('smart-log, error-log, fw-log and effects-log decode the log pages', async () => {
    const s = JSON.parse(
      (await cli('smart-log', ...target(), '-s', port(), '-o', 'json')).out,
    ) as Record<string, unknown>;
    assert.ok('data_units_read' in s && 'power_on_hours' in s && 'critical_warning' in s);
    const e = await cli('error-log', ...target(), '-s', port(), '-e', '4', '-o', 'json');
    assert.equal((JSON.parse(e.out) as { errors: unknown[] }).errors.length, 4);
    const f = await cli('fw-log', ...target(), '-s', port(), '-o', 'json');
    assert.equal(f.code, 0, f.err);
    const x = JSON.parse(
      (await cli('effects-log', ...target(), '-s', port(), '-o', 'json')).out,
    ) as { acs: Record<string, number>; iocs: Record<string, number> };
    assert.equal(x.acs['6'], 1, 'Identify supported');
    assert.equal(x.iocs['2'], 1, 'Read supported');
  });

  it('get-feature and set-feature use Get/Set Features with nvme-cli option names', async () => {
    const set = await cli('set-feature', ...target(), '-s', port(), '-f', '0x06', '-v', '0');
    assert.equal(set.code, 0, set.err);
    const get = await cli('get-feature', ...target(), '-s', port(), '-f', '6', '-o', 'json');
    assert.equal((JSON.parse(get.out) as { value: number }).value, 0);
  });

  it('write-zeroes, verify, dsm and flush succeed; a bad range fails with exit 1 and the status', async () => {
    for (const args of [
      ['write-zeroes', '-s', '0', '-c', '7'],
      ['verify', '-s', '0', '-c', '7'],
      ['dsm', '--slbs', '0,64', '--blocks', '8,8', '--ad'],
      ['flush'],
    ]) {
      const r = await cli(...args, ...target(), '--trsvcid', port(), '--namespace-id', '1');
      assert.equal(r.code, 0, `${args[0]}: ${r.err}`);
    }
    const bad = await cli(
      'read',
      ...target(),
      '--trsvcid',
      port(),
      '-s',
      '4095',
      '-c',
      '3',
      '-d',
      join(m.dir, 'x'),
    );
    assert.equal(bad.code, 1);
    assert.match(
      bad.err,
      /^nvmemu nvme read: read failed: LBA_RANGE\+DNR \(0x4080\) \[NVME_STATUS\]\n$/,
    );
  });

  it('reports usage errors with exit 2 and connection failures with their code', async () => {
    const u = await cli('id-ctrl', '-t', 'rdma', '-n', NQN);
    assert.deepEqual(
      [u.code, u.err],
      [2, "nvmemu nvme id-ctrl: transport 'rdma' is not supported (only tcp)\n"],
    );
    const n = await cli('id-ctrl', '-t', 'tcp', '-a', '127.0.0.1');
    assert.deepEqual(
      [n.code, n.err],
      [2, 'nvmemu nvme id-ctrl: missing required option -n/--nqn\n'],
    );
    const c = await cli('id-ctrl', '-t', 'tcp', '-a', '127.0.0.1', '-s', '1', '-n', NQN);
    assert.equal(c.code, 1);
    // The cause and the fix follow the error on their own line.
    assert.match(
      c.err,
      /ECONNREFUSED 127\.0\.0\.1:1 \[NVME_TCP_CONNECT\]\n  nothing listens there: start a target with 'nvmemu run'/,
    );
    const s = await cli(
      'id-ctrl',
      '-t',
      'tcp',
      '-a',
      '127.0.0.1',
      '-s',
      port(),
      '-n',
      'nqn.x:none',
    );
    assert.match(
      s.err,
      /Connect \(qid 0\) failed: CONNECT_INVALID_PARAMETERS\+DNR \(0x4182\) \[NVME_STATUS\]\n  subsystem not found: nqn\.x:none is not served at 127\.0\.0\.1:\d+; list the subsystems there with: nvmemu nvme discover -a 127\.0\.0\.1\n$/,
    );
  });
});
