// The security configuration of docs/security.md through the machine, the target and the
// monitor: `-object secret` (data= and file=), `-object x-nvmemu-host`, nvme-subsys
// `x-hosts`/`x-auth`, `--nvme-tcp`; every configuration error with the property it names; and
// secrets never printed — not in errors, the start-up summary, qom-get/qom-list, HMP, the
// NVMe/TCP query or the stats.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { registerAllTypes } from '../src/devices.js';
import { Machine } from '../src/machine/machine.js';
import { parseArgs } from '../src/config/options.js';
import { machineSettings } from '../src/machine/settings.js';
import { startMonitors, type RunningMonitors } from '../src/monitor/index.js';
import { QmpClient } from '../src/monitor/client.js';
import {
  startNvmeTcp,
  parseTargetSettings,
  type NvmeTcpService,
} from '../src/nvme-tcp/target/index.js';
import { NvmeTcpController, NvmeStatusError, discover } from '../src/nvme-tcp/host/index.js';
import { genDhchapKey } from '../src/nvme-tcp/auth/secret.js';
import { TlsPsk } from '../src/nvme-tcp/tls/psk.js';
import { formatError } from '../src/cli/run.js';
import { seededRandom } from '../src/nvme-tcp/auth/test-support.js';

const HOST = 'nqn.2014-08.org.nvmexpress:uuid:5b5b5b5b-1111-2222-3333-444444444444';
const STRANGER = 'nqn.2014-08.org.nvmexpress:uuid:6c6c6c6c-1111-2222-3333-444444444444';
const NQN = 'nqn.2019-08.org.qemu:s0';
const rnd = seededRandom('config');
const HKEY = genDhchapKey({ hmac: 1, nqn: HOST, secret: rnd(32) }).format();
const CKEY = genDhchapKey({ hmac: 2, nqn: NQN, secret: rnd(48) }).format();
const PSK = new TlsPsk(1, rnd(32)).format();
const PSK384 = new TlsPsk(2, rnd(48)).format();
/** Pieces of every key text that must never show up anywhere. */
const NEEDLES = [HKEY, CKEY, PSK, PSK384].map((k) => k.slice(10, 40));

function assertNoKey(text: string, where: string): void {
  for (const n of NEEDLES) assert.ok(!text.includes(n), `${where} shows a key: ${text}`);
}

let dir = '';
before(() => {
  registerAllTypes();
  dir = mkdtempSync(join(tmpdir(), 'nvmemu-sec-'));
  writeFileSync(join(dir, 'nvm.img'), new Uint8Array(1 << 20));
  writeFileSync(join(dir, 'h.key'), `${HKEY}\n`, { mode: 0o600 });
  writeFileSync(
    join(dir, 'bad.key'),
    'DHHC-1:01:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA:\n',
  );
});
after(() => rmSync(dir, { recursive: true, force: true }));

const machineArgs = (extra: string[] = [], subsys = 'nvme-subsys,id=s0,nqn=s0,x-hosts=h1') => [
  '-object',
  `secret,id=hk,file=${join(dir, 'h.key')}`,
  '-object',
  `secret,id=ck,data=${CKEY}`,
  '-object',
  `x-nvmemu-host,id=h1,nqn=${HOST},dhchap-secret=hk,dhchap-ctrl-secret=ck,dhchap-dhgroups=ffdhe2048:null`,
  ...extra,
  '-drive',
  `file=${join(dir, 'nvm.img')},if=none,id=d0,format=raw`,
  '-device',
  subsys,
  '-device',
  'nvme,id=c0,serial=s0,subsys=s0',
  '-device',
  'nvme-ns,drive=d0,nsid=1',
];

async function build(argv: string[]): Promise<Machine> {
  const a = parseArgs(argv);
  return Machine.create(a.items, { settings: machineSettings(a), dataDir: dir });
}

