// `nvmemu run` and its data folder: one machine per folder (the second fails at once, naming the
// folder and the holder's PID, and never takes the first one's QMP socket), stale locks are
// taken over, -daemonize returns once the machine serves (-o json prints one document), guest
// options never select the default machine, and a port in use names the fix.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bufferIo } from '../src/cli/io.js';
import { LOCK_FILE } from '../src/cli/lock.js';
import { startMachine } from '../src/cli/run.js';
import { QmpClient } from '../src/monitor/client.js';
import { CLI, startRun, stopRun } from './support/run.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'nvmemu-lock-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** `nvmemu ARGS` to completion. */
function nvmemu(args: string[], timeout = 20_000) {
  return new Promise<{ code: number | null; out: string; err: string }>((done) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), timeout);
    child.on('exit', (code) => {
      clearTimeout(t);
      done({ code, out, err });
    });
  });
}

async function waitGone(path: string, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  while (existsSync(path)) {
    if (Date.now() - t0 > ms) assert.fail(`${path} still exists`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the data-folder lock', () => {
  it('a second run on the same folder fails at once, and the first keeps its monitor', async () => {
    const data = join(dir, 'one');
    const first = await startRun(['--data', data, '--listen', 'none']);
    try {
      const t0 = Date.now();
      const second = await nvmemu(['run', '--data', data, '--listen', 'none']);
      assert.ok(Date.now() - t0 < 10_000);
      assert.equal(second.code, 1);
      assert.match(
        second.err,
        new RegExp(
          `^nvmemu: data folder ${data} is in use by another nvmemu \\(PID ${first.child.pid}\\)\\n`,
        ),
      );
      assert.match(second.err, /--data DIR/);
      assert.equal(readFileSync(join(data, LOCK_FILE), 'utf8'), `${first.child.pid}\n`);
      // The first machine's QMP socket still answers.
      const c = await QmpClient.connect({ path: join(data, 'qmp.sock') });
      await c.negotiate();
      assert.deepEqual(await c.execute('query-status'), {
        running: true,
        singlestep: false,
        status: 'running',
      });
      c.close();
    } finally {
      await stopRun(first.child);
    }
    assert.equal(existsSync(join(data, LOCK_FILE)), false, 'the lock is released at exit');
  });

  it('takes over a stale lock whose process is gone', async () => {
    const data = join(dir, 'stale');
    mkdirSync(data, { recursive: true });
    const dead = spawnSync(process.execPath, ['-e', 'process.pid']).pid;
    writeFileSync(join(data, LOCK_FILE), `${dead}\n`);
    const r = await startRun(['--data', data, '--listen', 'none']);
    try {
      assert.equal(readFileSync(join(data, LOCK_FILE), 'utf8'), `${r.child.pid}\n`);
    } finally {
      await stopRun(r.child);
    }
  });
});

describe('-daemonize', () => {
  it('returns once the machine serves, prints the JSON summary; quit frees the folder', async () => {
    const data = join(dir, 'daemon');
    const r = await nvmemu(['run', '-daemonize', '-o', 'json', '--data', data, '--listen', 'none']);
    assert.equal(r.code, 0, r.err);
    const summary = JSON.parse(r.out) as {
      pid: number;
      data_folder: string;
      devices: { type: string; id: string | null; subnqn?: string }[];
      nvme_tcp: unknown;
    };
    assert.equal(summary.data_folder, data);
    assert.equal(summary.nvme_tcp, null);
    assert.ok(
      summary.devices.some(
        (d) => d.type === 'nvme' && d.id === 'nvme0' && d.subnqn === 'nqn.2019-08.org.qemu:subsys0',
      ),
    );
    assert.equal(readFileSync(join(data, LOCK_FILE), 'utf8'), `${summary.pid}\n`);
    const c = await QmpClient.connect({ path: join(data, 'qmp.sock') });
    await c.negotiate();
    await c.execute('quit');
    await c.closed;
    // The monitor closes last: by now the lock is gone.
    assert.equal(existsSync(join(data, LOCK_FILE)), false);
    await waitGone(`/proc/${summary.pid}`);
    assert.match(readFileSync(join(data, 'nvmemu.log'), 'utf8'), /quit: shutting down/);
  });

  it('a start that fails reports its error and status', async () => {
    const r = await nvmemu(['run', '-daemonize', '--data', join(dir, 'bad'), '-device', 'nvme']);
    assert.equal(r.code, 1);
    assert.equal(r.err, 'nvmemu: -device nvme: serial property not set\n');
    assert.equal(existsSync(join(dir, 'bad')), false);
  });
});

describe('run options', () => {
  it('ignored guest options warn and do not select the default machine', async () => {
    const io = bufferIo();
    const data = join(dir, 'smp');
    const started = await startMachine(['-smp', '4', '-enable-kvm', '--data', data], io);
    assert.notEqual(typeof started, 'number', io.stderr);
    if (typeof started === 'number') return;
    try {
      assert.deepEqual(started.machine.components(), []);
      assert.equal(
        io.stderr,
        'nvmemu: -smp 4: warning: ignored (nvmemu emulates devices, not a guest)\n' +
          'nvmemu: -enable-kvm: warning: ignored (nvmemu emulates devices, not a guest)\n',
      );
      assert.equal(existsSync(join(data, 'nvme0n1.img')), false);
    } finally {
      await started.machine.shutdown();
    }
  });

  it('a port in use names the cause and the fix', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      const r = await nvmemu([
        'run',
        '--data',
        join(dir, 'port'),
        '--listen',
        `127.0.0.1:${port}`,
        '--discovery',
        'none',
      ]);
      assert.equal(r.code, 1);
      assert.match(r.err, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
      assert.match(
        r.err,
        /\n {2}another program listens there .*--listen 127\.0\.0\.1:PORT --discovery PORT/,
      );
      assert.equal(existsSync(join(dir, 'port', LOCK_FILE)), false);
    } finally {
      server.close();
    }
  });
});
