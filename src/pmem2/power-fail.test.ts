import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Pmem2Config, PMEM2_F_MEM_NODRAIN, PMEM2_F_MEM_NOFLUSH } from './index.js';
import { Pmem2Map } from './map.js';
import { PowerFailSim } from './power-fail.js';
import { Pmem2Source } from './source.js';
import { errormsg, Pmem2Error } from './errors.js';

function simMap(size = 4096): Pmem2Map {
  const cfg = new Pmem2Config().setRequiredStoreGranularity(0).setPowerFailSimulation(true);
  return Pmem2Map.create(cfg, Pmem2Source.fromAnon(size));
}

describe('power-failure simulation', () => {
  it('keeps direct stores volatile until they are persisted (BYTE: until the fence)', () => {
    const m = simMap();
    m.bytes[10] = 7;
    assert.equal(m.simulatePowerFailure()[10], 0);
    assert.equal(m.simulatePowerFailure({ mode: 'all' })[10], 7);
    m.persist(10, 1);
    assert.equal(m.simulatePowerFailure()[10], 7);
    m.delete();
  });

  it('models flushed-but-not-drained cache lines as three-way uncertain', () => {
    const live = new Uint8Array(256);
    const sim = new PowerFailSim(1, live);
    live[0] = 1;
    sim.flush(0, 1);
    live[0] = 2; // stored again after the flush
    live[200] = 9; // dirty, never flushed
    const u = sim.uncertainUnits();
    assert.deepEqual(
      u.map((x) => [x.unit, x.labels]),
      [
        [0, ['media', 'flushed', 'stored after flush (evicted)']],
        [3, ['media', 'dirty (evicted)']],
      ],
    );
    sim.drain();
    assert.equal(sim.media[0], 1);
    assert.equal(sim.media[200], 0);
  });

  it('records mem-function operations with flags and commits per PMDK flag rules', () => {
    const m = simMap();
    m.memset(0, 0xab, 100, PMEM2_F_MEM_NOFLUSH);
    m.memcpy(200, new Uint8Array([1, 2, 3]), PMEM2_F_MEM_NODRAIN);
    assert.deepEqual(
      m.sim!.ops.map((o) => [o.seq, o.kind, o.offset, o.length, o.flags]),
      [
        [1, 'memset', 0, 100, PMEM2_F_MEM_NOFLUSH],
        [2, 'memcpy', 200, 3, PMEM2_F_MEM_NODRAIN],
      ],
    );
    assert.equal(m.simulatePowerFailure()[200], 0);
    m.drain();
    assert.deepEqual(Array.from(m.simulatePowerFailure().subarray(199, 204)), [0, 1, 2, 3, 0]);
    m.delete();
  });

  it('samples reproducibly with a seed', () => {
    const m = simMap(64 * 16);
    for (let i = 0; i < 16; i++) m.bytes[i * 64] = i + 1;
    const a = m.simulatePowerFailure({ mode: 'random', seed: 5 });
    const b = m.simulatePowerFailure({ mode: 'random', seed: 5 });
    assert.deepEqual(a, b);
    m.delete();
  });

  it('refuses simulatePowerFailure on a map without simulation with NOSUPP', () => {
    const m = Pmem2Map.create(
      new Pmem2Config().setRequiredStoreGranularity(0),
      Pmem2Source.fromAnon(4096),
    );
    assert.throws(
      () => m.simulatePowerFailure(),
      (e: unknown) =>
        e instanceof Pmem2Error &&
        e.code === 'PMEM2_E_NOSUPP' &&
        e.errno === -100001 &&
        errormsg() === 'map was not created with power-failure simulation',
    );
    m.delete();
  });
});
