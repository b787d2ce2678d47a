// Protection information building blocks (src/nvme/ns/pi/): guard algorithms on published
// vectors, tuple encodings, the command-level reference tag rule and every per-block check
// with its escape values (reference qemu-nvme.md §9.2-§9.4).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { crc16T10Dif, crc64Nvme } from '../src/util/crc.js';
import { Status, withDnr, statusName } from '../src/nvme/spec/status.js';
import {
  guardOf,
  readTuple,
  tupleOffset,
  writeTuple,
  type PiFormat,
} from '../src/nvme/ns/pi/tuple.js';
import {
  checkBlocks,
  checkPrInfo,
  commandPrInfo,
  generate,
  markUnwritten,
  PRCHK_APP,
  PRCHK_GUARD,
  PRCHK_REF,
  type PrInfo,
} from '../src/nvme/ns/pi/protect.js';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();

function seq(len: number, f: (i: number) => number): Uint8Array {
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = f(i) & 0xff;
  return b;
}

const F16 = (over: Partial<PiFormat> = {}): PiFormat => ({
  type: 1,
  pif: 0,
  first: false,
  ms: 8,
  lbaSize: 512,
  ...over,
});
const F64 = (over: Partial<PiFormat> = {}): PiFormat => ({
  type: 1,
  pif: 2,
  first: false,
  ms: 16,
  lbaSize: 4096,
  ...over,
});
const pr = (prinfo: number, reftag: bigint, apptag = 0, appmask = 0xffff): PrInfo => ({
  prinfo,
  reftag,
  apptag,
  appmask,
});

describe('guard algorithms (published vectors, reference §9.3)', () => {
  it('CRC-16 T10-DIF of "123456789" is 0xD0DB and of 512 bytes (i*13+1) 0xA2A6', () => {
    assert.equal(crc16T10Dif(ascii('123456789')), 0xd0db);
    assert.equal(crc16T10Dif(seq(512, (i) => i * 13 + 1)), 0xa2a6);
  });
  it('CRC-64 NVMe of "123456789" is 0xAE8B14860A799888 and of 4096 bytes 0..255 0x3E729F5F6750449C', () => {
    assert.equal(crc64Nvme(ascii('123456789')), 0xae8b14860a799888n);
    assert.equal(crc64Nvme(seq(4096, (i) => i)), 0x3e729f5f6750449cn);
  });
  it("the 64-bit guard of a 4096-byte zero block is QEMU's Write Zeroes constant 0x6482D367EB22B64E", () => {
    const f = F64({ first: true });
    assert.equal(guardOf(f, new Uint8Array(4096), new Uint8Array(16)), 0x6482d367eb22b64en);
  });
});

describe('tuple generation (PRACT) matches the bytes QEMU 7.2 wrote', () => {
  it('type 1, 16-bit guard, LBA 5, LBAT 0xABCD: A2A6 ABCD 00000005', () => {
    const f = F16();
    const data = seq(512, (i) => i * 13 + 1);
    const meta = new Uint8Array(8);
    generate(f, commandPrInfo(0x8, { cdw3: 0, cdw14: 5, cdw15: 0xabcd }, f), data, meta, 0);
    assert.equal(hex(meta), 'A2A6ABCD00000005');
  });
  it('type 2, 64-bit guard, cdw3=1 cdw14=0x100, LBAT 0x77: 3E729F5F6750449C 0077 000100000100', () => {
    const f = F64({ type: 2 });
    const data = seq(4096, (i) => i);
    const meta = new Uint8Array(16);
    generate(f, commandPrInfo(0x8, { cdw3: 1, cdw14: 0x100, cdw15: 0x77 }, f), data, meta, 0);
    assert.equal(hex(meta), '3E729F5F6750449C0077000100000100');
  });
  it('places the tuple last by default and first with PIL; a last tuple guards the bytes before it', () => {
    const data = seq(512, (i) => i);
    const last = F16({ ms: 16 });
    const first = F16({ ms: 16, first: true });
    assert.equal(tupleOffset(last), 8);
    assert.equal(tupleOffset(first), 0);
    const m = seq(16, (i) => 0x40 + i);
    const expectLast = crc16T10Dif(m.subarray(0, 8), crc16T10Dif(data));
    assert.equal(guardOf(last, data, m), BigInt(expectLast));
    assert.equal(guardOf(first, data, m), BigInt(crc16T10Dif(data)));
  });
  it('increments the reference tag per block for types 1/2 and keeps it for type 3', () => {
    for (const [type, tags] of [
      [1, [7n, 8n, 9n]],
      [2, [7n, 8n, 9n]],
      [3, [7n, 7n, 7n]],
    ] as const) {
      const f = F16({ type });
      const meta = new Uint8Array(24);
      generate(f, pr(0x8, 7n, 1), new Uint8Array(1536), meta, 0);
      assert.deepEqual(
        [0, 1, 2].map((i) => readTuple(meta, i * 8, 0).reftag),
        tags,
        `type ${type}`,
      );
    }
  });
  it('wraps the 48-bit reference tag of a 64-bit guard', () => {
    const f = F64();
    const meta = new Uint8Array(32);
    generate(f, pr(0x8, 0xffff_ffff_ffffn), new Uint8Array(8192), meta, 0);
    assert.equal(readTuple(meta, 0, 2).reftag, 0xffff_ffff_ffffn);
    assert.equal(readTuple(meta, 16, 2).reftag, 0n);
  });
});

