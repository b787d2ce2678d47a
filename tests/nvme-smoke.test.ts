import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rig, page } from './nvme-fakes.js';
import { asciiField } from '../src/util/bytes.js';

describe('nvme controller smoke', () => {
  it('enables, identifies and reads back a write', async () => {
    const { host, ctrl } = rig();
    assert.equal(ctrl.csts, 1);
    const id = page();
    const cqe = await host.admin({ opcode: 0x06, cdw10: 1 }, id);
    assert.equal(cqe.status, 0);
    assert.equal(asciiField(id, 24, 40), 'QEMU NVMe Ctrl');
    await host.createIoQueues(1);
    const data = new Uint8Array(512).fill(0xab);
    assert.equal((await host.command(1, { opcode: 1, nsid: 1, cdw10: 3 }, data)).status, 0);
    const back = new Uint8Array(512);
    assert.equal((await host.command(1, { opcode: 2, nsid: 1, cdw10: 3 }, back)).status, 0);
    assert.deepEqual(back, data);
  });
});
