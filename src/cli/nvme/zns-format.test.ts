import { it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeZoneDescriptor } from '../../nvme/ns/zoned/layout.js';
import { ZoneState, ZoneTable } from '../../nvme/ns/zoned/state.js';
import fc from 'fast-check';
import { readU64le, writeU64le } from '../../util/bytes.js';
import { toJsonU64, ZoneReport, zoneStateName, zoneTypeName } from './zns-format.js';

/** A Report Zones answer for the zones of `t` from `first`, with `ext` extension bytes each. */
function report(t: ZoneTable, first: number, n: number, ext: number): Uint8Array {
  const entry = 64 + ext;
  const d = new Uint8Array(64 + n * entry);
  writeU64le(d, 0, BigInt(t.count - first));
  for (let i = 0; i < n; i++) {
    const z = t.zone(first + i);
    encodeZoneDescriptor(z, d, 64 + i * entry);
    if (ext > 0 && z.ext !== undefined) d.set(z.ext, 64 + i * entry + 64);
  }
  return d;
}

function table(): ZoneTable {
  const t = new ZoneTable(5, 0x800, 0x800, { maxActive: 0, maxOpen: 0, numZrwa: 0 });
  t.finish(t.zone(1));
  t.restoreAt(2, ZoneState.CLOSED, 0x1000 + 5, 0x80, new Uint8Array(64).fill(0xab));
  t.open(t.zone(3), 'implicit', false, false);
  return t;
}

const collect = (f: (out: (b: Uint8Array) => void) => void): string => {
  let s = '';
  f((x) => (s += Buffer.from(x).toString('latin1')));
  return s;
};

it('ZoneReport prints nvme-cli 2.3 report-zones lines from the report bytes', () => {
  const r = new ZoneReport(0);
  assert.equal(r.add(report(table(), 0, 3, 0), 3), 3);
  assert.equal(r.lastSlba, 0x1000n);
  assert.equal(
    collect((o) => r.writeText(5, o)),
    'nr_zones: 5\n' +
      'SLBA: 0          WP: 0          Cap: 0x800      State: 0x10 Type: 0x2  Attrs: 0    AttrsInfo: 0   \n' +
      'SLBA: 0x800      WP: 0xffffffffffffffff Cap: 0x800      State: 0xe0 Type: 0x2  Attrs: 0    AttrsInfo: 0   \n' +
      'SLBA: 0x1000     WP: 0x1005     Cap: 0x800      State: 0x40 Type: 0x2  Attrs: 0x80 AttrsInfo: 0   \n',
  );
});

it('ZoneReport JSON is byte for byte what JSON.stringify of the zone list gives', () => {
  for (const ext of [0, 64]) {
    const t = table();
    const r = new ZoneReport(ext);
    // Two answers, as the command reads them in MDTS-sized chunks.
    r.add(report(t, 0, 2, ext), 2);
    r.add(report(t, 2, 3, ext), 3);
    const names: Record<number, string> = { 1: 'EMPTY', 2: 'IMP_OPENED', 4: 'CLOSED', 14: 'FULL' };
    const list = t.zones.map((z) => ({
      slba: BigInt(z.zslba),
      wp: z.state === ZoneState.FULL ? 2n ** 64n - 1n : BigInt(z.wp),
      cap: BigInt(z.zcap),
      state: names[z.state],
      type: 'SEQWRITE_REQ',
      attrs: z.za,
      ...(ext > 0 ? { ext_data: z.ext === undefined ? 'Not valid' : 'ab'.repeat(64) } : {}),
    }));
    assert.equal(
      collect((o) => r.writeJson(5, o)),
      toJsonU64({ nr_zones: 5, zone_list: list }),
      `extension ${ext}`,
    );
  }
  assert.equal(
    collect((o) => new ZoneReport(0).writeJson(0, o)),
    toJsonU64({ nr_zones: 0, zone_list: [] }),
  );
});

it('ZoneReport takes no more descriptors than the header counts, the caller asked or the data holds', () => {
  const d = report(table(), 0, 3, 0);
  assert.equal(new ZoneReport(0).add(d, 2), 2);
  assert.equal(new ZoneReport(0).add(d.subarray(0, 64 + 64 + 10), 3), 1);
  writeU64le(d, 0, 1n);
  assert.equal(new ZoneReport(0).add(d, 3), 1);
  assert.throws(() => new ZoneReport(0).lastSlba, /empty zone report/);
});

