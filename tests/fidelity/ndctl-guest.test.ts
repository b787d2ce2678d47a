// `nvmemu ndctl` against what ndctl 76 (Debian 12 guest, Linux 6.1) and ndctl 81 (Debian 13
// guest, Linux 6.12) printed for the same pmem layout (tests/guest/ndctl-json-host.sh wrote the
// fixtures in tests/fixtures/ndctl/<version>/). The layout is rebuilt here with the same
// commands (tests/guest/ndctl-layout.sh); every recorded `ndctl list` is replayed and compared
// object for object, then the create-namespace attempts on the blank label area.
//
// What the comparison forgives, and why: the kernel numbered the blank 256 MiB region 0 and
// the labeled 1 GiB one 1 (nvmemu numbers them in --backing order, the other way round), so
// region indices in names are swapped; the kernel lists objects in its directory order, so
// arrays are compared sorted by device name; BTT/PFN/DAX instance uuids are random on both
// sides and are masked (label uuids, given with -u, are compared).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bufferIo } from '../../src/cli/io.js';
import { ndctlCommand } from '../../src/cli/ndctl/index.js';
import { ROOT } from './fixtures.js';

const FIXED_UUIDS = new Set([
  '11111111-1111-4111-8111-111111111111',
  '22222222-2222-4222-8222-222222222222',
  '33333333-3333-4333-8333-333333333333',
  '44444444-4444-4444-8444-444444444444',
  '00000000-0000-0000-0000-000000000000',
]);
/** ndctl list options nvmemu does not take: -F/-H (QEMU's DIMMs answer neither), -c. */
const NOT_REPLAYED = new Set(['list-F', 'list-H', 'list-c']);

let dir = '';

async function nd(args: string[]): Promise<{ rc: number; out: string; err: string }> {
  const io = bufferIo();
  const rc = await ndctlCommand(
    [
      ...args,
      '--backing',
      join(dir, 'pmem0.img'),
      '--label-size',
      '128K',
      '--backing',
      join(dir, 'pmem1.img'),
      '--label-size',
      '128K',
      '--data',
      join(dir, 'data'),
    ],
    io,
  );
  return { rc, out: io.stdout, err: io.stderr };
}

interface Recorded {
  readonly rc: number;
  readonly name: string;
  readonly args: string[];
  readonly out: string;
  readonly err: string;
}

function recorded(version: number): Recorded[] {
  const base = `${ROOT}tests/fixtures/ndctl/${version}`;
  const read = (f: string): string => {
    try {
      return readFileSync(`${base}/${f}`, 'utf8');
    } catch {
      return '';
    }
  };
  return read('commands.tsv')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => {
      const [rc, name, cmd] = l.split('\t') as [string, string, string];
      return {
        rc: Number(rc),
        name,
        args: cmd.split(' ').slice(1),
        out: read(`${name}.json`),
        err: read(`${name}.err`),
      };
    });
}

/** regionN / namespaceN.M / pmemN... / daxN.M of the guest's numbering in nvmemu's. */
const swapIndex = (s: string): string =>
  s.replace(
    /^(region|namespace|pmem|dax)([01])(?=\.|s|$)/,
    (_m, p: string, n: string) => `${p}${n === '0' ? 1 : 0}`,
  );

type J = null | boolean | number | string | J[] | { [k: string]: J };

function normalize(v: J, guest: boolean, key = ''): J {
  if (Array.isArray(v)) {
    const items = v.map((x) => normalize(x, guest));
    const name = (x: J): string =>
      x !== null && typeof x === 'object' && !Array.isArray(x)
        ? JSON.stringify(x.dev ?? x.chardev ?? x.dimm ?? x.mode ?? null)
        : JSON.stringify(x);
    return items.sort((a, b) => name(a).localeCompare(name(b)));
  }
  if (v !== null && typeof v === 'object') {
    const out: Record<string, J> = {};
    for (const [k, x] of Object.entries(v)) {
      out[k] =
        k === 'daxregion' && guest && typeof x === 'object' && x !== null && !Array.isArray(x)
          ? normalize({ ...x, id: x.id === 0 ? 1 : 0 }, guest, k)
          : normalize(x, guest, k);
    }
    return out;
  }
  if (typeof v === 'string') {
    if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(v)) {
      return FIXED_UUIDS.has(v) ? v : '<uuid>';
    }
    return guest && ['dev', 'blockdev', 'chardev'].includes(key) ? swapIndex(v) : v;
  }
  return v;
}

const parse = (text: string, guest: boolean): J =>
  text.trim() === '' ? null : normalize(JSON.parse(text) as J, guest);

