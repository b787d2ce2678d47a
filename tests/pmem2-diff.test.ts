// Differential tests: nvmemu's libpmem2 against Debian's C libpmem2 (PMDK 1.12.1) on the same
// inputs in the same process (pmdk.md §11). Skipped, with the reason printed, when
// libpmem2.so.1 is missing (CI: apt-get install -y libpmem2-dev).

import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { view } from '../src/memory/libc.js';
import * as ts from '../src/pmem2/capi.js';
import { loadCLib, type CLib } from '../src/pmem2/clib.js';
import type { Pmem2Config } from '../src/pmem2/config.js';
import type { Pmem2Map } from '../src/pmem2/map.js';
import type { Pmem2Source } from '../src/pmem2/source.js';

const clib = loadCLib();
const skip = typeof clib === 'string' ? clib : false;
if (skip !== false) console.log(`# pmem2-diff skipped: ${skip}`);

/** One uniform surface over both libraries; every call returns [ret, errormsg, value]. */
interface Lib {
  cfg(g: number | null, set?: (c: unknown) => number): [number, unknown];
  srcFd(fd: number): [number, unknown];
  srcAnon(size: number): [number, unknown];
  srcDelete(s: unknown): void;
  getFd(s: unknown): number;
  numa(s: unknown): number;
  usc(s: unknown): number;
  devId(s: unknown): number;
  pread(s: unknown, size: number, off: number): number;
  mapNew(c: unknown, s: unknown): [number, unknown];
  gran(m: unknown): number;
  size(m: unknown): number;
  addr(m: unknown): number;
  mapDelete(m: unknown): number;
  deepFlush(m: unknown, ptr: number, len: number): number;
  fromExisting(s: unknown, addr: number, len: number): [number, unknown];
  rsvNew(addr: number | null, size: number): number;
  bbNext(s: unknown): [number, number];
  setters(c: unknown): Record<string, (v: number | bigint) => number>;
  memmove(m: unknown): (d: number, s: number | Uint8Array, n: number, f: number) => void;
  memset(m: unknown): (d: number, c: number, n: number, f: number) => void;
  msg(): string;
}

function tsLib(): Lib {
  const cfgSetters = (c: Pmem2Config): Record<string, (v: number | bigint) => number> => ({
    gran: (v) => ts.pmem2_config_set_required_store_granularity(c, Number(v)),
    offset: (v) => ts.pmem2_config_set_offset(c, v),
    length: (v) => ts.pmem2_config_set_length(c, v),
    sharing: (v) => ts.pmem2_config_set_sharing(c, Number(v)),
    prot: (v) => ts.pmem2_config_set_protection(c, Number(v)),
  });
  return {
    cfg(g) {
      const o: ts.Out<Pmem2Config> = { value: null };
      ts.pmem2_config_new(o);
      const r = g === null ? 0 : ts.pmem2_config_set_required_store_granularity(o.value!, g);
      return [r, o.value];
    },
    srcFd(fd) {
      const o: ts.Out<Pmem2Source> = { value: null };
      return [ts.pmem2_source_from_fd(o, fd), o.value];
    },
    srcAnon(size) {
      const o: ts.Out<Pmem2Source> = { value: null };
      return [ts.pmem2_source_from_anon(o, size), o.value];
    },
    srcDelete: (s) => void ts.pmem2_source_delete({ value: s as Pmem2Source }),
    getFd: (s) => ts.pmem2_source_get_fd(s as Pmem2Source, { value: null }),
    numa: (s) => ts.pmem2_source_numa_node(s as Pmem2Source, { value: null }),
    usc: (s) => ts.pmem2_source_device_usc(s as Pmem2Source, { value: null }),
    devId: (s) => ts.pmem2_source_device_id(s as Pmem2Source, null, { value: 0 }),
    pread: (s, n, off) => ts.pmem2_source_pread_mcsafe(s as Pmem2Source, new Uint8Array(n), off),
    mapNew(c, s) {
      const o: ts.Out<Pmem2Map> = { value: null };
      return [ts.pmem2_map_new(o, c as Pmem2Config, s as Pmem2Source), o.value];
    },
    gran: (m) => ts.pmem2_map_get_store_granularity(m as Pmem2Map),
    size: (m) => ts.pmem2_map_get_size(m as Pmem2Map),
    addr: (m) => ts.pmem2_map_get_address(m as Pmem2Map),
    mapDelete: (m) => ts.pmem2_map_delete({ value: m as Pmem2Map }),
    deepFlush: (m, p, n) => ts.pmem2_deep_flush(m as Pmem2Map, p, n),
    fromExisting(s, a, n) {
      const o: ts.Out<Pmem2Map> = { value: null };
      return [ts.pmem2_map_from_existing(o, s as Pmem2Source, a, n, 2), o.value];
    },
    rsvNew: (a, n) => ts.pmem2_vm_reservation_new({ value: null }, a, n),
    bbNext(s) {
      const o: ts.Out<import('../src/pmem2/badblocks.js').Pmem2BadBlockContext> = { value: null };
      const r = ts.pmem2_badblock_context_new(o, s as Pmem2Source);
      if (r !== 0) return [r, 0];
      return [0, ts.pmem2_badblock_next(o.value!, { offset: 0, length: 0 })];
    },
    setters: (c) => cfgSetters(c as Pmem2Config),
    memmove: (m) => ts.pmem2_get_memmove_fn(m as Pmem2Map),
    memset: (m) => ts.pmem2_get_memset_fn(m as Pmem2Map),
    msg: ts.pmem2_errormsg,
  };
}

