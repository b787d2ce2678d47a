// The catalogue (names and summaries help and completion show without loading a command) and
// the modules that implement the commands must agree: every catalogued command is found in its
// module, and every implemented command is catalogued once, in its own module's entry.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NVME_COMMANDS, NVME_MODULES, loadCommand, loadModule } from './catalogue.js';

describe('nvme command catalogue', () => {
  it('names each command once', () => {
    const names = NVME_COMMANDS.map((c) => c.name);
    assert.deepEqual([...new Set(names)], names);
    assert.ok(names.length >= 50, `${names.length} commands`);
  });

  for (const module of NVME_MODULES) {
    it(`module '${module}' implements exactly the commands catalogued for it`, async () => {
      const implemented = (await loadModule(module)).map((c) => c.name).sort();
      const catalogued = NVME_COMMANDS.filter((c) => c.module === module)
        .map((c) => c.name)
        .sort();
      assert.deepEqual(implemented, catalogued);
    });
  }

  it('loads the implementation of a catalogued command by name', async () => {
    const entry = NVME_COMMANDS.find((c) => c.name === 'zns report-zones')!;
    const cmd = await loadCommand(entry);
    assert.equal(cmd.name, 'zns report-zones');
    assert.equal(cmd.shortS, false);
    assert.ok('start-lba' in cmd.options);
  });
});
