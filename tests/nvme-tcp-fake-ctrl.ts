// RAM-backed subsystems for the NVMe/TCP transport tests: real core controllers (nvme/ctrl)
// sharing one FakeNamespace (tests/nvme-fakes.ts: Read/Write of a RAM buffer, Flush), so the
// PDU-flow tests stay exact and fast while the controller they talk to is the product's own.
// The machine-backed tests cover real namespaces over images.

import { readU32le, readU64le } from '../src/util/bytes.js';
import { Controller } from '../src/nvme/ctrl/controller.js';
import { defaultParams } from '../src/nvme/ctrl/params.js';
import { Subsystem } from '../src/nvme/subsys/subsystem.js';
import type { FabricsSubsystem } from '../src/nvme-tcp/target/backend.js';
import { FakeNamespace } from './nvme-fakes.js';

export const FAKE_LBA = 512;

/** A subsystem of `n` controllers (cntlid 0..n-1) sharing one RAM namespace (NSID 1). */
export function fakeSubsystem(
  nqn: string,
  n = 1,
  blocks = 2048,
  allowedHosts?: string[],
): { subsys: FabricsSubsystem; ctrls: Controller[]; media: Uint8Array; ns: FakeNamespace } {
  const core = new Subsystem(true, nqn);
  // MDTS 8: 1 MiB with 4 KiB pages; four I/O queue pairs.
  const ctrls = Array.from({ length: n }, (_, i) => {
    const c = new Controller(
      defaultParams(`fake${i}`, { cntlid: i, mdts: 8, maxIoqpairs: 4 }),
      core,
    );
    core.addController(c);
    return c;
  });
  const ns = new FakeNamespace(1, { blocks, shared: true });
  core.addNamespace(ns, ctrls[0]);
  return {
    subsys: { nqn, kind: 'nvm', controllers: () => ctrls, allowedHosts },
    ctrls,
    media: ns.media,
    ns,
  };
}

/** Pins reads of Identify fields in tests. */
export const idField = {
  u32: (b: Uint8Array, off: number) => readU32le(b, off),
  u64: (b: Uint8Array, off: number) => readU64le(b, off),
};
