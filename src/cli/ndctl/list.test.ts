import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { planList, type ListPlan, type ListRequest } from './list.js';
import { hex, humanSize } from './json.js';
import { ndctlVersion } from './version.js';
import { bufferIo } from '../io.js';
import { ndctlCommand } from './index.js';

describe('ndctl list: what the flags imply (ndctl 76 list.c, tests/fixtures/ndctl/)', () => {
  const none: ListPlan = {
    buses: false,
    dimms: false,
    regions: false,
    namespaces: false,
    dax: false,
    idle: false,
    mediaErrors: false,
    capabilities: false,
    mode: undefined,
  };
  const cases: [string, ListRequest, Partial<ListPlan>][] = [
    ['nothing: namespaces', {}, { namespaces: true }],
    ['-r alone: that region', { regionFilter: 'region0' }, { regions: true }],
    ['-d alone: that dimm', { dimmFilter: 'nmem0' }, { dimms: true }],
    [
      '-r with -N: namespaces only',
      { regionFilter: 'region0', namespaces: true },
      { namespaces: true },
    ],
    ['-X alone: devdax namespaces', { dax: true }, { namespaces: true, dax: true, mode: 'dax' }],
    [
      '-X with -m: the given mode',
      { dax: true, mode: 'fsdax' },
      { namespaces: true, dax: true, mode: 'fsdax' },
    ],
    ['-N -X: every namespace', { namespaces: true, dax: true }, { namespaces: true, dax: true }],
    ['-v', { verbose: 1 }, { namespaces: true, dax: true, mediaErrors: true }],
    [
      '-R -v',
      { regions: true, verbose: 1 },
      { regions: true, namespaces: true, dax: true, mediaErrors: true },
    ],
    [
      '-vv',
      { verbose: 2 },
      { buses: true, dimms: true, regions: true, namespaces: true, dax: true, mediaErrors: true },
    ],
    [
      '-vvv',
      { verbose: 3 },
      {
        buses: true,
        dimms: true,
        regions: true,
        namespaces: true,
        dax: true,
        mediaErrors: true,
        idle: true,
        capabilities: true,
      },
    ],
    ['-vvvv is -vvv', { verbose: 4 }, planList({ verbose: 3 })],
  ];
  for (const [what, req, want] of cases) {
    it(what, () => assert.deepEqual(planList(req), { ...none, ...want }));
  }
});

describe('ndctl number formats', () => {
  it('prints -u sizes as ndctl display_size does (measured values)', () => {
    assert.equal(humanSize(1073610752), '1023.88 MiB (1073.61 MB)');
    assert.equal(humanSize(16777216), '16.00 MiB (16.78 MB)');
    assert.equal(humanSize(66428928), '63.35 MiB (66.43 MB)');
    assert.equal(humanSize(5000 * 1024 - 1), 5000 * 1024 - 1);
    assert.equal(humanSize(0), 0);
    assert.equal(humanSize(3 * 2 ** 30), '3.00 GiB (3.22 GB)');
    assert.equal(humanSize(3 * 2 ** 40), '3.00 TiB (3.30 TB)');
  });
  it('prints -u hex as %#llx, and ndctl 76 clamps from 2^63 up where 81 does not', () => {
    const h = { human: true, verbose: 0 };
    assert.equal(hex(0, h), '0');
    assert.equal(hex(2, h), '0x2');
    assert.equal(hex(0x3fe0000, h), '0x3fe0000');
    assert.equal(hex(0x8000000000000001n, h), '0x7fffffffffffffff');
    assert.equal(hex(0x8000000000000001n, { ...h, ndctl: 81 }), '0x8000000000000001');
    assert.equal(hex(7, { human: false, verbose: 0 }), 7);
  });
  it('takes the release from NVMEMU_NDCTL_VERSION, 76 by default', async () => {
    assert.equal(ndctlVersion({}), 76);
    assert.equal(ndctlVersion({ NVMEMU_NDCTL_VERSION: '81' }), 81);
    assert.throws(() => ndctlVersion({ NVMEMU_NDCTL_VERSION: '80' }), {
      message:
        "NVMEMU_NDCTL_VERSION='80' is not an ndctl release nvmemu reproduces (one of 76, 81)",
    });
    const io = bufferIo();
    assert.equal(await ndctlCommand(['--version'], io), 0);
    assert.equal(io.stdout, process.env.NVMEMU_NDCTL_VERSION === '81' ? '81\n' : '76.1\n');
  });
});