/** printf("%#-Nx") of a u64, written the plain way: the reference for the byte formatter. */
const refHexCol = (v: bigint, width: number): string =>
  (v === 0n ? '0' : `0x${v.toString(16)}`).padEnd(width);

it('ZoneReport text and JSON match plain formatting for any descriptor bytes, across chunks', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(0, 64),
      fc.array(fc.uint8Array({ minLength: 64, maxLength: 64 }), { minLength: 1, maxLength: 40 }),
      fc.integer({ min: 1, max: 3 }),
      (ext, descs, parts) => {
        const entry = 64 + ext;
        const r = new ZoneReport(ext);
        const per = Math.ceil(descs.length / parts);
        for (let p = 0; p * per < descs.length; p++) {
          const mine = descs.slice(p * per, (p + 1) * per);
          const d = new Uint8Array(64 + mine.length * entry);
          writeU64le(d, 0, BigInt(mine.length));
          mine.forEach((x, i) => {
            d.set(x, 64 + i * entry);
            if (ext > 0) d.fill(i & 0xff, 64 + i * entry + 64, 64 + (i + 1) * entry);
          });
          r.add(d, mine.length);
        }
        const u64 = (x: Uint8Array, at: number): bigint => readU64le(x, at);
        const text = descs
          .map(
            (x) =>
              `SLBA: ${refHexCol(u64(x, 16), 10)} WP: ${refHexCol(u64(x, 24), 10)} ` +
              `Cap: ${refHexCol(u64(x, 8), 10)} State: ${refHexCol(BigInt(x[1]! & 0xf0), 4)} ` +
              `Type: ${refHexCol(BigInt(x[0]!), 4)} Attrs: ${refHexCol(BigInt(x[2]!), 4)} ` +
              `AttrsInfo: ${refHexCol(BigInt(x[3]!), 4)}\n`,
          )
          .join('');
        assert.equal(
          collect((o) => r.writeText(descs.length, o)),
          `nr_zones: ${descs.length}\n${text}`,
        );
        const list = descs.map((x, i) => ({
          slba: u64(x, 16),
          wp: u64(x, 24),
          cap: u64(x, 8),
          state: zoneStateName(x[1]! >> 4),
          type: zoneTypeName(x[0]!),
          attrs: x[2]!,
          ...(ext > 0
            ? {
                ext_data:
                  (x[2]! & 0x80) !== 0
                    ? Buffer.alloc(ext, (i % per) & 0xff).toString('hex')
                    : 'Not valid',
              }
            : {}),
        }));
        assert.equal(
          collect((o) => r.writeJson(descs.length, o)),
          toJsonU64({ nr_zones: descs.length, zone_list: list }),
        );
      },
    ),
    { numRuns: 200 },
  );
});

it('ZoneReport output longer than one chunk arrives whole and in order', () => {
  const n = 6000; // ~740 KB of text, over the 512 KiB chunk
  const d = new Uint8Array(64 + n * 64);
  writeU64le(d, 0, BigInt(n));
  for (let i = 0; i < n; i++) writeU64le(d, 64 + i * 64 + 16, BigInt(i) * 0x800n);
  const r = new ZoneReport(0);
  r.add(d, n);
  const chunks: string[] = [];
  r.writeText(n, (b) => chunks.push(Buffer.from(b).toString('latin1')));
  assert.ok(chunks.length >= 2, `${chunks.length} chunk(s)`);
  const lines = chunks.join('').split('\n');
  assert.equal(lines.length, n + 2);
  assert.equal(
    lines[n],
    `SLBA: ${`0x${((n - 1) * 0x800).toString(16)}`.padEnd(10)} WP: 0          Cap: 0          ` +
      'State: 0    Type: 0    Attrs: 0    AttrsInfo: 0   ',
  );
  const json = JSON.parse(collect((o) => r.writeJson(n, o))) as { zone_list: unknown[] };
  assert.equal(json.zone_list.length, n);
});
