import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FABRICS_OPCODE, FabricsType, statusNameFor, type StatusContext } from './status-names.js';
import { NvmeStatusError } from './errors.js';

const connect = (queue: 'admin' | 'io'): StatusContext => ({
  opcode: FABRICS_OPCODE,
  fctype: FabricsType.CONNECT,
  queue,
});
const disconnect: StatusContext = {
  opcode: FABRICS_OPCODE,
  fctype: FabricsType.DISCONNECT,
  queue: 'io',
};
const propertyGet: StatusContext = {
  opcode: FABRICS_OPCODE,
  fctype: FabricsType.PROPERTY_GET,
  queue: 'admin',
};
const authSend: StatusContext = {
  opcode: FABRICS_OPCODE,
  fctype: FabricsType.AUTHENTICATION_SEND,
  queue: 'admin',
};
const getLogPage: StatusContext = { opcode: 0x02, queue: 'admin' };
const identify: StatusContext = { opcode: 0x06, queue: 'admin' };
const read: StatusContext = { opcode: 0x02, queue: 'io' };
const write: StatusContext = { opcode: 0x01, queue: 'io' };

describe('statusNameFor', () => {
  // [status, command, name]
  const table: [number, StatusContext | undefined, string][] = [
    // The bug of issue 19: a Connect refused as Controller Busy.
    [0x181, connect('admin'), 'CONNECT_CONTROLLER_BUSY'],
    [0x4181, connect('io'), 'CONNECT_CONTROLLER_BUSY+DNR'],
    [0x181, read, 'INVALID_PROT_INFO'],
    [0x181, write, 'INVALID_PROT_INFO'],
    [0x181, undefined, 'INVALID_PROT_INFO'],
    [0x180, connect('admin'), 'CONNECT_INCOMPATIBLE_FORMAT'],
    [0x4182, connect('admin'), 'CONNECT_INVALID_PARAMETERS+DNR'],
    [0x183, connect('io'), 'CONNECT_RESTART_DISCOVERY'],
    [0x4184, connect('admin'), 'CONNECT_INVALID_HOST+DNR'],
    [0x183, write, 'CMD_SIZE_LIMIT'],
    // Invalid Queue Type is a Disconnect status; for Connect 0x185 has no fabrics meaning.
    [0x185, disconnect, 'INVALID_QUEUE_TYPE'],
    [0x185, read, 'INCOMPATIBLE_NS_OR_FORMAT'],
    [0x185, connect('io'), 'INCOMPATIBLE_NS_OR_FORMAT'],
    // Discover Restart answers a Get Log Page (the discovery log), not an I/O Read.
    [0x190, getLogPage, 'DISCOVER_RESTART'],
    [0x190, read, '0x190'],
    // Authentication Required: any command on a queue not yet authenticated.
    [0x4191, identify, 'AUTHENTICATION_REQUIRED+DNR'],
    [0x191, read, 'AUTHENTICATION_REQUIRED'],
    [0x191, authSend, 'AUTHENTICATION_REQUIRED'],
    [0x191, undefined, '0x191'],
    // Statuses of other types keep their generic names for fabrics commands.
    [0x4002, connect('admin'), 'INVALID_FIELD+DNR'],
    [0x4002, propertyGet, 'INVALID_FIELD+DNR'],
    [0x001, authSend, 'INVALID_OPCODE'],
    [0x281, read, 'UNRECOVERED_READ'],
    [0x2181, connect('admin'), 'CONNECT_CONTROLLER_BUSY+MORE'],
    // A Command Specific code that is fabrics-only but sent to an admin command.
    [0x181, identify, 'INVALID_PROT_INFO'],
  ];
  for (const [status, command, name] of table) {
    const what = command === undefined ? 'no command' : JSON.stringify(command);
    it(`0x${status.toString(16)} for ${what} is ${name}`, () => {
      assert.equal(statusNameFor(status, command), name);
    });
  }
});

describe('NvmeStatusError', () => {
  it('names a refused Connect as a fabrics status', () => {
    const e = new NvmeStatusError('Connect (qid 0)', 0x4181, 0, connect('admin'));
    assert.equal(e.message, 'Connect (qid 0) failed: CONNECT_CONTROLLER_BUSY+DNR (0x4181)');
    assert.equal(e.statusName, 'CONNECT_CONTROLLER_BUSY+DNR');
    assert.equal(e.code, 'NVME_STATUS');
    assert.equal(e.status, 0x4181);
  });

  it('keeps the command-independent name without a command', () => {
    const e = new NvmeStatusError('read', 0x281);
    assert.equal(e.message, 'read failed: UNRECOVERED_READ (0x0281)');
  });
});
