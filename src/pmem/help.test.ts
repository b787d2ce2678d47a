// `-object TYPE,help` / `-device TYPE,help` listings equal QEMU 7.2's (memory-backend-file adds
// the two documented nvmemu extensions, offset and rom).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatHelp } from '../config/schema.js';
import { FILE_SCHEMA, RAM_SCHEMA } from '../memory/config.js';
import { NVDIMM_SCHEMA } from './nvdimm/config.js';
import { VIRTIO_PMEM_SCHEMA } from './virtio-pmem/config.js';

const COMMON = [
  "  dump=<bool>            - Set to 'off' to exclude from core dump",
  '  host-nodes=<int>       - Binds memory to the list of NUMA host nodes',
  '  merge=<bool>           - Mark memory as mergeable',
  '  policy=<HostMemPolicy> - Set the NUMA policy',
  '  prealloc-context=<link<thread-context>> - Context to use for creating CPU threads for preallocation',
  '  prealloc-threads=<int> - Number of CPU threads to use for prealloc',
  '  prealloc=<bool>        - Preallocate memory',
  '  reserve=<bool>         - Reserve swap space (or huge pages) if applicable',
  '  share=<bool>           - Mark the memory as private to QEMU or shared',
  '  size=<int>             - Size of the memory region (ex: 500M)',
  '  x-use-canonical-path-for-ramblock-id=<bool>',
];

describe('help listings', () => {
  it('memory-backend-ram matches QEMU 7.2', () => {
    assert.equal(formatHelp(RAM_SCHEMA), ['memory-backend-ram options:', ...COMMON, ''].join('\n'));
  });

  it('memory-backend-file matches QEMU 7.2 plus the offset and rom extensions', () => {
    const lines = [
      ...COMMON,
      '  align=<int>',
      '  discard-data=<bool>',
      '  mem-path=<string>',
      '  offset=<int>           - Offset into the target file (ex: 1G) [nvmemu extension, QEMU 8.1]',
      '  pmem=<bool>',
      '  readonly=<bool>',
      '  rom=<OnOffAuto>        - Whether to create Read Only Memory (ROM) [nvmemu extension, QEMU 8.2]',
    ].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    assert.equal(
      formatHelp(FILE_SCHEMA),
      ['memory-backend-file options:', ...lines, ''].join('\n'),
    );
  });

  it('nvdimm matches QEMU 7.2', () => {
    assert.equal(
      formatHelp(NVDIMM_SCHEMA),
      [
        'nvdimm options:',
        '  addr=<uint64>          -  (default: 0)',
        '  label-size=<int>',
        '  memdev=<link<memory-backend>>',
        '  node=<uint32>          -  (default: 0)',
        '  size=<uint64>',
        '  slot=<int32>           -  (default: -1)',
        '  unarmed=<bool>         -  (default: false)',
        '  uuid=<QemuUUID>',
        '',
      ].join('\n'),
    );
  });

  it('virtio-pmem-pci lists memdev, memaddr and the transport properties as QEMU 7.2', () => {
    const help = formatHelp(VIRTIO_PMEM_SCHEMA).split('\n');
    assert.equal(help.length, 39); // header, 37 properties, trailing newline
    assert.ok(help.includes('  memaddr=<uint64>       -  (default: 0)'));
    assert.ok(help.includes('  memdev=<link<memory-backend>>'));
    assert.ok(
      help.includes(
        '  addr=<int32>           - Slot and optional function number, example: 06.0 or 06 (default: -1)',
      ),
    );
    assert.ok(help.includes('  disable-legacy=<OnOffAuto> - on/off/auto (default: "auto")'));
    assert.ok(help.includes('  virtio-backend=<child<virtio-pmem>>'));
  });
});