function cLib(c: CLib): Lib {
  return {
    cfg(g) {
      const o: [unknown] = [null];
      c.config_new(o);
      const r = g === null ? 0 : c.config_set_required_store_granularity(o[0], g);
      return [r, o[0]];
    },
    srcFd(fd) {
      const o: [unknown] = [null];
      return [c.source_from_fd(o, fd), o[0]];
    },
    srcAnon(size) {
      const o: [unknown] = [null];
      return [c.source_from_anon(o, size), o[0]];
    },
    srcDelete: (s) => void c.source_delete([s]),
    getFd: (s) => c.source_get_fd(s, [0]),
    numa: (s) => c.source_numa_node(s, [0]),
    usc: (s) => c.source_device_usc(s, [0n]),
    devId: (s) => c.source_device_id(s, null, [0]),
    pread: (s, n, off) => c.source_pread_mcsafe(s, new Uint8Array(n), n, off),
    mapNew(cfg, s) {
      const o: [unknown] = [null];
      return [c.map_new(o, cfg, s), o[0]];
    },
    gran: (m) => c.map_get_store_granularity(m),
    size: (m) => c.map_get_size(m),
    addr: (m) => Number(c.map_get_address(m)),
    mapDelete: (m) => c.map_delete([m]),
    deepFlush: (m, p, n) => c.deep_flush(m, BigInt(p), n),
    fromExisting(s, a, n) {
      const o: [unknown] = [null];
      return [c.map_from_existing(o, s, BigInt(a), n, 2), o[0]];
    },
    rsvNew(a, n) {
      const o: [unknown] = [null];
      const r = c.vm_reservation_new(o, a === null ? null : BigInt(a), n);
      if (r === 0) c.vm_reservation_delete(o);
      return r;
    },
    bbNext(s) {
      const o: [unknown] = [null];
      const r = c.badblock_context_new(o, s);
      if (r !== 0) return [r, 0];
      const n = c.badblock_next(o[0], { offset: 0, length: 0 });
      c.badblock_context_delete(o);
      return [0, n];
    },
    setters: (cfg) => ({
      gran: (v) => c.config_set_required_store_granularity(cfg, Number(v)),
      offset: (v) => c.config_set_offset(cfg, v),
      length: (v) => c.config_set_length(cfg, v),
      sharing: (v) => c.config_set_sharing(cfg, Number(v)),
      prot: (v) => c.config_set_protection(cfg, Number(v)),
    }),
    memmove: (m) => c.memmoveFn(c.get_memmove_fn(m)),
    memset: (m) => c.memsetFn(c.get_memset_fn(m)),
    msg: () => c.errormsg(),
  };
}

const dir = mkdtempSync(join(tmpdir(), 'pmem2-diff-'));
after(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, size: number): string {
  const p = join(dir, name);
  writeFileSync(p, Buffer.alloc(size));
  return p;
}
const fds: number[] = [];
after(() => fds.forEach((fd) => closeSync(fd)));
function open(p: string, flags: string): number {
  const fd = openSync(p, flags);
  fds.push(fd);
  return fd;
}

/** Run `fn` on each library; results must be equal. Addresses in messages are normalised. */
function same(fn: (l: Lib) => unknown): void {
  const c = cLib(clib as CLib);
  const t = tsLib();
  const norm = (v: unknown): unknown =>
    JSON.parse(
      JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? String(x) : x)).replace(
        /0x[0-9a-f]{6,}/g,
        '<addr>',
      ),
    );
  assert.deepEqual(norm(fn(t)), norm(fn(c)));
}

const data = file('data', 3 * 4096 + 100);
const empty = file('empty', 0);
mkdirSync(join(dir, 'sub'));
const fifo = join(dir, 'fifo');
execFileSync('mkfifo', [fifo]);

