// `-device nvme` / `nvme-subsys` / `nvme-ns` bus: QEMU 7.2's messages for bad command lines
// (measured catalogue, byte for byte after the program-name prefix), and machines that build.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Machine } from '../src/machine/machine.js';
import { machineSettings } from '../src/machine/settings.js';
import { registerAllTypes } from '../src/devices.js';
import { parseArgs } from '../src/config/options.js';
import { ConfigError } from '../src/config/errors.js';
import { NvmeDevice } from '../src/nvme/index.js';
import { Host } from '../src/nvme/pci/local-host.js';
import { readU32le, readU64le } from '../src/util/bytes.js';

let dir = '';
let warnings: string[] = [];

before(() => {
  registerAllTypes();
  dir = mkdtempSync(join(tmpdir(), 'nvmemu-nvme-config-'));
  writeFileSync(join(dir, 'nvm.img'), new Uint8Array(1 << 20));
  writeFileSync(join(dir, 'nvm2.img'), new Uint8Array(1 << 20));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function args(line: string): string[] {
  return line
    .replaceAll('file=nvm.img', `file=${join(dir, 'nvm.img')}`)
    .replaceAll('file=nvm2.img', `file=${join(dir, 'nvm2.img')}`)
    .split(' ');
}

async function build(line: string): Promise<Machine> {
  warnings = [];
  const a = parseArgs(args(line));
  return Machine.create(a.items, {
    settings: machineSettings(a),
    dataDir: dir,
    warn: (l) => void warnings.push(l),
  });
}

/** The error line QEMU prints, without "qemu-system-x86_64: ". */
async function errorOf(line: string): Promise<string> {
  try {
    const m = await build(line);
    await m.shutdown();
  } catch (e) {
    if (e instanceof ConfigError) return e.describe();
    throw e;
  }
  return '';
}

const DRIVE = '-drive file=nvm.img,if=none,id=nvm,format=raw';

// From the QEMU 7.2.22 catalogue (qemu-catalogue-nvme.txt); '' = starts fine.
const CATALOGUE: readonly [string, string][] = [
  ['-device nvme,foo=1', "-device nvme,foo=1: Property 'nvme.foo' not found"],
  [
    '-device nvme,serial=x,max_ioqpairs=abc',
    "-device nvme,serial=x,max_ioqpairs=abc: Parameter 'max_ioqpairs' expects integer",
  ],
  [
    '-device nvme,serial=x,aerl=300',
    "-device nvme,serial=x,aerl=300: Parameter 'aerl' expects uint8_t",
  ],
  ['-device nvme', '-device nvme: serial property not set'],
  [
    '-device nvme,serial=x,max_ioqpairs=0',
    '-device nvme,serial=x,max_ioqpairs=0: max_ioqpairs must be between 1 and 65535',
  ],
  [
    '-device nvme,serial=x,drive=nope',
    "-device nvme,serial=x,drive=nope: Property 'nvme.drive' can't find value 'nope'",
  ],
  ['-device nvme,serial=x,vsl=0', '-device nvme,serial=x,vsl=0: vsl must be non-zero'],
  [
    '-device nvme,serial=x,msix_qsize=0',
    '-device nvme,serial=x,msix_qsize=0: msix_qsize must be between 1 and 2048',
  ],
  [
    `${DRIVE} -device nvme,serial=x,zoned.zasl=9`,
    '-device nvme,serial=x,zoned.zasl=9: zoned.zasl (Zone Append Size Limit) must be less than or equal to mdts (Maximum Data Transfer Size)',
  ],
  ['-device nvme,serial=x,mdts=0', ''],
  [
    '-device nvme,serial=x,sriov_max_vfs=2',
    '-device nvme,serial=x,sriov_max_vfs=2: subsystem is required for the use of SR-IOV',
  ],
  [
    '-device nvme,serial=x,subsys=nope',
    "-device nvme,serial=x,subsys=nope: Device 'nope' not found",
  ],
  ['-device nvme,serial=x,smart_critical_warning=1', ''],
  [
    '-device nvme,serial=x,pmrdev=nope',
    "-device nvme,serial=x,pmrdev=nope: Device 'nope' not found",
  ],
  ['-device nvme-ns', "-device nvme-ns: No 'nvme-bus' bus found for device 'nvme-ns'"],
  [
    `${DRIVE} -device nvme-ns,drive=nvm`,
    "-device nvme-ns,drive=nvm: No 'nvme-bus' bus found for device 'nvme-ns'",
  ],
  [`${DRIVE} -device nvme,serial=x,id=c1 -device nvme-ns,drive=nvm,bus=c1`, ''],
  [
    `${DRIVE} -device nvme,serial=x,id=c1 -device nvme-ns,drive=nvm,bus=nope`,
    "-device nvme-ns,drive=nvm,bus=nope: Bus 'nope' not found",
  ],
];

// nvmemu's own checks where QEMU crashes, does not check, or is after 7.2.
const OURS: readonly [string, string][] = [
  [
    '-device nvme,serial=x,cmb_size_mb=5000',
    '-device nvme,serial=x,cmb_size_mb=5000: cmb_size_mb must be a power of 2',
  ],
  [
    '-device nvme,serial=x,smart_critical_warning=32',
    '-device nvme,serial=x,smart_critical_warning=32: unsupported smart critical warning bits: 0x20',
  ],
  [
    `${DRIVE} -device nvme-subsys,id=s -device nvme,serial=x,drive=nvm,subsys=s`,
    "-device nvme,serial=x,drive=nvm,subsys=s: subsystem support is unavailable with legacy namespace ('drive' property)",
  ],
  [
    '-device nvme-subsys,id=s -device nvme,serial=a,subsys=s -device nvme,serial=b,subsys=s',
    '-device nvme,serial=b,subsys=s: invalid controller serial',
  ],
  [
    '-device nvme,serial=x,id=c -device nvme,serial=y,subsys=c',
    "-device nvme,serial=y,subsys=c: Invalid parameter type for 'subsys', expected: nvme-subsys",
  ],
  [
    '-device nvme-subsys,id=s -device nvme,serial=x,subsys=s,sriov_max_vfs=1,sriov_vq_flexible=2',
    '-device nvme,serial=x,subsys=s,sriov_max_vfs=1,sriov_vq_flexible=2: both sriov_vq_flexible and sriov_vi_flexible must be set for the use of SR-IOV',
  ],
  [
    '-device nvme,serial=x,num_queues=1',
    '-device nvme,serial=x,num_queues=1: max_ioqpairs must be between 1 and 65535',
  ],
];

describe('nvme command-line checks', () => {
  for (const [line, expected] of CATALOGUE) {
    it(`QEMU 7.2: ${line} -> ${expected === '' ? 'starts' : expected.slice(line.length + 2)}`, async () => {
      assert.equal(await errorOf(line), expected);
    });
  }
  for (const [line, expected] of OURS) {
    it(`nvmemu: ${line} -> ${expected.slice(line.length + 2)}`, async () => {
      assert.equal(await errorOf(line), expected);
    });
  }

  it('num_queues warns with QEMU text and sets max_ioqpairs = num_queues - 1', async () => {
    const m = await build('-device nvme,serial=x,num_queues=4,id=c');
    // The option layer adds "<location>: warning: " (QEMU's layout).
    assert.deepEqual(warnings, [
      '-device nvme,serial=x,num_queues=4,id=c: warning: num_queues is deprecated; please use max_ioqpairs instead',
    ]);
    const dev = m.component('c');
    assert.ok(dev instanceof NvmeDevice);
    assert.equal(dev.controller.params.maxIoqpairs, 3);
    await m.shutdown();
  });
});

describe('nvme machines', () => {
  it('a legacy drive= namespace is NSID 1 and answers Identify through the real namespace', async () => {
    const m = await build(`${DRIVE} -device nvme,serial=leg,drive=nvm,id=c`);
    const dev = m.component('c');
    assert.ok(dev instanceof NvmeDevice);
    const host = new Host(dev.controller);
    assert.equal(host.enable(), 1);
    const list = new Uint8Array(4096);
    assert.equal((await host.admin({ opcode: 0x06, cdw10: 0x02 }, list)).status, 0);
    assert.deepEqual([readU32le(list, 0), readU32le(list, 4)], [1, 0]);
    const idns = new Uint8Array(4096);
    assert.equal((await host.admin({ opcode: 0x06, nsid: 1, cdw10: 0 }, idns)).status, 0);
    assert.equal(readU64le(idns, 0), 2048n); // 1 MiB / 512
    await host.createIoQueues(2);
    const data = Uint8Array.from({ length: 1024 }, (_, i) => i & 0xff);
    const w = await host.command(1, { opcode: 0x01, nsid: 1, cdw10: 7, cdw12: 1 }, data);
    assert.equal(w.status, 0);
    const back = new Uint8Array(1024);
    const r = await host.command(2, { opcode: 0x02, nsid: 1, cdw10: 7, cdw12: 1 }, back);
    assert.equal(r.status, 0);
    assert.deepEqual(back, data);
    const smart = new Uint8Array(512);
    await host.admin({ opcode: 0x02, nsid: 0xffffffff, cdw10: (127 << 16) | 0x02 }, smart);
    assert.deepEqual([readU64le(smart, 32), readU64le(smart, 48)], [1n, 1n]);
    assert.deepEqual([readU64le(smart, 64), readU64le(smart, 80)], [1n, 1n]);
    assert.equal(dev.controller.internalErrors, 0);
    await m.shutdown();
  });

  it('a shared namespace of a subsystem attaches to every controller, also ones planned later', async () => {
    const m = await build(
      `${DRIVE} -device nvme-subsys,id=s,nqn=sub -device nvme,serial=x,subsys=s,id=c0 -device nvme-ns,drive=nvm,nsid=5 -device nvme,serial=x,subsys=s,id=c1`,
    );
    const c0 = m.component('c0');
    const c1 = m.component('c1');
    assert.ok(c0 instanceof NvmeDevice && c1 instanceof NvmeDevice);
    assert.deepEqual([c0.controller.cntlid, c1.controller.cntlid], [0, 1]);
    assert.equal(c0.controller.subsys, c1.controller.subsys);
    assert.equal(c0.controller.subsys.subnqn, 'nqn.2019-08.org.qemu:sub');
    assert.deepEqual([c0.controller.isAttached(5), c1.controller.isAttached(5)], [true, true]);
    await m.shutdown();
  });

  it('a private namespace (shared=off) attaches only to its bus controller', async () => {
    const m = await build(
      `${DRIVE} -device nvme-subsys,id=s -device nvme,serial=x,subsys=s,id=c0 -device nvme,serial=x,subsys=s,id=c1 -device nvme-ns,drive=nvm,bus=c0,shared=off`,
    );
    const c0 = m.component('c0') as NvmeDevice;
    const c1 = m.component('c1') as NvmeDevice;
    assert.deepEqual([c0.controller.isAttached(1), c1.controller.isAttached(1)], [true, false]);
    await m.shutdown();
  });
});