describe('command-level reference tag rule (reference §9.4)', () => {
  const cases = [
    {
      name: 'type 1 with PRCHK reftag and ILBRT = SLBA passes',
      type: 1,
      prinfo: PRCHK_REF,
      reftag: 9n,
      slba: 9n,
      expect: 0,
    },
    {
      name: 'type 1 with PRCHK reftag and ILBRT != SLBA is 0x181+DNR',
      type: 1,
      prinfo: PRCHK_REF,
      reftag: 8n,
      slba: 9n,
      expect: withDnr(Status.INVALID_PROT_INFO),
    },
    {
      name: 'type 1 compares the low 32 bits of the SLBA (16-bit guard)',
      type: 1,
      prinfo: PRCHK_REF,
      reftag: 1n,
      slba: 0x1_0000_0001n,
      expect: 0,
    },
    {
      name: 'type 1 without PRCHK reftag accepts any ILBRT',
      type: 1,
      prinfo: PRCHK_GUARD,
      reftag: 8n,
      slba: 9n,
      expect: 0,
    },
    {
      name: 'type 2 accepts any ILBRT',
      type: 2,
      prinfo: PRCHK_REF,
      reftag: 1234n,
      slba: 9n,
      expect: 0,
    },
    {
      name: 'type 3 with PRCHK reftag is 0x181 without DNR',
      type: 3,
      prinfo: PRCHK_REF,
      reftag: 9n,
      slba: 9n,
      expect: Status.INVALID_PROT_INFO,
    },
    {
      name: 'type 3 without PRCHK reftag passes',
      type: 3,
      prinfo: PRCHK_GUARD | PRCHK_APP,
      reftag: 0n,
      slba: 9n,
      expect: 0,
    },
  ] as const;
  for (const c of cases) {
    it(c.name, () => {
      const got = checkPrInfo(F16({ type: c.type }), pr(c.prinfo, c.reftag), c.slba);
      assert.equal(statusName(got), statusName(c.expect));
    });
  }
});

