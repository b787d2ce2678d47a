import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseHexBytes } from '../../util/u64.js';
import { readU32le, writeU32le } from '../../util/bytes.js';
import { crashPoints, cutAfter, recordFrom } from './crash.js';
import { parseUuid } from './guid.js';
import { MemMedia } from './media.js';
import { Btt } from './btt.js';
import { checkBtt } from './btt-check.js';
import { BttInfo, bttLayout, decodeMapEntry, encodeBttInfo } from './btt-format.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const UUID = new Uint8Array(16).fill(0xaa);
const PARENT = parseUuid('01234567-89ab-cdef-0123-456789abcdef');

describe('BTT arena geometry (§8.3 worked example)', () => {
  it('a 1 GiB v1.1 namespace with 4096-byte sectors has the kernel offsets and capacity', () => {
    const [a, ...rest] = bttLayout(GiB, '1.1', 4096);
    assert.equal(rest.length, 0);
    assert.deepEqual(
      [
        a!.size,
        a!.internalNlba,
        a!.externalNlba,
        a!.dataoff,
        a!.mapoff,
        a!.logoff,
        a!.info2off,
        a!.nextoff,
      ],
      [1073737728, 261880, 261624, 4096, 1072668672, 1073717248, 1073733632, 0],
    );
    assert.equal(a!.externalNlba * 4096, 1071611904);
  });
  it('512-byte sectors give internal_nlba 2080831, mapoff 1065394176, capacity 1065254400', () => {
    const [a] = bttLayout(GiB, '1.1', 512);
    assert.deepEqual(
      [a!.internalLbasize, a!.internalNlba, a!.externalNlba, a!.mapoff],
      [512, 2080831, 2080575, 1065394176],
    );
    assert.equal(a!.externalNlba * 512, 1065254400);
  });
  it('v2.0 uses the whole namespace: internal_nlba 261881, external 261625', () => {
    const [a] = bttLayout(GiB, '2.0', 4096);
    assert.deepEqual(
      [a!.base, a!.size, a!.internalNlba, a!.externalNlba],
      [0, GiB, 261881, 261625],
    );
  });
  it('internal lbasize rounds 520 up to 576 and 4104 to 4160', () => {
    assert.equal(bttLayout(GiB, '1.1', 520)[0]!.internalLbasize, 576);
    assert.equal(bttLayout(GiB, '1.1', 4104)[0]!.internalLbasize, 4160);
  });
  it('splits 1 TiB + 20 MiB into two 512 GiB arenas linked by nextoff and a last small arena', () => {
    const arenas = bttLayout(1024 * GiB + 20 * MiB, '2.0', 4096);
    assert.deepEqual(
      arenas.map((a) => [a.base, a.size, a.nextoff]),
      [
        [0, 512 * GiB, 512 * GiB],
        [512 * GiB, 512 * GiB, 512 * GiB],
        [1024 * GiB, 20 * MiB, 0],
      ],
    );
  });
  it('drops a tail below 16 MiB: 512 GiB + 8 MiB is one arena with nextoff 0', () => {
    const arenas = bttLayout(512 * GiB + 8 * MiB, '2.0', 4096);
    assert.deepEqual(
      arenas.map((a) => [a.size, a.nextoff]),
      [[512 * GiB, 0]],
    );
  });
});

describe('BTT info block golden bytes (§8.2)', () => {
  it('encodes the 1 GiB v1.1 arena info byte for byte', () => {
    const [a] = bttLayout(GiB, '1.1', 4096);
    const got = encodeBttInfo(a!, '1.1', UUID, PARENT);
    const want = new Uint8Array(4096);
    want.set(
      parseHexBytes(
        '4254545f4152454e415f494e464f0000aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa0123456789abcdef0123456789abcdef' +
          '000000000100010000100000f8fd030000100000f8fe030000010000001000000000000000000000' +
          '001000000000000000a0ef3f0000000000a0ff3f0000000000e0ff3f000000000000000000000000',
      ),
    );
    want.set(parseHexBytes('b7faab14fc437e9c'), 4088);
    assert.equal(BttInfo.size, 4096);
    assert.deepEqual(got, want);
  });
});

function sector(fill: number, size = 512): Uint8Array {
  return new Uint8Array(size).fill(fill);
}