describe('a machine whose subsystem lists a host with DH-HMAC-CHAP keys', () => {
  let machine: Machine;
  let tcp: NvmeTcpService;
  let monitors: RunningMonitors;
  const lines: string[] = [];
  before(async () => {
    machine = await build(machineArgs());
    tcp = await startNvmeTcp(machine, {
      listen: '127.0.0.1:0',
      discoveryPort: 0,
      transport: { log: (l) => lines.push(l) },
    });
    monitors = await startMonitors(
      machine,
      {
        qmp: [`unix:${dir}/q.sock,server=on,wait=off`],
        monitor: [`unix:${dir}/h.sock,server=on,wait=off`],
      },
      { nvmeTcp: tcp, version: '0.0.0', quit: () => undefined },
    );
  });
  after(async () => {
    await monitors.close();
    await tcp.close();
    await machine.shutdown();
  });

  const connect = (hostnqn: string, dhchap?: { secret: string; ctrlSecret?: string }) =>
    NvmeTcpController.connect({
      address: '127.0.0.1',
      port: tcp.target.ioPort.port,
      subnqn: NQN,
      hostnqn,
      ioQueues: 1,
      ...(dhchap !== undefined ? { dhchap } : {}),
    });

  it('authenticates the listed host (bidirectional, ffdhe2048) and runs I/O', async () => {
    const c = await connect(HOST, { secret: HKEY, ctrlSecret: CKEY });
    assert.deepEqual(c.negotiated, { hash: 1, dhGroup: 1, bidirectional: true });
    const r = await c.ioCommand({ opcode: 0x02, nsid: 1, cdw12: 0 }, { readLength: 512 });
    assert.equal(r.status, 0);
    await c.disconnect();
  });

  it('refuses a host the subsystem does not list (Connect Invalid Host)', async () => {
    await assert.rejects(connect(STRANGER), (e: unknown) => {
      assert.ok(e instanceof NvmeStatusError);
      assert.equal(e.statusName, 'CONNECT_INVALID_HOST+DNR');
      return true;
    });
  });

  it('lists the subsystem in the discovery log only to the hosts it allows', async () => {
    const list = async (hostnqn: string) =>
      (
        await discover({ address: '127.0.0.1', port: tcp.target.discoveryPort!.port, hostnqn })
      ).entries
        .filter((e) => e.subtype === 2)
        .map((e) => e.subnqn);
    assert.deepEqual(await list(HOST), [NQN]);
    assert.deepEqual(await list(STRANGER), []);
  });

  it('never shows a key: summary, qom-get/qom-list, HMP, the NVMe/TCP query, stats, logs', async () => {
    const c = await connect(HOST, { secret: HKEY });
    try {
      const describe = machine.components().map((x) => x.describe?.() ?? '');
      assert.ok(
        describe.some((d) => d === "secret 'hk' (60 bytes)"),
        describe.join('\n'),
      );
      assert.ok(
        describe.some((d) =>
          d.startsWith(`x-nvmemu-host 'h1' ${HOST} (DH-HMAC-CHAP bidirectional)`),
        ),
      );
      const secretish = machine
        .components()
        .filter((x) => ['secret', 'x-nvmemu-host'].includes(x.typeName));
      assertNoKey(JSON.stringify(secretish), 'JSON of the components');
      assertNoKey(inspect(secretish, { depth: 5 }), 'util.inspect of the components');
      assertNoKey(secretish.map(String).join('\n'), 'String() of the components');
      const q = await QmpClient.connect({ path: `${dir}/q.sock` });
      await q.negotiate();
      const replies: unknown[] = [];
      for (const [cmd, args] of [
        ['qom-get', { path: '/objects/ck', property: 'data' }],
        ['qom-get', { path: '/objects/hk', property: 'file' }],
        ['qom-list', { path: '/objects/h1' }],
        ['qom-get', { path: '/objects/h1', property: 'dhchap-secret' }],
        ['x-nvmemu-query-nvme-tcp', {}],
        ['x-nvmemu-query-stats', {}],
        ['human-monitor-command', { 'command-line': 'info qtree' }],
        ['human-monitor-command', { 'command-line': 'info qom-tree' }],
      ] as const) {
        replies.push(await q.request(cmd, args));
      }
      q.close();
      const text = JSON.stringify(replies);
      assertNoKey(text, 'the monitor');
      assert.equal((replies[0] as { return: unknown }).return, '<redacted>');
      assert.equal((replies[3] as { return: unknown }).return, 'hk');
      const assoc = (replies[4] as { return: { associations: Record<string, unknown>[] } }).return
        .associations[0]!;
      assert.equal(assoc.authentication, 'dh-hmac-chap');
      const stats = (
        replies[5] as { return: { provider: string; stats: { name: string; value: number }[] }[] }
      ).return;
      const tcpStats = stats.find((s) => s.provider === 'nvme-tcp')!;
      assert.ok(tcpStats.stats.some((s) => s.name === 'auth-successes' && s.value >= 2));
      assertNoKey(lines.join('\n'), 'the target log');
    } finally {
      await c.disconnect();
    }
  });

  it('object-add of a secret over QMP is answered without its data, and qom-get redacts it', async () => {
    const q = await QmpClient.connect({ path: `${dir}/q.sock` });
    await q.negotiate();
    const add = await q.request('object-add', { 'qom-type': 'secret', id: 'hot', data: PSK });
    assert.deepEqual(add, { return: {} });
    const get = await q.request('qom-get', { path: '/objects/hot', property: 'data' });
    assert.equal((get as { return: unknown }).return, '<redacted>');
    const bad = await q.request('object-add', {
      'qom-type': 'secret',
      id: 'x2',
      data: PSK,
      file: '/x',
    });
    assertNoKey(JSON.stringify(bad), 'an object-add error');
    q.close();
  });
});