describe('per-block checks and escapes (reference §9.4)', () => {
  const data = seq(512, (i) => i * 7);
  /** One valid block: type `type`, reftag 20, apptag 0x1234 at LBA 20. */
  function block(type: 1 | 2 | 3, mutate?: (d: Uint8Array, m: Uint8Array) => void) {
    const f = F16({ type });
    const d = data.slice();
    const m = new Uint8Array(8);
    generate(f, pr(0x8, 20n, 0x1234), d, m, 0);
    mutate?.(d, m);
    return { f, d, m };
  }
  const ALL = PRCHK_GUARD | PRCHK_APP | PRCHK_REF;
  const cases: {
    name: string;
    type: 1 | 2 | 3;
    prinfo: number;
    apptag?: number;
    appmask?: number;
    reftag?: bigint;
    mutate?: (d: Uint8Array, m: Uint8Array) => void;
    expect: number;
  }[] = [
    { name: 'an intact block passes every check', type: 1, prinfo: ALL, expect: 0 },
    {
      name: 'a flipped data bit is a guard error 0x282',
      type: 1,
      prinfo: ALL,
      mutate: (d) => (d[100]! ^= 0x10),
      expect: Status.E2E_GUARD_ERROR,
    },
    {
      name: 'a flipped data bit passes when the guard is not checked',
      type: 1,
      prinfo: PRCHK_APP | PRCHK_REF,
      mutate: (d) => (d[100]! ^= 0x10),
      expect: 0,
    },
    {
      name: 'a wrong application tag is 0x283',
      type: 1,
      prinfo: ALL,
      apptag: 0x1235,
      expect: Status.E2E_APP_ERROR,
    },
    {
      name: 'the application tag is compared under LBATM only',
      type: 1,
      prinfo: ALL,
      apptag: 0x12ff,
      appmask: 0xff00,
      expect: 0,
    },
    {
      name: 'an application tag outside LBATM bits still fails inside them',
      type: 1,
      prinfo: ALL,
      apptag: 0x1334,
      appmask: 0xff00,
      expect: Status.E2E_APP_ERROR,
    },
    {
      name: 'a wrong reference tag is 0x284 (type 1)',
      type: 1,
      prinfo: ALL,
      reftag: 21n,
      expect: Status.E2E_REF_ERROR,
    },
    {
      name: 'a wrong reference tag is 0x284 (type 2)',
      type: 2,
      prinfo: PRCHK_REF,
      reftag: 19n,
      expect: Status.E2E_REF_ERROR,
    },
    {
      name: 'type 3 never checks the reference tag per block',
      type: 3,
      prinfo: PRCHK_GUARD | PRCHK_APP,
      reftag: 99n,
      expect: 0,
    },
    {
      name: 'guard is checked before the application tag',
      type: 1,
      prinfo: ALL,
      apptag: 0,
      mutate: (d) => (d[0]! ^= 1),
      expect: Status.E2E_GUARD_ERROR,
    },
    {
      name: 'application tag is checked before the reference tag',
      type: 1,
      prinfo: ALL,
      apptag: 0,
      reftag: 0n,
      expect: Status.E2E_APP_ERROR,
    },
    {
      name: 'type 1: apptag FFFFh escapes every check',
      type: 1,
      prinfo: ALL,
      reftag: 0n,
      mutate: (d, m) => {
        d[0]! ^= 1;
        m[2] = 0xff;
        m[3] = 0xff;
      },
      expect: 0,
    },
    {
      name: 'type 2: apptag FFFFh escapes every check',
      type: 2,
      prinfo: ALL,
      reftag: 0n,
      mutate: (d, m) => {
        d[0]! ^= 1;
        m[2] = 0xff;
        m[3] = 0xff;
      },
      expect: 0,
    },
    {
      name: 'type 3: apptag FFFFh alone does not escape',
      type: 3,
      prinfo: PRCHK_GUARD,
      mutate: (d, m) => {
        d[0]! ^= 1;
        m[2] = 0xff;
        m[3] = 0xff;
      },
      expect: Status.E2E_GUARD_ERROR,
    },
    {
      name: 'type 3: apptag FFFFh with reftag FFFFFFFFh escapes',
      type: 3,
      prinfo: PRCHK_GUARD | PRCHK_APP,
      mutate: (d, m) => {
        d[0]! ^= 1;
        m.fill(0xff, 2);
      },
      expect: 0,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { f, d, m } = block(c.type, c.mutate);
      const fail = checkBlocks(
        f,
        pr(c.prinfo, c.reftag ?? 20n, c.apptag ?? 0x1234, c.appmask ?? 0xffff),
        d,
        m,
        0,
        20,
      );
      assert.equal(statusName(fail?.status ?? 0), statusName(c.expect));
    });
  }

  it('reports the index of the first failing block', () => {
    const f = F16();
    const d = seq(512 * 4, (i) => i);
    const m = new Uint8Array(32);
    generate(f, pr(0x8, 0n), d, m, 0);
    d[512 * 2 + 5]! ^= 0x80;
    assert.deepEqual(checkBlocks(f, pr(PRCHK_GUARD, 0n), d, m, 0, 0), {
      status: Status.E2E_GUARD_ERROR,
      index: 2,
    });
  });

  it('shows never-written blocks (zero metadata) with all-ones tuples, which escape', () => {
    const f = F16({ ms: 16 });
    const m = new Uint8Array(32);
    m[16] = 1; // block 1 was written
    markUnwritten(f, m);
    assert.equal(hex(m.subarray(0, 16)), '0000000000000000FFFFFFFFFFFFFFFF');
    assert.equal(m[16], 1);
    assert.equal(
      checkBlocks(
        f,
        pr(PRCHK_GUARD | PRCHK_APP | PRCHK_REF, 0n),
        new Uint8Array(512),
        m.subarray(0, 16),
        0,
        0,
      ),
      undefined,
    );
  });

  it('forgives a 64-bit guard mismatch on LBA 0 whose data is all zeros (QEMU), not elsewhere', () => {
    const f = F64();
    const m = new Uint8Array(16);
    writeTuple(m, 0, 2, { guard: 0n, apptag: 0, reftag: 0n });
    const zero = new Uint8Array(4096);
    assert.equal(checkBlocks(f, pr(PRCHK_GUARD, 0n), zero, m, 0, 0), undefined);
    assert.equal(
      checkBlocks(f, pr(PRCHK_GUARD, 1n), zero, m, 0, 1)?.status,
      Status.E2E_GUARD_ERROR,
    );
  });
});
