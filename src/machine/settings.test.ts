import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { listMachines, machineSettings, parseCompat } from './settings.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from '../config/options.js';
import { ConfigError } from '../config/errors.js';

const settings = (...argv: string[]) => machineSettings(parseArgs(argv));

describe('machine settings', () => {
  it('defaults to pc with 128 MiB and no device memory', () => {
    assert.deepEqual(settings(), {
      type: 'pc',
      compat: '7.2',
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
      compat: '7.2',
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

describe('machine types and the QEMU compatibility level (issue 21)', () => {
  const fixture = (v: string, f: string): string =>
    readFileSync(
      fileURLToPath(new URL(`../../../tests/fixtures/qemu/${v}/${f}`, import.meta.url)),
      'utf8',
    );
  const cases: [string, 'pc' | 'q35', '7.2' | '10.0'][] = [
    ['pc', 'pc', '7.2'],
    ['q35', 'q35', '7.2'],
    ['pc-i440fx-7.2', 'pc', '7.2'],
    ['pc-q35-7.2', 'q35', '7.2'],
    ['pc-i440fx-10.0', 'pc', '10.0'],
    ['pc-q35-10.0', 'q35', '10.0'],
  ];
  for (const [name, type, compat] of cases) {
    it(`-machine ${name} is ${type} at the ${compat} level`, () => {
      const s = settings('-machine', name);
      assert.equal(s.type, type);
      assert.equal(s.compat, compat);
      assert.equal(settings('-machine', `type=${name},nvdimm=on`).compat, compat);
      assert.equal(settings('-M', name).compat, compat);
    });
  }
  it('names the machine type every listed name runs as QEMU does (-machine help)', () => {
    // Every name nvmemu accepts is one QEMU 10.0 lists; 7.2 lists the 7.2 ones.
    for (const [name, , compat] of cases) {
      assert.match(fixture('10.0', 'machine-help.txt'), new RegExp(`^${name} `, 'm'));
      if (compat === '7.2') {
        assert.match(fixture('7.2', 'machine-help.txt'), new RegExp(`^${name} `, 'm'));
      }
    }
    const list = listMachines();
    for (const [name] of cases) assert.match(list, new RegExp(`^${name} +Standard PC`, 'm'));
    assert.match(list, /^pc +Standard PC \(i440FX \+ PIIX, 1996\) \(alias of pc-i440fx-7\.2\)$/m);
    assert.match(list, /^pc-i440fx-7\.2 +Standard PC \(i440FX \+ PIIX, 1996\) \(default\)$/m);
  });
  for (const name of [
    'pc-q35-8.2',
    'pc-i440fx-9.2',
    'pc-q35-99.0',
    'toString',
    '__proto__',
    'virt',
  ]) {
    it(`refuses ${name} with QEMU 7.2's message`, () => {
      assert.throws(
        () => settings('-machine', name),
        (e: unknown) => {
          assert.ok(e instanceof ConfigError);
          // QEMU 7.2 prints exactly this (tests/fixtures/qemu/7.2/machine-unknown.txt).
          assert.equal(`qemu-system-x86_64: ${e.message}\n`, fixture('7.2', 'machine-unknown.txt'));
          assert.equal(e.location, '');
          return true;
        },
      );
    });
  }
  it("names the 10.0 QOM type in 'Property not found'", () => {
    assert.throws(() => settings('-machine', 'pc-q35-10.0,bogus=1'), {
      message: "Property 'pc-q35-10.0-machine.bogus' not found",
    });
    assert.throws(() => settings('-machine', 'pc-i440fx-10.0,bogus=1'), {
      message: "Property 'pc-i440fx-10.0-machine.bogus' not found",
    });
  });
  it('parses a compatibility level by name for the in-process API', () => {
    assert.equal(parseCompat('7.2'), '7.2');
    assert.equal(parseCompat('10.0'), '10.0');
    for (const bad of ['10', '8.2', '', '10.0 ']) {
      assert.throws(() => parseCompat(bad), {
        message: `compat '${bad}' is not a QEMU compatibility level (one of 7.2, 10.0)`,
      });
    }
  });
});