const show = (v: J): string => JSON.stringify(v, null, 1);

/** Guest arguments in nvmemu's numbering (-r region0 is nvmemu's region1, ...). */
const mapArgs = (args: string[]): string[] => args.map(swapIndex);

async function layout(): Promise<void> {
  dir = mkdtempSync(join(tmpdir(), 'nvmemu-ndctl-guest-'));
  for (const [f, size] of [
    ['pmem0.img', 1 << 30],
    ['pmem1.img', 268566528],
  ] as const) {
    writeFileSync(join(dir, f), '');
    truncateSync(join(dir, f), size);
  }
  const steps: string[][] = [
    ['disable-region', 'region0'],
    ['init-labels', 'nmem0', '-V', '1.2'],
    ['enable-region', 'region0'],
    [
      'create-namespace',
      '-r',
      'region0',
      '-m',
      'raw',
      '-s',
      '64M',
      '-n',
      'raw',
      '-u',
      '11111111-1111-4111-8111-111111111111',
    ],
    [
      'create-namespace',
      '-r',
      'region0',
      '-m',
      'sector',
      '-l',
      '512',
      '-s',
      '64M',
      '-n',
      'sector',
      '-u',
      '22222222-2222-4222-8222-222222222222',
    ],
    [
      'create-namespace',
      '-r',
      'region0',
      '-m',
      'fsdax',
      '-s',
      '128M',
      '-n',
      'fsdax',
      '-u',
      '33333333-3333-4333-8333-333333333333',
    ],
    [
      'create-namespace',
      '-r',
      'region0',
      '-m',
      'devdax',
      '-s',
      '128M',
      '-n',
      'devdax',
      '-u',
      '44444444-4444-4444-8444-444444444444',
    ],
  ];
  for (const s of steps) {
    const r = await nd(s);
    assert.equal(r.rc, 0, `${s.join(' ')}: ${r.err}`);
  }
}

for (const version of [76, 81] as const) {
  describe(`nvmemu ndctl prints what ndctl ${version} printed in the guest`, () => {
    const cmds = recorded(version);
    const saved = process.env.NVMEMU_NDCTL_VERSION;
    before(async () => {
      process.env.NVMEMU_NDCTL_VERSION = String(version);
      await layout();
    });
    after(() => {
      if (saved === undefined) delete process.env.NVMEMU_NDCTL_VERSION;
      else process.env.NVMEMU_NDCTL_VERSION = saved;
      rmSync(dir, { recursive: true, force: true });
    });

    it('has the recording (44 commands)', () => {
      assert.equal(cmds.length, 44);
    });

    for (const c of cmds.filter((x) => x.name.startsWith('list') && !NOT_REPLAYED.has(x.name))) {
      it(`ndctl ${c.args.join(' ')}`, async () => {
        const r = await nd(mapArgs(c.args));
        assert.equal(r.rc, c.rc, r.err);
        assert.equal(r.err, c.err);
        // Compared as text so that key order counts too.
        assert.equal(show(parse(r.out, false)), show(parse(c.out, true)));
      });
    }

    it("create-namespace on the blank label area: ndctl's ENOSPC line, then how to initialise the labels", async () => {
      for (const name of ['create-blank', 'create-blank-sector']) {
        const c = cmds.find((x) => x.name === name)!;
        const r = await nd(mapArgs(c.args));
        assert.notEqual(r.rc, 0);
        assert.equal(c.err, 'failed to create namespace: No space left on device\n');
        assert.ok(r.err.startsWith(c.err), r.err);
        assert.match(
          r.err.slice(c.err.length),
          /^ {2}Hint: region1: the label area of nmem1 is not initialised: run 'nvmemu ndctl disable-region region1', 'nvmemu ndctl init-labels nmem1' and 'nvmemu ndctl enable-region region1'/,
        );
      }
      const size = cmds.find((x) => x.name === 'create-blank-size')!;
      const r = await nd(mapArgs(size.args));
      assert.notEqual(r.rc, 0);
      assert.equal(r.err, size.err);
    });

    it('reconfigures the blank region to sector mode (autolabel) and lists it as ndctl did', async () => {
      for (const name of [
        'reconfig-blank-sector',
        'after-reconfig-list',
        'after-reconfig-list-R',
      ]) {
        const c = cmds.find((x) => x.name === name)!;
        const r = await nd(mapArgs(c.args));
        assert.equal(r.rc, c.rc, r.err);
        assert.equal(show(parse(r.out, false)), show(parse(c.out, true)), name);
      }
    });
  });
}
