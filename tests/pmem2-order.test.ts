// What each persistence operation sends across the FFI (order.ts), counted through the
// withKernels() seam (tests/support/pmem2-kernels.ts). One table row per operation sequence.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Pmem2Config } from '../src/pmem2/config.js';
import { Pmem2Map } from '../src/pmem2/map.js';
import {
  PMEM2_F_MEM_NODRAIN,
  PMEM2_F_MEM_NOFLUSH,
  PMEM2_F_MEM_NONTEMPORAL,
  PMEM2_F_MEM_TEMPORAL,
} from '../src/pmem2/mem.js';
import { Pmem2Source } from '../src/pmem2/source.js';
import { noKernels, withSpiedMap, type ForcedGranularity } from './support/pmem2-kernels.js';

const skip = noKernels;
if (skip !== false) console.log(`# pmem2 order tests skipped: ${skip}`);

const dir = mkdtempSync(join(tmpdir(), 'pmem2-order-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, 'pool');
writeFileSync(file, Buffer.alloc(64 * 1024));
const withMap = (g: ForcedGranularity, fn: (m: Pmem2Map, calls: string[]) => void): void =>
  withSpiedMap(file, g, fn);

const b64 = new Uint8Array(64).fill(0xa5);
const b4k = new Uint8Array(4096).fill(0x3c);
const NT = PMEM2_F_MEM_NONTEMPORAL;
const ND = PMEM2_F_MEM_NODRAIN;

interface Row {
  readonly g: ForcedGranularity;
  readonly what: string;
  readonly run: (m: Pmem2Map) => void;
  readonly calls: readonly string[];
}

const ROWS: Row[] = [
  // BYTE (eADR): ordinary stores need no instruction at all (order.ts cases 1–2)
  { g: 'BYTE', what: 'persist', run: (m) => m.persist(0, 64), calls: [] },
  { g: 'BYTE', what: 'flush + drain', run: (m) => (m.flush(0, 64), m.drain()), calls: [] },
  { g: 'BYTE', what: 'memcpy 64 B', run: (m) => m.memcpy(128, b64), calls: [] },
  { g: 'BYTE', what: 'memcpy 4 KiB', run: (m) => m.memcpy(4096, b4k), calls: [] },
  { g: 'BYTE', what: 'memset 4 KiB', run: (m) => m.memset(4096, 7, 4096), calls: [] },
  // …non-temporal stores do: the fence rides in the copy, or waits for the next drain (case 3)
  {
    g: 'BYTE',
    what: 'memcpy NT',
    run: (m) => m.memcpy(4096, b4k, NT),
    calls: ['ntcopyBuf(4096,4096,1)'],
  },
  {
    g: 'BYTE',
    what: 'memcpy NT|NODRAIN, persist, persist',
    run: (m) => (m.memcpy(4096, b4k, NT | ND), m.persist(0, 8), m.persist(0, 8)),
    calls: ['ntcopyBuf(4096,4096,0)', 'fence'],
  },
  {
    g: 'BYTE',
    what: 'memset NT|NODRAIN, drain',
    run: (m) => (m.memset(0, 1, 256, NT | ND), m.drain()),
    calls: ['ntset(0,1,256,0)', 'fence'],
  },
  // CACHE_LINE: every persist writes its lines back and fences, in one call
  {
    g: 'CACHE_LINE',
    what: 'persist',
    run: (m) => m.persist(100, 200),
    calls: ['persist(100,200)'],
  },
  {
    g: 'CACHE_LINE',
    what: 'persist twice',
    run: (m) => (m.persist(0, 8), m.persist(0, 8)),
    calls: ['persist(0,8)', 'persist(0,8)'],
  },
  {
    g: 'CACHE_LINE',
    what: 'flush, flush, drain, drain',
    run: (m) => (m.flush(0, 64), m.flush(640, 1), m.drain(), m.drain()),
    calls: ['flush(0,64)', 'flush(640,1)', 'fence'],
  },
  { g: 'CACHE_LINE', what: 'drain alone', run: (m) => m.drain(), calls: [] },
  {
    g: 'CACHE_LINE',
    what: 'memcpy 64 B',
    run: (m) => m.memcpy(128, b64),
    calls: ['persist(128,64)'],
  },
  {
    g: 'CACHE_LINE',
    what: 'memcpy 64 B NODRAIN, drain',
    run: (m) => (m.memcpy(128, b64, ND), m.drain()),
    calls: ['flush(128,64)', 'fence'],
  },
  {
    g: 'CACHE_LINE',
    what: 'memcpy 64 B NOFLUSH',
    run: (m) => m.memcpy(128, b64, PMEM2_F_MEM_NOFLUSH),
    calls: [],
  },
  {
    g: 'CACHE_LINE',
    what: 'memcpy 4 KiB',
    run: (m) => m.memcpy(4096, b4k),
    calls: ['ntcopyBuf(4096,4096,1)'],
  },
  {
    g: 'CACHE_LINE',
    what: 'memcpy 4 KiB TEMPORAL',
    run: (m) => m.memcpy(4096, b4k, PMEM2_F_MEM_TEMPORAL),
    calls: ['persist(4096,4096)'],
  },
  {
    g: 'CACHE_LINE',
    what: 'memcpy 4 KiB NODRAIN, persist',
    run: (m) => (m.memcpy(4096, b4k, ND), m.persist(0, 8)),
    calls: ['ntcopyBuf(4096,4096,0)', 'persist(0,8)'],
  },
  {
    g: 'CACHE_LINE',
    what: 'memset 4 KiB',
    run: (m) => m.memset(4096, 9, 4096),
    calls: ['ntset(4096,9,4096,1)'],
  },
  {
    g: 'CACHE_LINE',
    what: 'memmove 4 KiB',
    run: (m) => m.memmove(8192, 0, 4096),
    calls: ['ntcopy(8192,0,4096,1)'],
  },
  // PAGE: msync does the work; no CPU kernel is involved
  { g: 'PAGE', what: 'persist, drain', run: (m) => (m.persist(0, 64), m.drain()), calls: [] },
  { g: 'PAGE', what: 'memcpy 64 B', run: (m) => m.memcpy(0, b64), calls: [] },
  // PMDK stores non-temporally at PAGE too, unfenced; msync follows
  { g: 'PAGE', what: 'memcpy 4 KiB', run: (m) => m.memcpy(0, b4k), calls: ['ntcopyBuf(0,4096,0)'] },
];

describe('pmem2 FFI crossings per persistence operation', { skip }, () => {
  for (const row of ROWS)
    it(`${row.g}: ${row.what} → ${row.calls.length === 0 ? 'no call' : row.calls.join(', ')}`, () => {
      withMap(row.g, (m, calls) => {
        row.run(m);
        assert.deepEqual(calls, row.calls);
      });
    });

  it('a drain orders weak stores made through another map (the state is the thread’s)', () => {
    withMap('BYTE', (a, calls) => {
      const other = Pmem2Map.create(
        new Pmem2Config().setRequiredStoreGranularity(0),
        Pmem2Source.fromAnon(8192),
      );
      other.memcpy(0, b4k, NT | ND);
      a.drain();
      other.delete();
      assert.equal(calls.length, 2);
      assert.match(calls[0]!, /^ntcopyBuf\(-?\d+,4096,0\)$/);
      assert.equal(calls[1], 'fence');
    });
  });

  it('a non-temporal copy from a view of the map that overlaps from below is done temporally', () => {
    withMap('CACHE_LINE', (m, calls) => {
      for (let i = 0; i < 1024; i++) m.bytes[i] = i & 0xff;
      const expect = m.bytes.slice(0, 768);
      m.memcpy(256, m.bytes.subarray(0, 768), NT);
      assert.deepEqual(m.bytes.slice(256, 1024), expect);
      assert.deepEqual(calls, ['ntcopyBuf(256,768,1) overlap', 'persist(256,768)']);
    });
  });

  it('the fused kernels store the same bytes as the temporal path', () => {
    withMap('CACHE_LINE', (m) => {
      const src = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 0xff);
      for (const [off, flags] of [
        [3, NT],
        [64, NT],
        [4093, NT | ND],
        [8192 + 5, PMEM2_F_MEM_TEMPORAL],
      ] as const) {
        m.memcpy(off, src, flags);
        assert.deepEqual(m.bytes.slice(off, off + src.length), src, `offset ${off}`);
      }
      m.memset(17, 0xee, 700, NT);
      assert.ok(m.bytes.subarray(17, 717).every((b) => b === 0xee));
      assert.equal(m.bytes[16], src[13]);
    });
  });
});

describe('pmem2 persist/flush/drain function pointers', () => {
  const sources: Pmem2Source[] = [];
  after(() => sources.forEach((s) => s.delete()));
  const open = (g: ForcedGranularity, simulate: boolean): Pmem2Map => {
    process.env.PMEM2_FORCE_GRANULARITY = g;
    try {
      const cfg = new Pmem2Config().setRequiredStoreGranularity(2).setPowerFailSimulation(simulate);
      const src = Pmem2Source.fromPath(file);
      sources.push(src);
      return Pmem2Map.create(cfg, src);
    } finally {
      delete process.env.PMEM2_FORCE_GRANULARITY;
    }
  };

  it('are constant per map, and PAGE flush_fn is persist_fn (pointer-equal in PMDK)', () => {
    for (const g of ['BYTE', 'CACHE_LINE', 'PAGE'] as const) {
      const m = open(g, false);
      assert.equal(m.persistFn, m.persistFn);
      assert.equal(m.drainFn, m.drainFn);
      assert.equal(m.flushFn === m.persistFn, g === 'PAGE', g);
      m.delete();
    }
  });

  it('a simulated PAGE map still logs flush_fn calls as flushes', () => {
    const m = open('PAGE', true);
    m.flushFn(m.address, 1);
    m.persistFn(m.address + 4096, 1);
    assert.deepEqual(
      m.sim!.ops.map((o) => [o.kind, o.offset]),
      [
        ['flush', 0],
        ['persist', 4096],
      ],
    );
    m.delete();
  });

  it('reject addresses and lengths that are not non-negative integers', () => {
    const m = open('CACHE_LINE', false);
    for (const [p, n] of [
      [Number.NaN, 1],
      [m.address, -1],
      [m.address + 0.5, 1],
      [m.address, 2 ** 60],
    ])
      assert.throws(() => m.persistFn(p!, n!), TypeError);
    assert.throws(() => m.persist(0, m.size + 1), RangeError);
    assert.throws(() => m.flush(-64, 64), RangeError);
    assert.throws(() => m.persist(0, Number.NaN), RangeError);
    m.delete();
  });
});
