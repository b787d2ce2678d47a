import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { renderTop } from './top-render.js';
import type { ControllerInfo, NamespaceInfo } from '../http/wire.js';

const smart = {
  criticalWarning: 0,
  temperatureKelvin: 323,
  percentageUsed: 0,
  dataUnitsRead: 0,
  dataUnitsWritten: 0,
  hostReadCommands: 0,
  hostWriteCommands: 0,
  powerCycles: 0,
  powerOnHours: 0,
  unsafeShutdowns: 0,
  mediaErrors: 0,
  errorLogEntries: 0,
};
const ctrl: ControllerInfo = {
  label: 'nvme0',
  path: '/machine/peripheral/nvme0',
  serial: 's',
  cntlid: 0,
  subnqn: 'nqn.x',
  boundTo: 'fabrics',
  enabled: true,
  hostnqn: 'nqn.host',
  stats: { adminCommands: 0, adminErrors: 0, ioCommands: 0, ioErrors: 0 },
  queues: [
    { qid: 0, depth: 32, outstanding: 0, queued: 0, cqPending: 0, completed: 5 },
    { qid: 1, depth: 128, outstanding: 3, queued: 0, cqPending: 0, completed: 99 },
  ],
  smart,
};
const empty = {
  tracked: false,
  capacityBytes: 0,
  dirtyBytes: 0,
  volatileWrites: 0,
  volatileBlocks: 0,
  writes: 0,
  persisted: 0,
  destaged: 0,
  oldest: [],
};
const zns: NamespaceInfo = {
  label: 'zns',
  path: '/machine/peripheral/zns',
  nsid: 2,
  controllers: ['nvme0'],
  blocks: 8192,
  blockSize: 512,
  zoned: {
    zoneSize: 2048,
    zoneCapacity: 2048,
    open: 1,
    active: 2,
    maxOpen: 0,
    maxActive: 4,
    state: [0xe, 0x2, 0x4, 0x1],
    written: [2048, 1024, 256, 0],
  },
  volatileWriteCache: true,
  writeCache: empty,
  smart: { readCommands: 0, writeCommands: 0, bytesRead: 0, bytesWritten: 0 },
};

describe('nvmemu top frame', () => {
  it('shows I/O, latency, queues and the zone map with fills (no colour)', () => {
    const buckets = new Array<number>(22).fill(0);
    buckets[5] = 900;
    buckets[8] = 100;
    const lines = renderTop(
      {
        url: 'http://127.0.0.1:8080/',
        time: 0,
        controllers: [ctrl],
        namespaces: [zns],
        sample: {
          time: 0,
          seconds: 1,
          iops: 1000,
          readIops: 1000,
          writeIops: 0,
          readBytesPerSec: 4.096e6,
          writeBytesPerSec: 0,
          opcodes: [{ admin: false, name: 'Read', count: 1000, errors: 2, meanUs: 40, buckets }],
        },
      },
      100,
      false,
    );
    const text = lines.slice(1).join('\n');
    assert.equal(
      text,
      [
        '',
        'I/O',
        '  1,000 IOPS (reads 1,000, writes 0)   read 4.1 MB/s   written 0.0 MB/s',
        '',
        'LATENCY                   per s       mean        p50        p99   errors',
        '  Read                    1,000      40 µs     ≤32 µs    ≤256 µs        2',
        '',
        'QUEUES               outstanding / depth',
        '  nvme0        NVMe/TCP  admin 0/32  q1 3/128',
        '',
        'ZONES zns (nsid 2): 4 zones, open 1/∞, active 2/4',
        '  Fic.',
        '  █▄▁ ',
        '  . empty  i implicitly open  e explicitly open  c closed  F full  r read-only  X offline; bar: write pointer',
      ].join('\n'),
    );
  });
});
