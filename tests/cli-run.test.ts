// `nvmemu run` as a user runs it: spawn the built CLI, wait for its summary, stop it with a
// signal, and check the exit status and what it left on disk.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  mkdtempSync,
  mkdirSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
  truncateSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = resolve(fileURLToPath(import.meta.url), '../../src/cli/main.js');
let dir = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'nvmemu-cli-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Starts `nvmemu run ARGS`, waits for the summary, sends `signal`, returns what happened. */
function runUntilReady(
  args: string[],
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, 'run', ...args], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let signalled = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`nvmemu run did not become ready: ${stdout}${stderr}`));
    }, 20_000);
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
      if (!signalled && stdout.includes('Running;')) {
        signalled = true;
        child.kill(signal);
      }
    });
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

function cli(...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8' });
}

function listing(folder: string): string[] {
  return readdirSync(folder)
    .sort()
    .map((f) => `${f}:${statSync(join(folder, f)).size}`);
}

describe('nvmemu run', () => {
  it("starts QEMU's documented NVMe example and stops cleanly on SIGTERM", async () => {
    writeFileSync(join(dir, 'nvm.img'), '');
    truncateSync(join(dir, 'nvm.img'), 64 << 20);
    const r = await runUntilReady([
      '-drive',
      'file=nvm.img,if=none,id=nvm,format=raw',
      '-device',
      'nvme,serial=deadbeef,drive=nvm',
      '--data',
      join(dir, 'd1'),
      '--listen',
      'none',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^nvmemu \d+\.\d+\.\d+: machine pc, 128 MiB RAM\n/);
    assert.match(r.stdout, /nvmemu: SIGTERM: shutting down\n$/);
  });

  it("starts QEMU's documented NVDIMM example and stops cleanly on SIGINT", async () => {
    const r = await runUntilReady(
      [
        '-machine',
        'pc,nvdimm=on',
        '-m',
        '4G,slots=4,maxmem=32G',
        '-object',
        'memory-backend-file,id=mem1,share=on,mem-path=pmem.img,size=256M',
        '-device',
        'nvdimm,id=nvdimm1,memdev=mem1,label-size=128K',
        '--data',
        join(dir, 'd2'),
        '--listen',
        'none',
      ],
      'SIGINT',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /machine pc, 4096 MiB RAM, device memory 4 slots up to 32768 MiB, nvdimm on/,
    );
    assert.equal(
      statSync(join(dir, 'pmem.img')).size,
      256 << 20,
      'a fresh backing file is extended to size',
    );
  });

  it('runs the default machine with images created sparse in the data folder', async () => {
    const data = join(dir, 'default');
    const r = await runUntilReady(['--data', data, '--listen', 'none']);
    assert.equal(r.code, 0, r.stderr);
    const images = readdirSync(data)
      .filter((f) => f.endsWith('.img'))
      .sort();
    assert.deepEqual(images, ['nvdimm0.img', 'nvme0n1.img', 'virtio-pmem0.img', 'zns0n1.img']);
    const st = statSync(join(data, 'nvme0n1.img'));
    assert.equal(st.size, 1 << 30);
    assert.ok(st.blocks * 512 < 1 << 20, 'the namespace image is sparse');
  });

  it('leaves the data folder as it was when the default machine fails to start', () => {
    const data = join(dir, 'broken');
    mkdirSync(data);
    // A backing file that is too small makes the nvdimm backend fail after the NVMe image
    // would have been created.
    writeFileSync(join(data, 'nvdimm0.img'), Buffer.alloc(4096));
    const before = listing(data);
    const r = cli('run', '--data', data, '--listen', 'none');
    assert.equal(r.status, 1);
    assert.equal(
      r.stderr,
      "nvmemu: backing store size 0x1000 does not match 'size' option 0x40200000\n",
    );
    assert.deepEqual(listing(data), before);
  });

  it('fails a bad line with exit status 1 and creates no data folder', () => {
    const data = join(dir, 'never');
    const r = cli('run', '-device', 'nvme', '--data', data);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, 'nvmemu: -device nvme: serial property not set\n');
    assert.throws(() => statSync(data), { code: 'ENOENT' });
  });

  it('lists device types and properties like QEMU', () => {
    const types = cli('run', '-device', 'help');
    assert.equal(types.status, 0);
    assert.match(
      types.stdout,
      /^Storage devices:\nname "nvdimm", desc "DIMM memory module"\nname "nvme", bus PCI, desc "Non-Volatile Memory Express"\n/,
    );
    const props = cli('run', '-device', 'nvme,help');
    assert.equal(props.status, 0);
    assert.match(props.stdout, /^nvme options:\n/);
    assert.match(props.stdout, /\n {2}aerl=<uint8> {11}- {2}\(default: 3\)\n/);
  });
});