describe('pmem2 differential against Debian libpmem2', { skip }, () => {
  it('config setters reject bad enums, flags and offsets with the same codes and messages', () =>
    same((l) => {
      const [, cfg] = l.cfg(null);
      const s = l.setters(cfg);
      const out: unknown[] = [];
      for (const [k, v] of [
        ['gran', 3],
        ['gran', -1],
        ['gran', 2],
        ['offset', 2n ** 63n],
        ['offset', 2n ** 63n - 1n],
        ['sharing', 2],
        ['sharing', 1],
        ['prot', 1],
        ['prot', 2 ** 29 + 8],
        ['prot', 0],
      ] as const)
        out.push([k, String(v), s[k]!(v), l.msg()]);
      return out;
    }));

  it('source_from_fd validates fds the same way (sticky message when none is set)', () =>
    same((l) => {
      const bad = openSync(data, 'r');
      closeSync(bad);
      const out: unknown[] = [];
      l.setters(l.cfg(null)[1]).sharing!(9); // a known previous message
      for (const fd of [
        -1,
        bad,
        open(data, 'a'),
        open(join(dir, 'sub'), 'r'),
        open('/dev/null', 'r'),
      ])
        out.push([l.srcFd(fd)[0], l.msg()]);
      const rw = open(fifo + '', 'r+');
      out.push([l.srcFd(rw)[0], l.msg()]);
      return out;
    }));

  it('anonymous and file sources answer get_fd, numa, usc, device id and pread alike', () =>
    same((l) => {
      const [, anon] = l.srcAnon(1000);
      const [, reg] = l.srcFd(open(data, 'r+'));
      return [
        [l.getFd(anon), l.msg()],
        [l.numa(anon), l.msg()],
        [l.numa(reg), l.msg()],
        [l.usc(anon), l.msg()],
        [l.usc(reg), l.msg()],
        [l.devId(reg)],
        [l.pread(anon, 10, 0), l.msg()],
        [l.pread(reg, 5000, 8192), l.msg()],
        [l.pread(reg, 100, 8192)],
        l.bbNext(reg),
        [l.msg()],
      ];
    }));

  it('map_new checks run in the same order with the same codes and messages', () => {
    const cases: [
      string,
      number | null,
      [string, number | bigint][],
      'data' | 'empty' | 'ro' | 'anon' | 'anon0',
    ][] = [
      ['no granularity', null, [], 'data'],
      ['unaligned offset', 2, [['offset', 4097]], 'data'],
      ['empty file, unaligned offset', 2, [['offset', 1]], 'empty'],
      ['empty file', 2, [], 'empty'],
      ['unaligned length', 2, [['length', 100]], 'data'],
      [
        'past the end',
        2,
        [
          ['offset', 4096],
          ['length', 4 * 4096],
        ],
        'data',
      ],
      ['offset past size, length 0', 2, [['offset', 8 * 4096]], 'data'],
      [
        'overflow',
        2,
        [
          ['offset', 4096],
          ['length', 2n ** 64n - 4096n],
        ],
        'data',
      ],
      ['RO fd with write protection', 2, [], 'ro'],
      ['byte on an ordinary file', 0, [], 'data'],
      ['cache line on an ordinary file', 1, [], 'data'],
      ['anon with an offset past its size', 0, [['offset', 8192]], 'anon'],
      ['anon of size 0', 0, [], 'anon0'],
    ];
    for (const [name, g, sets, kind] of cases)
      same((l) => {
        const [, cfg] = l.cfg(g);
        const s = l.setters(cfg);
        for (const [k, v] of sets) s[k]!(v);
        const fd =
          kind === 'ro' ? open(data, 'r') : kind === 'empty' ? open(empty, 'r+') : open(data, 'r+');
        const src =
          kind === 'anon'
            ? l.srcAnon(4096)[1]
            : kind === 'anon0'
              ? l.srcAnon(0)[1]
              : l.srcFd(fd)[1];
        const [r, m] = l.mapNew(cfg, src);
        const res = [name, r, r === 0 ? '' : l.msg()];
        if (r === 0) l.mapDelete(m);
        return res;
      });
  });

  it('granularity and map size decisions agree for files, anonymous and private maps', () => {
    const cases: [string, number, [string, number][], string, string | undefined][] = [
      ['file PAGE', 2, [], 'data', undefined],
      ['file private', 0, [['sharing', 1]], 'data', undefined],
      ['anon', 0, [], 'anon', undefined],
      ['anon asks PAGE', 2, [], 'anon', undefined],
      ['forced cache_line', 1, [], 'data', 'cache_line'],
      ['forced CaCHe_Line', 2, [], 'data', 'CaCHe_Line'],
      ['forced CACHELINE', 2, [], 'data', 'CACHELINE'],
      ['forced byte', 0, [], 'data', 'byte'],
      ['forced page, byte required', 0, [], 'data', 'PAGE'],
      ['forced junk ignored', 2, [], 'data', 'BYTES'],
      ['forced byte on private', 2, [['sharing', 1]], 'data', 'PAGE'],
      [
        'offset and length',
        2,
        [
          ['offset', 4096],
          ['length', 8192],
        ],
        'data',
        undefined,
      ],
    ];
    for (const [name, g, sets, kind, force] of cases) {
      if (force === undefined) delete process.env.PMEM2_FORCE_GRANULARITY;
      else process.env.PMEM2_FORCE_GRANULARITY = force;
      try {
        same((l) => {
          const [, cfg] = l.cfg(g);
          for (const [k, v] of sets) l.setters(cfg)[k]!(v);
          const src = kind === 'anon' ? l.srcAnon(1000)[1] : l.srcFd(open(data, 'r+'))[1];
          const [r, m] = l.mapNew(cfg, src);
          if (r !== 0) return [name, r, l.msg()];
          const res = [name, r, l.gran(m), l.size(m), l.addr(m) % (2 * 1024 * 1024)];
          l.mapDelete(m);
          return res;
        });
      } finally {
        delete process.env.PMEM2_FORCE_GRANULARITY;
      }
    }
  });

  it('deep_flush, map_from_existing, map_delete and reservations fail alike', () =>
    same((l) => {
      const [, cfg] = l.cfg(2);
      const [, src] = l.srcFd(open(data, 'r+'));
      const [r0, m] = l.mapNew(cfg, src);
      assert.equal(r0, 0, l.msg());
      const a = l.addr(m);
      const out: unknown[] = [
        l.deepFlush(m, a, 100),
        [l.deepFlush(m, a + 4096, 4 * 4096), l.msg()],
        [l.fromExisting(src, a + 4096, 100)[0], l.msg()],
        [l.rsvNew(4097, 4096), l.msg()],
        [l.rsvNew(null, 4097), l.msg()],
      ];
      out.push(l.mapDelete(m));
      const [, anon] = l.srcAnon(4096);
      const [, am] = l.mapNew(l.cfg(0)[1], anon);
      out.push([l.deepFlush(am, l.addr(am), 10), l.msg()], l.mapDelete(am));
      return out;
    }));

  it('mem functions leave identical bytes for every flag set, size and overlap', () => {
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (const [name, g, force] of [
      ['anon BYTE', 0, undefined],
      ['file PAGE', 2, undefined],
      ['file forced CACHE_LINE', 1, 'CACHE_LINE'],
    ] as const) {
      if (force !== undefined) process.env.PMEM2_FORCE_GRANULARITY = force;
      const ops = Array.from({ length: 120 }, () => ({
        kind: rnd(3),
        dst: rnd(8000),
        src: rnd(8000),
        len: [0, 1, 7, 8, 63, 64, 100, 255, 256, 257, 1024, 4000][rnd(12)]!,
        flags: rnd(64),
        c: rnd(256),
      }));
      const bytes: number[][] = [];
      for (const l of [tsLib(), cLib(clib as CLib)]) {
        const size = 12288;
        const [, src] = name.startsWith('anon')
          ? l.srcAnon(size)
          : l.srcFd(open(file(`mem-${name}-${bytes.length}`, size), 'r+'));
        const [r, m] = l.mapNew(l.cfg(g)[1], src);
        assert.equal(r, 0, name);
        const a = l.addr(m);
        const mv = l.memmove(m);
        const ms = l.memset(m);
        const pattern = Uint8Array.from({ length: 4096 }, (_, i) => (i * 31 + 7) & 0xff);
        mv(a, pattern, 4096, 0);
        for (const o of ops) {
          const len = Math.min(o.len, 8192 - Math.max(o.dst, o.src));
          const flags = (o.flags & 0x20) !== 0 ? o.flags & ~0x0a : o.flags; // NOFLUSH ⟂ NT/WC
          if (o.kind === 0) mv(a + o.dst, a + o.src, len, flags);
          else if (o.kind === 1) ms(a + o.dst, o.c, len, flags);
          else mv(a + o.dst, pattern.subarray(o.src % 2048), Math.min(len, 2048), flags);
        }
        bytes.push(Array.from(viewOf(a, size)));
        l.mapDelete(m);
      }
      delete process.env.PMEM2_FORCE_GRANULARITY;
      assert.deepEqual(bytes[0], bytes[1], name);
    }
  });
});

function viewOf(a: number, n: number): Uint8Array {
  return new Uint8Array(view(BigInt(a), n)).slice();
}