describe('BTT runtime (map and flog, §8.4–§8.6)', () => {
  const NS = 17 * MiB;
  it('a fresh BTT has an identity map, lanes {i, nlba+i, nlba+i, 1} and info2 equal to info', () => {
    const m = new MemMedia(NS);
    const btt = Btt.create(m, { version: '1.1', sectorSize: 512, uuid: UUID, parentUuid: PARENT });
    const a = btt.arenas[0]!;
    const nlba = a.g.externalNlba;
    const lane3 = m.read(4096 + a.g.logoff + 3 * 64, 64);
    assert.deepEqual(
      [0, 4, 8, 12].map((o) => readU32le(lane3, o)),
      [3, nlba + 3, nlba + 3, 1],
    );
    assert.deepEqual(lane3.subarray(16), new Uint8Array(48));
    assert.deepEqual(m.read(4096, 4096), m.read(4096 + a.g.info2off, 4096));
    assert.equal(readU32le(m.read(4096 + a.g.mapoff, 4), 0), 0);
    assert.deepEqual(btt.readSector(7), m.read(4096 + 4096 + 7 * 512, 512));
    assert.deepEqual(checkBtt(m, { parentUuid: PARENT })?.problems, []);
  });
  it('a write lands in the lane free block, logs {lba, old, new, seq 2} in slot 1 and maps Z|E', () => {
    const m = new MemMedia(NS);
    const btt = Btt.create(m, { version: '2.0', sectorSize: 512, uuid: UUID, parentUuid: PARENT });
    const a = btt.arenas[0]!;
    const nlba = a.g.externalNlba;
    btt.writeSector(5, sector(0x5a));
    const lane0 = m.read(a.g.logoff, 32);
    assert.deepEqual(
      [16, 20, 24, 28].map((o) => readU32le(lane0, o)),
      [5, 5, nlba, 2],
    );
    assert.equal(readU32le(m.read(a.g.mapoff + 20, 4), 0), (0xc0000000 | nlba) >>> 0);
    assert.deepEqual(decodeMapEntry(0xc0000000 | nlba, 5), { block: nlba, state: 'normal' });
    assert.deepEqual(btt.readSector(5), sector(0x5a));
    const reopened = Btt.open(m, '2.0', PARENT);
    assert.ok(reopened instanceof Btt);
    assert.deepEqual(reopened.readSector(5), sector(0x5a));
    assert.equal(reopened.capacity, nlba * 512);
    assert.deepEqual(checkBtt(m)?.problems, []);
  });
  it('refuses the wrong version and a foreign parent uuid', () => {
    const m = new MemMedia(NS);
    Btt.create(m, { version: '1.1', sectorSize: 512, uuid: UUID, parentUuid: PARENT });
    assert.deepEqual(Btt.open(m, '2.0'), { invalid: 'signature' });
    assert.deepEqual(Btt.open(m, '1.1', UUID), { invalid: 'parent uuid' });
  });
  it('an E-only map entry reads as an error and a Z-only entry as zeros', () => {
    assert.deepEqual(decodeMapEntry(0x40000009, 1).state, 'error');
    assert.deepEqual(decodeMapEntry(0x80000009, 1), { block: 9, state: 'trim' });
  });
});

describe('a power cut during a BTT sector write gives the old or the new sector (§8.6, §8.7)', () => {
  it('holds at every cut and torn write, and the checker finds the layout consistent', () => {
    const m = new MemMedia(17 * MiB);
    const btt = Btt.create(m, { version: '1.1', sectorSize: 512, uuid: UUID, parentUuid: PARENT });
    btt.writeSector(9, sector(0x11));
    const before = m.bytes.slice();
    const rec = recordFrom(before);
    const b2 = Btt.open(rec, '1.1', PARENT);
    assert.ok(b2 instanceof Btt);
    b2.writeSector(9, sector(0x22));
    assert.equal(rec.log.length, 4); // data, log half 1, log half 2 (seq), map
    const seen = new Set<number>();
    for (const { complete, torn } of crashPoints(rec.log)) {
      const cut = cutAfter(before, rec.log, complete, torn);
      const pre = checkBtt(cut, { parentUuid: PARENT });
      const opened = Btt.open(cut, '1.1', PARENT);
      assert.ok(opened instanceof Btt);
      const got = opened.readSector(9);
      assert.ok(got !== 'error');
      seen.add(got[0]!);
      assert.ok(got[0] === 0x11 || got[0] === 0x22, `cut ${complete}+${torn}: ${got[0]}`);
      assert.deepEqual(checkBtt(cut, { parentUuid: PARENT })?.problems, []);
      if (complete === 3) {
        assert.deepEqual(pre?.problems, ['arena 0: 1 map entry needs an update from the log']);
        assert.equal(opened.recovered, 1);
      }
    }
    assert.deepEqual([...seen].sort(), [0x11, 0x22]);
  });
  it('a cut while creating leaves either no BTT or a complete one', () => {
    const size = 16 * MiB + 4096;
    const rec = recordFrom(new Uint8Array(size));
    Btt.create(rec, { version: '1.1', sectorSize: 4096, uuid: UUID, parentUuid: PARENT });
    const n = rec.log.length;
    for (const complete of [0, 1, 100, n - 2, n - 1, n]) {
      const opened = Btt.open(cutAfter(new Uint8Array(size), rec.log, complete), '1.1', PARENT);
      assert.equal(opened instanceof Btt, complete === n, `after ${complete} of ${n} writes`);
    }
  });
});

describe('check-namespace repairs (§8.7)', () => {
  it('restores info2 from info and replays a pending map update with --repair', () => {
    const m = new MemMedia(17 * MiB);
    const btt = Btt.create(m, { version: '1.1', sectorSize: 512, uuid: UUID, parentUuid: PARENT });
    const a = btt.arenas[0]!;
    m.write(4096 + a.g.info2off + 100, Uint8Array.of(1));
    const r = checkBtt(m, { repair: true });
    assert.deepEqual(r?.problems, ['arena 0: info2 does not match the info block']);
    assert.deepEqual(r?.repaired, ['arena 0: info2 restored from the info block']);
    assert.deepEqual(checkBtt(m)?.problems, []);
  });
  it('reports no BTT on a zeroed namespace', () => {
    assert.equal(checkBtt(new MemMedia(17 * MiB)), undefined);
  });
  it('flags a map entry pointing past internal_nlba and a block referenced twice', () => {
    const m = new MemMedia(17 * MiB);
    const btt = Btt.create(m, { version: '2.0', sectorSize: 512, uuid: UUID, parentUuid: PARENT });
    const a = btt.arenas[0]!;
    const e = new Uint8Array(4);
    writeU32le(e, 0, (0xc0000000 | 3) >>> 0);
    m.write(a.g.mapoff + 0, e); // lba 0 → block 3, which lba 3 also maps (identity)
    assert.deepEqual(checkBtt(m)?.problems, [
      'arena 0: 1 internal blocks are neither mapped nor free',
      'arena 0: 1 internal blocks are referenced more than once',
    ]);
  });
});
