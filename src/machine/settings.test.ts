import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { machineSettings } from './settings.js';
import { parseArgs } from '../config/options.js';
import { ConfigError } from '../config/errors.js';

const settings = (...argv: string[]) => machineSettings(parseArgs(argv));

describe('machine settings', () => {
  it('defaults to pc with 128 MiB and no device memory', () => {
    assert.deepEqual(settings(), {
      type: 'pc',
      nvdimm: false,
      nvdimmPersistence: undefined,
      ramSize: 128n << 20n,
      slots: 0,
      maxMem: 128n << 20n,
    });
  });
  it('reads a bare -m value as MiB and rounds up to 8 KiB', () => {
    assert.equal(settings('-m', '4096').ramSize, 4n << 30n);
    assert.equal(settings('-m', '1.001').ramSize, 1056768n);
  });
  it('takes size, slots and maxmem', () => {
    const s = settings(
      '-machine',
      'q35,nvdimm=on,nvdimm-persistence=mem-ctrl',
      '-m',
      'size=4G,slots=4,maxmem=32G',
    );
    assert.deepEqual(s, {
      type: 'q35',
      nvdimm: true,
      nvdimmPersistence: 'mem-ctrl',
      ramSize: 4n << 30n,
      slots: 4,
      maxMem: 32n << 30n,
    });
  });
  it('accepts maxmem without slots (device memory without DIMM slots)', () => {
    assert.equal(settings('-m', '2G,maxmem=8G').slots, 0);
  });
  it('lets a later -m replace an earlier one', () => {
    assert.equal(settings('-m', '1G', '-m', '2G').ramSize, 2n << 30n);
  });
  it('ignores guest-only machine properties such as accel', () => {
    assert.equal(settings('-machine', 'pc,accel=kvm').type, 'pc');
  });
  it('refuses a maxmem that is not page aligned (QEMU sic "must by aligned")', () => {
    assert.throws(
      () => settings('-m', '2G,slots=1,maxmem=8589934593'),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.equal(e.message, 'maximum memory size must by aligned to multiple of 4096 bytes');
        assert.equal(e.location, '');
        return true;
      },
    );
  });
});
