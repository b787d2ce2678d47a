import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resolveProps, type RawValue } from '../../config/schema.js';
import { ConfigError } from '../../config/errors.js';
import type { PlanContext, Planned } from '../../machine/registry.js';
import { nvmeNsSchema } from './props.js';
import { checkNvmeNs } from './check.js';
import type { NvmeNsConfig } from './config.js';

const MIB = 1024n * 1024n;

const drivePlan = (id: string, size = 64n * MIB, writeThrough = false): Planned => ({
  kind: 'drive',
  typeName: 'drive',
  id,
  location: `-drive file=${id}.img,if=none,id=${id},format=raw`,
  config: { id, file: `/tmp/${id}.img`, readOnly: false, size, writeThrough },
});

const subsysPlan: Planned = {
  kind: 'device',
  typeName: 'nvme-subsys',
  id: 's',
  location: '-device nvme-subsys,id=s',
  config: {},
};

const ctrlPlan = (id: string | undefined, inSubsys = false): Planned => ({
  kind: 'device',
  typeName: 'nvme',
  id,
  location: '-device nvme,serial=x',
  config: {
    subsys: inSubsys ? subsysPlan : undefined,
    nsidDomain: inSubsys ? 'subsys:s' : `ctrl:${id ?? 'anon'}`,
  },
});

interface Machine {
  readonly plans: Planned[];
  readonly claims: Set<string>;
  readonly warnings: string[];
}

function machine(plans: Planned[]): Machine {
  return { plans, claims: new Set(), warnings: [] };
}

/** Plans one `-device nvme-ns,<text>` on machine `m` (claims of a failed check are released). */
function plan(m: Machine, text: string): NvmeNsConfig {
  const raw = new Map<string, RawValue>();
  for (const kv of text === '' ? [] : text.split(',')) {
    const i = kv.indexOf('=');
    raw.set(kv.slice(0, i), kv.slice(i + 1));
  }
  const id = raw.get('id') as string | undefined;
  raw.delete('id');
  const mine: string[] = [];
  const ctx: PlanContext = {
    settings: {
      type: 'q35',
      compat: '7.2',
      nvdimm: false,
      nvdimmPersistence: undefined,
      ramSize: 128n * MIB,
      slots: 0,
      maxMem: 128n * MIB,
    },
    host: { stat: () => undefined, pageSize: 4096 },
    dataDir: '/tmp',
    lookup: (pid, kind) => m.plans.find((p) => p.kind === kind && p.id === pid),
    planned: () => m.plans,
    claim: (r) => {
      if (m.claims.has(r)) return false;
      m.claims.add(r);
      mine.push(r);
      return true;
    },
    warn: (w) => m.warnings.push(w),
  };
  try {
    const props = resolveProps(nvmeNsSchema, raw, 'device');
    const cfg = checkNvmeNs(props, id, ctx);
    m.plans.push({ kind: 'device', typeName: 'nvme-ns', id, location: text, config: cfg });
    return cfg;
  } catch (e) {
    for (const r of mine) m.claims.delete(r);
    throw e;
  }
}

const std = () => machine([drivePlan('nvm'), ctrlPlan('c1')]);