describe('nvmemu run serving NVMe/TCP', () => {
  it('serves the default machine to `nvmemu nvme` on the port it prints', async () => {
    const data = join(dir, 'tcp');
    const child = spawn(
      process.execPath,
      [CLI, 'run', '--data', data, '--listen', '127.0.0.1:0', '--discovery', '0'],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      let out = '';
      const port = await new Promise<string>((done, fail) => {
        const timer = setTimeout(() => fail(new Error(`no listening line: ${out}`)), 20_000);
        child.stdout.on('data', (b: Buffer) => {
          out += b.toString();
          const m = /nvme-tcp: listening on 127\.0\.0\.1:(\d+)/.exec(out);
          if (m !== null && out.includes('Running;')) {
            clearTimeout(timer);
            done(m[1] as string);
          }
        });
      });
      const target = [
        '-t',
        'tcp',
        '-a',
        '127.0.0.1',
        '--trsvcid',
        port,
        '-n',
        'nqn.2019-08.org.qemu:subsys0',
      ];
      writeFileSync(
        join(dir, 'block.bin'),
        Buffer.concat([Buffer.from('nvmemu over tcp\n'), Buffer.alloc(496)]),
      );
      const w = cli(
        'nvme',
        'write',
        ...target,
        '--namespace-id',
        '1',
        '-s',
        '7',
        '-c',
        '0',
        '-z',
        '512',
        '-d',
        join(dir, 'block.bin'),
      );
      assert.equal(w.status, 0, w.stderr);
      assert.equal(w.stdout, 'write: Success\n');
      const r = spawnSync(
        process.execPath,
        [CLI, 'nvme', 'read', ...target, '--namespace-id', '1', '-s', '7', '-c', '0', '-z', '512'],
        { cwd: dir },
      );
      assert.equal(r.status, 0, r.stderr.toString());
      assert.equal(r.stdout.subarray(0, 16).toString(), 'nvmemu over tcp\n');
      const id = cli('nvme', 'id-ctrl', ...target, '-o', 'json');
      assert.equal(id.status, 0, id.stderr);
      const ctrl = JSON.parse(id.stdout) as { sn: string; mn: string; subnqn: string };
      assert.equal(ctrl.sn.trim(), 'nvmemu0001');
      assert.equal(ctrl.mn.trim(), 'QEMU NVMe Ctrl');
      assert.equal(ctrl.subnqn, 'nqn.2019-08.org.qemu:subsys0');
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.on('exit', r));
    }
  });
});

describe('nvmemu run --advertise', () => {
  it('names the advertised address in the discovery log (a guest reaches 127.0.0.1 as 10.0.2.2)', async () => {
    const data = join(dir, 'adv');
    const child = spawn(
      process.execPath,
      [
        CLI,
        'run',
        '--data',
        data,
        '--listen',
        '127.0.0.1:0',
        '--discovery',
        '0',
        '--advertise',
        '10.0.2.2',
      ],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      let out = '';
      const port = await new Promise<string>((done, fail) => {
        const timer = setTimeout(() => fail(new Error(`no discovery line: ${out}`)), 20_000);
        child.stdout.on('data', (b: Buffer) => {
          out += b.toString();
          const m = /nvme-tcp: discovery on 127\.0\.0\.1:(\d+)/.exec(out);
          if (m !== null && out.includes('Running;')) {
            clearTimeout(timer);
            done(m[1] as string);
          }
        });
      });
      const r = cli(
        'nvme',
        'discover',
        '-t',
        'tcp',
        '-a',
        '127.0.0.1',
        '--trsvcid',
        port,
        '-o',
        'json',
      );
      assert.equal(r.status, 0, r.stderr);
      const log = JSON.parse(r.stdout) as { records: { traddr: string; subnqn: string }[] };
      assert.deepEqual(
        log.records.map((e) => [e.subnqn, e.traddr]),
        [
          ['nqn.2019-08.org.qemu:subsys0', '10.0.2.2'],
          ['nqn.2014-08.org.nvmexpress.discovery', '10.0.2.2'],
        ],
      );
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.on('exit', r));
    }
  });
});

describe('nvmemu', () => {
  it('prints its version', () => {
    const r = cli('--version');
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^nvmemu \d+\.\d+\.\d+\n$/);
  });
  it('prints usage with --help and exits 0', () => {
    const r = cli('--help');
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^Usage: nvmemu <command> \[options\]/);
  });
  it('refuses an unknown command with exit status 2', () => {
    const r = cli('frobnicate');
    assert.equal(r.status, 2);
    assert.equal(
      r.stderr,
      "nvmemu: unknown command 'frobnicate'\nRun 'nvmemu --help' for the list of commands.\n",
    );
  });
});
