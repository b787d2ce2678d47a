import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from './options.js';

describe('parseArgs', () => {
  it('keeps -object/-drive/-device in command-line order with their locations', () => {
    const a = parseArgs([
      '-device',
      'nvme,serial=x',
      '--object',
      'memory-backend-ram,id=m,size=1G',
      '-drive',
      'file=a.img,if=none,id=d',
    ]);
    assert.deepEqual(
      a.items.map((i) => [i.kind, i.location]),
      [
        ['device', '-device nvme,serial=x'],
        ['object', '-object memory-backend-ram,id=m,size=1G'],
        ['drive', '-drive file=a.img,if=none,id=d'],
      ],
    );
    assert.equal(a.items[0]?.values.get('driver'), 'nvme');
    assert.equal(a.items[1]?.values.get('qom-type'), 'memory-backend-ram');
  });
  it('flattens dotted keys', () => {
    const a = parseArgs(['-device', 'nvme-ns,zoned.zone_size=64M,zoned=on']);
    assert.equal(a.items[0]?.values.get('zoned.zone_size'), '64M');
  });
  it('reads JSON devices with typed values', () => {
    const a = parseArgs([
      '-device',
      '{"driver":"nvme","serial":"x","max_ioqpairs":4,"zoned":{"zasl":2}}',
    ]);
    const v = a.items[0]?.values;
    assert.equal(a.items[0]?.json, true);
    assert.equal(v?.get('max_ioqpairs'), 4);
    assert.equal(v?.get('zoned.zasl'), 2);
  });
  it('merges repeated -machine options', () => {
    const a = parseArgs(['-machine', 'q35', '-M', 'nvdimm=on']);
    assert.deepEqual(
      [...a.machine.values],
      [
        ['type', 'q35'],
        ['nvdimm', 'on'],
      ],
    );
  });
  it('records guest-only options as ignored instead of failing', () => {
    const a = parseArgs(['-smp', '4', '-enable-kvm', '-nodefaults']);
    assert.deepEqual(a.ignored, ['-smp 4', '-enable-kvm', '-nodefaults']);
  });
  it('recognises help requests', () => {
    assert.equal(parseArgs(['-device', 'help']).listHelp, 'device');
    assert.equal(parseArgs(['-device', 'nvme,help']).items[0]?.help, true);
  });
  it('takes nvmemu options --data and --listen', () => {
    const a = parseArgs(['--data', '/tmp/x', '--listen', '127.0.0.1:0']);
    assert.equal(a.dataDir, '/tmp/x');
    assert.equal(a.listen, '127.0.0.1:0');
  });

  describe('-readconfig', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nvmemu-readconfig-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    it('turns sections back into options, escaping commas', () => {
      const f = join(dir, 'vm.cfg');
      writeFileSync(
        f,
        '# comment\n[machine]\n  type = "pc"\n  nvdimm = "on"\n[memory]\n  size = "2G"\n[object "mem1"]\n  qom-type = "memory-backend-file"\n  mem-path = "a,b.img"\n',
      );
      const a = parseArgs(['-readconfig', f]);
      assert.deepEqual(
        [...a.machine.values],
        [
          ['type', 'pc'],
          ['nvdimm', 'on'],
        ],
      );
      assert.equal(a.memory?.values.get('size'), '2G');
      assert.equal(a.items[0]?.values.get('mem-path'), 'a,b.img');
      assert.equal(a.items[0]?.values.get('id'), 'mem1');
    });
    it('names the file and line of a parse error', () => {
      const f = join(dir, 'bad.cfg');
      writeFileSync(f, '[device]\nbroken\n');
      assert.throws(() => parseArgs(['-readconfig', f]), { message: `${f}:2: parse error` });
    });
  });
});
