import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EmuError, ErrorCode, isEmuError } from './errors.js';

describe('EmuError', () => {
  it('carries its code, message, cause and subclass name', () => {
    const cause = new Error('ENOENT');
    const e = new EmuError(ErrorCode.EMU_ERR_BACKEND_IO, 'cannot open disk.img', { cause });
    assert.ok(e instanceof Error);
    assert.equal(e.code, 'EMU_ERR_BACKEND_IO');
    assert.equal(e.message, 'cannot open disk.img');
    assert.equal(e.cause, cause);
    assert.equal(e.name, 'EmuError');
    class ConfigError extends EmuError {}
    assert.equal(new ConfigError(ErrorCode.EMU_ERR_CONFIG, 'x').name, 'ConfigError');
  });

  it('exports the stable codes with values equal to their names', () => {
    assert.deepEqual(Object.entries(ErrorCode), [
      ['EMU_ERR_CONFIG', 'EMU_ERR_CONFIG'],
      ['EMU_ERR_BACKEND_IO', 'EMU_ERR_BACKEND_IO'],
      ['EMU_ERR_PROTOCOL', 'EMU_ERR_PROTOCOL'],
      ['EMU_ERR_DECODE', 'EMU_ERR_DECODE'],
      ['EMU_ERR_STATE', 'EMU_ERR_STATE'],
      ['EMU_ERR_UNSUPPORTED', 'EMU_ERR_UNSUPPORTED'],
    ]);
  });

  it('isEmuError narrows by optional code', () => {
    const e = new EmuError(ErrorCode.EMU_ERR_STATE, 'not realized');
    assert.equal(isEmuError(e), true);
    assert.equal(isEmuError(e, 'EMU_ERR_STATE'), true);
    assert.equal(isEmuError(e, 'EMU_ERR_CONFIG'), false);
    assert.equal(isEmuError(new Error('x')), false);
  });
});
