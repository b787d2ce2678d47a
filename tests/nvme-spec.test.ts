import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  CQE_SIZE,
  CqeLayout,
  SQE_SIZE,
  SqeLayout,
  encodeCqe,
  encodeSqe,
  makeCmd,
  parseCqe,
  parseSqe,
} from '../src/nvme/spec/command.js';
import { DNR, Status, hasDnr, statusName, withDnr, statusCode } from '../src/nvme/spec/status.js';
import { hex } from './nvme-fakes.js';

describe('nvme queue entry layouts', () => {
  it('pins SQE at 64 bytes and CQE at 16 bytes', () => {
    assert.equal(SqeLayout.size, 64);
    assert.equal(SQE_SIZE, 64);
    assert.equal(CqeLayout.size, 16);
    assert.equal(CQE_SIZE, 16);
  });

  it('encodes an SQE to golden bytes (opcode, FUSE/PSDT byte, CID, NSID, MPTR, PRPs, CDWs)', () => {
    const sqe = encodeSqe({
      opcode: 0x02,
      fuse: 1,
      psdt: 1,
      cid: 0x1234,
      nsid: 0xffffffff,
      cdw2: 0x02020202,
      cdw3: 0x03030303,
      mptr: 0x1122334455667788n,
      prp1: 0xa000n,
      prp2: 0xb000n,
      cdw10: 10,
      cdw11: 11,
      cdw12: 12,
      cdw13: 13,
      cdw14: 14,
      cdw15: 0xffffffff,
    });
    assert.equal(
      hex(sqe),
      '02413412ffffffff0202020203030303' +
        '8877665544332211' +
        '00a0000000000000' +
        '00b0000000000000' +
        '0a0000000b0000000c0000000d0000000e000000ffffffff',
    );
    const back = parseSqe(sqe);
    assert.equal(back.fuse, 1);
    assert.equal(back.psdt, 1);
    assert.equal(back.prp1, 0xa000n);
    assert.equal(back.prp2, 0xb000n);
    assert.equal(back.cdw15, 0xffffffff);
    assert.deepEqual(parseSqe(encodeSqe(back)), back);
  });

  it('parseSqe (hand-written) decodes every SQE exactly as the SqeLayout table does', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 64, maxLength: 80 }), fc.nat(16), (bytes, at) => {
        const off = Math.min(at, bytes.length - 64);
        const v = SqeLayout.decode(bytes, off);
        const cmd = parseSqe(bytes, off);
        assert.deepEqual(
          { ...cmd },
          {
            opcode: v.opcode,
            fuse: v.flags & 3,
            psdt: v.flags >>> 6,
            cid: v.cid,
            nsid: v.nsid,
            cdw2: v.cdw2,
            cdw3: v.cdw3,
            mptr: v.mptr,
            dptr: v.dptr,
            prp1: Buffer.from(v.dptr).readBigUInt64LE(0),
            prp2: Buffer.from(v.dptr).readBigUInt64LE(8),
            cdw10: v.cdw10,
            cdw11: v.cdw11,
            cdw12: v.cdw12,
            cdw13: v.cdw13,
            cdw14: v.cdw14,
            cdw15: v.cdw15,
          },
        );
        // DPTR is a copy: the command must not change when the queue slot is reused.
        bytes.fill(0xee);
        assert.deepEqual(cmd.dptr, v.dptr);
      }),
    );
    assert.throws(() => parseSqe(new Uint8Array(63)), { name: 'DecodeError' });
  });

  it('keeps DPTR as raw bytes so an SGL descriptor survives a round trip', () => {
    const sgl = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
    const cmd = makeCmd({ opcode: 1, psdt: 1, dptr: sgl });
    assert.deepEqual(parseSqe(encodeSqe(cmd)).dptr, sgl);
    assert.equal(cmd.prp1, 0x0807060504030201n);
  });

  it('encodes a CQE status word as status << 1 | phase', () => {
    const c = encodeCqe({
      dw0: 1,
      dw1: 2,
      sqhd: 3,
      sqid: 4,
      cid: 5,
      status: withDnr(0x002),
      phase: 1,
    });
    assert.equal(hex(c), '01000000020000000300040005000580');
    assert.deepEqual(parseCqe(c), {
      dw0: 1,
      dw1: 2,
      sqhd: 3,
      sqid: 4,
      cid: 5,
      status: 0x4002,
      phase: 1,
    });
  });
});

describe('nvme status codes', () => {
  const table: [number, string][] = [
    [Status.SUCCESS, 'SUCCESS'],
    [withDnr(Status.INVALID_FIELD), 'INVALID_FIELD+DNR'],
    [Status.AER_LIMIT_EXCEEDED, 'AER_LIMIT_EXCEEDED'],
    [withDnr(Status.ZONE_INVALID_WRITE), 'ZONE_INVALID_WRITE+DNR'],
    [0x3ff, '0x3ff'],
  ];
  for (const [s, name] of table) {
    it(`names 0x${s.toString(16)} ${name}`, () => assert.equal(statusName(s), name));
  }
  it('uses bit 14 for DNR (QEMU NVME_DNR) and SCT<<8|SC values', () => {
    assert.equal(DNR, 0x4000);
    assert.equal(withDnr(Status.ZONE_INVALID_WRITE), 0x41bc);
    assert.ok(hasDnr(0x41bc));
    assert.equal(statusCode(0x41bc), 0x1bc);
    assert.equal(Status.DULB, 0x287);
  });
});