describe('configuration errors name the property and never the key', () => {
  const F = () => join(dir, 'h.key');
  const rows: { name: string; argv: () => string[]; message: RegExp }[] = [
    {
      name: 'secret with data and file',
      argv: () => ['-object', `secret,id=a,data=${HKEY},file=${F()}`],
      message: /secret,id=a,data=<redacted>,file=.*: 'data' and 'file' are mutually exclusive/,
    },
    {
      name: 'secret without data or file',
      argv: () => ['-object', 'secret,id=a'],
      message: /Either 'data' or 'file' must be provided/,
    },
    {
      name: 'encrypted secret',
      argv: () => ['-object', `secret,id=a,data=${HKEY},keyid=b`],
      message: /encrypted secrets \('keyid'\) are not supported/,
    },
    {
      name: 'secret file missing',
      argv: () => ['-object', `secret,id=a,file=${join(dir, 'nope')}`],
      message: /Unable to read .*nope: No such file or directory/,
    },
    {
      name: 'host without nqn',
      argv: () => ['-object', 'x-nvmemu-host,id=h'],
      message: /Parameter 'nqn' is missing/,
    },
    {
      name: 'host naming a missing secret',
      argv: () => ['-object', `x-nvmemu-host,id=h,nqn=${HOST},dhchap-secret=nope`],
      message: /dhchap-secret: no secret object 'nope'/,
    },
    {
      name: 'controller key without host key',
      argv: () => [
        '-object',
        `secret,id=k,data=${CKEY}`,
        '-object',
        `x-nvmemu-host,id=h,nqn=${HOST},dhchap-ctrl-secret=k`,
      ],
      message: /dhchap-ctrl-secret needs dhchap-secret/,
    },
    {
      name: 'unknown hash',
      argv: () => ['-object', `x-nvmemu-host,id=h,nqn=${HOST},dhchap-hashes=sha256:md5`],
      message: /dhchap-hashes: 'md5' is not one of sha256, sha384, sha512/,
    },
    {
      name: 'unknown DH group',
      argv: () => ['-object', `x-nvmemu-host,id=h,nqn=${HOST},dhchap-dhgroups=ffdhe1024`],
      message: /dhchap-dhgroups: 'ffdhe1024' is not one of null, ffdhe2048/,
    },
    {
      name: 'a corrupt key (realize)',
      argv: () => [
        '-object',
        `secret,id=k,file=${join(dir, 'bad.key')}`,
        '-object',
        `x-nvmemu-host,id=h,nqn=${HOST},dhchap-secret=k`,
      ],
      message: /x-nvmemu-host,id=h.*: dhchap-secret: secret 'k': DHHC-1 secret: CRC-32 mismatch/,
    },
    {
      name: 'a TLS key that is not a TLS key (realize)',
      argv: () => [
        '-object',
        `secret,id=k,data=${HKEY}`,
        '-object',
        `x-nvmemu-host,id=h,nqn=${HOST},tls-psk=k`,
      ],
      message: /tls-psk: secret 'k': not an NVMe TLS PSK/,
    },
    {
      name: 'a SHA-384 TLS PSK, which Node cannot serve (realize)',
      argv: () => [
        '-object',
        `secret,id=k,data=${PSK384}`,
        '-object',
        `x-nvmemu-host,id=h,nqn=${HOST},tls-psk=k`,
      ],
      message:
        /tls-psk: TLS with a SHA-384 PSK .* is not supported: Node\.js's TLS binds external PSKs to SHA-256/,
    },
    {
      name: 'x-hosts naming something else',
      argv: () => ['-object', `secret,id=k,data=${HKEY}`, '-device', 'nvme-subsys,id=s,x-hosts=k'],
      message: /x-hosts: 'k' is not an x-nvmemu-host object/,
    },
    {
      name: 'x-hosts listing one NQN twice',
      argv: () => [
        '-object',
        `x-nvmemu-host,id=a,nqn=${HOST}`,
        '-object',
        `x-nvmemu-host,id=b,nqn=${HOST}`,
        '-device',
        'nvme-subsys,id=s,x-hosts=a:b',
      ],
      message: /x-hosts: 'a' and 'b' have the same nqn/,
    },
    {
      name: 'x-auth=required without x-hosts',
      argv: () => ['-device', 'nvme-subsys,id=s,x-auth=required'],
      message: /x-auth=required needs x-hosts/,
    },
    {
      name: 'x-auth=required with a host without key',
      argv: () => [
        '-object',
        `x-nvmemu-host,id=a,nqn=${HOST}`,
        '-device',
        'nvme-subsys,id=s,x-hosts=a,x-auth=required',
      ],
      message: /x-auth=required: host 'a' has no dhchap-secret/,
    },
  ];
  for (const row of rows) {
    it(row.name, async () => {
      const err = await build(row.argv()).then(
        (m) => m.shutdown().then(() => assert.fail('built')),
        (e: unknown) => e,
      );
      const text = formatError(err);
      assert.match(text, row.message);
      assertNoKey(text, 'the error');
    });
  }

  const settingRows: [string, RegExp][] = [
    ['tls=maybe', /--nvme-tcp tls=maybe: Parameter 'tls' does not accept value 'maybe'/],
    ['max-connections=0', /max-connections must be 1\.\.65536, got 0/],
    ['max-r2t=70000', /max-r2t must be 1\.\.65534/],
    ['in-capsule-size=100', /in-capsule-size must be a multiple of 16/],
    ['connect-timeout=1', /connect-timeout must be 100\.\.3600000/],
    ['bogus=1', /Invalid parameter 'bogus'/],
  ];
  for (const [text, message] of settingRows) {
    it(`--nvme-tcp ${text}`, () => {
      assert.throws(
        () => parseTargetSettings(text),
        (e: Error) => message.test(formatError(e)),
      );
    });
  }

  it('--nvme-tcp defaults and a full setting', () => {
    const d = parseTargetSettings(undefined);
    assert.equal(d.tls, 'none');
    assert.equal(d.limits.connectTimeoutMs, 10_000);
    const s = parseTargetSettings(
      'tls=required,connect-timeout=2000,auth-timeout=3000,max-connections=8,max-connections-per-address=2,max-io-queues-per-host=4,max-queue-depth=64,max-r2t=16,in-capsule-size=16K,ic-timeout=500',
    );
    assert.deepEqual(s, {
      tls: 'required',
      icTimeoutMs: 500,
      inCapsuleSize: 16384,
      limits: {
        connectTimeoutMs: 2000,
        authTimeoutMs: 3000,
        maxConnections: 8,
        maxConnectionsPerAddress: 2,
        maxIoQueuesPerHost: 4,
        maxQueueDepth: 64,
        maxOutstandingR2t: 16,
      },
    });
  });
});