/** Messages of QEMU 7.2 (/tmp/qt/qemu-catalogue-nvme.txt) and of nvmemu's additions. */
const ERRORS: readonly { name: string; props: string; message: string; m?: () => Machine }[] = [
  { name: 'a namespace without a drive', props: '', message: 'block backend not configured' },
  { name: 'pi above 3', props: 'drive=nvm,pi=4', message: "invalid 'pi' value" },
  { name: 'a 32-bit guard', props: 'drive=nvm,pi=1,pif=1', message: "invalid 'pif'" },
  {
    name: 'PI without metadata',
    props: 'drive=nvm,pi=1',
    message: 'at least 8 bytes of metadata required to enable protection information',
  },
  {
    name: 'a 64-bit guard with 8 bytes of metadata',
    props: 'drive=nvm,pi=1,ms=8,pif=2',
    message: 'at least 16 bytes of metadata required to enable protection information',
  },
  {
    name: 'an nsid beyond 256',
    props: 'drive=nvm,nsid=300',
    message: 'invalid namespace id (must be between 0 and 256)',
  },
  {
    name: 'max_open above max_active',
    props: 'drive=nvm,zoned=on,zoned.max_open=4,zoned.max_active=2',
    message: 'max_open_zones (4) exceeds max_active_zones (2)',
  },
  {
    name: 'a descriptor extension that is not a multiple of 64',
    props: 'drive=nvm,zoned=on,zoned.descr_ext_size=65',
    message: 'zone descriptor extension size must be a multiple of 64B',
  },
  {
    name: 'a descriptor extension above 255 * 64',
    props: 'drive=nvm,zoned=on,zoned.descr_ext_size=16384',
    message: 'zone descriptor extension size is too large',
  },
  {
    name: 'a zrwas that is not a multiple of the block size',
    props: 'drive=nvm,zoned=on,zoned.zrwas=1000',
    message:
      'zone random write area size (zoned.zrwas 1000) must be a multiple of the logical block size (logical_block_size 512)',
  },
  {
    name: 'a zrwas that is not a multiple of zrwafg',
    props: 'drive=nvm,zoned=on,zoned.zrwas=1536,zoned.zrwafg=1024',
    message:
      'zone random write area size (zoned.zrwas 1536) must be a multiple of the zone random write area flush granularity (zoned.zrwafg, 1024)',
  },
  {
    name: 'more ZRWA resources than active zones',
    props: 'drive=nvm,zoned=on,zoned.zrwas=4096,zoned.numzrwa=5,zoned.max_active=4',
    message:
      'number of zone random write area resources (zoned.numzrwa, 5) must be less than or equal to maximum active resources (zoned.max_active_zones, 4)',
  },
  {
    name: 'a zone capacity above the zone size',
    props: 'drive=nvm,zoned=on,zoned.zone_capacity=256M',
    message: 'zone capacity 268435456B exceeds zone size 134217728B',
  },
  {
    name: 'a zone smaller than a block',
    props: 'drive=nvm,zoned=on,zoned.zone_size=256',
    message: 'zone size 256B too small, must be at least 512B',
  },
  {
    name: 'a zone capacity smaller than a block',
    props: 'drive=nvm,zoned=on,zoned.zone_size=4M,zoned.zone_capacity=256',
    message: 'zone capacity 256B too small, must be at least 512B',
  },
  {
    name: 'a drive smaller than one zone',
    props: 'drive=nvm,zoned=on',
    message: 'insufficient drive capacity, must be at least the size of one zone (134217728B)',
  },
  {
    name: 'detached without a subsystem',
    props: 'drive=nvm,detached=on',
    message: 'detached requires that the nvme device is linked to an nvme-subsys device',
  },
  {
    name: 'a logical block size that is not a power of two',
    props: 'drive=nvm,logical_block_size=1000',
    message: "Property .logical_block_size doesn't take value '1000', it's not a power of 2",
  },
  {
    name: 'a logical block size below 512 (qdev id in the message)',
    props: 'drive=nvm,id=ns1,logical_block_size=256',
    message:
      "Property ns1.logical_block_size doesn't take value 256 (minimum: 512, maximum: 2097152)",
  },
  {
    name: 'a logical block larger than the physical block',
    props: 'drive=nvm,logical_block_size=4096,physical_block_size=512',
    message: 'logical_block_size > physical_block_size not supported',
  },
  {
    name: 'a logical block size without a physical block size (both default to 512)',
    props: 'drive=nvm,logical_block_size=4096',
    message: 'logical_block_size > physical_block_size not supported',
  },
  {
    name: 'a min_io_size that is not a multiple of the block size',
    props: 'drive=nvm,min_io_size=1000',
    message: 'min_io_size must be a multiple of logical_block_size',
  },
  {
    name: 'a discard granularity that is not a multiple of the block size',
    props: 'drive=nvm,discard_granularity=100',
    message: 'discard_granularity must be a multiple of logical_block_size',
  },
  {
    name: 'a malformed uuid',
    props: 'drive=nvm,uuid=zz',
    message: "Property 'nvme-ns.uuid' doesn't take value 'zz'",
  },
  {
    name: 'a malformed nguid',
    props: 'drive=nvm,nguid=0011',
    message: "Property 'nvme-ns.nguid' doesn't take value '0011'",
  },
  {
    name: 'the first bad property in command-line order (uuid before block size)',
    props: 'drive=nvm,uuid=zz,logical_block_size=1000',
    message: "Property 'nvme-ns.uuid' doesn't take value 'zz'",
  },
  {
    name: 'the first bad property in command-line order (block size before uuid)',
    props: 'logical_block_size=1000,uuid=zz',
    message: "Property .logical_block_size doesn't take value '1000', it's not a power of 2",
  },
  {
    name: 'an unknown drive',
    props: 'drive=nope',
    message: "Property 'nvme-ns.drive' can't find value 'nope'",
  },
  { name: 'an unknown bus', props: 'drive=nvm,bus=nope', message: "Bus 'nope' not found" },
  {
    name: 'no controller at all',
    props: 'drive=nvm',
    message: "No 'nvme-bus' bus found for device 'nvme-ns'",
    m: () => machine([drivePlan('nvm')]),
  },
];

