import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Machine } from './machine.js';
import { registerType, type Component, type ComponentType } from './registry.js';
import { ConfigError } from '../config/errors.js';
import { parseArgs } from '../config/options.js';
import { machineSettings } from './settings.js';

const log: string[] = [];

function fakeType(
  kind: 'object' | 'device',
  typeName: string,
  extra: Partial<ComponentType> = {},
): ComponentType {
  return {
    kind,
    schema: {
      typeName,
      kind,
      props: [
        { name: 'ref', type: { kind: 'str' }, description: '' },
        { name: 'fail', type: { kind: 'bool' }, description: '', default: false },
      ],
    },
    description: 'test type',
    hotpluggable: true,
    check(props, id, ctx) {
      log.push(`check ${typeName} ${id ?? ''}`);
      const ref = props.str('ref');
      if (ref !== undefined) {
        if (ctx.lookup(ref, 'object') === undefined)
          throw new ConfigError(`Device '${ref}' not found`, 'ref');
        if (!ctx.claim(`ref:${ref}`))
          throw new ConfigError(`can't use already busy memdev: ${ref}`, 'ref');
      }
      return { fail: props.bool('fail') };
    },
    realize(plan, ctx) {
      if ((plan.config as { fail: boolean }).fail)
        return Promise.reject(new Error(`realize of ${plan.id ?? ''} failed`));
      log.push(`realize ${typeName} ${plan.id ?? ''}`);
      ctx.onRollback(() => void log.push(`undo ${plan.id ?? ''}`));
      const c: Component = {
        typeName,
        id: plan.id,
        close: () => {
          log.push(`close ${plan.id ?? ''}`);
          return Promise.resolve();
        },
      };
      return Promise.resolve(c);
    },
    ...extra,
  };
}

registerType(fakeType('object', 'test-backend'));
registerType(fakeType('device', 'test-dev'));
registerType(fakeType('device', 'test-fixed', { hotpluggable: false }));

async function build(...argv: string[]): Promise<Machine> {
  const args = parseArgs(argv);
  return Machine.create(args.items, {
    settings: machineSettings(args),
    dataDir: '/nonexistent',
    warn: () => undefined,
  });
}

describe('Machine', () => {
  it('realizes objects before devices whatever the command-line order, then shuts down in reverse', async () => {
    log.length = 0;
    const m = await build(
      '-device',
      'test-dev,id=d1,ref=o1',
      '-object',
      'test-backend,id=o1',
      '-device',
      'test-dev,id=d2',
    );
    assert.deepEqual(log, [
      'check test-backend o1',
      'check test-dev d1',
      'check test-dev d2',
      'realize test-backend o1',
      'realize test-dev d1',
      'realize test-dev d2',
    ]);
    log.length = 0;
    await m.shutdown();
    assert.deepEqual(log, ['close d2', 'close d1', 'close o1']);
  });

  it('checks every option before realizing any, so a late error creates nothing', async () => {
    log.length = 0;
    await assert.rejects(
      build('-object', 'test-backend,id=o1', '-device', 'test-dev,id=d1,ref=nope'),
      { message: "Device 'nope' not found" },
    );
    assert.ok(
      log.every((l) => l.startsWith('check')),
      log.join(', '),
    );
  });

  it('rolls back realized components in reverse order when a realize fails', async () => {
    log.length = 0;
    await assert.rejects(
      build(
        '-object',
        'test-backend,id=o1',
        '-device',
        'test-dev,id=d1',
        '-device',
        'test-dev,id=d2,fail=on',
      ),
      { message: 'realize of d2 failed' },
    );
    assert.deepEqual(
      log.filter((l) => !l.startsWith('check')),
      [
        'realize test-backend o1',
        'realize test-dev d1',
        'close d1',
        'undo d1',
        'close o1',
        'undo o1',
      ],
    );
  });

  it('keeps ids unique per kind but lets a device and an object share one', async () => {
    const m = await build('-object', 'test-backend,id=x', '-device', 'test-dev,id=x');
    assert.equal(m.component('x', 'object')?.typeName, 'test-backend');
    assert.equal(m.component('x', 'device')?.typeName, 'test-dev');
    await m.shutdown();
    await assert.rejects(build('-device', 'test-dev,id=a', '-device', 'test-dev,id=a'), {
      message: "Duplicate ID 'a' for device",
    });
  });

  it('rejects ids that are not identifiers, as QEMU does', async () => {
    await assert.rejects(build('-device', 'test-dev,id=1a'), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(
        e.message,
        "Parameter 'id' expects an identifier\nIdentifiers consist of letters, digits, '-', '.', '_', starting with a letter.",
      );
      assert.equal(e.location, '-device test-dev,id=1a');
      return true;
    });
  });

  it('hotplugs through the same checks and releases claims of a failed hotplug', async () => {
    const m = await build('-object', 'test-backend,id=o1');
    await assert.rejects(
      m.add(
        'device',
        new Map<string, string | boolean>([
          ['driver', 'test-dev'],
          ['id', 'h1'],
          ['ref', 'o1'],
          ['fail', true],
        ]),
        'qmp',
        'device_add',
      ),
      { message: 'realize of h1 failed' },
    );
    // The claim on o1 was released: a second device may take it.
    const c = await m.add(
      'device',
      new Map([
        ['driver', 'test-dev'],
        ['id', 'h2'],
        ['ref', 'o1'],
      ]),
      'qmp',
      'device_add',
    );
    assert.equal(c.id, 'h2');
    await assert.rejects(
      m.add(
        'device',
        new Map([
          ['driver', 'test-dev'],
          ['id', 'h3'],
          ['ref', 'o1'],
        ]),
        'qmp',
        'device_add',
      ),
      { message: "can't use already busy memdev: o1" },
    );
    await assert.rejects(
      m.add('device', new Map([['driver', 'test-fixed']]), 'qmp', 'device_add'),
      { message: "Parameter 'driver' expects a pluggable device type" },
    );
    await m.shutdown();
  });

  it('removes a component, closing it and freeing its id and claims', async () => {
    const m = await build('-object', 'test-backend,id=o1', '-device', 'test-dev,id=d1,ref=o1');
    log.length = 0;
    await m.remove('device', 'd1');
    assert.deepEqual(log, ['close d1']);
    assert.equal(m.component('d1'), undefined);
    const c = await m.add(
      'device',
      new Map([
        ['driver', 'test-dev'],
        ['id', 'd1'],
        ['ref', 'o1'],
      ]),
      'qmp',
      'device_add',
    );
    assert.equal(c.id, 'd1');
    await assert.rejects(m.remove('object', 'nope'), { message: "object 'nope' not found" });
    await m.shutdown();
  });
});
