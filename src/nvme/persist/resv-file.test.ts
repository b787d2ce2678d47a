// The shared reservation state file: two stores on one file behave as two nvmemu processes
// (flock locks belong to open file descriptions, so one process shows the same conflicts):
// an update in one is seen by the other's next read, notices reach the other store, and a
// power-on (the last user gone) clears the state unless PTPL is set. A foreign or damaged
// file is refused with a message naming it.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceStateFileError } from './state-file.js';
import { decodeResv, encodeResv, FileResvStore, resvStateFile } from './resv-file.js';
import {
  acquire,
  Racqa,
  register,
  Rrega,
  Rtype,
  type Notice,
  type ResvData,
} from '../ns/resv/model.js';

let dir = '';
before(() => (dir = mkdtempSync(join(tmpdir(), 'nvmemu-resv-'))));
after(() => rmSync(dir, { recursive: true, force: true }));

const regOp = (host: string, rkey: bigint, ptpl?: boolean) => (d: ResvData) =>
  register(d, {
    host,
    cntlid: 1,
    rrega: Rrega.REGISTER,
    iekey: false,
    crkey: 0n,
    nrkey: rkey,
    ptpl,
  });

describe('the reservation state file', () => {
  it('encodes and decodes a state', () => {
    const d: ResvData = {
      gen: 7,
      rtype: Rtype.WRITE_EXCLUSIVE,
      holder: 'h16:0102',
      ptpl: true,
      registrants: [
        { host: 'ctrl:3', rkey: 1n, cntlid: 3 },
        { host: 'h16:0102', rkey: 0xffff_ffff_ffff_ffffn, cntlid: 9 },
      ],
    };
    assert.deepEqual(decodeResv(encodeResv(d)), d);
    assert.equal(decodeResv(new Uint8Array(3)), undefined);
  });

  it('is one state for every store of the file, with notices delivered to the others', () => {
    const file = resvStateFile(dir, 'nqn.2019-08.org.qemu:share', 1);
    const a = new FileResvStore(file);
    const b = new FileResvStore(file);
    const seen: Notice[] = [];
    b.onNotice = (n) => seen.push(n);
    try {
      a.update(regOp('A', 0xa1n));
      b.update(regOp('B', 0xb1n));
      a.update((d) =>
        acquire(d, { host: 'A', racqa: Racqa.ACQUIRE, rtype: 1, crkey: 0xa1n, prkey: 0n }),
      );
      assert.equal(b.read().holder, 'A', "b sees a's acquire at its next read");
      const out = b.update((d) =>
        acquire(d, { host: 'B', racqa: Racqa.PREEMPT, rtype: 2, crkey: 0xb1n, prkey: 0xa1n }),
      );
      assert.equal(out.status, 0);
      assert.equal(a.read().holder, 'B');
      assert.equal(a.read().rtype, 2);
      // b delivered its own notice at once; a delivers it when it looks.
      assert.deepEqual(seen, [{ host: 'A', type: 1 }]);
      const aSeen: Notice[] = [];
      a.onNotice = (n) => aSeen.push(n);
      b.update(regOp('C', 0xc1n));
      a.read();
      assert.deepEqual(aSeen, [], 'a registration notifies nobody');
    } finally {
      a.close();
      b.close();
    }
  });

  it('a power-on clears the state unless PTPL is set; a second user is no power-on', () => {
    const file = resvStateFile(dir, 'nqn.2019-08.org.qemu:ptpl', 1);
    let a = new FileResvStore(file);
    a.update(regOp('A', 1n));
    // Another user arrives while a is open: the subsystem stays powered.
    const b = new FileResvStore(file);
    assert.equal(b.read().registrants.length, 1);
    b.close();
    a.close();
    a = new FileResvStore(file);
    assert.equal(a.read().registrants.length, 0, 'no PTPL: gone after the last user left');
    a.update(regOp('A', 1n, true));
    a.close();
    a = new FileResvStore(file);
    try {
      assert.equal(a.read().registrants.length, 1, 'PTPL: kept');
      assert.equal(a.read().ptpl, true);
    } finally {
      a.close();
    }
  });

  it('refuses a file that is not a reservation state file', () => {
    const file = join(dir, 'foreign.resv');
    writeFileSync(file, Buffer.alloc(16384, 0x41));
    assert.throws(
      () => new FileResvStore(file),
      (e: Error) =>
        e instanceof DeviceStateFileError && e.message.includes(`'${file}' is not an nvmemu`),
    );
    const short = join(dir, 'short.resv');
    writeFileSync(short, 'x');
    assert.throws(() => new FileResvStore(short), /has the wrong size/);
  });
});