describe('nvme-ns checks (QEMU 7.2 messages)', () => {
  for (const c of ERRORS) {
    it(`rejects ${c.name}`, () => {
      const m = (c.m ?? std)();
      assert.throws(
        () => plan(m, c.props),
        (e: unknown) =>
          e instanceof ConfigError && e.message === c.message && e.code === 'EMU_ERR_CONFIG',
      );
    });
  }

  it('rejects a drive already used by another namespace, and frees nothing it did not take', () => {
    const m = std();
    plan(m, 'drive=nvm');
    assert.throws(() => plan(m, 'drive=nvm'), {
      message: "Drive 'nvm' is already in use by another device",
    });
    assert.equal(m.claims.has('drive:nvm'), true);
  });

  it('allocates the lowest free nsid and rejects a taken one', () => {
    const m = machine([drivePlan('a'), drivePlan('b'), drivePlan('c'), ctrlPlan('c1')]);
    assert.equal(plan(m, 'drive=a,nsid=2').nsid, 2);
    assert.equal(plan(m, 'drive=b').nsid, 1);
    assert.throws(() => plan(m, 'drive=c,nsid=1'), {
      message: "namespace id '1' already allocated",
    });
  });

  it('resolves the defaults of -device nvme-ns,drive=nvm on a 64 MiB image', () => {
    const cfg = plan(std(), 'drive=nvm');
    assert.equal(cfg.nsid, 1);
    assert.equal(cfg.requestedNsid, 0);
    assert.equal(cfg.shared, false, '7.2 forces shared=off without a subsystem');
    assert.equal(cfg.detached, false);
    assert.equal(cfg.inSubsystem, false);
    assert.equal(cfg.controller.id, 'c1');
    assert.equal(cfg.lbaSize, 512);
    assert.equal(cfg.physicalBlockSize, 512);
    assert.equal(cfg.discardGranularity, 4096);
    assert.equal(cfg.writeCache, true);
    assert.equal(cfg.nsze, 131072);
    assert.equal(cfg.uuid, undefined);
    assert.equal(cfg.nguid, undefined);
    assert.equal(cfg.eui64, 0n);
    assert.deepEqual([cfg.mssrl, cfg.mcl, cfg.msrc], [128, 128, 127]);
  });

  it('keeps shared and allows detached in an explicit subsystem', () => {
    const m = machine([drivePlan('nvm'), subsysPlan, ctrlPlan('c1', true)]);
    const cfg = plan(m, 'drive=nvm,detached=on');
    assert.equal(cfg.shared, true);
    assert.equal(cfg.detached, true);
    assert.equal(cfg.inSubsystem, true);
  });

  it('parses uuid, nguid with dashes and generates eui64 with eui64-default', () => {
    const cfg = plan(
      std(),
      'drive=nvm,uuid=6F1C2F8E-3C0B-4A55-9A0E-0123456789AB,nguid=00112233-4455-6677-8899-aabbccddeeff,eui64-default=on',
    );
    assert.deepEqual([...(cfg.uuid ?? [])].slice(0, 4), [0x6f, 0x1c, 0x2f, 0x8e]);
    assert.equal(cfg.nguid?.length, 16);
    assert.equal(cfg.nguid?.[15], 0xff);
    assert.equal(cfg.eui64, 0x5254000000000001n);
    assert.equal(plan(std(), 'drive=nvm,uuid=auto').uuid?.length, 16);
  });

  it('follows the drive cache mode for write-cache=auto', () => {
    const m = machine([drivePlan('wt', 64n * MIB, true), ctrlPlan('c1')]);
    assert.equal(plan(m, 'drive=wt').writeCache, false);
    const m2 = machine([drivePlan('wt', 64n * MIB, true), ctrlPlan('c1')]);
    assert.equal(plan(m2, 'drive=wt,write-cache=on').writeCache, true);
  });

  it('accepts 4 KiB blocks with metadata and sizes NSZE as image / (lbs + ms)', () => {
    const cfg = plan(std(), 'drive=nvm,logical_block_size=4096,physical_block_size=4096,ms=16');
    assert.equal(cfg.lbaSize, 4096);
    assert.equal(cfg.nsze, Math.floor((64 * 1024 * 1024) / 4112));
  });

  it('accepts protection information (pi=1, ms=8) now that it is implemented', () => {
    const cfg = plan(std(), 'drive=nvm,pi=1,ms=8,pil=1');
    assert.equal(cfg.pi, 1);
    assert.equal(cfg.pil, 1);
    assert.equal(cfg.ms, 8);
  });

  it('warns that DULBE is disabled when the zone size is not a multiple of the granularity', () => {
    const m = std();
    const cfg = plan(m, 'drive=nvm,zoned=on,zoned.zone_size=4194816');
    assert.equal(cfg.zoned?.zoneSize, 4194816n);
    assert.equal(cfg.zoned?.persist, true);
    assert.deepEqual(m.warnings, [
      'the zone size (8193 blocks) is not a multiple of the calculated deallocation granularity (8 blocks); DULBE support disabled',
    ]);
  });
});
